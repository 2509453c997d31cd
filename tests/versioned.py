"""A hand-made archive whose articles changed: several versions of each, in ``items.jsonl``
(with ``version``, ``content_digest``, ``previous_digest``) and as seed-style files
(``<hash>.txt`` for version 1, ``<hash>.v<N>.txt`` beside it for the others).

- TITLE: version 2 rewrites the headline;
- ADDED: version 2 adds a third paragraph, version 3 edits the second one;
- REMOVED: version 2 removes the second paragraph of three;
- SAME: one version; LEGACY: a line of an archive older than versions (no version fields).
"""

from __future__ import annotations

import hashlib
import json
from html import escape
from pathlib import Path
from typing import Any

from rfi_spider.archive import seedfile
from rfi_spider.archive.seedfile import seed_file_name
from rfi_spider.dates import to_ms

SITE = "https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/"
TITLE = SITE + "20240306-title"
ADDED = SITE + "20240306-added"
REMOVED = SITE + "20240306-removed"
SAME = SITE + "20240306-same"
LEGACY = SITE + "20240306-legacy"


def digest(item: dict[str, Any]) -> str:
    content = [item["title"], item["summary"], item["paragraphs"]]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def article(
    url: str,
    title: str,
    paragraphs: list[str],
    crawled_at: str = "2024-03-06T09:20:00+00:00",
    modified_at: str | None = None,
    summary: str = "导语",
) -> dict[str, Any]:
    """A valid item (``docs/item-spec.md``) without version fields."""
    return {
        "url": url,
        "title": title,
        "published_at": "2024-03-06T08:15:00+00:00",
        "modified_at": modified_at,
        "date_text": "06/03/2024 - 09:15",
        "lead_image": None,
        "summary": summary,
        "paragraphs": paragraphs,
        "body_html": "".join(f"<p>{escape(p, quote=False)}</p>" for p in paragraphs),
        "section": "中国",
        "tags": [],
        "authors": [],
        "source": "rfi.fr",
        "edition": "cn",
        "crawled_at": crawled_at,
    }


def versions(*items: dict[str, Any]) -> list[dict[str, Any]]:
    """The items as versions 1, 2, ... of one article, each digest chained to the one before."""
    out, previous = [], None
    for number, item in enumerate(items, 1):
        line = {**item, "version": number, "content_digest": digest(item)}
        line["previous_digest"] = previous
        previous = line["content_digest"]
        out.append(line)
    return out


def crawled(hour: int) -> dict[str, str]:
    return {"crawled_at": f"2024-03-06T{hour:02d}:00:00+00:00"}


def edited_lines() -> list[dict[str, Any]]:
    """The archive's lines, in the order a crawl and its revisits would append them."""
    title = versions(
        article(TITLE, "瑞典正式加入北约", ["斯德哥尔摩消息。"]),
        article(
            TITLE,
            "瑞典正式成为北约第32个成员国",
            ["斯德哥尔摩消息。"],
            modified_at="2024-03-06T10:05:00+00:00",
            **crawled(11),
        ),
    )
    added = versions(
        article(ADDED, "地震", ["第一段。", "第二段说的是晚间。"]),
        article(ADDED, "地震", ["第一段。", "第二段说的是晚间。", "新增的第三段。"], **crawled(12)),
        article(ADDED, "地震", ["第一段。", "第二段说的是早上。", "新增的第三段。"], **crawled(13)),
    )
    removed = versions(
        article(REMOVED, "选举", ["开头。", "将被删除的段落。", "结尾。"]),
        article(REMOVED, "选举", ["开头。", "结尾。"], **crawled(12)),
    )
    same = versions(article(SAME, "不变", ["只有一个版本。"]))
    legacy = article(LEGACY, "旧档案", ["没有版本字段。"])
    return [
        title[0],
        added[0],
        removed[0],
        same[0],
        legacy,
        title[1],
        added[1],
        removed[1],
        added[2],
    ]


def write_archive(root: Path, lines: list[dict[str, Any]], files: bool = True) -> Path:
    """``root/items.jsonl`` of ``lines`` and, with ``files``, each line's seed-style file."""
    root.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    (root / "items.jsonl").write_text(text, encoding="utf-8")
    for line in lines if files else []:
        name = seed_file_name(line["url"], line["published_at"])
        if line.get("version", 1) > 1:
            name = name.removesuffix(".txt") + f".v{line['version']}.txt"
        record = seedfile.SeedRecord(
            ms=to_ms(line["published_at"]),
            title=line["title"],
            url=line["url"],
            html=seedfile.site_html(line),
        )
        path = root / "articles" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(seedfile.render(record), encoding="utf-8")
    return root
