"""What the WARC capture's writer thread gets of one download: an :class:`Exchange`, plain
data taken from Scrapy's request and response on the reactor's thread, and the response's
status line and headers as the record keeps them.

A page the browser fallback fetched is taken as the crawl uses it (:func:`browser_page`),
judged with fetch's block detection: a challenge page is not the site's copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus

from scrapy import Request
from scrapy.http import Headers, Response
from warcio.statusandheaders import StatusAndHeaders

from rfi_spider.fetch.blocking import has_site_markup, is_challenge, served_page

# Response headers not kept: Scrapy's handler has already undone the chunked encoding.
_DROPPED_HEADERS = frozenset({"transfer-encoding"})


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """Scrapy's headers as (name, value) text pairs, one per value (ISO-8859-1, as HTTP).

    Read from the dict ``Headers`` is (names already normalized, each with its list of
    values), as ``Headers.items()`` gives them but without its ``getlist`` normalizing
    every name again: that was four fifths of the capture's CPU on the reactor's thread,
    where this runs for every response (issue 26)."""
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in dict.items(headers)
        for value in values
    ]


@dataclass
class Exchange:
    """What the writer thread needs of one request and its response (plain data)."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    protocol: str
    response_headers: list[tuple[str, str]]
    body: bytes
    date: datetime
    ip: str | None
    browser: bool

    @classmethod
    def of(cls, request: Request, response: Response) -> Exchange:
        ip = getattr(response, "ip_address", None)
        browser = bool(request.meta.get("playwright"))
        if browser:
            response = browser_page(request, response)
        return cls(
            url=response.url,
            method=request.method,
            request_headers=header_pairs(request.headers),
            request_body=request.body or b"",
            status=response.status,
            protocol=response.protocol or "HTTP/1.1",
            response_headers=header_pairs(response.headers),
            body=response.body,
            date=datetime.now(UTC),
            ip=str(ip) if ip is not None else None,
            browser=browser,
        )


def browser_page(request: Request, rendered: Response) -> Response:
    """What the browser got, as the crawl uses it: the HTML the server sent the browser's
    last document when it is the page (not a challenge), else the DOM the browser shows."""
    served = served_page(request, rendered)
    if served is not None and has_site_markup(served) and not is_challenge(served):
        return served
    return rendered


def response_status_and_headers(exchange: Exchange) -> StatusAndHeaders:
    """The response's status line (the status's standard phrase, none for an unknown
    status) and headers, ``Transfer-Encoding`` left out: the body is kept decoded of it."""
    try:
        reason = HTTPStatus(exchange.status).phrase
    except ValueError:
        reason = ""
    response_headers = [
        (name, value)
        for name, value in exchange.response_headers
        if name.lower() not in _DROPPED_HEADERS
    ]
    return StatusAndHeaders(
        f"{exchange.status} {reason}".strip(), response_headers, protocol=exchange.protocol
    )
