"""Issue 13, as a new user would try it: the real-markup pages of the platform served on
loopback as /cn articles, linked from a home page whose sponsored and highlighted asides are
marked by class alone. Title, date, lazy lead picture and paragraphs come out right."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from conftest import FIXTURES, run_crawl

from rfi_spider.demo.localsite import LocalSite

PAGES = FIXTURES / "pages"
REAL = ["container_wrapper_decoys", "container_bare_article", "lazy_lead_image", "cross_promotion"]
DECOY = "/cn/%E4%B8%AD%E5%9B%BD/20240301-decoy-in-an-aside"


def test_real_markup_pages_crawled_right(tmp_path: Path) -> None:
    site = LocalSite()
    specs = {}
    links = []
    for name in REAL:
        spec = json.loads((PAGES / f"{name}.json").read_text(encoding="utf-8"))
        specs[spec["expected"]["url"]] = spec["expected"]
        site.add(urlsplit(spec["fetched_url"]).path, (PAGES / f"{name}.html").read_bytes())
        links.append(
            f'<div class="m-item-list-article"><a href="{spec["fetched_url"]}">x</a></div>'
        )
    aside = (
        '<aside class="o-aside-content o-aside-content--highlighted">'
        f'<a href="{DECOY}">d</a></aside>'
    )
    # An article of its own behind the aside: followed, it would be exported too.
    site.add(DECOY, (PAGES / "lead_without_chapo.html").read_bytes())
    site.add("/cn/", "<html><body>" + "".join(links) + aside + "</body></html>")
    with site:
        result = run_crawl(
            tmp_path / "out", f"base_url={site.url}", settings={"RFI_SECTIONS": "", "RFI_FEEDS": ""}
        )
    assert result.returncode == 0, result.log[-3000:]
    got = {item["url"]: item for item in result.items}
    assert sorted(got) == sorted(specs)  # the aside's link was never followed
    for url, item in got.items():
        want = specs[url]
        for field in ("title", "published_at", "date_text", "lead_image", "summary", "paragraphs"):
            assert item[field] == want[field], (url, field)
        assert not item["lead_image"].startswith("data:")
        joined = "\n".join(item["paragraphs"])
        for leak in ("不属于本文", "延伸阅读", "阅读更多", "直播："):
            assert leak not in joined
    lazy = next(i for i in got.values() if "BELEM" in (i["lead_image"] or ""))
    assert "/w:1280/" in lazy["lead_image"]
