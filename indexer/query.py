"""The public query language, parsed into our own tree (indexer/tree.py) and bounded.

    migrants border             both words, in a title or body (every language, or the one asked)
    "coast guards rescued"      the exact phrase
    migrants OR refugees        either; AND and NOT likewise, in capitals. NOT binds first,
                                then AND, then OR, then words side by side (which must all match)
    -word  -"phrase"  -(a b)    without it; +word requires it, and the other words then only rank
    (Libya OR Niger) returnees  parentheses group, at most 8 deep
    country:LY  countries:LY  theme:smuggling  themes:...  project:START  language:fr  lang:fr
    year:2013  site:iom         a facet value; country:(LY OR NE) for one of several
    title:Zuwara  title:"..."  title:(a OR b)       in titles only
    published:[2011-01-01 TO 2015-12-31]  date:[2011-01-01 TO]   dates, either end open
    migra*                      words that start so, with 3+ letters before the *
    migrants^2                  weigh a word (a phrase, a group) more

Words are analysed for each language searched: case, accents and elision folded, stop words
dropped, stems taken. A - or + counts only at the start of a word ("Guinea-Bissau" is one
word); an unknown name before a colon is a word (foo:bar is foo bar). Whatever would make a
query slow is refused with a message saying what to change: see check_bounds() and
indexer/resolve.py, which turns this tree into the index's terms.

parse() gives a tree whose fields are None (every text field), "title" or a facet; render()
writes a tree back in this syntax.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeAlias

from indexer.errors import QueryError
from indexer.interface import FACET_DEFINITIONS
from indexer.tree import (
    OPEN_END,
    OPEN_START,
    And,
    AndMaybe,
    AndNot,
    DateRange,
    Facet,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
)

MAX_LENGTH = 500
MAX_CLAUSES = 64
MAX_DEPTH = 8
MAX_EXPANSIONS = 100
MIN_PREFIX = 3
FIELD_NAMES = {name: facet.name for facet in FACET_DEFINITIONS
               for name in (facet.name, *facet.aliases)}
FIELD_NAMES["title"] = "title"
OPERATORS = ("AND", "OR", "NOT")


# -- bounds ---------------------------------------------------------------------------------------
def check_bounds(text: str) -> None:
    """Refuse queries that are too long, too deep, or that would expand without limit."""
    if len(text) > MAX_LENGTH:
        raise QueryError(f"the query is {len(text)} characters long; the limit is {MAX_LENGTH}")
    outside_phrases = re.sub(r'"[^"]*"', " ", text)
    depth = deepest = 0
    for char in outside_phrases:
        depth += char == "("
        depth -= char == ")"
        deepest = max(deepest, depth)
        if depth < 0:
            raise QueryError("a closing parenthesis has no opening one")
    if deepest > MAX_DEPTH:
        raise QueryError(f"parentheses nest {deepest} deep; the limit is {MAX_DEPTH}")
    if depth > 0:
        raise QueryError("a parenthesis is not closed: add ) where the group ends, or remove the (")
    if re.search(r'(^|[\s(:"\-])[*?]', outside_phrases):
        raise QueryError("a word cannot start with * or ?: put at least 3 letters before the *")
    if "?" in re.sub(r"\?\s*$", "", outside_phrases):
        raise QueryError("? is not a wildcard here: use word* for words that start alike")
    for match in re.finditer(r"([^\W_]*)\*", outside_phrases):
        if len(match.group(1)) < MIN_PREFIX:
            raise QueryError(f"{_cut(match.group(0))!r}: put at least {MIN_PREFIX} letters before the *")
    clauses = len(re.findall(r'"[^"]*"|[^\s()"]+', text))
    if clauses > MAX_CLAUSES:
        raise QueryError(f"the query has {clauses} words and operators; the limit is {MAX_CLAUSES}")


def plain_words(text: str) -> list[str]:
    """Return the words of a query that uses no operators, phrases or fields (else [])."""
    if re.search(r'["():*]|\b(AND|OR|NOT)\b|(^|\s)[-+]', text):
        return []
    return text.split()


# -- parsing --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Close:
    """A closing parenthesis, with the ^boost that follows it."""

    boost: float


@dataclass(frozen=True)
class _FieldOpen:
    """A field name whose value is the group that follows (country:(LY OR NE))."""

    field: str


@dataclass
class _Group:
    """A parenthesised part while parsing: its items, the field it sets, its boost."""

    items: list[Item]
    field: str | None = None
    boost: float = 1.0


Token: TypeAlias = Node | str | _Close | _FieldOpen   # str: "(", AND, OR, NOT, required, banned
Item: TypeAlias = Node | str | _Group

_SIGNS = {"+": "required", "-": "banned"}
_WORD_END = re.compile(r'[\s()"]')
_BOOST = re.compile(r"\^(\d+(?:\.\d+)?|\.\d+)$")
_FIELD = re.compile(r"([A-Za-z]+):")
_RANGE_START = re.compile(r"(published|date):\[", re.I)
_RANGE = re.compile(r"\s*(?:(\S+)\s+)?TO(?:\s+(\S+))?\s*", re.I)
_SLOP = re.compile(r"~\d*")


def parse(text: str) -> Node:
    """Parse the public syntax into a tree (fields None, "title" or facets; words as typed).

    Odd input is passed over (a stray quote, operator or parenthesis); QueryError only for
    what cannot be honoured: a date range that cannot be read, proximity (~N), a * inside a
    word. check_bounds() comes first, for length, depth and prefixes.

    >>> render(parse('Libya migrants -country:LY'))
    '((Libya migrants) -country:LY)'
    """
    root = _Group([])
    stack = [root]
    field: str | None = None        # a field prefix waiting for its group
    for token in _scan(text):
        if token == "(":
            group = _Group([], field)
            stack[-1].items.append(group)
            stack.append(group)
            field = None
        elif isinstance(token, _Close):
            if len(stack) > 1:
                stack.pop().boost = token.boost
        elif isinstance(token, _FieldOpen):
            field = token.field
        else:
            stack[-1].items.append(token)
    return _sequence(root, None)


def _scan(text: str) -> list[Token]:
    """Split the text into parentheses, field prefixes, operators, signs and leaves."""
    tokens: list[Token] = []
    at = 0
    while at < len(text):
        char = text[at]
        if char.isspace():
            at += 1
        elif char == "(":
            tokens.append("(")
            at += 1
        elif char == ")":
            boost, at = _boost_after(text, at + 1)
            tokens.append(_Close(boost))
        elif char == '"':
            at = _scan_phrase(text, at, None, tokens)
        else:
            at = _scan_word(text, at, tokens)
    return tokens


def _scan_word(text: str, at: int, tokens: list[Token]) -> int:
    end = _word_end(text, at)
    chunk = text[at:end]
    if chunk in OPERATORS:
        tokens.append(chunk)
        return end
    signs = len(chunk) - len(chunk.lstrip("+-"))
    if signs:
        at += signs
        if at == end and (end == len(text) or text[end] not in '("'):
            return end              # a lone dash is punctuation ("Libya - migrants")
        tokens.append(_SIGNS[chunk[signs - 1]])
        if at == end:
            return end
    ranged = _RANGE_START.match(text, at)
    if ranged:
        return _scan_range(text, at, ranged, tokens)
    named = _FIELD.match(text, at, end)
    if named:
        name = named.group(1).lower()
        if name not in FIELD_NAMES:
            tokens.append(Term(named.group(1)))     # not a field: the name is a word
            return named.end()
        value, field = named.end(), FIELD_NAMES[name]
        if value < end:
            tokens.append(_word(text[value:end], field))
            return end
        if end < len(text) and text[end] == "(":
            tokens.append(_FieldOpen(field))
            return end
        if end < len(text) and text[end] == '"':
            return _scan_phrase(text, end, field, tokens)
    tokens.append(_word(text[at:end], None))
    return end


def _word_end(text: str, at: int) -> int:
    found = _WORD_END.search(text, at)
    return found.start() if found else len(text)


def _scan_phrase(text: str, at: int, field: str | None, tokens: list[Token]) -> int:
    close = text.find('"', at + 1)
    if close < 0:
        return at + 1               # an unmatched quote is passed over
    words = tuple(text[at + 1:close].split())
    after = close + 1
    slop = _SLOP.match(text, after)
    if slop:
        raise QueryError(f'"{" ".join(words)}"{slop.group(0)}: proximity (~) is not supported; '
                         "search the exact phrase, or the words")
    boost, after = _boost_after(text, after)
    if field in (None, "title"):
        tokens.append(Phrase(words, field, boost))
    else:
        tokens.append(Facet(str(field), " ".join(words), boost))
    return after


def _scan_range(text: str, at: int, start: re.Match[str], tokens: list[Token]) -> int:
    name = start.group(1).lower()
    close = text.find("]", start.end())
    example = f"{name}:[2011-01-01 TO 2015-12-31]"
    if close < 0:
        raise QueryError(f"{name}:[ has no closing ]: write {example}")
    inside = _RANGE.fullmatch(text, start.end(), close)
    if not inside:
        raise QueryError(f"{_cut(text[at:close + 1])!r} is not a date range: write {example}")
    low = _day(inside.group(1), name, example, OPEN_START)
    high = _day(inside.group(2), name, example, OPEN_END)
    if low > high:
        raise QueryError(f"{_cut(text[at:close + 1])!r}: the first date is after the second; "
                         f"write {example}")
    tokens.append(DateRange(low, high))
    return close + 1


def _day(value: str | None, name: str, example: str, default: int) -> int:
    if value is None:
        return default
    try:
        datetime.date.fromisoformat(value)
        valid = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
    except ValueError:
        valid = False
    if not valid:
        raise QueryError(f"{name}:[...] takes dates as YYYY-MM-DD, not {_cut(value)!r}: write {example}")
    return int(value.replace("-", ""))


def _boost_after(text: str, at: int) -> tuple[float, int]:
    """Read a ^number right after a phrase or a group."""
    if at < len(text) and text[at] == "^":
        end = _word_end(text, at)
        found = _BOOST.fullmatch(text, at, end)
        if found:
            return float(found.group(1)), end
    return 1.0, at


def _cut(text: str, limit: int = 40) -> str:
    """Shorten user text quoted in a message, so that a message stays one short line.

    >>> _cut("migrants")
    'migrants'
    >>> len(_cut("0" * 500))
    41
    """
    return text if len(text) <= limit else text[:limit] + "…"


def _word(chunk: str, field: str | None) -> Node:
    """A word, prefix or facet value, with its ^boost."""
    boost = 1.0
    weighed = _BOOST.search(chunk)
    if weighed and weighed.start() > 0:
        boost, chunk = float(weighed.group(1)), chunk[:weighed.start()]
    if "*" in chunk:
        if chunk.index("*") != len(chunk) - 1:
            raise QueryError(f"{_cut(chunk)!r}: * can only end a word, as in "
                             f"{_cut(chunk.split('*')[0])}*")
        return Prefix(chunk[:-1], field, boost)
    if field in (None, "title"):
        return Term(chunk, field, boost)
    return Facet(str(field), chunk, boost)


def _sequence(group: _Group, field: str | None) -> Node:
    """Turn a group's items into a node: signs first, then NOT, AND and OR, the rest all of."""
    field = group.field or field
    parts: dict[str, list[Node | str]] = {"required": [], "optional": [], "banned": []}
    target = "optional"
    for item in group.items:
        if item in ("required", "banned"):
            target = str(item)
            continue
        if isinstance(item, _Group):
            item = _sequence(item, field)
        elif field and not isinstance(item, str):
            item = _with_field(item, field)
        parts[target].append(item)
        target = "optional"
    node: Node = _operators(parts["optional"], group.boost)
    if parts["required"]:
        node = AndMaybe(_operators(parts["required"], 1.0), node)
    if parts["banned"]:
        node = AndNot(node, Or(tuple(_operators([item], 1.0) for item in parts["banned"])))
    return node


def _with_field(node: Node, field: str) -> Node:
    """Give a leaf without a field of its own the field of the group around it."""
    if isinstance(node, (Term, Phrase, Prefix)) and node.field is None:
        if field == "title" or isinstance(node, Prefix):
            return replace(node, field=field)
        text = node.text if isinstance(node, Term) else " ".join(node.words)
        return Facet(field, text, node.boost)
    return node


def _operators(items: list[Node | str], boost: float) -> Node:
    """NOT binds first, then AND, then OR; what is left side by side must all match.

    An operator with nothing on one side is passed over.
    """
    found: list[Node] = []
    at = 0
    while at < len(items):
        node, at = _any_of(items, at)
        if node is None:
            at += 1
        else:
            found.append(node)
    return And(tuple(found), boost)


def _any_of(items: list[Node | str], at: int) -> tuple[Node | None, int]:
    return _joined(items, at, "OR", _all_of, Or)


def _all_of(items: list[Node | str], at: int) -> tuple[Node | None, int]:
    return _joined(items, at, "AND", _negated, And)


def _joined(items: list[Node | str], at: int, operator: str,
            part: Callable[[list[Node | str], int], tuple[Node | None, int]],
            join: Callable[[tuple[Node, ...]], Node]) -> tuple[Node | None, int]:
    """Read parts joined by an operator (an operator with nothing after it is skipped)."""
    first, at = part(items, at)
    if first is None:
        return None, at
    parts = [first]
    while at < len(items) and items[at] == operator:
        more, after = part(items, at + 1)
        if more is None:
            at += 1
            continue
        parts.append(more)
        at = after
    return (join(tuple(parts)) if len(parts) > 1 else first), at


def _negated(items: list[Node | str], at: int) -> tuple[Node | None, int]:
    if at >= len(items):
        return None, at
    item = items[at]
    if item == "NOT":
        inner, after = _negated(items, at + 1)
        return (Not(inner), after) if inner is not None else (None, at + 1)
    if isinstance(item, str):
        return None, at
    return item, at + 1


# -- rendering ------------------------------------------------------------------------------------
def render(node: Node) -> str:
    """Write a tree back in the public syntax (parse(render(tree)) means the same).

    >>> render(Or((Term("Libya"), Facet("country", "LY", 2.0))))
    '(Libya OR country:LY^2)'
    """
    if isinstance(node, (Term, Prefix)):
        text = node.text + ("*" if isinstance(node, Prefix) else "")
        return _fielded(node.field, text, node.boost)
    if isinstance(node, Phrase):
        return _fielded(node.field, '"' + " ".join(node.words) + '"', node.boost)
    if isinstance(node, Facet):
        value = f'"{node.value}"' if _WORD_END.search(node.value) else node.value
        return _fielded(node.field, value, node.boost)
    if isinstance(node, DateRange):
        low = "" if node.start == OPEN_START else _iso(node.start) + " "
        high = "" if node.end == OPEN_END else " " + _iso(node.end)
        return f"published:[{low}TO{high}]"
    if isinstance(node, (And, Or)) and len(node.children) == 1 and node.boost == 1.0:
        return render(node.children[0])
    if isinstance(node, (And, Or)):
        joint = " OR " if isinstance(node, Or) else " "
        return _boosted("(" + joint.join(render(c) for c in node.children) + ")", node.boost)
    if isinstance(node, Not):
        return "NOT " + render(node.child)
    if isinstance(node, AndNot):
        return f"({render(node.positive)} -{_atom(node.negative)})"
    if isinstance(node, AndMaybe):
        return f"(+{_atom(node.required)} {render(node.optional)})"
    return "()"


def _atom(node: Node) -> str:
    """A node as one unit, for a sign to apply to (-NOT a would be the word NOT)."""
    text = render(node)
    return f"({text})" if text.startswith("NOT ") else text


def _fielded(field: str | None, text: str, boost: float) -> str:
    return _boosted(f"{field}:{text}" if field else text, boost)


def _boosted(text: str, boost: float) -> str:
    return text if boost == 1.0 else f"{text}^{boost:g}"


def _iso(day: int) -> str:
    text = f"{day:08d}"
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"
