"""Postings and field lengths as numpy arrays, read a block at a time.

Whoosh walks postings one document per Python call; at 100,000 documents that walk is most of
a search's time. Here a term's postings come out of each segment block by block (one unpickle
and one cumulative sum per block of up to 128 documents) as arrays of global document numbers
and weights, and a segment's field lengths as one array. Where those private parts of
Whoosh 3's codec are missing (W3_MATCHER, LENGTH_COLUMN), the matcher walk answers the same,
slower, and fastpath.py says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.util.numeric import byte_to_length

from indexer import fastpath

# the private parts of Whoosh 3's codec read here: a block of postings, a column of lengths
W3_MATCHER = ("_read_data", "_read_values", "_next_block", "_atend", "_blocklength", "_byteids",
              "_data", "_values")
LENGTH_COLUMN = ("_dbfile", "_basepos", "_count", "_fixedlen")
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


@dataclass
class TermPostings:
    """One term's postings over the whole index: sorted global docnums, weights, raw values."""

    ids: IntArray
    weights: FloatArray
    values: list[bytes] | None = None     # one encoded value (positions) per posting, if read


def _empty() -> TermPostings:
    return TermPostings(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), [])


def postings(leaves: list[tuple[Any, int]], fieldname: str, text: Any) -> TermPostings:
    """Return a term's postings over (segment reader, docnum offset) pairs."""
    return combine([(leaf_postings(reader, fieldname, text), offset) for reader, offset in leaves])


def segment_key(reader: Any) -> str:
    """Name a segment (postings never change once written), or a reader when it has none."""
    segment = getattr(reader, "segment", None)
    found = segment() if callable(segment) else None
    if found is not None and hasattr(found, "segment_id"):
        return str(found.segment_id())
    return f"reader-{id(reader)}"


def leaf_postings(reader: Any, fieldname: str, text: Any, values: bool = False) -> TermPostings:
    """Return a term's postings in one segment, with the segment's own document numbers."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    id_parts: list[IntArray] = []
    weight_parts: list[FloatArray] = []
    value_list: list[bytes] | None = [] if values else None
    if (fieldname, text) in reader:
        matcher = reader.postings(fieldname, text)
        if _is_w3(matcher):
            _read_blocks(matcher, 0, id_parts, weight_parts, value_list)
        else:
            _walk_matcher(matcher, 0, id_parts, weight_parts, value_list)
    if not id_parts:
        return _empty()
    return TermPostings(np.concatenate(id_parts), np.concatenate(weight_parts), value_list)


def combine(parts: list[tuple[TermPostings, int]]) -> TermPostings:
    """Join per-segment postings into whole-index ones (segments in document-number order)."""
    kept = [(p, offset) for p, offset in parts if len(p.ids)]
    if not kept:
        return _empty()
    values: list[bytes] | None = None
    if all(p.values is not None for p, _ in kept):
        values = [v for p, _ in kept for v in (p.values or [])]
    return TermPostings(np.concatenate([p.ids + offset for p, offset in kept]),
                        np.concatenate([p.weights for p, _ in kept]), values)


def _is_w3(matcher: Any) -> bool:
    return all(hasattr(matcher, name) for name in W3_MATCHER)


def _read_blocks(matcher: Any, offset: int, ids: list[IntArray], weights: list[FloatArray],
                 values: list[bytes] | None) -> None:
    while not matcher._atend:
        if matcher._data is None:
            matcher._read_data()
        raw_ids, raw_weights = matcher._data[0], matcher._data[1]
        count = matcher._blocklength
        block = np.asarray(raw_ids, dtype=np.int64)
        if not matcher._byteids:
            block = np.cumsum(block)
        ids.append(block + offset)
        if raw_weights is None:
            weights.append(np.ones(count, dtype=np.float32))
        elif isinstance(raw_weights, float):
            weights.append(np.full(count, raw_weights, dtype=np.float32))
        else:
            weights.append(np.asarray(raw_weights, dtype=np.float32))
        if values is not None:
            matcher._read_values()
            values.extend(matcher._values)
        matcher._next_block()


def _walk_matcher(matcher: Any, offset: int, ids: list[IntArray], weights: list[FloatArray],
                  values: list[bytes] | None) -> None:
    fastpath.fall_back("postings, one document at a time")
    found: list[int] = []
    found_weights: list[float] = []
    while matcher.is_active():
        found.append(matcher.id() + offset)
        found_weights.append(matcher.weight())
        if values is not None:
            values.append(matcher.value())
        matcher.next()
    ids.append(np.asarray(found, dtype=np.int64))
    weights.append(np.asarray(found_weights, dtype=np.float32))


def leaf_lengths(reader: Any, fieldname: str) -> FloatArray:
    """Read one segment's field lengths (Whoosh's one-byte approximation) in one call, or
    document by document as a fallback."""
    count = reader.doc_count_all()
    column = _length_column(reader, fieldname)
    if column is not None:
        dbfile, basepos, stored = column
        raw = np.frombuffer(bytes(dbfile.get(basepos, stored)), dtype=np.uint8)
        result = np.zeros(count, dtype=np.float32)
        result[:len(raw)] = _LENGTH_OF_BYTE[raw[:count]]
        return result
    return _lengths_by_document(reader, fieldname, count)


def _lengths_by_document(reader: Any, fieldname: str, count: int) -> FloatArray:
    """The slow way, one call per document (another codec, or changed Whoosh internals)."""
    fastpath.fall_back("field lengths, one document at a time")
    return np.asarray([reader.doc_field_length(d, fieldname) or 0 for d in range(count)],
                      dtype=np.float32)


def _length_column(reader: Any, fieldname: str) -> tuple[Any, int, int] | None:
    """Return (file, start, stored count) of a Whoosh 3 one-byte length column, if that is it."""
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or not hasattr(perdoc, "_cached_reader"):
        return None
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
    except ImportError:
        return None
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    if not all(hasattr(column, name) for name in LENGTH_COLUMN) or column._fixedlen != 1:
        return None
    return column._dbfile, column._basepos, column._count

