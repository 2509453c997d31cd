"""``scrapy browse``'s Datasette: the archive database, read only, searchable in Chinese.

Datasette serves the database immutable (opened ``?immutable=1``: nothing can write it),
with ``allow_sql`` off (no arbitrary SQL, only the canned ``search`` query) and this
module registered as its plugin:

- ``prepare_connection`` registers ``rfi_match(q)`` (the FTS5 query of a user's words:
  :func:`~rfi_spider.archive.database_words.match_query`) and ``rfi_snippet(text, q)``, and
  replaces Datasette's own ``escape_fts``, which its table search box passes the box's
  text through, by ``rfi_match``: the box then segments and converts the query too
  (Datasette's would quote 台湾 whole, a word the index does not hold for 臺灣);
- ``render_cell`` shows a snippet's marks as ``<mark>`` once everything else is escaped,
  and a search result's ``article`` as a link to its page;
- ``extra_template_vars`` gives the article page (``row-archive-articles.html``) the
  article as a reader wants it: paragraphs, lists parsed, links to its files, and the
  WARC record of its page (:func:`~rfi_spider.archive.database.warc_record`: a path, an
  offset and the ``warcio extract`` command, as Datasette cannot serve a WARC file);
- ``asgi_wrapper`` drops ``_searchmode=raw`` (which would hand the raw query to FTS5,
  and its syntax errors to the user) and sends a Content-Security-Policy allowing
  scripts from this server only.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from markupsafe import Markup, escape

from rfi_spider.archive.database import FTS_TABLE, META_TABLE, TABLE, WARC_TABLE, warc_record
from rfi_spider.archive.database_words import MARK_END, MARK_START, match_query, snippet

DATABASE = "archive"
TEMPLATES = Path(__file__).with_name("templates")
CSP = "script-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'"

SEARCH_SQL = f"""
select
  a.id as article,
  a.title,
  a.edition,
  a.section,
  a.published_at,
  rfi_snippet(a.summary, a.paragraphs, :q) as snippet,
  bm25({FTS_TABLE}, 5.0, 2.0, 1.0) as score
from {FTS_TABLE} join {TABLE} as a on a.id = {FTS_TABLE}.rowid
where {FTS_TABLE} match rfi_match(:q)
order by bm25({FTS_TABLE}, 5.0, 2.0, 1.0), a.published_at desc
limit 500
"""


def metadata() -> dict[str, Any]:
    """Datasette's metadata: the articles table's facets, search and labels; the search
    query; arbitrary SQL refused."""
    return {
        "title": "RFI 中文 archive",
        "description": "Articles of RFI's Chinese editions (/cn simplified, /tw traditional).",
        "allow_sql": False,
        "databases": {
            DATABASE: {
                "tables": {
                    TABLE: {
                        "title": "Articles",
                        "facets": [
                            "edition",
                            "section",
                            "month",
                            "source",
                            {"array": "authors"},
                        ],
                        "fts_table": FTS_TABLE,
                        "fts_pk": "id",
                        "sort_desc": "published_at",
                        "label_column": "title",
                    },
                    FTS_TABLE: {"hidden": True},
                    META_TABLE: {"hidden": True},
                    WARC_TABLE: {"title": "WARC records of the pages"},
                },
                "queries": {
                    "search": {
                        "title": "Search the articles (ranked, with snippets)",
                        "description": (
                            "Words in simplified or traditional characters; "
                            '"a phrase" keeps words together; every word must be there.'
                        ),
                        "sql": SEARCH_SQL,
                    }
                },
            }
        },
    }


def _marked(value: str) -> Markup:
    """A snippet: its text escaped, its marks as ``<mark>``."""
    escaped = str(escape(value))
    return Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def article_snippet(summary: Any, paragraphs: Any, query: Any) -> str:
    """The snippet of an article's chapo and paragraphs (a JSON list) for ``query``."""
    parts = [summary] if isinstance(summary, str) else []
    parts += _list(paragraphs)
    return snippet(" ".join(parts), query if isinstance(query, str) else "")


@hookimpl(trylast=True)  # after Datasette's own, so that escape_fts is ours
def prepare_connection(conn: Any) -> None:
    conn.create_function("rfi_match", 1, match_query, deterministic=True)
    conn.create_function("escape_fts", 1, match_query, deterministic=True)
    conn.create_function("rfi_snippet", 3, article_snippet, deterministic=True)


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str) -> Any:
    if database != DATABASE or not isinstance(value, (str, int)):
        return None
    if column == "snippet" and isinstance(value, str):
        return _marked(value)
    if table is None and column == "article" and isinstance(value, int):
        return Markup(f'<a href="/{DATABASE}/{TABLE}/{value}">{value}</a>')
    return None


def _list(value: Any) -> list[str]:
    try:
        found = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return [str(v) for v in found] if isinstance(found, list) else []


def _http(url: Any) -> str | None:
    """``url`` if it is an http(s) URL (a link or image a page may show), else None."""
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return url
    return None


@hookimpl
def extra_template_vars(view_name: str, table: str | None, request: Any, datasette: Any) -> Any:
    if view_name != "row" or table != TABLE or request is None:
        return None

    async def article() -> dict[str, Any]:
        pks = request.url_vars.get("pks", "")
        db = datasette.get_database(DATABASE)
        rows = (await db.execute(f"select * from {TABLE} where id = ?", [pks])).rows
        if not rows:
            return {"article": None}
        row = dict(rows[0])
        folder = Path(row.get("folder") or ".")
        record = await db.execute_fn(
            lambda conn: warc_record(
                conn, row["url"], row.get("folder") or "", row.get("crawled_at")
            )
        )
        if record is not None:
            path = str(folder / record["warc_file"])
            record["path"] = path
            record["extract"] = f"warcio extract --payload {shlex.quote(path)} {record['offset']}"
        file = row.get("file")
        return {
            "article": {
                **row,
                "paragraphs": _list(row.get("paragraphs")),
                "tags": _list(row.get("tags")),
                "authors": _list(row.get("authors")),
                "original": _http(row.get("url")),
                "image": _http(row.get("lead_image")),
                "file_path": str(folder / file) if file else None,
                "file_uri": (folder / file).as_uri() if file and folder.is_absolute() else None,
                "warc": record,
            }
        }

    return article


@hookimpl
def asgi_wrapper() -> Any:
    def wrap(app: Any) -> Any:
        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") != "http":
                await app(scope, receive, send)
                return
            query = scope.get("query_string", b"").decode("latin-1")
            if "_searchmode" in query:
                kept = [(k, v) for k, v in parse_qsl(query, True) if k != "_searchmode"]
                scope = {**scope, "query_string": urlencode(kept).encode("latin-1")}

            async def send_with_csp(message: dict[str, Any]) -> None:
                if message.get("type") == "http.response.start":
                    headers = list(message.get("headers", []))
                    headers.append((b"content-security-policy", CSP.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            await app(scope, receive, send_with_csp)

        return wrapped

    return wrap


def app(database: Path) -> Any:
    """The Datasette ASGI app serving ``database`` read only, with this plugin."""
    from datasette.app import Database, Datasette
    from datasette.plugins import pm

    if not pm.is_registered(sys.modules[__name__]):
        pm.register(sys.modules[__name__], name="rfi_spider.search.browser")
    datasette = Datasette(
        [],
        metadata=metadata(),
        template_dir=str(TEMPLATES),
        settings={
            "allow_download": False,
            "allow_csv_stream": True,
            "truncate_cells_html": 120,
            "default_page_size": 50,
            "sql_time_limit_ms": 3000,
        },
    )
    datasette.add_database(
        Database(datasette, path=str(database.resolve()), is_mutable=False), name=DATABASE
    )
    return datasette.app()
