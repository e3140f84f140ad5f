"""The index: analysis, facets, bounded queries, snippets, incremental and atomic builds."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from archive.catalogue import VersionRow
from archive.cleaning.textnorm import fold
from archive.release import Release, release_id
from archive.warcstore import RecordRef
from indexer.analysis import arabic_light_stem, language_analyzer
from indexer.build import families, rebuild, update
from indexer.errors import IndexVersionError, QueryError
from indexer.facets import from_bits, to_bits
from indexer.interface import SearchRequest, open_index
from indexer.schema import VERSION_FILE, live_directory
from tests.catalogue_rows import catalogue_of, catalogue_url
from tests.conftest import run_cli

COUNTRIES = ["LY", "NE", "TN", "SN", "GT", "PH"]
THEMES = ["counter-trafficking", "missing-migrants", "return-reintegration", "migration-health"]
WORDS = ["migrants", "border", "workshop", "returnees", "shelter", "health", "training", "boats",
         "community", "support", "officials", "report", "families", "water", "survey"]


def make_release(n: int, **over: Any) -> dict[str, Any]:
    rng = random.Random(n)
    body = " ".join(rng.choice(WORDS) for _ in range(80)) + "."
    release = Release(id=release_id(f"https://news.example.org/news/r{n}"),
                      url=f"https://news.example.org/news/r{n}", site="example", language="en",
                      title=f"Release {n} about {rng.choice(WORDS)}",
                      published=f"{2010 + n % 15}-{1 + n % 12:02d}-{1 + n % 28:02d}", body=body,
                      countries=[COUNTRIES[n % len(COUNTRIES)]], themes=[THEMES[n % len(THEMES)]])
    data = release.to_json()
    data.update(over)
    return data


def store(data_dir: Path, releases: list[dict[str, Any]]) -> None:
    """Put releases in a catalogue as cleaned versions (the indexer reads nothing else)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    catalogue = catalogue_of(data_dir)
    with catalogue.transaction():
        catalogue.db.execute("DELETE FROM cleaned")
        for number, release in enumerate(releases, start=1):
            doc = catalogue.document_id(release["url"])
            if doc is None:
                doc, _ = catalogue.add_version("example", release["url"], release["url"], 200,
                                               "text/html", f"h{number}", RecordRef("x", 0, 1), None,
                                               0, "2026-01-01T00:00:00+00:00")
            row = VersionRow(doc, 1, release["url"], "example", "", "text/html", RecordRef("x", 0, 1))
            catalogue.save_cleaned(row, Release.from_json(release), None)
    catalogue.close()


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    releases = [make_release(n) for n in range(120)]
    releases[0].update(title="Libya: migrants rescued off Zuwara", language="en",
                       body="Tripoli – Coast guards rescued 120 migrants. " * 10)
    releases[1].update(title="Sécurité des migrants à Agadez", language="fr",
                       body="L'OIM renforce la sécurité des migrants naufragés au Niger. " * 10)
    releases[2].update(title="ليبيا: إنقاذ المهاجرين", language="ar",
                       body="أنقذت فرق الإغاثة المهاجرين والنازحين في ليبيا. " * 10)
    releases[3].update(body="A <script>alert(1)</script> test of the snippet escaping with migrants. " * 5)
    store(tmp_path / "data", releases)
    rebuild(tmp_path / "data", procs=1, catalogue_url=catalogue_url(tmp_path / "data"))
    return tmp_path / "data", releases


def search(data_dir: Path, **kwargs: Any) -> Any:
    return open_index(data_dir).search(SearchRequest(**kwargs))


def test_analysis_folds_elides_stems_and_normalises_arabic() -> None:
    def tokens(lang: str, text: str) -> list[str]:
        return [t.text for t in language_analyzer(lang)(text)]

    assert tokens("fr", "sécurité") == tokens("fr", "securite")
    assert tokens("fr", "l'OIM") == ["oim"]
    assert tokens("en", "floods flooding") == ["flood", "flood"]
    assert tokens("es", "desplazadas") == tokens("es", "desplazados")
    assert tokens("ar", "النازحين") == tokens("ar", "نازحون")
    assert arabic_light_stem(fold("أمل")) == fold("امل")
    assert tokens("ar", "ليبيـــا") == tokens("ar", "ليبيا")   # tatweel
    assert tokens("ar", "والمُهاجِرون") == tokens("ar", "المهاجرون") == [fold("مهاجر")]   # harakat
    assert tokens("fr", "se\u0301curite\u0301") == tokens("fr", "sécurité")   # decomposed accents


def test_bitsets_round_trip() -> None:
    docs = [0, 5, 8, 63, 64, 1000]
    assert from_bits(to_bits(docs, 1001)) == docs


def test_facet_counts_are_exact_over_the_whole_match_set(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, releases = corpus
    page = search(data_dir, q="migrants", page_size=5)
    matching = [r for r in releases if "migrants" in (r["title"] + r["body"]).lower()
                or "migrant" in (r["title"] + r["body"]).lower()]
    assert page.total >= len([r for r in matching if r["language"] == "en"])
    counted = {v["value"]: v["count"] for v in page.facets["country"]}
    assert sum(counted.values()) >= page.total            # every match has a country
    browse = search(data_dir, filters={"country": ["LY", "NE"], "theme": [THEMES[0]]})
    expected = [r for r in releases if set(r["countries"]) & {"LY", "NE"} and THEMES[0] in r["themes"]]
    assert browse.total == len(expected)
    years = search(data_dir, date_from="2015-01-01", date_to="2016-12-31")
    assert years.total == sum(1 for r in releases if "2015-01-01" <= r["published"] <= "2016-12-31")
    assert all(v["label"] != v["value"] for v in browse.facets["country"])   # labelled


def test_browse_is_newest_first_and_pages(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, releases = corpus
    first = search(data_dir, page_size=10)
    second = search(data_dir, page_size=10, page=2)
    dates = [h.published for h in first.results + second.results]
    assert dates == sorted(dates, reverse=True)
    assert first.total == len(releases)
    assert not {h.id for h in first.results} & {h.id for h in second.results}


def test_accents_elision_arabic_and_phrases(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, releases = corpus
    assert [h.id for h in search(data_dir, q="securite").results] == [releases[1]["id"]]
    assert search(data_dir, q="OIM", language="fr").total == 1
    assert [h.id for h in search(data_dir, q="نازحين").results] == [releases[2]["id"]]
    assert search(data_dir, q='"coast guards rescued"').total == 1
    assert search(data_dir, q='"guards coast rescued"').total == 0


def test_title_weighs_more_and_boolean_operators(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, releases = corpus
    hits = search(data_dir, q="Zuwara OR coast").results
    assert hits[0].id == releases[0]["id"]
    with_not = search(data_dir, q="migrants NOT Zuwara")
    assert releases[0]["id"] not in {h.id for h in with_not.results}
    assert search(data_dir, q="migrants -Zuwara").total == with_not.total
    assert search(data_dir, q="country:LY").total == sum(1 for r in releases if "LY" in r["countries"])
    assert search(data_dir, q="title:Zuwara").total == 1
    assert search(data_dir, q="rescued published:[2010-01-01 TO 2010-12-31]").total == 1


def test_snippets_are_escaped_and_marked(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, _releases = corpus
    page = search(data_dir, q="escaping")
    [hit] = page.results
    assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet
    assert "<mark" in hit.snippet
    assert all(tag in ("mark", "/mark") for tag in __import__("re").findall(r"<(/?\w+)", hit.snippet))


@pytest.mark.parametrize("hostile", [
    "*", "*a*", " OR ".join(f"w{i}" for i in range(5000)), "(" * 200 + "a" + ")" * 200,
    "a" * 10_000, "a?", "mi*", ")(", 'title:"unterminated', "\x00\x01", "country:", "NOT",
])
def test_hostile_queries_answer_within_a_second(corpus: tuple[Path, list[dict]], hostile: str) -> None:
    data_dir, _ = corpus
    searcher = open_index(data_dir)
    started = time.monotonic()
    try:
        page = searcher.search(SearchRequest(q=hostile))
        assert page.total >= 0
    except QueryError as exc:
        assert str(exc) and len(str(exc)) < 200
    assert time.monotonic() - started < 1.0


def test_page_bounds_and_bad_dates(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, _ = corpus
    for request in (SearchRequest(page=1_000_000), SearchRequest(page_size=5000),
                    SearchRequest(date_from="yesterday"), SearchRequest(filters={"colour": ["red"]})):
        with pytest.raises(QueryError):
            search(data_dir, **vars(request))


def test_incremental_update_adds_changes_and_deletes(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, releases = corpus
    changed = [dict(r) for r in releases[1:]] + [make_release(500)]
    changed[0] = {**changed[0], "title": "Sécurité renforcée à Agadez", "content_hash": "sha256:new"}
    store(data_dir, changed)
    stats = update(data_dir, catalogue_url=catalogue_url(data_dir))
    assert (stats.added, stats.updated, stats.deleted) == (1, 1, 1)
    assert stats.unchanged == len(releases) - 2
    searcher = open_index(data_dir)
    assert searcher.doc_count() == len(changed)
    assert search(data_dir, q="renforcée").total == 1
    assert update(data_dir, catalogue_url=catalogue_url(data_dir)).unchanged == len(changed)


def test_schema_version_mismatch_says_rebuild(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, _ = corpus
    (live_directory(data_dir) / VERSION_FILE).write_text("0\n")
    with pytest.raises(IndexVersionError, match="pressroom index --rebuild"):
        open_index(data_dir)
    # what the scheduler runs: it rebuilds instead of failing
    stats = update(data_dir, catalogue_url=catalogue_url(data_dir))
    assert stats.rebuilt and stats.added == 120
    assert open_index(data_dir).doc_count() == 120


def test_searches_during_rebuilds_see_old_or_new_never_an_error(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, _releases = corpus
    searcher = open_index(data_dir)
    errors: list[BaseException] = []
    totals: list[int] = []
    stop = threading.Event()

    def keep_searching() -> None:
        while not stop.is_set():
            try:
                totals.append(searcher.search(SearchRequest(q="migrants")).total)
            except BaseException as exc:  # the test collects every failure
                errors.append(exc)

    threads = [threading.Thread(target=keep_searching) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3):
            rebuild(data_dir, procs=1, catalogue_url=catalogue_url(data_dir))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(set(totals)) == 1 and totals


def test_families_collapse_translations(tmp_path: Path) -> None:
    en = make_release(1, title="Returnees in Niger", body="Returnees in Niger get support. " * 20)
    fr = make_release(2, language="fr", title="Rapatriés au Niger",
                      body="Les rapatriés au Niger reçoivent un soutien. " * 20)
    en["translations"] = [{"language": "fr", "url": fr["url"]}]
    assert families([Release.from_json(en), Release.from_json(fr)])[fr["id"]] == min(en["id"], fr["id"])
    store(tmp_path / "data", [en, fr])
    rebuild(tmp_path / "data", procs=1, catalogue_url=catalogue_url(tmp_path / "data"))
    page = search(tmp_path / "data", q="Niger", collapse=True)
    assert len(page.results) == 1 and sorted(page.results[0].languages) == ["en", "fr"]


def test_more_like_this(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, releases = corpus
    similar = open_index(data_dir).more_like_this(releases[10]["id"], limit=3)
    assert len(similar) == 3 and releases[10]["id"] not in {h.id for h in similar}


def test_cli_search_json_has_the_api_shape(corpus: tuple[Path, list[dict]]) -> None:
    data_dir, _ = corpus
    result = run_cli("search", "migrants", "--country", "LY", "--json", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"total", "page", "results", "facets"}
    assert set(data["results"][0]) >= {"id", "url", "title", "published", "language", "countries",
                                       "themes", "projects", "snippet"}
    assert set(data["facets"]) == {"country", "theme", "project", "language", "year", "site"}
    assert set(data["facets"]["country"][0]) == {"value", "label", "count"}
    bad = run_cli("search", "*a*", "--data-dir", str(data_dir))
    assert bad.returncode == 1 and "at least 3 letters" in bad.stderr


@pytest.mark.parametrize("text", ["migrants", "border AND shelter", "water OR survey", "migrants NOT water",
                                  '"coast guards rescued"', '"returnees from"', "returnees -Zuwara",
                                  "country:LY", "migra*", "published:[2011-01-01 TO 2016-12-31]",
                                  "+migrants border", "title:Zuwara OR title:Agadez",
                                  "country:(LY OR NE) water", "migrants -Zuw*",
                                  "published:[2015-01-01 TO] NOT country:LY"])
def test_vectorised_evaluation_equals_whoosh(corpus: tuple[Path, list[dict]], text: str) -> None:
    """Same match set as Whoosh's own matchers, and the same top 10 by Whoosh's BM25F.

    Our tree is evaluated with numpy; the same tree, as a Whoosh query, by Whoosh.
    """
    import numpy as np
    from whoosh import index as whoosh_index

    from indexer.evaluate import Evaluator, TermCache
    from indexer.facets import FacetIndex
    from indexer.resolve import resolve_query
    from indexer.search import WhooshLexicon
    from tests.whoosh_oracle import to_whoosh

    data_dir, _ = corpus
    with whoosh_index.open_dir(str(live_directory(data_dir))).searcher() as searcher:
        tree = resolve_query(text, None, WhooshLexicon(searcher))
        query = to_whoosh(tree)
        evaluator = Evaluator(searcher, FacetIndex.build(searcher.reader()), TermCache(),
                              time.monotonic() + 10)
        found = evaluator.evaluate(tree)
        walked = sorted(searcher.docs_for_query(query))
        assert np.flatnonzero(found.mask).tolist() == walked and walked
        # phrases are scored as their words (Whoosh scores the phrase frequency); NOT adds Whoosh's
        # constant 1.0 to every match, which does not change the order
        if found.scores is not None and '"' not in text and "NOT" not in text and "+" not in text:
            theirs = [(hit.docnum, round(hit.score, 3)) for hit in searcher.search(query, limit=10)]
            mine = sorted(walked, key=lambda d: (-found.scores[d], d))[:10]
            assert [(d, round(float(found.scores[d]), 3)) for d in mine] == theirs


@pytest.mark.parametrize("text", ["release", '"news release"', "title:release", "relea*", "a OR NOT b"])
def test_an_empty_index_answers_with_nothing(tmp_path: Path, text: str) -> None:
    from indexer.interface import build_index

    build_index([], tmp_path / "ix")
    page = open_index(tmp_path / "ix").search(SearchRequest(q=text))
    assert (page.total, page.results) == (0, [])


def test_suggestions_come_from_the_word_list_beside_the_index(corpus: tuple[Path, list[dict]]) -> None:
    from indexer import titlewords

    data_dir, releases = corpus
    words = titlewords.read(live_directory(data_dir))
    assert words is not None and words["zuwara"] == "Zuwara" and words["securite"] == "Sécurité"
    assert open_index(data_dir).suggest("Zuwra migrants") == "Zuwara migrants"
    store(data_dir, [*releases, make_release(500, title="Agadez: new shelter opens")])
    update(data_dir, catalogue_url=catalogue_url(data_dir))
    assert titlewords.read(live_directory(data_dir))["agadez"] == "Agadez"
    assert open_index(data_dir).suggest("Agadz") == "Agadez"


def test_segments_are_not_compound_so_searchers_share_the_files(corpus: tuple[Path, list[dict]]) -> None:
    """Whoosh copies a compound segment into each searcher's memory; plain files are shared."""
    data_dir, releases = corpus
    store(data_dir, [*releases, make_release(501)])
    update(data_dir, catalogue_url=catalogue_url(data_dir))
    directory = live_directory(data_dir)
    assert not list(directory.glob("*.seg")) and list(directory.glob("*.pst"))


def test_fallbacks_for_other_codecs_give_the_same_results(corpus: tuple[Path, list[dict]],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Block reads use Whoosh 3's internals; without them, the matcher walk answers the same."""
    from indexer import facets, postings

    data_dir, _ = corpus
    requests = [SearchRequest(q="migrants"), SearchRequest(q='"coast guards rescued"'),
                SearchRequest(q="border", date_from="2015-01-01", sort="date")]
    fast = [open_index(data_dir).search(r) for r in requests]
    monkeypatch.setattr(postings, "_is_w3", lambda matcher: False)
    monkeypatch.setattr(postings, "_length_column", lambda reader, fieldname: None)
    monkeypatch.setattr(facets, "_raw_numbers", lambda column, count: None)
    slow = [open_index(data_dir).search(r) for r in requests]
    for one, other in zip(fast, slow, strict=True):
        assert one.total == other.total and one.total
        assert [(h.id, round(h.score, 4)) for h in one.results] == [(h.id, round(h.score, 4))
                                                                     for h in other.results]
        assert one.facets == other.facets
