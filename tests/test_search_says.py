"""Search that says what it did: all-words counts, relaxed matches apart, corrected queries,
forgiving facet values, names not stemmed, clear refusals (issue 12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from indexer.build import rebuild
from indexer.errors import QueryError
from indexer.interface import SearchRequest, open_index
from tests.catalogue_rows import catalogue_url
from tests.conftest import run_cli
from tests.test_index import make_release, store
from webapp import create_app


def _release(n: int, title: str, body: str, day: str, **over: Any) -> dict[str, Any]:
    # only the releases that name Libya are tagged with it
    over.setdefault("countries", ["LY"] if "Libya" in body else ["TN"])
    over.setdefault("themes", [])
    return make_release(n, title=title, body=body, published=day, **over)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    both = [_release(n, f"Trafficking case {n}", "Trafficking networks in Libya were tried. " * 5,
                     f"2012-01-0{n + 1}") for n in range(3)]
    # newer than every release with both words: a date sort must still list them after
    some = [_release(10 + n, f"Trafficking report {n}", "Counter trafficking training. " * 5,
                     f"2020-01-0{n + 1}") for n in range(4)]
    some += [_release(20 + n, f"Returnees {n}", "Returnees from Libya went home. " * 5,
                      f"2021-01-0{n + 1}") for n in range(2)]
    # "de" and "la" only: a stop word must not make these count as having some of the words
    stop = [_release(30 + n, f"Juan de la Cruz {n}", "De la Cruz spoke at the workshop. " * 5,
                     "2022-01-01", countries=["GT"]) for n in range(2)]
    boats = [_release(40, "Boat capsized in the Mediterranean",
                      "The deadliest crossing: a boat capsized off Zuwara. " * 5, "2016-05-01")]
    mali = [_release(50, "Sahel : l'OIM au Mali", "Des migrants au Mali reçoivent une aide. " * 5,
                     "2019-03-01", language="fr", countries=["ML"]),
            _release(51, "Un mal pour un bien", "Le mal de mer touche les migrants au Niger. " * 5,
                     "2019-04-01", language="fr", countries=["NE"])]
    en = _release(60, "Returnees in Niger", "Returnees in Niger get support. " * 5, "2018-01-01")
    fr = _release(61, "Rapatriés au Niger", "Les rapatriés au Niger reçoivent un soutien. " * 5,
                  "2018-01-02", language="fr")
    en["translations"] = [{"language": "fr", "url": fr["url"]}]
    releases = [*both, *some, *stop, *boats, *mali, en, fr]
    data = tmp_path_factory.mktemp("says") / "data"
    store(data, releases)
    rebuild(data, procs=1, catalogue_url=catalogue_url(data))
    return data


def search(data_dir: Path, **kwargs: Any) -> Any:
    return open_index(data_dir).search(SearchRequest(**kwargs))


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_all_the_words_first_with_their_exact_count_then_some(data_dir: Path, sort: str) -> None:
    page = search(data_dir, q="trafficking Libya", sort=sort, page_size=20)
    assert (page.total_all, page.relaxed, page.total) == (3, 6, 9)
    assert all("case" in hit.title for hit in page.results[:3])
    assert not any("case" in hit.title for hit in page.results[3:])
    data = page.to_json()
    assert (data["total"], data["total_all"], data["relaxed"]) == (9, 3, 6)


def test_stop_words_never_make_a_release_match(data_dir: Path) -> None:
    page = search(data_dir, q="trafficking de la Libya", page_size=20)
    assert page.total_all == 3
    assert not any("Cruz" in hit.title for hit in page.results)


def test_nothing_found_is_answered_corrected_in_the_case_typed(data_dir: Path) -> None:
    page = search(data_dir, q="Medeterranean deadlyest capsised")
    assert page.corrected == "Mediterranean deadliest capsized"
    assert page.total_all == 1 and page.results[0].title.startswith("Boat capsized")
    assert search(data_dir, q="Lybia").corrected == "Libya"
    assert search(data_dir, q="LYBIA").corrected == "LIBYA"
    assert search(data_dir, q="trafficking").corrected is None


@pytest.mark.parametrize("query", ["country:ly", "country:LY", "country:Libya", "country:Libye",
                                   "country:ليبيا", "countries:libia", "country:Lybia"])
def test_facet_values_are_read_as_people_write_them(data_dir: Path, query: str) -> None:
    assert search(data_dir, q=query).total == 5


def test_filters_and_languages_by_name(data_dir: Path) -> None:
    assert search(data_dir, filters={"country": ["Libya"]}).total == 5
    assert search(data_dir, filters={"language": ["french"]}).total == 3
    assert search(data_dir, filters={"language": ["Français"]}).total == 3
    assert search(data_dir, q="Niger", language="French").total >= 1
    assert search(data_dir, q="theme:Counter-Trafficking").total == search(
        data_dir, q="theme:counter-trafficking").total


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"q": "country:Atlantis"}, "LY"),
    ({"filters": {"country": ["Atlantis"]}}, "LY"),
    ({"filters": {"language": ["klingon"]}}, "fr"),
    ({"q": "(Libya OR Niger"}, "not closed"),
    ({"q": "published:[2015-01-01 TO 2011-01-01]"}, "after"),
    ({"q": "Libya", "date_from": "2015-01-01", "date_to": "2011-01-01"}, "after"),
])
def test_what_cannot_be_read_is_refused_with_a_message(data_dir: Path, kwargs: dict[str, Any],
                                                       message: str) -> None:
    with pytest.raises(QueryError, match=message):
        search(data_dir, **kwargs)


def test_names_are_not_stemmed_into_common_words(data_dir: Path) -> None:
    titles = {hit.title for hit in search(data_dir, q="NOT Mali", language="fr").results}
    assert "Un mal pour un bien" in titles and "Sahel : l'OIM au Mali" not in titles
    assert [hit.title for hit in search(data_dir, q="mal", language="fr").results] == [
        "Un mal pour un bien"]


def test_collapsed_totals_count_what_the_pages_list(data_dir: Path) -> None:
    whole = search(data_dir, q="Niger", collapse=True, page_size=100)
    assert whole.total == len(whole.results)
    first = search(data_dir, q="Niger", collapse=True, page_size=1)
    last = search(data_dir, q="Niger", collapse=True, page_size=1, page=first.total)
    assert len(last.results) == 1


@pytest.fixture(scope="module")
def client(data_dir: Path) -> FlaskClient:
    app = create_app({"DATA_DIR": str(data_dir)})
    app.config["TESTING"] = True
    return app.test_client()


@pytest.mark.parametrize("path", ["/", "/api/search", "/feed.atom", "/export.csv", "/export.jsonl"])
@pytest.mark.parametrize("page", ["abc", "", "1.5"])
def test_a_page_that_is_not_a_number_is_400_everywhere(client: FlaskClient, path: str,
                                                      page: str) -> None:
    # a client address of its own per case: exports are rate-limited per client
    address = f"127.0.{len(path)}.{len(page) + 1}"
    response = client.get(f"{path}?q=Libya&page={page}", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 400


def test_api_says_all_words_relaxed_corrected_and_refuses_unknown_values(client: FlaskClient) -> None:
    data = client.get("/api/search?q=trafficking+Libya").get_json()
    assert (data["total"], data["total_all"], data["relaxed"]) == (9, 3, 6)
    assert client.get("/api/search?q=Lybia").get_json()["corrected"] == "Libya"
    assert client.get("/api/search?country=Libya").get_json()["total"] == 5
    assert client.get("/api/search?language=french").get_json()["total"] == 3
    refused = client.get("/api/search?country=Atlantis")
    assert refused.status_code == 400 and "LY" in refused.get_json()["error"]["message"]


def test_cli_says_how_many_have_all_the_words(data_dir: Path) -> None:
    result = run_cli("search", "trafficking", "Libya", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert "3 releases with all the words, then 6 more with some of the words" in result.stdout
    numbered = [line for line in result.stdout.splitlines() if line[:4].strip().rstrip(".").isdigit()]
    assert [line[4] for line in numbered] == [" "] * 3 + ["~"] * 6
