"""The QA page's charts: inline SVG (no script, no network), every label escaped as the
page escapes its values (:func:`escape_html`)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from rfi_spider.quality.qa.report import visible
from rfi_spider.quality.sitemap_coverage import MonthCoverage


def escape_html(value: object) -> str:
    """A value from the archive as HTML text: visible code points, then escaped."""
    return escape(visible(str(value)), quote=True)


_e = escape_html


def bar_chart(
    rows: Sequence[tuple[str, int]], unit: str, width: int = 900, height: int = 260
) -> str:
    """An inline SVG bar chart of articles per day (or month): one ``rect.bar`` per row."""
    if not rows:
        return "<p>No dates to chart.</p>"
    left, right, top, bottom = 40, 10, 18, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    most = max(count for _, count in rows) or 1
    step = plot_w / len(rows)
    gap = min(2.0, step * 0.2)
    label_every = max(1, round(len(rows) / 12))
    one_year = rows[0][0][:4] == rows[-1][0][:4]  # then days are labelled MM-DD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="timeline-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>Articles per {_e(unit)}</title>",
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
        f'y2="{top + plot_h}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{most}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for index, (label, count) in enumerate(rows):
        bar_h = plot_h * count / most
        x, y = left + index * step, top + plot_h - bar_h
        parts.append(
            f'<rect class="bar" data-{_e(unit)}="{_e(label)}" data-count="{count}" '
            f'x="{x + gap / 2:.2f}" y="{y:.2f}" width="{max(step - gap, 0.5):.2f}" '
            f'height="{bar_h:.2f}"><title>{_e(label)}: {count}</title></rect>'
        )
        if step >= 24 and count:
            parts.append(
                f'<text x="{x + step / 2:.2f}" y="{y - 4:.2f}" text-anchor="middle">{count}</text>'
            )
        if index % label_every == 0:
            short = label[5:] if unit == "day" and one_year else label
            parts.append(
                f'<text x="{x + step / 2:.2f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle">{_e(short)}</text>'
            )
    span = f"{rows[0][0]} to {rows[-1][0]}, publication date, Paris time"
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">{_e(span)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def sitemap_chart(months: Sequence[MonthCoverage], width: int = 900, height: int = 260) -> str:
    """An inline SVG chart of listed against archived per month: each month's
    ``rect.listed`` (the sitemaps' count) with its ``rect.archived`` drawn over it, so
    that what is missing shows as the red above the blue."""
    left, right, top, bottom = 40, 10, 18, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    most = max((m.listed for m in months), default=0) or 1
    step = plot_w / max(len(months), 1)
    gap = min(2.0, step * 0.2)
    label_every = max(1, round(len(months) / 12))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="sitemap-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        "<title>Articles the sitemaps list (red) and the archive holds (blue), per month</title>",
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
        f'y2="{top + plot_h}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{most}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for index, month in enumerate(months):
        x = left + index * step + gap / 2
        bar_w = max(step - gap, 0.5)
        label = _e(month.month)
        tip = f"{label}: {month.listed} listed, {month.archived} archived, {month.missing} missing"
        for css, count in (("listed", month.listed), ("archived", month.archived)):
            bar_h = plot_h * count / most
            parts.append(
                f'<rect class="{css}" data-month="{label}" data-count="{count}" x="{x:.2f}" '
                f'y="{top + plot_h - bar_h:.2f}" width="{bar_w:.2f}" height="{bar_h:.2f}">'
                f"<title>{tip}</title></rect>"
            )
        if step >= 24 and month.missing:
            y = top + plot_h - plot_h * month.listed / most - 4
            parts.append(
                f'<text x="{x + bar_w / 2:.2f}" y="{y:.2f}" text-anchor="middle">'
                f"-{month.missing}</text>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.2f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle">{label}</text>'
            )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">'
        "month of the article (from its URL)</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
