"""Facet counts over the whole match set, fast at 100,000 documents and beyond.

For each reader generation, every facet value gets a bitset of its documents (a Python int:
AND and bit_count run in C). A search turns its match set into a bitset once; each facet
count is then one AND and one popcount. Date ranges use the documents sorted by date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer import fastpath
from indexer.interface import FACETS

NUMBER_COLUMN = ("_dbfile", "_basepos", "_count", "_fixedlen", "_typecode")   # read in one go
Mask = npt.NDArray[np.bool_]


def to_bits(docnums: Iterable[int], size: int) -> int:
    """Return a bitset (int) with the bits of `docnums` set.

    >>> bin(to_bits([0, 3], 8))
    '0b1001'
    """
    buffer = bytearray((size + 7) // 8 or 1)
    for doc in docnums:
        buffer[doc >> 3] |= 1 << (doc & 7)
    return int.from_bytes(buffer, "little")


def bits_to_mask(bits: int, size: int) -> Mask:
    """Turn an int bitset into a boolean array of `size` documents.

    >>> bits_to_mask(0b101, 4).tolist()
    [True, False, True, False]
    """
    data = np.frombuffer(bits.to_bytes((size + 7) // 8 or 1, "little"), dtype=np.uint8)
    return np.unpackbits(data, bitorder="little")[:size].astype(np.bool_)


def mask_to_bits(mask: Mask) -> int:
    """Turn a boolean array into an int bitset.

    >>> bin(mask_to_bits(np.array([True, False, True, False])))
    '0b101'
    """
    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")


def _date_column(leaves: list[tuple[Any, int]], size: int) -> Any:
    """Every document's yyyymmdd from the pubdate column (0 when the index has none)."""
    dates = np.zeros(size, dtype=np.int64)
    for leaf, offset in leaves:
        if not leaf.has_column("pubdate"):
            continue
        column = leaf.column_reader("pubdate")
        count = leaf.doc_count_all()
        stored = _raw_numbers(column, count)
        if stored is None:
            dates[offset:offset + count] = _numbers_by_document(column, count)
            continue
        # translate each distinct stored value once (a few thousand days, not every document)
        distinct, where = np.unique(stored, return_inverse=True)
        translate = getattr(column, "_translate", None) or (lambda v: v)
        dates[offset:offset + count] = np.asarray([int(translate(int(v))) for v in distinct],
                                                  dtype=np.int64)[where]
    return dates


def _raw_numbers(column: Any, count: int) -> Any:
    """A Whoosh numeric column's stored values in one read, or None if it is not one."""
    inner = getattr(column, "_reader", column)
    if not all(hasattr(inner, name) for name in NUMBER_COLUMN) or inner._typecode not in "bBhHiIlLqQ":
        return None
    raw = inner._dbfile.get(inner._basepos, inner._count * inner._fixedlen)
    values = np.frombuffer(bytes(raw), dtype=np.dtype(inner._typecode).newbyteorder(">"))
    default = np.full(count, inner._default, dtype=np.int64)
    default[:min(count, len(values))] = values[:count]
    return default


def _numbers_by_document(column: Any, count: int) -> list[int]:
    """The slow way, through Whoosh's column API (another codec, or changed internals)."""
    fastpath.fall_back("dates, one document at a time")
    return [int(column[d]) for d in range(count)]


def from_bits(bits: int) -> list[int]:
    """Return the set bits of a bitset, in increasing order.

    >>> from_bits(0b101001)
    [0, 3, 5]
    """
    docs = []
    data = bits.to_bytes((bits.bit_length() + 7) // 8 or 1, "little")
    for index, byte in enumerate(data):
        while byte:
            low = byte & -byte
            docs.append(index * 8 + low.bit_length() - 1)
            byte ^= low
    return docs


@dataclass
class FacetIndex:
    """Bitsets of one reader generation: live documents, facet values, dates."""

    size: int
    live: int
    live_mask: Any = None          # the same as a boolean array, for numpy masks
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    pubdate: Any = None            # docnum -> yyyymmdd (numpy array; 0 when undated)
    dates_sorted: Any = None       # the dates in increasing order ...
    docs_by_date: Any = None       # ... and the docnums in that order (ties by docnum)
    newest_first: Any = None       # docnums by date, newest first (ties by docnum)
    families: Any = None           # docnum -> translation family number (-1: alone); lazy

    @classmethod
    def build(cls, reader: Any) -> FacetIndex:
        """Read every facet value's postings and the date column once, a block at a time."""
        from indexer.postings import postings

        size = reader.doc_count_all()
        live_mask = np.ones(size, dtype=np.bool_)
        leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
        for leaf, offset in leaves:
            if leaf.has_deletions():
                live_mask[[offset + d for d in leaf.deleted_docs_set]] = False
        index = cls(size=size, live=mask_to_bits(live_mask), live_mask=live_mask)
        for facet in FACETS:
            values: dict[str, int] = {}
            if facet in reader.indexed_field_names():
                for raw in reader.lexicon(facet):
                    value = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                    mask = np.zeros(size, dtype=np.bool_)
                    mask[postings(leaves, facet, raw).ids] = True
                    values[value] = mask_to_bits(mask & live_mask)
            index.values[facet] = values
        dates = _date_column(leaves, size)
        index.pubdate = dates
        index.docs_by_date = np.argsort(dates, kind="stable")
        index.dates_sorted = dates[index.docs_by_date]
        index.newest_first = np.lexsort((np.arange(size), -dates))
        return index

    def filter_bits(self, filters: dict[str, list[str]], date_from: str | None,
                    date_to: str | None) -> int:
        """AND across facets, OR within one facet, and the date range (inclusive)."""
        bits = self.live
        for facet, wanted in filters.items():
            if not wanted:
                continue
            table = self.values.get(facet, {})
            either = 0
            for value in wanted:
                either |= table.get(value, 0)
            bits &= either
        if date_from or date_to:
            low = int((date_from or "0000-01-01").replace("-", ""))
            high = int((date_to or "9999-12-31").replace("-", ""))
            bits &= mask_to_bits(self.date_mask(low, high))
        return bits

    def date_mask(self, low: int, high: int) -> Mask:
        """The documents published from `low` to `high` inclusive (yyyymmdd; undated: 0)."""
        start = int(np.searchsorted(self.dates_sorted, low, side="left"))
        end = int(np.searchsorted(self.dates_sorted, high, side="right"))
        inside = np.zeros(self.size, dtype=np.bool_)
        inside[self.docs_by_date[start:end]] = True
        return inside

    def counts(self, match: int) -> dict[str, list[tuple[str, int]]]:
        """Count every facet value within a match set, largest first."""
        result: dict[str, list[tuple[str, int]]] = {}
        for facet, table in self.values.items():
            pairs = [(value, (bits & match).bit_count()) for value, bits in table.items()]
            pairs = [(v, c) for v, c in pairs if c]
            pairs.sort(key=lambda pair: (-pair[1], pair[0]) if facet != "year" else (-int(pair[0] or 0), 0))
            result[facet] = pairs
        return result


def family_codes(reader: Any, size: int) -> Any:
    """Number the translation families of more than one release: docnum -> number, -1 alone.

    Only families with several documents have their postings read, so this stays a pass
    over the family terms at 100,000 releases.
    """
    from indexer.postings import postings

    leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
    codes = np.full(size, -1, dtype=np.int64)
    if "family" not in reader.indexed_field_names():
        return codes
    field = reader.schema["family"]
    number = 0
    for text, info in reader.iter_field("family"):
        if info.doc_frequency() > 1:
            codes[postings(leaves, "family", field.to_bytes(text)).ids] = number
            number += 1
    return codes
