"""The settings read once (rfi_spider/config.py): every RFI_* setting declared, typed and
checked; a bad value is one ConfigError that names it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from scrapy.settings import Settings

from rfi_spider import settings as project_settings
from rfi_spider.config import MIN_WARC_MAX_SIZE, ConfigError, RfiSettings


def project(**overrides: object) -> Settings:
    """The project's settings, with ``overrides`` as ``-s NAME=value`` gives them."""
    settings = Settings(
        {n: getattr(project_settings, n) for n in dir(project_settings) if n.isupper()}
    )
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


def test_every_rfi_setting_of_settings_py_is_declared_once() -> None:
    declared = RfiSettings.setting_names()
    assert len(declared) == len(set(declared))
    in_settings = {n for n in dir(project_settings) if n.startswith("RFI_")}
    assert set(declared) == in_settings, "declare each new RFI_* setting in rfi_spider/config.py"


def test_the_project_defaults_pass_typed() -> None:
    config = RfiSettings.from_settings(project())
    assert config.output_dir == Path("output")
    assert config.state_dir == Path("output/.state")
    assert config.max_attempts == 3
    assert config.warc_max_size == 1024**3
    assert config.warc_gzip_level == 6
    assert config.extract_workers is None
    assert config.sections is None  # unset: the edition's own
    assert dict(config.qa_min_coverage) == {"lead_image": 0.5, "summary": 0.5}
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_attempts = 1  # type: ignore[misc]


def test_values_as_the_command_line_gives_them() -> None:
    config = RfiSettings.from_settings(
        project(
            RFI_OUTPUT_DIR="/tmp/out",
            RFI_MAX_ATTEMPTS="1",
            RFI_EXTRACT_WORKERS="0",
            RFI_WARC="False",
            RFI_SECTIONS="",
            RFI_MIRRORS=" https://a.example/f , ",
            RFI_QA_MIN_COVERAGE='{"summary": 1}',
            RFI_BACKOFF_START="0.05",
            RFI_WARC_PREFIX="node-1.a",
            RFI_WARC_MAX_SIZE=str(MIN_WARC_MAX_SIZE),
            RFI_WARC_GZIP_LEVEL="0",
        )
    )
    assert config.state_dir == Path("/tmp/out/.state")
    assert (config.max_attempts, config.extract_workers, config.warc) == (1, 0, False)
    assert config.sections == ()  # set empty: none
    assert config.mirrors == ("https://a.example/f",)
    assert dict(config.qa_min_coverage) == {"summary": 1.0}
    assert config.backoff_start == 0.05
    assert config.warc_prefix == "node-1.a"
    assert config.warc_gzip_level == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RFI_STATE_CACHE_KIB", "-1"),
        ("RFI_STATE_CACHE_KIB", "abc"),
        ("RFI_STATE_CACHE_KIB", "1.5"),
        ("RFI_STATE_MMAP_MIB", "-5"),
        ("RFI_STATE_BATCH", "0"),
        ("RFI_STATE_BATCH_SECONDS", "-1"),
        ("RFI_ARCHIVE_DB_BATCH", "0"),
        ("RFI_ARCHIVE_DB", "maybe"),
        ("RFI_EXTRACT_WORKERS", "-1"),
        ("RFI_EXTRACT_WORKERS", "two"),
        ("RFI_MAX_ATTEMPTS", "0"),
        ("RFI_MAX_ATTEMPTS", "-3"),
        ("RFI_WARC_MAX_SIZE", str(MIN_WARC_MAX_SIZE - 1)),
        ("RFI_WARC_MAX_SIZE", "-1"),
        ("RFI_WARC_GZIP_LEVEL", "10"),
        ("RFI_WARC_GZIP_LEVEL", "-1"),
        ("RFI_WARC_GZIP_LEVEL", "six"),
        ("RFI_WARC_GZIP_LEVEL", "6.5"),
        ("RFI_WARC_PREFIX", "a/b"),
        ("RFI_WARC_PREFIX", "../x"),
        ("RFI_WARC_PREFIX", ".."),
        ("RFI_WARC_PREFIX", "a\\b"),
        ("RFI_WARC_PREFIX", "a\x00b"),
        ("RFI_SITEMAP_MAX_BYTES", "-1"),
        ("RFI_SITEMAP_MAX_CHILDREN", "-1"),
        ("RFI_SITEMAP_MAX_CHILDREN", "many"),
        ("RFI_SITEMAP_CONTENTS", r"contents_(\d{6})\.xml$"),  # no group "month"
        ("RFI_SITEMAP_CONTENTS", "contents_("),
        ("RFI_MIRROR_MAX_BYTES", "0"),
        ("RFI_MIRROR_MAX_ENTRIES", "-1"),
        ("RFI_ARTICLE_WINDOW", "0"),
        ("RFI_LISTING_DEPTH", "-1"),
        ("RFI_QA_MAX_LINE_BYTES", "0"),
        ("RFI_QA_MIN_COVERAGE", "not json"),
        ("RFI_QA_MIN_COVERAGE", "[1, 2]"),
        ("RFI_QA_MIN_COVERAGE", '{"summary": 2}'),
        ("RFI_QA_MIN_COVERAGE", '{"summary": "half"}'),
        ("RFI_QA_MAX_BLOCKED_SHARE", "1.5"),
        ("RFI_QA_MAX_SITEMAP_MISSING", "nan"),
        ("RFI_QA_MIN_ITEMS", "-1"),
        ("RFI_BROWSER_TIMEOUT", "0"),
        ("RFI_BACKOFF_START", "inf"),
        ("RFI_REDIS_TIMEOUT", "-1"),
        ("RFI_ALERT_TIMEOUT", "soon"),
        ("RFI_ATOM_LATEST", "0"),
        ("RFI_BLOCKED_CLOSE_MINUTES", "-1"),
        ("RFI_FSYNC", "maybe"),
        ("RFI_SITEMAPS", "yes"),
        ("RFI_OUTPUT_DIR", "out\x00put"),
    ],
)
def test_a_bad_value_is_one_error_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        RfiSettings.from_settings(project(**{name: value}))
    message = str(raised.value)
    assert message.startswith(name)
    assert "\n" not in message and "\x00" not in message


def test_a_secret_setting_is_never_shown() -> None:
    config = RfiSettings.from_settings(
        project(RFI_ALERT_WEBHOOK_URL="https://hooks.example/T0/s3cret")
    )
    assert "s3cret" not in repr(config)
    assert config.alert_webhook_url == "https://hooks.example/T0/s3cret"
    with pytest.raises(ConfigError) as raised:
        RfiSettings.from_settings(project(RFI_ALERT_WEBHOOK_EXTRA='{"chat_id": "s3cret"'))
    assert "s3cret" not in str(raised.value)
