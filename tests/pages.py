"""The parser fixtures (``fixtures/pages/<variant>.html`` + ``.json``) and how to parse one.

Shared by the parser tests, the schema tests and the mirror entry-view tests.
"""

from __future__ import annotations

import json
from typing import Any

from conftest import FIXTURES
from scrapy.http import HtmlResponse
from w3lib.url import safe_url_string

from rfi_spider.canonical import FetchRoot
from rfi_spider.extract.loaders import load_article
from rfi_spider.extract.page import ArticlePage

PAGES = FIXTURES / "pages"
VARIANTS = sorted(p.stem for p in PAGES.glob("*.html"))


def parse_fixture(variant: str) -> tuple[Any, dict[str, Any]]:
    """The item the parser gives for ``variant``, and the variant's spec (its ``.json``)."""
    spec = json.loads((PAGES / f"{variant}.json").read_text(encoding="utf-8"))
    body = (PAGES / f"{variant}.html").read_bytes()
    response = HtmlResponse(url=safe_url_string(spec["fetched_url"]), body=body)
    site_url = FetchRoot().to_site(response.url)
    page = ArticlePage.from_response(response, site_url)
    return load_article(page, crawled_at="2026-11-27T12:00:00+00:00"), spec
