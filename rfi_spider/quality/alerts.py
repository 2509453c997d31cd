"""Spidermon actions: notifications of failed monitors, the results in the stats, and the
closing of a spider the site blocks.

Notifications are configured by settings only (``configured_notifications``); none by
default. Each sends one plain-text message (:func:`alert_text`) naming every failed
monitor and why:

- **email** when ``SPIDERMON_EMAIL_TO`` is set: Spidermon's ``SendEmail`` (its settings:
  ``SPIDERMON_EMAIL_SENDER``, ``SPIDERMON_EMAIL_SUBJECT``, ``SPIDERMON_SMTP_HOST`` …) sent
  with the standard library's ``smtplib``: a login only when ``SPIDERMON_SMTP_USER`` is
  set (a local relay needs none), and sent before the crawl process ends;
- **webhook** when ``RFI_ALERT_WEBHOOK_URL`` is set: a JSON POST ``{"text": ...}`` (Slack
  and Mattermost incoming webhooks), with ``RFI_ALERT_WEBHOOK_EXTRA`` merged in (a
  Telegram bot's ``sendMessage`` wants ``{"chat_id": ...}``);
- any other Spidermon action, by its dotted path in ``RFI_ALERT_ACTIONS``.

A notification that cannot be sent is a warning and ``rfi/alerts/failed/<kind>``, never
a crash; one sent counts ``rfi/alerts/sent/<kind>``.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from spidermon.contrib.actions.email import SendEmail
from spidermon.core.actions import Action
from spidermon.core.factories import ActionFactory

from rfi_spider.config import RfiSettings

logger = logging.getLogger(__name__)

# The finish reason of a crawl the blocking watch closed.
BLOCKED = "blocked"
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


def _count(data: Any, key: str) -> None:
    crawler = data.get("crawler")
    if crawler is not None and crawler.stats is not None:
        crawler.stats.inc_value(key)


class _Notification(Action):
    """A notification: counts ``rfi/alerts/sent|failed/<kind>``; a failure is a warning."""

    kind = "notification"

    def run_action(self) -> None:
        try:
            self.send(alert_text(self.result, self.data))
        except Exception as error:
            _count(self.data, f"rfi/alerts/failed/{self.kind}")
            logger.warning("%s notification not sent: %s", self.kind, error)
            raise
        _count(self.data, f"rfi/alerts/sent/{self.kind}")
        logger.info("%s notification sent", self.kind)

    def send(self, text: str) -> None:
        raise NotImplementedError


class SendSmtpEmail(SendEmail):
    """Spidermon's email action, sent through ``smtplib`` (login only with a user)."""

    body_html_template = None  # plain text unless SPIDERMON_BODY_HTML(_TEMPLATE) is set
    kind = "email"

    def __init__(
        self,
        *args: Any,
        smtp_host: str = "localhost",
        smtp_port: int = 0,
        smtp_user: str | None = None,
        smtp_password: str | None = None,
        smtp_tls: bool = False,
        smtp_ssl: bool = False,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port or (465 if smtp_ssl else 25)
        self.smtp_user = smtp_user
        self.smtp_password = smtp_password or ""
        self.smtp_tls = smtp_tls
        self.smtp_ssl = smtp_ssl
        self.timeout = timeout

    @classmethod
    def from_crawler_kwargs(cls, crawler: Any) -> dict[str, Any]:
        settings = crawler.settings
        kwargs = super().from_crawler_kwargs(crawler)
        kwargs["subject"] = kwargs.get("subject") or DEFAULT_SUBJECT
        kwargs["sender"] = kwargs.get("sender") or DEFAULT_SENDER
        bodies = ("body_text", "body_text_template", "body_html", "body_html_template")
        if not any(kwargs.get(name) for name in bodies):
            kwargs["body_text"] = DEFAULT_BODY
        kwargs.update(
            smtp_host=settings.get("SPIDERMON_SMTP_HOST") or "localhost",
            smtp_port=settings.getint("SPIDERMON_SMTP_PORT"),
            smtp_user=settings.get("SPIDERMON_SMTP_USER") or None,
            smtp_password=settings.get("SPIDERMON_SMTP_PASSWORD") or None,
            smtp_tls=settings.getbool("SPIDERMON_SMTP_ENFORCE_TLS"),
            smtp_ssl=settings.getbool("SPIDERMON_SMTP_ENFORCE_SSL"),
            timeout=RfiSettings.of(crawler).alert_timeout,
        )
        return kwargs

    def get_template_context(self) -> dict[str, Any]:
        return {**super().get_template_context(), "alert_text": alert_text(self.result, self.data)}

    def run_action(self) -> None:
        try:
            super().run_action()
        except Exception as error:
            _count(self.data, f"rfi/alerts/failed/{self.kind}")
            logger.warning(
                "email notification to %s via %s:%s not sent: %s",
                ", ".join(self.to),
                self.smtp_host,
                self.smtp_port,
                error,
            )
            raise AlertError(f"email via {self.smtp_host}:{self.smtp_port}: {error}") from None
        if not self.fake:
            _count(self.data, f"rfi/alerts/sent/{self.kind}")
            logger.info("email notification sent to %s", ", ".join(self.to))

    def send_message(self, message: Message, **kwargs: Any) -> None:
        smtp_class = smtplib.SMTP_SSL if self.smtp_ssl else smtplib.SMTP
        context = ssl.create_default_context()
        options: dict[str, Any] = {"timeout": self.timeout}
        if self.smtp_ssl:
            options["context"] = context
        with smtp_class(self.smtp_host, self.smtp_port, **options) as smtp:
            if self.smtp_tls and not self.smtp_ssl:
                smtp.starttls(context=context)
            if self.smtp_user:
                smtp.login(self.smtp_user, self.smtp_password)
            recipients = [*self.to, *(self.cc or []), *(self.bcc or [])]
            smtp.send_message(message, from_addr=self.sender, to_addrs=recipients)


class SendWebhook(_Notification):
    """POST ``{"text": message, **RFI_ALERT_WEBHOOK_EXTRA}`` as JSON to the webhook URL."""

    kind = "webhook"

    def __init__(self, url: str, extra: dict[str, Any] | None = None, timeout: float = 10.0):
        super().__init__()
        self.url = url
        self.extra = extra or {}
        self.timeout = timeout

    @classmethod
    def from_crawler_kwargs(cls, crawler: Any) -> dict[str, Any]:
        config = RfiSettings.of(crawler)
        return {
            "url": config.alert_webhook_url,
            "extra": dict(config.alert_webhook_extra),
            "timeout": config.alert_timeout,
        }

    def send(self, text: str) -> None:
        # The URL of a Slack or Telegram webhook holds its secret: messages name the host only.
        host = webhook_host(self.url)
        body = json.dumps({**self.extra, "text": text}, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise AlertError(f"webhook at {host} answered HTTP {error.code}") from None
        except (ValueError, http.client.HTTPException) as error:
            # Their message quotes the URL's path, the webhook's secret: the type only.
            raise AlertError(f"webhook at {host}: URL refused ({type(error).__name__})") from None
        except OSError as error:
            reason = getattr(error, "reason", error)
            raise AlertError(f"webhook at {host} not reached: {reason}") from None
        if not 200 <= status < 300:
            raise AlertError(f"webhook at {host} answered HTTP {status}")


def webhook_host(url: str) -> str:
    """The host of a webhook URL, the only part of it a message may name."""
    try:
        return urlsplit(url).hostname or "(no host)"
    except ValueError:
        return "(not a valid URL)"


def webhook_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook's (None when it can), naming none of its secret
    parts: its path, query and user info (a Slack or Telegram token)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        return "RFI_ALERT_WEBHOOK_URL is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "RFI_ALERT_WEBHOOK_URL is not an http(s) URL"
    if not parts.hostname:
        return "RFI_ALERT_WEBHOOK_URL has no host"
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return f"RFI_ALERT_WEBHOOK_URL (host {parts.hostname}) holds a space or a control character"
    return None


def configured_notifications(crawler: Any) -> list[Action]:
    """The notifications the crawler's settings ask for, in order: email, webhook, others.

    One that is misconfigured (a bad URL, an action that is not there or says it lacks a
    setting) is left out with an error line and ``rfi/alerts/not_configured``: the crawl
    goes on, with the others."""
    settings = crawler.settings
    wanted: list[Any] = []
    if settings.getlist("SPIDERMON_EMAIL_TO"):
        wanted.append(SendSmtpEmail)
    config = RfiSettings.of(crawler)
    url = config.alert_webhook_url
    if url:
        problem = webhook_problem(str(url))
        if problem is None:
            wanted.append(SendWebhook)
        else:
            _not_configured(crawler, "webhook", problem)
    wanted += config.alert_actions
    actions = []
    for action in wanted:
        try:
            action_class = load_object(action) if isinstance(action, str) else action
            actions.append(ActionFactory.load_action(action_class, crawler=crawler))
        except Exception as error:  # a missing module, a missing setting: say which
            _not_configured(crawler, str(getattr(action, "__name__", action)), str(error))
    return actions


def _not_configured(crawler: Any, name: str, why: str) -> None:
    logger.error("notification %s not configured, left out: %s", name, why)
    if crawler.stats is not None:
        crawler.stats.inc_value("rfi/alerts/not_configured")


class RecordResults(Action):
    """Each monitor's status in the stats: ``rfi/monitors/<name>`` (``field_coverage``, …)
    and the counts ``rfi/monitors/passed``, ``…/failed``, ``…/skipped``."""

    def run_action(self) -> None:
        stats = self.data.crawler.stats
        statuses = monitor_statuses(self.result)
        for status in ("passed", "failed", "skipped"):
            stats.set_value(f"rfi/monitors/{status}", sum(s == status for s in statuses.values()))
        for name, status in statuses.items():
            stats.set_value(f"rfi/monitors/{name.replace(' ', '_')}", status)


class CloseSpiderBlocked(Action):
    """Closes the spider with the finish reason ``blocked``."""

    def run_action(self) -> None:
        crawler = self.data.crawler
        engine = getattr(crawler, "engine", None)
        if engine is None or engine.spider is None:
            return
        minutes = RfiSettings.of(crawler).blocked_close_minutes
        logger.error(
            "the site answered nothing but blocks for %g minutes: closing the spider (%s)",
            minutes,
            BLOCKED,
        )
        crawler.stats.inc_value("rfi/blocked_watch/closed")
        deferred_from_coro(engine.close_spider_async(reason=BLOCKED))
