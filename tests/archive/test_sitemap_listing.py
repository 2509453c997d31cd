"""The sitemap listings in the state: recorded per map, read back by month, a run's figure."""

from __future__ import annotations

from pathlib import Path

from rfi_spider.archive.sitemap_listing import ListedUrl, SitemapListings, read_listings
from rfi_spider.archive.state import SeenStore

A = "https://www.rfi.fr/cn/中国/20240301-a"
B = "https://www.rfi.fr/cn/中国/20240302-b"
C = "https://www.rfi.fr/cn/中国/20240405-c"


def test_a_state_without_sitemaps_has_no_listings(tmp_path: Path) -> None:
    assert read_listings(tmp_path) is None
    SeenStore(tmp_path / "seen.sqlite3").close()
    assert read_listings(tmp_path) is None


def test_listings_are_read_back_by_month_and_a_url_listed_twice_is_one_row(
    tmp_path: Path,
) -> None:
    store = SeenStore(tmp_path / "seen.sqlite3")
    listings = SitemapListings(store, "run-1")
    listings.record("https://www.rfi.fr/sitemaps/cn/contents_202403.xml", "2024-03", [
        ListedUrl(A, "2024-03", "2024-03-01T10:00:00+00:00"),
        ListedUrl(B, "2024-03"),
    ])  # fmt: skip
    listings.record("https://www.rfi.fr/sitemaps/cn/news.xml", None, [
        ListedUrl(C, "2024-04"), ListedUrl(A, "2024-03", "2024-03-02T00:00:00+00:00"),
    ])  # fmt: skip
    store.close()
    months = read_listings(tmp_path)
    assert months is not None
    assert [m.month for m in months] == ["2024-03", "2024-04"]
    assert months[0].urls == {A: "2024-03-02T00:00:00+00:00", B: None}
    assert months[1].urls == {C: None}


def test_a_runs_coverage_counts_what_it_listed_against_what_is_exported(tmp_path: Path) -> None:
    store = SeenStore(tmp_path / "seen.sqlite3")
    SitemapListings(store, "old").record("m0", "2024-02", [ListedUrl(C, "2024-04")])
    listings = SitemapListings(store, "new")
    listings.record("m1", "2024-03", [ListedUrl(A, "2024-03"), ListedUrl(B, "2024-03")])
    store.add(A, "rfi.fr")
    store.add(C, "rfi.fr")
    coverage = listings.run_coverage()
    assert (coverage.listed, coverage.archived, coverage.missing) == (2, 1, [B])
    assert coverage.missing_count == 1
    store.close()


def test_an_article_published_outside_the_range_is_unlisted_for_that_run(tmp_path: Path) -> None:
    store = SeenStore(tmp_path / "seen.sqlite3")
    SitemapListings(store, "old").record("m0", "2024-03", [ListedUrl(A, "2024-03")])
    listings = SitemapListings(store, "new")
    listings.record("m1", "2024-03", [ListedUrl(B, "2024-03")])
    listings.unlist(A)  # another run's row stays
    listings.unlist(B)
    assert listings.run_coverage().listed == 0
    store.close()
    months = read_listings(tmp_path)
    assert months is not None and list(months[0].urls) == [A]
