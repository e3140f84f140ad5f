"""URL canonicalisation and the checks that keep a crawl out of spider traps."""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url
from w3lib.url import canonicalize_url, safe_url_string

from archive.settings import CrawlSettings, netloc

# "//" and the authority, as RFC 3986 (and urllib.parse) read it: up to the first / ? or #
AUTHORITY = re.compile(r"[^:/?#]*:([/\\]{2}[^/?#]*)")
DEFAULT_PORTS = {"http": 80, "https": 443}


class BadURL(ValueError):
    """A URL whose host parsers could read differently; `reason` names the ambiguity."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"{reason}: {url[:300]}")
        self.reason = reason


def split_url(url: str) -> Url:
    """Parse a URL once, with the parser the HTTP client (requests, urllib3) uses; refuse ambiguity.

    A user name or password, or a backslash before the path, makes browsers, urllib.parse and
    urllib3 disagree on the host, so the host that was checked may not be the host reached:
    such URLs raise BadURL, and so does any URL whose host urllib.parse reads differently.

    >>> split_url("HTTP://News.Example.org:8080/a?b=1").host
    'news.example.org'
    >>> for bad in ["http://93.184.215.14\\\\@127.0.0.1/x", "http://user:pw@example.org/",
    ...             "http://%31%32%37.0.0.1/"]:
    ...     try:
    ...         split_url(bad)
    ...     except BadURL as exc:
    ...         print(exc.reason)
    backslash-in-host
    userinfo-in-url
    ambiguous-host
    """
    url = url.lstrip()  # as requests does before parsing
    try:
        parts = parse_url(url)
    except LocationParseError as exc:
        raise BadURL("unparsable-url", url) from exc
    match = AUTHORITY.match(url)
    authority = match.group(1) if match else ""
    if "\\" in authority:
        raise BadURL("backslash-in-host", url)
    if "@" in authority or parts.auth is not None:
        raise BadURL("userinfo-in-url", url)
    try:
        theirs = _ascii_netloc(url)
    except ValueError as exc:  # urllib.parse finds it malformed where urllib3 did not
        raise BadURL("unparsable-url", url) from exc
    if url_netloc(parts) != theirs:
        raise BadURL("ambiguous-host", url)
    return parts


def url_netloc(parts: Url) -> str:
    """Return host[:port] of a parsed URL, lower-cased, without a default port (like `netloc`).

    >>> url_netloc(parse_url("https://[::1]:443/"))
    '[::1]'
    """
    host = (parts.host or "").lower()
    if parts.port is None or DEFAULT_PORTS.get(parts.scheme or "") == parts.port:
        return host
    return f"{host}:{parts.port}"


def _ascii_netloc(url: str) -> str:
    """Return `netloc(url)` with an international host in its ASCII (IDNA) form."""
    where = netloc(url)
    if where.isascii():
        return where
    host = urlsplit(url).hostname or ""
    try:
        return where.replace(host, host.encode("idna").decode("ascii"), 1)
    except UnicodeError:
        return where  # urllib3 will not read it the same way: refused as ambiguous


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
