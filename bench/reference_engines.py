"""The index benchmark's reference engines: the same releases in tantivy and in SQLite FTS5.

Both index id, title, body and facet-like fields (language, site, countries, themes, projects,
year) and answer the three query kinds of bench/corpus.py over title and body: "term" (one
word), "and" (two words, both required) and "phrase" (the exact phrase). Text is analysed alike
in both: split on non-alphanumerics, lowercased, accents folded; no stemming, no stop words.
Each engine's `page()` does what one results page needs, the way an application would use that
engine: total hits, the top ids by BM25, counts of every facet value over the whole match set,
and a snippet of the body for each result.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

KINDS = ("term", "and", "phrase")
FACETS = ("countries", "themes", "language", "year")
SNIPPET_CHARS = 200  # tantivy's fragment size; FTS5 counts tokens (SNIPPET_TOKENS) instead
SNIPPET_TOKENS = 30
FOLD = "fold"  # the name of the tantivy analyzer registered below


@dataclass
class Page:
    """What one results page needs: total hits, top ids, facet counts, snippets."""

    total: int
    ids: list[str]
    facets: dict[str, dict[str, int]]
    snippets: list[str]


def facet_values(release: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (facet, value) pairs of a release: language, site, countries, themes, projects, year."""
    yield "language", release["language"]
    yield "site", release["site"]
    for code in release["countries"]:
        yield "countries", code
    for theme in release["themes"]:
        yield "themes", theme
    for project in release["projects"]:
        yield "projects", project["acronym"]
    if release.get("published"):
        yield "year", release["published"][:4]


def query_words(q: str, kind: str) -> list[str]:
    """Split a benchmark query into what must match: one word, two words, or one phrase.

    >>> query_words("border management", "and")
    ['border', 'management']
    >>> query_words("border management", "phrase")
    ['border management']
    """
    if kind not in KINDS:
        raise ValueError(f"unknown query kind {kind!r} (expected one of {', '.join(KINDS)})")
    words = [w.replace('"', " ").strip() for w in (q.split() if kind == "and" else [q])]
    if not all(words):
        raise ValueError(f"empty query {q!r}")
    return words


class TantivyEngine:
    """Releases in a tantivy index; facets are text fast fields counted by a terms aggregation."""

    name = "tantivy"

    def __init__(self, threads: int = 2, heap_bytes: int = 256_000_000) -> None:
        self.threads = threads
        self.heap_bytes = heap_bytes
        self._index: tantivy.Index | None = None
        self._searcher: tantivy.Searcher | None = None

    def build(self, releases: Iterable[dict[str, Any]], path: Path) -> None:
        """Index the releases into a new index at path, then open it."""
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(_tantivy_schema(), path=str(path), reuse=False)
        index.register_tokenizer(FOLD, _fold_analyzer())
        writer = index.writer(self.heap_bytes, self.threads)
        for release in releases:
            writer.add_document(_tantivy_document(release))
        writer.commit()
        writer.wait_merging_threads()
        self.open(path)

    def open(self, path: Path) -> None:
        """Open an index that `build` made."""
        self._index = tantivy.Index.open(str(path))
        self._index.register_tokenizer(FOLD, _fold_analyzer())
        self._index.reload()
        self._searcher = self._index.searcher()

    def search(self, q: str, kind: str, limit: int = 10) -> tuple[int, list[str]]:
        """Return the number of matching releases and the ids of the best `limit`."""
        searcher = self._opened()
        result = searcher.search(self._query(q, kind), limit, count=True)
        return result.count, [searcher.doc(address)["id"][0] for _, address in result.hits]

    def facet_counts(self, q: str, kind: str) -> dict[str, dict[str, int]]:
        """Count the releases per value of each facet over all matches."""
        return self._facet_counts(self._query(q, kind))

    def snippets(self, q: str, ids: list[str], kind: str | None = None) -> list[str]:
        """Return a highlighted body fragment for each id ("" for an unknown id)."""
        searcher, index = self._opened(), self._index
        assert index is not None
        query = self._query(q, kind or _snippet_kind(q))
        generator = self._snippet_generator(query)
        fragments = []
        for release_id in ids:
            hits = searcher.search(tantivy.Query.term_query(index.schema, "id", release_id), 1).hits
            fragments.append(generator.snippet_from_doc(searcher.doc(hits[0][1])).to_html() if hits else "")
        return fragments

    def page(self, q: str, kind: str, limit: int = 10) -> Page:
        """Answer one results page: top ids with snippets, total, and facet counts."""
        searcher = self._opened()
        query = self._query(q, kind)
        result = searcher.search(query, limit, count=True)
        generator = self._snippet_generator(query)
        ids, fragments = [], []
        for _, address in result.hits:
            doc = searcher.doc(address)
            ids.append(doc["id"][0])
            fragments.append(generator.snippet_from_doc(doc).to_html())
        return Page(result.count, ids, self._facet_counts(query), fragments)

    def _opened(self) -> tantivy.Searcher:
        if self._searcher is None:
            raise RuntimeError("tantivy index not open: call build() or open() first")
        return self._searcher

    def _query(self, q: str, kind: str) -> tantivy.Query:
        assert self._index is not None
        quoted = [f'"{w}"' for w in query_words(q, kind)]
        text = " ".join(f"+{w}" for w in quoted) if kind == "and" else quoted[0]
        return self._index.parse_query(text, ["title", "body"])

    def _facet_counts(self, query: tantivy.Query) -> dict[str, dict[str, int]]:
        request = {facet: {"terms": {"field": facet, "size": 10_000}} for facet in FACETS}
        result = self._opened().aggregate(query, request)
        return {facet: {_key(b["key"]): int(b["doc_count"]) for b in result[facet]["buckets"]}
                for facet in FACETS}

    def _snippet_generator(self, query: tantivy.Query) -> tantivy.SnippetGenerator:
        assert self._index is not None
        generator = tantivy.SnippetGenerator.create(self._opened(), query, self._index.schema, "body")
        generator.set_max_num_chars(SNIPPET_CHARS)
        return generator


def _snippet_kind(q: str) -> str:
    # Without a kind, all the words are highlighted: that fits term, AND and phrase results.
    return "and" if " " in q.strip() else "term"


def _key(value: object) -> str:
    return str(int(value)) if isinstance(value, float) else str(value)


def _fold_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build())


def _tantivy_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name=FOLD)
    builder.add_text_field("body", stored=True, tokenizer_name=FOLD)
    for facet in ("language", "site", "countries", "themes", "projects"):
        builder.add_text_field(facet, fast=True, tokenizer_name="raw")
    builder.add_unsigned_field("year", indexed=True, fast=True)
    return builder.build()


def _tantivy_document(release: dict[str, Any]) -> tantivy.Document:
    doc = tantivy.Document(id=release["id"], title=release["title"], body=release["body"])
    for facet, value in facet_values(release):
        if facet == "year":
            doc.add_unsigned("year", int(value))
        else:
            doc.add_text(facet, value)
    return doc


FTS5_SCHEMA = """
CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE releases (doc INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE TABLE facets (doc INTEGER NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL,
                     PRIMARY KEY (doc, facet, value)) WITHOUT ROWID;
"""
FTS5_TOP = f"""
SELECT r.id, m.snip FROM
  (SELECT rowid AS doc, rank AS score,
          snippet(docs, 1, '<b>', '</b>', '…', {SNIPPET_TOKENS}) AS snip
   FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?) AS m
JOIN releases AS r USING (doc) ORDER BY m.score
"""
FTS5_FACETS = f"""
WITH m (doc) AS MATERIALIZED (SELECT rowid FROM docs WHERE docs MATCH ?)
SELECT '', '', count(*) FROM m
UNION ALL
SELECT f.facet, f.value, count(*) FROM m JOIN facets AS f ON f.doc = m.doc
WHERE f.facet IN ({", ".join(f"'{facet}'" for facet in FACETS)}) GROUP BY f.facet, f.value
"""
FTS5_SNIPPETS = f"""
SELECT r.id, snippet(docs, 1, '<b>', '</b>', '…', {SNIPPET_TOKENS}) FROM docs
JOIN releases AS r ON r.doc = docs.rowid
WHERE docs MATCH ? AND docs.rowid IN (SELECT doc FROM releases WHERE id IN (SELECT value FROM json_each(?)))
"""


class Fts5Engine:
    """Releases in an SQLite FTS5 table; facets in a plain table joined to the matching rowids."""

    name = "fts5"
    filename = "index.sqlite"

    def __init__(self, batch: int = 1000) -> None:
        self.batch = batch
        self._db: sqlite3.Connection | None = None

    def build(self, releases: Iterable[dict[str, Any]], path: Path) -> None:
        """Index the releases into a new database in the folder path, then open it."""
        path.mkdir(parents=True, exist_ok=True)
        file = path / self.filename
        file.unlink(missing_ok=True)
        db = sqlite3.connect(file, isolation_level=None)
        try:
            # A bulk load into a new file: a crash only loses the file, so no journal, no fsync.
            db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                             "PRAGMA cache_size = -262144;" + FTS5_SCHEMA)
            db.execute("BEGIN")
            docs: list[tuple[int, str, str]] = []
            ids: list[tuple[int, str]] = []
            facets: list[tuple[int, str, str]] = []
            for rowid, release in enumerate(releases, start=1):
                docs.append((rowid, release["title"], release["body"]))
                ids.append((rowid, release["id"]))
                facets.extend((rowid, facet, value) for facet, value in facet_values(release))
                if len(docs) >= self.batch:
                    _insert(db, docs, ids, facets)
            _insert(db, docs, ids, facets)
            db.execute("INSERT INTO docs (docs) VALUES ('optimize')")
            db.execute("COMMIT")
        finally:
            db.close()
        self.open(path)

    def open(self, path: Path) -> None:
        """Open a database that `build` made, read-only."""
        self._db = sqlite3.connect(f"file:{path / self.filename}?mode=ro", uri=True,
                                   check_same_thread=False)
        self._db.execute("PRAGMA cache_size = -131072")

    def search(self, q: str, kind: str, limit: int = 10) -> tuple[int, list[str]]:
        """Return the number of matching releases and the ids of the best `limit`."""
        db, match = self._opened(), _match(q, kind)
        total = db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()[0]
        return total, [row[0] for row in db.execute(FTS5_TOP, (match, limit))]

    def facet_counts(self, q: str, kind: str) -> dict[str, dict[str, int]]:
        """Count the releases per value of each facet over all matches."""
        return self._facets(_match(q, kind))[1]

    def snippets(self, q: str, ids: list[str], kind: str | None = None) -> list[str]:
        """Return a highlighted body fragment for each id ("" for one that does not match q)."""
        match = _match(q, kind or _snippet_kind(q))
        found = dict(self._opened().execute(FTS5_SNIPPETS, (match, json.dumps(ids))).fetchall())
        return [found.get(release_id, "") for release_id in ids]

    def page(self, q: str, kind: str, limit: int = 10) -> Page:
        """Answer one results page: top ids with snippets, total, and facet counts."""
        match = _match(q, kind)
        top = self._opened().execute(FTS5_TOP, (match, limit)).fetchall()
        total, facets = self._facets(match)
        return Page(total, [row[0] for row in top], facets, [row[1] for row in top])

    def _opened(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("FTS5 index not open: call build() or open() first")
        return self._db

    def _facets(self, match: str) -> tuple[int, dict[str, dict[str, int]]]:
        counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
        total = 0
        for facet, value, count in self._opened().execute(FTS5_FACETS, (match,)):
            if facet:
                counts[facet][value] = count
            else:
                total = count
        return total, counts


def _match(q: str, kind: str) -> str:
    """Write a benchmark query in FTS5's query syntax.

    >>> _match("border management", "and")
    '"border" AND "management"'
    """
    quoted = [f'"{w}"' for w in query_words(q, kind)]
    return " AND ".join(quoted)


def _insert(db: sqlite3.Connection, docs: list[tuple[int, str, str]], ids: list[tuple[int, str]],
            facets: list[tuple[int, str, str]]) -> None:
    db.executemany("INSERT INTO docs (rowid, title, body) VALUES (?, ?, ?)", docs)
    db.executemany("INSERT INTO releases (doc, id) VALUES (?, ?)", ids)
    db.executemany("INSERT INTO facets (doc, facet, value) VALUES (?, ?, ?)", facets)
    docs.clear()
    ids.clear()
    facets.clear()
