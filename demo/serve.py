#!/usr/bin/env python3
"""Offline demo newsroom of the fictional Northbridge Migration Agency.

Renders every page on request from demo/content/*.json and demo/templates/.
Prints ``PORT=<n>`` on stdout once listening; logs requests to stderr; stops
cleanly on SIGTERM/SIGINT.  Standard library only.

    python3 demo/serve.py --port 0 [--host 127.0.0.1]
"""

import argparse
import hashlib
import re
import signal
import socket
import sys
import threading
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # noqa: E402  (sibling module, resolved relative to this file)

_HOST_RE = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
ALLOW = "GET, HEAD"


def etag_for(body):
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header, etag):
    candidates = [c.strip() for c in header.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


def not_modified_since(header, last_modified):
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since is None or since.tzinfo is None:
        return False
    return last_modified <= since


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "NorthbridgeDemo/1.0"
    site = None  # a pages.Site, set in main()

    # ----- methods ---------------------------------------------------------
    def do_GET(self):
        self.respond(head=False)

    def do_HEAD(self):
        self.respond(head=True)

    def do_POST(self):
        self.discard_body()
        body = b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>405 Method Not Allowed</title></head>" \
               b"<body><h1>Method Not Allowed</h1><p>This demo site only answers GET and HEAD requests.</p></body></html>\n"
        self.send(405, body, pages.HTML, {"Allow": ALLOW}, head=False)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    # ----- helpers ---------------------------------------------------------
    def discard_body(self):
        try:
            length = int(self.headers.get("Content-Length", 0) or 0)
        except ValueError:
            length = 0
        if length > 0:
            self.rfile.read(min(length, 1 << 20))
        if length > 1 << 20:
            self.close_connection = True

    def origin(self):
        host = (self.headers.get("Host") or "").strip()
        if not _HOST_RE.match(host):
            name, port = self.server.server_address[:2]
            host = f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
        return "http://" + host

    def split_target(self):
        target = self.path
        if not target.startswith("/"):           # absolute-form request target
            parts = urlsplit(target)
            target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        target = target.split("#", 1)[0]
        path, _, query = target.partition("?")
        return unquote(path) or "/", query

    def respond(self, head):
        path, query = self.split_target()
        try:
            resp = self.site.handle(path, query, self.origin())
        except Exception:  # pragma: no cover - keep the server alive, report a 500
            self.log_error("error rendering %s", self.path)
            import traceback
            traceback.print_exc()
            self.send(500, b"Internal Server Error\n", "text/plain; charset=utf-8", {}, head)
            return
        headers = dict(resp.headers)
        if resp.status == 200:
            etag = etag_for(resp.body)
            headers["ETag"] = etag
            headers["Last-Modified"] = format_datetime(resp.last_modified, usegmt=True)
            headers["Cache-Control"] = "public, max-age=600"
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if (etag_matches(inm, etag) if inm is not None
                    else ims is not None and not_modified_since(ims, resp.last_modified)):
                # No body; Content-Length is that of the representation (RFC 9110, 8.6).
                self.send(304, resp.body, resp.content_type, headers, head=True)
                return
        self.send(resp.status, resp.body, resp.content_type, headers, head)

    def send(self, status, body, content_type, headers, head):
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Server6(Server):
    address_family = socket.AF_INET6


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Serve the Northbridge Migration Agency demo newsroom (offline test site for Pressroom).")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port; 0 picks a free port (default: 8000)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    Handler.site = pages.Site()
    server_class = Server6 if ":" in args.host else Server
    httpd = server_class((args.host, args.port), Handler)

    def stop(signum, frame):
        # shutdown() blocks until serve_forever() returns, so call it off the main thread.
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"PORT={httpd.server_address[1]}", flush=True)
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()
    print("server stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
