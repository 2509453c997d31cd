"""The browser's sandbox: a hostile challenge page's script reaches no other origin."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import run_crawl
from test_blocked import ARTICLE_PATHS, BROWSER

from rfi_spider.demo.localsite import LocalSite, Page

MARK = "FROM-THE-OTHER-ORIGIN"


class Other:
    """A second loopback server (a fake Scrapyd): every TCP connection and UDP packet noted."""

    def __init__(self, page: bytes) -> None:
        self.seen: list[str] = []
        other = self

        class Server(ThreadingHTTPServer):
            def get_request(self):  # type: ignore[no-untyped-def]
                conn, addr = super().get_request()
                other.seen.append(f"tcp {addr}")
                return conn, addr

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                other.seen.append(f"{self.command} {self.path}")
                data = page
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET  # noqa: N815 (http.server names)

            def log_message(self, *args: object) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.udp.settimeout(0)

    def __enter__(self) -> Other:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        try:
            while True:
                self.seen.append(f"udp {self.udp.recv(2000)[:8]!r}")
        except OSError:
            pass
        self.udp.close()


def hostile_page(other: str, port: int) -> bytes:
    """A challenge whose script tries every way out, then navigates to the other origin."""
    return f"""<!DOCTYPE html><html><head><title>Just a moment...</title>
<link rel="preconnect" href="{other}"><link rel="prefetch" href="{other}/prefetch">
</head><body><img src="{other}/img.png"><script src="{other}/s.js"></script>
<iframe src="{other}/frame"></iframe><script>
fetch("{other}/schedule.json", {{method: "POST", mode: "no-cors", body: "project=x"}})
  .catch(function () {{}});
var x = new XMLHttpRequest(); x.open("GET", "{other}/xhr"); x.send();
navigator.sendBeacon("{other}/schedule.json", "project=x");
try {{ new WebSocket("ws://127.0.0.1:{port}/ws"); }} catch (e) {{}}
if (navigator.serviceWorker) navigator.serviceWorker.register("/sw.js").catch(function () {{}});
try {{
  var pc = new RTCPeerConnection({{iceServers: [{{urls: "stun:127.0.0.1:{port}"}}]}});
  pc.createDataChannel("d"); pc.createOffer().then(function (o) {{ pc.setLocalDescription(o); }});
}} catch (e) {{}}
new EventSource("{other}/events");
window.open("{other}/popup");
setTimeout(function () {{ window.location = "{other}/article"; }}, 300);
</script></body></html>""".encode()


@pytest.fixture(scope="module")
def escape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, list[str]]]:
    target = ARTICLE_PATHS[0]
    # The other origin serves a real article of the site, marked: without the check of
    # the final URL it would be exported as the requested article.
    sample = LocalSite.sample().pages[target].body.replace(b"<p>", f"<p>{MARK}".encode(), 1)
    with Other(sample) as other:
        url = f"http://127.0.0.1:{other.port}"
        site = LocalSite.sample()

        def hook(handler: BaseHTTPRequestHandler, key: str) -> Page | None:
            if key == target:
                return Page(hostile_page(url, other.port), status=403)
            if key == "/sw.js":
                return Page(b"self.onfetch = function () {};", content_type="text/javascript")
            return None

        site.hook = hook
        folder: Path = tmp_path_factory.mktemp("escape")
        with site:
            result = run_crawl(
                folder / "out",
                f"base_url={site.url}",
                f"url=https://www.rfi.fr{target}",
                settings={**BROWSER, "RFI_BROWSER_TIMEOUT": "3"},
            )
    yield result, other.seen


def test_the_other_origin_receives_nothing(escape) -> None:
    result, seen = escape
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("rfi/browser/requests") == 1
    assert seen == []


def test_nothing_of_the_other_origin_is_exported(escape) -> None:
    result, _ = escape
    assert not result.items
    assert MARK not in (result.output / "items.jsonl").read_text(encoding="utf-8")


def test_the_navigation_is_counted_offsite(escape) -> None:
    result, _ = escape
    assert result.stat("rfi/browser/offsite") == 1
    assert "left its origin" in result.log
    assert result.stat("rfi/browser/sandbox/aborted") >= 8
