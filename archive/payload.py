"""Read an archived HTTP payload back: chunking and gzip or deflate undone, in bounded pieces.

A few kilobytes of gzip can stand for gigabytes, so nothing here decodes more than one piece
at a time: callers stop at their own cap.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader

from archive.errors import CatalogueError

PIECE = 64 * 1024
DEFAULT_MAX_PAYLOAD = 10 * 1024 * 1024   # [crawl] max_body_bytes's default
# zlib window bits per Content-Encoding, tried in turn ("deflate" is sometimes sent raw)
DECODERS = {"gzip": (31,), "x-gzip": (31,), "deflate": (15, -15)}


class PayloadTooLarge(ValueError):
    """Data that expands past the size cap (a gzip bomb, or simply too big)."""


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress gzip data, every member, to at most `limit` bytes; raise PayloadTooLarge past it.

    >>> import gzip
    >>> gunzip(gzip.compress(b"<urlset/>") + gzip.compress(b"\\n"), 100)
    b'<urlset/>\\n'
    >>> gunzip(gzip.compress(b"0" * 101), 100)
    Traceback (most recent call last):
    archive.payload.PayloadTooLarge: gzip data expands past 100 bytes
    """
    parts: list[bytes] = []
    size = 0
    while data[:2] == b"\x1f\x8b":
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while data and not decoder.eof:
            # max_length: a small input never expands to more than the cap in memory
            try:
                part = decoder.decompress(data, limit - size + 1)
            except zlib.error as exc:
                raise ValueError(f"bad gzip data: {exc}") from exc
            size += len(part)
            if size > limit:
                raise PayloadTooLarge(f"gzip data expands past {limit} bytes")
            parts.append(part)
            data = decoder.unconsumed_tail
        if not decoder.eof:
            raise ValueError("bad gzip data: truncated")
        data = decoder.unused_data  # the next member, or padding (ignored)
    return b"".join(parts)


@contextmanager
def open_record(path: Path, offset: int) -> Iterator[Any]:
    """The WARC record at `offset` of a file, open while the block runs."""
    with path.open("rb") as fh:
        fh.seek(offset)
        record = next(iter(ArchiveIterator(fh)), None)
        if record is None:
            raise CatalogueError(f"no WARC record at {path.name}:{offset}")
        yield record


def decoded_pieces(record: Any, headers: list[tuple[str, str]], piece: int = PIECE) -> Iterator[bytes]:
    """Yield a record's payload with chunking and gzip or deflate undone, `piece` bytes at most."""
    fields = {k.lower(): v.strip().lower() for k, v in headers}
    raw = record.raw_stream
    if fields.get("transfer-encoding") == "chunked":
        raw = ChunkedDataReader(raw)
    data = raw.read(piece)
    decoder = _decoder(fields.get("content-encoding", ""), data)
    while data:
        if decoder is None:
            yield data
        else:
            try:
                while data and not decoder.eof:
                    # max_length: a few kilobytes in never make more than one piece out at once
                    if out := decoder.decompress(data, piece):
                        yield out
                    data = decoder.unconsumed_tail
            except zlib.error:           # a torn stream: what decoded so far is what there is
                return
            if decoder.eof:
                return
        data = raw.read(piece)
    if decoder is not None:
        yield decoder.flush()


def read_decoded(record: Any, headers: list[tuple[str, str]], limit: int) -> bytes:
    """Return at most `limit` bytes of a record's decoded payload (the rest is not decoded)."""
    parts: list[bytes] = []
    size = 0
    for part in decoded_pieces(record, headers, min(PIECE, limit + 1)):
        parts.append(part)
        size += len(part)
        if size >= limit:
            break
    return b"".join(parts)[:limit]


def _decoder(encoding: str, first: bytes) -> Any:
    """A zlib decompressor for the encoding, or None (identity, unknown, or not really encoded)."""
    for wbits in DECODERS.get(encoding, ()):
        try:
            zlib.decompressobj(wbits).decompress(first, 1)
        except zlib.error:
            continue
        return zlib.decompressobj(wbits)
    return None
