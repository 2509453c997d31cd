"""A small HTTP server on 127.0.0.1 that serves a copy of the site from memory.

It serves the bundled sample site for the offline demo (``-a demo=1``) and
the fixtures of the tests. Pages are read with ``importlib.resources``, so it
works from a checkout, a wheel or a Scrapyd egg alike.

``python -m rfi_spider.demo.localsite --challenge`` serves the sample site with every
article and listing behind a JavaScript challenge (see :class:`ChallengeHook`),
to try the browser fallback: ``scrapy crawl rfi_cn -a base_url=<the URL it prints>``
(or ``rfi_tw``).
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url

from rfi_spider.editions import edition_of

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/x-gzip",  # a gzipped sitemap, served as a file (no Content-Encoding)
}


@dataclass
class Page:
    """One response: status, body and headers."""

    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


def route_key(path: str) -> str:
    """The lookup key of a request path: percent-encoded with upper-case hex, query kept."""
    canonical = canonicalize_url("http://localhost" + (path or "/"), keep_fragments=False)
    parts = urlsplit(canonical)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# A hook may answer a request itself (a challenge, a 429) before the page table is read.
Hook = Callable[[BaseHTTPRequestHandler, str], Page | None]


# The cookie that the challenge's script sets, and that lets a request through.
CHALLENGE_COOKIE = "rfi_challenge=passed"
CHALLENGE_TITLE = "Just a moment..."


def challenge_page(passes: bool = True) -> bytes:
    """A JavaScript challenge: its script sets the cookie and reloads (or never does)."""
    script = (
        f'document.cookie = "{CHALLENGE_COOKIE}; path=/";'
        " setTimeout(function () { location.reload(); }, 50);"
        if passes
        else "/* this challenge is never solved */"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{CHALLENGE_TITLE}</title></head><body>"
        "<noscript>Enable JavaScript and cookies to continue.</noscript>"
        f"<script>{script}</script></body></html>"
    ).encode()


def is_listing_or_article(path: str) -> bool:
    """Every page of an edition (/cn/, /tw/) but its feeds."""
    edition = edition_of(path)
    return edition is not None and path.startswith(edition.home) and path not in edition.feeds


class ChallengeHook:
    """A hook: pages of ``pages`` answer :func:`challenge_page` unless the cookie is sent.

    ``status_of(path)`` gives the status of a page's challenge (None: no challenge);
    by default every article and listing answers 403. Only a client that runs the
    script (a real browser) gets the pages.
    """

    def __init__(
        self,
        pages: Mapping[str, Page],
        status_of: Callable[[str], int | None] | None = None,
        passes: bool = True,
    ) -> None:
        self.pages = pages
        self.status_of = status_of or (lambda path: 403 if is_listing_or_article(path) else None)
        self.passes = passes

    def __call__(self, handler: BaseHTTPRequestHandler, key: str) -> Page | None:
        if CHALLENGE_COOKIE in (handler.headers.get("Cookie") or "") or key not in self.pages:
            return None
        status = self.status_of(key)
        return Page(challenge_page(self.passes), status=status) if status else None


class LocalSite:
    """Serves ``pages`` (path -> :class:`Page`) on a free loopback port, in a thread.

    ``host`` is the loopback address to listen on (``127.0.0.2``: a second host).
    """

    def __init__(
        self,
        pages: Mapping[str, Page] | None = None,
        hook: Hook | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.pages: dict[str, Page] = {route_key(k): v for k, v in (pages or {}).items()}
        self.hook = hook
        self.host = host
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._server: ThreadingHTTPServer | None = None

    @classmethod
    def sample(cls, hook: Hook | None = None) -> LocalSite:
        """The sample site shipped in ``rfi_spider/demo/sample_site``."""
        return cls(load_site("rfi_spider.demo.sample_site"), hook=hook)

    def add(self, path: str, body: str | bytes, status: int = 200, **kwargs: object) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[route_key(path)] = Page(data, status, **kwargs)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the site is not started")
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET socket's address, never bytes
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Start serving; returns the base URL (``http://<host>:<port>``)."""
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                key = route_key(self.path)
                site.requests.append(("GET", key, dict(self.headers.items())))
                page = site.hook(self, key) if site.hook else None
                if page is None:
                    page = site.pages.get(key) or site.pages.get(key.split("?")[0])
                if page is None:
                    page = Page(b"<html><body><h1>404</h1></body></html>", status=404)
                try:
                    self.send_response(page.status)
                    self.send_header("Content-Type", page.content_type)
                    self.send_header("Content-Length", str(len(page.body)))
                    for name, value in page.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(page.body)
                except (BrokenPipeError, ConnectionResetError):  # the client is gone (killed)
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                logger.debug("local site: " + format, *args)

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalSite:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def load_site(package: str) -> dict[str, Page]:
    """Read a site folder (``routes.json`` + files) from package resources."""
    folder = resources.files(package)
    routes = json.loads(folder.joinpath("routes.json").read_text(encoding="utf-8"))
    pages = {}
    for path, name in routes.items():
        suffix = name[name.rfind(".") :]
        pages[path] = Page(
            folder.joinpath(name).read_bytes(),
            content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
        )
    return pages


def main(argv: list[str] | None = None) -> None:
    """Serve the sample site until interrupted (``--challenge``: behind the challenge)."""
    parser = argparse.ArgumentParser(
        prog="python -m rfi_spider.demo.localsite", description=main.__doc__
    )
    parser.add_argument("--challenge", action="store_true", help="articles and listings: 403 + JS")
    args = parser.parse_args(argv)
    site = LocalSite.sample()
    if args.challenge:
        site.hook = ChallengeHook(site.pages)
    print(f"serving the sample site at {site.start()} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()


if __name__ == "__main__":
    main()
