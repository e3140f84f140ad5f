"""The public query language (indexer/query.py) and its resolution (indexer/resolve.py).

The tree each construct parses into, the bounds and the messages for bad input, and three
properties: any text parses into a tree or fails with a QueryError that says something; a
tree written back in the syntax means the same once parsed again; and every query of the
documented syntax resolves into the very query that Whoosh's parser built before ours
(tests/whoosh_oracle.py), plain words included. Last, what the old parser got wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.build import rebuild
from indexer.errors import QueryError
from indexer.interface import FACETS, SearchRequest, open_index
from indexer.query import check_bounds, parse, plain_words, render
from indexer.resolve import children, normalize, resolve_plain, resolve_query
from indexer.tree import (
    NOTHING,
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
from tests.catalogue_rows import catalogue_url
from tests.test_index import make_release, store

FUZZ = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
ORACLE = settings(deadline=None, max_examples=150,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def simple(node: Node) -> Node:
    """The parsed tree with one-child groups and nested groups of a kind folded away."""
    return normalize(node)


def a(text: str) -> Term:
    return Term(text)


# -- the tree of each construct -------------------------------------------------------------------
@pytest.mark.parametrize(("text", "tree"), [
    ("migrants border", And((a("migrants"), a("border")))),
    ('"coast guards rescued"', Phrase(("coast", "guards", "rescued"))),
    ("a OR b c", And((Or((a("a"), a("b"))), a("c")))),
    ("a b OR c d", And((a("a"), Or((a("b"), a("c"))), a("d")))),
    ("NOT a AND b OR c", Or((And((Not(a("a")), a("b"))), a("c")))),
    ("a OR b AND c", Or((a("a"), And((a("b"), a("c")))))),
    ("migrants -Zuwara", AndNot(a("migrants"), a("Zuwara"))),
    ('-"coast guards" migrants', AndNot(a("migrants"), Phrase(("coast", "guards")))),
    ("migrants -(Zuwara OR Agadez)", AndNot(a("migrants"), Or((a("Zuwara"), a("Agadez"))))),
    ("+migrants border", AndMaybe(a("migrants"), a("border"))),
    ("x (a -b)", And((a("x"), AndNot(a("a"), a("b"))))),
    ("country:LY", Facet("country", "LY")),
    ("countries:LY lang:fr Year:2013", And((Facet("country", "LY"), Facet("language", "fr"),
                                           Facet("year", "2013")))),
    ("country:(LY OR NE)", Or((Facet("country", "LY"), Facet("country", "NE")))),
    ("theme:counter-trafficking", Facet("theme", "counter-trafficking")),
    ('theme:"return and reintegration"', Facet("theme", "return and reintegration")),
    ("title:Zuwara", Term("Zuwara", "title")),
    ("TITLE:Zuwara", Term("Zuwara", "title")),
    ('title:"coast guards"', Phrase(("coast", "guards"), "title")),
    ("title:(Zuwara OR migra*)", Or((Term("Zuwara", "title"), Prefix("migra", "title")))),
    ("published:[2011-01-01 TO 2015-12-31]", DateRange(20110101, 20151231)),
    ("date:[2011-01-01 TO]", DateRange(20110101, OPEN_END)),
    ("published:[ TO 2011-01-01] migrants", And((DateRange(OPEN_START, 20110101), a("migrants")))),
    ("migra*", Prefix("migra")),
    ("migrants^2", Term("migrants", boost=2.0)),
    # a group's boost goes to its parts when it joins the group around it, as in Whoosh
    ('"coast guards"^1.5 (a b)^3', And((Phrase(("coast", "guards"), boost=1.5),
                                        Term("a", boost=3.0), Term("b", boost=3.0)))),
    ("(a OR b)^2", Or((a("a"), a("b")), 2.0)),
    ("Guinea-Bissau", a("Guinea-Bissau")),
    ("migrants?", a("migrants?")),
    ("foo:bar", And((a("foo"), a("bar")))),
    ("10:30", a("10:30")),
    ("Libya - migrants", And((a("Libya"), a("migrants")))),
    ('"unterminated', a("unterminated")),
    ("migrants OR", a("migrants")),
    ("AND migrants NOT", a("migrants")),
    ("", NOTHING),
])
def test_each_construct_parses_into_its_tree(text: str, tree: Node) -> None:
    assert simple(parse(text)) == tree


# -- bounds and messages --------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "message"), [
    ("a" * 501, "the query is 501 characters long; the limit is 500"),
    (")(", "a closing parenthesis has no opening one"),
    ("(" * 9 + "a" + ")" * 9, "parentheses nest 9 deep; the limit is 8"),
    ("*a*", "a word cannot start with * or ?: put at least 3 letters before the *"),
    ("a?b", "? is not a wildcard here: use word* for words that start alike"),
    ("mi*", "'mi*': put at least 3 letters before the *"),
    (" ".join(["w"] * 65), "the query has 65 words and operators; the limit is 64"),
    ("mig*rants", "'mig*rants': * can only end a word, as in mig*"),
    ('"coast guards"~2', 'proximity (~) is not supported; search the exact phrase, or the words'),
    ("published:[2011 TO 2012]", "takes dates as YYYY-MM-DD, not '2011'"),
    ("published:[2011-02-30 TO]", "takes dates as YYYY-MM-DD, not '2011-02-30'"),
    ("published:[2011-01-01 TO 2012-01-01", "published:[ has no closing ]"),
    ("date:[2011-01-01 until 2012-01-01]", "is not a date range: write date:[2011-01-01 TO"),
])
def test_bad_queries_are_refused_with_what_to_change(text: str, message: str) -> None:
    with pytest.raises(QueryError) as refused:
        check_bounds(text)
        parse(text)
    assert message in str(refused.value)


class Lexicon:
    """A stand-in index: lower-cased words, 'the' a stop word, a fixed word list."""

    def __init__(self, words: list[str]) -> None:
        self.words = sorted(words)

    def analyze(self, field: str, text: str, whole: bool = False) -> list[str]:
        if whole:
            return [text.lower()]
        return [w for w in re.findall(r"\w+", text.lower()) if w != "the"]

    def expand(self, field: str, prefix: str) -> Iterator[str]:
        return (word for word in self.words if word.startswith(prefix))


WIDE = Lexicon([f"abc{n:03d}" for n in range(101)] + [f"xyz{n:03d}" for n in range(60)])


@pytest.mark.parametrize("text", ["abc*", "x NOT abc*", "x -abc*", "+abc* x", "title:abc*"])
def test_a_prefix_anywhere_expands_to_at_most_100_words(text: str) -> None:
    """Before, the prefixes under NOT, -word and +word went to Whoosh unbounded."""
    with pytest.raises(QueryError, match="too many words start with 'abc': add letters before the"):
        resolve_query(text, None, WIDE)


def test_a_query_that_expands_too_far_is_refused() -> None:
    resolve_query("xyz*", None, WIDE)                   # 60 words in 8 fields: 480 terms of 512
    with pytest.raises(QueryError, match=r"the query expands to 960 terms; simplify it"):
        resolve_query("xyz* xyz0*", None, WIDE)


def test_resolving_analyses_each_field_and_simplifies() -> None:
    lexicon = Lexicon(["migrants"])
    assert resolve_query("the migrants", "en", lexicon) == Or((Term("migrants", "title_en"),
                                                              Term("migrants", "body_en")))
    assert resolve_query("migrants migrants", "en", lexicon) == resolve_query("migrants", "en", lexicon)
    assert resolve_query('"the"', "en", lexicon) == NOTHING
    assert resolve_query("title:migra*", "fr", lexicon) == Or(tuple(
        Or((Term("migrants", f"title_{lang}"),)) for lang in ("en", "fr", "es", "ar")))
    assert resolve_query("country:LY,NE", None, lexicon) == And((Facet("country", "ly"),
                                                                 Facet("country", "ne")))
    # plain words: not simplified, so a unit of stop words alone matches nothing
    assert resolve_plain([("the", []), ("migrants", [])], "en", lexicon) == And((
        NOTHING, Or((Term("migrants", "title_en"), Term("migrants", "body_en")))))


# -- properties -----------------------------------------------------------------------------------
PIECES = ["migrants", "Zuwara", "AND", "OR", "NOT", "(", ")", '"', "-", "+", "*", "?", "^2", "~2",
          ":", "country:", "title:", "Title:", "published:[", "TO", "]", "2011-01-01", "foo:",
          "Guinea-Bissau", "l'OIM", "ليبيا", "\x00", "’", "[", "{", "}", "^", "mig*", "\\"]


@FUZZ
@given(st.one_of(st.text(max_size=120),
                 st.lists(st.sampled_from(PIECES), max_size=30).map("".join),
                 st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join)))
def test_any_text_parses_or_says_why_not(text: str) -> None:
    try:
        check_bounds(text)
        tree = parse(text)
        resolved = resolve_query(text, None, Lexicon(["migrants", "zuwara", "mig"]))
    except QueryError as exc:
        assert str(exc) and len(str(exc)) < 200
    else:
        assert isinstance(normalize(tree), (And, Or, Not, AndNot, AndMaybe, Term, Phrase, Prefix,
                                            Facet, DateRange, type(NOTHING)))
        assert not any(isinstance(n, Prefix) for n in _nodes(resolved))


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in children(node):
        yield from _nodes(child)


WORD = st.from_regex(r"[a-zé]{1,8}", fullmatch=True)
FIELD = st.sampled_from([None, "title"])
BOOST = st.sampled_from([1.0, 1.0, 2.0, 0.5])
LEAVES = st.one_of(
    st.builds(Term, WORD, FIELD, BOOST),
    st.builds(Phrase, st.lists(WORD, min_size=2, max_size=3).map(tuple), FIELD, BOOST),
    st.builds(Prefix, st.from_regex(r"[a-z]{3,6}", fullmatch=True), FIELD, BOOST),
    st.builds(Facet, st.sampled_from(FACETS), st.sampled_from(["LY", "NE", "counter-trafficking",
                                                               "return and reintegration"]), BOOST),
    st.builds(DateRange, st.sampled_from([OPEN_START, 20110101]), st.sampled_from([OPEN_END, 20151231])),
)
TREES = st.recursive(LEAVES, lambda inner: st.one_of(
    st.builds(And, st.lists(inner, min_size=1, max_size=3).map(tuple), BOOST),
    st.builds(Or, st.lists(inner, min_size=1, max_size=3).map(tuple), BOOST),
    st.builds(Not, inner),
    st.builds(AndNot, inner, inner),
    st.builds(AndMaybe, inner, inner)), max_leaves=8)


@FUZZ
@given(TREES)
def test_a_tree_written_back_parses_to_the_same_meaning(tree: Node) -> None:
    assert canonical(parse(render(tree))) == canonical(tree)


def canonical(node: Node) -> Node:
    """The tree normalised, with each group's boost moved to its parts (scores stay the same)."""
    return normalize(_boosts_down(normalize(node), 1.0))


def _boosts_down(node: Node, boost: float) -> Node:
    if isinstance(node, (And, Or)):
        return type(node)(tuple(_boosts_down(child, boost * node.boost) for child in node.children))
    if isinstance(node, Not):
        return Not(_boosts_down(node.child, 1.0))
    if isinstance(node, AndNot):
        return AndNot(_boosts_down(node.positive, boost * node.boost),
                      _boosts_down(node.negative, 1.0))
    if isinstance(node, AndMaybe):
        return AndMaybe(_boosts_down(node.required, boost * node.boost),
                        _boosts_down(node.optional, boost * node.boost))
    if isinstance(node, DateRange):
        return DateRange(node.start, node.end)         # a range does not score: no boost
    return replace(node, boost=node.boost * boost)


# -- the same queries as Whoosh's parser built, on a real index -----------------------------------
@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("parser") / "data"
    releases = [make_release(n) for n in range(40)]
    releases[0].update(title="Libya: migrants rescued off Zuwara", published="2024-03-12",
                       body="Tripoli – Coast guards rescued 120 migrants. " * 10)
    releases[1].update(title="Sécurité des migrants à Agadez", language="fr",
                       body="L'OIM renforce la sécurité des migrants naufragés au Niger. " * 10)
    releases[2].update(title="ليبيا: إنقاذ المهاجرين", language="ar",
                       body="أنقذت فرق الإغاثة المهاجرين والنازحين في ليبيا. " * 10)
    releases[3].update(title="Guinea-Bissau: covid-19 support", themes=["counter-trafficking"],
                       body="In Guinea-Bissau the covid-19 response supports returnees. " * 5)
    store(data, releases)
    rebuild(data, procs=1, catalogue_url=catalogue_url(data))
    return data


@pytest.fixture(scope="module")
def whoosh(indexed: Path) -> Iterator[Any]:
    from whoosh import index as whoosh_index

    from indexer.schema import live_directory

    with whoosh_index.open_dir(str(live_directory(indexed))).searcher() as searcher:
        yield searcher


VOCABULARY = ["migrants", "border", "Zuwara", "sécurité", "securite", "OIM", "l'OIM", "the", "de",
              "returnees", "ليبيا", "المهاجرين", "coast", "guards", "water", "Niger", "Senegal"]
UNITS = st.deferred(lambda: st.one_of(
    st.sampled_from(VOCABULARY),
    st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=3).map(lambda w: '"' + " ".join(w) + '"'),
    st.sampled_from(["migra*", "bord*", "ret*", "Zuw*", "secu*", "title:migra*"]),
    st.sampled_from(["country:LY", "countries:NE", "lang:fr", "language:en", "year:2013",
                     "site:example", "project:START", "country:(LY OR NE)", "Country:TN"]),
    st.sampled_from(VOCABULARY).map(lambda w: f"title:{w}"),
    st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=2).map(lambda w: f'title:"{w[0]} {w[1]}"'),
    st.sampled_from(["published:[2011-01-01 TO 2016-12-31]", "date:[2015-01-01 TO 2015-12-31]"]),
    EXPRESSIONS.map(lambda e: f"({e})")))
NEGATED = st.tuples(st.booleans(), UNITS).map(lambda p: f"NOT {p[1]}" if p[0] else p[1])
JOINED = st.tuples(st.sampled_from([" AND ", " OR ", " "]), NEGATED).map("".join)
EXPRESSIONS = st.tuples(NEGATED, st.lists(JOINED, max_size=2)).map(lambda p: p[0] + "".join(p[1]))
QUERIES = st.lists(st.one_of(EXPRESSIONS, st.tuples(st.sampled_from("-+"), UNITS).map("".join)),
                   min_size=1, max_size=3).map(" ".join)


@ORACLE
@given(text=QUERIES, language=st.sampled_from([None, "en", "fr"]))
def test_the_documented_syntax_resolves_as_whoosh_parsed_it(whoosh: Any, text: str,
                                                           language: str | None) -> None:
    from indexer.search import WhooshLexicon
    from tests.whoosh_oracle import to_whoosh, whoosh_query

    assert _outcome(lambda: to_whoosh(resolve_query(text, language, WhooshLexicon(whoosh)))) == \
        _outcome(lambda: whoosh_query(text, language, whoosh.schema, whoosh.reader()))


@pytest.fixture(scope="module")
def concepts() -> Any:
    from archive.cleaning.vocab import load_vocabulary
    from indexer.concepts import Concepts

    return Concepts(load_vocabulary())


@ORACLE
@given(words=st.lists(st.sampled_from([*VOCABULARY, "South", "Sudan", "migrants^3", "Côte",
                                       "d'Ivoire", "Guinea-Bissau"]), min_size=1, max_size=5),
       language=st.sampled_from([None, "en", "ar"]), any_word=st.booleans())
def test_plain_words_resolve_as_whoosh_parsed_them(whoosh: Any, concepts: Any, words: list[str],
                                                   language: str | None, any_word: bool) -> None:
    from indexer.search import WhooshLexicon
    from tests.whoosh_oracle import to_whoosh, whoosh_plain

    units = concepts.split(plain_words(" ".join(words)))
    ours = to_whoosh(resolve_plain(units, language, WhooshLexicon(whoosh), any_word))
    assert ours == whoosh_plain(units, language, whoosh.schema, whoosh.reader(), any_word)


def _outcome(build: Any) -> Any:
    try:
        return build()
    except QueryError as exc:
        return f"QueryError: {exc}"


# -- what the old parser got wrong ----------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    # a hyphen inside a word excluded what followed it: Guinea NOT Bissau (before: 0)
    ("Guinea-Bissau AND covid", 1),
    ("theme:counter-trafficking", 11),             # every 4th release, and release 3
    # a word ending in ? (allowed by the bounds) matched nothing (before: 0)
    ("Zuwara?", 1),
    # -word inside parentheses: "the query could not be read: Minus"
    ("Zuwara OR (Agadez -Zuwara)", 2),
    # an open date range was read as a range of words (before: 0 or a time-out)
    ("published:[2023-01-01 TO] Zuwara", 1),
    # title: in capitals, or before parentheses, searched the word "title" (before: 0)
    ("TITLE:Zuwara", 1),
    ("title:(Zuwara OR Agadez)", 2),
])
def test_what_the_old_parser_got_wrong(indexed: Path, text: str, expected: int) -> None:
    assert open_index(indexed).search(SearchRequest(q=text)).total == expected


def test_open_ranges_and_dates_in_the_query_match_the_date_filters(indexed: Path) -> None:
    index = open_index(indexed)
    in_query = index.search(SearchRequest(q="published:[2015-03-01 TO]", page_size=100))
    filtered = index.search(SearchRequest(date_from="2015-03-01", page_size=100))
    assert in_query.total == filtered.total > 0
    assert {h.id for h in in_query.results} == {h.id for h in filtered.results}
