"""The SQLite catalogue: URLs, documents and their versions, fetches, runs and the frontier.

WAL mode with synchronous=FULL: a committed row survives a crash, and readers never block the
crawler. Every row that points into a WARC file is committed after that record is fsynced.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.errors import CatalogueError
from archive.release import Archived, Release, ReleaseVersion
from archive.warcstore import RecordRef

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, site TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
    state TEXT NOT NULL, resumed_from INTEGER, pid INTEGER, stats TEXT);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, site TEXT NOT NULL, url TEXT NOT NULL UNIQUE,
    first_captured TEXT NOT NULL, last_captured TEXT NOT NULL, latest_version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id),
    version INTEGER NOT NULL, captured TEXT NOT NULL, url TEXT NOT NULL, status INTEGER NOT NULL,
    content_type TEXT NOT NULL, text_hash TEXT NOT NULL, payload_digest TEXT,
    warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL, warc_length INTEGER NOT NULL,
    truncated TEXT, run_id INTEGER, UNIQUE (document_id, version));
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY, site TEXT NOT NULL, document_id INTEGER REFERENCES documents(id),
    outcome TEXT NOT NULL, http_status INTEGER, reason TEXT, etag TEXT, last_modified TEXT,
    sitemap_lastmod TEXT, last_checked TEXT, redirect_to TEXT);
CREATE TABLE IF NOT EXISTS fetches (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, url TEXT NOT NULL, fetched_at TEXT NOT NULL,
    http_status INTEGER, outcome TEXT NOT NULL, reason TEXT, warc_file TEXT, warc_offset INTEGER,
    warc_length INTEGER, document_id INTEGER, version INTEGER);
CREATE INDEX IF NOT EXISTS fetches_run ON fetches (run_id);
CREATE TABLE IF NOT EXISTS cleaned (
    document_id INTEGER NOT NULL REFERENCES documents(id), version INTEGER NOT NULL,
    release_id TEXT, site TEXT NOT NULL, is_release INTEGER NOT NULL, reason TEXT,
    release TEXT, cleaned_at TEXT NOT NULL, PRIMARY KEY (document_id, version));
CREATE INDEX IF NOT EXISTS cleaned_release ON cleaned (is_release, release_id);
CREATE TABLE IF NOT EXISTS requisites (
    id INTEGER PRIMARY KEY, site TEXT NOT NULL, url TEXT NOT NULL, kind TEXT NOT NULL,
    captured TEXT NOT NULL, status INTEGER NOT NULL, content_type TEXT NOT NULL,
    payload_digest TEXT, warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL,
    warc_length INTEGER NOT NULL, truncated TEXT, run_id INTEGER);
CREATE INDEX IF NOT EXISTS requisites_digest ON requisites (payload_digest);
CREATE TABLE IF NOT EXISTS requisite_urls (
    url TEXT PRIMARY KEY, requisite_id INTEGER REFERENCES requisites(id), etag TEXT,
    last_modified TEXT, last_checked TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS page_requisites (
    document_id INTEGER NOT NULL REFERENCES documents(id), version INTEGER NOT NULL,
    url TEXT NOT NULL, kind TEXT NOT NULL, requisite_id INTEGER REFERENCES requisites(id),
    outcome TEXT NOT NULL, PRIMARY KEY (document_id, version, url));
CREATE TABLE IF NOT EXISTS frontier (
    run_id INTEGER NOT NULL, url TEXT NOT NULL, kind TEXT NOT NULL, depth INTEGER NOT NULL,
    not_before REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, url));
"""


@dataclass(frozen=True)
class Version:
    """One captured version of a document."""

    document_id: int
    version: int
    url: str
    captured: str
    status: int
    content_type: str
    text_hash: str
    ref: RecordRef


@dataclass(frozen=True)
class UrlState:
    """What the catalogue knows of one URL from earlier fetches."""

    url: str
    document_id: int | None
    outcome: str
    etag: str | None
    last_modified: str | None
    sitemap_lastmod: str | None
    last_checked: str | None


@dataclass(frozen=True)
class FrontierItem:
    """A URL waiting in a run's queue."""

    url: str
    kind: str
    depth: int
    not_before: float = 0.0
    attempts: int = 0


def now_iso() -> str:
    """Return the current UTC time as ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Catalogue:
    """A connection to the catalogue database of one data directory."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        try:
            if read_only:  # readers (the web app) never write, nor create a missing file
                self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                          timeout=30, check_same_thread=False)
                self.db.row_factory = sqlite3.Row
                return
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30,
                                      check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            with self.transaction():
                self._create()
        except sqlite3.DatabaseError as exc:
            raise CatalogueError(f"{path}: cannot open the catalogue: {exc}") from exc

    def _create(self) -> None:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self.db.execute(statement)
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            raise CatalogueError(f"{self.path}: catalogue schema {row[0]} is not the supported "
                                 f"{SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one durable write transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- runs ----------------------------------------------------------------------------------
    def start_run(self, site: str, pid: int) -> tuple[int, int | None]:
        """Open a run for a site; inherit the frontier of an interrupted one. Return (id, resumed)."""
        with self.transaction() as db:
            old = db.execute("SELECT id FROM runs WHERE site=? AND state IN ('running', 'interrupted')"
                             " ORDER BY id DESC LIMIT 1", (site,)).fetchone()
            cur = db.execute("INSERT INTO runs (site, started, state, pid, resumed_from)"
                             " VALUES (?, ?, 'running', ?, ?)",
                             (site, now_iso(), pid, old["id"] if old else None))
            run_id = int(cur.lastrowid or 0)
            if old is not None:
                db.execute("UPDATE runs SET state='resumed', finished=? WHERE id=?",
                           (now_iso(), old["id"]))
                db.execute("UPDATE frontier SET run_id=? WHERE run_id=?", (run_id, old["id"]))
        return run_id, (int(old["id"]) if old else None)

    def finish_run(self, run_id: int, state: str, stats: dict[str, Any]) -> None:
        """Close a run with its final state ('done' or 'interrupted') and its counters."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET state=?, finished=?, stats=? WHERE id=?",
                       (state, now_iso(), json.dumps(stats, sort_keys=True), run_id))
            if state == "done":
                db.execute("DELETE FROM frontier WHERE run_id=?", (run_id,))

    def runs(self, limit: int = 20) -> list[sqlite3.Row]:
        """Return the latest runs, newest first."""
        return self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()

    # -- frontier ------------------------------------------------------------------------------
    def frontier(self, run_id: int) -> list[tuple[FrontierItem, bool]]:
        """Return every (item, done) of a run's frontier."""
        rows = self.db.execute("SELECT * FROM frontier WHERE run_id=?", (run_id,)).fetchall()
        return [(FrontierItem(r["url"], r["kind"], r["depth"], r["not_before"], r["attempts"]),
                 bool(r["done"])) for r in rows]

    def enqueue(self, run_id: int, items: list[FrontierItem]) -> None:
        """Add items to a run's frontier (inside the caller's transaction)."""
        self.db.executemany(
            "INSERT OR IGNORE INTO frontier (run_id, url, kind, depth, not_before, attempts)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(run_id, i.url, i.kind, i.depth, i.not_before, i.attempts) for i in items])

    def requeue(self, run_id: int, item: FrontierItem) -> None:
        """Store a retry's attempt count and earliest time."""
        self.db.execute("UPDATE frontier SET not_before=?, attempts=? WHERE run_id=? AND url=?",
                        (item.not_before, item.attempts, run_id, item.url))

    def mark_done(self, run_id: int, url: str) -> None:
        """Mark a frontier URL as handled in this run."""
        self.db.execute("UPDATE frontier SET done=1 WHERE run_id=? AND url=?", (run_id, url))

    # -- URLs, documents, versions -------------------------------------------------------------
    def url_state(self, url: str) -> UrlState | None:
        """Return what is known of a URL, or None."""
        r = self.db.execute("SELECT * FROM urls WHERE url=?", (url,)).fetchone()
        if r is None:
            return None
        return UrlState(r["url"], r["document_id"], r["outcome"], r["etag"], r["last_modified"],
                        r["sitemap_lastmod"], r["last_checked"])

    def set_sitemap_lastmod(self, site: str, url: str, lastmod: str) -> None:
        """Remember a URL's sitemap lastmod (inside the caller's transaction)."""
        self.db.execute(
            "INSERT INTO urls (url, site, outcome, sitemap_lastmod) VALUES (?, ?, 'discovered', ?)"
            " ON CONFLICT(url) DO UPDATE SET sitemap_lastmod=excluded.sitemap_lastmod",
            (url, site, lastmod))

    def record_url(self, url: str, site: str, outcome: str, *, http_status: int | None = None,
                   reason: str | None = None, document_id: int | None = None,
                   etag: str | None = None, last_modified: str | None = None,
                   redirect_to: str | None = None, keep_validators: bool = False) -> None:
        """Store the outcome of the latest fetch of a URL."""
        validators = ("etag=COALESCE(excluded.etag, urls.etag), last_modified="
                      "COALESCE(excluded.last_modified, urls.last_modified)" if keep_validators
                      else "etag=excluded.etag, last_modified=excluded.last_modified")
        self.db.execute(
            "INSERT INTO urls (url, site, document_id, outcome, http_status, reason, etag,"
            " last_modified, last_checked, redirect_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(url) DO UPDATE SET site=excluded.site,"
            " document_id=COALESCE(excluded.document_id, urls.document_id),"
            " outcome=excluded.outcome, http_status=excluded.http_status, reason=excluded.reason,"
            f" {validators}, last_checked=excluded.last_checked, redirect_to=excluded.redirect_to",
            (url, site, document_id, outcome, http_status, reason, etag, last_modified, now_iso(),
             redirect_to))

    def document_id(self, url: str) -> int | None:
        """Return the id of the document with this canonical URL, or None."""
        r = self.db.execute("SELECT id FROM documents WHERE url=?", (url,)).fetchone()
        return int(r["id"]) if r else None

    def latest_version(self, document_id: int) -> Version | None:
        """Return a document's newest version."""
        r = self.db.execute("SELECT * FROM versions WHERE document_id=? ORDER BY version DESC"
                            " LIMIT 1", (document_id,)).fetchone()
        return _version(r) if r else None

    def versions(self, document_id: int) -> list[Version]:
        """Return all versions of a document, oldest first."""
        rows = self.db.execute("SELECT * FROM versions WHERE document_id=? ORDER BY version",
                               (document_id,)).fetchall()
        return [_version(r) for r in rows]

    def add_version(self, site: str, doc_url: str, fetched_url: str, status: int,
                    content_type: str, text_hash: str, ref: RecordRef, truncated: str | None,
                    run_id: int, captured: str) -> tuple[int, int]:
        """Add a version (and its document when new); return (document id, version number)."""
        doc_id = self.document_id(doc_url)
        if doc_id is None:
            cur = self.db.execute(
                "INSERT INTO documents (site, url, first_captured, last_captured, latest_version)"
                " VALUES (?, ?, ?, ?, 1)", (site, doc_url, captured, captured))
            doc_id, number = int(cur.lastrowid or 0), 1
        else:
            number = int(self.db.execute("SELECT latest_version FROM documents WHERE id=?",
                                         (doc_id,)).fetchone()[0]) + 1
            self.db.execute("UPDATE documents SET latest_version=?, last_captured=? WHERE id=?",
                            (number, captured, doc_id))
        self.db.execute(
            "INSERT INTO versions (document_id, version, captured, url, status, content_type,"
            " text_hash, payload_digest, warc_file, warc_offset, warc_length, truncated, run_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (doc_id, number, captured, fetched_url, status, content_type, text_hash,
             ref.payload_digest, ref.file, ref.offset, ref.length, truncated, run_id))
        return doc_id, number

    def touch_document(self, document_id: int) -> None:
        """Note that a document was seen unchanged just now."""
        self.db.execute("UPDATE documents SET last_captured=? WHERE id=?", (now_iso(), document_id))

    def log_fetch(self, run_id: int, url: str, outcome: str, *, http_status: int | None = None,
                  reason: str | None = None, ref: RecordRef | None = None,
                  document_id: int | None = None, version: int | None = None,
                  fetched_at: str | None = None) -> None:
        """Append one line to the fetch log (fetched now, unless the response says when)."""
        self.db.execute(
            "INSERT INTO fetches (run_id, url, fetched_at, http_status, outcome, reason, warc_file,"
            " warc_offset, warc_length, document_id, version) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, url, fetched_at or now_iso(), http_status, outcome, reason,
             ref.file if ref else None, ref.offset if ref else None, ref.length if ref else None,
             document_id, version))

    # -- cleaned releases ----------------------------------------------------------------------
    def versions_to_clean(self, everything: bool = False) -> list[VersionRow]:
        """Return the versions without a cleaning result (or all of them)."""
        where = "" if everything else "WHERE c.document_id IS NULL"
        rows = self.db.execute(
            "SELECT v.*, d.url AS document_url, d.site FROM versions v "
            "JOIN documents d ON d.id = v.document_id "
            "LEFT JOIN cleaned c ON c.document_id = v.document_id AND c.version = v.version "
            f"{where} ORDER BY v.id").fetchall()
        return [VersionRow(r["document_id"], r["version"], r["document_url"], r["site"],
                           r["captured"], r["content_type"],
                           RecordRef(r["warc_file"], r["warc_offset"], r["warc_length"],
                                     r["payload_digest"])) for r in rows]

    def save_cleaned(self, row: VersionRow, release: Release | None, reason: str | None) -> None:
        """Store what cleaning made of a version: a release, or why it is none."""
        self.db.execute(
            "INSERT OR REPLACE INTO cleaned (document_id, version, release_id, site, is_release,"
            " reason, release, cleaned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (row.document_id, row.version, release.id if release else None, row.site,
             1 if release else 0, reason,
             json.dumps(release.to_json(), ensure_ascii=False) if release else None, now_iso()))

    def releases(self, all_versions: bool = False, site: str | None = None) -> Iterator[Release]:
        """Yield releases: the latest version of each document, or every version."""
        latest = "" if all_versions else (
            "AND c.version = (SELECT MAX(c2.version) FROM cleaned c2 "
            "WHERE c2.document_id = c.document_id AND c2.is_release = 1)")
        site_filter = "AND c.site = ?" if site else ""
        query = (f"SELECT c.release FROM cleaned c WHERE c.is_release = 1 {latest} {site_filter}"
                 " ORDER BY c.document_id, c.version")
        for (text,) in self.db.execute(query, (site,) if site else ()):
            yield Release.from_json(json.loads(text))

    def has_release(self, release_id: str) -> bool:
        """Tell whether a release with this id is in the archive."""
        return self.db.execute("SELECT 1 FROM cleaned WHERE release_id = ? AND is_release = 1 LIMIT 1",
                               (release_id,)).fetchone() is not None

    def release_versions(self, release_id: str) -> list[ReleaseVersion]:
        """Return every version of a release, oldest first, each with where it is archived."""
        rows = self.db.execute(
            "SELECT c.release, c.version, v.captured, v.warc_file, v.warc_offset, v.warc_length,"
            " v.content_type, v.url AS fetched_url FROM cleaned c JOIN versions v"
            " ON v.document_id = c.document_id AND v.version = c.version"
            " WHERE c.release_id = ? AND c.is_release = 1 ORDER BY c.version", (release_id,)).fetchall()
        return [ReleaseVersion(Release.from_json(json.loads(r["release"])),
                               Archived(r["captured"], r["content_type"], r["fetched_url"],
                                       RecordRef(r["warc_file"], r["warc_offset"], r["warc_length"])))
                for r in rows]

    def release_captures(self, release_id: str) -> list[CaptureRow]:
        """Return every archived capture of a release, oldest first: its versions and re-crawls.

        A re-crawl that found the text unchanged (a revisit, or the same text in other bytes)
        is a capture of the version it repeated; a page skipped by its sitemap date wrote no
        record and is none.
        """
        rows = self.db.execute(
            "SELECT v.captured, v.version, v.url, v.warc_file, v.warc_offset, v.warc_length,"
            " v.payload_digest FROM cleaned c JOIN versions v"
            " ON v.document_id = c.document_id AND v.version = c.version"
            " WHERE c.release_id = ? AND c.is_release = 1"
            " UNION "
            "SELECT f.fetched_at, f.version, f.url, f.warc_file, f.warc_offset, f.warc_length, NULL"
            " FROM cleaned c JOIN fetches f ON f.document_id = c.document_id AND f.version = c.version"
            " WHERE c.release_id = ? AND c.is_release = 1 AND f.outcome = 'unchanged'"
            " AND f.warc_file IS NOT NULL", (release_id, release_id)).fetchall()
        captures = [CaptureRow(r[0], r[1], r[2], RecordRef(r[3], r[4], r[5], r[6])) for r in rows]
        return sorted(captures, key=lambda c: (datetime.fromisoformat(c.captured), c.version))

    def release_count(self) -> int:
        """Count the releases (not their versions)."""
        return int(self.db.execute("SELECT COUNT(DISTINCT release_id) FROM cleaned"
                                   " WHERE is_release = 1").fetchone()[0])

    def release_changes(self, offset: int = 0, limit: int = 50_000) -> list[tuple[str, str]]:
        """Return (release id, capture time of its latest version) in id order, a page at a time."""
        rows = self.db.execute(
            "SELECT c.release_id, MAX(v.captured) FROM cleaned c JOIN versions v"
            " ON v.document_id = c.document_id AND v.version = c.version WHERE c.is_release = 1"
            " GROUP BY c.release_id ORDER BY c.release_id LIMIT ? OFFSET ?", (limit, offset))
        return [(r[0], r[1]) for r in rows]

    def count(self, table: str) -> int:
        """Count the rows of a catalogue table."""
        if table not in ("documents", "versions", "urls", "fetches", "runs", "frontier", "cleaned"):
            raise ValueError(table)
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def record_refs(self) -> list[RecordRef]:
        """Return every WARC place that a version or a fetch points at."""
        rows = self.db.execute(
            "SELECT warc_file, warc_offset, warc_length FROM versions UNION "
            "SELECT warc_file, warc_offset, warc_length FROM fetches WHERE warc_file IS NOT NULL"
        ).fetchall()
        return [RecordRef(r[0], r[1], r[2]) for r in rows]


def _version(r: sqlite3.Row) -> Version:
    return Version(r["document_id"], r["version"], r["url"], r["captured"], r["status"],
                   r["content_type"], r["text_hash"],
                   RecordRef(r["warc_file"], r["warc_offset"], r["warc_length"], r["payload_digest"]))


@dataclass(frozen=True)
class VersionRow:
    """A version with its document's URL and site, as the cleaner reads it."""

    document_id: int
    version: int
    document_url: str
    site: str
    captured: str
    content_type: str
    ref: RecordRef


@dataclass(frozen=True)
class CaptureRow:
    """One archived capture of a release: when, which version it holds, and its WARC record."""

    captured: str
    version: int
    url: str
    ref: RecordRef
