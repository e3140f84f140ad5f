"""The search seam (issue 11): who may import what of indexer/, and the fast path behind it.

The web app, the CLI's commands and the benchmarks reach the index through indexer.interface
(and indexer.errors) only; the interface and the query language load without Whoosh; the
Whoosh implementation has every method of the protocol; the facets are declared once. And the
numpy fast path, which reads private parts of Whoosh 3's codec, is the one that serves
searches: a Whoosh whose internals moved fails these tests instead of quietly going slow.
"""

from __future__ import annotations

import ast
import inspect
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from indexer import facets, fastpath, postings
from indexer.build import update
from indexer.interface import (
    FACET_DEFINITIONS,
    FACETS,
    IndexWriter,
    SearchIndex,
    SearchRequest,
    open_index,
    open_writer,
)
from tests.catalogue_rows import archive_settings, catalogue_url
from tests.conftest import ROOT
from tests.test_index import make_release, store

INTERFACE = {"indexer.interface", "indexer.errors"}
# the command root mounts the indexer's commands (indexer/cli.py, itself a caller checked here)
ALSO_ALLOWED = {"pressroom/cli.py": {"indexer.cli"}}
CALLERS = sorted([*ROOT.glob("webapp/*.py"), *ROOT.glob("pressroom/*.py"), ROOT / "indexer" / "cli.py",
                  *ROOT.glob("bench/*.py")])


def imported(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside functions (from X import Y: X and X.Y)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module in ("indexer", "whoosh"):
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", CALLERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_callers_use_only_the_interface(path: Path) -> None:
    name = str(path.relative_to(ROOT))
    allowed = INTERFACE | ALSO_ALLOWED.get(name, set())
    engine = {m for m in imported(path) if m.split(".")[0] == "whoosh"}
    inner = {m for m in imported(path) if m.split(".")[0] == "indexer" and m != "indexer"} - allowed
    assert not engine, f"{name} imports {sorted(engine)}: the engine stays behind indexer/interface.py"
    assert not inner, f"{name} imports {sorted(inner)}: use indexer.interface (or indexer.errors)"


def test_the_import_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import whoosh.index\nfrom indexer import search\n"
                      "def f():\n    from indexer.schema import FACETS\n")
    assert imported(sample) >= {"whoosh.index", "indexer.search", "indexer.schema"}


def test_the_web_app_and_the_query_language_load_without_whoosh() -> None:
    """Only opening an index loads the engine (a fresh interpreter: sys.modules is per process)."""
    code = ("import sys, webapp, webapp.pages, webapp.api, indexer.interface, indexer.query, "
            "indexer.resolve\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'whoosh')\n"
            "print(loaded[:5])\nraise SystemExit(1 if loaded else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 0, f"Whoosh loaded on import: {result.stdout}{result.stderr}"


def test_the_whoosh_implementation_has_every_method_of_the_protocols() -> None:
    from indexer.build import WhooshWriter
    from indexer.search import WhooshIndex

    for protocol, implementation in ((SearchIndex, WhooshIndex), (IndexWriter, WhooshWriter)):
        for name, member in vars(protocol).items():
            if name.startswith("_") or not callable(member):
                continue
            theirs = inspect.signature(getattr(implementation, name))
            assert list(theirs.parameters) == list(inspect.signature(member).parameters), name


def test_the_facets_are_declared_once() -> None:
    from indexer.query import FIELD_NAMES
    from indexer.schema import build_schema
    from webapp.links import SEARCH_PARAMS

    schema = build_schema()
    assert [name for name in schema.names() if name in FACETS] == sorted(FACETS)
    assert all(type(schema[name]).__name__ == "KEYWORD" for name in FACETS)
    assert {FIELD_NAMES[alias] for facet in FACET_DEFINITIONS for alias in facet.aliases} <= set(FACETS)
    assert set(FACETS) <= set(SEARCH_PARAMS)


# -- the fast path --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_segments(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("seam") / "data"
    releases = [make_release(n) for n in range(50)]
    releases[0].update(title="Libya: migrants rescued off Zuwara",
                       body="Tripoli – Coast guards rescued 120 migrants. " * 10)
    store(data, releases)
    open_writer(archive_settings(data), procs=1).rebuild()
    store(data, [*releases, make_release(500, title="Agadez: new shelter opens")])
    update(data, procs=1, catalogue_url=catalogue_url(data))  # a second segment
    return data


SEARCHES = [SearchRequest(q="migrants"), SearchRequest(q='"coast guards rescued"'),
            SearchRequest(q="migra* -Zuwara"), SearchRequest(q="border AND shelter OR water"),
            SearchRequest(q="published:[2012-01-01 TO 2016-12-31] country:(LY OR NE)"),
            SearchRequest(q="Libya floods", language="en"),
            SearchRequest(q="border", filters={"theme": ["missing-migrants"]}, date_from="2013-01-01",
                          sort="date"),
            SearchRequest(q="title:Agadez", collapse=True), SearchRequest()]


@pytest.fixture
def slow_paths_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any fallback of the fast path, and any walk of a Whoosh matcher, fail the test."""
    from whoosh.codec.whoosh3 import W3LeafMatcher

    def refuse(what: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"{what} served a search: the fast path was not taken")
        return refused

    monkeypatch.setattr(fastpath, "fall_back", lambda what: refuse(what)())
    monkeypatch.setattr(W3LeafMatcher, "next", refuse("a matcher walk (next)"))
    monkeypatch.setattr(W3LeafMatcher, "skip_to", refuse("a matcher walk (skip_to)"))


def test_the_fast_path_serves_every_kind_of_search(two_segments: Path, slow_paths_fail: None) -> None:
    index = open_index(two_segments)
    pages = [index.search(request) for request in SEARCHES]
    assert all(page.total for page in pages)
    assert len(list(index.iter_hits(SearchRequest(q="migrants")))) == pages[0].total
    assert index.facets(SearchRequest(q="migrants"))["country"]


@pytest.mark.parametrize(("module", "name", "what"), [
    (postings, "W3_MATCHER", "postings, one document at a time"),
    (postings, "LENGTH_COLUMN", "field lengths, one document at a time"),
    (facets, "NUMBER_COLUMN", "dates, one document at a time"),
])
def test_a_whoosh_whose_internals_moved_is_noticed(two_segments: Path, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture, module: Any,
                                                   name: str, what: str) -> None:
    """As if Whoosh renamed one of the private attributes read: same answers, a warning, and a
    failure wherever the fast path is required (the test above)."""
    fast = open_index(two_segments).search(SEARCHES[0])
    monkeypatch.setattr(module, name, (*getattr(module, name), "_renamed_in_a_new_whoosh"))
    fastpath.fall_back.cache_clear()
    with caplog.at_level(logging.WARNING, logger="indexer.fastpath"):
        slow = open_index(two_segments).search(SEARCHES[0])
    assert [(h.id, round(h.score, 4)) for h in slow.results] == [(h.id, round(h.score, 4))
                                                                 for h in fast.results]
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [what]
    monkeypatch.setattr(fastpath, "fall_back", lambda what: (_ for _ in ()).throw(AssertionError(what)))
    with pytest.raises(AssertionError, match=what):
        open_index(two_segments).search(SEARCHES[0])
