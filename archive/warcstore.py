"""Write and read WARC files: one gzip member per record, rotated by size, `.open` until closed.

A record is flushed and fsynced before the catalogue row that points at it is committed, so a
killed crawl can leave at most a torn tail in an `.open` file; `recover` trims it.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.errors import CatalogueError
from archive.fetch import Response

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
HOP_BY_HOP = {"transfer-encoding", "connection", "keep-alive"}


@dataclass(frozen=True)
class RecordRef:
    """Where a record lives: file name (final name, without `.open`), offset and length."""

    file: str
    offset: int
    length: int
    payload_digest: str | None = None


def warc_date(when: datetime) -> str:
    """Format a datetime as a WARC-Date (UTC, second precision).

    >>> warc_date(datetime(2024, 3, 12, 9, 5, 1, 999, tzinfo=UTC))
    '2024-03-12T09:05:01Z'
    """
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WarcStore:
    """Append records to the current WARC file of a folder; rotate it past `max_bytes`."""

    def __init__(self, directory: Path, prefix: str, max_bytes: int) -> None:
        self.directory = directory
        self.prefix = prefix
        self.max_bytes = max_bytes
        self._fh: IO[bytes] | None = None
        self._name = ""
        self._seq = 0
        directory.mkdir(parents=True, exist_ok=True)

    # -- writing -----------------------------------------------------------------------------
    def write_exchange(self, resp: Response, revisit_of: RecordRef | None = None,
                       revisit_profile: str | None = None, refers_to: tuple[str, str] | None = None
                       ) -> RecordRef:
        """Write a response (or revisit) record and its request record; return the former's place."""
        fh, writer = self._writer()
        headers = [(k, v) for k, v in resp.headers if k.lower() not in HOP_BY_HOP]
        http_headers = StatusAndHeaders(f"{resp.status} {resp.reason}".strip(), headers,
                                        protocol=resp.http_version)
        warc_headers: dict[str, str] = {"WARC-Date": warc_date(resp.fetched_at)}
        if resp.truncated:
            warc_headers["WARC-Truncated"] = resp.truncated
        if revisit_of is not None and refers_to is not None:
            record = writer.create_revisit_record(
                resp.url, revisit_of.payload_digest, refers_to[0], refers_to[1],
                http_headers=http_headers)
            if revisit_profile:
                record.rec_headers.replace_header("WARC-Profile", revisit_profile)
            record.rec_headers.replace_header("WARC-Date", warc_headers["WARC-Date"])
        else:
            record = writer.create_warc_record(resp.url, "response",
                                               payload=io.BytesIO(resp.raw_body),
                                               http_headers=http_headers,
                                               warc_headers_dict=warc_headers)
        offset = fh.tell()
        writer.write_record(record)
        length = fh.tell() - offset
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        self._write_request(writer, resp, record.rec_headers.get_header("WARC-Record-ID"))
        fh.flush()
        os.fsync(fh.fileno())
        ref = RecordRef(self._name, offset, length, digest)
        if fh.tell() >= self.max_bytes:
            self.close()
        return ref

    def write_resource(self, url: str, content_type: str, body: bytes, when: datetime) -> RecordRef:
        """Write a resource record: a file imported as it is, with no HTTP exchange."""
        fh, writer = self._writer()
        record = writer.create_warc_record(url, "resource", payload=io.BytesIO(body),
                                           warc_content_type=content_type,
                                           warc_headers_dict={"WARC-Date": warc_date(when)})
        offset = fh.tell()
        writer.write_record(record)
        length = fh.tell() - offset
        fh.flush()
        os.fsync(fh.fileno())
        ref = RecordRef(self._name, offset, length,
                        record.rec_headers.get_header("WARC-Payload-Digest")
                        or record.rec_headers.get_header("WARC-Block-Digest"))
        if fh.tell() >= self.max_bytes:
            self.close()
        return ref

    def _write_request(self, writer: WARCWriter, resp: Response, concurrent_to: str) -> None:
        target = resp.url.split("://", 1)[-1]
        path = "/" + target.split("/", 1)[1] if "/" in target else "/"
        http_headers = StatusAndHeaders(f"GET {path} HTTP/1.1", resp.request_headers,
                                        is_http_request=True)
        record = writer.create_warc_record(resp.url, "request", payload=io.BytesIO(b""),
                                           http_headers=http_headers,
                                           warc_headers_dict={
                                               "WARC-Date": warc_date(resp.fetched_at),
                                               "WARC-Concurrent-To": concurrent_to})
        writer.write_record(record)

    def _writer(self) -> tuple[IO[bytes], WARCWriter]:
        while self._fh is None:
            self._seq += 1
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            self._name = f"{self.prefix}-{stamp}-{os.getpid()}-{self._seq:05d}.warc.gz"
            if (self.directory / self._name).exists():
                continue  # never reuse the name of a closed file: it would be overwritten
            try:
                self._fh = (self.directory / (self._name + OPEN_SUFFIX)).open("xb")
            except FileExistsError:
                continue
            self._warc = WARCWriter(self._fh, gzip=True)
        return self._fh, self._warc

    def close(self) -> None:
        """Close the current file and give it its final name."""
        if self._fh is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        os.replace(self.directory / (self._name + OPEN_SUFFIX), self.directory / self._name)
        fsync_dir(self.directory)

    # -- recovery and reading ------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Trim torn tails off `.open` files left by a killed crawl and close them."""
        fixed = []
        for path in sorted(self.directory.glob(f"*{OPEN_SUFFIX}")):
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
        """Read a response record back: its HTTP headers and decoded payload."""
        with self.path_of(ref.file).open("rb") as fh:
            fh.seek(ref.offset)
            for record in ArchiveIterator(fh):
                headers = record.http_headers.headers if record.http_headers else []
                return list(headers), record.content_stream().read()
        raise CatalogueError(f"no WARC record at {ref.file}:{ref.offset}")


def valid_length(path: Path) -> int:
    """Return the length of the leading run of complete, readable records in a WARC file."""
    end = 0
    try:
        with path.open("rb") as fh:
            records = ArchiveIterator(fh, check_digests=False)
            for record in records:
                record.content_stream().read()
                records.read_to_end(record)
                end = records.get_record_offset() + records.get_record_length()
    except Exception as exc:  # a torn gzip member or header: everything before it is good
        logger.debug("%s: stops being readable after byte %d: %s", path.name, end, exc)
    return min(end, path.stat().st_size)


def iter_records(path: Path) -> Any:
    """Yield (offset, length, record) for every record of a WARC file, digests checked."""
    with path.open("rb") as fh:
        records = ArchiveIterator(fh, check_digests=True)
        for record in records:
            record.content_stream().read()
            records.read_to_end(record)
            yield records.get_record_offset(), records.get_record_length(), record


def fsync_dir(directory: Path) -> None:
    """Make a folder's renames and new entries durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
