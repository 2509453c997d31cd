"""The benchmark's web server: ``python -m benchmarks.server --pages N``.

aiohttp in its own process (so that serving never competes with the crawl for
the GIL), generating each page on request from :class:`~benchmarks.pages.BenchSite`
(about 0.3 ms a page). It prints ``READY http://127.0.0.1:<port>`` once it listens
and serves until it is terminated. ``--challenge``: every article answers 403 with
the local site's JavaScript challenge unless the challenge's cookie is sent, so
that a crawl gets each article through its browser fallback.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from aiohttp import web

from benchmarks.pages import BenchSite
from rfi_spider.demo.localsite import CHALLENGE_COOKIE, challenge_page


def make_app(site: BenchSite, challenge: bool = False) -> web.Application:
    challenged = challenge_page()

    async def handle(request: web.Request) -> web.Response:
        found = site.route(request.raw_path)
        if found is None:
            return web.Response(status=404, body=b"<html><body>404</body></html>")
        passed = CHALLENGE_COOKIE in request.headers.get("Cookie", "")
        if challenge and not passed and site.is_article_path(request.raw_path):
            return web.Response(status=403, body=challenged, headers={"Content-Type": "text/html"})
        body, content_type = found
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    return app


async def serve(pages: int, port: int, challenge: bool = False) -> None:
    site = BenchSite(pages)
    site.route("/robots.txt")  # build the path table before the first timed request
    runner = web.AppRunner(make_app(site, challenge), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    host, bound = runner.addresses[0][:2]
    print(f"READY http://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, required=True, help="how many article pages")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--challenge", action="store_true", help="articles: 403 + JS challenge")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.pages, args.port, args.challenge))
    sys.exit(0)


if __name__ == "__main__":
    main()
