"""Find a page's requisites: the stylesheets, images, fonts and documents it needs to be shown.

Pure functions: bytes in, data out. HTML is read with lxml, CSS with tinycss2 (a real CSS
tokenizer: url() in comments or strings is not mistaken for a reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html
import tinycss2
from lxml import etree

from archive.capture.links import decode_html
from archive.capture.urls import absolute_url

FONT_EXTENSIONS = (".woff", ".woff2", ".ttf", ".otf", ".eot")
DOCUMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".odt", ".rtf", ".xls", ".xlsx", ".ods", ".csv",
                       ".ppt", ".pptx", ".odp")
DOCUMENT_TYPES = ("application/pdf", "application/msword", "application/vnd.")
MAX_REQUISITES = 500  # per page or stylesheet: a page listing thousands of images is not one


@dataclass(frozen=True)
class Requisite:
    """One resource a page needs, by absolute URL and kind (stylesheet, image, font, document)."""

    url: str
    kind: str


def page_requisites(body: bytes, content_type: str | None, url: str) -> list[Requisite]:
    """List the requisites an HTML page names, in document order, each once.

    >>> html = (b'<link rel=stylesheet href=/s.css><img src=a.png srcset="b.png 2x, c.png 3x">'
    ...         b'<a href=/r.pdf>report</a><a href=/next>next</a>')
    >>> [(r.url, r.kind) for r in page_requisites(html, None, "http://e.org/n/")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('http://e.org/s.css', 'stylesheet'), ('http://e.org/n/a.png', 'image'),
     ('http://e.org/n/b.png', 'image'), ('http://e.org/n/c.png', 'image'),
     ('http://e.org/r.pdf', 'document')]
    """
    _, text = decode_html(body, content_type)
    text = text.replace("\x00", "")
    if not text.strip():
        return []
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return []
    base = url
    for el in root.iter("base"):
        base = absolute_url(url, el.get("href") or "") or url
        break
    return _unique(_resolved(base, _references(root)))


def _references(root: lxml.html.HtmlElement) -> Iterator[tuple[str, str]]:
    """Yield (reference as written, kind) for every requisite named in a document."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag == "link":
            rel = (el.get("rel") or "").lower().split()
            if "stylesheet" in rel and "alternate" not in rel:
                yield el.get("href") or "", "stylesheet"
            elif "icon" in rel:
                yield el.get("href") or "", "image"
        elif tag in ("img", "source", "input") and (tag != "input" or el.get("type") == "image"):
            if el.get("src"):
                yield el.get("src") or "", "image"
            yield from ((u, "image") for u in srcset_urls(el.get("srcset") or ""))
        elif tag in ("a", "area") and _is_document(el.get("href") or "", el.get("type") or ""):
            yield el.get("href") or "", "document"
        elif tag == "style" and el.text:
            yield from css_references(el.text)
        if el.get("style"):
            yield from css_references(el.get("style") or "", declarations=True)


def _resolved(base: str, refs: Iterable[tuple[str, str]]) -> Iterator[Requisite]:
    for ref, kind in refs:
        target = absolute_url(base, ref.strip()) if ref.strip() else None
        if target is not None and not target.startswith("data:"):
            yield Requisite(target.split("#", 1)[0], kind)


def _unique(found: Iterable[Requisite]) -> list[Requisite]:
    seen: dict[str, Requisite] = {}
    for requisite in found:
        seen.setdefault(requisite.url, requisite)
        if len(seen) >= MAX_REQUISITES:
            break
    return list(seen.values())


def _is_document(href: str, type_: str) -> bool:
    path = urlsplit(href).path.lower()
    return path.endswith(DOCUMENT_EXTENSIONS) or type_.lower().startswith(DOCUMENT_TYPES)


def srcset_urls(srcset: str) -> list[str]:
    """Return the URLs of a srcset attribute (candidates are split on commas, then whitespace).

    >>> srcset_urls("a.png 1x, b.png 2x,c.png")
    ['a.png', 'b.png', 'c.png']
    """
    urls = []
    for candidate in srcset.split(","):
        parts = candidate.split()
        if parts:
            urls.append(parts[0])
    return urls


def stylesheet_requisites(css: bytes, url: str) -> list[Requisite]:
    """List what a stylesheet imports and uses (stylesheets, fonts, images), resolved on its URL.

    >>> css = (b'@import "print.css"; /* url(no.png) */ @font-face{src:url(f.woff2)}'
    ...        b' p{background:url("b.png")}')
    >>> [(r.url, r.kind) for r in stylesheet_requisites(css, "http://e.org/css/s.css")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('http://e.org/css/print.css', 'stylesheet'), ('http://e.org/css/f.woff2', 'font'),
     ('http://e.org/css/b.png', 'image')]
    """
    text, _ = tinycss2.bytes.decode_stylesheet_bytes(css)  # @charset, BOM, then UTF-8
    return _unique(_resolved(url, css_references(text)))


def css_references(text: str, declarations: bool = False) -> Iterator[tuple[str, str]]:
    """Yield (reference, kind) for the @import rules and url() values of CSS text."""
    if declarations:
        nodes = tinycss2.parse_declaration_list(text, skip_comments=True, skip_whitespace=True)
    else:
        nodes = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
    for node in nodes:
        if node.type == "at-rule" and node.lower_at_keyword == "import":
            for token in node.prelude:
                if token.type in ("string", "url"):
                    yield token.value, "stylesheet"
                    break
                if token.type == "function" and token.lower_name == "url":
                    yield from ((u, "stylesheet") for u in _function_url(token))
                    break
            continue
        yield from ((u, _kind_by_name(u)) for u in css_urls(_children(node)))


def _children(node: object) -> list[object]:
    parts: list[object] = []
    for name in ("prelude", "content", "value", "arguments"):
        value = getattr(node, name, None)
        if isinstance(value, list):
            parts.extend(value)
    return parts


def css_urls(tokens: Iterable[object]) -> Iterator[str]:
    """Yield every url() reference among CSS tokens, nested blocks included."""
    for token in tokens:
        kind = getattr(token, "type", "")
        if kind == "url":
            yield str(getattr(token, "value", ""))
        elif kind == "function" and getattr(token, "lower_name", "") == "url":
            yield from _function_url(token)
        else:
            yield from css_urls(_children(token))


def _function_url(token: object) -> Iterator[str]:
    for arg in getattr(token, "arguments", []):
        if getattr(arg, "type", "") == "string":
            yield str(arg.value)
            return


def _kind_by_name(url: str) -> str:
    return "font" if urlsplit(url).path.lower().endswith(FONT_EXTENSIONS) else "image"
