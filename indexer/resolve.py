"""From a parsed query to the index's own terms: fields chosen, words analysed, prefixes expanded.

A word searches the title and body fields of the language asked, or of every language, each
field analysing it its own way (a word may become several tokens, which must all be in that
field, or none, a stop word); title: searches the titles of every language. The tree is then
normalised as Whoosh normalises its queries (nested And and Or flattened with their boosts,
duplicates and empty parts dropped, one-word phrases made terms), so that scores add up as
before, and each prefix gives way to the words that start so, at most MAX_EXPANSIONS of them.
The index is reached through a Lexicon: analysing a field's text and listing its words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Protocol

from indexer.errors import QueryError
from indexer.interface import FACETS, LANGUAGES
from indexer.query import MAX_CLAUSES, MAX_EXPANSIONS, check_bounds, parse
from indexer.tree import (
    NOTHING,
    And,
    AndMaybe,
    AndNot,
    Facet,
    Node,
    Not,
    Nothing,
    Or,
    Phrase,
    Prefix,
    Term,
)

CONCEPT_BOOST = 1.5        # a facet value that a query word names ranks like 1.5 words
TITLE_FIELDS = tuple(f"title_{language}" for language in LANGUAGES)


FacetValue = Callable[[str, str], str]     # (facet, value as typed) -> the index's value


class Lexicon(Protocol):
    """What resolving needs of an index: its analysers and its words."""

    def analyze(self, field: str, text: str, whole: bool = False) -> list[str]:
        """Return the tokens of `text` in a field (`whole`: the text as one token, stop words kept)."""

    def expand(self, field: str, prefix: str) -> Iterator[str]:
        """Yield the field's words that start with `prefix`, in order."""


def text_fields(language: str | None = None) -> list[str]:
    """Return the title and body fields of one language, or of all of them.

    >>> text_fields("fr")
    ['title_fr', 'body_fr']
    """
    languages = [language] if language in LANGUAGES else list(LANGUAGES)
    return [f"{kind}_{lang}" for lang in languages for kind in ("title", "body")]


def resolve_query(text: str, language: str | None, lexicon: Lexicon,
                  facet_value: FacetValue | None = None) -> Node:
    """Parse a public query into a bounded tree of the index's terms (one language's or all).

    `facet_value` reads what a facet field names (country:Libye) as the index's value.
    """
    check_bounds(text)
    node = expand(normalize(bind(parse(text), language, lexicon, facet_value)), lexicon)
    leaves = count_leaves(node)
    if leaves > MAX_CLAUSES * len(text_fields(language)):
        raise QueryError(f"the query expands to {leaves} terms; simplify it")
    return node


def resolve_plain(units: list[tuple[str, list[tuple[str, str]]]], language: str | None,
                  lexicon: Lexicon, any_word: bool = False) -> Node:
    """Build the query of plain words: each unit is its words, or a facet value it names.

    All units must match (or, with `any_word`, any of them); a unit of several words is a
    phrase. The combination is not normalised: a unit of stop words alone matches nothing.
    """
    check_bounds(" ".join(unit for unit, _ in units))
    clauses: list[Node] = []
    for unit, named in units:
        words = normalize(bind(parse(f'"{unit}"' if " " in unit else unit), language, lexicon))
        concepts = [Facet(facet, value, CONCEPT_BOOST) for facet, value in named]
        clauses.append(Or((words, *concepts)) if concepts else words)
    combined: Node = Or(tuple(clauses)) if any_word else And(tuple(clauses))
    return expand(combined, lexicon)


def bind(node: Node, language: str | None, lexicon: Lexicon,
         facet_value: FacetValue | None = None) -> Node:
    """Turn the words of a parsed tree into each searched field's analysed tokens."""
    if isinstance(node, (Term, Phrase, Prefix)):
        fields = TITLE_FIELDS if node.field == "title" else text_fields(language)
        found = (_in_field(node, field, lexicon) for field in fields)
        return Or(tuple(part for part in found if part is not None), node.boost)
    if isinstance(node, Facet) and facet_value is not None:
        return Facet(node.field, facet_value(node.field, node.value), node.boost)
    if isinstance(node, Facet):
        values = lexicon.analyze(node.field, node.value)
        if len(values) == 1:
            return Facet(node.field, values[0], node.boost)
        return And(tuple(Facet(node.field, value, node.boost) for value in values))
    if isinstance(node, (And, Or)):
        return type(node)(tuple(bind(child, language, lexicon, facet_value)
                                for child in node.children), node.boost)
    if isinstance(node, Not):
        return Not(bind(node.child, language, lexicon, facet_value), node.boost)
    if isinstance(node, AndNot):
        return AndNot(bind(node.positive, language, lexicon, facet_value),
                      bind(node.negative, language, lexicon, facet_value))
    if isinstance(node, AndMaybe):
        return AndMaybe(bind(node.required, language, lexicon, facet_value),
                        bind(node.optional, language, lexicon, facet_value))
    return node


def _in_field(node: Term | Phrase | Prefix, field: str, lexicon: Lexicon) -> Node | None:
    """One word, phrase or prefix in one field (None when the field's analyser drops it)."""
    if isinstance(node, Phrase):
        return Phrase(tuple(lexicon.analyze(field, " ".join(node.words))), field)
    if isinstance(node, Prefix):
        whole = lexicon.analyze(field, node.text, whole=True)
        return Prefix(whole[0], field) if whole else None
    tokens = lexicon.analyze(field, node.text)
    if not tokens:
        return None
    if len(tokens) == 1:
        return Term(tokens[0], field)
    return And(tuple(Term(token, field) for token in tokens))


def normalize(node: Node) -> Node:
    """Simplify a tree as Whoosh's normalize() does, so that scores add up in the same order.

    >>> from indexer.query import render
    >>> from indexer.tree import NOTHING, And, Or, Term
    >>> render(normalize(And((Or((Term("a"), Term("b"))), Or((Term("c"),)), Term("c"), NOTHING))))
    '((a OR b) c)'
    """
    if isinstance(node, Phrase):
        if not node.words:
            return NOTHING
        return Term(node.words[0], node.field) if len(node.words) == 1 else node
    if isinstance(node, (And, Or)):
        return _normalize_group(node)
    if isinstance(node, Not):
        child = normalize(node.child)
        return NOTHING if isinstance(child, Nothing) else Not(child, node.boost)
    if isinstance(node, (AndNot, AndMaybe)):
        first, second = (normalize(part) for part in children(node))
        if isinstance(first, Nothing) or isinstance(second, Nothing):
            return first
        return type(node)(first, second)
    return node


def _normalize_group(node: And | Or) -> Node:
    kind = type(node)
    children: list[Node] = []
    for child in map(normalize, node.children):
        if type(child) is kind:
            children += [replace(c, boost=c.boost * child.boost) for c in child.children]
        else:
            children.append(child)
    kept = [child for child in dict.fromkeys(children) if not isinstance(child, Nothing)]
    if not kept:
        return NOTHING
    if len(kept) == 1:
        only = kept[0]
        if node.boost == 1.0 and only.boost == 1.0:
            return only
        return replace(only, boost=only.boost * node.boost)
    return kind(tuple(kept), node.boost)


def expand(node: Node, lexicon: Lexicon) -> Node:
    """Replace each prefix by the words that start so; refuse one that has too many."""
    if isinstance(node, Prefix):
        assert node.field is not None, "bind() gives every prefix its field"
        words: list[str] = []
        for word in lexicon.expand(node.field, node.text):
            words.append(word)
            if len(words) > MAX_EXPANSIONS:
                raise QueryError(f"too many words start with {node.text!r}: add letters before the *")
        if not words:
            return NOTHING
        if node.field in FACETS:
            return Or(tuple(Facet(node.field, word) for word in words))
        return Or(tuple(Term(word, node.field) for word in words))
    if isinstance(node, (And, Or)):
        return type(node)(tuple(expand(child, lexicon) for child in node.children), node.boost)
    if isinstance(node, Not):
        return Not(expand(node.child, lexicon), node.boost)
    if isinstance(node, AndNot):
        return AndNot(expand(node.positive, lexicon), expand(node.negative, lexicon), node.boost)
    if isinstance(node, AndMaybe):
        return AndMaybe(expand(node.required, lexicon), expand(node.optional, lexicon), node.boost)
    return node


def children(node: Node) -> tuple[Node, ...]:
    """Return the nodes right under a node (none under a leaf)."""
    if isinstance(node, (And, Or)):
        return node.children
    if isinstance(node, Not):
        return (node.child,)
    if isinstance(node, AndNot):
        return node.positive, node.negative
    if isinstance(node, AndMaybe):
        return node.required, node.optional
    return ()


def count_leaves(node: Node) -> int:
    """Count the leaves of a tree (terms, phrases, facet values, ranges, empty parts)."""
    below = children(node)
    return sum(map(count_leaves, below)) if below else 1


def iter_terms(node: Node) -> Iterator[tuple[str, str]]:
    """Yield the (field, token) pairs of a resolved tree's words, phrases' words and facets."""
    if isinstance(node, Term) and node.field:
        yield node.field, node.text
    elif isinstance(node, Phrase) and node.field:
        for word in node.words:
            yield node.field, word
    elif isinstance(node, Facet):
        yield node.field, node.value
    for child in children(node):
        yield from iter_terms(child)

