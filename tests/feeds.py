"""Build mirror feeds for the tests: feedx-shaped and RSSHub-shaped entries, RSS and Atom."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape

from lxml import html as lxml_html

FOOTER = (
    '<br><hr><div>获取更多RSS：<br><a href="https://feedx.net" style="color:orange" '
    'target="_blank">https://feedx.net</a> <br><a href="https://feedx.run" '
    'style="color:orange" target="_blank">https://feedx.run</a><br></div>'
)


def feedx_html(
    date_text: str, lead_image: str | None, summary: str | None, body_html: str, link: str
) -> str:
    """An entry in feedx's shape, one part a line and indented, as a feed would send it."""
    lines = [f"<div>{date_text}</div>"]
    if lead_image:
        lines.append(f'<img src="{escape(lead_image)}">')
    if summary:
        lines.append(f"<p><strong>{escape(summary, quote=False)}</strong></p>")
    lines.append(f"<div>{body_html}")
    lines.append("  <div data-selfpromo-newsletter></div><div data-selfpromo-app></div>")
    lines.append("</div>")
    share = f"https://www.facebook.com/dialog/share?href={quote(link, safe='')}"
    lines.append(
        f'<div><div>分享 :</div><div><a href="{escape(share)}" target="_blank" '
        'rel="noopener nofollow"><span></span></a></div></div>'
    )
    lines.append(FOOTER)
    return "\n".join("  " + line for line in lines) + "\n"


def rsshub_html(page_html: str) -> str:
    """An entry built from a page the way RSSHub's /rfi route does (cheerio, JavaScript).

    ``chapo.outerHTML + mainMedia.outerHTML + body.innerHTML`` after removing
    ``.m-interstitial, .m-em-quote svg, .o-self-promo``; a missing part is the
    string ``undefined`` (JavaScript's ``undefined + ...``).
    """
    document = lxml_html.document_fromstring(page_html)
    for node in document.cssselect(".m-interstitial, .m-em-quote svg, .o-self-promo"):
        node.drop_tree()

    def outer(selector: str) -> str:
        found = document.cssselect(selector)
        return lxml_html.tostring(found[0], encoding=str, with_tail=False) if found else "undefined"

    body = document.cssselect(".t-content__body")[0]
    inner = (body.text or "") + "".join(lxml_html.tostring(c, encoding=str) for c in body)
    return outer(".t-content__chapo") + outer(".t-content__main-media") + inner


@dataclass
class Entry:
    """One feed entry; ``None`` leaves the element out."""

    title: str | None
    link: str | None
    html: str | None
    date: str | None  # RSS: RFC 822; Atom: ISO 8601
    updated: str | None = None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    cdata: bool = True  # RSS description as CDATA, else escaped


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def rss(entries: list[Entry], title: str = "RFI - feedx") -> str:
    items = []
    for e in entries:
        parts = []
        if e.title is not None:
            parts.append(f"<title>{xml_escape(e.title)}</title>")
        if e.link is not None:
            parts.append(f"<link>{xml_escape(e.link)}</link>")
        if e.html is not None:
            html = _cdata(e.html) if e.cdata else xml_escape(e.html)
            parts.append(f"<description>{html}</description>")
        if e.date is not None:
            parts.append(f"<pubDate>{e.date}</pubDate>")
        parts += [f"<author>{xml_escape(a)}</author>" for a in e.authors]
        parts += [f"<category>{xml_escape(c)}</category>" for c in e.categories]
        items.append("<item>\n" + "\n".join(parts) + "\n</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
        f"<title>{xml_escape(title)}</title><link>https://feedx.net</link>\n"
        + "\n".join(items)
        + "\n</channel></rss>\n"
    )


def atom(entries: list[Entry], title: str = "RFI - RSSHub") -> str:
    items = []
    for e in entries:
        parts = []
        if e.title is not None:
            parts.append(f"<title>{xml_escape(e.title)}</title>")
        if e.link is not None:
            parts.append(f'<link href="{xml_escape(e.link)}"/>')
        if e.html is not None:
            parts.append(f'<content type="html">{xml_escape(e.html)}</content>')
        if e.date is not None:
            parts.append(f"<published>{e.date}</published>")
        if e.updated is not None:
            parts.append(f"<updated>{e.updated}</updated>")
        parts += [f"<author><name>{xml_escape(a)}</name></author>" for a in e.authors]
        parts += [f'<category term="{xml_escape(c)}"/>' for c in e.categories]
        items.append("<entry>\n" + "\n".join(parts) + "\n</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<title>{xml_escape(title)}</title><id>https://rsshub.app/rfi/cn</id>\n"
        + "\n".join(items)
        + "\n</feed>\n"
    )
