"""Whoosh's side of the comparisons: our resolved tree as a Whoosh query, and the parser ours replaced.

`whoosh_query()` is the public syntax as Pressroom read it before indexer/query.py, through
Whoosh's MultifieldParser and a rewrite of the field names (issue 11), kept as the reference
for the documented syntax: for those queries our parser and resolve.py must build the very
same query. One fix over the old code: its bound skipped the children of NOT, -word and +word
(they reached Whoosh unexpanded), which ours bounds like any other part.
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
from whoosh.qparser.syntax import AndGroup

from indexer import tree as q
from indexer.errors import QueryError
from indexer.interface import FACETS, LANGUAGES
from indexer.query import FIELD_NAMES, MAX_CLAUSES, MAX_EXPANSIONS, check_bounds
from indexer.resolve import CONCEPT_BOOST, text_fields

PREFIX = re.compile(r'("[^"]*")|\b([A-Za-z]+):')
DATE_RANGE = re.compile(r"\b(?:published|date):\[\s*(\d{4}-\d{2}-\d{2})?\s+TO\s+(\d{4}-\d{2}-\d{2})?\s*\]",
                        re.I)
TITLE_FIELD = re.compile(r'\btitle:("[^"]*"|[^\s()"]+)')


def to_whoosh(node: q.Node) -> Any:
    """Translate a resolved tree into the Whoosh query that means the same."""
    if isinstance(node, q.Term):
        return wq.Term(node.field, node.text, boost=node.boost)
    if isinstance(node, q.Facet):
        return wq.Term(node.field, node.value, boost=node.boost)
    if isinstance(node, q.Phrase):
        return wq.Phrase(node.field, list(node.words), boost=node.boost)
    if isinstance(node, q.And):
        return wq.And([to_whoosh(child) for child in node.children], boost=node.boost)
    if isinstance(node, q.Or):
        return wq.Or([to_whoosh(child) for child in node.children], boost=node.boost)
    if isinstance(node, q.Not):
        return wq.Not(to_whoosh(node.child))
    if isinstance(node, q.AndNot):
        return wq.AndNot(to_whoosh(node.positive), to_whoosh(node.negative))
    if isinstance(node, q.AndMaybe):
        return wq.AndMaybe(to_whoosh(node.required), to_whoosh(node.optional))
    if isinstance(node, q.DateRange):
        return wq.NumericRange("pubdate", node.start, node.end)
    if isinstance(node, q.Nothing):
        return wq.NullQuery
    raise TypeError(f"{node!r} is not resolved")


def whoosh_query(text: str, language: str | None, schema: Any, reader: Any) -> Any:
    """Parse the public syntax the way Pressroom did before it had its own parser."""
    check_bounds(text)
    parser = MultifieldParser(text_fields(language), schema, group=AndGroup, plugins=[
        WhitespacePlugin(), SingleQuotePlugin(), FieldsPlugin(), WildcardPlugin(), PhrasePlugin(),
        RangePlugin(), GroupPlugin(), OperatorsPlugin(), PlusMinusPlugin()])
    try:
        parsed = parser.parse(_rewrite(text))
    except Exception as exc:  # whoosh raises assorted errors for malformed input
        raise QueryError(f"the query could not be read: {exc}") from None
    parsed = _bound(parsed, reader)
    leaves = sum(1 for _ in parsed.leaves())
    if leaves > MAX_CLAUSES * len(text_fields(language)):
        raise QueryError(f"the query expands to {leaves} terms; simplify it")
    return parsed


def whoosh_plain(units: list[tuple[str, list[tuple[str, str]]]], language: str | None,
                 schema: Any, reader: Any, any_word: bool = False) -> Any:
    """Build the query of plain words the way Pressroom did before (Whoosh's default parser)."""
    check_bounds(" ".join(unit for unit, _ in units))
    parser = MultifieldParser(text_fields(language), schema, group=AndGroup)
    clauses = []
    for unit, named in units:
        words = parser.parse(f'"{unit}"' if " " in unit else unit)
        concepts = [wq.Term(facet, value, boost=CONCEPT_BOOST) for facet, value in named]
        clauses.append(wq.Or([words, *concepts]) if concepts else words)
    return _bound(wq.Or(clauses) if any_word else wq.And(clauses), reader)


def _rewrite(text: str) -> str:
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
        if name in FIELD_NAMES and name != "title":
            return f"{FIELD_NAMES[name]}:"
        if name.startswith(("title_", "body_", "pubdate")) or name in FACETS:
            return match.group(0)
        return f"{match.group(2)} "
    return PREFIX.sub(field, text)


def _bound(node: Any, reader: Any) -> Any:
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
    if isinstance(node, (wq.AndNot, wq.AndMaybe)):
        node.a, node.b = node.subqueries
    if isinstance(node, wq.Not):
        node.query = _bound(node.query, reader)
    return node
