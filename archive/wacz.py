"""Package releases as a WACZ file (Web Archive Collection Zipped 1.1.1) that others can verify.

The package holds one fresh WARC file with exactly the records of the chosen releases: a
`warcinfo` record that says what it is, then every capture of each release (each version's
response, each re-crawl's revisit or response) and the requisites each version is shown with
(stylesheets, images, fonts, documents), each with its request record, copied byte for byte
from the archive's files after warcio has read them whole with their digests checked. py-wacz
(Webrecorder's reference tool) then indexes it (CDXJ), adds pages/pages.jsonl (one page per
version: URL, capture time, title, text) and datapackage.json with the sha256 and size of every
file, and datapackage-digest.json with the hash of that.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from archive.catalogue import Catalogue
from archive.errors import ArchiveError
from archive.requisite_rows import RequisiteRows
from archive.warcstore import RecordRef, UnreadableRecord, WarcStore, member_problem, warc_date

logger = logging.getLogger(__name__)

WARC_NAME = "releases.warc.gz"
PAGES_FORMAT = "json-pages-1.0"


class WaczError(ArchiveError):
    """A package could not be made: nothing chosen, a record unreadable, py-wacz refused."""


@dataclass
class WaczStats:
    """What went into a package."""

    releases: int = 0
    pages: int = 0
    captures: int = 0
    requisites: int = 0
    records: int = 0
    warc_bytes: int = 0
    files: list[str] = field(default_factory=list)


def choose_releases(catalogue: Catalogue, release_ids: Iterable[str] = (),
                    site: str | None = None) -> list[str]:
    """Return the ids of the releases to package: those named, else the export's selection."""
    named = list(dict.fromkeys(release_ids))
    if named:
        missing = [rid for rid in named if not catalogue.has_release(rid)]
        if missing:
            raise WaczError(f"no release {', '.join(missing)} in the archive")
        return named
    chosen = list(dict.fromkeys(r.id for r in catalogue.releases(site=site)))
    if not chosen:
        raise WaczError("no release matches: nothing to package")
    return chosen


def write_wacz(catalogue: Catalogue, store: WarcStore, release_ids: list[str], out: Path,
               title: str, description: str) -> WaczStats:
    """Write the WACZ of some releases (every capture of each) to `out`, atomically."""
    stats = WaczStats(releases=len(release_ids))
    refs: dict[tuple[str, int], RecordRef] = {}
    requisites: dict[tuple[str, int], RecordRef] = {}
    pages: list[dict[str, Any]] = []
    rows = RequisiteRows(catalogue)
    for rid in release_ids:
        for capture in catalogue.release_captures(rid):
            refs.setdefault((capture.ref.file, capture.ref.offset), capture.ref)
        for version in catalogue.release_versions(rid):
            pages.append({"url": version.archived.fetched_url, "ts": _iso(version.archived.captured),
                          "title": version.release.title, "text": version.release.body})
            # what the version is shown with (stylesheets, images, fonts, documents), shared or not
            for requisite in rows.of_capture(version.archived.ref.file, version.archived.ref.offset):
                if requisite.stored is not None:
                    ref = requisite.stored.ref
                    requisites.setdefault((ref.file, ref.offset), ref)
    stats.captures, stats.requisites, stats.pages = len(refs), len(requisites), len(pages)
    refs.update({k: v for k, v in requisites.items() if k not in refs})
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wacz-", dir=out.parent) as tmp:
        work = Path(tmp)
        warc = work / WARC_NAME
        with warc.open("wb") as fh:
            stats.records = copy_records(store, list(refs.values()), fh, description)
        stats.warc_bytes = warc.stat().st_size
        pages_file = work / "pages.jsonl"
        with pages_file.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps({"format": PAGES_FORMAT, "id": "pages", "title": title}) + "\n")
            for page in pages:
                fh.write(json.dumps(page, ensure_ascii=False) + "\n")
        package = work / "package.wacz"
        _py_wacz(["create", "-o", str(package), "-p", str(pages_file), "--title", title,
                  "--desc", description, str(warc)])
        stats.files = _check_pages(package, len(pages))
        os.replace(package, out)
    return stats


def copy_records(store: WarcStore, refs: list[RecordRef], out: IO[bytes], description: str) -> int:
    """Write a warcinfo record, then each record and its request record, byte for byte.

    Records go in capture order; each is read whole by warcio with its digests checked first,
    so a damaged capture stops the package rather than ship in it. Return the records written.
    """
    copied: list[tuple[str, bytes]] = []
    for ref in refs:
        copied.extend(_record_and_request(store, ref))
    copied.sort(key=lambda item: item[0])  # WARC-Date: a package reads in the order of the crawl
    version = (_protocol(copied[0][1]) if copied else "WARC/1.1").split("/")[-1]
    writer = WARCWriter(out, gzip=True, warc_version=version)
    info = {"software": "Pressroom (warcio, py-wacz)", "format": f"WARC File Format {version}",
            "description": description, "isPartOf": "Pressroom WACZ export"}
    record = writer.create_warcinfo_record(WARC_NAME, info)
    record.rec_headers.replace_header("WARC-Date", warc_date(datetime.now(UTC)))
    writer.write_record(record)
    for _, data in copied:
        out.write(data)
    return len(copied) + 1


def _record_and_request(store: WarcStore, ref: RecordRef) -> list[tuple[str, bytes]]:
    """The bytes of a capture's record and of the request record written after it."""
    path = store.path_of(ref.file)
    found: list[tuple[str, bytes]] = []
    with path.open("rb") as fh:
        fh.seek(ref.offset)
        data = fh.read(ref.length)
        date, record_id, kind = _check(ref, data)
        if kind not in ("response", "revisit", "resource"):
            raise UnreadableRecord(ref, f"a {kind} record is not a capture")
        found.append((date, data))
        # the store writes the request record right after the response or revisit it asked for
        fh.seek(ref.offset + ref.length)
        following = _next_member(fh)
    if following:
        try:
            _, _, next_kind = _check(ref, following)
        except UnreadableRecord:
            return found
        request_of = _header(following, "WARC-Concurrent-To")
        if next_kind == "request" and request_of == record_id:
            found.append((date, following))
    return found


def _next_member(fh: IO[bytes]) -> bytes:
    """Read one record from where the file stands, as warcio delimits it."""
    start = fh.tell()
    records = ArchiveIterator(fh, check_digests=False)
    for record in records:
        records.read_to_end(record)
        length = records.get_record_length()
        fh.seek(start)
        return fh.read(length)
    return b""


def _check(ref: RecordRef, data: bytes) -> tuple[str, str, str]:
    """Read one record with warcio, digests checked; return its WARC-Date, id and type."""
    problem = member_problem(data) if data else "the WARC file ends before the record"
    if problem:
        raise UnreadableRecord(ref, problem)
    try:
        records = ArchiveIterator(io.BytesIO(data), check_digests=True)
        for record in records:
            records.read_to_end(record)
            if record.digest_checker.passed is False:
                raise UnreadableRecord(ref, "damaged record: "
                                       + "; ".join(map(str, record.digest_checker.problems)))
            headers = record.rec_headers
            return (headers.get_header("WARC-Date") or "", headers.get_header("WARC-Record-ID") or "",
                    record.rec_type or "")
    except UnreadableRecord:
        raise
    except Exception as exc:  # warcio raises several types for a damaged record
        raise UnreadableRecord(ref, f"damaged record: {type(exc).__name__}: {exc}") from None
    raise UnreadableRecord(ref, "no WARC record there")


def _header(data: bytes, name: str) -> str | None:
    records = ArchiveIterator(io.BytesIO(data), check_digests=False)
    for record in records:
        value: str | None = record.rec_headers.get_header(name)
        return value
    return None


def _protocol(data: bytes) -> str:
    records = ArchiveIterator(io.BytesIO(data), check_digests=False)
    for record in records:
        return str(record.rec_headers.protocol)
    return "WARC/1.1"


def _iso(captured: str) -> str:
    """A capture time as the pages list writes it (UTC, Z).

    >>> _iso("2013-06-11T09:30:05+00:00")
    '2013-06-11T09:30:05Z'
    """
    return warc_date(datetime.fromisoformat(captured))


def _py_wacz(argv: list[str]) -> None:
    """Run py-wacz's own command in this process; its chatter goes to the debug log."""
    from wacz.main import main as wacz_main  # heavy (frictionless): only for this command

    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):
        code = wacz_main(argv)
    logger.debug("py-wacz %s: %s", argv[0], chatter.getvalue())
    if code != 0:
        raise WaczError(f"py-wacz {argv[0]} failed: {chatter.getvalue().strip()[-300:]}")


def _check_pages(package: Path, expected: int) -> list[str]:
    """Check that py-wacz found a record for every page; return the package's file names."""
    with zipfile.ZipFile(package) as zf:
        names = zf.namelist()
        lines = zf.read("pages/pages.jsonl").decode("utf-8").splitlines()
    if len(lines) - 1 != expected:
        raise WaczError(f"py-wacz listed {len(lines) - 1} of {expected} pages: a capture's record "
                        "was not found under its URL and time")
    return names
