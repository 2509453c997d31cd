"""The benchmark's web server: ``python -m benchmarks.server --pages N``.

aiohttp in its own process (so that serving never competes with the crawl for
the GIL), generating each page on request from :class:`~benchmarks.pages.BenchSite`
(about 0.3 ms a page). It prints ``READY http://127.0.0.1:<port>`` once it listens
and serves until it is terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from aiohttp import web

from benchmarks.pages import BenchSite


def make_app(site: BenchSite) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        found = site.route(request.raw_path)
        if found is None:
            return web.Response(status=404, body=b"<html><body>404</body></html>")
        body, content_type = found
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    return app


async def serve(pages: int, port: int) -> None:
    site = BenchSite(pages)
    site.route("/robots.txt")  # build the path table before the first timed request
    runner = web.AppRunner(make_app(site), access_log=None)
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
    args = parser.parse_args(argv)
    asyncio.run(serve(args.pages, args.port))
    sys.exit(0)


if __name__ == "__main__":
    main()
