"""``scrapy crawl SPIDER``: Scrapy's own command, with an exit status that says how it went.

Scrapy's ``crawl`` exits 0 whatever the crawl's fate. This one (``COMMANDS_MODULE``,
so also what Scrapyd runs) exits:

- 2 when a spider argument is wrong (``-a base_url=ftp://...``, ``-a since=07/03/2024``,
  ``-a demo=2``, an unknown name), a setting is (``rfi_spider/config.py``: ``-s
  RFI_MAX_ATTEMPTS=0``), an output would overwrite the archive's own files or is not a
  regular file (``-O output/items.jsonl``, ``-o /dev/null``: ``archive/outputs.py``), or
  the output or state folder cannot be used (a file, read-only, a corrupt state): one
  line on stderr, no traceback, and not a single request sent; also (with
  ``REDIS_URL``) when a key of the crawl in Redis holds another type than the crawl's
  (another program's key), at start or mid-crawl (finish reason ``redis_bad_key``);
- 1 when the crawl could not start (with ``REDIS_URL``: Redis unreachable, or a shared
  crawl that runs with other settings: one line on stderr), or ended with a finish reason listed in
  ``RFI_FAILED_FINISH_REASONS`` (``write_error``: a full or broken disk stopped it);
- 0 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from scrapy import Spider, signals
from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from rfi_spider.archive.outputs import Archive, OutputError, check_folders
from rfi_spider.archive.redis_state import KeyTypeError, SharedCrawlError
from rfi_spider.arguments import ArgumentError
from rfi_spider.cli import BAD_ARGUMENTS, FAILED, CommandError, RfiCommand
from rfi_spider.config import RfiSettings
from rfi_spider.crawl.distributed.config import REDIS_BAD_KEY, preflight


class Command(RfiCommand, ScrapyCrawlCommand):
    spider_name = ""  # for the error line
    config: RfiSettings | None = None  # the crawl's settings, checked in process_options

    def long_desc(self) -> str:
        return (
            "Run a spider of the project. Exit status: 0 when the crawl ended normally, "
            "1 when it could not start or its finish reason is in RFI_FAILED_FINISH_REASONS "
            "(write_error, ...), 2 for a bad spider argument (-a) or setting (-s), an output "
            "(-o, -O) in the archive's own files or that is not a regular file, or an output "
            "or state folder that cannot be used, or a Redis key of the wrong type (REDIS_URL)."
        )

    def error_line(self, message: str) -> str:
        return f"scrapy crawl {self.spider_name}: {message}"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's options, then the spider's arguments: checked here, before Scrapy's
        crawler process even starts logging, so that a bad one costs one line."""
        super().process_options(args, opts)
        if len(args) != 1:
            return  # run() raises Scrapy's usage error
        self.spider_name = args[0]
        try:
            self.config = self._checked(args[0], opts.spargs)
        except CommandError as error:  # one line, exit status, before the crawler process
            self.fail(error)
            raise SystemExit(self.exitcode) from None

    def _checked(self, name: str, spargs: dict[str, Any]) -> RfiSettings:
        """The crawl's settings, once its settings, arguments, outputs, folders and (with
        ``REDIS_URL``) Redis are found fit: :class:`CommandError` otherwise."""
        assert self.settings is not None
        try:
            spidercls = get_spider_loader(self.settings).load(name)
        except KeyError:
            raise UsageError(f"no spider named {name!r} (scrapy list names them)") from None
        # The settings as the crawler will see them: with the spider's own (rfi_tw's folder).
        settings = self.settings.copy()
        spidercls.update_settings(settings)
        config = self.rfi_settings(settings)
        check = getattr(spidercls, "check_arguments", None)
        if check is not None:
            try:
                check(spargs, config)
            except ArgumentError as error:
                raise CommandError(f"bad argument: {error}") from None
        archive = Archive.configured(config)
        for path in local_feeds(settings, spidercls.name):
            self.check_output(path, [archive])
        try:
            check_folders(config.output_dir, config.state_dir)
        except OutputError as error:
            raise CommandError(str(error)) from None
        try:  # -s REDIS_URL=...: Redis answers, and the crawl there has these settings
            preflight(spidercls, spargs, self.settings)
        except SharedCrawlError as error:
            status = BAD_ARGUMENTS if isinstance(error, KeyTypeError) else FAILED
            raise CommandError(str(error), status) from None
        return config

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's usage errors
            return
        assert self.crawler_process is not None
        crawler = self.crawler_process.create_crawler(args[0])
        finish: dict[str, str] = {}

        def closed(spider: Spider, reason: str, **kwargs: Any) -> None:
            finish["reason"] = reason

        crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed or "reason" not in finish:
            self.exitcode = FAILED
            return
        if finish["reason"] == REDIS_BAD_KEY:  # a configuration fault, as at start
            self.exitcode = BAD_ARGUMENTS
            return
        assert self.config is not None  # process_options checked the settings
        self.exitcode = FAILED if finish["reason"] in self.config.failed_finish_reasons else 0


class _UriParams(dict):
    """A feed URI's ``%(name)s`` placeholders: the spider's name; any other (``time``,
    ``batch_id``) a stand-in, enough to tell which folder the feed goes to."""

    def __missing__(self, key: str) -> int:
        return 1


def local_feeds(settings: Any, spider_name: str) -> list[Path]:
    """The local files of ``FEEDS`` (``-o``, ``-O``, ``-s FEEDS=``, Scrapyd's items_dir):
    plain paths and ``file://`` URIs, placeholders filled in."""
    paths = []
    for uri in settings.getdict("FEEDS"):
        text = str(uri)
        with contextlib.suppress(TypeError, ValueError, KeyError):  # else: as written
            text = text % _UriParams(name=spider_name)
        parts = urlsplit(text)
        if parts.scheme == "file":
            paths.append(Path(unquote(parts.path)))
        elif not parts.scheme or len(parts.scheme) == 1:  # a path (C:\..., for the record)
            paths.append(Path(text))
    return paths
