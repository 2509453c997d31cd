"""Listing links (issue 13): sponsored and highlighted asides marked by class alone."""

from __future__ import annotations

from rfi_spider.extract.listing import read_links

# The aside markup of france24.com's home page (saved January 2024), trimmed.
ASIDE = """<section class="t-content__section-pb"><aside {attrs}>
<div class="m-item-list-article m-item-list-article--hor-to-ver" data-article-list>
<a href="{href}" data-article-item-link class="article__figure-wrapper">x</a>
</div></aside></section>"""


def test_class_only_asides_are_skipped() -> None:
    html = (
        '<html><body><a href="/cn/keep">k</a>'
        + ASIDE.format(attrs='class="o-aside-content o-aside-content--highlighted"', href="/h")
        + ASIDE.format(attrs='class="o-aside-content  o-aside-content--sponsors"', href="/s")
        + ASIDE.format(attrs='data-org-type="aside-content--sponsors" class="o"', href="/t")
        + ASIDE.format(attrs='class="o-aside-content o-aside-content--no-background"', href="/n")
        + '<a href="/cn/last">l</a></body></html>'
    )
    assert read_links(html.encode(), "utf-8") == ["/cn/keep", "/n", "/cn/last"]
