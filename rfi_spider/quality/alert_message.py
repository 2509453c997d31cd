"""What a notification says: the text naming each failed monitor and why, the counters
of notifications sent and failed, and the email's defaults. Shared by ``alerts.py`` and
``email_alert.py`` (the email action, a module of its own imported only when an email
is configured).
"""

from __future__ import annotations

import os
from typing import Any

# Names each failed check: "rfi-spider rfi_cn: failed items/enough articles seen".
DEFAULT_SUBJECT = (
    "rfi-spider {{ data.spider.name }}: failed"
    " {{ result.monitors_failed_results|map(attribute='item.name')|join(', ') }}"
)
DEFAULT_SENDER = "rfi-spider@localhost"
# The body: alert_text() (SPIDERMON_BODY_TEXT may use {{ alert_text }} in its own).
DEFAULT_BODY = "{{ alert_text }}"


class AlertError(Exception):
    """A notification that could not be sent (its message names no secret)."""


def _status(statuses: list[str]) -> str:
    if any(s in ("FAIL", "ERROR") for s in statuses):
        return "failed"
    if all(s == "SKIPPED" for s in statuses):
        return "skipped"
    return "passed"


def monitor_statuses(result: Any) -> dict[str, str]:
    """Each monitor's status (``passed``, ``failed``, ``skipped``), from its checks'."""
    found: dict[str, list[str]] = {}
    for check in result.monitor_results:
        found.setdefault(check.item.monitor_name, []).append(check.status)
    return {name: _status(statuses) for name, statuses in found.items()}


def _reason(check: Any) -> str:
    if check.reason:
        return str(check.reason)
    lines = [line for line in str(check.error or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "failed"


def alert_text(result: Any, data: Any) -> str:
    """The message: the spider (and Scrapyd job), the finish reason, each failed check."""
    spider = getattr(data.get("spider"), "name", "rfi-spider")
    stats = data.get("stats") or {}
    job = os.environ.get("SCRAPY_JOB")
    failed = result.monitors_failed_results
    statuses = monitor_statuses(result)
    lines = [
        f"rfi-spider {spider}{f' job {job}' if job else ''}: "
        f"{sum(s == 'failed' for s in statuses.values())} of {len(statuses)} monitors failed"
        f" (finish reason {stats.get('finish_reason', 'none yet')!s})",
    ]
    lines += [f"FAILED {c.item.monitor_name} / {c.item.method_name}: {_reason(c)}" for c in failed]
    lines.append(
        f"exported {stats.get('rfi/exported', 0)}, found {stats.get('rfi/articles/found', 0)},"
        f" errors logged {stats.get('log_count/ERROR', 0)}"
    )
    return "\n".join(lines)


def count_alert(data: Any, key: str) -> None:
    crawler = data.get("crawler")
    if crawler is not None and crawler.stats is not None:
        crawler.stats.inc_value(key)
