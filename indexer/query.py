"""The public query language, bounded before it runs.

Words, "phrases", AND/OR/NOT and -word, parentheses, field prefixes for the facets
(country:LY theme:smuggling project:START language:fr year:2013 site:iom) and title:, date
ranges (published:[2011-01-01 TO 2015-12-31]), and word* with 3+ letters before the star.
Whatever would make a query slow is refused with a message saying what to change.
"""

from __future__ import annotations

import re
from typing import Any

from whoosh import query as wq
from whoosh.qparser import (
    FieldsPlugin,
    GroupPlugin,
    MultifieldParser,
    OperatorsPlugin,
    PhrasePlugin,
    PlusMinusPlugin,
    RangePlugin,
    SingleQuotePlugin,
    WhitespacePlugin,
    WildcardPlugin,
)
from whoosh.qparser.syntax import AndGroup, OrGroup

from indexer.analysis import LANGUAGES
from indexer.errors import QueryError
from indexer.schema import FACETS, text_fields

MAX_LENGTH = 500
MAX_CLAUSES = 64
MAX_DEPTH = 8
MAX_EXPANSIONS = 100
MIN_PREFIX = 3
CONCEPT_BOOST = 1.5
FIELD_NAMES = {"country": "country", "countries": "country", "theme": "theme", "themes": "theme",
               "project": "project", "language": "language", "lang": "language", "year": "year",
               "site": "site"}
PREFIX = re.compile(r'("[^"]*")|\b([A-Za-z]+):')
DATE_RANGE = re.compile(r"\b(?:published|date):\[\s*(\d{4}-\d{2}-\d{2})?\s+TO\s+(\d{4}-\d{2}-\d{2})?\s*\]",
                        re.I)
TITLE_FIELD = re.compile(r'\btitle:("[^"]*"|[^\s()"]+)')


def check_bounds(text: str) -> None:
    """Refuse queries that are too long, too deep, or that would expand without limit."""
    if len(text) > MAX_LENGTH:
        raise QueryError(f"the query is {len(text)} characters long; the limit is {MAX_LENGTH}")
    depth = deepest = 0
    for char in text:
        depth += char == "("
        depth -= char == ")"
        deepest = max(deepest, depth)
        if depth < 0:
            raise QueryError("a closing parenthesis has no opening one")
    if deepest > MAX_DEPTH:
        raise QueryError(f"parentheses nest {deepest} deep; the limit is {MAX_DEPTH}")
    outside_phrases = re.sub(r'"[^"]*"', " ", text)
    if re.search(r'(^|[\s(:"\-])[*?]', outside_phrases):
        raise QueryError("a word cannot start with * or ?: put at least 3 letters before the *")
    if "?" in re.sub(r"\?\s*$", "", outside_phrases):
        raise QueryError("? is not a wildcard here: use word* for words that start alike")
    for match in re.finditer(r"([^\W_]*)\*", outside_phrases):
        if len(match.group(1)) < MIN_PREFIX:
            raise QueryError(f"{match.group(0)!r}: put at least {MIN_PREFIX} letters before the *")
    clauses = len(re.findall(r'"[^"]*"|[^\s()"]+', text))
    if clauses > MAX_CLAUSES:
        raise QueryError(f"the query has {clauses} words and operators; the limit is {MAX_CLAUSES}")


def parse_query(text: str, language: str | None, schema: Any, reader: Any,
                any_word: bool = False) -> Any:
    """Parse a public query into a bounded Whoosh query over one language's fields or all."""
    check_bounds(text)
    prepared = _rewrite(text)
    group = OrGroup.factory(0.9) if any_word else AndGroup
    parser = MultifieldParser(text_fields(language), schema, group=group, plugins=[
        WhitespacePlugin(), SingleQuotePlugin(), FieldsPlugin(), WildcardPlugin(), PhrasePlugin(),
        RangePlugin(), GroupPlugin(), OperatorsPlugin(), PlusMinusPlugin()])
    try:
        parsed = parser.parse(prepared)
    except Exception as exc:  # whoosh raises assorted errors for malformed input
        raise QueryError(f"the query could not be read: {exc}") from None
    parsed = _bound(parsed, reader)
    leaves = sum(1 for _ in parsed.leaves())
    if leaves > MAX_CLAUSES * len(text_fields(language)):
        raise QueryError(f"the query expands to {leaves} terms; simplify it")
    return parsed


def plain_query(units: list[tuple[str, list[tuple[str, str]]]], language: str | None, schema: Any,
                reader: Any, any_word: bool = False) -> Any:
    """Build the query of plain words: each unit is its words, or a facet value it names."""
    check_bounds(" ".join(unit for unit, _ in units))
    parser = MultifieldParser(text_fields(language), schema, group=AndGroup)
    clauses = []
    for unit, named in units:
        text = f'"{unit}"' if " " in unit else unit
        words = parser.parse(text)
        concepts = [wq.Term(facet, value, boost=CONCEPT_BOOST) for facet, value in named]
        clauses.append(wq.Or([words, *concepts]) if concepts else words)
    combined = wq.Or(clauses, scale=0.9) if any_word else wq.And(clauses)
    return _bound(combined, reader)


def _rewrite(text: str) -> str:
    """Map the public field names to the index's: title: to every title field, dates to pubdate."""
    def date_range(match: re.Match[str]) -> str:
        start = (match.group(1) or "1900-01-01").replace("-", "")
        end = (match.group(2) or "2999-12-31").replace("-", "")
        return f"pubdate:[{start} TO {end}]"

    text = DATE_RANGE.sub(date_range, text)
    text = TITLE_FIELD.sub(lambda m: "(" + " OR ".join(f"title_{lang}:{m.group(1)}"
                                                      for lang in LANGUAGES) + ")", text)

    def field(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(1)
        name = match.group(2).lower()
        if name in FIELD_NAMES:
            return f"{FIELD_NAMES[name]}:"
        if name.startswith(("title_", "body_", "pubdate")) or name in FACETS:
            return match.group(0)
        return f"{match.group(2)} "  # not a field: keep the word, drop the colon
    return PREFIX.sub(field, text)


def _bound(node: Any, reader: Any) -> Any:
    """Replace prefix queries by at most MAX_EXPANSIONS terms; refuse wider ones."""
    if isinstance(node, (wq.Prefix, wq.Wildcard)):
        prefix = node.text.rstrip("*")
        terms = []
        for term in reader.expand_prefix(node.fieldname, prefix):
            terms.append(term.decode("utf-8") if isinstance(term, bytes) else term)
            if len(terms) > MAX_EXPANSIONS:
                raise QueryError(f"too many words start with {prefix!r}: add letters before the *")
        return wq.Or([wq.Term(node.fieldname, t) for t in terms]) if terms else wq.NullQuery
    if isinstance(node, wq.Every):
        raise QueryError("a query cannot match every document: use filters, or leave it empty")
    children = getattr(node, "subqueries", None)
    if children is not None:
        node.subqueries = [_bound(child, reader) for child in children]
    child = getattr(node, "child", None)
    if child is not None:
        node.child = _bound(child, reader)
    return node


def plain_words(text: str) -> list[str]:
    """Return the words of a query that uses no operators, phrases or fields (else [])."""
    if re.search(r'["():*]|\b(AND|OR|NOT)\b|(^|\s)[-+]', text):
        return []
    return text.split()
