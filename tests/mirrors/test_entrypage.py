"""A mirror entry seen as a page: feedx's shape (the seed), RSSHub's, and the file reader."""

from __future__ import annotations

from datetime import datetime

import pytest
from feeds import feedx_html, rsshub_html
from itemadapter import ItemAdapter
from pages import PAGES, VARIANTS, parse_fixture

from rfi_spider.archive import seedfile
from rfi_spider.archive.journal import seed_record
from rfi_spider.archive.pipelines import ValidationPipeline
from rfi_spider.dates import to_ms
from rfi_spider.extract.gate import missing
from rfi_spider.mirrors.entrypage import EntryPage, mirror_item, read_seed_file
from rfi_spider.mirrors.feeds import MirrorEntry

SEED_TITLE = "巴黎牵头支持乌克兰后续会议 近30国出席 马克龙拼了？"
SEED_LINK = "https://www.rfi.fr/cn/国际/20240307-巴黎牵头支持乌克兰后续会议-近30国出席-马克龙拼了"
SEED_MS = 1709833502000  # Thu, 07 Mar 2024 17:45:02 GMT
SEED_IMAGE = (
    "https://s.rfi.fr/media/display/f4bf5c1c-dc92-11ee-9e1f-005056a97e36/w:1280/p:16x9/"
    "%D0%9C%D0%B0%D0%BA%D1%80%D0%BE%D0%BD%20%D0%9F%D0%B0%D1%80%D0%B8%D0%B6.jpg"
)
# The parts of the seed's HTML that are feedx's, not the article's.
NOT_ARTICLE = ("分享", "获取更多RSS", "feedx", "facebook", "whatsapp", "share")
ARTICLES = [v for v in VARIANTS if missing(parse_fixture(v)[0]) is None]
# Pages whose RSSHub copy cannot match the page's item: RSSHub builds its HTML with selectors
# over the whole page and the image's src (decoy blocks' chapo, the lazy placeholder's
# small picture), and a lead typed as a bold first paragraph is not a chapo to it.
NOT_AS_RSSHUB_READS = {
    "container_wrapper_decoys", "container_bare_article", "lazy_lead_image", "lead_without_chapo",
}  # fmt: skip


def seed_html(seed_text: str) -> str:
    return seed_text.split("\n")[4]


def seed_entry(html: str, host: str = "feedx.net") -> MirrorEntry:
    return MirrorEntry(title=SEED_TITLE, link=SEED_LINK, html=html, ms=SEED_MS, host=host)


def test_seed_entry_fields(seed_text: str) -> None:
    item = mirror_item(seed_entry(seed_html(seed_text)), crawled_at="2026-11-27T12:00:00+00:00")
    assert missing(item) is None
    assert item["url"] == seedfile.whatwg_url(SEED_LINK)
    assert item["title"] == SEED_TITLE
    assert item["published_at"] == "2024-03-07T17:45:02+00:00"  # the pubDate
    assert item["date_text"] == "07/03/2024 - 18:34"  # the page's, from the leading div
    assert item["lead_image"] == SEED_IMAGE
    assert item["summary"].startswith("巴黎周四举行支持乌克兰国际会议，讨论弹药")
    assert item["summary"].endswith("我们有一种集体觉醒和紧迫感...")  # trailing spaces gone
    paragraphs = item["paragraphs"]
    assert len(paragraphs) == 16
    assert paragraphs[0] == (
        "法国外交部和国防部宣布，近 30 个国家的代表四下午出席由法国组织的支持乌克兰后续会议。"
    )
    assert paragraphs[-1].startswith("法国军事学院的防务学院院长伯努瓦-杜里埃将军（Benoît")
    for text in NOT_ARTICLE:
        assert not [p for p in paragraphs if text in p]
        assert text not in item["body_html"]
    assert item["body_html"].startswith("<p>法国外交部") and item["body_html"].endswith("</p>")
    assert item["section"] == "国际"
    assert item["source"] == "feedx.net"
    assert item["modified_at"] is None
    ValidationPipeline(stats=_NoStats()).process_item(item)  # exportable as it is


@pytest.mark.parametrize("multi_line", [False, True])
def test_seed_entry_writes_the_seed_byte_for_byte(seed_text: str, multi_line: bool) -> None:
    html = seed_html(seed_text)
    if multi_line:  # as a feed sends it: one element a line, indented
        html = "\n".join("    " + part for part in html.replace("><", ">\n<").split("\n"))
        assert html.count("\n") > 30
    item = mirror_item(seed_entry(html), crawled_at="2026-11-27T12:00:00+00:00")
    written = seedfile.render(seed_record(ItemAdapter(item)))
    assert written.encode("utf-8") == seed_text.encode("utf-8")


def test_reader_reads_the_seed(seed_text: str) -> None:
    item = read_seed_file(seed_text)
    assert item["url"] == seedfile.whatwg_url(SEED_LINK)
    assert item["title"] == SEED_TITLE
    assert item["published_at"] == "2024-03-07T17:45:02+00:00"
    assert item["date_text"] == "07/03/2024 - 18:34"
    assert item["lead_image"] == SEED_IMAGE
    assert len(item["paragraphs"]) == 16
    assert "分享" not in item["body_html"]
    assert "source" not in item and "crawled_at" not in item  # the file says neither
    assert read_seed_file(seed_text, source="feedx.net")["source"] == "feedx.net"


def test_reader_refuses_a_malformed_file() -> None:
    with pytest.raises(seedfile.SeedFormatError):
        read_seed_file("<!--1-->\nno link line\n------\n\n<p>x</p>\n")


@pytest.mark.parametrize("variant", ARTICLES)
def test_reader_gives_back_a_site_items_fields(variant: str) -> None:
    """The file the project writes for a site item, read back: the same fields."""
    item, _ = parse_fixture(variant)
    back = read_seed_file(seedfile.render(seed_record(ItemAdapter(item))))
    for name in ("url", "title", "published_at", "date_text", "lead_image", "summary"):
        assert back[name] == item[name], name
    assert back["paragraphs"] == item["paragraphs"]
    assert back["body_html"] == item["body_html"]


@pytest.mark.parametrize("variant", sorted(set(ARTICLES) - NOT_AS_RSSHUB_READS))
def test_rsshub_entry_gives_the_pages_fields(variant: str) -> None:
    """An entry built as RSSHub builds it from a page loads as that page does."""
    page_item, _ = parse_fixture(variant)
    entry = MirrorEntry(
        title=page_item["title"],
        link=page_item["url"],
        html=rsshub_html((PAGES / f"{variant}.html").read_text(encoding="utf-8")),
        ms=to_ms(datetime.fromisoformat(page_item["published_at"])),
        host="rsshub.app",
        authors=tuple(page_item["authors"]),  # RSSHub's "a, b" is split by the feed reader
        categories=tuple(page_item["tags"]),
    )
    item = mirror_item(entry, crawled_at="2026-11-27T12:00:00+00:00")
    for name in ("url", "title", "published_at", "summary", "paragraphs", "body_html"):
        assert item[name] == page_item[name], name
    assert item["tags"] == page_item["tags"]
    assert item["authors"] == page_item["authors"]
    assert "undefined" not in item["body_html"]
    page = EntryPage(entry)
    if page.root.cssselect(".t-content__main-media img"):
        assert item["lead_image"] == page_item["lead_image"]
    assert item["source"] == "rsshub.app"


def test_feedx_entry_of_a_page_gives_its_fields() -> None:
    page_item, _ = parse_fixture("image_standard")
    html = feedx_html(
        page_item["date_text"],
        page_item["lead_image"],
        page_item["summary"],
        page_item["body_html"],
        page_item["url"],
    )
    entry = MirrorEntry("t", page_item["url"], html, 1709833502000, "feedx.net")
    item = mirror_item(entry, crawled_at="2026-11-27T12:00:00+00:00")
    for name in ("date_text", "lead_image", "summary", "paragraphs", "body_html"):
        assert item[name] == page_item[name], name


def test_entry_without_a_body_wrapper_still_drops_share_block_and_footer() -> None:
    html = (
        "<div>07/03/2024 - 18:34</div><p>一</p>\n<p>二</p>"
        '<div><div>分享 :</div><a href="https://x.com/share">x</a></div>'
        '<br><hr><div>获取更多RSS：<br><a href="https://feedx.net">feedx</a></div>'
    )
    item = mirror_item(seed_entry(html), crawled_at="2026-11-27T12:00:00+00:00")
    assert item["paragraphs"] == ["一", "二"]
    assert item["body_html"] == "<p>一</p><p>二</p>"
    assert item["date_text"] == "07/03/2024 - 18:34"
    assert item["summary"] is None


def test_entry_without_a_date_div_computes_the_date_text() -> None:
    item = mirror_item(seed_entry("<p>正文</p>"), crawled_at="2026-11-27T12:00:00+00:00")
    assert item["date_text"] == "07/03/2024 - 18:45"  # the pubDate, Paris time
    assert item["paragraphs"] == ["正文"]


class _NoStats:
    """Stats that refuse any count but Spidermon's own validation ones (its pipeline's)."""

    def inc_value(self, key: str, *args: object, **kwargs: object) -> None:
        if not key.startswith("spidermon/validation/") or "errors" in key or "dropped" in key:
            raise AssertionError(f"counted {key}")

    def set_value(self, key: str, value: object) -> None:
        pass
