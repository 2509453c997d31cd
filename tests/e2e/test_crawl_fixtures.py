"""End-to-end over the parser fixtures: every page variant served as a site and crawled.

The parser tests read each fixture directly; this crawl fetches the same pages
through Scrapy (download, encoding, redirects of nothing, pipelines, exports),
from links of every form on a home page, and must export exactly the expected items.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import FIXTURES, first_version, run_crawl

from rfi_spider.canonical import canonical_url
from rfi_spider.demo.localsite import LocalSite
from rfi_spider.editions import EDITIONS, edition_of

PAGES = FIXTURES / "pages"


def fixture_site(edition: str) -> tuple[LocalSite, dict[str, dict], dict[str, int]]:
    """Every fixture page served, all linked from the edition's home; what its crawl gives."""
    site = LocalSite()
    expected: dict[str, dict] = {}
    dropped: dict[str, int] = {}
    links = []
    for spec_path in sorted(PAGES.glob("*.json")):
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        fetched = spec["fetched_url"]
        canonical = canonical_url(fetched) or fetched
        path = urlsplit(canonical).path
        site.add(path, spec_path.with_suffix(".html").read_bytes())
        links.append(f'<a href="{fetched}">{spec_path.stem}</a>')  # every form, as given
        page_edition = edition_of(canonical)
        if page_edition is None or page_edition.key != edition:
            continue  # the other edition's page: linked, never exported
        if spec["expected"] is None:
            # A crawl may drop a page before the parser sees it (a truncated page).
            reason = spec.get("crawl_reason", spec["reason"])
            dropped[reason] = dropped.get(reason, 0) + 1
        else:
            expected[spec["expected"]["url"]] = spec["expected"]
    site.add(EDITIONS[edition].home, "<html><body>" + "".join(links) + "</body></html>")
    return site, expected, dropped


@pytest.mark.parametrize("edition", ["cn", "tw"])
def test_every_variant_crawled_and_exported_right(tmp_path: Path, edition: str) -> None:
    """Each edition's crawl exports its own pages exactly, and never the other's."""
    site, expected, dropped = fixture_site(edition)
    assert expected, f"no fixture page of edition {edition}"
    with site:
        result = run_crawl(
            tmp_path / "out",
            f"base_url={site.url}",
            settings={"RFI_SECTIONS": "", "RFI_FEEDS": ""},
            spider=EDITIONS[edition].spider,
        )
    assert result.returncode == 0, result.log[-3000:]
    got = {item["url"]: item for item in result.items}
    assert sorted(got) == sorted(expected)
    for url, item in got.items():
        assert {k: v for k, v in first_version(item).items() if k != "crawled_at"} == expected[
            url
        ], url
    for reason, count in dropped.items():
        assert result.stat(f"rfi/dropped/{reason}") == count
    assert len(result.article_files) == len(expected)
    assert result.stat("log_count/ERROR") == 0
    assert result.stat("rfi/skipped/other_edition") > 0  # the other edition's pages
