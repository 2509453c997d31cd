"""Two archives side by side (``scrapy qa --compare``): the articles only one holds,
titles that differ, and the two timelines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from rfi_spider.quality.qa.report import (
    TEXT_MAX_DAYS,
    Report,
    _by_month,
    _same_text,
    readable,
    visible,
)


# --- two archives side by side ---------------------------------------------------
@dataclass
class Comparison:
    """Two archives' articles, matched by canonical URL: ``this`` (checked) and ``other``."""

    this: Report
    other: Report

    @property
    def both(self) -> list[str]:
        return _by_date(self.this.articles.keys() & self.other.articles.keys(), self.this)

    @property
    def only_this(self) -> list[str]:
        return _by_date(self.this.articles.keys() - self.other.articles.keys(), self.this)

    @property
    def only_other(self) -> list[str]:
        return _by_date(self.other.articles.keys() - self.this.articles.keys(), self.other)

    def titles_differ(self) -> list[str]:
        return [
            key
            for key in self.both
            if not _same_text(self.this.articles[key][0], self.other.articles[key][0])
        ]

    def timeline(self, max_days: int) -> tuple[str, list[tuple[str, int, int]]]:
        """Articles per day in each archive over both spans; per month past ``max_days``."""
        this, other = dict(self.this.per_day()), dict(self.other.per_day())
        days = sorted(this.keys() | other.keys())
        if not days:
            return "day", []
        span = [date.fromordinal(n) for n in range(days[0].toordinal(), days[-1].toordinal() + 1)]
        if len(span) <= max_days:
            return "day", [(d.isoformat(), this.get(d, 0), other.get(d, 0)) for d in span]
        a, b = dict(_by_month(this.items())), dict(_by_month(other.items()))
        return "month", [(m, a.get(m, 0), b.get(m, 0)) for m in sorted(a.keys() | b.keys())]


def _by_date(keys: Iterable[str], report: Report) -> list[str]:
    """Article URLs in order of publication, then URL."""
    return sorted(keys, key=lambda key: (report.articles[key][1] or "", key))


def render_comparison(comparison: Comparison, limit: int | None = 20) -> str:
    """The comparison for a terminal."""
    this, other = comparison.this, comparison.other
    count = len(other.articles)
    out = [
        f"Compared with {visible(str(other.root))}: {count} article{'s' * (count != 1)} "
        f"in its {other.counted}"
    ]
    differ = comparison.titles_differ()
    out.append(f"  in both:           {len(comparison.both)} (titles differ: {len(differ)})")
    out.append(f"  only in this one:  {len(comparison.only_this)}")
    out.append(f"  only in the other: {len(comparison.only_other)}")
    unit, rows = comparison.timeline(TEXT_MAX_DAYS)
    if rows:
        out.append("")
        out.append(f"  {unit:<10}  {'this':>6}  {'other':>6}")
        out.extend(
            f"  {label:<10}  {a:>6}  {b:>6}{'  <' if a != b else ''}" for label, a, b in rows
        )
    for heading, keys, report in (
        ("Only in this one", comparison.only_this, this),
        ("Only in the other", comparison.only_other, other),
        ("Titles that differ", differ, this),
    ):
        if not keys:
            continue
        out.append("")
        out.append(f"{heading} ({len(keys)})")
        shown = keys if limit is None else keys[:limit]
        for key in shown:
            title, url = visible(report.articles[key][0]), visible(readable(key))
            out.append(f"  {report.day_of(key):<10}  {title}  {url}")
        if len(keys) > len(shown):
            out.append(f"  ... and {len(keys) - len(shown)} more (--all shows every one)")
    return "\n".join(out) + "\n"
