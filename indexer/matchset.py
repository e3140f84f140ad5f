"""The set of documents a query matches, as a bitset, without scoring them.

Term postings are read a block at a time (an array slice per block, not a Python call per
document); And, Or and Not combine bitsets; facet terms come from the facet index. Only
what needs positions (phrases) or ranges falls back to walking a matcher.
"""

from __future__ import annotations

import time
from typing import Any

from whoosh import query as wq

from indexer.errors import SearchTimeout
from indexer.facets import FacetIndex, to_bits
from indexer.schema import FACETS


def query_bits(searcher: Any, query: Any, facets: FacetIndex, deadline: float) -> int:
    """Return the bitset of the documents `query` matches (deleted ones excluded)."""
    return _bits(searcher, query, facets, deadline) & facets.live


def _bits(searcher: Any, node: Any, facets: FacetIndex, deadline: float) -> int:
    if time.monotonic() > deadline:
        raise SearchTimeout("the search took too long: make the query more specific")
    if isinstance(node, wq.Term):
        text = node.text.decode("utf-8") if isinstance(node.text, bytes) else node.text
        if node.fieldname in FACETS:
            return facets.values.get(node.fieldname, {}).get(text, 0)
        return _term_bits(searcher, node.fieldname, node.text, facets.size)
    if isinstance(node, wq.And):
        result = facets.live
        for child in node.subqueries:
            result &= _bits(searcher, child, facets, deadline)
            if not result:
                break
        return result
    if isinstance(node, wq.Or) and not getattr(node, "minmatch", 0):
        result = 0
        for child in node.subqueries:
            result |= _bits(searcher, child, facets, deadline)
        return result
    if isinstance(node, wq.AndNot):
        return _bits(searcher, node.a, facets, deadline) & ~_bits(searcher, node.b, facets, deadline)
    if isinstance(node, wq.AndMaybe):
        return _bits(searcher, node.a, facets, deadline)
    if isinstance(node, wq.Not):
        return facets.live & ~_bits(searcher, node.query, facets, deadline)
    if node is wq.NullQuery or isinstance(node, type(wq.NullQuery)):
        return 0
    return _walk(searcher, node, facets.size, deadline)


def _term_bits(searcher: Any, fieldname: str, text: Any, size: int) -> int:
    """Read a term's postings block by block, across segments."""
    buffer = bytearray((size + 7) // 8 or 1)
    for subsearcher, offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        if (fieldname, text) not in reader:
            continue
        matcher = reader.postings(fieldname, text)
        for doc in _leaf_ids(matcher):
            doc += offset
            buffer[doc >> 3] |= 1 << (doc & 7)
    return int.from_bytes(buffer, "little")


def _leaf_ids(matcher: Any) -> Any:
    """Yield a leaf matcher's ids, a whole block at a time when the codec allows it."""
    if not all(hasattr(matcher, a) for a in ("_read_ids", "_next_block", "_blocklength")):
        yield from matcher.all_ids()
        return
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        yield from matcher._ids[matcher._i:matcher._blocklength]
        matcher._i = matcher._blocklength
        matcher._next_block()


def _walk(searcher: Any, query: Any, size: int, deadline: float) -> int:
    """Walk a matcher (phrases, ranges): one step per matching document."""
    docs: list[int] = []
    for subsearcher, offset in searcher.leaf_searchers():
        matcher = query.matcher(subsearcher, searcher.boolean_context())
        count = 0
        while matcher.is_active():
            docs.append(matcher.id() + offset)
            matcher.next()
            count += 1
            if count & 2047 == 0 and time.monotonic() > deadline:
                raise SearchTimeout("the search took too long: make the query more specific")
    return to_bits(docs, size)
