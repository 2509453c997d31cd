"""The bundled offline copy of the site (HTML, feed, robots.txt), served by ``localsite``.

It also serves a feedx-style full-text mirror feed at :data:`MIRROR_FEED`, which the
demo (``-a demo=1``) reads as its feed mirror.
"""

MIRROR_FEED = "/mirror/rfi.xml"
# The section and column listings the sample site has (the demo walks only these).
SECTIONS = ["国际", "中国", "法国", "专栏检索/法国报纸摘要"]
