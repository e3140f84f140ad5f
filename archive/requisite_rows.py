"""The catalogue's record of page requisites: stored payloads, URL state, and which page needs which.

`requisites` holds one row per stored payload (a response record); `requisite_urls` the latest
state of each requisite URL (the payload it last served, its validators for conditional GET);
`page_requisites` what each captured page version names, and the payload it is shown with.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.catalogue import Catalogue, now_iso
from archive.warcstore import RecordRef


@dataclass(frozen=True)
class StoredRequisite:
    """A stored requisite payload: where its response record is, and what it is."""

    id: int
    url: str
    kind: str
    captured: str
    status: int
    content_type: str
    ref: RecordRef


@dataclass(frozen=True)
class RequisiteUrl:
    """What is known of a requisite URL from earlier runs."""

    url: str
    requisite_id: int | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class PageRequisite:
    """One requisite a page version names: its URL, kind, outcome and stored payload (if any)."""

    url: str
    kind: str
    outcome: str
    stored: StoredRequisite | None


_STORED = ("r.id, r.url, r.kind, r.captured, r.status, r.content_type, r.warc_file, r.warc_offset,"
           " r.warc_length, r.payload_digest")


def _stored(row: tuple[object, ...]) -> StoredRequisite:
    return StoredRequisite(int(str(row[0])), str(row[1]), str(row[2]), str(row[3]), int(str(row[4])),
                           str(row[5]), RecordRef(str(row[6]), int(str(row[7])), int(str(row[8])),
                                                  None if row[9] is None else str(row[9])))


class RequisiteRows:
    """Read and write the requisite tables of a catalogue (writes inside the caller's transaction)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.db = catalogue.db

    def add(self, site: str, url: str, kind: str, status: int, content_type: str, ref: RecordRef,
            truncated: str | None, run_id: int, captured: str) -> int:
        """Add a stored payload; return its id."""
        return int(self.db.scalar(
            "INSERT INTO requisites (site, url, kind, captured, status, content_type, payload_digest,"
            " warc_file, warc_offset, warc_length, truncated, run_id)"
            " VALUES (:site, :url, :kind, :captured, :status, :content_type, :digest, :file,"
            " :offset, :length, :truncated, :run_id) RETURNING id",
            {"site": site, "url": url, "kind": kind, "captured": captured, "status": status,
             "content_type": content_type, "digest": ref.payload_digest, "file": ref.file,
             "offset": ref.offset, "length": ref.length, "truncated": truncated, "run_id": run_id}))

    def by_digest(self, site: str, digest: str) -> StoredRequisite | None:
        """Return the first stored payload of a site with this payload digest."""
        row = self.db.execute(f"SELECT {_STORED} FROM requisites r WHERE r.site = :site AND"
                              " r.payload_digest = :digest ORDER BY r.id LIMIT 1",
                              {"site": site, "digest": digest}).first()
        return _stored(tuple(row)) if row else None

    def get(self, requisite_id: int) -> StoredRequisite | None:
        """Return a stored payload by id."""
        row = self.db.execute(f"SELECT {_STORED} FROM requisites r WHERE r.id = :id",
                              {"id": requisite_id}).first()
        return _stored(tuple(row)) if row else None

    def url_state(self, url: str) -> RequisiteUrl | None:
        """Return what is known of a requisite URL, or None."""
        row = self.db.execute("SELECT url, requisite_id, etag, last_modified FROM requisite_urls"
                              " WHERE url = :url", {"url": url}).first()
        return RequisiteUrl(row[0], row[1], row[2], row[3]) if row else None

    def set_url(self, url: str, requisite_id: int, etag: str | None, last_modified: str | None) -> None:
        """Remember the payload a URL served last, and its validators."""
        self.db.execute(
            "INSERT INTO requisite_urls (url, requisite_id, etag, last_modified, last_checked)"
            " VALUES (:url, :requisite_id, :etag, :last_modified, :now) ON CONFLICT (url) DO UPDATE"
            " SET requisite_id = excluded.requisite_id,"
            " etag = COALESCE(excluded.etag, requisite_urls.etag),"
            " last_modified = COALESCE(excluded.last_modified, requisite_urls.last_modified),"
            " last_checked = excluded.last_checked",
            {"url": url, "requisite_id": requisite_id, "etag": etag, "last_modified": last_modified,
             "now": now_iso()})

    def link(self, document_id: int, version: int, url: str, kind: str, outcome: str,
             requisite_id: int | None) -> None:
        """Note that a page version names a requisite, and what became of it."""
        self.db.execute(
            "INSERT INTO page_requisites (document_id, version, url, kind, requisite_id, outcome,"
            " position) VALUES (:document_id, :version, :url, :kind, :requisite_id, :outcome,"
            " (SELECT COALESCE(MAX(position), 0) + 1 FROM page_requisites"
            "  WHERE document_id = :document_id AND version = :version))"
            " ON CONFLICT (document_id, version, url) DO UPDATE SET kind = excluded.kind,"
            " requisite_id = excluded.requisite_id, outcome = excluded.outcome",
            {"document_id": document_id, "version": version, "url": url, "kind": kind,
             "requisite_id": requisite_id, "outcome": outcome})

    def of_page(self, document_id: int, version: int) -> list[PageRequisite]:
        """Return the requisites of a page version, in the order they were found."""
        rows = self.db.execute(
            f"SELECT p.url, p.kind, p.outcome, {_STORED} FROM page_requisites p"
            " LEFT JOIN requisites r ON r.id = p.requisite_id"
            " WHERE p.document_id = :document_id AND p.version = :version ORDER BY p.position",
            {"document_id": document_id, "version": version})
        return [PageRequisite(r[0], r[1], r[2], _stored(tuple(r)[3:]) if r[3] is not None else None)
                for r in rows]

    def of_capture(self, file: str, offset: int) -> list[PageRequisite]:
        """Return the requisites of the page version archived at a WARC place."""
        row = self.db.execute("SELECT document_id, version FROM versions WHERE warc_file = :file"
                              " AND warc_offset = :offset", {"file": file, "offset": offset}).first()
        return self.of_page(int(row[0]), int(row[1])) if row else []
