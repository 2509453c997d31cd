"""The email notification (``SPIDERMON_EMAIL_TO``): Spidermon's ``SendEmail`` sent with the
standard library's ``smtplib`` (see ``alerts.py``, which names it).

A module of its own, imported only when an email is configured (or the class asked for):
Spidermon's email action imports premailer, requests and jinja2, about 0.2 s of CPU on
the crawl's main thread at the spider's opening that a crawl without email spent for
nothing (issue 26).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import Message
from typing import Any

from spidermon.contrib.actions.email import SendEmail

from rfi_spider.config import RfiSettings
from rfi_spider.quality.alert_message import (
    DEFAULT_BODY,
    DEFAULT_SENDER,
    DEFAULT_SUBJECT,
    AlertError,
    alert_text,
    count_alert,
)

# Its lines keep the name they had in alerts.py (the log's [name] stays the same).
logger = logging.getLogger("rfi_spider.quality.alerts")


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
            count_alert(self.data, f"rfi/alerts/failed/{self.kind}")
            logger.warning(
                "email notification to %s via %s:%s not sent: %s",
                ", ".join(self.to),
                self.smtp_host,
                self.smtp_port,
                error,
            )
            raise AlertError(f"email via {self.smtp_host}:{self.smtp_port}: {error}") from None
        if not self.fake:
            count_alert(self.data, f"rfi/alerts/sent/{self.kind}")
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
