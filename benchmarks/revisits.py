"""A revisit run's own cost (issue 28): ``articles`` archived, all revisited, ``changed`` of them
edited.

    python -m benchmarks.revisits --articles 10000 --changed 0.01

What a revisit run adds to fetching and extracting the pages again (those cost what a crawl's
pages cost: the crawl rows of ``python -m benchmarks``):

- *plan*: the news sitemap lists every archived article with a later ``lastmod``;
  :meth:`~rfi_spider.crawl.revisits.Revisits.from_sitemap` looks each up in the state and
  builds its conditional request (budget ``RFI_REVISIT_MAX`` = ``articles``);
- *export*: each page comes back as an item; :class:`~rfi_spider.archive.pipelines.
  ArchivePipeline` computes its content digest, compares it with the latest version's and
  writes the changed ones (a JSON line, a ``.v2.txt`` file, the state in batches);
- the growth of ``items.jsonl`` and of the state.

The archive is built first (not timed): ``articles`` exports of the sample article under
distinct URLs and titles.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import scrapy
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from benchmarks.store import url
from rfi_spider import settings as project_settings
from rfi_spider.archive.pipelines import ArchivePipeline
from rfi_spider.config import RfiSettings
from rfi_spider.crawl.revisits import Revisits
from rfi_spider.items import ArticleItem

# The project's RFI_* settings, as a bare crawler of the pipeline alone has them: each
# export committed at once, no archive.db, no capture, every lastmod a reason to revisit.
BARE = {
    **{n: getattr(project_settings, n) for n in dir(project_settings) if n.startswith("RFI_")},
    "RFI_STATE_BATCH": 1,
    "RFI_STATE_BATCH_SECONDS": 0,
    "RFI_STATE_CACHE_KIB": 0,
    "RFI_ARCHIVE_DB": False,
    "RFI_WARC": False,
    "RFI_REVISIT_DAYS": 0,
    "RFI_REVISIT_EVERY": 0,
}
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "sample_site_expected.json"


@dataclass
class RevisitResult:
    articles: int
    changed: int
    plan_seconds: float
    export_seconds: float
    new_versions: int
    unchanged: int
    jsonl_growth_kb: float
    state_growth_kb: float

    @property
    def per_article_us(self) -> float:
        return (self.plan_seconds + self.export_seconds) / self.articles * 1e6


def article(n: int, base: dict, crawled_at: str, edited: bool = False) -> ArticleItem:
    title = f"{base['title']}（{n}）" + ("（更新）" if edited else "")
    return ArticleItem(
        **{**base, "url": url(n), "title": title, "body_html": "<p>x</p>", "crawled_at": crawled_at}
    )


def state_size(output: Path) -> int:
    return sum(p.stat().st_size for p in (output / ".state").glob("seen.sqlite3*"))


def bench_revisits(articles: int, changed_share: float, workdir: Path) -> RevisitResult:
    base = json.loads(FIXTURE.read_text(encoding="utf-8"))["articles"][0]
    output = workdir / "out"
    crawler = get_crawler(
        settings_dict={**BARE, "RFI_OUTPUT_DIR": str(output), "RFI_REVISIT_MAX": articles}
    )
    crawler.stats.open_spider()
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.open_spider()
    first = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()
    for n in range(articles):
        pipeline.process_item(article(n, base, first))
    pipeline.close_spider()
    jsonl_before = (output / "items.jsonl").stat().st_size
    state_before = state_size(output)

    every = max(1, round(1 / changed_share)) if changed_share > 0 else articles + 1
    lastmod = datetime.now(UTC)
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.open_spider()
    planner = Revisits(pipeline.store, RfiSettings.of(crawler), lambda: crawler.stats)
    started = time.perf_counter()
    requests = list(
        planner.from_sitemap(((url(n), lastmod) for n in range(articles)), scrapy.Request)
    )
    plan_seconds = time.perf_counter() - started
    assert len(requests) == articles, len(requests)

    again = lastmod.replace(microsecond=0).isoformat()
    items = [article(n, base, again, edited=n % every == 0) for n in range(articles)]
    for item in items:
        item["revisit"] = True
    started = time.perf_counter()
    new = 0
    for item in items:
        try:
            pipeline.process_item(item)
            new += 1
        except DropItem:
            pass
    pipeline.close_spider()
    export_seconds = time.perf_counter() - started
    stats = crawler.stats
    return RevisitResult(
        articles=articles,
        changed=len(range(0, articles, every)),
        plan_seconds=plan_seconds,
        export_seconds=export_seconds,
        new_versions=new,
        unchanged=stats.get_value("rfi/versions/unchanged", 0),
        jsonl_growth_kb=((output / "items.jsonl").stat().st_size - jsonl_before) / 1024,
        state_growth_kb=(state_size(output) - state_before) / 1024,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share edited (0.01)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rfi-bench-revisits-") as folder:
        result = bench_revisits(args.articles, args.changed, Path(folder))
    for name, value in asdict(result).items():
        print(f"{name:>18}: {value:.3f}" if isinstance(value, float) else f"{name:>18}: {value}")
    print(f"{'per article (µs)':>18}: {result.per_article_us:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
