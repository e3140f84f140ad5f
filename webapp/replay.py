"""Rewrite an archived page and its stylesheets so that they show from the archive alone.

Pure functions: bytes and a `Resolver` in, bytes out. HTML is read and written by lxml, whose
`rewrite_links` visits every URL-bearing attribute; srcset, <style> and style attributes are
rewritten here, CSS through tinycss2's tokenizer. A resource that is not archived loses its URL
(no request leaves for the live web); a link to a page that is not archived keeps its address
only as text (`data-pressroom-leaves`), so following it cannot leave the archive by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import lxml.html
import tinycss2
from lxml import etree
from tinycss2.serializer import serialize_string_value

from archive.capture.links import decode_html
from archive.capture.urls import absolute_url

LEAVES = "data-pressroom-leaves"
MARK_STYLE = (f"a[{LEAVES}]{{text-decoration:underline dotted;cursor:not-allowed}}"
              f"a[{LEAVES}]::after{{content:\" \\2197\"}}")
DROPPED_LINK_RELS = {"preload", "prefetch", "preconnect", "dns-prefetch", "modulepreload",
                     "manifest", "prerender"}


@dataclass(frozen=True)
class Resolver:
    """Where archived things are served: `resource` for requisites, `page` for linked pages."""

    resource: Callable[[str], str | None]
    page: Callable[[str], str | None]


def rewrite_page(body: bytes, content_type: str | None, url: str, resolve: Resolver) -> bytes:
    """Return the page as UTF-8 HTML whose every URL points into the archive (or nowhere)."""
    _, text = decode_html(body, content_type)
    text = text.replace("\x00", "")
    try:
        root = lxml.html.document_fromstring(text or "<html></html>")
    except (etree.ParserError, ValueError):
        root = lxml.html.document_fromstring("<html></html>")
    base = url
    for el in list(root.iter("base")):
        base = absolute_url(url, el.get("href") or "") or base
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
    ours: set[str] = set()  # URLs made here: the attribute pass below leaves them alone

    def resource(link: str) -> str | None:
        if link in ours or link.startswith("data:"):
            return link
        target = absolute_url(base, link.strip()) if link.strip() else None
        found = resolve.resource(target) if target else None
        if found is not None:
            ours.add(found)
        return found

    _neutralise(root)
    for el in root.iter("a", "area"):
        _rewrite_anchor(el, base, resolve, ours)
    for el in root.iter("img", "source"):
        if el.get("srcset"):
            _rewrite_srcset(el, resource)
    for el in root.iter("style"):
        if el.text:
            el.text = rewrite_css_text(el.text, base, _remember(resolve.resource, ours))
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("style"):
            el.set("style", rewrite_css_text(el.get("style") or "", base,
                                             _remember(resolve.resource, ours)))
    cast(lxml.html.HtmlElement, root).rewrite_links(resource, resolve_base_href=False)
    _mark(root)
    return bytes(lxml.html.tostring(root, encoding="utf-8", doctype="<!DOCTYPE html>"))


def _remember(resource: Callable[[str], str | None], ours: set[str]) -> Callable[[str], str | None]:
    def found(url: str) -> str | None:
        target = resource(url)
        if target is not None:
            ours.add(target)
        return target
    return found


def _neutralise(root: lxml.html.HtmlElement) -> None:
    """Drop what would run, refresh, or fetch for no visible reason (scripts, prefetch hints)."""
    for el in list(root.iter("script", "meta", "link", "form")):
        assert isinstance(el, lxml.html.HtmlElement)
        refresh = el.tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh"
        hint = el.tag == "link" and DROPPED_LINK_RELS & set((el.get("rel") or "").lower().split())
        if el.tag == "script" or refresh or hint:
            el.drop_tree()
        elif el.tag == "form":
            el.attrib.pop("action", None)
    for el in root.iter():
        for name in [n for n in el.attrib if n.lower().startswith("on")] if isinstance(el.tag, str) else []:
            del el.attrib[name]  # event handlers: inert in the sandbox, and gone all the same


def _rewrite_anchor(el: lxml.html.HtmlElement, base: str, resolve: Resolver, ours: set[str]) -> None:
    href = (el.get("href") or "").strip()
    if not href or href.startswith("#"):
        return
    target = absolute_url(base, href)
    if target is None or urlsplit(target).scheme not in ("http", "https"):
        if href.lower().startswith(("mailto:", "tel:")):
            return
        el.attrib.pop("href")
        return
    here = target.split("#", 1)[0]
    archived = resolve.resource(here) or resolve.page(here)
    if archived is not None:
        ours.add(archived)
        el.set("href", archived)
        return
    el.attrib.pop("href")
    el.set(LEAVES, target)
    el.set("title", f"Not in the archive: {target}")


def _rewrite_srcset(el: lxml.html.HtmlElement, resource: Callable[[str], str | None]) -> None:
    kept = []
    for candidate in (el.get("srcset") or "").split(","):
        parts = candidate.split()
        archived = resource(parts[0]) if parts else None
        if archived is not None:
            kept.append(" ".join([archived, *parts[1:]]))
    if kept:
        el.set("srcset", ", ".join(kept))
    else:
        el.attrib.pop("srcset")


def _mark(root: lxml.html.HtmlElement) -> None:
    """Say in the page itself which links leave the archive, and send no referrer anywhere."""
    head = root.find("head")
    if head is None:
        head = lxml.html.Element("head")
        root.insert(0, head)
    style = lxml.html.Element("style")
    style.text = MARK_STYLE
    head.append(style)
    meta = lxml.html.Element("meta", name="referrer", content="no-referrer")
    head.insert(0, meta)


def rewrite_css(body: bytes, url: str, resource: Callable[[str], str | None]) -> bytes:
    """Return a stylesheet (as UTF-8) whose @import and url() point into the archive (or nowhere).

    >>> rewrite_css(b'@import "a.css"; p{background:url(b.png) /* url(c.png) */}',
    ...             "http://e.org/s/x.css", lambda u: "/f/1" if u.endswith("a.css") else None)
    b'@import "/f/1"; p{background:url("") /* url(c.png) */}'
    """
    text, _ = tinycss2.bytes.decode_stylesheet_bytes(body)
    return rewrite_css_text(text, url, resource).encode("utf-8")


def rewrite_css_text(text: str, base: str, resource: Callable[[str], str | None]) -> str:
    """Rewrite the url() and @import references of CSS text (a stylesheet or a style attribute)."""
    tokens = tinycss2.parse_component_value_list(text)

    def target(ref: str) -> str:
        if ref.startswith("data:"):
            return ref
        absolute = absolute_url(base, ref.strip()) if ref.strip() else None
        return (resource(absolute) if absolute else None) or ""

    _rewrite_tokens(tokens, target)
    return str(tinycss2.serialize(tokens))


def _rewrite_tokens(tokens: Iterable[object], target: Callable[[str], str]) -> None:
    after_import = False
    for token in tokens:
        kind = getattr(token, "type", "")
        if kind == "url":
            _set_string(token, target(str(getattr(token, "value", ""))), url=True)
            after_import = False
        elif kind == "function" and getattr(token, "lower_name", "") == "url":
            for arg in getattr(token, "arguments", []):
                if getattr(arg, "type", "") == "string":
                    _set_string(arg, target(str(arg.value)))
                    break
            after_import = False
        elif kind == "string" and after_import:
            _set_string(token, target(str(getattr(token, "value", ""))))
            after_import = False
        elif kind == "at-keyword":
            after_import = getattr(token, "lower_value", "") == "import"
        elif kind not in ("whitespace", "comment"):
            after_import = False
            for name in ("arguments", "content"):
                nested = getattr(token, name, None)
                if isinstance(nested, list):
                    _rewrite_tokens(nested, target)


def _set_string(token: object, value: str, url: bool = False) -> None:
    """Give a url or string token a new value (tinycss2 serializes a token's representation)."""
    quoted = f'"{serialize_string_value(value)}"'
    token.value = value  # type: ignore[attr-defined]
    token.representation = f"url({quoted})" if url else quoted  # type: ignore[attr-defined]
