"""Spider arguments (``-a name=value``), checked before a crawl sends anything.

Each check raises :class:`ArgumentError` with one line saying which argument is
wrong and what it takes; the project's ``crawl`` command prints that line and
exits 2 (``rfi_spider/commands/crawl.py``), through the spider's ``check_arguments``
(:func:`check_spider_arguments`: every argument of the edition spiders). The spider runs
the same checks in its constructor, so a crawl started another way fails the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from rfi_spider.canonical import SITE_ROOT, FetchRoot, canonical_url, is_article_url
from rfi_spider.config import RfiSettings
from rfi_spider.dates import today_in_paris
from rfi_spider.editions import Edition

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# -a demo=: the words for on and off (any case); anything else is refused, not "off":
# -a demo=2 or -a demo= (an unset variable) must not become a crawl of the live site.
SWITCH_ON = frozenset({"1", "true", "yes"})
SWITCH_OFF = frozenset({"0", "false", "no"})
# ``-a since=all``: the whole history (RFI's web archive starts later than this).
ALL_HISTORY = date(1990, 1, 1)
# The spider arguments (-a name=value) the edition spiders take: any other name is refused.
SPIDER_ARGUMENTS = ("url", "since", "until", "base_url", "mirrors", "demo", "from_warc")


class ArgumentError(ValueError):
    """A spider argument that cannot be used; the message is one line for the user."""


def http_url(name: str, value: str, root: bool = False) -> str:
    """``value`` if it is an absolute ``http(s)`` URL with a host, else :class:`ArgumentError`.

    ``root``: a site root (``base_url``): no query, fragment or user name either.
    """
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or not c.isprintable() for c in text)
    ):
        raise ArgumentError(f"-a {name}= takes an absolute http(s) URL, not {value!r}")
    if root and (parts.query or parts.fragment or parts.username or parts.password):
        raise ArgumentError(f"-a {name}= takes a site root such as http://host:port, not {value!r}")
    return text


def parse_day(name: str, value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` day, None when not given; :class:`ArgumentError` otherwise (an
    empty value too: ``-a since=$UNSET`` is not a plain crawl)."""
    if value is None:
        return None
    if _DAY.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    suffix = " or all" if name == "since" else ""
    raise ArgumentError(f"-a {name}= takes a date as YYYY-MM-DD{suffix}, not {value!r}")


def backfill_range(
    since: str | None, until: str | None, today: date, max_days: int
) -> tuple[date | None, date | None]:
    """``(since, until)`` of a backfill (``until`` defaults to ``today``), or ``(None, None)``.

    ``since=all`` starts at :data:`ALL_HISTORY`. ``max_days`` (0: none) bounds the range.
    """
    if since is not None and since.strip().lower() == "all":
        since = ALL_HISTORY.isoformat()
    first = parse_day("since", since)
    last = parse_day("until", until)
    if last and not first:
        raise ArgumentError("-a until= needs -a since= as well")
    if first is None:
        return None, None
    last = last or today
    if first > last:
        raise ArgumentError(f"-a since={first} is after until={last}")
    days = (last - first).days + 1
    if max_days > 0 and days > max_days:
        raise ArgumentError(
            f"a backfill of {days} days is over RFI_MAX_BACKFILL_DAYS ({max_days}); "
            "raise the setting"
        )
    return first, last


def check_mirrors(urls: list[str]) -> list[str]:
    """Feed mirror URLs (``-a mirrors=`` or ``RFI_MIRRORS``), each an absolute http(s) URL."""
    for url in urls:
        try:
            http_url("mirrors", url)
        except ArgumentError:
            raise ArgumentError(f"a feed mirror must be an http(s) URL, not {url!r}") from None
    return urls


def switch(name: str, value: str | None) -> bool:
    """An on/off argument (``-a demo=1``): False when not given; ``1``, ``true``, ``yes``
    or ``0``, ``false``, ``no`` (any case); :class:`ArgumentError` for anything else."""
    if value is None:
        return False
    word = str(value).strip().lower()
    if word in SWITCH_ON | SWITCH_OFF:
        return word in SWITCH_ON
    raise ArgumentError(f"-a {name}= takes 1, true or yes (0, false or no: off), not {value!r}")


def check_names(names: Iterable[str], known: Iterable[str]) -> None:
    """Every argument name is one the spider knows: a typo (``-a sinse=``) would else be
    ignored, and the crawl run without it. Names that start with ``_`` are Scrapyd's
    (``_job``, ``_version``): let through."""
    allowed = set(known)
    for name in names:
        if name not in allowed and not name.startswith("_"):
            takes = ", ".join(sorted(allowed))
            shown = repr(name)[1:-1]  # control characters escaped
            raise ArgumentError(f"-a {shown}= is not an argument of this spider (it takes {takes})")


def split_list(value: str | list[str] | None) -> list[str]:
    """A comma-separated setting or argument (or a list), blanks dropped."""
    if isinstance(value, list):
        return [v.strip() for v in value if v.strip()]
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def article_url(url: str, site: FetchRoot, edition: Edition, spider: str) -> str:
    """The canonical URL of ``-a url=``; :class:`ArgumentError` unless it is an article
    of ``edition`` (as a site URL, or under ``base_url``); ``spider``: the spider's name."""
    site_url = site.to_site(http_url("url", url))
    canonical = canonical_url(site_url) if site_url else None
    if not canonical or not is_article_url(canonical, edition):
        raise ArgumentError(
            f"-a url= is not an RFI {edition.prefix} article URL: {url!r}"
            f" ({spider} crawls {SITE_ROOT}{edition.home})"
        )
    return canonical


def warc_paths(arguments: Iterable[str]) -> list[Path]:
    """The WARC files of ``-a from_warc=``, a folder standing for the ``*.warc.gz`` and
    ``*.warc`` in it (recursively).

    :class:`ArgumentError` (one line, exit 2) for no path at all (``from_warc=``, as a
    script with an unset variable gives, or ``from_warc=,``: a live crawl is never what
    it means), a path that does not exist, an empty file, one that is no regular file (a
    FIFO would block the crawl on its first read), or a folder with no WARC file.
    """
    paths: list[Path] = []
    for argument in arguments:
        try:
            paths.extend(_warc_files(argument))
        except OSError as error:
            reason = error.strerror or str(error)
            raise ArgumentError(f"-a from_warc=: cannot read {argument!r}: {reason}") from None
    if not paths:
        raise ArgumentError(
            "-a from_warc= names no WARC file or folder (an empty value is no live crawl)"
        )
    return paths


def _warc_files(argument: str) -> list[Path]:
    """The WARC files one ``from_warc`` path names (see :func:`warc_paths`)."""
    path = Path(argument).expanduser()
    if path.is_dir():
        found = sorted(
            p for p in path.rglob("*") if p.is_file() and p.name.endswith((".warc.gz", ".warc"))
        )
        if not found:
            raise ArgumentError(f"-a from_warc=: no .warc.gz or .warc file in {argument!r}")
        return found
    if path.is_file():
        if path.stat().st_size == 0:
            raise ArgumentError(f"-a from_warc=: {argument!r} is an empty file")
        return [path]
    if path.exists():
        raise ArgumentError(f"-a from_warc=: {argument!r} is neither a WARC file nor a folder")
    raise ArgumentError(f"-a from_warc=: no such file or folder: {argument!r}")


def check_spider_arguments(
    args: Mapping[str, str], config: RfiSettings, edition: Edition, spider: str
) -> None:
    """Raise :class:`ArgumentError` (one line) for a spider argument the spider of
    ``edition`` (named ``spider``) cannot use; the project's ``crawl`` command calls it
    (through the spider's ``check_arguments``) before the crawl starts."""
    check_names(args, SPIDER_ARGUMENTS)
    switch("demo", args.get("demo"))
    backfill_range(
        args.get("since"), args.get("until"), today_in_paris(), config.archive_days_limit
    )
    base_url = args.get("base_url")
    if base_url is not None:
        base_url = http_url("base_url", base_url, root=True)
    if args.get("url") is not None:
        article_url(args["url"], FetchRoot(base_url), edition, spider)
    if args.get("from_warc") is not None:
        warc_paths(split_list(args["from_warc"]))
    if args.get("mirrors") is not None:
        check_mirrors(split_list(args["mirrors"]))
    elif config.mirrors is not None:
        check_mirrors(list(config.mirrors))
