"""The QA report as one self-contained web page: inline CSS and SVG, no script, no network.

Every value that comes from the archive goes through :func:`html.escape`, after
:func:`~rfi_spider.quality.qa.visible` (control, bidi and surrogate code points as escapes).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from rfi_spider.archive import versions_diff
from rfi_spider.archive.versions_read import History, Line
from rfi_spider.item_schema import always_filled
from rfi_spider.quality.qa.compare import Comparison
from rfi_spider.quality.qa.report import KINDS, Report, readable, visible
from rfi_spider.quality.qa.text import EDITED_HEADING, SITEMAPS_HEADING, edited_summary, verdict
from rfi_spider.quality.qa.versions import edited_items
from rfi_spider.quality.qa_charts import bar_chart, sitemap_chart
from rfi_spider.quality.qa_charts import escape_html as _e
from rfi_spider.quality.sitemap_coverage import SitemapCoverage

# Longer spans are charted per month.
HTML_MAX_DAYS = 731

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem;
       padding: 0 1rem; color: #1d2430; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d5dae1; }
.meta { color: #5b6472; margin-top: 0; }
.verdict { padding: .6rem 1rem; border-radius: 6px; font-weight: 600; }
.ok { background: #e3f4e8; color: #14532d; }
.failed { background: #fde8e8; color: #7f1d1d; }
.warning { padding: .6rem 1rem; border-radius: 6px; background: #fdf3e1; color: #7a4b00; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { padding: .25rem .7rem; border-bottom: 1px solid #e5e8ec; text-align: left;
         vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.where { font-family: ui-monospace, monospace; white-space: nowrap; }
td.msg { word-break: break-word; }
.meter { display: inline-block; height: .7rem; background: #3b6ea8; border-radius: 2px; }
.meter.low { background: #c0392b; }
svg { max-width: 100%; height: auto; }
svg .bar { fill: #3b6ea8; }
svg text { font: 11px system-ui, sans-serif; fill: #4a5361; }
svg .axis { stroke: #9aa3ae; }
svg .listed { fill: #e0a3a3; }
svg .archived { fill: #3b6ea8; }
.key { display: inline-block; width: .8rem; height: .8rem; vertical-align: middle; }
.key.listed { background: #e0a3a3; }
.key.archived { background: #3b6ea8; }
table.diff { width: 100%; table-layout: fixed; }
table.diff td { width: 46%; word-break: break-word; }
table.diff th.row { width: 8%; white-space: nowrap; }
del { background: #fde8e8; color: #7f1d1d; }
ins { background: #e3f4e8; color: #14532d; text-decoration: none; }
"""


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], css: Sequence[str] = ()) -> str:
    """A table; cells are HTML already (escape them first), ``css`` names each column's class."""
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        cells = (
            f'<td class="{css[i]}">{cell}</td>' if i < len(css) and css[i] else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def sitemaps_html(coverage: SitemapCoverage, limit: int | None = 20) -> str:
    """The coverage section: a line when nothing was compared; else the chart, the
    months' table and the missing URLs with their causes."""
    out = [f'<h2 id="sitemaps">{_e(SITEMAPS_HEADING)}</h2>']
    if coverage.note or coverage.error:
        out.append(f'<p id="sitemaps-note">{_e(coverage.note or coverage.error)}</p>')
        return "".join(out)
    out.append(
        f'<p class="meta">State: {_e(coverage.state_dir)}. '
        '<span class="key listed"></span> listed by the sitemaps, '
        '<span class="key archived"></span> in the archive.</p>'
    )
    out.append(sitemap_chart(coverage.months))
    rows = (
        (_e(m.month), str(m.listed), str(m.archived), str(m.missing))
        for m in [*coverage.months, coverage.totals()]
    )
    out.append(_table(("month", "listed", "archived", "missing"), rows, ("", "n", "n", "n")))
    missing = coverage.missing
    if missing:
        shown = missing if limit is None else missing[:limit]
        out.append(f"<h3>Missing from the archive ({len(missing)})</h3>")
        rows_html = [(_e(m.month), _e(readable(m.url)), _e(m.cause)) for m in shown]
        out.append(_table(("month", "URL", "cause"), rows_html, ("where", "msg", "msg")))
        if len(missing) > len(shown):
            out.append(f"<p>… and {len(missing) - len(shown)} more (run with --all).</p>")
    return "".join(out)


def comparison_html(comparison: Comparison, limit: int | None = 20) -> str:
    """The comparison section: counts, per day side by side, the articles only one has."""
    other = comparison.other
    differ = comparison.titles_differ()
    out = [
        f"<h2>Compared with {_e(other.root)}</h2>",
        _table(
            ("", "articles"),
            (
                ("in both", str(len(comparison.both))),
                ("titles differ", str(len(differ))),
                ("only in this archive", str(len(comparison.only_this))),
                ("only in the other", str(len(comparison.only_other))),
            ),
            ("", "n"),
        ),
    ]
    unit, rows = comparison.timeline(HTML_MAX_DAYS)
    out.append(
        _table(
            (unit, "this", "other"),
            ((_e(label), str(a), str(b)) for label, a, b in rows),
            ("", "n", "n"),
        )
    )
    for heading, keys, report in (
        ("Only in this archive", comparison.only_this, comparison.this),
        ("Only in the other", comparison.only_other, other),
        ("Titles that differ", differ, comparison.this),
    ):
        if not keys:
            continue
        shown = keys if limit is None else keys[:limit]
        out.append(f"<h3>{heading} ({len(keys)})</h3>")
        rows_html = [
            (_e(report.day_of(k)), _e(report.articles[k][0]), _e(readable(k))) for k in shown
        ]
        out.append(_table(("date", "title", "URL"), rows_html, ("where", "", "msg")))
        if len(keys) > len(shown):
            out.append(f"<p>… and {len(keys) - len(shown)} more (run with --all).</p>")
    return "".join(out)


def _version_head(line: Line) -> str:
    modified = f", modified {line.modified_at}" if line.modified_at else ""
    return f"version {line.version} (crawled {line.crawled_at or '-'}{modified})"


def diff_table(before: Line, after: Line, changes: versions_diff.ItemDiff) -> str:
    """Two versions side by side: a row per field and per paragraph that changed, what was
    there on the left (deletions in ``<del>``), what is there now on the right (``<ins>``)."""
    rows = []
    for name, spans in changes.fields.items():
        rows.append((name, spans))
    for row in changes.changed_rows:
        label = f"¶ {row.new if row.new is not None else row.old}"
        label += {"~": "", "+": " added", "-": " removed"}[row.kind]
        rows.append((label, row.spans))
    body = "".join(
        f'<tr><th class="row">{_e(label)}</th>'
        f"<td>{versions_diff.marked_html(spans, 'old', visible)}</td>"
        f"<td>{versions_diff.marked_html(spans, 'new', visible)}</td></tr>"
        for label, spans in rows
    )
    if not rows:
        body = '<tr><td colspan="3">No change to title, summary or paragraphs.</td></tr>'
    unchanged = len(changes.paragraphs) - len(changes.changed_rows)
    return (
        f'<table class="diff" data-from="{before.version}" data-to="{after.version}">'
        f'<thead><tr><th class="row"></th><th>{_e(_version_head(before))}</th>'
        f"<th>{_e(_version_head(after))}</th></tr></thead><tbody>{body}</tbody></table>"
        f'<p class="meta">{unchanged} paragraph{"s" * (unchanged != 1)} unchanged.</p>'
    )


def edited_html(report: Report, limit: int | None = 20) -> str:
    """The edited articles: how many; then, for each, every version against the one before,
    side by side."""
    out = [f'<h2 id="edited">{_e(EDITED_HEADING)} ({len(report.edited)})</h2>']
    out.append(f"<p>{_e(edited_summary(report))}.</p>")
    shown: list[History] = report.edited if limit is None else report.edited[:limit]
    items = edited_items(report, shown)
    for history in shown:
        title = report.articles.get(history.key, ("", None))[0]
        out.append(
            f'<section class="edited"><h3>{_e(title)}</h3>'
            f'<p class="meta">{_e(readable(history.key))}: {len(history.versions)} versions</p>'
        )
        for before, after in zip(history.versions, history.versions[1:], strict=False):
            old = items.get((before.source, before.number), {})
            new = items.get((after.source, after.number), {})
            out.append(diff_table(before, after, versions_diff.diff_items(old, new)))
        out.append("</section>")
    if len(report.edited) > len(shown):
        out.append(f"<p>… and {len(report.edited) - len(shown)} more (run with --all).</p>")
    return "".join(out)


def given_up_html(report: Report, limit: int | None = 20) -> str:
    """The articles the crawl gave up, as a warning and a table; none: nothing."""
    out = []
    warning = report.given_up_warning()
    if warning:
        shown = report.given_up if limit is None else report.given_up[:limit]
        rows = [(_e(readable(r.url)), str(r.attempts), _e(r.cause), _e(r.failed_at)) for r in shown]
        out += [
            f'<h2 id="given-up">Given-up articles ({len(report.given_up)})</h2>',
            f'<p class="warning">{_e(warning)}</p>',
            _table(("URL", "attempts", "last cause", "last failed"), rows, ("msg", "n", "msg", "")),
        ]
        if len(report.given_up) > len(shown):
            out.append(f"<p>… and {len(report.given_up) - len(shown)} more (run with --all).</p>")
    if report.retrying:
        retrying = f"{report.retrying} other failed article{'s' * (report.retrying != 1)}"
        out.append(f'<p id="retrying">{retrying} will be tried again by the next crawl.</p>')
    return "".join(out)


def _head_html(report: Report) -> list[str]:
    """The title, what was read, the verdict and the mirror warning."""
    status = "ok" if report.ok else "failed"
    source = (
        f"{report.lines} lines in items.jsonl, {len(report.records)} items"
        if report.has_items_file
        else "no items.jsonl: the seed-style files are counted"
    )
    head = [
        f"<h1>QA report: {_e(report.root)}</h1>",
        f'<p class="meta">{_e(source)}; {report.files} seed-style files under '
        f"{_e(report.files_root)}/; checked {_e(report.checked_at.isoformat(timespec='seconds'))}"
        "</p>",
        f'<p class="verdict {status}" id="verdict">{_e(verdict(report))}</p>',
    ]
    warning = report.mirror_warning()
    if warning:
        head.append(f'<p class="warning" id="mirror-warning">{_e(warning)}</p>')
    return head


def coverage_html(report: Report) -> str:
    """Each field's share of filled values, a meter each; a field every item must have
    that some lack shows in red."""
    rows = []
    must_have = always_filled()
    for name, filled, total in report.coverage():
        share = filled / total if total else 0.0
        low = " low" if name in must_have and filled < total else ""
        meter = f'<span class="meter{low}" style="width:{share * 12:.2f}rem"></span>'
        rows.append((_e(name), str(filled), f"{share:.0%}", meter))
    return f"<h2>Field coverage ({len(report.records)} {_e(report.counted)})</h2>" + _table(
        ("field", "filled", "share", ""), rows, ("", "n", "n", "")
    )


def problems_html(report: Report, limit: int | None = 20) -> str:
    """The problems found, a table per kind (at most ``limit`` rows each)."""
    body = ["<h2>Problems</h2>"]
    groups = report.by_kind()
    if not groups:
        body.append("<p>None.</p>")
    for kind, found in groups.items():
        shown = found if limit is None else found[:limit]
        heading = KINDS.get(kind, kind)
        body.append(f"<h3>{_e(heading[:1].upper() + heading[1:])} ({len(found)})</h3>")
        problems = [(_e(f.where), _e(f.message)) for f in shown]
        body.append(_table(("where", "problem"), problems, ("where", "msg")))
        if len(found) > len(shown):
            body.append(f"<p>… and {len(found) - len(shown)} more (run with --all).</p>")
    return "".join(body)


def render_html(
    report: Report, limit: int | None = 20, comparison: Comparison | None = None
) -> str:
    """The whole page."""
    body = _head_html(report)
    body.append(given_up_html(report, limit))
    unit, timeline = report.timeline(HTML_MAX_DAYS)
    body += [f"<h2>Articles per {unit}</h2>", bar_chart(timeline, unit)]
    body.append(coverage_html(report))
    body.append("<h2>Sources</h2>")
    body.append(
        _table(("source", "articles"), ((_e(s), str(n)) for s, n in report.sources()), ("", "n"))
    )
    if report.has_items_file:
        body.append(edited_html(report, limit))
    if report.sitemaps is not None:
        body.append(sitemaps_html(report.sitemaps, limit))
    body.append(problems_html(report, limit))
    if comparison is not None:
        body.append(comparison_html(comparison, limit))
    body.append(f"<h2>Articles per {unit}, as a table</h2>")
    body.append(_table((unit, "articles"), ((_e(k), str(n)) for k, n in timeline), ("", "n")))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        # Nothing may load from anywhere: the page is self-contained.
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>QA report: {_e(report.root)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def write(
    report: Report, target: Path, limit: int | None = 20, comparison: Comparison | None = None
) -> Path:
    """Write the page atomically (temporary file, then rename); returns its path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render_html(report, limit=limit, comparison=comparison))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
