"""Mirror fallbacks: the site's version wins; a mirror's copy stands in when the site refuses."""

from __future__ import annotations

from rfi_spider.items import ArticleItem
from rfi_spider.mirrors.fallbacks import MirrorFallbacks

URL = "https://www.rfi.fr/cn/中国/20240307-a"


def entry() -> ArticleItem:
    return ArticleItem(url=URL, title="t", source="feedx.net")


def test_entry_waits_and_is_forgotten_when_the_site_serves_the_article() -> None:
    fallbacks = MirrorFallbacks()
    assert fallbacks.keep(entry()) is None
    assert fallbacks.is_waiting(URL)
    fallbacks.site_served(URL)
    assert not fallbacks.is_waiting(URL)
    assert fallbacks.site_refused(URL, "http_404") is None  # nothing left to stand in


def test_entry_stands_in_when_the_site_refuses_after_it_arrived() -> None:
    fallbacks = MirrorFallbacks()
    fallbacks.keep(entry())
    assert fallbacks.site_refused(URL, "http_403") == entry()
    assert fallbacks.entries == {}
    assert fallbacks.site_failed == {}


def test_a_refusal_before_the_entry_arrives_waits_for_it() -> None:
    fallbacks = MirrorFallbacks()
    assert fallbacks.site_refused(URL, "http_403") is None
    assert fallbacks.keep(entry()) == "http_403"  # use the entry at once
    assert fallbacks.entries == {}
    assert fallbacks.site_failed == {}


def test_delivered_urls_are_remembered() -> None:
    fallbacks = MirrorFallbacks()
    fallbacks.deliver(URL, URL + "-alias")
    assert fallbacks.was_delivered(URL)
    assert fallbacks.was_delivered(URL + "-alias")
    assert not fallbacks.was_delivered(URL + "-other")
