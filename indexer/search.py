"""The Whoosh implementation of interface.SearchIndex: searchers lent from a small pool,
reopened when a new commit lands.

A search resolves the query (query.py parses it, resolve.py turns it into this index's terms)
and walks its matches once, with numpy, under a time limit that works in any thread: the walk
gives the scores for ranking and the match bitset for exact facet counts over the whole match
set. Only this module, build.py and status.py open Whoosh indexes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import re
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from babel import Locale
from whoosh import index as whoosh_index
from whoosh import query as wq

from archive.cleaning.vocab import Vocabulary, load_vocabulary
from indexer import titlewords
from indexer.analysis import fold_token, stopwords
from indexer.concepts import Concepts
from indexer.errors import QueryError
from indexer.evaluate import Evaluator, TermCache
from indexer.facets import FacetIndex, Mask, bits_to_mask, family_codes, mask_to_bits
from indexer.interface import LANGUAGES, Hit, IndexStatus, SearchPage, SearchRequest
from indexer.pool import SearcherPool
from indexer.query import OPERATORS, plain_words
from indexer.resolve import iter_terms, resolve_plain, resolve_query
from indexer.schema import check_version
from indexer.snippets import SNIPPET_CHARS, snippet
from indexer.status import index_status
from indexer.titlewords import Speller
from indexer.tree import Node
from indexer.values import FacetValues

# the value types live in the interface; these names stay for the code that imported them here
__all__ = ["Hit", "SearchPage", "SearchRequest", "Searcher", "WhooshIndex", "WhooshLexicon"]

TIME_LIMIT = 2.0
RELAX_BELOW = 10          # fewer matches of all words than this: add those of some words
# a word of a query, not a field name (country:) nor what follows one, not a * prefix
_QUERY_WORD = re.compile(r"(?<![\w:*])[^\W\d_]{3,}(?![\w:*])")


@dataclass
class _Found:
    """What a search matched: its query, the all-words match and the whole match (bitsets),
    and the (docnum, score) pairs ranked for the pages asked."""

    query: Node | None
    strict: int
    match: int
    ranked: list[tuple[int, float]]


class WhooshLexicon:
    """A searcher's analysers and words, as resolve.py asks for them."""

    def __init__(self, searcher: Any) -> None:
        self._schema = searcher.schema
        self._reader = searcher.reader()

    def analyze(self, field: str, text: str, whole: bool = False) -> list[str]:
        """Return the tokens of `text` in a field (`whole`: the text as one token, stop words kept)."""
        options = {"tokenize": False, "removestops": False} if whole else {}
        return list(self._schema[field].process_text(text, mode="query", **options))

    def expand(self, field: str, prefix: str) -> Iterator[str]:
        """Yield the field's words that start with `prefix`, in order."""
        for word in self._reader.expand_prefix(field, prefix):
            yield word.decode("utf-8") if isinstance(word, bytes) else word


class WhooshIndex:
    """Read-only access to the index of a data directory (or of an index folder)."""

    def __init__(self, path: Path, vocab: Vocabulary | None = None) -> None:
        self.path = Path(path)
        self._pool = SearcherPool(_open_searcher)
        # its searchers' files close when this index object goes, even if nobody calls close()
        self._closer = weakref.finalize(self, self._pool.close)
        self._facets: dict[tuple[str, int], FacetIndex] = {}
        self._lock = threading.Lock()
        self._vocab = vocab
        self._labels: dict[str, dict[str, dict[str, str]]] = {}
        self._concept_index: Concepts | None = None
        self._words = Speller({})
        self._words_key: Any = None
        self._cache = TermCache()    # by segment and by generation: it outlives commits
        self._open_index()

    # -- opening and refreshing -----------------------------------------------------------------
    def _directory(self) -> Path:
        link = self.path / "index"
        return link.resolve() if link.exists() else self.path

    def _open_index(self, directory: Path | None = None) -> Any:
        directory = directory or self._directory()
        check_version(directory)
        return whoosh_index.open_dir(str(directory))

    def _searcher(self) -> contextlib.AbstractContextManager[Any]:
        """Lend a searcher of the latest commit (or rebuild) for one search; give it back after."""
        return self._pool.lease(self._directory())

    def _generation(self, searcher: Any) -> tuple[str, Any]:
        """Identify the index folder and commit a searcher reads, for per-generation caches."""
        return self._pool.generation(searcher)

    def close(self) -> None:
        """Close the searchers kept open; a search after this opens and closes its own."""
        self._closer()

    def _facet_index(self, searcher: Any) -> FacetIndex:
        key = self._generation(searcher)
        with self._lock:
            index = self._facets.get(key)
            if index is None:
                index = FacetIndex.build(searcher.reader())
                self._facets = {key: index}   # keep only the newest generation
        return index

    # -- searching ------------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchPage:
        """Run a search; raise QueryError with a clear message for a bad or unbounded query.

        A query that finds nothing is tried again with its words spelt as the archive spells
        them; the page then says which query it answered (`corrected`).
        """
        started = time.monotonic()
        request.check()
        page = self._search(request)
        if page.total == 0 and request.q.strip():
            fixed = self.correct(request.q)
            if fixed:
                retry = self._search(dataclasses.replace(request, q=fixed))
                if retry.total:
                    page = retry
                    page.corrected = fixed
        page.took_ms = (time.monotonic() - started) * 1000
        return page

    def _search(self, request: SearchRequest) -> SearchPage:
        with self._searcher() as searcher:
            facets = self._facet_index(searcher)
            values = FacetValues(self._concepts().vocab, facets.values)
            request = _with_values(request, values)
            # the time limit bounds the query, not the loading of a new index generation
            found = self._find(searcher, facets, request, time.monotonic(), None, values)
            hits = self._page(searcher, request, found.ranked, found.query)
            if request.collapse:
                total_all = self._families(searcher, facets, found.strict)
                total = self._families(searcher, facets, found.match)
            else:
                total_all, total = found.strict.bit_count(), found.match.bit_count()
        return SearchPage(total=total, page=request.page, results=hits,
                          facets=self._label(facets.counts(found.match), request.ui_language),
                          total_all=total_all, relaxed=total - total_all, notes=values.notes)

    def facets(self, request: SearchRequest) -> dict[str, list[dict[str, Any]]]:
        """Count the facet values over a search's whole match set, without its results."""
        whole = dataclasses.replace(request, page=1, page_size=1, snippets=False, collapse=False)
        return self.search(whole).facets

    def _find(self, searcher: Any, facets: FacetIndex, request: SearchRequest, started: float,
              need: int | None, values: FacetValues) -> _Found:
        """Match, count and rank: the releases with all the words first, then (when they are
        few) those with some of them, in the order asked for."""
        deadline = started + TIME_LIMIT
        filters = dict(request.filters)
        if request.language:
            filters["language"] = [request.language]
        allowed = facets.filter_bits(filters, request.date_from, request.date_to)
        if need is None:
            need = request.page * request.page_size * (4 if request.collapse else 1)
        text = request.q.strip()
        if not text:
            ranked = _newest(bits_to_mask(allowed, facets.size), facets, need)
            return _Found(None, allowed, allowed, ranked)
        words = plain_words(text)
        units = self._content_units(words, request.language) if words else []
        lexicon = WhooshLexicon(searcher)
        if units:
            query = resolve_plain(units, request.language, lexicon)
        else:
            query = resolve_query(text, request.language, lexicon, values.resolve)
        evaluator = Evaluator(searcher, facets, self._cache, deadline, self._generation(searcher))
        strict = evaluator.evaluate(query)
        allowed_mask = bits_to_mask(allowed, facets.size)
        within = strict.mask if allowed == facets.live else strict.mask & allowed_mask
        match = mask_to_bits(within)
        if len(units) >= 2 and match.bit_count() < RELAX_BELOW:
            # too few releases have every word: those with some of them follow, after them
            loose_query = resolve_plain(units, request.language, lexicon, any_word=True)
            loose = evaluator.evaluate(loose_query)
            wider = loose.mask & allowed_mask
            more = wider & ~within
            if more.any():
                if request.sort == "date":
                    ranked = [*_newest(within, facets, need), *_newest(more, facets, need)]
                else:
                    ranked = [*_top(strict.scores, within, need, facets),
                              *_top(loose.scores, more, need, facets)]
                return _Found(loose_query, match, mask_to_bits(wider), ranked[:need])
        if request.sort == "date":
            return _Found(query, match, match, _newest(within, facets, need))
        return _Found(query, match, match, _top(strict.scores, within, need, facets))

    def _content_units(self, words: list[str], language: str | None
                       ) -> list[tuple[str, list[tuple[str, str]]]]:
        """The units of a plain query without its stop words ("de", "la" in any language
        searched): a stop word would otherwise make releases count as having the words.
        A query of stop words alone keeps them (and matches what they match)."""
        languages = [language] if language in LANGUAGES else list(LANGUAGES)
        stop = set().union(*(stopwords(lang) for lang in languages))
        units = self._concepts().split(words)
        kept = [(unit, named) for unit, named in units
                if named or " " in unit or fold_token(unit) not in stop]
        return kept or units

    def _families(self, searcher: Any, facets: FacetIndex, bits: int) -> int:
        """Count the translation families of a match set (what collapse=1 lists)."""
        if facets.families is None:     # read once per generation, on the first collapse=1
            facets.families = family_codes(searcher.reader(), facets.size)
        codes = facets.families
        mask = bits_to_mask(bits, facets.size)
        grouped = codes[mask]
        return int((grouped < 0).sum()) + len(np.unique(grouped[grouped >= 0]))

    def _concepts(self) -> Concepts:
        if self._concept_index is None:
            self._vocab = self._vocab or load_vocabulary()
            self._concept_index = Concepts(self._vocab)
        return self._concept_index

    def _page(self, searcher: Any, request: SearchRequest, ranked: list[tuple[int, float]],
              query: Node | None) -> list[Hit]:
        hits: list[Hit] = []
        bodies: dict[str, str] = {}
        seen_families: dict[str, Hit] = {}
        wanted = request.page * request.page_size
        for docnum, score in ranked:
            fields = searcher.stored_fields(docnum)
            family = fields.get("family", fields["id"])
            if request.collapse and family in seen_families:
                seen_families[family].languages.append(fields.get("lang", ""))
                continue
            if len(hits) >= wanted and not request.collapse:
                break
            hit = _hit(fields, score)
            hit.family = family
            hit.languages = [hit.language] if request.collapse else []
            seen_families[family] = hit
            bodies[hit.id] = fields.get("body", "")
            hits.append(hit)
        start = (request.page - 1) * request.page_size
        hits = hits[start:start + request.page_size]
        if request.snippets:
            for hit in hits:
                hit.snippet = self._snippet(searcher, hit, bodies[hit.id], query)
        return hits

    @staticmethod
    def _snippet(searcher: Any, hit: Hit, body: str, query: Node | None) -> str:
        """Highlight the query's words in the body (or title), HTML-escaped, marks only."""
        language = hit.language if hit.language in LANGUAGES else "en"
        if query is not None:
            fields = (f"body_{language}", f"title_{language}")
            terms = {text for fieldname, text in iter_terms(query) if fieldname in fields}
            if terms:
                analyzer = searcher.schema[fields[0]].analyzer
                for text in (body, hit.title):
                    marked = snippet(text, terms, analyzer, SNIPPET_CHARS)
                    if marked:
                        return marked
        plain = body[:SNIPPET_CHARS].rsplit(" ", 1)[0] + ("…" if len(body) > SNIPPET_CHARS else "")
        return html.escape(plain, quote=False)

    def suggest(self, text: str) -> str | None:
        """Offer a spelling that the archive knows, for a query that found nothing."""
        return self.correct(text)

    def correct(self, text: str) -> str | None:
        """Return the query with every misspelt word spelt as the archive's releases spell it
        (in the case it was typed), or None when every word is known or nothing is close.

        Operators, field names and what a field names are left as typed (facet values are
        read forgivingly by FacetValues).
        """
        speller = self._speller()
        with self._searcher() as searcher:
            lexicon, reader = WhooshLexicon(searcher), searcher.reader()

            def frequency(word: str) -> int:
                """The releases that hold a word, in any language's bodies."""
                return sum(reader.doc_frequency(field, token)
                           for field in (f"body_{language}" for language in LANGUAGES)
                           for token in lexicon.analyze(field, word)[:1])

            return self._corrected(text, speller, frequency)

    @staticmethod
    def _corrected(text: str, speller: Speller, frequency: Any) -> str | None:
        changed = False

        def fix(match: re.Match[str]) -> str:
            nonlocal changed
            word = match.group(0)
            if word in OPERATORS:
                return word
            better = speller.correct(word, frequency)
            changed = changed or better is not None
            return better or word

        fixed = _QUERY_WORD.sub(fix, text)
        return fixed if changed else None

    def _speller(self) -> Speller:
        """The word list of the live index (every build and update of schema 2 writes one)."""
        with self._searcher() as searcher:
            directory = Path(self._generation(searcher)[0])
        try:
            stamp: Any = (directory, (directory / titlewords.FILE).stat().st_mtime_ns)
        except OSError:
            stamp = (directory, None)
        with self._lock:
            if self._words_key != stamp:
                self._words, self._words_key = Speller(titlewords.read(directory) or {}), stamp
            return self._words

    def iter_hits(self, request: SearchRequest, batch: int = 500) -> Iterator[Hit]:
        """Yield every result of a search in rank order, without snippets (for exports, feeds)."""
        dataclasses.replace(request, page=1).check()
        # the docnums belong to this searcher's commit: it stays lent until the last hit
        with self._searcher() as searcher:
            facets = self._facet_index(searcher)
            values = FacetValues(self._concepts().vocab, facets.values)
            whole = _with_values(dataclasses.replace(request, page=1, collapse=False), values)
            ranked = self._find(searcher, facets, whole, time.monotonic(), max(1, facets.size),
                                values).ranked
            for start in range(0, len(ranked), batch):
                for docnum, score in ranked[start:start + batch]:
                    yield _hit(searcher.stored_fields(docnum), score)

    def more_like_this(self, release_id: str, limit: int = 5) -> list[Hit]:
        """Return releases similar to one, by its most distinctive body terms."""
        with self._searcher() as searcher:
            docnum = searcher.document_number(id=release_id)
            if docnum is None:
                raise QueryError(f"no release {release_id!r} in the index")
            language = searcher.stored_fields(docnum).get("lang", "en")
            language = language if language in LANGUAGES else "en"
            body = searcher.stored_fields(docnum).get("body", "")
            terms = searcher.key_terms_from_text(f"body_{language}", body, numterms=12)
            query = wq.Or([wq.Term(f"body_{language}", t) for t, _ in terms])
            results = searcher.search(query, limit=limit + 1)
            hits = []
            for found in results:
                if found.docnum == docnum:
                    continue
                hits.append(_hit(found.fields(), found.score))
        return hits[:limit]

    def warm(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        """Load what the first searches would otherwise wait for: an open searcher, the facet
        bitsets, the facet labels and the speller (a server calls this at start)."""
        with self._searcher() as searcher:
            self._facet_index(searcher)
        self._speller()
        for language in languages:
            self._labels_for(language)

    def status(self) -> IndexStatus:
        """Describe the index: documents, last commit, size, schema version."""
        return index_status(self.path)

    def doc_count(self) -> int:
        """Return the number of releases in the index."""
        with self._searcher() as searcher:
            return int(searcher.doc_count())

    # -- labels ---------------------------------------------------------------------------------
    def _label(self, counts: dict[str, list[tuple[str, int]]], ui: str) -> dict[str, list[dict[str, Any]]]:
        labels = self._labels_for(ui)
        return {facet: [{"value": v, "label": labels.get(facet, {}).get(v, v), "count": c}
                        for v, c in pairs] for facet, pairs in counts.items()}

    def _labels_for(self, ui: str) -> dict[str, dict[str, str]]:
        ui = ui if ui in LANGUAGES else "en"
        if ui not in self._labels:
            vocab = self._vocab = self._vocab or load_vocabulary()
            locale = Locale.parse(ui)
            self._labels[ui] = {
                "country": dict(locale.territories),
                "language": dict(locale.languages),
                "theme": {t: vocab.theme_label(t, ui) for t in vocab.themes},
                "project": {p.acronym: f"{p.acronym}" for p in vocab.projects},
            }
        return self._labels[ui]


def _with_values(request: SearchRequest, values: FacetValues) -> SearchRequest:
    """The request with its filters and language read as the index's values."""
    filters = {facet: values.resolve_all(facet, wanted) for facet, wanted in request.filters.items()}
    language = values.resolve("language", request.language) if request.language else None
    return dataclasses.replace(request, filters=filters, language=language)


def _newest(match: Mask, facets: FacetIndex, need: int) -> list[tuple[int, float]]:
    """Return the `need` newest documents of a match set (ties to the lower docnum)."""
    order = facets.newest_first
    return [(int(d), 0.0) for d in order[match[order]][:need]]


def _top(scores: Any, match: Mask, need: int, facets: FacetIndex) -> list[tuple[int, float]]:
    """Return the `need` best (docnum, score) pairs of a match set, ties to the lower docnum.

    A query that does not score (a date range alone) lists its matches newest first.
    """
    if scores is None:
        return _newest(match, facets, need)
    candidates = np.flatnonzero(match)
    if not len(candidates):
        return []
    values = scores[candidates]
    if len(candidates) > need:
        # the need-th best score, then every candidate at or above it (ties kept for the sort)
        cut = np.partition(values, len(values) - need)[len(values) - need]
        keep = values >= cut
        candidates, values = candidates[keep], values[keep]
    order = np.lexsort((candidates, -values))[:need]
    return [(int(candidates[i]), float(values[i])) for i in order]


def _open_searcher(directory: Path) -> Any:
    check_version(directory)
    return whoosh_index.open_dir(str(directory)).searcher()


def _hit(fields: dict[str, Any], score: float) -> Hit:
    return Hit(id=fields["id"], url=fields["url"], title=fields.get("title", ""),
               published=fields.get("published"), language=fields.get("lang", ""),
               countries=fields.get("countries", []), themes=fields.get("themes", []),
               projects=fields.get("projects", []), snippet="", score=score,
               family=fields.get("family", fields["id"]), captured=fields.get("captured"),
               date_source=fields.get("date_source"), version=int(fields.get("version") or 1))


# the name this class had before the search seam (tests and scripts use it)
Searcher = WhooshIndex
