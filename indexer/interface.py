"""The search seam: all that the web app, the CLI and the benchmarks may ask of the index.

Value types (SearchRequest, SearchPage, Hit, IndexStatus, IndexStats), the facets, the
SearchIndex and IndexWriter protocols, and the factories that return the implementation
(Whoosh, in indexer/search.py and indexer/build.py). Nothing here imports the engine: a
factory loads it when called. Callers import this module and indexer.errors, nothing else of
indexer/ (tests/test_search_seam.py checks it).
"""

from __future__ import annotations

import datetime
import html
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from indexer.errors import QueryError

if TYPE_CHECKING:
    from archive.cleaning.vocab import Vocabulary
    from archive.release import Release
    from archive.settings import Settings

LANGUAGES = ("en", "fr", "es", "ar")   # each has its own analyzer, title and body fields
MAX_PAGE = 100
MAX_PAGE_SIZE = 100
SORTS = ("relevance", "date")


@dataclass(frozen=True)
class FacetDefinition:
    """A facet: its name in URLs, the API, the query syntax and the index, and other names
    the query syntax accepts for it (countries:LY)."""

    name: str
    aliases: tuple[str, ...] = ()


FACET_DEFINITIONS = (
    FacetDefinition("country", ("countries",)),
    FacetDefinition("theme", ("themes",)),
    FacetDefinition("project"),
    FacetDefinition("language", ("lang",)),
    FacetDefinition("year"),
    FacetDefinition("site"),
)
FACETS = tuple(facet.name for facet in FACET_DEFINITIONS)


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

    def check(self) -> None:
        """Refuse pages, sizes, sorts, filters and dates out of bounds, saying what to change."""
        if not 1 <= self.page <= MAX_PAGE:
            raise QueryError(f"page {self.page} is out of range: pages run from 1 to {MAX_PAGE}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise QueryError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
        if self.sort not in SORTS:
            raise QueryError("sort must be 'relevance' or 'date'")
        unknown = set(self.filters) - set(FACETS)
        if unknown:
            raise QueryError(f"unknown filter {sorted(unknown)[0]!r}: use one of {', '.join(FACETS)}")
        for name, value in (("from", self.date_from), ("to", self.date_to)):
            if value and not _is_date(value):
                raise QueryError(f"{name} date {value[:40]!r} is not YYYY-MM-DD")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QueryError(f"the from date ({self.date_from}) is after the to date "
                             f"({self.date_to}): swap them")


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
    captured: str | None = None        # when the release was archived (its date if none found)
    date_source: str | None = None     # where the publication date was found
    version: int = 1                   # the release's versions so far (more than 1: it changed)

    def snippet_text(self) -> str:
        """The snippet as plain text (marks removed, entities decoded)."""
        return html.unescape(re.sub(r"</?mark>", "", self.snippet))

    def to_json(self) -> dict[str, Any]:
        """Return the result in the API's shape."""
        data = {k: getattr(self, k) for k in ("id", "url", "title", "published", "date_source",
                                              "captured", "language", "countries", "themes",
                                              "projects", "snippet")}
        if self.languages:
            data["languages"] = self.languages
        return data


@dataclass
class SearchPage:
    """One page of results, with facet counts ({value, label, count}) over the whole match set.

    `total` = `total_all` releases with all the words, then `relaxed` more with some of them
    (only when fewer than a page have them all); with collapse, they count families.
    """

    total: int
    page: int
    results: list[Hit]
    facets: dict[str, list[dict[str, Any]]]
    total_all: int | None = None   # releases with all the words (total when None)
    relaxed: int = 0               # more releases, with some of the words, listed after them
    corrected: str | None = None   # the spelling-corrected query answered (nothing found as typed)
    notes: list[str] = field(default_factory=list)   # how values were read ("Lybia" as LY)
    took_ms: float = 0.0

    def __post_init__(self) -> None:
        if self.total_all is None:
            self.total_all = self.total - self.relaxed

    def to_json(self) -> dict[str, Any]:
        """Return the page in the API's shape."""
        data: dict[str, Any] = {"total": self.total, "total_all": self.total_all,
                                "relaxed": self.relaxed, "page": self.page,
                                "results": [hit.to_json() for hit in self.results],
                                "facets": self.facets}
        if self.corrected is not None:
            data["corrected"] = self.corrected
        if self.notes:
            data["notes"] = self.notes
        return data


@dataclass(frozen=True)
class IndexStatus:
    """The state of a data directory's index; `exists` False means none has been built yet."""

    exists: bool
    expected_schema: int               # the schema version this Pressroom reads
    documents: int = 0
    last_commit: datetime.datetime | None = None
    bytes: int = 0
    schema_version: int | None = None
    folder: str | None = None
    problem: str | None = None

    @property
    def current(self) -> bool:
        """Tell whether the index exists and has the schema this Pressroom needs."""
        return self.exists and self.schema_version == self.expected_schema and not self.problem

    def to_json(self) -> dict[str, Any]:
        """Return the status as JSON-ready data."""
        return {"exists": self.exists, "documents": self.documents,
                "last_commit": self.last_commit.isoformat(timespec="seconds") if self.last_commit
                else None, "bytes": self.bytes, "schema_version": self.schema_version,
                "expected_schema": self.expected_schema, "current": self.current,
                "folder": self.folder, "problem": self.problem}


@dataclass
class IndexStats:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    rebuilt: bool = False

    def summary(self) -> str:
        """Say what the run did, with its figures, in one line."""
        if self.rebuilt:
            return f"index rebuilt: {self.added} releases in {self.seconds:.1f} s"
        return (f"index updated in {self.seconds:.1f} s: {self.added} added, {self.updated} "
                f"updated, {self.deleted} deleted, {self.unchanged} unchanged")


class SearchIndex(Protocol):
    """Read-only access to one index; safe to share between threads (and greenlets)."""

    path: Path

    def search(self, request: SearchRequest) -> SearchPage:
        """Run a search; raise QueryError with a clear message for a bad or unbounded query."""

    def facets(self, request: SearchRequest) -> dict[str, list[dict[str, Any]]]:
        """Count the facet values over a search's whole match set, without its results."""

    def more_like_this(self, release_id: str, limit: int = 5) -> list[Hit]:
        """Return releases similar to one."""

    def suggest(self, text: str) -> str | None:
        """Offer a spelling that the archive knows, for a plain query that found nothing."""

    def iter_hits(self, request: SearchRequest, batch: int = 500) -> Iterator[Hit]:
        """Yield every result of a search in rank order, without snippets."""

    def warm(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        """Load what the first searches would otherwise wait for."""

    def status(self) -> IndexStatus:
        """Describe the index: documents, last commit, size, schema version."""

    def doc_count(self) -> int:
        """Return the number of releases in the index."""

    def close(self) -> None:
        """Close the files kept open; a search after this opens and closes its own."""


class IndexWriter(Protocol):
    """The one writer of a data directory's index (a run lock keeps it one)."""

    def update(self) -> IndexStats:
        """Apply what changed in the archive since the last run; rebuild if there is no index."""

    def update_changes(self) -> IndexStats:
        """Apply only the catalogue rows written since the last update (a search node's
        follower); the full compare when there is no record of them."""

    def rebuild(self) -> IndexStats:
        """Build a fresh index from the catalogue beside the live one, then swap it in."""


def open_index(where: Settings | Path | str, vocab: Vocabulary | None = None) -> SearchIndex:
    """Open the index of a data directory (settings or a path), or an index folder, read-only.

    Raises IndexMissing or IndexVersionError (indexer.errors) when there is nothing to open.
    """
    from indexer.search import WhooshIndex

    return WhooshIndex(_data_dir(where), vocab)


def open_writer(where: Settings | Path | str, procs: int | None = None,
                memory_mb: int | None = None) -> IndexWriter:
    """Return the writer of a data directory's index (settings give procs and memory)."""
    from indexer.build import WhooshWriter

    index_settings = getattr(where, "index", None)
    procs = procs or (index_settings.procs if index_settings else 2)
    memory_mb = memory_mb or (index_settings.memory_mb if index_settings else 1024)
    return WhooshWriter(_data_dir(where), procs, memory_mb, _catalogue_url(where))


def follow_index(where: Settings | Path | str, interval: float = 5.0,
                 stop: threading.Event | None = None, procs: int | None = None) -> int:
    """Keep a data directory's index current from the catalogue's change sequence until `stop`
    is set (without one: until SIGTERM or SIGINT, each waiting for the update under way).

    Returns the number of updates run. A database outage is logged and waited out.
    """
    from indexer.follow import Follower, stop_on_signals

    follower = Follower(_data_dir(where), _catalogue_url(where), open_writer(where, procs),
                        interval, stop or threading.Event())
    if stop is not None:
        return follower.run()
    with stop_on_signals(follower.stop):
        return follower.run()


def build_index(releases: Iterable[Release], folder: Path, procs: int = 2,
                single_analyzer: bool = False, memory_mb: int = 1024) -> int:
    """Create an index in an empty folder from releases (benchmarks, baselines); return the count.

    `single_analyzer` builds the baseline: one plain analyzer for every language.
    """
    from indexer.build import build_from_releases

    return build_from_releases(releases, Path(folder), procs, single_analyzer, memory_mb)


def index_status(where: Settings | Path | str) -> IndexStatus:
    """Describe a data directory's index without opening it for searching or changing it."""
    from indexer.status import index_status as read_status

    return read_status(_data_dir(where))


@dataclass(frozen=True)
class IndexVersion:
    """Which commit of which index folder is live: it changes with every commit or rebuild."""

    token: str                         # the live folder and its newest table of contents
    changed: datetime.datetime         # when that commit was written (UTC)


TOC = re.compile(r"_\w+_(\d+)\.toc")


def index_version(where: Settings | Path | str) -> IndexVersion | None:
    """Name the live index commit from its files alone (a few stat calls; no engine, no reader).

    None when there is no index. Cheap enough for every request: the web app derives its
    ETag and Last-Modified from it.
    """
    from archive.layout import DataDir

    link = DataDir(_data_dir(where)).index
    folder = Path(os.path.realpath(link))
    try:
        names = [(int(m.group(1)), e.name, e.stat().st_mtime_ns) for e in os.scandir(folder)
                 if (m := TOC.fullmatch(e.name))]
    except OSError:                  # no index yet, or a rebuild swapped it meanwhile
        return None
    if not names:
        return None
    _, name, mtime_ns = max(names)
    return IndexVersion(f"{folder.name}/{name}/{mtime_ns}",
                        datetime.datetime.fromtimestamp(mtime_ns / 1e9, datetime.UTC))


def _catalogue_url(where: Settings | Path | str) -> str:
    from archive.layout import DataDir

    return (DataDir(Path(where)) if isinstance(where, (str, Path)) else DataDir.of(where)).catalogue_url


def _data_dir(where: Settings | Path | str) -> Path:
    return Path(where) if isinstance(where, (str, Path)) else Path(where.data_dir)


def _is_date(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True
