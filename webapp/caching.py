"""HTTP caching and negotiation: validators with 304s, Vary, compression, and CORS on the API.

A page, an API answer or a feed depends on the request and on the archive's state: the live
index commit, the catalogue, and the code and settings being served. Its ETag hashes all of
them and its Last-Modified is the newest of their change times, both known before the view
runs, so a conditional request that still matches is answered 304 without searching or
rendering. Every such answer says `Cache-Control: no-cache`: caches may keep it, but ask
again each time (a browser's heuristic freshness would otherwise hide a new release).

Responses are compressed (flask-compress: gzip, deflate, Brotli, zstd as the client
accepts), except staff pages, which carry secrets beside text a visitor may have chosen
(BREACH). The read-only API answers any origin, without credentials; no other route does.
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from flask import Flask, Response, g, request
from flask_compress import Compress
from werkzeug.http import is_resource_modified

from archive.database import Database, DatabaseError
from archive.errors import ArchiveError
from archive.layout import DataDir
from archive.settings import Settings, defaults_dir
from indexer.interface import index_version
from webapp.i18n import LANGUAGES

logger = logging.getLogger(__name__)

# GET answers that depend only on the request and the archive's state
CONDITIONAL = frozenset({
    "pages.search_page", "pages.release_page", "pages.changes_page", "pages.original_page",
    "pages.original_raw", "pages.original_replay", "pages.replay_file", "pages.replay_document",
    "pages.feed", "pages.export", "pages.opensearch",
    "api.search", "api.release", "api.openapi", "api.docs",
    "meta.sitemap", "meta.sitemap_part", "meta.robots"})
# answers whose words do not depend on the interface language (their errors do)
LANGUAGE_FREE = frozenset({"static", "pages.original_raw", "pages.original_replay",
                           "pages.replay_file", "pages.replay_document", "pages.opensearch", "api.openapi",
                           "meta.robots", "meta.sitemap", "meta.sitemap_part", "meta.favicon",
                           "status.metrics_page"})
NEGOTIATES_TYPE = frozenset({"status.metrics_page"})          # picks its format by Accept
UNCOMPRESSED_PREFIXES = ("/staff",)
# compress these too (flask-compress's list has no CSV, JSON Lines or OpenSearch)
MORE_COMPRESSED = ["text/csv", "application/x-ndjson", "application/opensearchdescription+xml"]

CORS_HEADERS = (("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Expose-Headers", "ETag, Retry-After, Content-Disposition"))
CORS_PREFLIGHT = (("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
                  ("Access-Control-Allow-Headers", "Accept, Accept-Language, If-None-Match, "
                                                   "If-Modified-Since"),
                  ("Access-Control-Max-Age", "86400"))


def code_version(settings: Settings) -> tuple[str, datetime]:
    """Identify what is being served: Pressroom's version, its templates and code, the settings.

    A deploy or a settings change gives every page a new ETag, and a newer Last-Modified.
    """
    try:
        version = metadata.version("pressroom")
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256(f"{version}|{settings!r}".encode())
    newest = 0
    for folder in (Path(__file__).parent, defaults_dir()):
        for root, _, files in os.walk(folder):
            for name in sorted(files):
                mtime = (Path(root) / name).stat().st_mtime_ns
                digest.update(f"{root}/{name}:{mtime}".encode())
                newest = max(newest, mtime)
    return digest.hexdigest()[:16], datetime.fromtimestamp(newest / 1e9, UTC)


def catalogue_version(app: Flask) -> tuple[str, datetime] | None:
    """The catalogue's state, cheaply: from its files on SQLite, from its change sequence and
    newest fetch on PostgreSQL; None when the database does not answer (a search can go on
    from the index alone, uncached)."""
    where = DataDir.of(app.extensions["pressroom_settings"])
    if not where.shared_database:
        return _file_version(where.catalogue)
    try:
        return _database_version(where.catalogue_url)
    except (ArchiveError, DatabaseError) as exc:
        logger.warning("no validators: the catalogue does not answer: %s", exc)
        return None


def _file_version(path: Path) -> tuple[str, datetime]:
    """A SQLite catalogue's state from its files: a commit writes the WAL, a checkpoint the
    database.

    An empty WAL is left out: SQLite makes one afresh whenever a first reader opens the
    catalogue, which changes nothing in it.
    """
    parts, newest = [], 0
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            found = file.stat()
        except OSError:
            found = None
        if found is None or found.st_size == 0:
            parts.append("-")
            continue
        parts.append(f"{found.st_mtime_ns}:{found.st_size}")
        newest = max(newest, found.st_mtime_ns)
    return "/".join(parts), datetime.fromtimestamp(newest / 1e9, UTC)


# Catalogue.change_token's figures (count, sum and maximum of the change sequence: every
# cleaning write moves them, even one committed late) and the newest fetch (a new capture),
# with their times; one round trip on a pooled connection, without the schema check that
# opening a Catalogue makes (a search need not pay for it)
DATABASE_STATE = (
    "SELECT (SELECT COUNT(*) FROM cleaned) AS n, (SELECT COALESCE(SUM(seq), 0) FROM cleaned) AS s,"
    " (SELECT MAX(seq) FROM cleaned) AS m, (SELECT MAX(id) FROM fetches) AS fetch_id,"
    " (SELECT fetched_at FROM fetches ORDER BY id DESC LIMIT 1) AS fetched,"
    " (SELECT cleaned_at FROM cleaned ORDER BY seq DESC LIMIT 1) AS cleaned")


def _database_version(url: str) -> tuple[str, datetime]:
    """A shared catalogue's state from its change sequence and newest fetch (index lookups,
    but for the sequence's count and sum)."""
    db = Database(url, read_only=True, what="catalogue")
    try:
        row = db.execute(DATABASE_STATE).one()
    finally:
        db.close()
    times = [datetime.fromisoformat(t) for t in (row.fetched, row.cleaned) if t]
    newest = max((t if t.tzinfo else t.replace(tzinfo=UTC) for t in times),
                 default=datetime.fromtimestamp(0, UTC))
    return f"{row.n}:{row.s}:{row.m}/{row.fetch_id}", newest


def validators(app: Flask) -> tuple[str, datetime] | None:
    """The ETag and Last-Modified the current request's answer will carry; None without an
    index (or a catalogue that answers)."""
    data_dir = Path(app.config["DATA_DIR"])
    index = index_version(data_dir)
    if index is None:
        return None
    state = catalogue_version(app)
    if state is None:
        return None
    catalogue, catalogue_time = state
    code, code_time = app.extensions["pressroom_code_version"]
    key = "|".join((code, index.token, catalogue, request.url, getattr(g, "ui", "en")))
    modified = max(code_time, index.changed, catalogue_time).replace(microsecond=0)
    return hashlib.sha256(key.encode()).hexdigest()[:32], modified


def _not_modified(etag: str, modified: datetime) -> Response:
    response = Response(status=304)
    response.set_etag(etag, weak=True)
    response.last_modified = modified
    return response


def install(app: Flask) -> None:
    """Add validators and 304s, Vary, compression and the API's CORS headers to an app."""
    settings: Settings = app.extensions["pressroom_settings"]
    app.extensions["pressroom_code_version"] = code_version(settings)
    app.config.setdefault("COMPRESS_REGISTER", False)     # called below, staff pages excepted
    app.config.setdefault("COMPRESS_EVALUATE_CONDITIONAL_REQUEST", False)   # done before the view
    compress = Compress(app)
    compress.compress_mimetypes_set.update(MORE_COMPRESSED)

    @app.before_request
    def answer_conditional_requests() -> Response | None:
        g.validators = None
        if request.method not in ("GET", "HEAD") or request.endpoint not in CONDITIONAL:
            return None
        found = g.validators = validators(app)
        if found is None:
            return None
        etag, modified = found
        if not is_resource_modified(request.environ, etag=etag, last_modified=modified):
            return _not_modified(etag, modified)
        return None

    @app.after_request
    def caching_headers(response: Response) -> Response:
        found = getattr(g, "validators", None)
        if found is not None and response.status_code in (200, 304):
            etag, modified = found
            response.set_etag(etag, weak=True)
            response.last_modified = modified
            response.headers.setdefault("Cache-Control", "no-cache")
        _vary(response)
        if request.path == "/api" or request.path.startswith("/api/"):
            _cors(response)
        if not request.path.startswith(UNCOMPRESSED_PREFIXES):
            body = response.response
            response = compress.after_request(response)
            if response.response is not body and hasattr(body, "close"):
                # a compressed stream replaces the body: close the old one (a static file) too
                response.call_on_close(body.close)
        return response


def _vary(response: Response) -> None:
    """Name the request headers the answer was chosen by: language (unless ?lang= says), type."""
    endpoint = request.endpoint or ""
    if request.args.get("lang") not in LANGUAGES and (
            endpoint not in LANGUAGE_FREE or response.status_code >= 400):
        response.vary.update(("Accept-Language", "Cookie"))
    if endpoint in NEGOTIATES_TYPE:
        response.vary.add("Accept")


def _cors(response: Response) -> None:
    """Let pages of any origin read the API (no credentials: nothing there needs a login)."""
    for name, value in CORS_HEADERS:
        response.headers[name] = value
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        for name, value in CORS_PREFLIGHT:
            response.headers[name] = value

