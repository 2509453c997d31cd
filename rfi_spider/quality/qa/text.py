"""QA's report as text for the terminal (``scrapy qa``): the summary tables, the
findings by kind, the edited articles, the sitemaps' coverage, the given-up articles
and the verdict."""

from __future__ import annotations

from rfi_spider.quality.qa.report import ITEMS_FILE, KINDS, TEXT_MAX_DAYS, Report, readable, visible
from rfi_spider.quality.sitemap_coverage import SitemapCoverage


# --- text report ---------------------------------------------------------------
def bar(count: int, most: int, width: int = 30) -> str:
    return "#" * max(1 if count else 0, round(width * count / most)) if most else ""


def render_text(report: Report, limit: int | None = 20) -> str:
    """The report for a terminal: source, tables, then the problems and the verdict."""
    out = [f"QA of {visible(str(report.root))}"]
    if report.has_items_file:
        latest = " (each article once: its latest version)" if report.edited else ""
        out.append(f"  {ITEMS_FILE}: {report.lines} lines, {len(report.records)} items{latest}")
    else:
        out.append(f"  no {ITEMS_FILE}: counting the seed-style files")
    out.append(f"  seed-style files: {report.files} under {visible(report.files_root)}/")
    out.append("")
    total = len(report.records)
    out.append(f"Field coverage ({total} {report.counted})")
    width = max(len(name) for name in report.fields)
    for name, filled, count in report.coverage():
        share = f"{filled / count:.0%}" if count else "-"
        out.append(f"  {name:<{width}}  {filled:>6}  {share:>4}")
    out.append("")
    unit, rows = report.timeline(TEXT_MAX_DAYS)
    out.append(f"Articles per {unit} (publication date, Paris time)")
    most = max((n for _, n in rows), default=0)
    out.extend(f"  {label:<10}  {count:>5}  {bar(count, most)}" for label, count in rows)
    if not rows:
        out.append("  (no dates)")
    out.append("")
    out.append("Sources")
    for source, count in report.sources():
        out.append(f"  {visible(source):<20}  {count:>6}")
    warning = report.mirror_warning()
    if warning:
        out.append(visible(warning))
    out.append("")
    if report.has_items_file:
        out.extend(edited_lines(report, limit))
        out.append("")
    out.extend(given_up_lines(report, limit))
    if report.sitemaps is not None:
        out.extend(render_sitemaps(report.sitemaps, limit))
        out.append("")
    groups = report.by_kind()
    if not groups:
        out.append("Problems: none")
    for kind, found in groups.items():
        out.append(f"Problems: {KINDS.get(kind, kind)} ({len(found)})")
        shown = found if limit is None else found[:limit]
        out.extend(f"  {finding}" for finding in shown)
        if len(found) > len(shown):
            out.append(f"  ... and {len(found) - len(shown)} more (--all shows every one)")
    out.append("")
    out.append(verdict(report))
    return "\n".join(out) + "\n"


SITEMAPS_HEADING = "Coverage against the site's sitemaps"


# Over this many months, the terminal shows only the months with articles missing.
TEXT_MAX_MONTHS = 24


def render_sitemaps(coverage: SitemapCoverage, limit: int | None = 20) -> list[str]:
    """The coverage section's lines: one line when nothing was compared, else listed,
    archived and missing per month, then the missing URLs with their causes."""
    if coverage.note or coverage.error:
        return [f"{SITEMAPS_HEADING}: {visible(coverage.note or coverage.error or '')}"]
    out = [f"{SITEMAPS_HEADING} (state: {visible(str(coverage.state_dir))})"]
    out.append(f"  {'month':<10}  {'listed':>7}  {'archived':>8}  {'missing':>7}")
    months = coverage.months
    if limit is not None and len(months) > TEXT_MAX_MONTHS:
        months = [m for m in months if m.missing]
    for month in [*months, coverage.totals()]:
        mark = "  <" if month.missing and month.month != "total" else ""
        out.append(
            f"  {visible(month.month):<10}  {month.listed:>7}  {month.archived:>8}"
            f"  {month.missing:>7}{mark}"
        )
    if len(months) < len(coverage.months):
        hidden = len(coverage.months) - len(months)
        out.append(f"  ({hidden} months with nothing missing not shown; --all shows them)")
    missing = coverage.missing
    if missing:
        out.append(f"  Missing from the archive ({len(missing)})")
        shown = missing if limit is None else missing[:limit]
        out.extend(
            f"    {visible(m.month):<10}  {visible(readable(m.url))}  {visible(m.cause)}"
            for m in shown
        )
        if len(missing) > len(shown):
            out.append(f"    ... and {len(missing) - len(shown)} more (--all shows every one)")
    return out


EDITED_HEADING = "Edited articles"


def edited_summary(report: Report) -> str:
    """How many articles have more than one version, of how many."""
    count, total = len(report.edited), len(report.articles)
    if not count:
        return f"{EDITED_HEADING}: none (no article has more than one version)"
    have = "has" if count == 1 else "have"
    return f"{EDITED_HEADING}: {count} of {total} articles {have} more than one version"


def edited_lines(report: Report, limit: int | None) -> list[str]:
    """The edited-articles section: the count, then each article's URL, versions, title."""
    out = [edited_summary(report)]
    shown = report.edited if limit is None else report.edited[:limit]
    for history in shown:
        title = visible(report.articles.get(history.key, ("", None))[0])
        count = len(history.versions)
        out.append(f"  {visible(readable(history.key))}  {count} versions  {title}")
    if len(report.edited) > len(shown):
        out.append(f"  ... and {len(report.edited) - len(shown)} more (--all shows every one)")
    return out


def given_up_lines(report: Report, limit: int | None) -> list[str]:
    """The given-up articles (URL, attempts, last cause), a blank line after; none: no lines."""
    out: list[str] = []
    warning = report.given_up_warning()
    if warning:
        out.append(warning)
        shown = report.given_up if limit is None else report.given_up[:limit]
        width = max(len(str(r.attempts)) for r in shown)
        out.extend(
            f"  {visible(readable(r.url))}  {r.attempts:>{width}} attempt{'s' * (r.attempts != 1)}"
            f"  {visible(r.cause)}"
            for r in shown
        )
        if len(report.given_up) > len(shown):
            more = len(report.given_up) - len(shown)
            out.append(f"  ... and {more} more (--all shows every one)")
    if report.retrying:
        out.append(
            f"{report.retrying} other failed article{'s' * (report.retrying != 1)}"
            " will be tried again by the next crawl"
        )
    if out:
        out.append("")
    return out


def verdict(report: Report) -> str:
    if report.ok:
        return f"QA passed: {len(report.records)} {report.counted}, no problems."
    counts = ", ".join(f"{len(found)} {kind}" for kind, found in report.by_kind().items())
    problems = "problem" if len(report.findings) == 1 else "problems"
    return f"QA FAILED: {len(report.findings)} {problems} ({counts})."
