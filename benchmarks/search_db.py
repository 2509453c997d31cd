"""The archive database: build time and size for N articles, query time for a
two-character word (issue 29).

    python -m benchmarks.search_db --articles 20000     # the issue's size
    python -m benchmarks.search_db --articles 500       # a quick look

Articles are made up from a fixed vocabulary of Chinese words, ~1,500 characters each
(about an RFI article), half simplified (/cn) and half converted to traditional (/tw).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

WORDS = [
    "台湾",
    "香港",
    "人权",
    "国安法",
    "总统",
    "选举",
    "民主",
    "经济",
    "法国",
    "巴黎",
    "中国",
    "北京",
    "外交",
    "会议",
    "乌克兰",
    "俄罗斯",
    "记者",
    "新闻",
    "自由",
    "政府",
    "表示",
    "认为",
    "问题",
    "发展",
    "国际",
    "社会",
    "安全",
    "合作",
    "关系",
    "美国",
    "欧洲",
    "政策",
]


def make_items(folder: Path, count: int) -> None:
    import opencc

    to_traditional = opencc.OpenCC("s2tw")
    rng = random.Random(29)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "items.jsonl").open("w", encoding="utf-8") as handle:
        for number in range(count):
            edition = "cn" if number % 2 else "tw"
            paragraphs = ["，".join(rng.choices(WORDS, k=40)) + "。" for _ in range(12)]
            title = "".join(rng.choices(WORDS, k=6))
            if edition == "tw":
                paragraphs = [to_traditional.convert(p) for p in paragraphs]
                title = to_traditional.convert(title)
            line = {
                "url": f"https://www.rfi.fr/{edition}/bench/2024030{number % 9 + 1}-{number}",
                "title": title,
                "published_at": f"2024-0{number % 9 + 1}-07T10:00:00+00:00",
                "modified_at": None,
                "date_text": "07/03/2024 - 11:00",
                "lead_image": None,
                "summary": paragraphs[0][:60],
                "paragraphs": paragraphs,
                "body_html": "".join(f"<p>{p}</p>" for p in paragraphs),
                "section": rng.choice(["中国", "国际", "法国"]),
                "tags": [],
                "authors": [],
                "source": "rfi.fr",
                "edition": edition,
                "crawled_at": "2024-03-08T00:00:00+00:00",
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()
    from rfi_spider.archive import database
    from rfi_spider.archive.database_words import match_query
    from rfi_spider.search.browser import SEARCH_SQL, article_snippet

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_items(folder, args.articles)
        started = time.perf_counter()
        database.rebuild(folder / "archive.db", [folder])
        build = time.perf_counter() - started
        size = (folder / "archive.db").stat().st_size
        db = sqlite3.connect(folder / "archive.db")
        db.create_function("rfi_match", 1, match_query)
        db.create_function("rfi_snippet", 3, article_snippet)
        started = time.perf_counter()
        for _ in range(args.queries):
            count = db.execute(
                "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH rfi_match('人权')"
            ).fetchone()[0]
        match = (time.perf_counter() - started) / args.queries
        started = time.perf_counter()
        shown = len(db.execute(SEARCH_SQL, {"q": "臺灣"}).fetchall())
        page = time.perf_counter() - started
        items = (folder / "items.jsonl").stat().st_size
    print(f"articles                 {args.articles:,}")
    print(f"build                    {build:.1f} s ({build / args.articles * 1000:.1f} ms/article)")
    print(f"archive.db               {size / 1e6:.1f} MB (items.jsonl {items / 1e6:.1f} MB)")
    print(f"match 人权 (count)       {match * 1000:.1f} ms ({count:,} articles)")
    print(f"search page 臺灣         {page * 1000:.0f} ms ({shown} rows ranked, snippets)")


if __name__ == "__main__":
    main()
