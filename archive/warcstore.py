"""Write and read WARC files: one gzip member per record, rotated by size, `.open` until closed.

A record is flushed and fsynced before the catalogue row that points at it is committed, so a
killed crawl can leave at most a torn tail in an `.open` file; `recover` trims it. A write that
fails (a full disk) is cut off again at once and raises WarcWriteError. Records are read back
whole and checked: a missing, cut-short or damaged one raises UnreadableRecord.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import socket
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.capture.fetch import Response
from archive.errors import ArchiveError, CatalogueError
from archive.payload import DEFAULT_MAX_PAYLOAD, read_decoded

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
# one WARC version for every record: 1.1, the version whose revisit profiles are written
WARC_VERSION = "WARC/1.1"
WARC_FORMAT = "WARC File Format 1.1"
WARC_CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
IDENTICAL_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
HOP_BY_HOP = {"transfer-encoding", "connection", "keep-alive"}
# fields a 304 does not change in the stored response (RFC 9111 3.2): its body depends on them
NOT_FRESHENED = HOP_BY_HOP | {"content-length", "content-encoding", "content-type"}
CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class RecordRef:
    """Where a record lives: file name (final name, without `.open`), offset and length."""

    file: str
    offset: int
    length: int
    payload_digest: str | None = None


@dataclass(frozen=True)
class Original:
    """The response record a revisit stands for, as read back from its WARC file."""

    ref: RecordRef
    url: str
    date: str
    payload_digest: str
    http_headers: StatusAndHeaders


class UnreadableRecord(CatalogueError):
    """A record the catalogue points at cannot be read whole: file missing, cut short, damaged."""

    def __init__(self, ref: RecordRef, reason: str) -> None:
        super().__init__(f"{ref.file} at byte {ref.offset}: {reason}")
        self.ref = ref
        self.reason = reason


class WarcWriteError(ArchiveError):
    """A record could not be written (a full disk, an I/O error); nothing half-written is kept."""


def worker_tag(name: str) -> str:
    """Return a worker's name as it goes into WARC file names (no `_`, no path characters).

    >>> worker_tag("crawl-2.example.org-4711")
    'crawl-2.example.org-4711'
    >>> worker_tag("a_b/c d")
    'a-b-c-d'
    """
    return re.sub(r"[^A-Za-z0-9.-]", "-", name)


def warc_date(when: datetime) -> str:
    """Format a datetime as a WARC-Date (UTC, second precision).

    >>> warc_date(datetime(2024, 3, 12, 9, 5, 1, 999, tzinfo=UTC))
    '2024-03-12T09:05:01Z'
    """
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WarcStore:
    """Append records to the current WARC file of a folder; rotate it past `max_bytes`."""

    def __init__(self, directory: Path, prefix: str, max_bytes: int,
                 max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
                 info: Mapping[str, str] | None = None, worker: str = "") -> None:
        self.directory = directory
        self.prefix = prefix
        # a crawl worker's files carry its name: several workers share one folder
        self.worker = worker_tag(worker)
        self.max_bytes = max_bytes
        self.max_payload_bytes = max_payload_bytes
        self.info = {**default_warcinfo(), **(info or {})}
        self._fh: IO[bytes] | None = None
        self._name = ""
        self._seq = 0
        self._end = 0  # where the last complete record of the open file ends
        directory.mkdir(parents=True, exist_ok=True)

    # -- writing -----------------------------------------------------------------------------
    def write_exchange(self, resp: Response) -> RecordRef:
        """Write a response record and its request record; return the former's place."""
        buf = io.BytesIO()
        writer = _writer(buf)
        warc_headers: dict[str, str] = {"WARC-Date": warc_date(resp.fetched_at)}
        if resp.truncated:
            warc_headers["WARC-Truncated"] = resp.truncated
        record = writer.create_warc_record(resp.url, "response",
                                           payload=io.BytesIO(resp.raw_body),
                                           length=len(resp.raw_body),
                                           http_headers=_http_headers(resp),
                                           warc_headers_dict=warc_headers)
        return self._write_with_request(buf, writer, record, resp)

    def write_revisit(self, resp: Response, original: Original, profile: str) -> RecordRef:
        """Write a revisit record of `original` and its request record; return the former's place.

        Replay tools (pywb, wabac.js) serve a revisit's HTTP head with the original's payload,
        found by WARC-Refers-To-Target-URI, WARC-Refers-To-Date and WARC-Payload-Digest. So a
        server-not-modified revisit keeps the original's status and headers, freshened by the
        304's own (RFC 9111 3.2): what a client holding the original saw. The 304 itself is on
        record in the profile, the conditional request record and the catalogue's fetch log.
        """
        buf = io.BytesIO()
        writer = _writer(buf)
        head = (freshened(original.http_headers, resp.headers) if profile == NOT_MODIFIED_PROFILE
                else _http_headers(resp))
        record = writer.create_revisit_record(
            resp.url, original.payload_digest, original.url, original.date, http_headers=head,
            warc_headers_dict={"WARC-Date": warc_date(resp.fetched_at)})
        record.rec_headers.replace_header("WARC-Profile", profile)
        return self._write_with_request(buf, writer, record, resp)

    def _write_with_request(self, buf: io.BytesIO, writer: WARCWriter, record: Any,
                            resp: Response) -> RecordRef:
        writer.write_record(record)
        length = buf.tell()
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        self._write_request(writer, resp, record.rec_headers.get_header("WARC-Record-ID"))
        name, offset = self._append(buf.getvalue())
        return RecordRef(name, offset, length, digest)

    def write_resource(self, url: str, content_type: str, body: bytes, when: datetime) -> RecordRef:
        """Write a resource record: a file imported as it is, with no HTTP exchange."""
        buf = io.BytesIO()
        writer = _writer(buf)
        record = writer.create_warc_record(url, "resource", payload=io.BytesIO(body),
                                           length=len(body), warc_content_type=content_type,
                                           warc_headers_dict={"WARC-Date": warc_date(when)})
        writer.write_record(record)
        name, offset = self._append(buf.getvalue())
        return RecordRef(name, offset, buf.tell(),
                         record.rec_headers.get_header("WARC-Payload-Digest")
                         or record.rec_headers.get_header("WARC-Block-Digest"))

    def _write_request(self, writer: WARCWriter, resp: Response, concurrent_to: str) -> None:
        parts = urlsplit(resp.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = list(resp.request_headers)
        if not any(k.lower() == "host" for k, _ in headers):
            # the HTTP client adds Host on the wire after these headers were taken
            headers.insert(0, ("Host", parts.netloc.rsplit("@", 1)[-1]))
        http_headers = StatusAndHeaders(f"GET {path} HTTP/1.1", headers, is_http_request=True)
        record = writer.create_warc_record(resp.url, "request", payload=io.BytesIO(b""),
                                           length=0, http_headers=http_headers,
                                           warc_headers_dict={
                                               "WARC-Date": warc_date(resp.fetched_at),
                                               "WARC-Concurrent-To": concurrent_to})
        writer.write_record(record)

    def _warcinfo(self, name: str) -> bytes:
        """Return the warcinfo record that opens the WARC file `name`."""
        buf = io.BytesIO()
        writer = _writer(buf)
        record = writer.create_warcinfo_record(name, self.info)
        record.rec_headers.replace_header("WARC-Date", warc_date(datetime.now(UTC)))
        writer.write_record(record)
        return buf.getvalue()

    def _append(self, data: bytes) -> tuple[str, int]:
        """Append whole records to the open file and fsync them; return (file name, offset).

        A new file starts with its warcinfo record, written with its first records. Records are
        built in memory first, so that a failed write (a full disk) is cut off again at once:
        no closed file ever ends in half a record, nor holds a warcinfo record alone.
        """
        fh = self._file()
        name, start = self._name, self._end
        head = self._warcinfo(name) if start == 0 else b""
        try:
            view = memoryview(head + data)
            while view:
                written = fh.write(view)
                if not written:
                    raise OSError(errno.EIO, "the write made no progress")
                view = view[written:]
            os.fsync(fh.fileno())
        except OSError as exc:
            self._abandon(start)
            raise WarcWriteError(f"cannot write to WARC file {name}: {exc}") from exc
        self._end = start + len(head) + len(data)
        if self._end >= self.max_bytes:
            self.close()
        return name, start + len(head)

    def _abandon(self, good_end: int) -> None:
        """Cut a failed write off the open file and close it; leave it `.open` if that fails."""
        fh, self._fh = self._fh, None
        assert fh is not None
        opened = self.directory / (self._name + OPEN_SUFFIX)
        try:
            fh.truncate(good_end)
            os.fsync(fh.fileno())
        except OSError as exc:
            fh.close()
            logger.error("cannot cut the unfinished record off %s (%s): it stays open until the "
                         "next crawl trims it", opened.name, exc)
            return
        fh.close()
        logger.error("cut an unfinished record off %s at byte %d", opened.name, good_end)
        try:
            if good_end == 0:
                opened.unlink()
            else:
                os.replace(opened, self.directory / self._name)
            fsync_dir(self.directory)
        except OSError as exc:
            logger.error("cannot close %s (%s): the next crawl closes it", opened.name, exc)

    def _file(self) -> IO[bytes]:
        while self._fh is None:
            self._seq += 1
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            owner = f"{self.worker}_" if self.worker else ""
            self._name = f"{self.prefix}-{owner}{stamp}-{os.getpid()}-{self._seq:05d}.warc.gz"
            if (self.directory / self._name).exists():
                continue  # never reuse the name of a closed file: it would be overwritten
            try:
                # unbuffered: every byte written is in the file, so a failed write can be cut off
                self._fh = (self.directory / (self._name + OPEN_SUFFIX)).open("xb", buffering=0)
            except FileExistsError:
                continue
            self._end = 0
        return self._fh

    def close(self) -> None:
        """Close the current file and give it its final name."""
        if self._fh is None:
            return
        fh, self._fh = self._fh, None
        if os.fstat(fh.fileno()).st_size != self._end:
            fh.truncate(self._end)  # never give a closed name to a file that ends in half a record
        os.fsync(fh.fileno())
        fh.close()
        os.replace(self.directory / (self._name + OPEN_SUFFIX), self.directory / self._name)
        fsync_dir(self.directory)

    # -- recovery and reading ------------------------------------------------------------------
    def recover(self, worker: str | None = None) -> list[str]:
        """Trim torn tails off `.open` files left by a killed crawl and close them.

        With `worker`, only that worker's files: the others' may be in use by live workers.
        """
        fixed = []
        pattern = f"{self.prefix}-{worker_tag(worker)}_*" if worker else "*"
        for path in sorted(self.directory.glob(f"{pattern}{OPEN_SUFFIX}")):
            good = valid_length(path)
            size = path.stat().st_size
            if good < size:
                logger.warning("trimming %d torn bytes off %s", size - good, path.name)
                with path.open("r+b") as fh:
                    fh.truncate(good)
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(path, path.with_name(path.name[: -len(OPEN_SUFFIX)]))
            fixed.append(path.name)
        if fixed:
            fsync_dir(self.directory)
        return fixed

    def path_of(self, name: str) -> Path:
        """Return the path of a WARC file by its final name, open or closed."""
        final = self.directory / name
        if final.exists():
            return final
        opened = self.directory / (name + OPEN_SUFFIX)
        if opened.exists():
            return opened
        raise CatalogueError(f"WARC file {name} is missing from {self.directory}")

    def read_payload(self, ref: RecordRef) -> tuple[list[tuple[str, str]], bytes]:
        """Read a record back, whole and checked: its HTTP headers and decoded payload.

        Raises UnreadableRecord when the file is missing, ends inside the record, or the record
        is damaged (a broken gzip member, a digest that does not match): never a partial body.
        """
        record, body = self._read_record(ref, decode=True)
        headers = record.http_headers.headers if record.http_headers else []
        return list(headers), body

    def read_original(self, ref: RecordRef) -> Original:
        """Read back the response record that a revisit is to stand for: its URI, date, head."""
        record, _ = self._read_record(ref, decode=False)
        digest = record.rec_headers.get_header("WARC-Payload-Digest") or ref.payload_digest
        if record.rec_type != "response" or record.http_headers is None or not digest:
            raise UnreadableRecord(ref, f"a {record.rec_type} record, not a response to revisit")
        return Original(ref, record.rec_headers.get_header("WARC-Target-URI"),
                        record.rec_headers.get_header("WARC-Date"), digest, record.http_headers)

    def _read_record(self, ref: RecordRef, decode: bool) -> tuple[Any, bytes]:
        """Read one record whole, digests checked; with its decoded payload when `decode`."""
        try:
            with self.path_of(ref.file).open("rb") as fh:
                fh.seek(ref.offset)
                data = fh.read(ref.length)
        except CatalogueError:
            raise UnreadableRecord(ref, "the WARC file is missing") from None
        except OSError as exc:
            raise UnreadableRecord(ref, f"cannot read the WARC file: {exc}") from None
        if len(data) < ref.length:
            where = "inside the record" if data else "before the record"
            raise UnreadableRecord(ref, f"the WARC file is cut short: it ends {where}")
        problem = member_problem(data)
        if problem:
            raise UnreadableRecord(ref, problem)
        try:
            records = ArchiveIterator(io.BytesIO(data), check_digests=True)
            for record in records:
                headers = record.http_headers.headers if record.http_headers else []
                # a compressed payload is decoded only up to the cap, as at capture time
                body = read_decoded(record, list(headers), self.max_payload_bytes) if decode else b""
                records.read_to_end(record)
                if record.digest_checker.passed is False:
                    raise UnreadableRecord(ref, "damaged record: "
                                           + "; ".join(map(str, record.digest_checker.problems)))
                return record, body
        except UnreadableRecord:
            raise
        except Exception as exc:  # warcio raises several types for a damaged record
            raise UnreadableRecord(ref, f"damaged record: {type(exc).__name__}: {exc}") from None
        raise UnreadableRecord(ref, "no WARC record there")


def _writer(buf: io.BytesIO) -> WARCWriter:
    return WARCWriter(buf, gzip=True, warc_version=WARC_VERSION)


def _http_headers(resp: Response) -> StatusAndHeaders:
    headers = [(k, v) for k, v in resp.headers if k.lower() not in HOP_BY_HOP]
    return StatusAndHeaders(f"{resp.status} {resp.reason}".strip(), headers,
                            protocol=resp.http_version)


def freshened(stored: StatusAndHeaders, update: list[tuple[str, str]]) -> StatusAndHeaders:
    """Return a stored response head updated by a 304's header fields (RFC 9111 3.2).

    >>> head = StatusAndHeaders("200 OK", [("ETag", '"a"'), ("Content-Length", "5")], "HTTP/1.1")
    >>> new = freshened(head, [("ETag", '"b"'), ("Content-Length", "0"), ("Age", "3")])
    >>> new.statusline, new.headers
    ('200 OK', [('ETag', '"b"'), ('Content-Length', '5'), ('Age', '3')])
    """
    head = StatusAndHeaders(stored.statusline, list(stored.headers), protocol=stored.protocol)
    for name, value in update:
        if name.lower() not in NOT_FRESHENED:
            head.replace_header(name, value)
    return head


def default_warcinfo() -> dict[str, str]:
    """Return the warcinfo fields every WARC file of this store names: software, format, host."""
    try:
        version = metadata.version("pressroom")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"software": f"Pressroom/{version} (warcio/{metadata.version('warcio')})",
            "format": WARC_FORMAT, "conformsTo": WARC_CONFORMS_TO,
            "hostname": socket.gethostname()}


def member_problem(data: bytes) -> str | None:
    """Say what is wrong with the gzip member of one record, or None when it is whole.

    >>> import gzip
    >>> member_problem(gzip.compress(b"WARC/1.1"))
    >>> member_problem(gzip.compress(b"WARC/1.1")[:-4])
    'the gzip member is cut short'
    """
    if data[:2] != GZIP_MAGIC:
        return None  # an uncompressed record: the WARC parser checks it
    inflater = zlib.decompressobj(wbits=31)
    try:
        inflater.decompress(data)  # the record as this store wrote it: as big as its payload
    except zlib.error as exc:
        return f"damaged gzip member: {exc}"
    if not inflater.eof:
        return "the gzip member is cut short"
    if inflater.unused_data:
        return f"{len(inflater.unused_data)} bytes after the gzip member"
    return None


def valid_length(path: Path) -> int:
    """Return the length of the leading run of complete, readable records in a WARC file.

    A record is complete when its gzip member is whole: warcio alone reads a member cut short
    as a shorter record, and that is the torn tail a killed crawl leaves.
    """
    whole = 0
    try:
        for offset, length in gzip_members(path):
            whole = offset + length
    except MemberError as exc:
        logger.debug("%s: gzip member at byte %d: %s", path.name, exc.offset, exc.reason)
    end = 0
    try:
        with path.open("rb") as fh:
            records = ArchiveIterator(fh, check_digests=False)
            for record in records:
                records.read_to_end(record)  # raw bytes only: nothing is decoded
                if records.get_record_offset() + records.get_record_length() > whole:
                    break
                end = records.get_record_offset() + records.get_record_length()
    except Exception as exc:  # a torn gzip member or header: everything before it is good
        logger.debug("%s: stops being readable after byte %d: %s", path.name, end, exc)
    return min(end, whole)


class MemberError(Exception):
    """A gzip member that cannot be read whole; `offset` is where it starts."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def gzip_members(path: Path) -> Iterator[tuple[int, int]]:
    """Yield (offset, length) of each gzip member of a file, each read to its end.

    Raises MemberError at the first member that is damaged, cut short, or not gzip at all.
    """
    start = position = 0        # where the current member starts; file offset of `data`
    data = b""
    inflater = None
    with path.open("rb") as fh:
        while True:
            if inflater is None:
                if len(data) < 2:
                    data += fh.read(CHUNK)
                    if not data:
                        return
                if data[:2] != GZIP_MAGIC:
                    size = path.stat().st_size
                    raise MemberError(start, f"{size - start} bytes that are not a gzip member")
                inflater = zlib.decompressobj(wbits=31)
            if not data:
                data = fh.read(CHUNK)
                if not data:
                    raise MemberError(start, "gzip member cut short")
            try:
                inflater.decompress(data)
            except zlib.error as exc:
                raise MemberError(start, f"damaged gzip member: {exc}") from None
            if inflater.eof:
                end = position + len(data) - len(inflater.unused_data)
                yield start, end - start
                start = position = end
                data, inflater = inflater.unused_data, None
            else:
                position += len(data)
                data = b""


def iter_records(path: Path) -> Any:
    """Yield (offset, length, record) for every record of a WARC file, digests checked."""
    with path.open("rb") as fh:
        records = ArchiveIterator(fh, check_digests=True)
        for record in records:
            records.read_to_end(record)  # raw bytes, digests checked: nothing is decoded
            yield records.get_record_offset(), records.get_record_length(), record


def fsync_dir(directory: Path) -> None:
    """Make a folder's renames and new entries durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
