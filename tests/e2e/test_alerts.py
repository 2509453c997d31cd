"""A failing monitor on a loopback crawl sends its notification, configured by settings
alone, to a local webhook and a local SMTP server; a passing crawl sends none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import alertsinks
import pytest
from conftest import run_crawl

from rfi_spider.demo.localsite import LocalSite

FAILING_CHECK = "items / enough articles seen"
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite.sample() as served:
        yield served


def alert_settings(hook: alertsinks.WebhookSink, mail: alertsinks.SmtpSink) -> dict[str, str]:
    return {
        "RFI_ALERT_WEBHOOK_URL": hook.url,
        "RFI_ALERT_WEBHOOK_EXTRA": '{"chat_id": "-100123"}',
        "SPIDERMON_EMAIL_TO": "ops@example.org,archive@example.org",
        "SPIDERMON_EMAIL_SENDER": "rfi-spider@example.org",
        "SPIDERMON_SMTP_HOST": "127.0.0.1",
        "SPIDERMON_SMTP_PORT": str(mail.port),
    }


def test_a_failing_monitor_notifies_the_webhook_and_by_email(
    site: LocalSite, tmp_path: Path
) -> None:
    with alertsinks.webhook() as hook, alertsinks.smtp() as mail:
        settings = {**alert_settings(hook, mail), "RFI_QA_MIN_ITEMS": "1000"}
        result = run_crawl(
            tmp_path / "out", f"base_url={site.url}", settings=settings, env=NO_PROXY
        )
    assert result.returncode == 0, result.log[-3000:]  # a failed monitor is no failed crawl
    assert len(result.items) == 7  # the listings' six and the news sitemap's
    assert "FAIL: items/enough articles seen" in result.log

    # The webhook: one JSON POST, Slack style, with the extra keys.
    (post,) = hook.posts
    assert hook.paths == ["/hooks/secret-token"]
    assert post["chat_id"] == "-100123"
    text = post["text"]
    assert text.startswith("rfi-spider rfi_cn: 1 of 6 monitors failed (finish reason finished)")
    assert f"FAILED {FAILING_CHECK}: 7 articles (7 exported, 0 already exported)," in text
    assert "need at least 1000" in text

    # The email: one message to both recipients, the failing check in subject and body.
    (message,) = mail.messages
    assert sorted(mail.recipients[0]) == ["archive@example.org", "ops@example.org"]
    assert message["From"] == "rfi-spider@example.org"
    assert message["Subject"] == "rfi-spider rfi_cn: failed items/enough articles seen"
    body = message.get_body(("plain",)).get_content()
    assert f"FAILED {FAILING_CHECK}" in body

    assert result.stat("rfi/alerts/sent/webhook") == 1
    assert result.stat("rfi/alerts/sent/email") == 1
    assert "secret-token" not in result.log  # the webhook URL's secret is never logged


def test_a_passing_crawl_sends_nothing(site: LocalSite, tmp_path: Path) -> None:
    with alertsinks.webhook() as hook, alertsinks.smtp() as mail:
        settings = alert_settings(hook, mail)
        result = run_crawl(
            tmp_path / "out", f"base_url={site.url}", settings=settings, env=NO_PROXY
        )
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("rfi/monitors/failed") == 0
    assert hook.posts == [] and mail.messages == []
    assert result.stat("rfi/alerts/sent/webhook") == 0


def test_an_unreachable_webhook_costs_a_warning_not_the_crawl(
    site: LocalSite, tmp_path: Path
) -> None:
    with alertsinks.webhook(status=500) as hook:
        settings = {"RFI_ALERT_WEBHOOK_URL": hook.url, "RFI_QA_MIN_ITEMS": "1000"}
        result = run_crawl(
            tmp_path / "out", f"base_url={site.url}", settings=settings, env=NO_PROXY
        )
    assert result.returncode == 0, result.log[-3000:]
    assert len(hook.posts) == 1
    assert "webhook notification not sent: webhook at 127.0.0.1 answered HTTP 500" in result.log
    assert result.stat("rfi/alerts/failed/webhook") == 1
    assert "secret-token" not in result.log
