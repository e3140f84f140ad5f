"""The catalogue: URLs, documents and their versions, fetches, runs, the frontier, releases.

On SQLite (WAL mode, synchronous=FULL) or PostgreSQL (archive.database): a committed row
survives a crash, and readers never block the crawler. Every row that points into a WARC file
is committed after that record is fsynced. The schema is Alembic's (archive/migrations).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive import migrate
from archive.database import Database, sqlite_url
from archive.errors import CatalogueError
from archive.release import Archived, Release, ReleaseVersion
from archive.warcstore import RecordRef


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
    """A connection to the catalogue: a SQLite file (a Path) or a database URL."""

    def __init__(self, where: Path | str, read_only: bool = False) -> None:
        self.url = sqlite_url(where) if isinstance(where, Path) else where
        if read_only and isinstance(where, Path) and not where.exists():
            raise CatalogueError(f"{where}: cannot open the catalogue: no such file")
        self.db = Database(self.url, read_only=read_only, what="catalogue")
        try:
            migrate.ensure(self.db, "catalogue")
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """Run a block in one durable write transaction."""
        with self.db.transaction() as db:
            yield db

    # -- runs ----------------------------------------------------------------------------------
    def start_run(self, site: str, pid: int, worker: str | None = None) -> tuple[int, int | None]:
        """Open a run for a site; inherit the frontier of an interrupted one. Return (id, resumed)."""
        with self.transaction() as db:
            old = db.scalar("SELECT id FROM runs WHERE site = :site AND state IN ('running', "
                            "'interrupted') ORDER BY id DESC LIMIT 1", {"site": site})
            run_id = int(db.scalar(
                "INSERT INTO runs (site, started, state, pid, resumed_from, worker)"
                " VALUES (:site, :now, 'running', :pid, :old, :worker) RETURNING id",
                {"site": site, "now": now_iso(), "pid": pid, "old": old, "worker": worker}))
            if old is not None:
                db.execute("UPDATE runs SET state = 'resumed', finished = :now WHERE id = :id",
                           {"now": now_iso(), "id": old})
                db.execute("UPDATE frontier SET run_id = :new WHERE run_id = :old",
                           {"new": run_id, "old": old})
        return run_id, (int(old) if old is not None else None)

    def finish_run(self, run_id: int, state: str, stats: dict[str, Any]) -> None:
        """Close a run with its final state ('done' or 'interrupted') and its counters."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET state = :state, finished = :now, stats = :stats WHERE id = :id",
                       {"state": state, "now": now_iso(), "stats": json.dumps(stats, sort_keys=True),
                        "id": run_id})
            if state == "done":
                db.execute("DELETE FROM frontier WHERE run_id = :id", {"id": run_id})

    def runs(self, limit: int = 20) -> list[Any]:
        """Return the latest runs, newest first (rows with the runs table's columns)."""
        return list(self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT :limit",
                                    {"limit": limit}).mappings())

    # -- frontier ------------------------------------------------------------------------------
    def frontier(self, run_id: int) -> list[tuple[FrontierItem, bool]]:
        """Return every (item, done) of a run's frontier."""
        rows = self.db.execute("SELECT * FROM frontier WHERE run_id = :id", {"id": run_id})
        return [(FrontierItem(r.url, r.kind, r.depth, r.not_before, r.attempts), bool(r.done))
                for r in rows]

    def enqueue(self, run_id: int, items: list[FrontierItem]) -> None:
        """Add items to a run's frontier (inside the caller's transaction)."""
        self.db.execute(
            "INSERT INTO frontier (run_id, url, kind, depth, not_before, attempts)"
            " VALUES (:run_id, :url, :kind, :depth, :not_before, :attempts) ON CONFLICT DO NOTHING",
            [{"run_id": run_id, "url": i.url, "kind": i.kind, "depth": i.depth,
              "not_before": i.not_before, "attempts": i.attempts} for i in items])

    def requeue(self, run_id: int, item: FrontierItem) -> None:
        """Store a retry's attempt count and earliest time."""
        self.db.execute("UPDATE frontier SET not_before = :not_before, attempts = :attempts"
                        " WHERE run_id = :run_id AND url = :url",
                        {"not_before": item.not_before, "attempts": item.attempts,
                         "run_id": run_id, "url": item.url})

    def mark_done(self, run_id: int, url: str) -> None:
        """Mark a frontier URL as handled in this run."""
        self.db.execute("UPDATE frontier SET done = 1 WHERE run_id = :run_id AND url = :url",
                        {"run_id": run_id, "url": url})

    # -- URLs, documents, versions -------------------------------------------------------------
    def url_state(self, url: str) -> UrlState | None:
        """Return what is known of a URL, or None."""
        r = self.db.execute("SELECT * FROM urls WHERE url = :url", {"url": url}).first()
        if r is None:
            return None
        return UrlState(r.url, r.document_id, r.outcome, r.etag, r.last_modified,
                        r.sitemap_lastmod, r.last_checked)

    def set_sitemap_lastmod(self, site: str, url: str, lastmod: str) -> None:
        """Remember a URL's sitemap lastmod (inside the caller's transaction)."""
        self.db.execute(
            "INSERT INTO urls (url, site, outcome, sitemap_lastmod)"
            " VALUES (:url, :site, 'discovered', :lastmod)"
            " ON CONFLICT (url) DO UPDATE SET sitemap_lastmod = excluded.sitemap_lastmod",
            {"url": url, "site": site, "lastmod": lastmod})

    def record_url(self, url: str, site: str, outcome: str, *, http_status: int | None = None,
                   reason: str | None = None, document_id: int | None = None,
                   etag: str | None = None, last_modified: str | None = None,
                   redirect_to: str | None = None, keep_validators: bool = False) -> None:
        """Store the outcome of the latest fetch of a URL."""
        validators = ("etag = COALESCE(excluded.etag, urls.etag), last_modified ="
                      " COALESCE(excluded.last_modified, urls.last_modified)" if keep_validators
                      else "etag = excluded.etag, last_modified = excluded.last_modified")
        self.db.execute(
            "INSERT INTO urls (url, site, document_id, outcome, http_status, reason, etag,"
            " last_modified, last_checked, redirect_to) VALUES (:url, :site, :document_id,"
            " :outcome, :http_status, :reason, :etag, :last_modified, :now, :redirect_to)"
            " ON CONFLICT (url) DO UPDATE SET site = excluded.site,"
            " document_id = COALESCE(excluded.document_id, urls.document_id),"
            " outcome = excluded.outcome, http_status = excluded.http_status,"
            f" reason = excluded.reason, {validators}, last_checked = excluded.last_checked,"
            " redirect_to = excluded.redirect_to",
            {"url": url, "site": site, "document_id": document_id, "outcome": outcome,
             "http_status": http_status, "reason": reason, "etag": etag,
             "last_modified": last_modified, "now": now_iso(), "redirect_to": redirect_to})

    def document_id(self, url: str) -> int | None:
        """Return the id of the document with this canonical URL, or None."""
        found = self.db.scalar("SELECT id FROM documents WHERE url = :url", {"url": url})
        return int(found) if found is not None else None

    def latest_version(self, document_id: int) -> Version | None:
        """Return a document's newest version."""
        r = self.db.execute("SELECT * FROM versions WHERE document_id = :id ORDER BY version DESC"
                            " LIMIT 1", {"id": document_id}).first()
        return _version(r) if r else None

    def versions(self, document_id: int) -> list[Version]:
        """Return all versions of a document, oldest first."""
        rows = self.db.execute("SELECT * FROM versions WHERE document_id = :id ORDER BY version",
                               {"id": document_id})
        return [_version(r) for r in rows]

    def add_version(self, site: str, doc_url: str, fetched_url: str, status: int,
                    content_type: str, text_hash: str, ref: RecordRef, truncated: str | None,
                    run_id: int, captured: str) -> tuple[int, int]:
        """Add a version (and its document when new); return (document id, version number)."""
        doc_id = self.document_id(doc_url)
        if doc_id is None:
            doc_id = int(self.db.scalar(
                "INSERT INTO documents (site, url, first_captured, last_captured, latest_version)"
                " VALUES (:site, :url, :captured, :captured, 1) RETURNING id",
                {"site": site, "url": doc_url, "captured": captured}))
            number = 1
        else:
            number = int(self.db.scalar("SELECT latest_version FROM documents WHERE id = :id",
                                        {"id": doc_id})) + 1
            self.db.execute("UPDATE documents SET latest_version = :number, last_captured = :captured"
                            " WHERE id = :id", {"number": number, "captured": captured, "id": doc_id})
        self.db.execute(
            "INSERT INTO versions (document_id, version, captured, url, status, content_type,"
            " text_hash, payload_digest, warc_file, warc_offset, warc_length, truncated, run_id)"
            " VALUES (:document_id, :version, :captured, :url, :status, :content_type, :text_hash,"
            " :payload_digest, :warc_file, :warc_offset, :warc_length, :truncated, :run_id)",
            {"document_id": doc_id, "version": number, "captured": captured, "url": fetched_url,
             "status": status, "content_type": content_type, "text_hash": text_hash,
             "payload_digest": ref.payload_digest, "warc_file": ref.file, "warc_offset": ref.offset,
             "warc_length": ref.length, "truncated": truncated, "run_id": run_id})
        return doc_id, number

    def touch_document(self, document_id: int) -> None:
        """Note that a document was seen unchanged just now."""
        self.db.execute("UPDATE documents SET last_captured = :now WHERE id = :id",
                        {"now": now_iso(), "id": document_id})

    def log_fetch(self, run_id: int, url: str, outcome: str, *, http_status: int | None = None,
                  reason: str | None = None, ref: RecordRef | None = None,
                  document_id: int | None = None, version: int | None = None,
                  fetched_at: str | None = None) -> None:
        """Append one line to the fetch log (fetched now, unless the response says when)."""
        self.db.execute(
            "INSERT INTO fetches (run_id, url, fetched_at, http_status, outcome, reason, warc_file,"
            " warc_offset, warc_length, document_id, version) VALUES (:run_id, :url, :fetched_at,"
            " :http_status, :outcome, :reason, :warc_file, :warc_offset, :warc_length,"
            " :document_id, :version)",
            {"run_id": run_id, "url": url, "fetched_at": fetched_at or now_iso(),
             "http_status": http_status, "outcome": outcome, "reason": reason,
             "warc_file": ref.file if ref else None, "warc_offset": ref.offset if ref else None,
             "warc_length": ref.length if ref else None, "document_id": document_id,
             "version": version})

    # -- cleaned releases ----------------------------------------------------------------------
    def versions_to_clean(self, everything: bool = False) -> list[VersionRow]:
        """Return the versions without a cleaning result (or all of them)."""
        where = "" if everything else "WHERE c.document_id IS NULL"
        rows = self.db.execute(
            "SELECT v.*, d.url AS document_url, d.site FROM versions v "
            "JOIN documents d ON d.id = v.document_id "
            "LEFT JOIN cleaned c ON c.document_id = v.document_id AND c.version = v.version "
            f"{where} ORDER BY v.id")
        return [VersionRow(r.document_id, r.version, r.document_url, r.site, r.captured,
                           r.content_type,
                           RecordRef(r.warc_file, r.warc_offset, r.warc_length, r.payload_digest))
                for r in rows]

    def save_cleaned(self, row: VersionRow, release: Release | None, reason: str | None) -> None:
        """Store what cleaning made of a version: a release, or why it is none.

        Each write takes the next number of the change sequence that search nodes follow.
        """
        seq = ("(SELECT COALESCE(MAX(seq), 0) + 1 FROM cleaned)" if self.db.sqlite
               else "nextval('cleaned_seq')")
        self.db.execute(
            "INSERT INTO cleaned (document_id, version, release_id, site, is_release, reason,"
            " release, cleaned_at, seq) VALUES (:document_id, :version, :release_id, :site,"
            f" :is_release, :reason, :release, :now, {seq})"
            " ON CONFLICT (document_id, version) DO UPDATE SET release_id = excluded.release_id,"
            " site = excluded.site, is_release = excluded.is_release, reason = excluded.reason,"
            " release = excluded.release, cleaned_at = excluded.cleaned_at, seq = excluded.seq",
            {"document_id": row.document_id, "version": row.version,
             "release_id": release.id if release else None, "site": row.site,
             "is_release": 1 if release else 0, "reason": reason,
             "release": json.dumps(release.to_json(), ensure_ascii=False) if release else None,
             "now": now_iso()})

    def change_token(self) -> str:
        """Return a value that changes whenever a cleaning result is written or removed.

        The count and the sum of the change sequence: every write takes a new, higher number,
        so even a write that commits after a later one changes the sum.
        """
        row = self.db.execute("SELECT COUNT(*), COALESCE(SUM(seq), 0), COALESCE(MAX(seq), 0)"
                              " FROM cleaned").one()
        return f"{row[0]}:{row[1]}:{row[2]}"

    def releases(self, all_versions: bool = False, site: str | None = None) -> Iterator[Release]:
        """Yield releases: the latest version of each document, or every version."""
        latest = "" if all_versions else (
            "AND c.version = (SELECT MAX(c2.version) FROM cleaned c2 "
            "WHERE c2.document_id = c.document_id AND c2.is_release = 1)")
        site_filter = "AND c.site = :site" if site else ""
        query = (f"SELECT c.release FROM cleaned c WHERE c.is_release = 1 {latest} {site_filter}"
                 " ORDER BY c.document_id, c.version")
        for (text,) in self.db.execute(query, {"site": site} if site else None).all():
            yield Release.from_json(json.loads(text))

    def has_release(self, release_id: str) -> bool:
        """Tell whether a release with this id is in the archive."""
        return self.db.scalar("SELECT 1 FROM cleaned WHERE release_id = :id AND is_release = 1"
                              " LIMIT 1", {"id": release_id}) is not None

    def release_versions(self, release_id: str) -> list[ReleaseVersion]:
        """Return every version of a release, oldest first, each with where it is archived."""
        rows = self.db.execute(
            "SELECT c.release, c.version, v.captured, v.warc_file, v.warc_offset, v.warc_length,"
            " v.content_type, v.url AS fetched_url FROM cleaned c JOIN versions v"
            " ON v.document_id = c.document_id AND v.version = c.version"
            " WHERE c.release_id = :id AND c.is_release = 1 ORDER BY c.version", {"id": release_id})
        return [ReleaseVersion(Release.from_json(json.loads(r.release)),
                               Archived(r.captured, r.content_type, r.fetched_url,
                                        RecordRef(r.warc_file, r.warc_offset, r.warc_length)))
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
            " WHERE c.release_id = :id AND c.is_release = 1"
            " UNION "
            "SELECT f.fetched_at, f.version, f.url, f.warc_file, f.warc_offset, f.warc_length, NULL"
            " FROM cleaned c JOIN fetches f ON f.document_id = c.document_id AND f.version = c.version"
            " WHERE c.release_id = :id AND c.is_release = 1 AND f.outcome = 'unchanged'"
            " AND f.warc_file IS NOT NULL", {"id": release_id})
        captures = [CaptureRow(r[0], r[1], r[2], RecordRef(r[3], r[4], r[5], r[6])) for r in rows]
        return sorted(captures, key=lambda c: (datetime.fromisoformat(c.captured), c.version))

    def release_count(self) -> int:
        """Count the releases (not their versions)."""
        return int(self.db.scalar("SELECT COUNT(DISTINCT release_id) FROM cleaned"
                                  " WHERE is_release = 1"))

    def release_changes(self, offset: int = 0, limit: int = 50_000) -> list[tuple[str, str]]:
        """Return (release id, capture time of its latest version) in id order, a page at a time."""
        rows = self.db.execute(
            "SELECT c.release_id, MAX(v.captured) FROM cleaned c JOIN versions v"
            " ON v.document_id = c.document_id AND v.version = c.version WHERE c.is_release = 1"
            " GROUP BY c.release_id ORDER BY c.release_id LIMIT :limit OFFSET :offset",
            {"limit": limit, "offset": offset})
        return [(r[0], r[1]) for r in rows]

    def count(self, table: str) -> int:
        """Count the rows of a catalogue table."""
        if table not in ("documents", "versions", "urls", "fetches", "runs", "frontier", "cleaned"):
            raise ValueError(table)
        return int(self.db.scalar(f"SELECT COUNT(*) FROM {table}"))

    def record_refs(self) -> list[RecordRef]:
        """Return every WARC place that a version or a fetch points at."""
        rows = self.db.execute(
            "SELECT warc_file, warc_offset, warc_length FROM versions UNION "
            "SELECT warc_file, warc_offset, warc_length FROM fetches WHERE warc_file IS NOT NULL")
        return [RecordRef(r[0], r[1], r[2]) for r in rows]


def _version(r: Any) -> Version:
    return Version(r.document_id, r.version, r.url, r.captured, r.status, r.content_type,
                   r.text_hash, RecordRef(r.warc_file, r.warc_offset, r.warc_length, r.payload_digest))


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
