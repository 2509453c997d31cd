"""The lead picture of a main media block, lazy-loaded or not (issue 13).

The site's pictures are ``<picture>`` elements: ``<source srcset>`` variants and an
``<img>`` whose ``src`` may be a ``data:`` placeholder or a 1-pixel gif until a script
copies the real address from ``srcset``, ``data-src`` or ``data-srcset``. Every address
offered is a candidate; the one at the largest width wins, the ``<img>``'s own before a
``<source>``'s at the same width (its format is the one every browser reads).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple
from urllib.parse import urlsplit

from lxml.etree import _Element as HtmlElement

from rfi_spider.extract import selectors as sel
from rfi_spider.extract.body_html import absolute_http_url

_PATH_WIDTH = re.compile(sel.IMAGE_PATH_WIDTH)
_PLACEHOLDER_NAME = re.compile(sel.IMAGE_PLACEHOLDER_NAME, re.IGNORECASE)
_WIDTH_DESCRIPTOR = re.compile(r"(?:^|\s)(\d+)w(?:\s|$)")
# A srcset URL: the white space and commas before it skipped, then a run of non-space.
_SRCSET_URL = re.compile(r"[\s,]*(\S*)")
# A placeholder file name ends in .gif, .png or .svg: an address without one is no
# placeholder (three substring tests, not a generator over a tuple: 0.5 µs an address).


class Candidate(NamedTuple):
    """An address offered for a picture, with the width it is known to have (0: unknown)."""

    url: str
    width: int
    rank: int  # at equal width, lower first: <img src>, <img srcset>, <source srcset>


def is_placeholder(url: str) -> bool:
    """A ``data:`` URL or a placeholder file (blank.gif, pixel.png...): never a picture."""
    lowered = url.strip().lower()
    if not lowered or lowered.startswith(("data:", "about:", "javascript:")):
        return True
    if ".gif" not in lowered and ".png" not in lowered and ".svg" not in lowered:
        return False  # the path cannot end in one: no need to split the URL
    return bool(_PLACEHOLDER_NAME.search(urlsplit(url.strip()).path))


def parse_srcset(value: str | None) -> list[tuple[str, int]]:
    """``srcset`` entries as (url, width), as the HTML standard splits them.

    A URL is a run of non-space characters (commas inside it are kept: the media
    server's URLs may hold JSON); trailing commas end it, else its descriptors run to
    the next comma. The width is 0 unless a ``w`` descriptor gives it. (One regular
    expression match a URL, not a Python step a character: ``\\s`` and ``str.isspace``
    are the same set.)
    """
    if not value:
        return []
    found = []
    position, length = 0, len(value)
    while position < length:
        match = _SRCSET_URL.match(value, position)
        url, position = match.group(1), match.end()  # type: ignore[union-attr]
        descriptors = ""
        if url.endswith(","):
            url = url.rstrip(",")
        elif url:
            end = value.find(",", position)
            end = length if end < 0 else end
            descriptors, position = value[position:end], end + 1
        if url:
            found.append((url, _width_descriptor(descriptors) if descriptors else 0))
    return found


def _width_descriptor(descriptors: str) -> int:
    match = _WIDTH_DESCRIPTOR.search(descriptors)
    return int(match.group(1)) if match else 0


def _known_width(url: str, declared: int) -> int:
    """The width given by a descriptor, else by the media server's ``/w:NNN/`` path."""
    if declared:
        return declared
    match = _PATH_WIDTH.search(url)
    return int(match.group(1)) if match else 0


def _one_pixel(image: HtmlElement) -> bool:
    return image.get("width", "").strip() in ("0", "1") or image.get("height", "").strip() in (
        "0",
        "1",
    )


def offers(image: HtmlElement) -> Iterator[Candidate]:
    """Every address an ``<img>`` and its ``<picture>``'s sources offer, in order; the
    ``<img>``'s own are real pictures, ``srcset`` entries may still be placeholders."""
    tiny = _one_pixel(image)
    for attr in sel.IMAGE_SRC_ATTRS:
        url = image.get(attr)
        if url and not is_placeholder(url) and not (tiny and attr == "src"):
            width = _known_width(url, 0)
            declared = image.get("width") or ""
            if not width and attr == "src" and declared.strip().isdigit():
                width = int(declared)
            yield Candidate(url.strip(), width, 0)
    for attr in sel.IMAGE_SRCSET_ATTRS:
        for url, width in parse_srcset(image.get(attr)):
            yield Candidate(url, _known_width(url, width), 1)
    for source in sel.PICTURE_SOURCES(image):
        for attr in sel.IMAGE_SRCSET_ATTRS:
            for url, width in parse_srcset(source.get(attr)):
                yield Candidate(url, _known_width(url, width), 2)


def candidates(image: HtmlElement) -> Iterator[Candidate]:
    """Every real address an ``<img>`` and its ``<picture>``'s sources offer."""
    return (offer for offer in offers(image) if offer.rank == 0 or not is_placeholder(offer.url))


def best_picture(image: HtmlElement | None) -> str | None:
    """The address of the largest picture offered for ``image`` (None: no real picture).

    An offer is tested for a placeholder only when it would win: one that would not
    changes nothing either way (most of a ``<picture>``'s variants; issue 26).
    """
    if image is None:
        return None
    best: Candidate | None = None
    for offer in offers(image):
        wins = best is None or (offer.width, -offer.rank) > (best.width, -best.rank)
        if wins and (offer.rank == 0 or not is_placeholder(offer.url)):
            best = offer
    return best.url if best else None


def lead_image_urls(images: Iterable[HtmlElement | None], base_url: str) -> list[str]:
    """The lead picture of a page or a mirror entry: the best picture of the first of
    ``images`` that offers a real one, as an absolute http(s) URL (empty: none)."""
    for image in images:
        url = absolute_http_url(best_picture(image), base_url)
        if url:
            return [url]
    return []
