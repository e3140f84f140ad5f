"""Evaluate a resolved query (indexer/tree.py) into its match set and BM25F scores, with numpy.

A term's postings become arrays (see postings.py) and its BM25F score per posting is computed
once per reader generation and kept in a bounded cache shared by the worker threads, so a
frequent word costs one array scatter per search rather than a Python call per document.
And, Or and Not combine boolean masks; scores add up as Whoosh's matchers add them (the sum of
the matching terms' scores, times each query node's boost). Exact phrases are checked on
cached (document, position) keys: the first word's keys, the second's shifted back by one,
and so on, intersected. Facet values and date ranges come from the generation's bitsets
and date column (facets.py). Nothing walks a Whoosh matcher.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from itertools import accumulate
from pickle import loads
from typing import Any

import numpy as np

from indexer.errors import SearchTimeout
from indexer.facets import FacetIndex, Mask, bits_to_mask
from indexer.postings import (
    FloatArray,
    IntArray,
    TermPostings,
    combine,
    leaf_lengths,
    leaf_postings,
    segment_key,
)
from indexer.tree import (
    And,
    AndMaybe,
    AndNot,
    DateRange,
    Facet,
    Node,
    Not,
    Nothing,
    Or,
    Phrase,
    Term,
)

B = 0.75                          # Whoosh's BM25F defaults, so scores match its own ranking
K1 = 1.2
POSITION_BITS = 24                # key = docnum << 24 | position
CACHE_BYTES = 256 * 1024 * 1024   # postings kept per reader generation, shared by threads



@dataclass
class Evaluation:
    """A query's match mask (live documents only) and scores (None: the query does not score)."""

    mask: Mask
    scores: FloatArray | None


class TermCache:
    """Postings, lengths and scores, least recently used out, shared by a server's threads.

    A segment's postings and lengths never change, so they are kept by segment and survive
    new commits (a commit adds a small segment and marks deletions); the BM25F scores, which
    depend on the whole index's statistics, are kept per reader generation.
    """

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[Any, ...], value: tuple[Any, ...]) -> None:
        size = sum(getattr(part, "nbytes", 0) for part in value)
        with self._lock:
            if key in self._items or size > self.max_bytes:
                return
            self._items[key] = value
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.bytes -= sum(getattr(part, "nbytes", 0) for part in dropped)


class Evaluator:
    """Evaluates queries against one searcher, with the generation's cache and facet bitsets."""

    def __init__(self, searcher: Any, facets: FacetIndex, cache: TermCache, deadline: float,
                 generation: Any = None) -> None:
        self.searcher = searcher
        self.facets = facets
        self.cache = cache
        self.deadline = deadline
        self.generation = generation if generation is not None else id(searcher)
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.segments = [segment_key(reader) for reader, _ in self.leaves]
        self.size = facets.size
        self.live = facets.live_mask

    def evaluate(self, query: Node) -> Evaluation:
        """Return the query's match mask over live documents and its scores."""
        result = self._node(query)
        return Evaluation(result.mask & self.live, result.scores)

    # -- query nodes ------------------------------------------------------------------------------
    def _node(self, node: Node) -> Evaluation:
        if time.monotonic() > self.deadline:
            raise SearchTimeout("the search took too long: make the query more specific")
        if isinstance(node, Term):
            return self._term(str(node.field), node.text, node.boost)
        if isinstance(node, Facet):
            return self._facet(node.field, node.value, node.boost)
        if isinstance(node, Phrase):
            return self._phrase(str(node.field), list(node.words), node.boost)
        if isinstance(node, (And, Or)):
            return self._combine([self._node(c) for c in node.children], all_of=isinstance(node, And),
                                 boost=node.boost)
        if isinstance(node, AndNot):
            positive, negative = self._node(node.positive), self._node(node.negative)
            return Evaluation(positive.mask & ~negative.mask, _scaled(positive.scores, node.boost))
        if isinstance(node, AndMaybe):
            required, optional = self._node(node.required), self._node(node.optional)
            scores = _add(required.scores, optional.scores)
            return Evaluation(required.mask, _scaled(scores, node.boost))
        if isinstance(node, Not):
            return Evaluation(~self._node(node.child).mask, None)
        if isinstance(node, DateRange):
            return Evaluation(self.facets.date_mask(node.start, node.end), None)
        if isinstance(node, Nothing):
            return Evaluation(np.zeros(self.size, dtype=np.bool_), None)
        raise TypeError(f"{node!r} cannot be evaluated: resolve the query first (resolve.py)")

    def _combine(self, parts: list[Evaluation], all_of: bool, boost: float) -> Evaluation:
        if not parts:
            return Evaluation(np.zeros(self.size, dtype=np.bool_), None)
        mask = parts[0].mask.copy()
        scores: FloatArray | None = None
        for part in parts:
            if part is not parts[0]:
                if all_of:
                    mask &= part.mask
                else:
                    mask |= part.mask
            scores = _add(scores, part.scores)
        return Evaluation(mask, _scaled(scores, boost))

    def _facet(self, fieldname: str, value: str, boost: float) -> Evaluation:
        """A facet value's documents, each scoring the boost (as Whoosh scores unscorable fields)."""
        mask = bits_to_mask(self.facets.values.get(fieldname, {}).get(value, 0), self.size)
        return Evaluation(mask, np.where(mask, np.float32(boost), np.float32(0)))

    def _term(self, fieldname: str, text: str, boost: float) -> Evaluation:
        mask = np.zeros(self.size, dtype=np.bool_)
        ids, term_scores = self.scored(fieldname, text)
        scores = np.zeros(self.size, dtype=np.float32)
        mask[ids] = True
        scores[ids] = term_scores * np.float32(boost) if boost != 1.0 else term_scores
        return Evaluation(mask, scores)

    def _phrase(self, fieldname: str, words: list[str], boost: float) -> Evaluation:
        keys: IntArray | None = None
        for shift, word in enumerate(words):
            found = self.positions(fieldname, word) - shift
            keys = found if keys is None else np.intersect1d(keys, found, assume_unique=True)
            if not len(keys):
                break
        mask = np.zeros(self.size, dtype=np.bool_)
        if keys is not None and len(keys):
            mask[np.unique(keys >> POSITION_BITS)] = True
        scores: FloatArray | None = None
        for word in dict.fromkeys(words):
            scores = _add(scores, self._term(fieldname, word, 1.0).scores)
        return Evaluation(mask, _scaled(scores, boost))

    # -- cached term data -------------------------------------------------------------------------
    def scored(self, fieldname: str, text: Any) -> tuple[IntArray, FloatArray]:
        """Return a term's documents and their BM25F scores (boost 1)."""
        raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        key = ("scored", self.generation, fieldname, raw)
        found = self.cache.get(key)
        if found is None:
            parts = []
            for (reader, offset), segment in zip(self.leaves, self.segments, strict=True):
                ids, weights = self._segment_postings(reader, segment, fieldname, raw)
                parts.append((TermPostings(ids, weights), offset))
            postings = combine(parts)
            found = (postings.ids, self._bm25(fieldname, postings.ids, postings.weights))
            self.cache.put(key, found)
        return found[0], found[1]

    def _segment_postings(self, reader: Any, segment: str, fieldname: str,
                          raw: bytes) -> tuple[IntArray, FloatArray]:
        key = ("postings", segment, fieldname, raw)
        found = self.cache.get(key)
        if found is None:
            postings = leaf_postings(reader, fieldname, raw)
            found = (postings.ids.astype(np.int32), postings.weights)
            self.cache.put(key, found)
        return found[0].astype(np.int64), found[1]

    def positions(self, fieldname: str, text: Any) -> IntArray:
        """Return a term's sorted (docnum << 24 | position) keys."""
        raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        parts = []
        for (reader, offset), segment in zip(self.leaves, self.segments, strict=True):
            key = ("positions", segment, fieldname, raw)
            found = self.cache.get(key)
            if found is None:
                postings = leaf_postings(reader, fieldname, raw, values=True)
                found = (_position_keys(postings.ids, postings.values or []),)
                self.cache.put(key, found)
            if len(found[0]):
                parts.append(found[0] + (offset << POSITION_BITS))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def _lengths(self, fieldname: str) -> FloatArray:
        key = ("lengths", self.generation, fieldname)
        found = self.cache.get(key)
        if found is None:
            parts = []
            for (reader, _), segment in zip(self.leaves, self.segments, strict=True):
                segment_key_ = ("segment-lengths", segment, fieldname)
                own = self.cache.get(segment_key_)
                if own is None:
                    own = (leaf_lengths(reader, fieldname),)
                    self.cache.put(segment_key_, own)
                parts.append(own[0])
            found = (np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32),)
            self.cache.put(key, found)
        lengths: FloatArray = found[0]
        return lengths

    def _bm25(self, fieldname: str, ids: IntArray, weights: FloatArray) -> FloatArray:
        searcher = self.searcher
        field = searcher.schema[fieldname] if fieldname in searcher.schema.names() else None
        if field is None or not field.scorable or not len(ids):
            return weights
        idf = math.log(self.size / (len(ids) + 1)) + 1     # postings count = document frequency
        average = searcher.avg_field_length(fieldname) or 1.0
        lengths = self._lengths(fieldname)[ids]
        tf = weights
        scores = idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * lengths / average))
        return scores.astype(np.float32)


def _position_keys(ids: IntArray, values: list[bytes]) -> IntArray:
    """Decode Whoosh's per-posting position lists into sorted (docnum << 24 | position) keys."""
    docs: list[int] = []
    positions: list[int] = []
    for doc, value in zip(ids.tolist(), values, strict=True):
        found = list(accumulate(loads(value[4:])))
        positions.extend(found)
        docs.extend([doc] * len(found))
    keys = (np.asarray(docs, dtype=np.int64) << POSITION_BITS) | np.asarray(positions, dtype=np.int64)
    return np.unique(keys)


def _add(total: FloatArray | None, more: FloatArray | None) -> FloatArray | None:
    if more is None:
        return total
    if total is None:
        return more.copy()
    total += more
    return total


def _scaled(scores: FloatArray | None, boost: float) -> FloatArray | None:
    if scores is None or boost == 1.0:
        return scores
    scores *= np.float32(boost)
    return scores
