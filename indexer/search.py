"""Search the index: one searcher per thread, refreshed when a new commit lands.

A search walks its matches once, under a time limit that works in any thread: the walk gives
the scores for ranking and the match bitset for exact facet counts over the whole match set.
"""

from __future__ import annotations

import dataclasses
import difflib
import heapq
import html
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale
from whoosh import highlight
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.collectors import TimeLimit, TimeLimitCollector

from archive.textnorm import fold
from archive.vocab import Vocabulary, load_vocabulary
from indexer.analysis import LANGUAGES
from indexer.concepts import Concepts
from indexer.errors import QueryError, SearchTimeout
from indexer.facets import FacetIndex, from_bits
from indexer.matchset import query_bits
from indexer.query import parse_query, plain_query, plain_words
from indexer.schema import FACETS, check_version

MAX_PAGE = 100
MAX_PAGE_SIZE = 100
TIME_LIMIT = 2.0
SNIPPET_CHARS = 240
RELAX_BELOW = 10          # fewer matches of all words than this: add those of some words


@dataclass
class SearchRequest:
    """A search: query text, filters (facet -> values), dates, sort, page, options."""

    q: str = ""
    language: str | None = None            # search this language's releases only
    filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "relevance"                # or "date"
    page: int = 1
    page_size: int = 10
    snippets: bool = True
    collapse: bool = False                 # one result per translation family
    ui_language: str = "en"


@dataclass
class Hit:
    """One result."""

    id: str
    url: str
    title: str
    published: str | None
    language: str
    countries: list[str]
    themes: list[str]
    projects: list[dict[str, str]]
    snippet: str
    score: float = 0.0
    family: str = ""
    languages: list[str] = field(default_factory=list)

    def snippet_text(self) -> str:
        """The snippet as plain text (marks removed, entities decoded)."""
        return html.unescape(re.sub(r"</?mark>", "", self.snippet))

    def to_json(self) -> dict[str, Any]:
        """Return the result in the API's shape."""
        data = {k: getattr(self, k) for k in ("id", "url", "title", "published", "language",
                                              "countries", "themes", "projects", "snippet")}
        if self.languages:
            data["languages"] = self.languages
        return data


@dataclass
class SearchPage:
    """One page of results, with facet counts over the whole match set."""

    total: int
    page: int
    results: list[Hit]
    facets: dict[str, list[dict[str, Any]]]
    relaxed: bool = False
    took_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Return the page in the API's shape."""
        data: dict[str, Any] = {"total": self.total, "page": self.page,
                                "results": [hit.to_json() for hit in self.results],
                                "facets": self.facets}
        if self.relaxed:
            data["relaxed"] = True
        return data


class Searcher:
    """Read-only access to the index of a data directory (or of an index folder)."""

    def __init__(self, path: Path, vocab: Vocabulary | None = None) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._facets: dict[tuple[str, int], FacetIndex] = {}
        self._lock = threading.Lock()
        self._vocab = vocab
        self._labels: dict[str, dict[str, dict[str, str]]] = {}
        self._concept_index: Concepts | None = None
        self._words: dict[str, str] = {}
        self._words_key: tuple[str, Any] | None = None
        self._open_index()

    # -- opening and refreshing -----------------------------------------------------------------
    def _directory(self) -> Path:
        link = self.path / "index"
        return link.resolve() if link.exists() else self.path

    def _open_index(self, directory: Path | None = None) -> Any:
        directory = directory or self._directory()
        check_version(directory)
        return whoosh_index.open_dir(str(directory))

    def _searcher(self) -> Any:
        """Return this thread's searcher, reopened if a new commit or a rebuild landed."""
        local = self._local
        directory = self._directory()
        current = getattr(local, "searcher", None)
        if current is not None and local.directory == directory:
            try:
                if current.up_to_date():
                    return current
            except Exception:  # the folder went away under an old searcher: reopen below
                pass
        if current is not None:
            current.close()
        # a new searcher rather than Searcher.refresh(), which fails on multi-segment readers
        local.searcher = self._open_index(directory).searcher()
        local.directory = directory
        return local.searcher

    def _generation(self, searcher: Any) -> tuple[str, Any]:
        """Identify the index folder and commit a searcher reads, for per-generation caches."""
        reader = searcher.reader()
        return (str(self._local.directory),
                reader.generation() if hasattr(reader, "generation") else id(reader))

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
        """Run a search; raise QueryError with a clear message for a bad or unbounded query."""
        started = time.monotonic()
        _check_request(request)
        searcher = self._searcher()
        facets = self._facet_index(searcher)
        query, match, ranked, relaxed = self._find(searcher, facets, request, started, None)
        hits = self._page(searcher, request, ranked, query)
        page = SearchPage(total=match.bit_count(), page=request.page, results=hits,
                          facets=self._label(facets.counts(match), request.ui_language),
                          relaxed=relaxed)
        page.took_ms = (time.monotonic() - started) * 1000
        return page

    def _find(self, searcher: Any, facets: FacetIndex, request: SearchRequest, started: float,
              need: int | None) -> tuple[Any, int, list[tuple[int, float]], bool]:
        """Return (query, match bitset, ranked (docnum, score) pairs, relaxed)."""
        deadline = started + TIME_LIMIT
        filters = dict(request.filters)
        if request.language:
            filters["language"] = [request.language]
        allowed = facets.filter_bits(filters, request.date_from, request.date_to)
        if need is None:
            need = request.page * request.page_size * (4 if request.collapse else 1)
        text = request.q.strip()
        if not text:
            return None, allowed, self._by_date(allowed, facets, need), False
        words = plain_words(text)
        units = self._concepts().split(words) if words else []
        if units:
            query = plain_query(units, request.language, searcher.schema, searcher.reader())
        else:
            query = parse_query(text, request.language, searcher.schema, searcher.reader())
        unfiltered = allowed == facets.live
        match = query_bits(searcher, query, facets, deadline) & allowed
        relaxed = False
        if len(units) >= 2 and match.bit_count() < RELAX_BELOW:
            # too few releases have every word: those with some of them follow
            loose = plain_query(units, request.language, searcher.schema, searcher.reader(),
                                any_word=True)
            wider = query_bits(searcher, loose, facets, deadline) & allowed
            if wider != match:
                if request.sort == "date":
                    return loose, wider, self._by_date(wider, facets, need), True
                strict = self._top(searcher, query, None if unfiltered else match, need, deadline)
                others = self._top(searcher, loose, wider & ~match, need, deadline)
                return loose, wider, [*strict, *others][:need], True
        if request.sort == "date":
            return query, match, self._by_date(match, facets, need), relaxed
        if not match:
            return query, match, [], relaxed
        ranked = self._top(searcher, query, None if unfiltered else match, need, deadline)
        return query, match, ranked, relaxed

    def _top(self, searcher: Any, query: Any, within: int | None, need: int,
             deadline: float) -> list[tuple[int, float]]:
        """Score the best `need` matches (Whoosh's block-skipping top-k), within a bitset if given."""
        if within == 0:
            return []
        restrict = None if within is None else set(from_bits(within))
        collector = searcher.collector(limit=need, filter=restrict)
        limited = TimeLimitCollector(collector, timelimit=max(0.01, deadline - time.monotonic()),
                                     use_alarm=False)
        try:
            searcher.search_with_collector(query, limited)
        except TimeLimit:
            raise SearchTimeout(f"the search took longer than {TIME_LIMIT:.0f} s: make the "
                                "query more specific") from None
        return [(hit.docnum, hit.score) for hit in limited.results()]

    @staticmethod
    def _by_date(match: int, facets: FacetIndex, need: int) -> list[tuple[int, float]]:
        newest = heapq.nlargest(need, from_bits(match), key=lambda d: (facets.pubdate[d], -d))
        return [(d, 0.0) for d in newest]

    def _concepts(self) -> Concepts:
        if self._concept_index is None:
            self._vocab = self._vocab or load_vocabulary()
            self._concept_index = Concepts(self._vocab)
        return self._concept_index

    def _page(self, searcher: Any, request: SearchRequest, ranked: list[tuple[int, float]],
              query: Any) -> list[Hit]:
        hits: list[Hit] = []
        seen_families: dict[str, Hit] = {}
        for docnum, score in ranked:
            fields = searcher.stored_fields(docnum)
            family = fields.get("family", fields["id"])
            if request.collapse and family in seen_families:
                seen_families[family].languages.append(fields.get("lang", ""))
                continue
            hit = _hit(fields, score)
            hit.family = family
            hit.languages = [hit.language] if request.collapse else []
            seen_families[family] = hit
            hits.append(hit)
        start = (request.page - 1) * request.page_size
        hits = hits[start:start + request.page_size]
        if request.snippets:
            for hit in hits:
                hit.snippet = self._snippet(searcher, hit, query)
        return hits

    def _snippet(self, searcher: Any, hit: Hit, query: Any) -> str:
        """Highlight the query's words in the body (or title), HTML-escaped, marks only."""
        docnum = searcher.document_number(id=hit.id)
        body = searcher.stored_fields(docnum).get("body", "") if docnum is not None else ""
        language = hit.language if hit.language in LANGUAGES else "en"
        if query is not None:
            field = f"body_{language}"
            terms = {text for fieldname, text in query.iter_all_terms()
                     if fieldname in (field, f"title_{language}")}
            terms = {t.decode("utf-8") if isinstance(t, bytes) else t for t in terms}
            if terms:
                analyzer = searcher.schema[field].analyzer
                fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)
                formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
                for text in (body, hit.title):
                    marked = highlight.highlight(text, frozenset(terms), analyzer, fragmenter,
                                                 formatter, top=2)
                    if marked:
                        return str(marked)
        plain = body[:SNIPPET_CHARS].rsplit(" ", 1)[0] + ("…" if len(body) > SNIPPET_CHARS else "")
        return html.escape(plain, quote=False)

    def suggest(self, text: str) -> str | None:
        """Offer a spelling that the archive knows, for a plain query that found nothing.

        Words come from the releases' titles, so a suggestion reads as people write.
        """
        words = plain_words(text)
        if not words:
            return None
        known = self._title_words()
        fixed, changed = [], False
        for word in words:
            key = fold(word)
            if key in known:
                fixed.append(word)
                continue
            close = difflib.get_close_matches(key, known.keys(), n=1, cutoff=0.75)
            if close:
                fixed.append(known[close[0]])
                changed = True
            else:
                fixed.append(word)
        return " ".join(fixed) if changed else None

    def _title_words(self) -> dict[str, str]:
        searcher = self._searcher()
        key = self._generation(searcher)
        with self._lock:
            if self._words_key != key:
                words: dict[str, str] = {}
                for fields in searcher.all_stored_fields():
                    for word in re.findall(r"[^\W\d_]{3,}", fields.get("title", "")):
                        words.setdefault(fold(word), word)
                self._words, self._words_key = words, key
        return self._words

    def iter_hits(self, request: SearchRequest, batch: int = 500) -> Iterator[Hit]:
        """Yield every result of a search in rank order, without snippets (for exports, feeds)."""
        started = time.monotonic()
        _check_request(dataclasses.replace(request, page=1))
        searcher = self._searcher()
        facets = self._facet_index(searcher)
        whole = dataclasses.replace(request, page=1, collapse=False)
        _, _, ranked, _ = self._find(searcher, facets, whole, started, max(1, facets.size))
        for start in range(0, len(ranked), batch):
            for docnum, score in ranked[start:start + batch]:
                yield _hit(searcher.stored_fields(docnum), score)

    def more_like_this(self, release_id: str, limit: int = 5) -> list[Hit]:
        """Return releases similar to one, by its most distinctive body terms."""
        searcher = self._searcher()
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

    def doc_count(self) -> int:
        """Return the number of releases in the index."""
        return int(self._searcher().doc_count())

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


def _hit(fields: dict[str, Any], score: float) -> Hit:
    return Hit(id=fields["id"], url=fields["url"], title=fields.get("title", ""),
               published=fields.get("published"), language=fields.get("lang", ""),
               countries=fields.get("countries", []), themes=fields.get("themes", []),
               projects=fields.get("projects", []), snippet="", score=score,
               family=fields.get("family", fields["id"]))


def _check_request(request: SearchRequest) -> None:
    if not 1 <= request.page <= MAX_PAGE:
        raise QueryError(f"page {request.page} is out of range: pages run from 1 to {MAX_PAGE}")
    if not 1 <= request.page_size <= MAX_PAGE_SIZE:
        raise QueryError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
    if request.sort not in ("relevance", "date"):
        raise QueryError("sort must be 'relevance' or 'date'")
    unknown = set(request.filters) - set(FACETS)
    if unknown:
        raise QueryError(f"unknown filter {sorted(unknown)[0]!r}: use one of {', '.join(FACETS)}")
    for name, value in (("from", request.date_from), ("to", request.date_to)):
        if value and not _is_date(value):
            raise QueryError(f"{name} date {value!r} is not YYYY-MM-DD")


def _is_date(value: str) -> bool:
    import datetime

    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True
