"""Read what the crawler needs from an HTML page: text encoding, links, canonical URL, text hash.

Pure functions: bytes in, data out.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree
from w3lib.encoding import html_to_unicode

from archive.capture.urls import absolute_url

WHITESPACE = re.compile(r"\s+")
SKIP_TEXT_TAGS = {"script", "style", "noscript", "template"}


@dataclass
class PageLinks:
    """Links found on a page, already absolute."""

    links: list[str] = field(default_factory=list)
    canonical: str | None = None
    alternates: dict[str, str] = field(default_factory=dict)  # hreflang -> URL
    text_hash: str = ""
    ignored: int = 0  # links past max_links, not read


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode an HTML body: BOM, then HTTP charset, then <meta>, then detection.

    Returns (encoding, text).

    >>> decode_html("café".encode("latin-1"), "text/html; charset=ISO-8859-1")
    ('cp1252', 'café')
    >>> decode_html(b'<meta charset="utf-8">caf\\xc3\\xa9', "text/html")[1][-4:]
    'café'
    """
    encoding, text = html_to_unicode(content_type or "", body)
    return encoding, text


def parse_page(body: bytes, content_type: str | None, url: str,
               max_links: int | None = None) -> PageLinks:
    """Extract links, rel=canonical, hreflang alternates and a hash of the visible text.

    Links are read in document order, the first `max_links` of them; the rest are only counted.

    >>> page = parse_page(b"<a href=/a>a</a><a href=/b>b</a><a href=/c>c</a>", None, "http://e.org/",
    ...                   max_links=2)
    >>> page.links, page.ignored
    (['http://e.org/a', 'http://e.org/b'], 1)
    """
    _, text = decode_html(body, content_type)
    text = text.replace("\x00", "")
    if not text.strip():
        return PageLinks(text_hash=hashlib.sha256(b"").hexdigest())
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return PageLinks(text_hash=hashlib.sha256(text.encode("utf-8")).hexdigest())
    base = url
    for el in root.iter("base"):
        href = el.get("href")
        if href:
            base = absolute_url(url, href) or url
        break
    page = PageLinks()
    full = max_links is not None and max_links <= 0
    for el in root.iter("a", "area", "link"):
        href = el.get("href")
        if not href:
            continue
        rel = (el.get("rel") or "").lower().split()
        canonical = el.tag == "link" and "canonical" in rel
        if full and not canonical:
            page.ignored += 1  # resolving and queueing 400,000 links is the cost being bounded
            continue
        target = absolute_url(base, href)
        if target is None:
            continue
        if el.tag == "link":
            if canonical and page.canonical is None:
                page.canonical = target
            elif "alternate" in rel and el.get("hreflang"):
                page.alternates[el.get("hreflang", "").lower()] = target
                page.links.append(target)
            elif "next" in rel or "prev" in rel:
                page.links.append(target)
        elif "nofollow" not in rel:
            page.links.append(target)
        full = max_links is not None and len(page.links) >= max_links
    page.text_hash = text_hash(root)
    return page


def text_hash(root: lxml.html.HtmlElement) -> str:
    """Hash the visible text of a page, whitespace folded: markup-only changes do not count."""
    parts: list[str] = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag in SKIP_TEXT_TAGS:
            if el.tail:
                parts.append(el.tail)
            continue
        if el.text:
            parts.append(el.text)
        if el.tail:
            parts.append(el.tail)
    folded = WHITESPACE.sub(" ", " ".join(parts)).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()
