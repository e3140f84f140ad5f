"""Fetch one URL: one request, no redirects followed, every limit enforced.

The body is kept twice: as transferred (for the WARC record) and decoded (for parsing), both
capped at max_body_bytes; a gzip bomb stops at the cap, not in memory.
"""

from __future__ import annotations

import email.utils
import logging
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

from archive.capture.netguard import AddressPolicy, guarded_adapter
from archive.errors import FetchError
from archive.settings import CrawlSettings

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass
class Response:
    """One HTTP exchange as the archive keeps it."""

    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    request_headers: list[tuple[str, str]]
    raw_body: bytes
    body: bytes
    fetched_at: datetime
    truncated: str | None = None
    peer: str | None = None
    http_version: str = "HTTP/1.1"
    notes: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """Return the first value of a response header, case-insensitively."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ('' when absent)."""
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def is_html(self) -> bool:
        """Tell whether the body is an HTML page."""
        return self.content_type in ("text/html", "application/xhtml+xml") or (
            not self.content_type and self.body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")))


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse a Retry-After header: delta seconds or an HTTP date; None when absent or bad.

    >>> retry_after_seconds("120")
    120.0
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    10.0
    >>> retry_after_seconds("soon") is None
    True
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class Fetcher:
    """Send GET requests on one session: one connection per host, guarded addresses."""

    def __init__(self, crawl: CrawlSettings, policy: AddressPolicy) -> None:
        self.crawl = crawl
        self.session = requests.Session()
        self.session.trust_env = False  # never route through a proxy from the environment
        adapter = guarded_adapter(policy)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.policy = policy

    def close(self) -> None:
        """Close every pooled connection."""
        self.session.close()

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Response:
        """GET `url` once; raise FetchError on a network failure or a refused address."""
        self.policy.check_url(url)
        crawl = self.crawl
        request_headers = {
            "User-Agent": crawl.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive" if crawl.keep_alive else "close",
            **(headers or {}),
        }
        fetched_at = datetime.now(UTC)
        deadline = time.monotonic() + crawl.fetch_deadline
        try:
            resp = self.session.get(url, headers=request_headers, stream=True, allow_redirects=False,
                                    timeout=(crawl.connect_timeout, crawl.read_timeout))
        except requests.exceptions.ConnectTimeout as exc:
            raise FetchError("connect-timeout", str(exc)) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise FetchError("read-timeout", str(exc)) from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.InvalidURL) as exc:
            raise FetchError("connection-error", _short(exc)) from exc
        except requests.exceptions.RequestException as exc:
            raise FetchError("http-error", _short(exc)) from exc
        try:
            raw_body, body, truncated = self._read_body(resp, deadline)
        finally:
            resp.close()
        raw = resp.raw
        version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(raw.version, "HTTP/1.1")
        sent = resp.request.headers if resp.request is not None else request_headers
        return Response(
            url=url, status=resp.status_code, reason=resp.reason or "",
            headers=[(k, v) for k, v in raw.headers.items()],
            request_headers=[(k, str(v)) for k, v in sent.items()],
            raw_body=raw_body, body=body, fetched_at=fetched_at, truncated=truncated,
            http_version=version, peer=urlsplit(url).netloc,
        )

    def _read_body(self, resp: requests.Response, deadline: float) -> tuple[bytes, bytes, str | None]:
        cap = self.crawl.max_body_bytes
        encoding = (resp.headers.get("Content-Encoding") or "").strip().lower()
        decoder = _decoder(encoding)
        raw_parts: list[bytes] = []
        parts: list[bytes] = []
        raw_size = size = 0
        truncated = None
        while True:
            if time.monotonic() > deadline:
                truncated = "time"
                break
            try:
                chunk = resp.raw.read1(CHUNK, decode_content=False)
            except Exception as exc:  # urllib3 raises several types for a broken stream
                if time.monotonic() > deadline:
                    truncated = "time"
                    break
                reason = "read-timeout" if "timed out" in str(exc).lower() else "broken-body"
                raise FetchError(reason, _short(exc)) from exc
            if not chunk:
                break
            if raw_size + len(chunk) > cap:
                chunk = chunk[: cap - raw_size]
                truncated = "length"
            raw_parts.append(chunk)
            raw_size += len(chunk)
            if decoder is None:
                parts.append(chunk)
                size += len(chunk)
            else:
                try:
                    data = decoder.decompress(chunk, cap - size + 1)
                except zlib.error as exc:
                    raise FetchError("bad-encoding", f"{encoding}: {exc}") from exc
                parts.append(data)
                size += len(data)
                if size > cap or decoder.unconsumed_tail:
                    truncated = "length"
            if truncated:
                break
        body = b"".join(parts)[:cap]
        if truncated == "time":
            logger.warning("deadline of %.0f s reached reading %s", self.crawl.fetch_deadline, resp.url)
        return b"".join(raw_parts), body, truncated


def _decoder(encoding: str) -> zlib._Decompress | None:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS | 32)
    raise FetchError("bad-encoding", f"unsupported Content-Encoding {encoding!r}")


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 300 else text[:297] + "..."
