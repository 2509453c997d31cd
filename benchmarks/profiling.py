"""Where the time goes: ``python -m benchmarks.profiling extraction|crawl``.

``extraction`` runs the project's extraction on padded pages and reports

- the stages of ``parse_article``: ``HtmlResponse``, the encoding, the parse
  (``page.parse_html``, from the bytes), the page views, the candidates, the loader;
- the changes the first profile called for, each timed on the same pages the way it
  was before and the way it is now (what each one bought);
- every selector of ``rfi_spider/selectors.py``: calls per page, time per page, and how
  many ran from the document root (a full-tree traversal);
- a pyinstrument profile (text) of the whole extraction.

``crawl`` runs ``scrapy crawl rfi_cn`` against the benchmark server under
``py-spy record`` and sums the sampled stacks by function (inclusive share of the
samples): download, engine, parsing, pipelines, the SQLite transaction per item.

Nothing here changes the project: the selectors are wrapped for the census only.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lxml.cssselect import CSSSelector
from lxml.etree import XPath
from scrapy.http import HtmlResponse

from benchmarks.crawl import crawl_project, serve
from benchmarks.extraction import CRAWLED_AT, HEADERS, lxml_floor, sample_indices
from benchmarks.pages import BenchSite, Page
from rfi_spider.extract import selectors
from rfi_spider.extract.loaders import load_article
from rfi_spider.extract.page import ArticlePage, parse_html

# --- extraction --------------------------------------------------------------


class Census:
    """Calls, time and root-context calls per selector."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.from_root: collections.Counter[str] = collections.Counter()
        self.seconds: collections.Counter[str] = collections.Counter()

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def counted(node: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(node, *args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1
                if node is not None and node.getparent() is None:
                    self.from_root[name] += 1

        return counted


@contextmanager
def census_of_selectors() -> Iterator[Census]:
    """Wrap every compiled selector while the block runs."""
    census = Census()
    saved: dict[str, Any] = {}
    for name, value in vars(selectors).items():
        if isinstance(value, XPath):
            saved[name] = value
            setattr(selectors, name, census.wrap(name, value))
    try:
        yield census
    finally:
        for name, value in saved.items():
            setattr(selectors, name, value)


def stage_times(pages: list[Page]) -> dict[str, float]:
    """Milliseconds per page of each step of ``parse_article``'s path."""
    totals: collections.Counter[str] = collections.Counter()

    def timed(name: str, function: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = function()
        totals[name] += time.perf_counter() - start
        return result

    for page in pages:
        timed("lxml floor (same bytes)", lambda page=page: lxml_floor(page))
        response = timed(
            "HtmlResponse(...)",
            lambda page=page: HtmlResponse(url=page.article.url, body=page.body, headers=HEADERS),
        )
        encoding = timed("response.encoding (declared or sniffed)", lambda r=response: r.encoding)
        root = timed(
            "parse_html (lxml, from the bytes)",
            lambda r=response, e=encoding: parse_html(r.body, e),
        )
        view = ArticlePage(root, page.article.url)
        timed("page.meta (head only)", lambda v=view: v.meta)
        timed("page article + JSON-LD (one walk) + news_article", lambda v=view: v.news_article)
        timed("page.parts (one walk of the article)", lambda v=view: v.parts)
        timed("page.publication_times", lambda v=view: v.publication_times)
        timed("page.body (extract_body walk)", lambda v=view: v.body)

        def candidates(v: ArticlePage = view) -> None:
            for name in _CANDIDATES:
                value = getattr(v, name)()
                if name == "audio_urls":
                    list(value)

        timed("candidate methods (selectors, text)", candidates)
        timed(
            "load_article (candidates again + the loader)",
            lambda v=view: load_article(v, crawled_at=CRAWLED_AT),
        )
        recorded = Recorded(view)
        timed(
            "load_article on recorded candidates (the loader + processors only)",
            lambda r=recorded: load_article(r, crawled_at=CRAWLED_AT),  # type: ignore[arg-type]
        )
    return {name: seconds / len(pages) * 1000 for name, seconds in totals.items()}


class Recorded:
    """An ``ArticlePage`` stand-in that returns the candidates a real page gave."""

    def __init__(self, page: ArticlePage) -> None:
        self.url = page.url
        self.body = page.body
        self._values = {
            name: list(value) if name == "audio_urls" else value
            for name in _CANDIDATES
            for value in [getattr(page, name)()]
        }

    def __getattr__(self, name: str) -> Callable[[], Any]:
        value = self._values[name]
        return lambda: value


_CANDIDATES = (
    "canonical_urls",
    "titles",
    "published",
    "modified",
    "date_texts",
    "lead_images",
    "summaries",
    "sections",
    "page_tags",
    "ld_keywords",
    "page_authors",
    "ld_authors",
    "audio_urls",
)

# The selectors as they were before the changes (first profile, BENCHMARKS.md).
_BEFORE_META = [
    XPath("//meta[@property and @content]"),
    XPath("//meta[@name and @content]"),
    XPath("//link[@rel='canonical']/@href"),
]
_BEFORE_JSON_LD = XPath("//script[@type='application/ld+json']/text()")
_BEFORE_ARTICLE = CSSSelector("article.t-content")
_BEFORE_BREADCRUMB = CSSSelector(".m-breadcrumb__list__item__link, .m-breadcrumb a")
_TEXT_STRING = ".//text()[not(ancestor::script or ancestor::style)]"


def applied_changes(pages: list[Page]) -> dict[str, tuple[float, float]]:
    """(before, now) milliseconds per page of each change applied after the first profile.

    Each side runs over all the pages in its own loop, the parse first (trees built
    and dropped), then the selectors on trees parsed once.
    """
    results: dict[str, tuple[float, float]] = {}

    def race(
        name: str, before: Callable[[Any], Any], now: Callable[[Any], Any], inputs: list[Any]
    ) -> None:
        timings = []
        for function in (before, now):
            start = time.perf_counter()
            for value in inputs:
                function(value)
            timings.append((time.perf_counter() - start) / len(inputs) * 1000)
        results[name] = (timings[0], timings[1])

    race(
        "parse: response.selector (decode, re-encode, lxml.html) -> parse_html(bytes)",
        lambda p: HtmlResponse(url=p.article.url, body=p.body).selector.root,
        lambda p: parse_html(p.body, HtmlResponse(url=p.article.url, body=p.body).encoding),
        pages,
    )
    roots = [parse_html(p.body, "utf-8") for p in pages]
    race(
        "meta + canonical: //meta, //link from the root -> the head's children",
        lambda r: [f(r) for f in _BEFORE_META],
        lambda r: (ArticlePage(r, "").meta, selectors.CANONICAL(r)),
        roots,
    )  # fmt: skip
    race(
        "article + JSON-LD: two root searches -> one walk (ArticlePage._landmarks)",
        lambda r: (_BEFORE_ARTICLE(r), _BEFORE_JSON_LD(r)),
        lambda r: ArticlePage(r, "")._landmarks,
        roots,
    )
    race(
        "breadcrumb: CSS from the root on every page -> XPath, only when needed",
        lambda r: _BEFORE_BREADCRUMB(r),
        lambda r: None,  # sections() reads it only when no other source has the section
        roots,
    )
    articles = [ArticlePage(r, "").scope for r in roots]
    race(
        "text of an element: XPath string compiled per call -> selectors.TEXT",
        lambda a: [e.xpath(_TEXT_STRING) for e in a.iter("h1", "p")],
        lambda a: [selectors.TEXT(e) for e in a.iter("h1", "p")],
        articles,
    )
    return results


def profile_extraction(pages: int, out: Path) -> None:
    site = BenchSite(max(pages, 9))
    sample = [site.page(i) for i in sample_indices(site, pages)]
    for page in sample[:3]:  # warm-up
        load_article(extract_view(page), crawled_at=CRAWLED_AT)

    print(f"## Stages of parse_article ({len(sample)} padded pages, ms per page)\n")
    for name, ms in stage_times(sample).items():
        print(f"{ms:8.3f}  {name}")

    with census_of_selectors() as census:
        for page in sample:
            load_article(extract_view(page), crawled_at=CRAWLED_AT)
    print("\n## Changes applied, timed on the same pages (ms per page: before -> now)\n")
    for name, (before, now) in applied_changes(sample).items():
        print(f"{before:7.3f} -> {now:7.3f}  {name}")

    print("\n## Selectors (per page: calls, of which from the root, ms)\n")
    count = len(sample)
    for name, seconds in census.seconds.most_common():
        print(
            f"{census.calls[name] / count:6.1f} calls  {census.from_root[name] / count:5.1f} "
            f"from root  {seconds / count * 1000:7.3f} ms  {name}"
        )
    total = sum(census.seconds.values()) / count * 1000
    roots = sum(census.from_root.values()) / count
    print(f"\n{total:.3f} ms per page in selectors; {roots:.1f} full-tree traversals per page")

    from pyinstrument import Profiler  # profiling only

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(3):
        for page in sample:
            load_article(extract_view(page), CRAWLED_AT)
    profiler.stop()
    out.mkdir(parents=True, exist_ok=True)
    report = out / "extraction-pyinstrument.txt"
    report.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    print(f"\npyinstrument profile: {report}")


def extract_view(page: Page) -> ArticlePage:
    """What ``parse_article`` builds from a response."""
    response = HtmlResponse(url=page.article.url, body=page.body, headers=HEADERS)
    view = ArticlePage.from_response(response, page.article.url)
    assert view is not None
    return view


# --- crawl -------------------------------------------------------------------

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def frame_key(frame: str) -> str:
    """``function (package/module.py)``: line numbers and site-packages prefixes dropped."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match.group("file")
    for marker in ("site-packages/", "/lib/python3", "/work/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    path = re.sub(r"^wt-\d+/", "", path)
    return f"{match.group('function')} ({path})"


def summarize_stacks(raw: Path, top: int = 45) -> str:
    """Inclusive and self shares of py-spy's collapsed stacks, by function."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        count = int(match.group("count"))
        frames = [frame_key(f) for f in match.group("stack").split(";")]
        total += count
        for key in set(frames):
            inclusive[key] += count
        own[frames[-1]] += count
    lines = [f"{total} samples", "", "inclusive share, by function:"]
    lines += [f"{n / total * 100:6.1f}%  {key}" for key, n in inclusive.most_common(top)]
    project = [(k, n) for k, n in inclusive.items() if "rfi_spider/" in k]
    lines += ["", "project functions (inclusive):"]
    lines += [
        f"{n / total * 100:6.1f}%  {key}" for key, n in sorted(project, key=lambda kv: -kv[1])[:top]
    ]
    lines += ["", "self share, by function:"]
    lines += [f"{n / total * 100:6.1f}%  {key}" for key, n in own.most_common(top)]
    return "\n".join(lines)


def profile_crawl(pages: int, out: Path, rate: int) -> None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        sys.exit("py-spy is not installed (pip install -r requirements.txt)")
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "crawl-py-spy.txt"
    site = BenchSite(pages)
    workdir = Path(tempfile.mkdtemp(prefix="rfi-profile-"))
    prefix = (spy, "record", "--rate", str(rate), "--format", "raw", "-o", str(raw), "--")
    try:
        with serve(pages) as base_url:
            run = crawl_project(base_url, site, workdir, "project", {}, prefix=prefix)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"crawl of {pages} pages: exit {run.returncode}, {run.wall_seconds:.1f} s under py-spy")
    summary = summarize_stacks(raw)
    (out / "crawl-summary.txt").write_text(summary, encoding="utf-8")
    print(summary)
    print(f"\nraw stacks: {raw}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling")
    parser.add_argument("what", choices=["extraction", "crawl"])
    parser.add_argument("--pages", type=int, help="extraction: 50 pages; crawl: 1000")
    parser.add_argument("--out", type=Path, default=Path("output/profile"), help="reports")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    args = parser.parse_args(argv)
    if args.what == "extraction":
        profile_extraction(args.pages or 50, args.out)
    else:
        profile_crawl(args.pages or 1000, args.out, args.rate)


if __name__ == "__main__":
    main()
