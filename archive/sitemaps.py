"""Parse XML sitemaps and sitemap indexes (plain or gzipped), safely."""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

logger = logging.getLogger(__name__)

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for an uncompressed sitemap


class SitemapTooLarge(ValueError):
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


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress gzip data, every member, to at most `limit` bytes; raise SitemapTooLarge past it.

    >>> import gzip
    >>> gunzip(gzip.compress(b"<urlset/>") + gzip.compress(b"\\n"), 100)
    b'<urlset/>\\n'
    >>> gunzip(gzip.compress(b"0" * 101), 100)
    Traceback (most recent call last):
    archive.sitemaps.SitemapTooLarge: gzip data expands past 100 bytes
    """
    parts: list[bytes] = []
    size = 0
    while data[:2] == b"\x1f\x8b":
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while data and not decoder.eof:
            # max_length: a small input never expands to more than the cap in memory
            try:
                part = decoder.decompress(data, limit - size + 1)
            except zlib.error as exc:
                raise ValueError(f"bad gzip data: {exc}") from exc
            size += len(part)
            if size > limit:
                raise SitemapTooLarge(f"gzip data expands past {limit} bytes")
            parts.append(part)
            data = decoder.unconsumed_tail
        if not decoder.eof:
            raise ValueError("bad gzip data: truncated")
        data = decoder.unused_data  # the next member, or padding (ignored)
    return b"".join(parts)


def parse_sitemap(body: bytes, max_bytes: int = MAX_SITEMAP_BYTES) -> Sitemap:
    """Parse a sitemap or sitemap index (gzipped or not) of at most `max_bytes` (and 50 MB).

    Raise SitemapTooLarge when a gzipped one expands past that, ValueError when it is no sitemap.
    """
    limit = min(max_bytes, MAX_SITEMAP_BYTES)
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body, limit)
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
