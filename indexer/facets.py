"""Facet counts over the whole match set, fast at 100,000 documents and beyond.

For each reader generation, every facet value gets a bitset of its documents (a Python int:
AND and bit_count run in C). A search turns its match set into a bitset once; each facet
count is then one AND and one popcount. Date ranges use the documents sorted by date.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexer.schema import FACETS


def to_bits(docnums: Iterable[int], size: int) -> int:
    """Return a bitset (int) with the bits of `docnums` set.

    >>> bin(to_bits([0, 3], 8))
    '0b1001'
    """
    buffer = bytearray((size + 7) // 8 or 1)
    for doc in docnums:
        buffer[doc >> 3] |= 1 << (doc & 7)
    return int.from_bytes(buffer, "little")


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
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    by_date: list[tuple[int, int]] = field(default_factory=list)  # (yyyymmdd, docnum), sorted
    pubdate: list[int] = field(default_factory=list)              # docnum -> yyyymmdd
    newest_first: Any = None                                      # docnums by date, newest first
    docs_by_date: Any = None                                      # docnums in by_date's order

    @classmethod
    def build(cls, reader: Any) -> FacetIndex:
        """Read every facet value's postings and the date column once."""
        size = reader.doc_count_all()
        index = cls(size=size, live=to_bits(reader.all_doc_ids(), size))
        for facet in FACETS:
            values: dict[str, int] = {}
            if facet in reader.indexed_field_names():
                for raw in reader.lexicon(facet):
                    value = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                    values[value] = to_bits(reader.postings(facet, raw).all_ids(), size) & index.live
            index.values[facet] = values
        column = reader.column_reader("pubdate") if reader.has_column("pubdate") else None
        index.pubdate = [int(column[d]) for d in range(size)] if column is not None else [0] * size
        index.by_date = sorted((date, doc) for doc, date in enumerate(index.pubdate))
        dates = np.asarray(index.pubdate, dtype=np.int64)
        index.newest_first = np.lexsort((np.arange(size), -dates))
        index.docs_by_date = np.asarray([doc for _, doc in index.by_date], dtype=np.int64)
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
            start = bisect.bisect_left(self.by_date, (low, -1))
            end = bisect.bisect_right(self.by_date, (high, self.size))
            inside = np.zeros(self.size, dtype=np.bool_)
            inside[self.docs_by_date[start:end]] = True
            bits &= int.from_bytes(np.packbits(inside, bitorder="little").tobytes(), "little")
        return bits

    def counts(self, match: int) -> dict[str, list[tuple[str, int]]]:
        """Count every facet value within a match set, largest first."""
        result: dict[str, list[tuple[str, int]]] = {}
        for facet, table in self.values.items():
            pairs = [(value, (bits & match).bit_count()) for value, bits in table.items()]
            pairs = [(v, c) for v, c in pairs if c]
            pairs.sort(key=lambda pair: (-pair[1], pair[0]) if facet != "year" else (-int(pair[0] or 0), 0))
            result[facet] = pairs
        return result
