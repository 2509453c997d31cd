"""A ``.vN.txt`` file left by a crash before its version reached the state (the rule of
``ExportJournal``'s docstring and docs/versions.md "Exactly once"): at the next start an
intent whose version the state does not know loses its file, and a version whose JSON
line landed keeps it. The re-run then writes each version once: one ``.v2.txt`` with the
re-run's bytes, no ``.v3.txt``, and ``scrapy qa`` finds nothing.

In process, with the crash tests' own hooks (``tests/crashhooks.py``): their
``os._exit`` is swapped for an exception that unwinds like a kill (nothing closed, the
batch never committed); the new pipeline is the re-run.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import crashhooks
import pytest
from conftest import BARE, FIXTURES
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from rfi_spider.archive import exporters
from rfi_spider.archive.pipelines import ArchivePipeline
from rfi_spider.items import ArticleItem
from rfi_spider.quality import qa

EXPECTED = json.loads((FIXTURES / "sample_site_expected.json").read_text(encoding="utf-8"))
EDITED, EDITED_AGAIN = "瑞典正式加入北约（更新）", "瑞典正式加入北约（再次更新）"


class Killed(BaseException):
    """The process ended at a crash point (a BaseException: no ``except`` in the export
    path catches it, as none survives a kill -9)."""


def article(**changes: Any) -> ArticleItem:
    fields = {
        **EXPECTED["articles"][0],
        "body_html": "<p>x</p>",
        "crawled_at": "2024-03-08T00:00:00+00:00",
    }
    return ArticleItem(**{**fields, **changes})


def open_pipeline(output: Path) -> ArchivePipeline:
    """The archive pipeline of a run; its state batch is committed only at the close (as
    RFI_STATE_BATCH's default does in a short run), so a crash leaves it uncommitted."""
    settings = {
        **BARE,
        "RFI_OUTPUT_DIR": str(output),
        "RFI_STATE_BATCH": 100,
        "RFI_STATE_BATCH_SECONDS": 3600,
    }
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def export(pipeline: ArchivePipeline, *items: ArticleItem) -> None:
    for item in items:
        with contextlib.suppress(DropItem):  # a version already exported: a re-run meets it
            pipeline.process_item(item)


def crashed_run(output: Path, at: str, title: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Version 1, then the revisit that makes version 2 (``title``), killed at ``at``."""
    with monkeypatch.context() as patch:
        for owner, name in (
            (exporters.IntentLog, "record"),
            (exporters.SeedFiles, "write_at"),  # crashhooks wraps write_at
            (exporters.JsonLinesFile, "append"),
            (ArchivePipeline, "process_item"),
        ):
            patch.setattr(owner, name, getattr(owner, name))  # restored after the crash

        def killed(_status: int) -> None:
            raise Killed

        patch.setattr(crashhooks, "os", SimpleNamespace(_exit=killed))
        crashhooks.install(at)
        pipeline = open_pipeline(output)
        with pytest.raises(Killed):
            export(pipeline, article(), article(revisit=True, title=title))
    # What the kernel does for a killed process: its files closed, nothing flushed more.
    for handle in (pipeline.intents, pipeline.jsonl, pipeline.lock, pipeline.store):
        handle.close()


def archive_files(output: Path) -> dict[str, bytes]:
    """items.jsonl and the seed-style files, by path (the state and temporary files left out)."""
    files = {"items.jsonl": (output / "items.jsonl").read_bytes()}
    for path in sorted((output / "articles").rglob("*.txt")):
        if ".tmp" not in path.relative_to(output).parts:
            files[str(path.relative_to(output))] = path.read_bytes()
    return files


@pytest.mark.parametrize(
    ("at", "crashed_title"),
    [
        ("file:2", EDITED),  # .v2.txt written, no line: deleted at start, written again
        ("file:2", EDITED_AGAIN),  # ... and the page changed meanwhile: the re-run's bytes
        ("line:2", EDITED),  # the line landed, the state not: the file is version 2's
        ("store:2", EDITED),  # in the state's batch, never committed: the same
    ],
)
def test_a_crash_before_the_state_knows_version_2_then_a_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: str, crashed_title: str
) -> None:
    reference = tmp_path / "reference"  # the same exports, never killed
    pipeline = open_pipeline(reference)
    export(pipeline, article(), article(revisit=True, title=EDITED))
    pipeline.close_spider()
    want = archive_files(reference)
    assert sorted(name.rsplit("/", 1)[-1].split(".", 1)[1] for name in want) == [
        "jsonl",
        "txt",
        "v2.txt",
    ]

    output = tmp_path / "out"
    crashed_run(output, at, crashed_title, monkeypatch)
    assert len(list((output / "articles").rglob("*.v2.txt"))) == 1  # the crash's file
    # Before the re-run, QA names a file without its line (an export the crash cut short).
    findings = [(f.kind, f.where.endswith(".v2.txt")) for f in qa.check_archive(output).findings]
    assert findings == ([("no-item", True)] if at.startswith("file") else [])
    rerun = open_pipeline(output)
    # At the start: the file of a version with no line is gone (the article may never come
    # back, or at another path); the file of a version whose line landed is kept.
    kept = list((output / "articles").rglob("*.v2.txt"))
    assert len(kept) == (0 if at.startswith("file") else 1)
    export(rerun, article(), article(revisit=True, title=EDITED))
    rerun.close_spider()

    assert archive_files(output) == want  # one .v2.txt, the right bytes, no .v3.txt
    removed = rerun.stats.get_value("rfi/repaired/unfinished_export")
    assert removed == (1 if at.startswith("file") else None)
    report = qa.check_archive(output)
    assert report.ok, [str(finding) for finding in report.findings]
