"""The bundled offline copy of the site (HTML, feed, robots.txt), served by ``localsite``.

Both editions: /cn (home, sections, a column, articles, the daily archive, the feed)
and a smaller /tw (home, two sections, four articles, the feed).

It also serves a feedx-style full-text mirror feed at :data:`MIRROR_FEED`, which the
demo (``-a demo=1``) reads as its feed mirror.
"""

MIRROR_FEED = "/mirror/rfi.xml"
# The section and column listings the sample site has (the demo walks only these).
SECTIONS = ["国际", "中国", "法国", "专栏检索/法国报纸摘要"]
# Per edition (the key of editions.py): its listings and the mirror feeds the demo reads.
EDITION_SECTIONS = {"cn": SECTIONS, "tw": ["國際", "中國"]}
MIRROR_FEEDS = {"cn": [MIRROR_FEED], "tw": []}
