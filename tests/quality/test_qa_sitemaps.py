"""``scrapy qa``'s coverage against the site's sitemaps: listed, archived and missing per
month, each missing article with its cause, exit 1, the web page's chart, hostile states.

Each archive is written here: a few of the sample site's items with their seed-style
files, and a state (``<archive>/.state/seen.sqlite3``) in which the sitemaps' listings
and the failures are recorded through the crawl's own classes.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES
from test_qa import run_qa

from rfi_spider.archive import seedfile
from rfi_spider.archive.exporters import serialize_line
from rfi_spider.archive.failures import FailedArticles
from rfi_spider.archive.seedfile import seed_file_name
from rfi_spider.archive.sitemap_listing import ListedUrl, SitemapListings
from rfi_spider.archive.state import SeenStore
from rfi_spider.canonical import canonical_url
from rfi_spider.dates import to_ms
from rfi_spider.quality import qa, qa_html
from rfi_spider.quality.sitemap_coverage import MonthCoverage

# The six articles the sample site's listings give (the seventh is the news sitemap's).
ARTICLES = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))[
    "articles"
][:6]
SITE = "https://www.rfi.fr/cn/"
# Listed by the sitemaps, not in the archive, each for a different reason.
GONE = SITE + "中国/20240309-消失的文章"  # 404 three times: given up
NOT_ARTICLE = SITE + "中国/20240215-不是文章"  # no paragraphs once: tried again
EXPORTED_ELSEWHERE = SITE + "法国/20240310-别处"  # in the state's seen table only
NEVER_FETCHED = SITE + "国际/20240311-未抓取"
HOSTILE = SITE + '国际/20240312-"><script>alert(1)</script>'
MARCH_MAP = "https://www.rfi.fr/sitemaps/cn/contents_202403.xml"


def item(article: dict[str, Any]) -> dict[str, Any]:
    """An exported item: an expected sample-site article with its clock fields."""
    out = dict(article, crawled_at="2026-11-27T12:00:00+00:00")
    out["body_html"] = "<p>" + "</p><p>".join(out["paragraphs"]) + "</p>"
    return out


def write_archive(root: Path, articles: list[dict[str, Any]], items_file: bool = True) -> None:
    """``items.jsonl`` (unless ``items_file`` is false) and one seed-style file per article,
    as the archive pipeline writes them."""
    files = root / "articles" if items_file else root
    lines = []
    for article in map(item, articles):
        record = seedfile.SeedRecord(
            ms=to_ms(article["published_at"]),
            title=article["title"],
            url=article["url"],
            html=seedfile.site_html(article),
        )
        path = files / seed_file_name(article["url"], article["published_at"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(seedfile.render(record), encoding="utf-8")
        lines.append(serialize_line(article))
    if items_file:
        (root / "items.jsonl").write_bytes(b"".join(lines))


def record_state(state: Path, *, hostile: bool = False) -> None:
    """What a crawl recorded: the March map lists the archive's articles (raw URLs, as a
    sitemap spells them) and four more; February's, one that is no article."""
    store = SeenStore(state / "seen.sqlite3")
    listings = SitemapListings(store, "run-1")
    march = [ListedUrl(qa.readable(a["url"]), "2024-03", "2024-03-09T00:00:00Z") for a in ARTICLES]
    march += [ListedUrl(url, "2024-03") for url in (GONE, EXPORTED_ELSEWHERE, NEVER_FETCHED)]
    if hostile:
        march.append(ListedUrl(HOSTILE, "2024-03"))
    listings.record(MARCH_MAP, "2024-03", march)
    listings.record(SITE.replace("/cn/", "/sitemaps/cn/contents_202402.xml"), "2024-02", [
        ListedUrl(NOT_ARTICLE, "2024-02"),
    ])  # fmt: skip
    failures = FailedArticles(store, max_attempts=3)
    for _ in range(3):
        failures.record(GONE, "404")
    failures.record(NOT_ARTICLE, "not an article: no_paragraphs")
    store.add(canonical_url(EXPORTED_ELSEWHERE), "rfi.fr")  # the pipeline's key
    store.close()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    write_archive(root, ARTICLES)
    record_state(root / ".state")
    return root


def test_counts_per_month_and_each_missing_articles_cause(archive: Path) -> None:
    report = qa.check_archive(archive)
    coverage = report.sitemaps
    assert coverage is not None and coverage.checked
    assert coverage.months == [MonthCoverage("2024-02", 1, 0), MonthCoverage("2024-03", 9, 6)]
    assert coverage.totals() == MonthCoverage("total", 10, 6)
    causes = {qa.readable(m.url): (m.month, m.cause) for m in coverage.missing}
    assert causes == {
        NOT_ARTICLE: (
            "2024-02",
            "not an article: no_paragraphs (failed 1 time, tried again next run)",
        ),
        GONE: ("2024-03", "404 (failed 3 times, given up)"),
        EXPORTED_ELSEWHERE: ("2024-03", "exported by a crawl, not in this archive"),
        NEVER_FETCHED: ("2024-03", "not fetched yet"),
    }
    assert [f.kind for f in report.findings] == ["sitemap-missing"] * 4
    text = qa.render_text(report)
    assert "  2024-03           9         6        3  <" in text
    assert "  total            10         6        4" in text
    assert f"    2024-03     {GONE}  404 (failed 3 times, given up)" in text
    assert f"[sitemap-missing] 2024-03: {GONE}: 404 (failed 3 times, given up)" in text
    assert text.rstrip().endswith("QA FAILED: 4 problems (4 sitemap-missing).")


def test_scrapy_qa_exits_1_names_the_missing_url_and_charts_the_gap(
    archive: Path, tmp_path: Path
) -> None:
    record_state(archive / ".state", hostile=True)
    html = tmp_path / "report.html"
    done = run_qa(str(archive), "--html", str(html))
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "Coverage against the site's sitemaps (state: " in out
    assert f"[sitemap-missing] 2024-03: {GONE}: 404 (failed 6 times, given up)" in out
    assert "QA FAILED: 5 problems (5 sitemap-missing)." in out
    page = html.read_text(encoding="utf-8")
    assert "<script>" not in page
    section = page[page.index('<h2 id="sitemaps">') : page.index("<h2>Problems</h2>")]
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="sitemap-chart"' in section
    # Each month: the sitemaps' count, and the archive's drawn over it.
    assert '<rect class="listed" data-month="2024-03" data-count="10"' in section
    assert '<rect class="archived" data-month="2024-03" data-count="6"' in section
    assert '<rect class="archived" data-month="2024-02" data-count="0"' in section
    assert (
        '<td>2024-03</td><td class="n">10</td><td class="n">6</td><td class="n">4</td>' in section
    )
    assert "国际/20240312-&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert "404 (failed 6 times, given up)" in section


def test_the_text_caps_the_missing_urls_and_all_lists_them(archive: Path) -> None:
    report = qa.check_archive(archive)
    capped = qa.render_text(report, limit=2)
    assert "    ... and 2 more (--all shows every one)" in capped
    assert NEVER_FETCHED not in capped.split("Problems:")[0]
    every = qa.render_text(report, limit=None)
    assert every.split("Problems:")[0].count("\n    2024-0") == 4


def test_a_seed_file_archive_is_compared_by_its_files_urls(tmp_path: Path) -> None:
    root = tmp_path / "mirror"
    write_archive(root, ARTICLES[:4], items_file=False)
    record_state(root / ".state")
    coverage = qa.check_archive(root).sitemaps
    assert coverage is not None
    assert coverage.months == [MonthCoverage("2024-02", 1, 0), MonthCoverage("2024-03", 9, 4)]


def test_an_archive_without_sitemaps_passes_with_a_one_line_note(
    archive: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    write_archive(plain, ARTICLES)
    done = run_qa(str(plain))
    assert done.returncode == 0, done.stdout + done.stderr
    note = [line for line in done.stdout.splitlines() if "site's sitemaps" in line]
    assert note == [f"Coverage against the site's sitemaps: no state at {plain / '.state'}: "
                    "no sitemap read"]  # fmt: skip
    assert "QA passed: 6 items, no problems." in done.stdout
    # --state names another folder's state: its listings count.
    done = run_qa(str(plain), "--state", str(archive / ".state"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"2024-03: {GONE}: 404" in done.stdout


def test_a_state_that_never_read_a_sitemap_is_a_note(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    write_archive(root, ARTICLES[:2])
    SeenStore(root / ".state" / "seen.sqlite3").close()
    report = qa.check_archive(root)
    assert report.ok
    text = qa.render_text(report)
    assert "Coverage against the site's sitemaps: no sitemap read yet (state " in text
    page = qa_html.render_html(report)
    assert '<p id="sitemaps-note">no sitemap read yet' in page
    assert "sitemap-chart" not in page


# --- hostile states ----------------------------------------------------------------
def test_a_state_that_is_not_a_database_is_a_finding_not_a_crash(archive: Path) -> None:
    state = archive / ".state"
    for leftover in state.glob("seen.sqlite3*"):
        leftover.unlink()
    (state / "seen.sqlite3").write_bytes(b"<html>not a database</html>" * 200)
    report = qa.check_archive(archive)
    assert [(f.kind, f.where) for f in report.findings] == [("state", str(state))]
    assert "file is not a database" in report.findings[0].message
    text = qa.render_text(report)
    assert "Coverage against the site's sitemaps: cannot read " in text
    assert "QA FAILED: 1 problem (1 state)." in text
    assert '<p id="sitemaps-note">cannot read ' in qa_html.render_html(report)


def test_a_state_another_process_holds_locked_is_a_note(archive: Path) -> None:
    holder = SeenStore(archive / ".state" / "seen.sqlite3")
    holder.db.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.db.execute("BEGIN EXCLUSIVE")  # held until closed: no reader gets in
    try:
        report = qa.check_archive(archive, busy_timeout=0)
    finally:
        holder.db.execute("ROLLBACK")
        holder.close()
    assert report.ok, report.findings
    assert report.sitemaps is not None
    assert report.sitemaps.note and "is locked by another process" in report.sitemaps.note


def test_hostile_rows_are_shown_escaped_not_a_crash(archive: Path, tmp_path: Path) -> None:
    """Rows no crawl writes (a blob URL, a number for a month, text for attempts, controls
    and bidi overrides) are counted and shown as text."""
    db = sqlite3.connect(archive / ".state" / "seen.sqlite3")
    with db:
        db.execute(
            "INSERT INTO sitemap_urls VALUES (?, ?, NULL, 'm', 'r', 'now')",
            (b"\xff\x00blob", 202405),
        )
        db.execute(
            "INSERT INTO sitemap_urls VALUES (?, '2024-06\x1b[31m', NULL, 'm', 'r', 'now')",
            (SITE + "中国/20240601-x\u202e",),
        )
        db.execute(
            "INSERT INTO failures VALUES (?, 'many', 'a cause \x1b]0;owned\x07', 'now', 0)",
            (canonical_url(NEVER_FETCHED),),
        )
    db.close()
    report = qa.check_archive(archive)
    coverage = report.sitemaps
    assert coverage is not None and coverage.checked
    months = {m.month: (m.listed, m.archived) for m in coverage.months}
    assert months["202405"] == months["2024-06\x1b[31m"] == (1, 0)
    text = qa.render_text(report, limit=None)
    page = qa_html.render_html(report, limit=None)
    for shown in (text, page):
        assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "a cause \\x1b]0;owned\\x07 (failed 0 times, tried again next run)" in text
    assert "2024-06\\x1b[31m" in text


def test_a_state_without_its_seen_table_is_compared_not_an_error(archive: Path) -> None:
    """A state with the sitemap tables but no ``seen`` table (an old or tampered one): the
    listed articles are still compared; none is "exported by a crawl" (issue 30, 3)."""
    with sqlite3.connect(archive / ".state" / "seen.sqlite3") as db:
        db.execute("DROP TABLE seen")
    db.close()
    report = qa.check_archive(archive)
    coverage = report.sitemaps
    assert coverage is not None and coverage.error is None and coverage.checked
    assert coverage.totals() == MonthCoverage("total", 10, 6)
    causes = {qa.readable(m.url): m.cause for m in coverage.missing}
    assert causes[EXPORTED_ELSEWHERE] == causes[NEVER_FETCHED] == "not fetched yet"
    assert [f.kind for f in report.findings] == ["sitemap-missing"] * 4


@pytest.mark.parametrize(
    ("crawl_max", "failed", "judged"),
    [(1, 1, "failed 1 time, given up"), (5, 3, "failed 3 times, tried again next run")],
)
def test_a_missing_articles_cause_is_the_crawls_own_give_up_decision(
    tmp_path: Path, crawl_max: int, failed: int, judged: str
) -> None:
    """The crawl ran with ``RFI_MAX_ATTEMPTS`` 1 or 5, QA with its default (3): whether a
    failed article is given up is what the crawl decided, as its list of given-up
    articles says too (issue 30, 4)."""
    root = tmp_path / "archive"
    write_archive(root, ARTICLES[:1])
    store = SeenStore(root / ".state" / "seen.sqlite3")
    SitemapListings(store, "run-1").record(MARCH_MAP, "2024-03", [ListedUrl(GONE, "2024-03")])
    failures = FailedArticles(store, max_attempts=crawl_max)
    for _ in range(failed):
        failures.record(GONE, "404")
    store.close()
    report = qa.check_archive(root)  # QA's own RFI_MAX_ATTEMPTS: the default, 3
    assert report.sitemaps is not None
    assert [(qa.readable(m.url), m.cause) for m in report.sitemaps.missing] == [
        (GONE, f"404 ({judged})")
    ]
    assert [qa.readable(r.url) for r in report.given_up] == ([GONE] if crawl_max == 1 else [])
