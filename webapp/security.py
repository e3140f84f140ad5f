"""Security headers, the Host and proxy checks, per-client rate limits, and one error handler.

`Gate`, a WSGI middleware, runs before Flask: it believes X-Forwarded-For and -Proto only from
trusted proxies, refuses Host headers that are not allowed, and pins the scheme, host and path
prefix of every URL the app makes to web.base_url when it is set. Rate limits are token buckets
in a small SQLite file of the data directory, or a table of the shared PostgreSQL database:
every worker process, and every server on that data directory or database, draws on the same
budget per client (webapp/ratelimit.py).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, HTTPException, TooManyRequests

from archive.errors import ArchiveError, SettingsError
from archive.settings import WebSettings
from webapp.i18n import choose_language, translate
from webapp.ratelimit import SharedBuckets

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-src 'self'; "
       "frame-ancestors 'none'")
ARCHIVED_CSP = ("sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
                "frame-ancestors 'self'")
HSTS = "max-age=31536000"
TRANSLATED_ERRORS = (400, 404, 429, 503)


# on every reply, the app's and the server's own (webapp/worker.py); archived originals set
# their own sandboxing CSP and frame policy
SECURITY_HEADERS = (("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                    ("Referrer-Policy", "strict-origin-when-cross-origin"),
                    ("X-Frame-Options", "DENY"), ("Cross-Origin-Opener-Policy", "same-origin"))
OVERRIDABLE = {"Content-Security-Policy", "X-Frame-Options"}


HTML_SIGNIFICANT = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


def escape_json(text: str) -> str:
    """Escape <, >, & and ' inside JSON text (same data once parsed; inert if ever sniffed).

    >>> escape_json('{"t": "<b>"}')
    '{"t": "\\\\u003cb\\\\u003e"}'
    """
    return text.translate(HTML_SIGNIFICANT)


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with HTML-significant characters escaped."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return escape_json(super().dumps(obj, **kwargs))


# ---- text fields hold text ---------------------------------------------------------------------

MARKUP = re.compile(r"<[a-zA-Z!?/][^<>]*(?:>|\Z)")
TAG_START = re.compile(r"<(?=[a-zA-Z!?/])")
NOT_TEXT_KEYS = frozenset({"snippet", "url", "permalink", "archived_original", "external"})


def plain_text(text: str) -> str:
    """Remove what a browser would read as markup: tags, comments, and any '<' that could open one.

    >>> plain_text("<img src=x onerror=alert(1)>Flood <<b>script>x</script> 3 < 4")
    'Flood x 3 < 4'
    """
    for _ in range(4):                  # removing one tag can join the pieces of another
        cleaned = MARKUP.sub("", text)
        if cleaned == text:
            break
        text = cleaned
    return TAG_START.sub("", text)


def plain_data(value: Any) -> Any:
    """Make every text field of JSON-like data plain text (URLs and HTML snippets stay as they are)."""
    if isinstance(value, str):
        return plain_text(value)
    if isinstance(value, list):
        return [plain_data(item) for item in value]
    if isinstance(value, dict):
        return {k: v if k in NOT_TEXT_KEYS else plain_data(v) for k, v in value.items()}
    return value


# ---- who is asking, and for which host ---------------------------------------------------------

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
HOST = re.compile(r"([a-z0-9.-]+|\[[a-f0-9:.]+\])(?::[0-9]{1,5})?", re.IGNORECASE)


def ip_of(text: str) -> Address | None:
    """Parse an address as servers and proxies write it (a port dropped, IPv4-mapped as IPv4).

    >>> [str(ip_of(t)) for t in ("[2001:db8::1]:443", "::ffff:192.0.2.7", "192.0.2.8:80", "x")]
    ['2001:db8::1', '192.0.2.7', '192.0.2.8', 'None']
    """
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """Whether a Host header names an allowed host: port ignored, ".example.org" allows subdomains.

    No names at all allow any well-formed host (werkzeug's rules, with IPv6 and any letter case).

    >>> host_allowed("News.Example.org:8080", [".example.org"]), host_allowed("[::1]:80", ["[::1]"])
    (True, True)
    >>> host_allowed("example.org.evil.net", ["example.org"]), host_allowed("a/b", [])
    (False, False)
    """
    match = HOST.fullmatch(host)
    if match is None:
        return False
    name = match.group(1).lower().rstrip(".")
    names = [n.lower() for n in allowed]
    return not names or any(name == n or (n.startswith(".") and (name == n[1:] or name.endswith(n)))
                            for n in names)


class Gate:
    """WSGI middleware: the client's address and scheme, and the Host, settled before Flask runs.

    Only a peer in web.trusted_proxies has its X-Forwarded-For (the rightmost address that is
    not itself a trusted proxy) and X-Forwarded-Proto believed. A Host that is not allowed is
    replaced and marked, and the app answers 400. With web.base_url, the scheme, host and path
    prefix come from it, whatever the request said (a proxy may pass the prefix or strip it).
    """

    def __init__(self, app: Callable[..., Any], web: WebSettings) -> None:
        self.app = app
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in web.trusted_proxies]
        self.base = urlsplit(web.base_url) if web.base_url else None
        self.prefix = self.netloc = ""
        self.allowed = list(web.allowed_hosts)
        if self.base is not None:
            name = self.base.hostname or ""
            name = f"[{name}]" if ":" in name else name
            self.allowed = [name]
            self.netloc = name + (f":{self.base.port}" if self.base.port else "")
            self.prefix = self.base.path.rstrip("/")

    def trusted(self, address: Address) -> bool:
        """Whether an address is one of the trusted proxies."""
        return any(address in network for network in self.proxies)

    def forwarded_client(self, header: str) -> Address | None:
        """The client a chain of trusted proxies saw: the rightmost untrusted X-Forwarded-For entry."""
        found = None
        for part in reversed(header.split(",")):
            address = ip_of(part)
            if address is None:
                break
            found = address
            if not self.trusted(address):
                break
        return found

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        peer = ip_of(environ.get("REMOTE_ADDR") or "")
        environ["pressroom.peer"] = environ.get("REMOTE_ADDR")
        if peer is not None and self.proxies and self.trusted(peer):
            client = self.forwarded_client(environ.get("HTTP_X_FORWARDED_FOR", ""))
            if client is not None:
                environ["REMOTE_ADDR"] = str(client)
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").rpartition(",")[2].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        environ["pressroom.scheme"] = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        if not host_allowed(host, self.allowed):
            environ["pressroom.refused_host"] = host[:100]
            environ["HTTP_HOST"] = "localhost"
        if self.base is not None:
            environ["HTTP_HOST"] = self.netloc
            environ["wsgi.url_scheme"] = self.base.scheme
            path = environ.get("PATH_INFO", "")
            if self.prefix and (path == self.prefix or path.startswith(self.prefix + "/")):
                environ["PATH_INFO"] = path[len(self.prefix):] or "/"
            environ["SCRIPT_NAME"] = self.prefix
        return self.app(environ, start_response)


def check_base_path(app: Flask) -> None:
    """Refuse a base_url path that is also one of the app's own (/archive, /api...): a proxy may
    pass the prefix or strip it, and such a path could then be read either way."""
    base = app.extensions["pressroom_settings"].web.base_url
    first = urlsplit(base).path.strip("/").partition("/")[0] if base else ""
    taken = {rule.rule.strip("/").partition("/")[0] for rule in app.url_map.iter_rules()}
    if first and first in taken:
        raise SettingsError(f"web.base_url: its path /{first} is also one of Pressroom's own "
                            f"paths; choose another, such as /press")


def client_key(address: str) -> str:
    """The key a client's rate limits go by: its address, or its /64 for IPv6 (one host's share).

    >>> client_key("2001:db8:1:2:aaaa::1"), client_key("192.0.2.1"), client_key("")
    ('2001:db8:1:2::/64', '192.0.2.1', 'unknown')
    """
    ip = ip_of(address)
    if ip is None:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# ---- rate limits shared by every worker -------------------------------------------------------

@dataclass(frozen=True)
class Limit:
    """The average rate (per second) and burst of one kind of request."""

    rate: float
    burst: float


def add_limit(app: Flask, kind: str, rate: float, burst: float) -> None:
    """Give an app a rate limit for one kind of request."""
    app.extensions["pressroom_limits"][kind] = Limit(rate, burst)


def limit(app: Flask, kind: str) -> None:
    """Refuse the current request with 429 when its client is over the limit for `kind`."""
    rule: Limit = app.extensions["pressroom_limits"][kind]
    buckets: SharedBuckets = app.extensions["pressroom_buckets"]
    # the limits are part of the key: buckets start afresh when the limits change
    key = f"{kind}|{rule.rate:g}|{rule.burst:g}|{client_key(request.remote_addr or '')}"
    if not buckets.take(key, rule.rate, rule.burst):
        raise TooManyRequests(retry_after=int(1 / rule.rate) + 1)


def install(app: Flask) -> None:
    """Add the gate, headers, limits and the error handler to an app."""
    settings = app.extensions["pressroom_settings"]
    app.wsgi_app = Gate(app.wsgi_app, settings.web)  # type: ignore[method-assign]
    app.extensions["pressroom_buckets"] = SharedBuckets.of(settings)
    app.extensions["pressroom_limits"] = {}
    for kind in ("search", "export", "page"):
        add_limit(app, kind, app.config[f"{kind.upper()}_RATE"], app.config[f"{kind.upper()}_BURST"])

    @app.before_request
    def refuse_unknown_hosts() -> None:
        refused = request.environ.get("pressroom.refused_host")
        if refused is not None:
            error = BadRequest()
            error.pressroom_message = (  # type: ignore[attr-defined]
                f"This server does not answer to the host {refused!r} (web.base_url, "
                "web.allowed_hosts).")
            raise error

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS:
            if name in OVERRIDABLE:
                response.headers.setdefault(name, value)
            else:
                response.headers[name] = value
        # only over HTTPS as it arrived (browsers ignore it over HTTP, and base_url is no proof)
        if request.environ.get("pressroom.scheme", request.scheme) == "https":
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    @app.errorhandler(Exception)
    def handle(error: Exception) -> Any:
        status = 500
        message = getattr(error, "pressroom_message", None)
        if isinstance(error, HTTPException):
            status = error.code or 500
        elif isinstance(error, ArchiveError):    # a domain error carries its own status
            status = error.status
            if status == 500:               # its message may name files: logged, not shown
                app.logger.error("%s on %s: %s", type(error).__name__, request.path, error)
            else:
                message = str(error)
        else:
            app.logger.exception("unhandled error on %s", request.path)
        ui = getattr(g, "ui", None) or choose_language(request)
        if not message and status in TRANSLATED_ERRORS:
            message = translate(f"error_{status}", ui)
        elif not message and isinstance(error, HTTPException) and status < 500:
            message = error.description          # 405, 413...: werkzeug's words, not "our side"
        elif not message:
            message = translate("error_500", ui)
        if request.path.startswith("/api/") or request.path.endswith((".csv", ".jsonl", ".atom")):
            response = jsonify({"error": {"status": status, "message": message}})
        else:
            response = app.make_response((render_template("error.html", status=status,
                                                           message=message, ui=ui), status))
        response.status_code = status
        if isinstance(error, HTTPException):       # Allow on 405, Retry-After on 429
            for name, value in error.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
        return response
