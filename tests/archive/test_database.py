"""archive.db: built from items.jsonl, kept current by the crawl, rebuilt equal, caught up."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import BARE, ROOT
from crashhooks import CRASH_EXIT_STATUS
from scrapy.utils.test import get_crawler

from rfi_spider.archive import database
from rfi_spider.archive.database_words import match_query
from rfi_spider.archive.pipelines import ArchivePipeline
from rfi_spider.items import ArticleItem


def line(number: int, edition: str = "cn", **fields: Any) -> dict[str, Any]:
    title = "台湾新闻" if edition == "cn" else "臺灣新聞"
    return {
        "url": f"https://www.rfi.fr/{edition}/中国/2024030{number % 9 + 1}-article-{number}",
        "title": f"{title} {number}",
        "published_at": f"2024-0{number % 9 + 1}-07T17:34:12+00:00",
        "modified_at": None,
        "date_text": "07/03/2024 - 18:34",
        "lead_image": None,
        "summary": "香港国安法" if number % 2 else None,
        "paragraphs": [f"第{number}段", "台湾海峡" if edition == "cn" else "臺灣海峽"],
        "body_html": "<p>x</p>",
        "section": "中国",
        "tags": ["亚洲", "台湾"],
        "authors": ["A", "B"],
        "source": "rfi.fr",
        "edition": edition,
        "crawled_at": "2024-03-08T00:00:00+00:00",
        **fields,
    }


def write(folder: Path, lines: list[dict[str, Any]], mode: str = "a") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "items.jsonl").open(mode, encoding="utf-8") as handle:
        for value in lines:
            handle.write(json.dumps(value, ensure_ascii=False) + "\n")


def rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT * FROM articles ORDER BY id").fetchall()


def columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(articles)")]


def search(path: Path, query: str) -> list[int]:
    with sqlite3.connect(path) as db:
        found = db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid",
            (match_query(query),),
        )
        return [row[0] for row in found]


def test_one_row_per_line_with_every_field(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    write(folder, [line(1), line(2, "tw")])
    result = database.sync(folder / database.DB_FILE, [folder])
    assert (result.added, result.skipped) == (2, 0)
    path = folder / database.DB_FILE
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        first, second = (dict(r) for r in db.execute("SELECT * FROM articles ORDER BY id"))
    expected = line(1)
    for field in ("url", "title", "published_at", "section", "source", "edition", "body_html"):
        assert first[field] == expected[field]
    assert first["modified_at"] is None and first["summary"] == "香港国安法"
    assert json.loads(first["paragraphs"]) == expected["paragraphs"]  # lists as JSON
    assert first["tags"] == '["亚洲", "台湾"]'  # UTF-8, not escaped
    assert first["version"] == 1  # no version field yet: 1
    assert first["month"] == "2024-02"
    assert first["file"].startswith("articles/2024/02/07/") and first["file"].endswith(".txt")
    assert first["folder"] == str(folder.resolve())
    assert (first["id"], second["id"]) == (1, 2)
    assert search(path, "台湾") == search(path, "臺灣") == [1, 2]  # both scripts


def test_versions_are_rows_of_their_own_and_new_fields_columns(tmp_path: Path) -> None:
    """Issue 28's lines: a new version of a URL is a new row; its new fields, columns."""
    folder = tmp_path / "out"
    write(folder, [line(1), line(1, version=2, content_digest="abc", previous_digest="def")])
    write(folder, [line(1, version=2), line(1), {"no": "url"}, line(3, version="x")])
    result = database.sync(folder / database.DB_FILE, [folder])
    assert (result.added, result.skipped) == (2, 4)  # duplicates, no URL, a bad version
    got = rows(folder / database.DB_FILE)
    names = columns(folder / database.DB_FILE)
    assert [r[names.index("version")] for r in got] == [1, 2]
    assert {"content_digest", "previous_digest"} <= set(names)
    db = sqlite3.connect(folder / database.DB_FILE)
    with db, pytest.raises(sqlite3.IntegrityError):  # the key is (url, version)
        db.execute("INSERT INTO articles (url, version) VALUES (?, 2)", (line(1)["url"],))


def test_sync_reads_only_what_is_new(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    path = folder / database.DB_FILE
    write(folder, [line(1)])
    assert database.sync(path, [folder]).added == 1
    assert database.sync(path, [folder]).added == 0
    write(folder, [line(2), line(3)])
    assert database.sync(path, [folder]).added == 2
    assert [r[0] for r in rows(path)] == [1, 2, 3]


def test_a_crash_between_the_line_and_the_row_is_caught_up(tmp_path: Path) -> None:
    """Lines written after the last sync (the crawl killed before its next one) are
    added by the next sync; a torn last line is not, until it is complete."""
    folder = tmp_path / "out"
    path = folder / database.DB_FILE
    write(folder, [line(1)])
    database.sync(path, [folder])
    write(folder, [line(2)])  # the JSON line landed, then the crash
    torn = json.dumps(line(3), ensure_ascii=False)
    with (folder / "items.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(torn[:40])
    result = database.sync(path, [folder])
    assert result.added == 1
    assert len(rows(path)) == 2
    with (folder / "items.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(torn[40:] + "\n")
    assert database.sync(path, [folder]).added == 1
    assert len(rows(path)) == 3


def test_the_database_never_holds_an_article_items_jsonl_lacks(tmp_path: Path) -> None:
    """items.jsonl replaced by a shorter file: the database is rebuilt from it."""
    folder = tmp_path / "out"
    path = folder / database.DB_FILE
    write(folder, [line(1), line(2), line(3)])
    database.sync(path, [folder])
    write(folder, [line(4)], mode="w")
    result = database.sync(path, [folder])
    assert result.rebuilt
    with sqlite3.connect(path) as db:
        assert [r[0] for r in db.execute("SELECT url FROM articles")] == [line(4)["url"]]
    assert search(path, "台湾") == [1]


def test_rebuild_equals_the_database_kept_in_batches(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    kept = folder / database.DB_FILE
    for start in range(0, 12, 5):  # the crawl: lines, a sync, more lines, a sync...
        write(folder, [line(n, "cn" if n % 3 else "tw") for n in range(start, start + 5)])
        database.sync(kept, [folder])
    rebuilt = tmp_path / "rebuilt.db"
    database.rebuild(rebuilt, [folder])
    assert rows(rebuilt) == rows(kept) and len(rows(kept)) == 15
    for query in ("台湾", "香港 国安法", "第7段", '"台湾海峡"'):
        assert search(rebuilt, query) == search(kept, query)


def test_several_folders_into_one_database(tmp_path: Path) -> None:
    write(tmp_path / "node1", [line(1), line(2)])
    write(tmp_path / "node2", [line(2), line(3, "tw")])  # line 2: both nodes exported it
    target = tmp_path / "all.db"
    result = database.rebuild(target, [tmp_path / "node1", tmp_path / "node2"])
    assert (result.added, result.skipped) == (3, 1)
    assert search(target, "臺灣") == [1, 2, 3]


def run_archive_db(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "archive-db", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_archive_db_command(tmp_path: Path) -> None:
    write(tmp_path / "a", [line(1), line(2)])
    write(tmp_path / "b", [line(3, "tw")])
    done = run_archive_db(str(tmp_path / "a"))
    assert done.returncode == 0, done.stderr
    assert "2 article version(s) from 1 folder(s)" in done.stdout
    assert len(rows(tmp_path / "a" / database.DB_FILE)) == 2
    refused = run_archive_db(str(tmp_path / "a"), str(tmp_path / "b"))
    assert refused.returncode == 2 and "-o FILE" in refused.stderr
    own_files = ("items.jsonl", ".state/x.db", "articles/x.db", "warc/x.db", "archive.db")
    for own in (*own_files, "archive.db-journal"):
        refused = run_archive_db(str(tmp_path / "a"), "-o", str(tmp_path / "a" / own))
        assert refused.returncode == 2 and "archive's own" in refused.stderr, own
        assert "Traceback" not in refused.stderr
    done = run_archive_db(str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "all.db"))
    assert done.returncode == 0, done.stderr
    assert len(rows(tmp_path / "all.db")) == 3
    assert run_archive_db(str(tmp_path / "nowhere")).returncode == 2
    # A bad setting: one line and exit 2, as for scrapy crawl (the folders come from it).
    refused = run_archive_db(str(tmp_path / "a"), "-s", "RFI_MAX_ATTEMPTS=0")
    assert refused.returncode == 2 and "bad setting: RFI_MAX_ATTEMPTS" in refused.stderr
    assert "Traceback" not in refused.stderr


def items(count: int) -> list[ArticleItem]:
    return [ArticleItem(**line(n)) for n in range(count)]


def open_pipeline(output: Path, batch: int, wait: float = 120.0) -> ArchivePipeline:
    settings = {**BARE, "RFI_OUTPUT_DIR": str(output), "RFI_ARCHIVE_DB": True}
    settings |= {"RFI_ARCHIVE_DB_BATCH": batch, "RFI_ARCHIVE_DB_WAIT": wait}
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def close(pipeline: ArchivePipeline) -> None:
    """As a crawl closes: the pipeline, then ``spider_closed`` (the database's last sync)."""
    pipeline.close_spider()
    pipeline.close_database()


def test_the_export_keeps_the_database_current(tmp_path: Path) -> None:
    output = tmp_path / "out"
    pipeline = open_pipeline(output, batch=2)
    for item in items(5):
        pipeline.process_item(item)
    close(pipeline)
    kept = output / database.DB_FILE
    assert len(rows(kept)) == 5
    assert pipeline.stats.get_value("rfi/archive_db/rows") == 5
    database.rebuild(tmp_path / "rebuilt.db", [output])
    assert rows(tmp_path / "rebuilt.db") == rows(kept)


def test_a_killed_crawl_is_caught_up_by_the_next(tmp_path: Path) -> None:
    """A run killed (os._exit) right after a JSON line, before its row: the next run's
    pipeline adds that row at start."""
    output = tmp_path / "out"
    paths = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).parent)]
    script = (
        f"import sys\nsys.path[:0] = {paths!r}\nfrom pathlib import Path\n"
        "import crashhooks\ncrashhooks.install('line:3')\n"
        "from test_database import open_pipeline, items\n"
        f"pipeline = open_pipeline(Path({str(output)!r}), batch=100)\n"
        "for item in items(3):\n    pipeline.process_item(item)\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=300
    )
    assert done.returncode == CRASH_EXIT_STATUS, done.stderr
    assert len((output / "items.jsonl").read_text().splitlines()) == 3
    kept = output / database.DB_FILE  # at most the first two lines, if synced at all
    assert not database.is_database(kept) or len(rows(kept)) < 3
    pipeline = open_pipeline(output, batch=100)
    close(pipeline)
    assert [r[1] for r in rows(output / database.DB_FILE)] == [line(n)["url"] for n in range(3)]
