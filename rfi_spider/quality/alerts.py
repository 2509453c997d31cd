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
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from spidermon.core.actions import Action
from spidermon.core.factories import ActionFactory

from rfi_spider.config import RfiSettings

# The message and its counters are alert_message's (email_alert's too); named here as before.
from rfi_spider.quality.alert_message import AlertError as AlertError
from rfi_spider.quality.alert_message import alert_text, count_alert
from rfi_spider.quality.alert_message import monitor_statuses as monitor_statuses

logger = logging.getLogger(__name__)

# The finish reason of a crawl the blocking watch closed.
BLOCKED = "blocked"


def __getattr__(name: str) -> Any:
    """``SendSmtpEmail`` lives in ``email_alert``, imported when first asked for: Spidermon's
    email action imports premailer, requests and jinja2 (about 0.2 s of the crawl's main
    thread at the spider's opening, issue 26), which a crawl that sends no email needs not."""
    if name == "SendSmtpEmail":
        from rfi_spider.quality.email_alert import SendSmtpEmail

        return SendSmtpEmail
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Notification(Action):
    """A notification: counts ``rfi/alerts/sent|failed/<kind>``; a failure is a warning."""

    kind = "notification"

    def run_action(self) -> None:
        try:
            self.send(alert_text(self.result, self.data))
        except Exception as error:
            count_alert(self.data, f"rfi/alerts/failed/{self.kind}")
            logger.warning("%s notification not sent: %s", self.kind, error)
            raise
        count_alert(self.data, f"rfi/alerts/sent/{self.kind}")
        logger.info("%s notification sent", self.kind)

    def send(self, text: str) -> None:
        raise NotImplementedError


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
        from rfi_spider.quality.email_alert import SendSmtpEmail

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
