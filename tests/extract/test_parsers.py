"""Parser tests, Fundus-style: one saved page per variant and the item it must give.

Each ``fixtures/pages/<variant>.html`` has a ``<variant>.json``:
``{"fetched_url": ..., "expected": {field: value, ...} | null, "reason": ...}`` (and
``crawl_reason`` when a crawl drops the page before the parser: a truncated page).
``expected`` holds every field but ``crawled_at`` (a clock reading) and, unless
given, ``body_html`` (checked here for what it may and may not contain).
"""

from __future__ import annotations

import re

import pytest
from pages import PAGES, VARIANTS, parse_fixture

from rfi_spider.extract.gate import missing

# The variants the project promises to parse (issue #2); each must have a fixture.
REQUIRED_VARIANTS = {
    "image_standard", "no_image", "video_main_media", "no_chapo", "subheads", "quotes",
    "interstitial_promo", "inbody_figures", "several_authors", "podcast_audio",
    "hostile_markup", "entities_nbsp", "error_page_200", "truncated",
}  # fmt: skip
# Issue 27: the real /cn article (SOURCES.md beside it), and one fixture per shape of the
# captions and teasers of the platform's real markup, and of what must stay.
REAL_CN_ARTICLE = "rfi-cn_tdome_2025-11"
ISSUE_27_VARIANTS = {
    REAL_CN_ARTICLE, "teaser_link_in_bold", "teaser_link_after_bold", "teaser_fullwidth_colon",
    "caption_after_empty_paragraphs", "caption_nested_paragraph", "caption_small_italic_wraps",
    "caption_under_empty_figcaption", "caption_embed_run", "keep_bold_start",
    "keep_short_italic_quote", "keep_link_in_sentence", "france24_messy",
}  # fmt: skip
ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "ul",
    "ol",
    "li",
    "strong",
    "b",
    "em",
    "i",
    "a",
    "br",
}


def test_every_promised_variant_has_a_fixture() -> None:
    promised = REQUIRED_VARIANTS | ISSUE_27_VARIANTS
    assert set(VARIANTS) >= promised, promised - set(VARIANTS)
    provenance = (PAGES / "SOURCES.md").read_text(encoding="utf-8")
    assert f"`{REAL_CN_ARTICLE}.html`" in provenance  # kept beside the copy


def test_real_cn_article_gives_what_its_page_shows() -> None:
    """The facts SOURCES.md lists for the real page, held apart from its expected JSON."""
    item, _ = parse_fixture(REAL_CN_ARTICLE)
    assert item["title"] == "台湾增加400亿美元国防开支 加速部署T-Dome防空系统"
    assert item["published_at"] == "2025-11-30T09:13:47+00:00"
    assert item["date_text"] == "30/11/2025 - 10:13"
    assert item["section"] == "政治"
    assert item["tags"] == ["政治", "中国", "台海"]
    assert item["authors"] == ["左依"]
    assert "台湾政府计划在未来八年内增加400亿美元" in item["summary"]
    assert any(p.startswith("与以色列的“铁穹”防御系统相比") for p in item["paragraphs"])
    assert item["body_html"].count("<h2>") == 3
    text = "\n".join(item["paragraphs"]) + item["body_html"]
    for not_article in ("广告", "继续浏览后续", "电邮新闻", "下载法广应用程序"):
        assert not_article not in text


@pytest.mark.parametrize("variant", VARIANTS)
def test_page_gives_expected_item(variant: str) -> None:
    item, spec = parse_fixture(variant)
    expected = spec["expected"]
    if expected is None:
        assert missing(item) == spec["reason"]
        return
    assert missing(item) is None
    got = {k: v for k, v in dict(item).items() if k not in ("crawled_at", "body_html")}
    want = {k: v for k, v in expected.items() if k != "body_html"}
    assert got == want
    if "body_html" in expected:
        assert item["body_html"] == expected["body_html"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_body_html_is_clean(variant: str) -> None:
    item, spec = parse_fixture(variant)
    if spec["expected"] is None:
        return
    html = item["body_html"]
    assert "\n" not in html
    assert set(re.findall(r"</?([a-z0-9]+)", html)) <= ALLOWED_TAGS
    assert not re.search(r"<(?!a )[a-z0-9]+ ", html), "only <a> may carry an attribute"
    assert not re.search(r"<a (?!href=\"https?://)", html), "links are absolute http(s)"
    lowered = html.lower()
    for banned in ("<script", "javascript:", "onclick", "onerror", "<iframe", "<form", "<style"):
        assert banned not in lowered
