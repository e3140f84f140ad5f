"""Security headers on every response, per-client rate limits, and one error handler."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, TooManyRequests

from webapp.i18n import choose_language, translate

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-src 'self'; "
       "frame-ancestors 'none'")
ARCHIVED_CSP = ("sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
                "frame-ancestors 'self'")


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


class RateLimiter:
    """A token bucket per client and kind of request (in memory, per worker process)."""

    def __init__(self, rate: float, burst: float, max_clients: int = 10_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Take a token for a client; False when its bucket is empty."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1
            self._buckets[client] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return allowed


def limit(app: Flask, kind: str) -> None:
    """Refuse the current request with 429 when its client is over the limit for `kind`."""
    limiter: RateLimiter = app.extensions["pressroom_limits"][kind]
    if not limiter.allow(request.remote_addr or "unknown"):
        raise TooManyRequests(retry_after=int(1 / limiter.rate) + 1)


def install(app: Flask) -> None:
    """Add headers, limits and the error handler to an app."""
    app.extensions["pressroom_limits"] = {
        "search": RateLimiter(app.config["SEARCH_RATE"], app.config["SEARCH_BURST"]),
        "export": RateLimiter(app.config["EXPORT_RATE"], app.config["EXPORT_BURST"]),
    }

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        return response

    @app.errorhandler(Exception)
    def handle(error: Exception) -> Any:
        if not isinstance(error, HTTPException):
            app.logger.exception("unhandled error on %s", request.path)
        status = error.code if isinstance(error, HTTPException) and error.code else 500
        message = getattr(error, "pressroom_message", None)
        ui = getattr(g, "ui", None) or choose_language(request)
        if not message:
            key = f"error_{status}" if f"error_{status}" in ("error_404", "error_400", "error_429",
                                                            "error_503") else "error_500"
            message = translate(key, ui)
        if request.path.startswith("/api/") or request.path.endswith((".csv", ".jsonl", ".atom")):
            response = jsonify({"error": {"status": status, "message": message}})
        else:
            response = app.make_response((render_template("error.html", status=status,
                                                           message=message, ui=ui), status))
        response.status_code = status
        if isinstance(error, TooManyRequests) and error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        return response
