"""URL canonicalisation and the checks that keep a crawl out of spider traps."""

from __future__ import annotations

import fnmatch
from collections import Counter
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

from archive.settings import CrawlSettings, netloc


def canonical_url(url: str, tracking_params: list[str], strip_trailing_slash: bool = True) -> str:
    """Return the canonical form of an absolute http(s) URL.

    Drops the fragment, default ports and tracking parameters, sorts the query, lower-cases
    scheme and host, normalises percent-escapes and (optionally) the trailing slash.

    >>> canonical_url("HTTP://Example.org:80/news/?utm_source=x&b=2&a=1#top", ["utm_*"])
    'http://example.org/news?a=1&b=2'
    >>> canonical_url("https://example.org/", ["utm_*"])
    'https://example.org/'
    >>> canonical_url("https://example.org/caf%C3%A9", [])
    'https://example.org/caf%C3%A9'
    >>> canonical_url("https://user:pw@example.org:8443/a/", [])
    'https://example.org:8443/a'
    """
    url = canonicalize_url(safe_url_string(url.strip()), keep_fragments=False)
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not any(fnmatch.fnmatchcase(k, pattern) for pattern in tracking_params)]
    path = parts.path or "/"
    if strip_trailing_slash and len(path) > 1:
        path = path.rstrip("/") or "/"
    return urlunsplit((parts.scheme, netloc(url), path, urlencode(query), ""))


def absolute_url(base: str, href: str) -> str | None:
    """Resolve a link against its page; None for non-http(s) links (mailto:, javascript:, ...).

    >>> absolute_url("http://example.org/news/a", "../b?x=1#f")
    'http://example.org/b?x=1#f'
    >>> absolute_url("http://example.org/", "javascript:alert(1)") is None
    True
    """
    href = href.strip()
    if not href:
        return None
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def trap_reason(url: str, crawl: CrawlSettings) -> str | None:
    """Return why a URL looks like a spider trap (too long, repeated segments), else None.

    >>> from types import SimpleNamespace
    >>> crawl = SimpleNamespace(max_url_length=2048, max_repeated_segments=2)
    >>> trap_reason("http://e.org/a/b/a/b/a/b", crawl)
    'repeated-path-segment'
    >>> trap_reason("http://e.org/news/2024/item", crawl) is None
    True
    """
    if len(url) > crawl.max_url_length:
        return "url-too-long"
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if segments and max(Counter(segments).values()) > crawl.max_repeated_segments:
        return "repeated-path-segment"
    return None


def path_key(url: str) -> str:
    """Return scheme://host/path without the query: URLs sharing it are query variants.

    >>> path_key("http://e.org/events?month=2020-01")
    'http://e.org/events'
    """
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
