"""Lazy-loaded lead pictures (issue 13): the real picture at the largest width offered."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml.html import fragment_fromstring

from rfi_spider.extract.images import best_picture, candidates, is_placeholder, parse_srcset
from rfi_spider.extract.loaders import load_article
from rfi_spider.extract.page import ArticlePage, parse_html

GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
MEDIA = "https://s.rfi.fr/media/display/5c2b8e10/w:{}/p:16x9/x.jpg"


def img(html: str):
    return fragment_fromstring(html, create_parent="div").find(".//img")


def test_srcset_is_split_as_the_html_standard_says() -> None:
    # The media server's URLs may hold commas (a JSON segment): only white space ends a URL.
    assert parse_srcset('a.jpg 177w,https://s/m:{"a":"b","c":"d"}/f.jpg 480w') == [
        ("a.jpg", 177),
        ('https://s/m:{"a":"b","c":"d"}/f.jpg', 480),
    ]
    assert parse_srcset("a.jpg 1x, b.jpg 2x") == [("a.jpg", 0), ("b.jpg", 0)]
    assert parse_srcset("a.jpg,b.jpg") == [("a.jpg,b.jpg", 0)]
    assert parse_srcset("a.jpg, b.jpg") == [("a.jpg", 0), ("b.jpg", 0)]
    assert parse_srcset("") == [] and parse_srcset(None) == []


@pytest.mark.parametrize(
    "url, placeholder",
    [
        (GIF, True),
        ("data:image/svg+xml,%3Csvg%3E", True),
        ("/build/images/blank.gif", True),
        ("https://www.rfi.fr/images/pixel.png", True),
        ("/img/lazy-placeholder.svg", True),
        ("https://s.rfi.fr/media/display/u/w:1280/p:16x9/pixel-phone.jpg", False),
        (MEDIA.format(640), False),
    ],
)
def test_placeholders(url: str, placeholder: bool) -> None:
    assert is_placeholder(url) is placeholder


def test_largest_width_of_data_srcset_and_sources_wins_over_a_data_src() -> None:
    image = img(
        "<picture>"
        f'<source type="image/webp" data-srcset="{MEDIA.format(310)} 310w, '
        f'{MEDIA.format(1024)} 1024w">'
        f'<img src="{GIF}" data-src="{MEDIA.format(640)}" '
        f'data-srcset="{MEDIA.format(310)} 310w, {MEDIA.format(1280)} 1280w"></picture>'
    )
    assert best_picture(image) == MEDIA.format(1280)


def test_source_only_and_widths_from_the_media_path() -> None:
    # No descriptors: the /w:NNN/ segment of the media server's URL tells the width.
    image = img(
        f'<picture><source srcset="{MEDIA.format(1024)} 1x, {MEDIA.format(1280)} 2x">'
        f'<img src="{GIF}"></picture>'
    )
    assert best_picture(image) == MEDIA.format(1280)


def test_img_own_address_first_at_equal_width() -> None:
    webp = MEDIA.format(1280).replace(".jpg", ".webp")
    jpg = MEDIA.format(1280)
    image = img(f'<picture><source srcset="{webp} 1280w"><img src="{jpg}"></picture>')
    assert best_picture(image) == MEDIA.format(1280)


def test_one_pixel_src_is_not_a_picture() -> None:
    assert best_picture(img('<img src="/spacer.jpg" width="1" height="1">')) is None
    assert best_picture(img(f'<img src="{GIF}">')) is None
    assert best_picture(img('<img src="/a/b.jpg" data-src="/a/c.jpg" width="1">')) == "/a/c.jpg"
    assert best_picture(None) is None


def page(main_media: str) -> ArticlePage:
    html = (
        '<html><head><meta property="og:image" content="https://s.rfi.fr/og.jpg"></head><body>'
        '<article class="t-content"><h1 class="t-content__title">T</h1>'
        f'<div class="t-content__main-media">{main_media}</div>'
        '<div class="t-content__body"><p>x</p></div></article></body></html>'
    )
    root = parse_html(html.encode(), "utf-8")
    assert root is not None
    return ArticlePage(root, "https://www.rfi.fr/cn/国际/20240307-x")


def test_og_image_only_when_the_main_media_has_no_picture() -> None:
    lazy = f'<picture><img src="{GIF}" data-srcset="{MEDIA.format(640)} 640w"></picture>'
    assert page(lazy).lead_images() == [MEDIA.format(640)]
    assert page(f'<img src="{GIF}">').lead_images() == ["https://s.rfi.fr/og.jpg"]
    assert page('<div class="player"></div>').lead_images() == ["https://s.rfi.fr/og.jpg"]


def test_an_unusable_json_ld_picture_before_a_usable_one_is_left_out() -> None:
    """No og:image, and JSON-LD lists a picture that is not http(s) before one that is:
    the candidates hold only the usable one (a None among them reached the loader's
    ``str.strip`` and failed the whole article's extraction)."""
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle",'
        ' "image": ["ftp://s.rfi.fr/a.jpg", "https://s.rfi.fr/b.jpg"]}</script></head><body>'
        '<article class="t-content"><h1 class="t-content__title">标题</h1>'
        '<div class="t-content__body"><p>段落</p></div></article></body></html>'
    )
    root = parse_html(html.encode(), "utf-8")
    assert root is not None
    article = ArticlePage(root, "https://www.rfi.fr/cn/国际/20240307-x")
    assert article.lead_images() == ["https://s.rfi.fr/b.jpg"]
    item = load_article(article, crawled_at="2026-12-07T16:00:00+00:00")
    assert item["lead_image"] == "https://s.rfi.fr/b.jpg"


_OFFERED = st.sampled_from(
    [
        f' srcset="{MEDIA.format(640)} 1x, /blank.gif 2x"',
        f' data-srcset="/pixel.png 2000w, {MEDIA.format(1024)}"',
        ' srcset="/a.jpg 300w, /spacer.gif 900w"',
        f' src="{MEDIA.format(320)}"',
        ' src="data:image/gif;base64,R0l"',
        ' width="1"',
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_OFFERED, max_size=3), st.lists(_OFFERED, max_size=3))
def test_the_best_picture_is_the_largest_real_candidate(
    sources: list[str], image: list[str]
) -> None:
    """Placeholders tested only for an offer that would win: the same picture as the
    largest of every real candidate, the first of equal ones (issue 26)."""
    markup = "".join(f"<source{attrs}>" for attrs in sources)
    element = img(f"<picture>{markup}<img{''.join(image)}></picture>")
    best = None
    for candidate in candidates(element):
        if best is None or (candidate.width, -candidate.rank) > (best.width, -best.rank):
            best = candidate
    assert best_picture(element) == (best.url if best else None)
