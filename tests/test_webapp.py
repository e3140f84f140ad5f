"""The web app through Flask's test client: every route, its errors, its headers, and XSS."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from archive.capture.importer import import_paths
from archive.cleaning.releases import clean_versions
from archive.layout import open_archive
from indexer.build import update
from tests.catalogue_rows import catalogue_url
from tests.webapp_fixtures import PAYLOADS, build_archive, pages
from webapp import create_app

BASE = "https://news.example.org"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("web") / "data"
    build_archive(data, BASE)
    return data


@pytest.fixture
def app(data_dir: Path) -> Flask:
    return create_app({"DATA_DIR": str(data_dir), "TESTING": True, "SEARCH_BURST": 1000.0,
                       "EXPORT_BURST": 1000.0})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "lxml")


def release_ids(client: FlaskClient) -> dict[str, str]:
    """Map each fixture path to its release id (through the API)."""
    data = client.get("/api/search?size=50").get_json()
    return {re.sub(r"^https?://[^/]+", "", r["url"]): r["id"] for r in data["results"]}


def test_search_page_lists_results_with_facets_and_a_shareable_state(client: FlaskClient) -> None:
    response = client.get("/?q=migrants")
    assert response.status_code == 200
    page = soup(response)
    hits = page.select("ol.hits li.hit")
    assert len(hits) == 2
    assert {h.h3.get("lang") for h in hits} == {"en", "fr"}
    assert page.select_one("input#q")["value"] == "migrants"
    assert page.find("label", attrs={"for": "q"}) is not None
    assert page.select_one("main#main") and page.select_one("aside.facets") and page.find("header")
    # real checkboxes of the search form, which carries the query with them
    boxes = {box.find_parent("label").get_text(" ", strip=True): box for box in page.select(".facet input")}
    libya = next(box for text, box in boxes.items() if text.startswith("Libya"))
    assert (libya["type"], libya["name"], libya["value"], libya["form"]) == (
        "checkbox", "country", "LY", "search-form")
    assert not libya.has_attr("checked") and page.select_one("form#search-form input#q")
    assert page.select_one("mark") is not None


def test_two_facets_toggle_and_untoggle(client: FlaskClient) -> None:
    page = soup(client.get("/?country=LY&language=fr"))
    assert [h.h3.get("lang") for h in page.select("li.hit")] == ["fr"]
    assert len(page.select(".facet input[checked]")) == 2
    chips = page.select("nav.chips a.chip")
    assert [c["data-facet"] for c in chips] == ["country", "language"]
    off = next(a["href"] for a in chips if "Libya" in a.get_text())
    assert "country=LY" not in off and "language=fr" in off
    assert len(soup(client.get(off)).select("li.hit")) == 1


def test_empty_query_browses_newest_first_with_dates_and_sorting(client: FlaskClient) -> None:
    page = soup(client.get("/"))
    dates = [t["datetime"] for t in page.select("li.hit time")]
    assert dates == sorted(dates, reverse=True) and len(dates) == 4
    ranged = soup(client.get("/?from=2023-01-01&to=2024-12-31"))
    assert all(t["datetime"] >= "2023-01-01" for t in ranged.select("li.hit time"))
    by_date = soup(client.get("/?q=migrants&sort=date"))
    assert by_date.select_one("option[value=date][selected]") is not None


def test_bad_query_explains_what_to_change(client: FlaskClient) -> None:
    response = client.get("/?q=*a*")
    assert response.status_code == 400
    alert = soup(response).select_one("[role=alert]")
    assert alert is not None and "3 letters" in alert.get_text()
    api = client.get("/api/search?q=" + "(" * 30 + "a" + ")" * 30)
    assert api.status_code == 400 and "parentheses" in api.get_json()["error"]["message"]
    assert client.get("/?page=99999").status_code == 400


def test_a_misspelt_query_is_answered_corrected_and_says_so(client: FlaskClient) -> None:
    page = soup(client.get("/?q=Albergus"))
    note = page.select_one(".corrected")
    assert note is not None and "Albergus" in note.get_text()
    assert note.a is not None and note.a.get_text() == "Albergues"
    assert page.select(".hits .hit")


def test_release_page_shows_metadata_translations_versions_and_citation(client: FlaskClient) -> None:
    ids = release_ids(client)
    response = client.get(f"/release/{ids['/news/libya-rescue']}")
    assert response.status_code == 200
    page = soup(response)
    assert page.h1.get_text() == "Coast guards rescue 120 migrants off Libya"
    labels = [dt.get_text() for dt in page.select("dl.dates dt")]
    assert {"Published", "Captured", "Countries"} <= set(labels)
    ld = json.loads(page.select_one("script[type='application/ld+json']").string)
    assert ld["@type"] == "NewsArticle" and ld["datePublished"] == "2024-03-12"
    assert page.select_one("meta[name=citation_title]")["content"] == ld["headline"]
    french = page.select_one(".release-side li[lang=fr] a")["href"]
    assert french == f"/release/{ids['/fr/news/libye-sauvetage']}"
    assert "APA" in page.get_text() and "(2024, March 12)" in page.select_one("#cite-apa").get_text()
    assert "Chicago" in page.get_text() and page.select_one("#permalink")["value"].startswith("http")
    assert "For more information" not in page.select_one(".body").get_text()
    assert client.get("/release/r-doesnotexist").status_code == 404


def test_versions_and_what_changed(app: Flask, client: FlaskClient, data_dir: Path) -> None:
    ids = release_ids(client)
    rid = ids["/news/libya-rescue"]
    _name, html = pages(BASE)["/news/libya-rescue"]
    changed = data_dir.parent / "v2.html"
    changed.write_text(html.replace("The rescue is the third this month.",
                                    "The rescue is the fourth this month."), encoding="utf-8")
    settings = app.extensions["pressroom_settings"]
    with open_archive(settings) as (catalogue, store):
        import_paths([changed], catalogue, store, "example", BASE + "/news/libya-rescue", [])
        clean_versions(catalogue, store, settings)
    update(data_dir, catalogue_url=catalogue_url(settings))
    page = soup(client.get(f"/release/{rid}"))
    assert len(page.select(".release-side ol li")) == 2
    diff = soup(client.get(f"/release/{rid}/changes?from=1&to=2"))
    assert "fourth" in diff.select_one("ins").get_text() and "third" in diff.select_one("del").get_text()
    old = soup(client.get(f"/release/{rid}?v=1"))
    assert "third" in old.select_one(".body").get_text()


def test_archived_original_is_sandboxed_under_a_banner(client: FlaskClient) -> None:
    rid = release_ids(client)["/news/xss-corpus"]
    wrapper = client.get(f"/release/{rid}/original")
    page = soup(wrapper)
    banner = page.select_one(".banner").get_text()
    assert "Archived capture of https://news.example.org/news/xss-corpus" in banner
    frame = page.select_one("iframe.archived")
    assert frame.has_attr("sandbox") and frame["sandbox"] in ("", [])
    for src in (frame["src"], page.select_one(".banner a[href*='/raw']")["href"]):
        shown = client.get(src)
        assert shown.status_code == 200
        assert shown.headers["Content-Security-Policy"].startswith("sandbox;")
        assert "script-src" not in shown.headers["Content-Security-Policy"]
        assert shown.headers["X-Content-Type-Options"] == "nosniff"
    replayed = soup(client.get(frame["src"]))
    assert replayed.find("script") is None  # the frame shows it inert
    assert not [a for el in replayed.find_all(True) for a in el.attrs if a.lower().startswith("on")]
    raw = client.get(page.select_one(".banner a[href*='/raw']")["href"])
    assert b"xss-from-original" in raw.data          # the exact bytes are served as they were


def test_api_search_release_and_openapi(client: FlaskClient) -> None:
    data = client.get("/api/search?q=Libya&lang=fr").get_json()
    assert set(data) >= {"total", "page", "results", "facets"}
    assert set(data["results"][0]) >= {"id", "url", "title", "published", "language", "countries",
                                       "themes", "projects", "snippet"}
    assert data["facets"]["country"][0] == {"value": "LY", "label": "Libye", "count": 2}
    rid = data["results"][0]["id"]
    release = client.get(f"/api/releases/{rid}").get_json()
    assert release["id"] == rid and release["versions"][0]["version"] == 1
    assert client.get("/api/releases/nope").get_json()["error"]["status"] == 404
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and {"/api/search", "/api/releases/{id}"} <= set(spec["paths"])


def test_atom_feed_csv_and_jsonl_exports(client: FlaskClient) -> None:
    feed = client.get("/feed.atom?country=LY")
    assert feed.content_type.startswith("application/atom+xml")
    root = ElementTree.fromstring(feed.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert len(root.findall("a:entry", ns)) == 2
    rows = list(csv.DictReader(io.StringIO(client.get("/export.csv").data.decode("utf-8-sig"))))
    assert len(rows) == 4 and {"id", "title", "permalink"} <= set(rows[0])
    lines = client.get("/export.jsonl?q=migrants").get_data(as_text=True).splitlines()
    assert len(lines) == 2 and all(json.loads(line)["permalink"].startswith("http") for line in lines)
    assert client.get("/opensearch.xml").data.count(b"{searchTerms}") == 2


def test_every_response_carries_the_security_headers(client: FlaskClient) -> None:
    rid = release_ids(client)["/news/libya-rescue"]
    for url in ("/", "/?q=x", f"/release/{rid}", f"/release/{rid}/original", "/api/search",
                "/api/openapi.json", "/feed.atom", "/export.csv", "/nope", "/api/nope", "/?q=*a*"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]


def test_errors_are_html_on_pages_and_json_on_the_api(client: FlaskClient) -> None:
    page = client.get("/nowhere")
    assert page.status_code == 404 and page.content_type.startswith("text/html")
    assert "does not exist" in soup(page).get_text()
    api = client.get("/api/nowhere")
    assert api.status_code == 404 and api.get_json()["error"]["status"] == 404
    assert client.post("/").status_code == 405


def test_missing_index_is_a_clear_503(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": str(tmp_path), "TESTING": True})
    response = app.test_client().get("/?q=x")
    assert response.status_code == 503 and "pressroom index" in response.get_data(as_text=True)


def test_rate_limit_answers_429_with_retry_after(data_dir: Path) -> None:
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "SEARCH_RATE": 0.5,
                      "SEARCH_BURST": 3.0})
    client = app.test_client()
    statuses = [client.get("/api/search?q=x").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    limited = client.get("/api/search?q=x")
    assert limited.headers["Retry-After"] and limited.get_json()["error"]["status"] == 429


def test_interface_languages_and_right_to_left(client: FlaskClient) -> None:
    arabic = client.get("/?lang=ar")
    page = soup(arabic)
    assert page.html["dir"] == "rtl" and page.html["lang"] == "ar"
    assert "lang=ar" in arabic.headers["Set-Cookie"]
    assert "بحث" in page.select_one("button[type=submit]").get_text()
    client.delete_cookie("lang")
    french = soup(client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"}))
    assert french.html["lang"] == "fr" and french.select_one("button[type=submit]").get_text() == "Rechercher"


def all_responses(client: FlaskClient) -> Iterator[tuple[str, bytes]]:
    rid = release_ids(client)["/news/xss-corpus"]
    for url in ("/", "/?q=flood", "/?q=relief&sort=date", f"/release/{rid}", f"/release/{rid}/original",
                "/api/search?q=flood", f"/api/releases/{rid}", "/feed.atom?q=flood", "/export.csv?q=flood",
                "/export.jsonl?q=flood", "/?q=" + "%3Cscript%3Ealert(1)%3C/script%3E",
                "/?q=%22%3E%3Csvg%20onload=alert(1)%3E", "/nope%3Cscript%3E"):
        yield url, client.get(url).data


def test_xss_corpus_never_comes_back_as_markup(client: FlaskClient) -> None:
    checked = 0
    for url, body in all_responses(client):
        text = body.decode("utf-8")
        for payload in PAYLOADS:
            # a CSV export carries the data as it is (served as an attachment, never sniffed);
            # in the Atom feed a javascript: text without markup is inert
            exempt = url.startswith("/export.csv") or (url.startswith("/feed") and "<" not in payload)
            assert payload not in text or exempt, (url, payload)
        if url.startswith(("/api/", "/export", "/feed")):
            continue
        page = BeautifulSoup(text, "lxml")
        for tag in page.find_all(True):
            assert not [a for a in tag.attrs if a.lower().startswith("on")], (url, str(tag)[:80])
            for attr in ("href", "src", "action"):
                assert not str(tag.get(attr, "")).strip().lower().startswith("javascript:"), url
        scripts = [s for s in page.find_all("script") if s.get("type") != "application/ld+json"
                   and "alert" in (s.string or "")]
        assert scripts == [], url
        for data in page.find_all("script", type="application/ld+json"):
            assert "<" not in (data.string or ""), url    # data, escaped: cannot close the script
        checked += 1
    assert checked >= 7
    api = client.get("/api/search?q=flood").get_json()
    assert "<script" not in api["results"][0]["snippet"]
