"""QA of an archive on disk: ``items.jsonl`` and the seed-style files, checked together.

:func:`check_archive` reads a folder and returns a :class:`Report`: every
problem found (a :class:`Finding`, with a line number or a file path) and what
the summary tables count. :func:`render_text` prints it; ``qa_html`` writes it
as a web page. ``scrapy qa`` (``commands/qa.py``) is a thin wrapper.

Archives written by other tools are read too: a folder of seed-style ``*.txt``
or ``*.md`` files with no ``items.jsonl`` is checked on its files alone.

A hostile export is reported, never a crash: over-long lines are skipped unread
(``max_line_bytes``), deep nesting, huge integers, lone surrogates and times that
cannot be converted are findings, and every value shown is passed through
:func:`visible`. An archive that cannot be read raises :class:`CannotCheckError`.

One job a module: ``read`` (the lines, with :mod:`rfi_spider.archive.jsonl_read`, and the
files), ``checks`` (an item, a file), ``folder`` (an archive folder), ``state`` (the crawl's
state: sitemaps, given up), ``union`` (several folders as one), ``report`` (findings and what
the tables count), ``versions`` (edited articles), ``compare`` (two archives), ``text`` (the
terminal's report); ``quality/qa_html.py`` renders the web page. Their public names are here
too, so that
``from rfi_spider.quality import qa`` reads as before.
"""

from rfi_spider.archive.jsonl_read import (
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_LINE_BYTES,
    parse_line,
    read_lines,
)
from rfi_spider.archive.state import STATE_DIR
from rfi_spider.quality.qa.checks import Pairing, check_file_alone, check_item, compare
from rfi_spider.quality.qa.compare import Comparison, render_comparison
from rfi_spider.quality.qa.folder import check_archive, check_items_file
from rfi_spider.quality.qa.read import (
    file_fields,
    find_seed_files,
    read_items,
    read_seed_files,
    slim,
)
from rfi_spider.quality.qa.report import (
    ARTICLES_DIR,
    EARLIEST_YEAR,
    FILE_FIELDS,
    ITEMS_FILE,
    KINDS,
    MIRROR_WARN_SHARE,
    SEED_SUFFIXES,
    TEXT_MAX_DAYS,
    TIMESTAMPS,
    CannotCheckError,
    Finding,
    Report,
    SeedFile,
    readable,
    visible,
)
from rfi_spider.quality.qa.state import check_sitemap_coverage, read_given_up
from rfi_spider.quality.qa.text import (
    EDITED_HEADING,
    SITEMAPS_HEADING,
    TEXT_MAX_MONTHS,
    bar,
    edited_lines,
    edited_summary,
    given_up_lines,
    render_sitemaps,
    render_text,
    verdict,
)
from rfi_spider.quality.qa.union import check_archives
from rfi_spider.quality.qa.versions import check_versions, edited_items

__all__ = [
    "ARTICLES_DIR",
    "EARLIEST_YEAR",
    "EDITED_HEADING",
    "FILE_FIELDS",
    "ITEMS_FILE",
    "KINDS",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_LINE_BYTES",
    "MIRROR_WARN_SHARE",
    "SEED_SUFFIXES",
    "SITEMAPS_HEADING",
    "STATE_DIR",
    "TEXT_MAX_DAYS",
    "TEXT_MAX_MONTHS",
    "TIMESTAMPS",
    "CannotCheckError",
    "Comparison",
    "Finding",
    "Pairing",
    "Report",
    "SeedFile",
    "bar",
    "check_archive",
    "check_archives",
    "check_file_alone",
    "check_item",
    "check_items_file",
    "check_sitemap_coverage",
    "check_versions",
    "compare",
    "edited_items",
    "edited_lines",
    "edited_summary",
    "file_fields",
    "find_seed_files",
    "given_up_lines",
    "parse_line",
    "read_given_up",
    "read_items",
    "read_lines",
    "read_seed_files",
    "readable",
    "render_comparison",
    "render_sitemaps",
    "render_text",
    "slim",
    "verdict",
    "visible",
]
