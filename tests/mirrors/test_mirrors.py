"""Reading mirror feeds: RSS 2.0 and Atom, HTML kept as sent, hostile XML refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from feeds import Entry, atom, rss

from rfi_spider.dates import parse_feed_date
from rfi_spider.mirrors.feeds import BadFeedError, mirror_host, read_feed

FEED_URL = "https://feedx.net/rss/rfi.xml"
LINK = "https://www.rfi.fr/cn/国际/20240307-巴黎牵头支持乌克兰后续会议-近30国出席-马克龙拼了"
URL = (
    "https://www.rfi.fr/cn/%E5%9B%BD%E9%99%85/20240307-%E5%B7%B4%E9%BB%8E%E7%89%B5%E5%A4%B4"
    "%E6%94%AF%E6%8C%81%E4%B9%8C%E5%85%8B%E5%85%B0%E5%90%8E%E7%BB%AD%E4%BC%9A%E8%AE%AE-%E8%BF"
    "%9130%E5%9B%BD%E5%87%BA%E5%B8%AD-%E9%A9%AC%E5%85%8B%E9%BE%99%E6%8B%BC%E4%BA%86"
)
# Line breaks, indentation, entities, a CDATA-looking string and trailing spaces: all kept.
HTML = (
    "  <div>07/03/2024 - 18:34</div>\r\n"
    '\t<p><strong>A &amp; B "引号" ]]&gt; 尾部空格   </strong></p>\n'
    "<div><p>一</p></div>\n"
)


def one(feed_text: str, url: str = FEED_URL):
    feed = read_feed(feed_text.encode("utf-8"), url)
    assert not feed.problems, feed.problems
    assert len(feed.entries) == 1
    return feed.entries[0]


@pytest.mark.parametrize("cdata", [True, False])
def test_rss_entry_keeps_the_html_exactly(cdata: bool) -> None:
    html = HTML.replace("\r\n", "\n")  # XML itself normalises line ends
    text = rss([Entry("标题 ", LINK, html, "Thu, 07 Mar 2024 17:45:02 GMT", cdata=cdata)])
    entry = one(text)
    assert entry.html == html
    assert entry.title == "标题"
    assert entry.link == LINK  # as given; the item's url is the canonical one
    assert entry.url == URL
    assert entry.ms == 1709833502000
    assert entry.published_at == "2024-03-07T17:45:02+00:00"
    assert entry.host == "feedx.net"
    assert entry.seed_fields() == {"ms": 1709833502000, "title": "标题", "link": LINK, "html": html}


def test_rss_prefers_content_encoded_and_reads_authors_categories_audio() -> None:
    text = (
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><item>'
        f"<title>t</title><guid>{URL}</guid><description>lead only</description>"
        "<content:encoded><![CDATA[<p>full</p>]]></content:encoded>"
        "<dc:date>2024-03-07T17:45:02Z</dc:date><author>甲, 乙</author>"
        "<category>北约</category><category> 瑞典 </category>"
        '<enclosure url="https://aod.example/a.mp3" type="audio/mpeg" length="0"/>'
        "</item></channel></rss>"
    )
    entry = one(text)
    assert entry.html == "<p>full</p>"
    assert entry.link == URL  # from the permalink guid
    assert entry.ms == 1709833502000
    assert entry.authors == ("甲", "乙")
    assert entry.categories == ("北约", "瑞典")
    assert entry.audio_url == "https://aod.example/a.mp3"


def test_atom_entry() -> None:
    text = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>f</title><entry>'
        '<title type="html">A &amp;amp; &lt;b&gt;B&lt;/b&gt;</title>'
        f'<link rel="self" href="https://rsshub.app/x"/><link href="{URL}"/>'
        '<summary type="html">&lt;p&gt;short&lt;/p&gt;</summary>'
        '<content type="html">&lt;p class="t-content__chapo"&gt;长&lt;/p&gt;</content>'
        "<published>2024-03-07T18:45:02+01:00</published><updated>2024-03-08T09:00:00Z</updated>"
        '<author><name>苏安</name></author><category term="北约"/>'
        "</entry></feed>"
    )
    entry = one(text, "https://rsshub.app/rfi/cn?format=atom")
    assert entry.title == "A & B"
    assert entry.link == URL
    assert entry.html == '<p class="t-content__chapo">长</p>'
    assert entry.ms == 1709833502000
    assert entry.modified_ms == int(datetime(2024, 3, 8, 9, tzinfo=UTC).timestamp() * 1000)
    assert entry.authors == ("苏安",)
    assert entry.categories == ("北约",)
    assert entry.host == "rsshub.app"


def test_atom_xhtml_content_loses_its_namespace() -> None:
    text = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title>'
        f'<link href="{URL}"/><published>2024-03-07T17:45:02Z</published>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        "<div>07/03/2024 - 18:34</div><p>一<b>二</b></p></div></content></entry></feed>"
    )
    assert one(text).html == "<div>07/03/2024 - 18:34</div><p>一<b>二</b></p>"


def test_rss_and_atom_builders_agree() -> None:
    entry = Entry("t", LINK, "<p>x</p>", "Thu, 07 Mar 2024 17:45:02 GMT")
    atom_entry = Entry("t", LINK, "<p>x</p>", "2024-03-07T17:45:02Z")
    assert one(rss([entry])).seed_fields() == one(atom([atom_entry])).seed_fields()


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "]>"
    '<rss version="2.0"><channel><item><title>&i;</title>'
    f"<link>{URL}</link><description>x</description>"
    "<pubDate>Thu, 07 Mar 2024 17:45:02 GMT</pubDate></item></channel></rss>"
)


def test_refuses_an_entity_expansion_bomb() -> None:
    with pytest.raises(BadFeedError, match="entit"):
        read_feed(BOMB.encode(), FEED_URL)


def test_refuses_any_entity_declaration() -> None:
    small = BOMB.replace("&i;", "&a;")  # no amplification at all: still refused
    with pytest.raises(BadFeedError, match="declares XML entities"):
        read_feed(small.encode(), FEED_URL)


def test_refuses_an_external_entity(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    text = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        f'<rss version="2.0"><channel><item><title>t</title><link>{URL}</link>'
        "<description>&x;</description><pubDate>Thu, 07 Mar 2024 17:45:02 GMT</pubDate>"
        "</item></channel></rss>"
    )
    with pytest.raises(BadFeedError, match="entities") as raised:
        read_feed(text.encode(), FEED_URL)
    assert "TOP-SECRET" not in str(raised.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not well-formed"),
        (b"<html><body><h1>Just a moment...</h1><p>checking</body></html>", "not well-formed"),
        (b"<html><body><p>a challenge page</p></body></html>", "neither RSS 2.0 nor Atom"),
        (b'<?xml version="1.0"?><rss><channel><title>&nbsp;</title></channel></rss>', "well"),
    ],
)
def test_refuses_what_is_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(BadFeedError, match=message):
        read_feed(body, FEED_URL)


def test_broken_entries_are_reported_not_raised() -> None:
    date = "Thu, 07 Mar 2024 17:45:02 GMT"
    entries = [
        Entry("no link", None, "<p>x</p>", date),
        Entry("off site", "https://example.com/cn/a/20240307-x", "<p>x</p>", date),
        Entry("a listing", "https://www.rfi.fr/cn/国际/", "<p>x</p>", date),
        Entry("", LINK, "<p>x</p>", date),
        Entry("no date", LINK, "<p>x</p>", None),
        Entry("bad date", LINK, "<p>x</p>", "yesterday at noon"),
        Entry("no content", LINK, "  \n ", date),
        Entry("fine", LINK, "<p>x</p>", date),
    ]
    feed = read_feed(rss(entries).encode(), FEED_URL)
    assert [e.title for e in feed.entries] == ["fine"]
    problems = [(p.reason, p.url) for p in feed.problems]
    assert problems == [
        ("no_link", None),
        ("not_article", None),
        ("not_article", None),
        ("no_title", URL),
        ("no_date", URL),
        ("bad_date", URL),
        ("no_content", URL),
    ]
    assert feed.problems[0].where == "#1"
    assert feed.problems[1].where == "https://example.com/cn/a/20240307-x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thu, 07 Mar 2024 17:45:02 GMT", "2024-03-07T17:45:02+00:00"),
        ("Fri, 08 Mar 2024 01:45:02 +0800", "2024-03-07T17:45:02+00:00"),
        ("Thu, 07 Mar 2024 17:45:02 -0000", "2024-03-07T17:45:02+00:00"),
        ("2024-03-07T17:45:02Z", "2024-03-07T17:45:02+00:00"),
        ("2024-03-07T18:45:02+01:00", "2024-03-07T17:45:02+00:00"),
        ("yesterday", None),
        ("Thu, 07 Mar 1824 17:45:02 GMT", None),
        ("", None),
    ],
)
def test_feed_dates(text: str, expected: str | None) -> None:
    parsed = parse_feed_date(text)
    assert (parsed.isoformat() if parsed else None) == expected


def test_mirror_host() -> None:
    assert mirror_host("https://feedx.net/rss/rfi.xml") == "feedx.net"
    assert mirror_host("https://www.feedx.net/rss/rfi.xml") == "feedx.net"
    assert mirror_host("https://RSSHub.app/rfi/cn") == "rsshub.app"
    assert mirror_host("http://127.0.0.1:8080/m.xml") == "127.0.0.1"
