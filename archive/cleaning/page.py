"""An HTML page parsed once for cleaning: the soup, its metadata and its main region."""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning
from lxml.html import HtmlElement

from archive.capture.links import decode_html
from archive.cleaning.textnorm import squash

logger = logging.getLogger(__name__)

PARSER = "lxml"  # named, never guessed: BeautifulSoup's choice differs between machines
MAX_HTML_BYTES = 4 * 1024 * 1024   # bytes of a page read for cleaning
MAX_TAGS = 30_000                  # tags read for cleaning (a long release has a few thousand)
DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg",
             "canvas")
# regions that hold other releases' teasers, menus or chrome, never the release itself
SIDE = re.compile(r"(^|[\s_-])(aside|sidebar|related|teaser|views-row|latest|breadcrumb|menu|"
                  r"navbar|footer|cookie|newsletter|share|social|stories|recent)([\s_-]|$)", re.I)
# a header is the page's (chrome) unless it is an article's own: inside <article> or <main>, or
# named after the entry it heads (WordPress `.entry-header`, `.post-header`, `.article-header`)
HEADER = re.compile(r"(^|[\s_-])header([\s_-]|$)", re.I)
OWN_HEADER = re.compile(r"(^|[\s_-])(entry|post|article|story|node|news|headline)[_-]+header", re.I)
CONTENT_TAGS = ("article", "main")
CONTENT_ROLES = ("main", "article")
SIDE_ROLES = ("navigation", "complementary", "contentinfo", "banner")


@dataclass
class Page:
    """A decoded, parsed page with quick access to what the cleaners read."""

    url: str
    html: str
    soup: BeautifulSoup
    meta: dict[str, str] = field(default_factory=dict)
    jsonld: list[dict[str, Any]] = field(default_factory=list)
    alternates: dict[str, str] = field(default_factory=dict)

    @property
    def html_lang(self) -> str | None:
        """The primary language subtag of <html lang> (or xml:lang), lower-cased."""
        root = self.soup.find("html")
        if not isinstance(root, Tag):
            return None
        lang = root.get("lang") or root.get("xml:lang")
        if not isinstance(lang, str) or not lang.strip():
            return None
        return lang.strip().split("-")[0].split("_")[0].lower()

    def jsonld_value(self, key: str) -> str | None:
        """Return the first value of `key` in the page's JSON-LD objects."""
        for obj in self.jsonld:
            value = obj.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    def jsonld_types(self) -> set[str]:
        """Return the @type values of the page's JSON-LD objects."""
        types: set[str] = set()
        for obj in self.jsonld:
            kind = obj.get("@type")
            types.update([kind] if isinstance(kind, str) else [k for k in kind or [] if isinstance(k, str)])
        return types


def parse(body: bytes | str, content_type: str | None, url: str) -> Page:
    """Decode and parse a page; drop scripts, styles and other non-text elements."""
    text = body if isinstance(body, str) else decode_html(body[:MAX_HTML_BYTES], content_type)[1]
    text = bound_markup(text.replace("\x00", ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # an RSS or XML page: read as it is
        soup = BeautifulSoup(text, PARSER)
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    page = Page(url=url, html=text, soup=soup)
    for meta in soup.find_all("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("http-equiv")
        value = meta.get("content")
        if isinstance(key, str) and isinstance(value, str) and key.lower() not in page.meta:
            page.meta[key.lower()] = value.strip()
    for link in soup.find_all("link", hreflang=True):
        rel: list[str] | str = link.get("rel") or []
        href, lang = link.get("href"), link.get("hreflang")
        if "alternate" in rel and isinstance(href, str) and isinstance(lang, str):
            page.alternates[lang.lower()] = href.strip()
    page.jsonld = _jsonld(text)
    return page


def bound_markup(text: str) -> str:
    """Cut a page after MAX_TAGS tags: no release is that long, and parsers slow down past it.

    >>> len(bound_markup("<p>x" * (MAX_TAGS + 10))) == 4 * (MAX_TAGS - 1)
    True
    """
    if text.count("<") <= MAX_TAGS:
        return text
    position = -1
    for _ in range(MAX_TAGS):
        position = text.find("<", position + 1)
    return text[:position]


def _jsonld(text: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    pattern = r'<script[^>]+application/ld\+json[^>]*>(.*?)</script>'
    for raw in re.findall(pattern, text, re.S | re.I)[:20]:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        stack = data if isinstance(data, list) else [data]
        while stack and len(objects) < 50:
            item = stack.pop(0)
            if isinstance(item, dict):
                objects.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)
    return objects


def in_side_region(tag: Tag) -> bool:
    """Tell whether an element sits in an aside, menu, teaser list, or the page's header or footer.

    A header inside an <article> or <main> (or named after its entry) is the article's own: its
    headline and date are the article's, not page chrome.
    """
    nodes = [tag, *tag.parents]
    for index, node in enumerate(nodes):
        if node.name in ("body", "html"):
            return False
        ident = node.get("id") or ""
        kind = side_kind(node.name, " ".join(node.get("class") or []),
                         ident if isinstance(ident, str) else "", str(node.get("role") or ""))
        if kind == "side" or (kind == "header" and not any(
                p.name in CONTENT_TAGS or p.get("role") in CONTENT_ROLES for p in nodes[index + 1:])):
            return True
    return False


def side_kind(name: str, classes: str, ident: str, role: str) -> str | None:
    """Classify one element by its own tag and names: "side" (aside, menu, teasers, footer...),
    "header" (chrome unless inside an article or main), or None.

    >>> side_kind("div", "entry-header", "", ""), side_kind("div", "site-header", "", "")
    (None, 'header')
    """
    names = f"{classes} {ident}"
    if name in ("aside", "nav", "footer") or SIDE.search(names) or role in SIDE_ROLES:
        return "side"
    if (name == "header" or HEADER.search(names)) and not OWN_HEADER.search(names):
        return "header"
    return None


def prune_side(root: HtmlElement, in_content: bool = False) -> HtmlElement:
    """Drop, in place, the side regions of an lxml tree as in_side_region sees them."""
    for child in list(root):
        if not isinstance(child.tag, str):
            continue
        kind = side_kind(child.tag, child.get("class") or "", child.get("id") or "",
                         child.get("role") or "")
        if kind == "side" or (kind == "header" and not in_content):
            child.drop_tree()
        else:
            prune_side(child, in_content or child.tag in CONTENT_TAGS
                       or child.get("role") in CONTENT_ROLES)
    return root


def text_of(tag: Tag) -> str:
    """Return the visible text of an element, white space folded."""
    return squash(tag.get_text(" "))
