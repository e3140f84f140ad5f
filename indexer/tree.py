"""The query tree: what a query means, whatever engine answers it.

parse() (query.py) gives a tree of the public syntax, with words as typed and fields None
(every text field), "title" or a facet; resolve.py gives a tree of the index's own terms, one
analysed token per leaf and index fields (title_en, body_fr, country); evaluate.py answers it.
Nodes are frozen dataclasses: equal trees compare and hash equal (normalising drops duplicates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

OPEN_START, OPEN_END = 19000101, 29991231     # the dates an open range stands for


@dataclass(frozen=True)
class Term:
    """A word: as typed when parsed; one analysed token of one index field when resolved."""

    text: str
    field: str | None = None
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    """Words that must follow one another (parsed: as typed; resolved: analysed tokens)."""

    words: tuple[str, ...]
    field: str | None = None
    boost: float = 1.0


@dataclass(frozen=True)
class Prefix:
    """Every word that starts with `text` (resolve.expand() replaces it by those words)."""

    text: str
    field: str | None = None
    boost: float = 1.0


@dataclass(frozen=True)
class Facet:
    """A facet value (a field filter): country LY; scored as `boost` where it matches."""

    field: str
    value: str
    boost: float = 1.0


@dataclass(frozen=True)
class DateRange:
    """Releases published from `start` to `end` inclusive (yyyymmdd); does not score."""

    start: int = OPEN_START
    end: int = OPEN_END
    boost: float = 1.0


@dataclass(frozen=True)
class And:
    """Every child matches; the scores add up, times the boost."""

    children: tuple[Node, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Or:
    """Any child matches; the matching children's scores add up, times the boost."""

    children: tuple[Node, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Not:
    """Every document the child does not match; does not score."""

    child: Node
    boost: float = 1.0


@dataclass(frozen=True)
class AndNot:
    """What `positive` matches unless `negative` does (-word); scored by `positive`."""

    positive: Node
    negative: Node
    boost: float = 1.0


@dataclass(frozen=True)
class AndMaybe:
    """What `required` matches (+word); `optional` adds to the score where it matches too."""

    required: Node
    optional: Node
    boost: float = 1.0


@dataclass(frozen=True)
class Nothing:
    """Matches no document (a word made only of stop words, a prefix no word has)."""

    boost: float = 1.0


NOTHING = Nothing()
Node: TypeAlias = Term | Phrase | Prefix | Facet | DateRange | And | Or | Not | AndNot | AndMaybe | Nothing
