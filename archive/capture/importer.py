"""`pressroom import`: bring WARC files, saved HTML pages and plain-text dumps into the archive.

Each imported page becomes a version of a document like a crawled one (unchanged text adds
no version), written to the WARC store first; cleaning then runs on what is new. A revisit
record is kept as a revisit of the archive's copy of its original (an unchanged visit in the
fetch log); one whose original is not in the archive is listed as skipped.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator

from archive.capture.fetch import Response
from archive.capture.links import parse_page
from archive.capture.urls import canonical_url
from archive.catalogue import Catalogue
from archive.errors import ArchiveError
from archive.settings import netloc
from archive.warcstore import IDENTICAL_PROFILE, NOT_MODIFIED_PROFILE, RecordRef, WarcStore

logger = logging.getLogger(__name__)

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
TEXT_SUFFIXES = (".txt", ".text")
WARC_SUFFIXES = (".warc", ".warc.gz")
MAX_BODY_BYTES = 10 * 1024 * 1024   # a page's decoded body; like [crawl] max_body_bytes
MAX_LINE_BYTES = 64 * 1024 * 1024   # no header line is this long; a gzip bomb's zeros are
CHUNK = 64 * 1024


@dataclass
class ImportStats:
    """What one import did."""

    files: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    revisits: int = 0
    skipped: list[str] = field(default_factory=list)


def import_paths(paths: list[Path], catalogue: Catalogue, store: WarcStore, site: str | None,
                 url: str | None, tracking_params: list[str],
                 max_body_bytes: int = MAX_BODY_BYTES) -> ImportStats:
    """Import every file under `paths` into the archive; skip records past `max_body_bytes`."""
    files = list(_expand(paths))
    if url and len(files) > 1:
        raise ArchiveError("--url names one page: give it with a single file")
    stats = ImportStats()
    run_id, _ = catalogue.start_run(f"import:{site or 'auto'}", 0)
    importer = _Importer(catalogue, store, run_id, stats, tracking_params, max_body_bytes)
    state = "interrupted"
    try:
        for path in files:
            stats.files += 1
            name = path.name.lower()
            if name.endswith(WARC_SUFFIXES):
                importer.warc(path, site)
            elif name.endswith(HTML_SUFFIXES + TEXT_SUFFIXES):
                ctype = "text/html" if name.endswith(HTML_SUFFIXES) else "text/plain"
                importer.file(path, url or path.resolve().as_uri(), site or "import", ctype)
            else:
                stats.skipped.append(f"{path}: not .warc(.gz), .html or .txt")
        state = "done"
    finally:
        store.close()
        catalogue.finish_run(run_id, state, vars(stats) | {"skipped": len(stats.skipped)})
    return stats


def _expand(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            yield path
        else:
            raise ArchiveError(f"{path}: no such file or folder")


class _Importer:
    def __init__(self, catalogue: Catalogue, store: WarcStore, run_id: int, stats: ImportStats,
                 tracking_params: list[str], max_body_bytes: int) -> None:
        self.catalogue = catalogue
        self.store = store
        self.run_id = run_id
        self.stats = stats
        self.tracking = tracking_params
        self.max_body = max_body_bytes
        # payload digest in the imported file -> (document, version, record) it is archived as:
        # a re-written payload (Content-Encoding undone) has a digest of its own here
        self.originals: dict[str, tuple[int, int, RecordRef]] = {}

    def warc(self, path: Path, site: str | None) -> None:
        with path.open("rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            fh: BinaryIO = io.BufferedReader(Gunzip(raw), CHUNK) if gzipped else raw
            try:
                for record in ArchiveIterator(fh):
                    if record.rec_type == "revisit":
                        self.revisit(path, record, site)
                        continue
                    if record.rec_type != "response" or record.http_headers is None:
                        continue
                    status = int(record.http_headers.get_statuscode() or 0)
                    ctype = record.http_headers.get_header("Content-Type") or ""
                    if not 200 <= status < 300 or "html" not in ctype.lower():
                        continue
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    when = record.rec_headers.get_header("WARC-Date") or ""
                    resp = Response(
                        url=url, status=status, reason="OK",
                        headers=[(k, v) for k, v in record.http_headers.headers
                                 if k.lower() not in ("content-encoding", "transfer-encoding",
                                                      "content-length")],
                        request_headers=[], raw_body=b"", body=b"", fetched_at=_when(when))
                    # content_stream() undoes Content-Encoding: read no more than the cap
                    body = record.content_stream().read(self.max_body + 1)
                    if len(body) > self.max_body:
                        self.stats.skipped.append(f"{path}: {url}: larger than {self.max_body} "
                                                  "bytes once decoded")
                        continue
                    resp.raw_body = resp.body = body
                    kept = self._add(url, site or netloc(url), resp=resp)
                    digest = record.rec_headers.get_header("WARC-Payload-Digest")
                    if digest and kept is not None:
                        self.originals[digest] = kept
            except Exception as exc:  # warcio raises several types for a damaged file
                self.stats.skipped.append(f"{path}: unreadable WARC after some records: {exc}")

    def revisit(self, path: Path, record: Any, site: str | None) -> None:
        """Keep a revisit record as a revisit of the archive's copy of its original."""
        url = record.rec_headers.get_header("WARC-Target-URI")
        digest = record.rec_headers.get_header("WARC-Payload-Digest") or ""
        target = record.rec_headers.get_header("WARC-Refers-To-Target-URI") or url
        found = self.originals.get(digest) or self._archived(target, digest)
        if found is None:
            self.stats.skipped.append(f"{path}: {url}: a revisit of a capture that is not in the "
                                      "archive (import the file that holds it first)")
            return
        doc_id, number, ref = found
        original = self.store.read_original(ref)
        head = record.http_headers
        profile = record.rec_headers.get_header("WARC-Profile") or ""
        not_modified = "server-not-modified" in profile or not (head and head.headers)
        if head is None or not head.headers:  # an empty revisit stands for the original as it was
            head = original.http_headers
        status = int(head.get_statuscode() or 0)
        resp = Response(url=url, status=status, reason=head.statusline.partition(" ")[2],
                        headers=list(head.headers), request_headers=[], raw_body=b"", body=b"",
                        fetched_at=_when(record.rec_headers.get_header("WARC-Date") or ""))
        new = self.store.write_revisit(resp, original, NOT_MODIFIED_PROFILE if not_modified
                                       else IDENTICAL_PROFILE)
        with self.catalogue.transaction():
            self.catalogue.log_fetch(self.run_id, url, "unchanged", http_status=status,
                                     reason="imported-revisit", ref=new, document_id=doc_id,
                                     version=number)
        self.stats.revisits += 1
        self.stats.unchanged += 1

    def _archived(self, url: str, digest: str) -> tuple[int, int, RecordRef] | None:
        """Find the archived version of a URL whose payload digest is `digest`."""
        doc_id = self.catalogue.document_id(canonical_url(url, self.tracking))
        for version in reversed(self.catalogue.versions(doc_id) if doc_id else []):
            if version.ref.payload_digest == digest:
                return version.document_id, version.version, version.ref
        return None

    def file(self, path: Path, url: str, site: str, ctype: str) -> None:
        body = path.read_bytes()
        when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        self._add(url, site, body=body, ctype=ctype, when=when)

    def _add(self, url: str, site: str, resp: Response | None = None, body: bytes = b"",
             ctype: str = "text/html", when: datetime | None = None
             ) -> tuple[int, int, RecordRef] | None:
        """Add a page as a new version unless its text is unchanged; return the version kept."""
        doc_url = url if url.startswith("file:") else canonical_url(url, self.tracking)
        content = resp.body if resp is not None else body
        if ctype == "text/html" or resp is not None:
            text_hash = parse_page(content, resp.header("Content-Type") if resp else None, url).text_hash
        else:
            text_hash = hashlib.sha256(content).hexdigest()
        doc_id = self.catalogue.document_id(doc_url)
        latest = self.catalogue.latest_version(doc_id) if doc_id else None
        if latest is not None and latest.text_hash == text_hash:
            self.stats.unchanged += 1
            return latest.document_id, latest.version, latest.ref
        ref: RecordRef
        if resp is not None:
            ref = self.store.write_exchange(resp)
            ctype, captured = resp.content_type or "text/html", resp.fetched_at
        else:
            captured = when or datetime.now(UTC)
            ref = self.store.write_resource(url, f"{ctype}; charset=utf-8" if ctype == "text/plain"
                                            else ctype, content, captured)
        with self.catalogue.transaction():
            doc_id, number = self.catalogue.add_version(site, doc_url, url, 200, ctype, text_hash,
                                                        ref, None, self.run_id,
                                                        captured.isoformat(timespec="seconds"))
        if number == 1:
            self.stats.new += 1
        else:
            self.stats.changed += 1
        return doc_id, number, ref


class Gunzip(io.RawIOBase):
    """Read a gzip file (every member) as a plain stream, never more than asked for at a time.

    warcio reads header lines whole, so a member that expands to gigabytes without a newline
    would end up in memory: a run of MAX_LINE_BYTES bytes with no newline stops the file.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.tail = b""   # compressed bytes read but not yet decompressed
        self.run = 0      # decompressed bytes since the last newline

    def readable(self) -> bool:
        """Tell io that this stream can be read."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Decompress at most len(buffer) bytes into `buffer`; 0 at the end of the file."""
        view = memoryview(buffer).cast("B")
        while True:
            if self.decoder.eof:
                rest = self.decoder.unused_data or self.raw.read(CHUNK)
                if not rest:
                    return 0
                if not rest.startswith(b"\x1f\x8b"[: len(rest)]):
                    raise ArchiveError("data after the last gzip member is not gzip")
                self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self.tail = rest
            if not self.tail:
                self.tail = self.raw.read(CHUNK)
                if not self.tail:
                    raise ArchiveError("truncated gzip member")
            data = self.decoder.decompress(self.tail, len(view))
            self.tail = self.decoder.unconsumed_tail
            if data:
                self._count_line(data)
                view[: len(data)] = data
                return len(data)

    def _count_line(self, data: bytes) -> None:
        newline = data.rfind(b"\n")
        self.run = len(data) - newline - 1 if newline >= 0 else self.run + len(data)
        if self.run > MAX_LINE_BYTES:
            raise ArchiveError(f"more than {MAX_LINE_BYTES} bytes without a newline once "
                               "decompressed: a gzip bomb, not a WARC")


def _when(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
