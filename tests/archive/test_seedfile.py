"""The seed-style text file: reading, writing, and the seed's own bytes."""

from __future__ import annotations

import pytest
from itemadapter import ItemAdapter

from rfi_spider.archive import seedfile
from rfi_spider.archive.journal import seed_record
from rfi_spider.archive.seedfile import SeedFormatError, SeedRecord
from rfi_spider.items import ArticleItem

SEED_URL = (
    "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-%E5%B7%B4%E9%BB%8E%E7%89%B5%E5%A4%B4"
    "%E6%94%AF%E6%8C%81%E4%B9%8C%E5%85%8B%E5%85%B0%E5%90%8E%E7%BB%AD%E4%BC%9A%E8%AE%AE-%E8%BF"
    "%9130%E5%9B%BD%E5%87%BA%E5%B8%AD-%E9%A9%AC%E5%85%8B%E9%BE%99%E6%8B%BC%E4%BA%86"
)


def test_reads_the_seed(seed_text: str) -> None:
    record = seedfile.read(seed_text)
    assert record.ms == 1709833502000
    assert record.published_at == "2024-03-07T17:45:02+00:00"
    assert record.title == "巴黎牵头支持乌克兰后续会议 近30国出席 马克龙拼了？"
    assert record.url == SEED_URL
    assert record.html.startswith("<div>07/03/2024 - 18:34</div><img src=")
    assert "\n" not in record.html


def test_round_trip_gives_the_seed_bytes(seed_text: str) -> None:
    assert seedfile.render(seedfile.read(seed_text)).encode("utf-8") == seed_text.encode("utf-8")


def test_render_shape() -> None:
    text = seedfile.render(SeedRecord(ms=1, title="标题", url="https://x/y", html="<p>a</p>"))
    assert text == "<!--1-->\n[标题](https://x/y)\n------\n\n<p>a</p>\n"


def test_join_lines_strips_each_line_like_the_archiver() -> None:
    html = "  <div>\n\t<p>a b</p>  \r\n\u3000<p>c</p>\n"
    assert seedfile.join_lines(html) == "<div><p>a b</p><p>c</p>"


def test_render_refuses_multi_line_html() -> None:
    with pytest.raises(SeedFormatError):
        seedfile.render(SeedRecord(ms=1, title="t", url="u", html="a\nb"))


def test_whatwg_url_percent_encodes_the_link() -> None:
    raw = "https://www.rfi.fr/cn/国际/20240307-巴黎牵头支持乌克兰后续会议-近30国出席-马克龙拼了"
    assert seedfile.whatwg_url(raw) == SEED_URL
    assert seedfile.whatwg_url(SEED_URL) == SEED_URL  # already encoded: unchanged


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("hello\n", "expected 5 lines"),
        ("<!--x-->\n[t](u)\n------\n\nh\n", "line 1"),
        ("<!--1-->\nt(u)\n------\n\nh\n", "line 2"),
        ("<!--1-->\n[t](u)\n-----\n\nh\n", "lines 3-4"),
        ("<!--1-->\n[t](u)\n------\n\nh", "expected 5 lines"),
    ],
)
def test_bad_files_name_the_line(text: str, line: str) -> None:
    with pytest.raises(SeedFormatError, match=line):
        seedfile.read(text)


def test_title_with_brackets_survives() -> None:
    record = SeedRecord(
        ms=5, title="[快讯](一) 标题", url="https://www.rfi.fr/cn/a/20240101-b", html="x"
    )
    assert seedfile.read(seedfile.render(record)) == record


def test_site_item_html() -> None:
    item = {
        "date_text": "07/03/2024 - 18:34",
        "lead_image": "https://s.rfi.fr/a.jpg?w=1&h=2",
        "summary": "A & B <c>",
        "body_html": "<p>x</p>",
    }
    assert seedfile.site_html(item) == (
        '<div>07/03/2024 - 18:34</div><img src="https://s.rfi.fr/a.jpg?w=1&amp;h=2">'
        "<p><strong>A &amp; B &lt;c&gt;</strong></p><div><p>x</p></div>"
    )
    bare = {**item, "lead_image": None, "summary": None}
    assert seedfile.site_html(bare) == "<div>07/03/2024 - 18:34</div><div><p>x</p></div>"


def test_seed_record_reads_the_item_without_copying_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The export's file of a site item: the same HTML as from the item's dict, read from
    the adapter itself (``asdict`` deep-copied the whole item for four text fields)."""
    item = ArticleItem(
        url="https://www.rfi.fr/cn/a/20240307-b",
        title="标题",
        published_at="2024-03-07T17:45:02+00:00",
        date_text="07/03/2024 - 18:45",
        lead_image="https://s.rfi.fr/a.jpg?w=1&h=2",
        summary="A & B",
        body_html="<p>x</p>",
        paragraphs=["x"],
        tags=["t"],
    )
    want = seedfile.site_html(dict(item))

    def no_copy(self: ItemAdapter) -> dict:
        raise AssertionError("the item was copied")

    monkeypatch.setattr(ItemAdapter, "asdict", no_copy)
    record = seed_record(ItemAdapter(item))
    assert record.html == want
    assert (record.ms, record.title, record.url) == (1709833502000, "标题", item["url"])


def test_no_carriage_return_is_ever_written() -> None:
    """A mirror's &#13; (a lone CR, or CR LF) in its title or HTML: the file has no CR, and
    reads back as the five lines it is, even with universal newlines (issue 14, part 5)."""
    html = seedfile.join_lines("<p>第一段\r</p>\r<p>第二\r\n段</p>\n<p>三</p>")
    assert html == "<p>第一段</p><p>第二段</p><p>三</p>"
    record = SeedRecord(
        ms=1, title="标题\r第二行\r\n第三", url="https://www.rfi.fr/cn/a", html=html
    )
    text = seedfile.render(record)
    assert "\r" not in text
    assert seedfile.read(text).title == "标题 第二行 第三"
    assert len(text.splitlines()) == 5  # what a reader with universal newlines sees


def test_render_refuses_html_with_a_carriage_return() -> None:
    with pytest.raises(SeedFormatError):
        seedfile.render(
            SeedRecord(ms=1, title="t", url="https://www.rfi.fr/cn/a", html="<p>a\rb</p>")
        )
