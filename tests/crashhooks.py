"""``scrapy`` with the crash tests' hooks, run as a script in place of ``python -m scrapy``
(``conftest.crawl_command`` does so when a test sets ``RFI_TEST_CRASH_AT``).

``RFI_TEST_CRASH_AT="<step>:<n>"`` ends the process (``os._exit``, as a kill -9 would)
right after <step> of the n-th export of the run: "intent", "file", "line" or "store"
(the URL in the batch, committed or not); "torn:<n>" writes the first half of the n-th
JSON line, then ends it. The hooks wrap the export's own steps (``archive/exporters.py``
and the pipeline), so that the production code holds nothing for them.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from scrapy.cmdline import execute

from rfi_spider.archive import exporters
from rfi_spider.archive.pipelines import ArchivePipeline

CRASH_EXIT_STATUS = 86


def install(at: str) -> None:
    """Wrap the steps of an export so that the process ends where ``at`` says."""
    step, _, number = at.partition(":")
    nth = int(number)
    calls: Counter[str] = Counter()

    def after(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def step_then_maybe_crash(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            calls[name] += 1  # each step runs once an export, in the export's order
            if step == name and calls[name] == nth:
                os._exit(CRASH_EXIT_STATUS)
            return result

        return step_then_maybe_crash

    exporters.IntentLog.record = after("intent", exporters.IntentLog.record)  # type: ignore[method-assign]
    # write_at: every seed-style file is written there (SeedFiles.write names, then calls it).
    exporters.SeedFiles.write_at = after("file", exporters.SeedFiles.write_at)  # type: ignore[method-assign]
    append = exporters.JsonLinesFile.append

    def append_then_maybe_crash(self: exporters.JsonLinesFile, line: bytes) -> int:
        calls["line"] += 1
        if step == "torn" and calls["line"] == nth:
            append(self, line[: len(line) // 2])
            os._exit(CRASH_EXIT_STATUS)
        size = append(self, line)
        if step == "line" and calls["line"] == nth:
            os._exit(CRASH_EXIT_STATUS)
        return size

    exporters.JsonLinesFile.append = append_then_maybe_crash  # type: ignore[method-assign]
    process_item = ArchivePipeline.process_item

    def stored_then_maybe_crash(self: ArchivePipeline, item: Any) -> Any:
        result = process_item(self, item)
        if step == "store" and self.exports_started == nth:  # after the batch step
            os._exit(CRASH_EXIT_STATUS)
        return result

    ArchivePipeline.process_item = stored_then_maybe_crash  # type: ignore[method-assign]


if __name__ == "__main__":
    install(os.environ["RFI_TEST_CRASH_AT"])
    sys.exit(execute(["scrapy", *sys.argv[1:]]))
