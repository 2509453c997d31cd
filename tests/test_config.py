"""The settings read once (rfi_spider/config.py): every RFI_* setting declared, typed and
checked; a bad value is one ConfigError that names it."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import AsyncCrawlerRunner, Crawler, CrawlerRunner
from scrapy.settings import Settings
from scrapy.utils.reactor import is_reactor_installed
from scrapy.utils.test import get_reactor_settings

from rfi_spider import settings as project_settings
from rfi_spider.config import MIN_WARC_MAX_SIZE, ConfigError, RfiSettings
from rfi_spider.demo.sample_site import EDITION_SECTIONS
from rfi_spider.editions import CN, TW
from rfi_spider.fetch.warc_capture import WarcCapture
from rfi_spider.spiders.rfi_cn import RfiCnSpider


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


# --- read once: no other module reads an RFI_* setting ---------------------------------
PACKAGE = Path(__file__).resolve().parent.parent / "rfi_spider"
# The modules that name the settings: their declaration (settings.py) and their reader.
OWNERS = {"config.py", "settings.py"}
# A setting's whole name (or its prefix alone), as a string constant.
SETTING_NAME = re.compile(r"RFI_[A-Z0-9_]*")
# Settings' names other modules may write, never read: what a spider argument sets for
# the crawl (the replay of from_warc, the demo's sections), and the names log lines give
# a folder by. Each entry: module -> names (why).
NAMED_NOT_READ = {
    # -a from_warc=: the replay's settings, written before RfiSettings.of reads them.
    "fetch/warc_replay.py": {
        "RFI_WARC_REPLAY",
        "RFI_WARC_REPLAY_SITE",
        "RFI_WARC_REPLAY_HOSTS",
        "RFI_WARC",
        "RFI_BROWSER_PATH",
        "RFI_BACKOFF_START",
        "RFI_RETRY_AFTER_MAX",
    },
    # -a demo=1: the sample site's sections, written likewise.
    "demo/crawl.py": {"RFI_SECTIONS"},
    # The folders' names in a warning and in an error line.
    "archive/pipelines.py": {"RFI_OUTPUT_DIR", "RFI_STATE_DIR"},
    "archive/outputs.py": {"RFI_OUTPUT_DIR", "RFI_STATE_DIR"},
}
# Scrapy's ways to read a setting.
READS = re.compile(r"get(bool|int|float|list|dict|dictorlist|priority|withbase)?|__getitem__")


def setting_reads(package: Path) -> list[str]:
    """Where a module of ``package`` (but its owners) reads an ``RFI_*`` setting: a read
    (``x.get*("RFI_...")``, ``x["RFI_..."]``), or the name of a setting it may read
    indirectly (a tuple of names looped over, ``"RFI_" + name``) unless it only writes it
    (:data:`NAMED_NOT_READ`)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package).as_posix()
        if module in OWNERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed = NAMED_NOT_READ.get(module, set())
        for node in ast.walk(tree):
            args: list[ast.expr] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if READS.fullmatch(node.func.attr):
                    args = node.args[:1]
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                args = [node.slice]
            for arg in args:
                if isinstance(arg, ast.Constant) and str(arg.value).startswith("RFI_"):
                    found.append(f"{module}:{node.lineno}: reads {arg.value}")
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SETTING_NAME.fullmatch(node.value)
                and node.value not in allowed
            ):
                found.append(f"{module}:{node.lineno}: names {node.value}")
    return sorted(set(found))


def test_no_module_but_config_reads_an_rfi_setting() -> None:
    """Every RFI_* value comes from RfiSettings (rfi_spider/config.py), read once."""
    assert setting_reads(PACKAGE) == [], "read it from RfiSettings (RfiSettings.of(crawler))"


def test_the_scan_finds_a_read_direct_or_indirect(tmp_path: Path) -> None:
    """The scan is no rubber stamp: each way of reading a setting is found."""
    (tmp_path / "reads.py").write_text(
        "def f(settings, name):\n"
        "    a = settings.getint('RFI_MAX_ATTEMPTS')\n"
        "    b = settings['RFI_WARC']\n"
        "    c = [settings.getfloat(n) for n in ('RFI_BACKOFF_START',)]\n"
        "    d = settings.get('RFI_' + name)\n"
        "    e = settings.getpriority('RFI_OUTPUT_DIR')\n",
        encoding="utf-8",
    )
    (tmp_path / "config.py").write_text("x = settings.get('RFI_WARC')\n", encoding="utf-8")
    assert setting_reads(tmp_path) == [
        "reads.py:2: names RFI_MAX_ATTEMPTS",
        "reads.py:2: reads RFI_MAX_ATTEMPTS",
        "reads.py:3: names RFI_WARC",
        "reads.py:3: reads RFI_WARC",
        "reads.py:4: names RFI_BACKOFF_START",
        "reads.py:5: names RFI_",
        "reads.py:6: names RFI_OUTPUT_DIR",
        "reads.py:6: reads RFI_OUTPUT_DIR",
    ]


# --- one object per crawler -------------------------------------------------------------
def unstarted_crawler(**overrides: object) -> Crawler:
    """A crawler of ``rfi_cn`` as ``scrapy crawl`` makes it: nothing built yet."""
    settings = project(**overrides)
    settings.update({"TELNETCONSOLE_ENABLED": False, **get_reactor_settings()})
    runner = CrawlerRunner if is_reactor_installed() else AsyncCrawlerRunner  # as get_crawler
    return runner(settings).create_crawler(RfiCnSpider)


def test_what_the_spiders_arguments_set_is_read(tmp_path: Path) -> None:
    """-a demo=1 sets the sample site's sections: the object is built after that."""
    crawler = unstarted_crawler(RFI_OUTPUT_DIR=str(tmp_path))
    crawler.spider = crawler._create_spider(demo="1")
    try:
        assert RfiSettings.of(crawler).sections == tuple(EDITION_SECTIONS["cn"])
    finally:
        crawler.spider.on_closed()


def test_a_crawler_reads_its_settings_once(tmp_path: Path, monkeypatch: Any) -> None:
    """The spider, the add-ons, extensions, downloader and spider middlewares and the
    pipelines of one crawler share one RfiSettings, built once."""
    built: list[object] = []
    read = RfiSettings.from_settings.__func__  # type: ignore[attr-defined]

    def counted(cls: type[RfiSettings], settings: Any) -> RfiSettings:
        built.append(settings)
        return read(cls, settings)

    monkeypatch.setattr(RfiSettings, "from_settings", classmethod(counted))
    crawler = unstarted_crawler(RFI_OUTPUT_DIR=str(tmp_path), RFI_WARC=True, RFI_ARCHIVE_DB=True)
    # What Crawler.crawl does before the engine starts: the spider, then the add-ons and
    # extensions (settings frozen), then the engine with its middlewares and pipelines.
    crawler.spider = crawler._create_spider(base_url="http://127.0.0.1:9", mirrors="")
    crawler._apply_settings()
    crawler.engine = crawler._create_engine()
    try:
        assert built == [crawler.settings]
        config = RfiSettings.of(crawler)
        assert config.output_dir == tmp_path and config.warc and config.archive_db
        assert WarcCapture.of(crawler) is not None  # an extension that read it
    finally:
        crawler.spider.on_closed()
    assert RfiSettings.of(crawler) is config and len(built) == 1


# --- unset means the edition's default -------------------------------------------------
def test_an_unset_start_setting_is_the_editions() -> None:
    unset = RfiSettings.from_settings(project())
    assert unset.home_of(TW) == TW.home and unset.sections_of(TW) == list(TW.listings)
    assert unset.mirrors_of(CN) == list(CN.mirrors)
    assert unset.archive_url_of(TW) == TW.archive_url
    assert unset.feeds_of(["/tw/rss"]) == ["/tw/rss"]
    given = RfiSettings.from_settings(
        project(
            RFI_HOME="",
            RFI_SECTIONS="中國,",
            RFI_FEEDS="",
            RFI_MIRRORS="https://m.example/f",
            RFI_ARCHIVE_URL="/tw/a/{year}",
        )
    )
    assert given.home_of(TW) == "" and given.sections_of(TW) == ["中國"]  # empty: none
    assert given.feeds_of(["/tw/rss"]) == []
    assert given.mirrors_of(CN) == ["https://m.example/f"]
    assert given.archive_url_of(TW) == "/tw/a/{year}"
