"""The full-history backfill's sitemap walk at scale: ``-a since=all`` over generated maps.

A sitemap set like the live site's (``robots.txt`` → ``/sitemaps/cn/index.xml`` →
300 monthly ``contents_YYYYMM.xml`` maps, every tenth one gzipped) lists ``n``
article URLs, served by ``python -m http.server`` in its own process. Every URL is
already in the state, as in a backfill of an archive kept up to date: the crawl
reads every map, records each listed URL for QA, and requests no article. What is
measured is what grows with the history: the maps walked, the URLs queued and
recorded. Peak RSS of the crawl process at ``small`` and at ``big`` URLs (20,000 and
200,000 by default): the walk must not hold the history in memory.
"""

from __future__ import annotations

import gzip
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from benchmarks.crawl import PROJECT_STATS, CrawlRun, run_scrapy
from rfi_spider.archive.state import SeenStore

MONTHS = 300  # about the live /cn history: 2001 to 2025
SITE = "https://www.rfi.fr"
SECTION = quote("中国")


def month_of(index: int) -> tuple[int, int]:
    return 2001 + index // 12, index % 12 + 1


def article_path(year: int, month: int, n: int) -> str:
    day = n % 28 + 1
    return f"/cn/{SECTION}/{year:04d}{month:02d}{day:02d}-{quote('站点地图基准')}-{n}"


def write_site(root: Path, urls: int) -> list[str]:
    """The sitemap set of ``urls`` articles under ``root``; returns every article URL."""
    maps = root / "sitemaps" / "cn"
    maps.mkdir(parents=True)
    (root / "robots.txt").write_text(
        "User-agent: *\nAllow: /\n"
        f"Sitemap: {SITE}/sitemaps/fr/index.xml\nSitemap: {SITE}/sitemaps/cn/index.xml\n"
    )
    per_map, extra = divmod(urls, MONTHS)
    listed: list[str] = []
    children: list[str] = []
    n = 0
    for index in range(MONTHS):
        year, month = month_of(index)
        count = per_map + (1 if index < extra else 0)
        entries = []
        for _ in range(count):
            url = SITE + article_path(year, month, n)
            listed.append(url)
            entries.append(
                f"<url><loc>{url}</loc><lastmod>{year:04d}-{month:02d}-28</lastmod></url>"
            )
            n += 1
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(entries)
            + "</urlset>"
        ).encode()
        name = f"contents_{year:04d}{month:02d}.xml"
        if index % 10 == 0:
            name += ".gz"
            body = gzip.compress(body, mtime=0)
        (maps / name).write_bytes(body)
        children.append(f"<sitemap><loc>{SITE}/sitemaps/cn/{name}</loc></sitemap>")
    children.append(f"<sitemap><loc>{SITE}/sitemaps/cn/tags.xml</loc></sitemap>")
    (maps / "index.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(children)
        + "</sitemapindex>"
    )
    return listed


@contextmanager
def serve_folder(root: Path) -> Iterator[str]:
    """``python -m http.server`` on a free loopback port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "-b", "127.0.0.1", "-d", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the sitemap server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class SitemapRun:
    urls: int
    run: CrawlRun

    @property
    def ok(self) -> bool:
        listed = self.run.count("rfi/sitemap/listed")
        return (
            self.run.returncode == 0
            and listed == self.urls
            and not self.run.count("rfi/articles/fetched")
        )


def walk(urls: int, workdir: Path) -> SitemapRun:
    """One ``since=all`` backfill over ``urls`` listed articles, all already exported."""
    folder = workdir / f"sitemaps-{urls}"
    listed = write_site(folder / "site", urls)
    name = f"sitemap-walk-{urls}"
    state = folder / "state"
    store = SeenStore(state / "seen.sqlite3")
    store.add_many((url, "rfi.fr") for url in listed)
    store.close()
    del listed
    with serve_folder(folder / "site") as base_url:
        run = run_scrapy(
            name,
            ["crawl", "rfi_cn", "-a", f"base_url={base_url}", "-a", "since=all"],
            {"LOG_LEVEL": "INFO", "RFI_STATE_DIR": str(state), **PROJECT_STATS},
            workdir,
        )
    return SitemapRun(urls, run)


def write_news_map(root: Path, urls: int) -> list[str]:
    """A Google News sitemap of ``urls`` entries (about 400 bytes each, as the live one's:
    110,000 make 42 MB) under ``root``, named by ``robots.txt``; returns its article URLs."""
    maps = root / "sitemaps" / "cn"
    maps.mkdir(parents=True)
    (root / "robots.txt").write_text(
        f"User-agent: *\nAllow: /\nSitemap: {SITE}/sitemaps/cn/news.xml\n"
    )
    listed: list[str] = []
    with (maps / "news.xml").open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?><urlset'
            ' xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
            ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        )
        for n in range(urls):
            url = SITE + article_path(2024, 3, n)
            listed.append(url)
            out.write(
                f"<url><loc>{url}</loc><lastmod>2024-03-07T10:00:00+00:00</lastmod>"
                "<news:news><news:publication><news:name>RFI</news:name>"
                "<news:language>zh</news:language></news:publication>"
                "<news:publication_date>2024-03-07T10:00:00+00:00</news:publication_date>"
                f"<news:title>站点地图基准的标题 {n}</news:title></news:news></url>"
            )
        out.write("</urlset>")
    return listed


def news_map(urls: int, workdir: Path) -> SitemapRun:
    """A plain run whose news map lists ``urls`` articles, all already exported: what
    reading one big map costs (issue 24: a 42 MB map once took 435 MB)."""
    folder = workdir / f"news-map-{urls}"
    listed = write_news_map(folder / "site", urls)
    state = folder / "state"
    store = SeenStore(state / "seen.sqlite3")
    store.add_many((url, "rfi.fr") for url in listed)
    store.close()
    del listed
    with serve_folder(folder / "site") as base_url:
        run = run_scrapy(
            f"news-map-run-{urls}",
            ["crawl", "rfi_cn", "-a", f"base_url={base_url}", "-a", "mirrors="],
            {
                "LOG_LEVEL": "INFO",
                "RFI_STATE_DIR": str(state),
                **PROJECT_STATS,
                "RFI_HOME": "",
                "RFI_SECTIONS": "",
                "RFI_FEEDS": "",
            },
            workdir,
        )
    return SitemapRun(urls, run)


def bench_sitemaps(small: int, big: int, workdir: Path) -> list[list[str]]:
    """Rows for the benchmark table: peak RSS and speed of the walk at both sizes."""
    low, high = walk(small, workdir), walk(big, workdir)
    growth = high.run.peak_rss_mb / low.run.peak_rss_mb
    rate = high.urls / high.run.elapsed
    return [
        [
            f"sitemap walk, since=all, {big:,} URLs in {MONTHS} maps: peak RSS (MB)",
            f"{high.run.peak_rss_mb:.0f}",
            f"{small:,} URLs {low.run.peak_rss_mb:.0f}",
            f"{growth:.2f}×",
            "flat (< 1.2×)",
            "yes" if growth < 1.2 else "NO",
        ],
        [
            "  URLs listed and recorded / s; every URL listed, none fetched",
            f"{rate:,.0f}",
            f"{small:,} URLs {low.urls / low.run.elapsed:,.0f}",
            "",
            "all listed",
            "yes" if low.ok and high.ok else "NO",
        ],
    ]


def main() -> None:
    """``python -m benchmarks.sitemaps [SMALL BIG]``: the two rows alone;
    ``python -m benchmarks.sitemaps news N``: peak RSS of a plain run over one news map of
    N entries (110,000: 42 MB)."""
    import tempfile

    if sys.argv[1:2] == ["news"]:
        urls = int(sys.argv[2]) if len(sys.argv) > 2 else 110_000
        with tempfile.TemporaryDirectory(prefix="rfi-news-map-") as workdir:
            done = news_map(urls, Path(workdir))
            size = (Path(workdir) / f"news-map-{urls}" / "site/sitemaps/cn/news.xml").stat().st_size
            print(
                f"news map, {urls:,} entries ({size / 1e6:.0f} MB): peak RSS"
                f" {done.run.peak_rss_mb:.0f} MB, listed {done.run.count('rfi/sitemap/listed'):,},"
                f" {done.run.elapsed:.0f} s, ok {done.ok}"
            )
        return
    small, big = (int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (20_000, 200_000)
    with tempfile.TemporaryDirectory(prefix="rfi-sitemaps-") as workdir:
        for row in bench_sitemaps(small, big, Path(workdir)):
            print(" | ".join(row))


if __name__ == "__main__":
    main()
