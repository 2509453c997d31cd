"""Scrapy settings of rfi-spider: every knob, with what it is for, grouped by component.

Override any of them with ``-s NAME=value`` (or ``-d setting=NAME=value`` on
Scrapyd). ``RFI_OUTPUT_DIR`` and ``RFI_STATE_DIR`` are also read from the
environment variables of the same names.

Every RFI_* setting is also declared, typed and bounded in ``rfi_spider/config.py``
(``RfiSettings``): the commands check them all at start, one line and exit 2 for a bad
value. Sections, in the order a request travels: project, where things go, sources (what to
crawl), scheduling and resume, politeness, the downloader, blocked pages and the browser,
the state store, pipelines and exports, quality checks.
"""

from __future__ import annotations

import os

from rfi_spider.items import FIELDS
from rfi_spider.runtime import default_output_dir

# --- project ---------------------------------------------------------------------
BOT_NAME = "rfi_spider"
SPIDER_MODULES = ["rfi_spider.spiders"]
NEWSPIDER_MODULE = "rfi_spider.spiders"
# Project commands (scrapy qa).
COMMANDS_MODULE = "rfi_spider.commands"
LOG_LEVEL = "INFO"
# Scrapy's in-memory stats, without its deprecation shim on the collector's own attributes
# (rfi_spider/crawl/stats.py: every page updates dozens of counters).
STATS_CLASS = "rfi_spider.crawl.stats.CrawlStats"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# No code-execution consoles on a long-running archiver.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# --- where things go ---------------------------------------------------------------
# Exports: items.jsonl and articles/ (seed-style files). Unset: output/ in the working
# directory; under Scrapyd (run from an egg) $XDG_DATA_HOME/rfi-spider/output instead.
# Each edition has its own default folder: rfi_tw writes to output-tw/ (editions.py).
RFI_OUTPUT_DIR = os.environ.get("RFI_OUTPUT_DIR") or default_output_dir()
# The dedupe store (SQLite) and the export lock; unset: <RFI_OUTPUT_DIR>/.state, so
# that the state always travels with the exports it describes.
RFI_STATE_DIR = os.environ.get("RFI_STATE_DIR") or None
# fsync every export: survives power loss, not only a killed process (slower).
RFI_FSYNC = False

# --- sources: what to crawl ----------------------------------------------------------
# Where a crawl starts. Unset (None): the crawled edition's own (rfi_spider/editions.py:
# /cn/ or /tw/, its sections and columns, /cn/rss or /tw/rss, its daily archive). Set,
# they override it; set empty (-s RFI_SECTIONS=), there are none.
RFI_HOME: str | None = None
# Section and column listings walked after the home page (Chinese slugs only,
# "专栏检索/法国报纸摘要" for a column), relative to the edition's prefix.
RFI_SECTIONS: list[str] | None = None
# RSS feeds of the site.
RFI_FEEDS: list[str] | None = None
# The site's own sitemaps (crawl/sitemaps.py), found through robots.txt (the edition's
# /sitemaps/<key>/... only; its declared paths when robots.txt names none): a plain run
# reads the news sitemap, a backfill (-a since=) the index and its monthly children.
RFI_SITEMAPS = True
# File names of Google News sitemaps (the last days' articles).
RFI_SITEMAP_NEWS = ["news.xml", "news.xml.gz"]
# Children of a sitemap index that list articles by month: a regex with a group "month"
# (YYYYMM). A child whose name gives no month is dated by its lastmod.
RFI_SITEMAP_CONTENTS = r"contents_(?P<month>\d{6})\.xml(?:\.gz)?$"
# Children that are not article lists, by a word of their file name: never fetched.
RFI_SITEMAP_SKIP = ["tags", "page-builder", "pagebuilder", "shows", "programs", "authors"]
# Largest sitemap read, in bytes, as downloaded and once gunzipped (the protocol's 50 MB).
RFI_SITEMAP_MAX_BYTES = 50 * 1024 * 1024
# Most child maps a run takes from sitemap indexes (0: no limit). Each is a request held
# in memory until read; RFI's index has some 300 monthly maps. Children past it are
# counted (rfi/sitemap/child/over_limit) and logged, not read. An index is followed one
# level deep only (an index listed by an index: rfi/sitemap/bad/too_deep).
RFI_SITEMAP_MAX_CHILDREN = 2000
# Daily archive for backfill, off by default (RFI_BACKFILL_ARCHIVE): str.format fields
# year, month, day (ints). The live site's form was NOT verified; the sitemaps are.
RFI_BACKFILL_ARCHIVE = False
RFI_ARCHIVE_URL: str | None = None
# How far listing pages found on listing pages are followed (0: only the start pages).
RFI_LISTING_DEPTH = 1
# Longest backfill through the daily archive (RFI_BACKFILL_ARCHIVE), in days: a typo in a
# year should not queue 10,000 day pages. Sitemap backfills have no limit (-a since=all).
RFI_MAX_BACKFILL_DAYS = 3660
# Full-text mirrors of the site (RSS 2.0 or Atom), read first in every crawl: an
# entry stands in for its article when the site refuses it (403, 404, 410, 429 or 5xx
# after retries, a timeout, no connection, a page that is not the article).
# -a mirrors=URL,URL overrides the list, and an empty one disables mirrors; the demo
# reads the sample site's own mirror feed instead.
# Unset (None): the edition's (editions.py): for /cn feedx and RSSHub's /rfi/cn; none for /tw.
RFI_MIRRORS: list[str] | None = None
# Entries read per mirror feed (a feed lists the newest first; feedx and RSSHub give 20-50):
# a huge or hostile feed costs bounded work and queues at most this many requests; the
# rest are counted (rfi/mirror/entries_capped). Largest mirror feed downloaded, in bytes.
RFI_MIRROR_MAX_ENTRIES = 300
RFI_MIRROR_MAX_BYTES = 16 * 1024 * 1024

# --- scheduling and resume -------------------------------------------------------------
# Article requests handed to Scrapy's scheduler at a time; the other articles found wait
# on disk in the state's pending queue, so memory stays flat however many are queued,
# and a rerun after a kill or Ctrl-C fetches first what the interrupted run left.
RFI_ARTICLE_WINDOW = 64
# Scrapy's duplicate filter, except that when a job resumes (-s JOBDIR=...) what the
# spider asks again (the articles an interrupted run left, the listings, the mirrors) gets
# past the fingerprints that run left: a request in flight at a kill is not lost.
DUPEFILTER_CLASS = "rfi_spider.crawl.dupefilter.ResumableDupeFilter"
# Worker processes that parse and extract article pages (extract/workers.py), so that
# the crawl's process is left with Scrapy's own work. Unset: one per CPU (at most 4) for
# a re-extraction (-a from_warc=), none for a crawl (one worker takes about 3 ms a page
# off the crawl's main thread but adds about 2 of CPU in all: on 2 cores it was not
# clearly faster, WARC on or off, 2026-12-08 in BENCHMARKS.md); 0: in the crawl's
# process (debugging, pdb, profilers).
RFI_EXTRACT_WORKERS: int | None = None

# --- several machines: one crawl, one Redis (crawl/distributed/) ---------------------
# Unset: one process, as always. Set (scrapy-redis's own setting, redis://host:port/db):
# the request queue, the dupefilter, the pending articles and the "exported" state are
# shared in Redis by every process of the crawl; each writes its own RFI_OUTPUT_DIR.
# Also read from the environment variable REDIS_URL (Scrapyd's, from a mode-600 file:
# a password in it then shows on no command line).
REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
# The crawl the process joins: the processes with the same id share one crawl (its
# listings read once). Unset: the spider's name. A complete crawl is cleared, so the
# next run with the same id starts a new one; an unfinished one is joined and finished.
RFI_CRAWL_ID: str | None = None
# This process's name in the crawl; unset: "<host>:<absolute RFI_OUTPUT_DIR>", so that a
# restarted node is the same node (and settles an export a kill interrupted).
RFI_NODE_ID: str | None = None
# Redis keys start with this (letters, digits, . _ - :).
RFI_REDIS_PREFIX = "rfi"
# An article claim's lease: a killed node's articles are taken over this long after it
# died (a live node renews its claims every third of it).
RFI_REDIS_LEASE_SECONDS = 60.0
# Seconds to connect to Redis, and for any answer of it.
RFI_REDIS_TIMEOUT = 10.0

# --- politeness ------------------------------------------------------------------------
RFI_CONTACT_URL = "https://github.com/rfi-spider/rfi-spider"
# An honest, non-browser User-Agent: a Chrome-like one is what got plain clients blocked.
USER_AGENT = f"rfi-spider/0.1 (+{RFI_CONTACT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# A DOWNLOAD_DELAY of 0 runs as 1 ms: without a delay, Scrapy 2.19 (asyncio reactor)
# lets more than CONCURRENT_REQUESTS_PER_DOMAIN requests out at once (fetch/politeness.py).
ADDONS = {
    "rfi_spider.fetch.politeness.DelayFloor": 0,
    # -s REDIS_URL=...: several crawler processes on one crawl (crawl/distributed/)
    "rfi_spider.crawl.distributed.components.SharedCrawlAddon": 0,
    # scrapy-playwright's launch options and navigation timeout from RFI_BROWSER_*
    "rfi_spider.fetch.browser.BrowserSettings": 0,
}
COOKIES_ENABLED = False

# --- the downloader ----------------------------------------------------------------------
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 30
# Article pages weigh about 200 KB: refuse anything absurd (and gzip bombs).
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
# The project's downloader middlewares, by the order Scrapy calls process_request
# (low to high; responses go back high to low).
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's offsite filter, replaced by one that also says when a page redirects
    # off the site.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "rfi_spider.fetch.middlewares.OffsiteMiddleware": 50,
    # Scrapy's retry, waiting Retry-After first.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "rfi_spider.fetch.middlewares.RetryAfterMiddleware": 550,
    # Back-off and browser fallback: after decompression (590), before retries (550).
    "rfi_spider.fetch.middlewares.BlockedPagesMiddleware": 585,
    # HTML pages in the charset they really use (one that says UTF-8 and is not), without
    # NUL bytes: after decompression (590), before anything reads the page (585).
    "rfi_spider.fetch.htmlbytes.HtmlBytesMiddleware": 587,
    # Scrapy's meta refresh, skipped for pages whose head holds no "refresh" (it decoded
    # every whole page to look at its first 4,096 characters).
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "rfi_spider.fetch.metarefresh.MetaRefreshMiddleware": 580,
}

# --- blocked pages: back-off and the browser fallback -----------------------------------
# A block (403, 429, 503, a challenge page) raises the host's download delay to at
# least RFI_BACKOFF_START seconds; each block that follows a block multiplies it by
# RFI_BACKOFF_FACTOR, up to RFI_BACKOFF_MAX_DELAY; each page obtained divides it back.
RFI_BACKOFF_START = 5.0
RFI_BACKOFF_FACTOR = 2.0
RFI_BACKOFF_MAX_DELAY = 60.0
# Longest Retry-After (429, 503) honoured, in seconds; longer asks wait this much.
RFI_RETRY_AFTER_MAX = 300.0
# Chromium for the fallback (Debian: apt-get install chromium). Missing: one warning,
# and blocked pages go on to the errback; empty: the fallback is off.
RFI_BROWSER_PATH = "/usr/bin/chromium"
# Flags for a headless Chromium run as root on an offline machine.
RFI_BROWSER_ARGS = [
    "--no-sandbox",  # root (in containers) cannot use Chromium's sandbox
    "--disable-dev-shm-usage",  # small /dev/shm in containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-quic",
    "--mute-audio",
]
# Seconds the browser may take to start, to load a page and to show its markup.
RFI_BROWSER_TIMEOUT = 30.0
# Pages per browser context: then it is closed and a fresh one started, as long-lived
# Playwright contexts leak memory; 0: one context for the whole crawl.
RFI_BROWSER_CONTEXT_PAGES = 100
# scrapy-playwright's handler (pages one at a time, contexts recycled); every other
# request goes through Scrapy's own HTTP stack.
DOWNLOAD_HANDLERS = {
    "http": "rfi_spider.fetch.browser.BrowserDownloadHandler",
    "https": "rfi_spider.fetch.browser.BrowserDownloadHandler",
}
# The Playwright driver and Chromium start at the first browser page, not with the crawl.
PLAYWRIGHT_BROWSER_PROVIDER = "rfi_spider.fetch.browser.LazyChromiumProvider"
PLAYWRIGHT_BROWSER_TYPE = "chromium"
# Launch options are built at start from RFI_BROWSER_PATH, RFI_BROWSER_ARGS and
# RFI_BROWSER_TIMEOUT (the BrowserSettings add-on); entries set here override them.
PLAYWRIGHT_LAUNCH_OPTIONS: dict[str, object] = {}
# One browser context, one page at a time; scrapy-playwright closes each page after use.
PLAYWRIGHT_MAX_CONTEXTS = 1
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 1
# The browser downloads no images, fonts or media.
PLAYWRIGHT_ABORT_REQUEST = "rfi_spider.fetch.browser.skip_heavy_resources"
# The browser sends its own headers, not Scrapy's: a Chromium User-Agent that agrees
# with what its JavaScript reports (challenges compare them).
PLAYWRIGHT_PROCESS_REQUEST_HEADERS = None
# --- the browser's sandbox -------------------------------------
# The browser reaches only the origin of the page it was sent to (the site's, or
# -a base_url='s); every other request (navigations, frames, subresources, fetch/XHR,
# beacons, WebSockets, loopback and private addresses) is aborted before it leaves, and
# a page that ends on another origin is dropped (rfi/browser/offsite). Extra hosts the
# browser may also reach, as "host" (any port) or "host:port": for example a
# challenge's script host. A page is never used from them, only their resources.
RFI_BROWSER_ALLOWED_HOSTS: list[str] = []

# --- the state store (archive/state.py) --------------------------------------------------
# SQLite page cache of each of the crawl's two connections to the state, in KiB (SQLite's
# default: 2,000). A lookup or an export touches a few pages; more cache is only memory.
RFI_STATE_CACHE_KIB = 512
# Read the state through a memory map of up to this size (MiB; 0: no map). Lookups
# get faster at a million URLs, but every page read counts in the crawl's RSS (a
# million-URL state is 300 MB): off by default. The spider's lookups go to digests in
# memory instead (SeenStore.probably_known).
RFI_STATE_MMAP_MIB = 0
# Exports recorded in the state per SQLite transaction, and the longest a recorded
# export waits (seconds). One transaction per export cost 157 s per million; a crash
# before the commit loses nothing: the next run records the lines from items.jsonl.
RFI_STATE_BATCH = 1000
RFI_STATE_BATCH_SECONDS = 2.0
# <RFI_OUTPUT_DIR>/archive.db, the archive as a searchable SQLite database (scrapy browse;
# archive/database.py), brought up to date from items.jsonl and the WARC files by a child
# process (archive/database_sync.py: segmenting Chinese is CPU the crawl must not pay)
# at start, after every RFI_ARCHIVE_DB_BATCH exports when none is running, and at the
# end; False: not kept during the crawl (scrapy archive-db builds it later).
RFI_ARCHIVE_DB = True
RFI_ARCHIVE_DB_BATCH = 100
# The longest the close waits for the last sync (seconds, about 30 ms an article left):
# past it the child is stopped (rfi/archive_db/timeout) and the next run catches up.
RFI_ARCHIVE_DB_WAIT = 60.0

# --- failed articles ----------------------------------------------------------------------
# Failed articles (archive/failures.py): an article whose extraction raised, whose page
# was not the article, whose item a pipeline refused or broke on, whose request got no
# answer, or that the site answered with an HTTP error (not a block, not a network error),
# is recorded in the state with its cause; after this many failed attempts (across runs)
# it is given up: never requested again (rfi/gave_up, a warning that names it and its
# cause, the crawl summary and `scrapy qa` list it). Raise it to give those articles more tries.
RFI_MAX_ATTEMPTS = 3

# --- revisits: versions of edited articles (crawl/revisits.py, archive/versions.py) --------
# An archived article is fetched again when a sitemap (the news map in every run, the
# monthly maps in a backfill) gives it a lastmod later than its last settled fetch, and
# when it was published in the last RFI_REVISIT_DAYS days (0: never for that reason) and
# last fetched at least RFI_REVISIT_EVERY hours ago (oldest check first). At most
# RFI_REVISIT_MAX revisits a run (0: no revisits), so a run never becomes a re-crawl.
# Revisits are conditional (If-None-Match, If-Modified-Since): a 304 costs nothing more.
# A page whose content digest is the latest version's is no new version.
RFI_REVISIT_DAYS = 3
RFI_REVISIT_EVERY = 6
RFI_REVISIT_MAX = 500

# --- WARC: the responses as the site sent them ------------------------
# Every downloaded response (articles, listings, feeds, mirrors, robots.txt, redirects,
# errors) goes into gzip WARC files under <RFI_OUTPUT_DIR>/warc/ (fetch/warc_capture.py);
# -s RFI_WARC=False turns capture off. -a from_warc=PATH re-extracts from them offline.
RFI_WARC = True
# Another folder for the WARC files (unset: <RFI_OUTPUT_DIR>/warc).
RFI_WARC_DIR: str | None = None
# File names: <prefix>-<spider>-<timestamp>-<serial>.warc.gz. The prefix is letters,
# digits, . _ - with no leading dot: a file name's start, never a path.
RFI_WARC_PREFIX = "rfi"
# A file is closed and the next one started once it reaches this size (bytes); at least
# 1 MiB (config.MIN_WARC_MAX_SIZE).
RFI_WARC_MAX_SIZE = 1024**3
# The gzip level of each record, 0 (stored, no compression) to 9 (smallest, slowest); any
# other value: one line and exit 2. On article pages 6 writes files within 1% of 9's size
# in about half of its CPU time; 1 in a fifth of it, about 60% larger (docs/warc.md).
RFI_WARC_GZIP_LEVEL = 6
# Set by -a from_warc= (not by hand): the WARC files the replay handler answers from.
RFI_WARC_REPLAY: list[str] = []
# Set by -a from_warc= too: the fetch root and the mirrors' hosts whose records may answer
# (a record of another host, or of a file whose warcinfo names another root, never does).
RFI_WARC_REPLAY_SITE: str | None = None
RFI_WARC_REPLAY_HOSTS: list[str] = []

# --- pipelines and exports ----------------------------------------------------------------
ITEM_PIPELINES = {
    "rfi_spider.archive.pipelines.ValidationPipeline": 100,
    "rfi_spider.archive.pipelines.ArchivePipeline": 800,
}
# What a callback yields goes through the spider middlewares and the pipelines in
# CONCURRENT_ITEMS asyncio tasks, all started for every response (Scrapy's default 100:
# about 0.9 ms of the reactor's CPU a page, for an article's one item). Both pipelines
# are synchronous, so more than one at a time never ran side by side anyway (issue 26).
CONCURRENT_ITEMS = 4
# No Scrapy feed by default: ArchivePipeline writes the JSON Lines file itself, so that
# a line is written before its URL is recorded (crash safety). Feeds asked for (-o, -O,
# FEEDS, Scrapyd's items_dir) hold the exported items with the spec's fields, in its
# order, and none of the internal ones (mirror_entry).
FEEDS: dict[str, dict] = {}
FEED_EXPORT_FIELDS = list(FIELDS)
FEED_EXPORT_ENCODING = "utf-8"
# Local feed files are created like the exports: 0644 less the umask (outputs.FILE_MODE).
FEED_STORAGES = {
    "": "rfi_spider.archive.exporters.FileFeedStorage",
    "file": "rfi_spider.archive.exporters.FileFeedStorage",
}

# --- the Atom feed (issue 18) ----------------------------------------------------
# Format "atom" of Scrapy's feed exports: -O feed.atom (the suffix picks it), or FEEDS
# {"feed.atom": {"format": "atom"}}; scrapy feed writes the same feed from an archive.
FEED_EXPORTERS = {"atom": "rfi_spider.archive.atom.AtomItemExporter"}
# The feed's title; unset: "RFI /cn (rfi-spider)" (the edition's prefix).
RFI_ATOM_TITLE: str | None = None
# The public URL the feed is served at: its link rel="self" (and its id, unless RFI_ATOM_ID).
RFI_ATOM_SELF_URL: str | None = None
# The feed's id; unset: RFI_ATOM_SELF_URL, else a urn:uuid derived from the edition's home,
# the same for every feed of that edition.
RFI_ATOM_ID: str | None = None
# scrapy feed: how many articles (the newest) when --latest is not given.
RFI_ATOM_LATEST = 50

# --- quality checks and alerts (Spidermon) ---------------------------------------------------
EXTENSIONS = {
    # No DEBUG log record made when no handler takes it (crawl/log_level.py: the root
    # logger's level raised to the handlers' lowest while the spider runs; issue 26)
    "rfi_spider.crawl.log_level.LogLevelFloor": 10,
    # The start-up's objects out of the garbage collector's walks while the spider runs
    # (crawl/gc_freeze.py: gc.freeze at the opening, gc.unfreeze at the close; issue 26)
    "rfi_spider.crawl.gc_freeze.GcFreeze": 11,
    # Failed articles and the item signals (crawl/failure_book.py); others reach it with
    # crawler.get_extension(FailureBook)
    "rfi_spider.crawl.failure_book.FailureBook": 50,
    "rfi_spider.quality.extensions.CrawlSummary": 900,
    # rfi/exported/twice, for the "items" monitor
    "rfi_spider.quality.extensions.ExportedOnce": 905,
    # Spidermon runs the monitor suites below (after the summary is logged)
    "spidermon.contrib.scrapy.extensions.Spidermon": 910,
    # WARC capture (RFI_WARC)
    "rfi_spider.fetch.warc_capture.WarcCapture": 100,
}
SPIDERMON_ENABLED = True
# The end-of-crawl checks (quality/monitors.py): items seen and none exported twice,
# validation, field coverage, finish reason, blocked share. A failing check sends the
# notifications configured below.
SPIDERMON_SPIDER_CLOSE_MONITORS = ["rfi_spider.quality.monitors.CloseSuite"]
# The blocking watch, every 300 s: closes the spider (finish reason "blocked") once the
# site has answered nothing but blocks for RFI_BLOCKED_CLOSE_MINUTES.
SPIDERMON_PERIODIC_MONITORS = {"rfi_spider.quality.monitors.BlockedSuite": 300}
RFI_BLOCKED_CLOSE_MINUTES = 30
# Spidermon's field coverage (spidermon_field_coverage/ArticleItem/<field>): a field
# counts as filled unless it is None, empty, [] or {}.
SPIDERMON_ADD_FIELD_COVERAGE = True
SPIDERMON_FIELD_COVERAGE_SKIP_NONE = True
# The "finish reason" monitor passes for these.
SPIDERMON_EXPECTED_FINISH_REASONS = ["finished"]
# Fewest articles a run must see (exported, or found already exported: an incremental
# run with nothing new passes).
RFI_QA_MIN_ITEMS = 1
# Lowest share of this run's exported items with each optional field filled (0..1);
# the fields the schema always fills (item_schema.always_filled) must be at 100%.
RFI_QA_MIN_COVERAGE = {"lead_image": 0.5, "summary": 0.5}
# Below this many exported items, the optional fields' shares are not judged.
RFI_QA_COVERAGE_MIN_ITEMS = 5
# Highest share of responses that may be blocked answers (403, 429, 503, challenges).
RFI_QA_MAX_BLOCKED_SHARE = 0.5
# Highest share of the articles the sitemaps listed in a run's scope that may be missing
# from the archive at its end (a listed article the site answers with 404, say).
RFI_QA_MAX_SITEMAP_MISSING = 0.1
# Notifications when a monitor fails (quality/alerts.py); none by default.
# Email: SPIDERMON_EMAIL_TO (a list) turns it on; SPIDERMON_EMAIL_SENDER,
# SPIDERMON_EMAIL_SUBJECT, SPIDERMON_SMTP_HOST (localhost), SPIDERMON_SMTP_PORT (25),
# SPIDERMON_SMTP_USER and SPIDERMON_SMTP_PASSWORD (no login without a user),
# SPIDERMON_SMTP_ENFORCE_TLS (STARTTLS), SPIDERMON_SMTP_ENFORCE_SSL.
SPIDERMON_EMAIL_TO: list[str] = []
# Webhook: a JSON POST {"text": message} (Slack, Mattermost), plus these keys (a
# Telegram bot's sendMessage: {"chat_id": "..."}).
RFI_ALERT_WEBHOOK_URL: str | None = None
RFI_ALERT_WEBHOOK_EXTRA: dict[str, str] = {}
# Any other Spidermon action, by dotted path, run when a monitor fails.
RFI_ALERT_ACTIONS: list[str] = []
# Seconds a notification may take (SMTP, webhook).
RFI_ALERT_TIMEOUT = 10.0
# scrapy qa: longest line of items.jsonl (and largest seed-style file) read, in bytes;
# longer ones are findings, read past without being held (bounded memory).
RFI_QA_MAX_LINE_BYTES = 16 * 1024 * 1024

# --- exit status and queue order (issue 14, smaller faults) ---------------------------
# scrapy crawl (rfi_spider/commands/crawl.py) exits 1 when the crawl ends with one of these
# finish reasons, 2 for a bad -a argument, 0 otherwise. write_error: a full or broken disk
# stopped the exports; closespider_errorcount: CLOSESPIDER_ERRORCOUNT errors were reached;
# memusage_exceeded: MEMUSAGE_LIMIT_MB was reached; blocked: the blocking watch closed it
# (RFI_BLOCKED_CLOSE_MINUTES). (shutdown, a Ctrl-C or Scrapyd's cancel,
# is a pause that the next run resumes: not a failure.)
# redis_lost: a distributed crawl's node lost Redis mid-crawl (crawl/distributed/).
RFI_FAILED_FINISH_REASONS = [
    "write_error",
    "closespider_errorcount",
    "memusage_exceeded",
    "blocked",
    "redis_lost",
]
# First in, first out: articles are fetched roughly in the order they were found, so a
# crawl stopped early has the oldest finds (Scrapy's default LIFO starved the first ones).
# Priorities still come first (mirrors, the resumed articles, feeds, listings).
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
