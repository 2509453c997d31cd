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
from pages import VARIANTS, parse_fixture

from rfi_spider.extract.gate import missing

# The variants the project promises to parse (issue #2); each must have a fixture.
REQUIRED_VARIANTS = {
    "image_standard", "no_image", "video_main_media", "no_chapo", "subheads", "quotes",
    "interstitial_promo", "inbody_figures", "several_authors", "podcast_audio",
    "hostile_markup", "entities_nbsp", "error_page_200", "truncated",
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
    assert set(VARIANTS) >= REQUIRED_VARIANTS, REQUIRED_VARIANTS - set(VARIANTS)


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
