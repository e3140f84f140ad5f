"""Parse XML sitemaps and sitemap indexes (plain or gzipped), safely."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from archive.payload import PayloadTooLarge, gunzip

logger = logging.getLogger(__name__)

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for an uncompressed sitemap


class SitemapTooLarge(PayloadTooLarge):
    """A sitemap that expands past the size cap (a gzip bomb, or simply too big)."""

    reason = "sitemap-too-large"


@dataclass
class Sitemap:
    """Entries of one sitemap: page URLs with their lastmod, and child sitemaps."""

    pages: list[tuple[str, datetime | None]] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


def parse_lastmod(value: str | None) -> datetime | None:
    """Parse a W3C datetime (a date, or a date and time with zone) to an aware UTC datetime.

    >>> parse_lastmod("2024-03-12")
    datetime.datetime(2024, 3, 12, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_lastmod("2026-02-19T11:00:00+01:00").isoformat()
    '2026-02-19T10:00:00+00:00'
    >>> parse_lastmod("yesterday") is None
    True
    """
    if not value:
        return None
    value = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def parse_sitemap(body: bytes, max_bytes: int = MAX_SITEMAP_BYTES) -> Sitemap:
    """Parse a sitemap or sitemap index (gzipped or not) of at most `max_bytes` (and 50 MB).

    Raise SitemapTooLarge when a gzipped one expands past that, ValueError when it is no sitemap.
    """
    limit = min(max_bytes, MAX_SITEMAP_BYTES)
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, limit)
        except PayloadTooLarge as exc:
            raise SitemapTooLarge(str(exc)) from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             recover=True, remove_comments=True)
    try:
        root = etree.fromstring(body[:limit], parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not XML: {exc}") from exc
    if root is None:
        raise ValueError("empty sitemap")
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise ValueError(f"not a sitemap: root element <{kind}>")
    result = Sitemap()
    for entry in root:
        if not isinstance(entry.tag, str):
            continue
        values = {etree.QName(child).localname: (child.text or "").strip()
                  for child in entry if isinstance(child.tag, str)}
        loc = values.get("loc")
        if not loc:
            continue
        if kind == "sitemapindex":
            result.children.append(loc)
        else:
            result.pages.append((loc, parse_lastmod(values.get("lastmod"))))
    return result
