"""What the pages show a journalist (issue 12): names not codes, dates and counts in the
interface language, honest versions, filters as checkboxes and chips, the empty page, the
histogram and the configured identity. Through Flask's test client; tests/test_browser_look.py
drives the same pages in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from archive.cleaning.vocab import load_vocabulary
from archive.settings import load_settings
from tests.look_fixtures import BASE, CHANGED, SITE_NAME, build_versioned_archive, look_settings
from webapp import create_app
from webapp.diff import paragraph_changes, word_changes
from webapp.names import Names


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("look") / "data"
    build_versioned_archive(data)
    return data


@pytest.fixture
def app(data_dir: Path) -> Flask:
    return create_app({"DATA_DIR": str(data_dir), "TESTING": True, "SEARCH_BURST": 1000.0,
                       "PAGE_BURST": 1000.0}, settings=look_settings(data_dir))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "lxml")


def rid_of(client: FlaskClient, path: str) -> str:
    data = client.get("/api/search?size=50").get_json()
    return next(r["id"] for r in data["results"] if r["url"] == BASE + path)


# ---------------------------------------------------------------------------- names, not codes

@pytest.mark.parametrize(("ui", "country", "language", "date"), [
    ("en", "Libya", "Français", "March 12, 2024"),
    ("fr", "Libye", "Français", "12 mars 2024"),
    ("es", "Libia", "Français", "12 de marzo de 2024"),
    ("ar", "ليبيا", "Français", "12 مارس 2024"),
])
def test_results_name_countries_languages_and_dates_for_the_interface(
        client: FlaskClient, ui: str, country: str, language: str, date: str) -> None:
    page = soup(client.get(f"/?q=migrants&lang={ui}"))
    metas = [m.get_text(" ", strip=True) for m in page.select("li.hit p.meta")]
    french = next(m for m in metas if language in m)
    assert country in french and date in french and " LY" not in french and " fr" not in french
    assert page.select_one("li.hit time")["datetime"] == "2024-03-12"
    facet_languages = [b.get_text() for b in page.select('.facet[data-facet="language"] bdi')]
    assert "Français" in facet_languages and "English" in facet_languages
    assert page.select_one('.facet[data-facet="site"] bdi').get_text() == SITE_NAME


def test_release_page_names_everything_and_isolates_latin_text_in_arabic(client: FlaskClient) -> None:
    rid = rid_of(client, "/fr/news/libye-sauvetage")
    page = soup(client.get(f"/release/{rid}?lang=ar"))
    assert page.select_one('dd[data-field="countries"]').get_text() == "ليبيا"
    assert page.select_one('dd[data-field="language"] bdi').get_text() == "Français"
    assert page.select_one('dd[data-field="site"]').get_text() == SITE_NAME
    assert page.select_one('dd[data-field="published"] time').get_text() == "12 مارس 2024"
    captured = page.select_one('dd[data-field="captured"] time')
    assert captured.get_text().endswith(" UTC") and captured["datetime"][:4] in captured.get_text()
    assert captured["datetime"] not in captured.get_text()      # formatted, not the ISO stamp
    contact = page.select_one(".contacts li")
    assert contact.select_one("a[href^=mailto] bdi").get_text() == "press@example.org"
    assert contact.select("bdi[dir=ltr]")                 # the phone number keeps its order
    assert page.select_one("h1")["dir"] == "auto" and page.select_one("h1")["lang"] == "fr"
    english = page.select_one(".release-side li[lang=en] a")
    assert english.get_text() == "English"


@pytest.mark.parametrize(("ui", "counts"), [
    ("en", {0: "0 releases", 1: "1 release", 2: "2 releases", 1234: "1,234 releases"}),
    ("fr", {0: "0 communiqué", 1: "1 communiqué", 2: "2 communiqués", 1234: "1\u202f234 communiqués"}),
    ("ar", {0: "لا بيانات", 1: "بيان واحد", 2: "بيانان", 3: "3 بيانات", 11: "11 بيانًا", 100: "100 بيان"}),
])
def test_counts_take_the_cldr_plural_of_the_interface(ui: str, counts: dict[int, str]) -> None:
    names = Names(ui, load_settings(environ={}), load_vocabulary())
    assert {n: names.count("releases", n) for n in counts} == counts


def test_heading_counts_in_the_plural_form(client: FlaskClient) -> None:
    assert soup(client.get("/?q=Guatemala&lang=en")).select_one("#results-heading").get_text(
        " ", strip=True) == "1 release"
    assert "بيانان" in soup(client.get("/?q=migrants&lang=ar")).select_one("#results-heading").get_text()


# -------------------------------------------------------------------------------------- versions

def test_word_changes_mark_the_changed_number_inside_the_paragraph() -> None:
    rows = paragraph_changes(["Same.", "At least 28 people died, 3 are missing."],
                             ["Same.", "At least 24 people died, 3 are missing.", "New paragraph."])
    assert [r["kind"] for r in rows] == ["same", "changed", "added"]
    assert ("removed", "28") in rows[1]["pieces"] and ("added", "24") in rows[1]["pieces"]
    assert word_changes("a b", "a b") == [("same", "a b")]


def test_old_version_has_a_banner_linking_the_current_one(client: FlaskClient) -> None:
    rid = rid_of(client, CHANGED)
    old = soup(client.get(f"/release/{rid}?v=1&lang=en"))
    banner = old.select_one(".banner.old-version")
    assert banner is not None and "version 1" in banner.get_text()
    links = [a["href"] for a in banner.select("a")]
    assert f"/release/{rid}" in links and f"/release/{rid}/changes?from=1&to=2" in links
    assert soup(client.get(f"/release/{rid}")).select_one(".banner.old-version") is None


def test_what_changed_shows_words_and_both_capture_dates(client: FlaskClient) -> None:
    rid = rid_of(client, CHANGED)
    page = soup(client.get(f"/release/{rid}/changes?from=1&to=2&lang=en"))
    changed = page.select(".diff p.changed")
    assert [(p.select_one("del").get_text(), p.select_one("ins").get_text()) for p in changed] == [
        ("120", "124"), ("third", "fourth")]
    assert "migrants off the coast" in changed[0].get_text()    # the rest of the paragraph, as is
    times = page.select(".versions-compared time")
    assert len(times) == 2 and all(t["datetime"] for t in times)


def test_results_badge_releases_that_changed(client: FlaskClient) -> None:
    page = soup(client.get("/?q=migrants&lang=en"))
    badges = {h.select_one("h3 a").get_text(): h.select_one(".badge.updated") for h in page.select("li.hit")}
    assert [title for title, badge in badges.items() if badge] == [
        "Coast guards rescue 120 migrants off Libya"]


# -------------------------------------------------------------- filters, empty page, histogram

def test_active_filters_are_chips_that_remove_themselves(client: FlaskClient) -> None:
    page = soup(client.get("/?q=migrants&country=LY&language=fr&from=2024-01-01&lang=en"))
    chips = page.select("nav.chips a.chip")
    assert [c.get_text(" ", strip=True) for c in chips] == [
        "Country: Libya ×", "Language: Français ×", "From: January 1, 2024 ×"]
    without_libya = chips[0]["href"]
    assert "country=" not in without_libya
    assert "language=fr" in without_libya and "q=migrants" in without_libya
    assert chips[0]["aria-label"] == "Remove filter Country: Libya"


def test_empty_page_names_the_filters_that_emptied_it(client: FlaskClient) -> None:
    page = soup(client.get("/?q=migrants&country=GT&lang=en"))
    assert page.select("li.hit") == []
    empty = page.select_one(".empty")
    assert empty is not None
    item = empty.select_one("li")
    assert item.get_text(" ", strip=True) == "without Country: Guatemala · 2 releases"
    assert len(soup(client.get(item.a["href"])).select("li.hit")) == 2


def test_facets_have_show_more_behind_details(client: FlaskClient) -> None:
    page = soup(client.get("/?lang=en"))
    for facet in page.select("fieldset.facet"):
        assert len(facet.select(":scope > ul > li")) <= 5
    more = page.select("details.facet-more")
    assert all(m.summary.get_text().startswith("Show ") for m in more)


def test_histogram_of_matches_per_year_links_each_year(client: FlaskClient) -> None:
    page = soup(client.get("/?lang=en"))
    svg = page.select_one("svg.histogram")
    assert svg is not None
    titles = [t.get_text() for t in svg.select("rect.bar title")]
    assert titles == ["2022: 1 release", "2023: 1 release", "2024: 2 releases"]
    assert [a["href"] for a in svg.select("a")][-1].endswith("year=2024")
    assert soup(client.get("/?q=Guatemala")).select_one("svg.histogram") is None   # one year: no chart


def test_identity_colour_logo_and_name_come_from_the_settings(client: FlaskClient) -> None:
    page = soup(client.get("/?lang=en"))
    assert page.select_one(".brand").get_text(strip=True) == "Example Press Archive"
    assert page.select_one(".brand img.logo")["src"] == "/identity/logo"
    assert "#7a1f5c" in client.get("/identity.css").get_data(as_text=True)
    logo = client.get("/identity/logo")
    assert logo.status_code == 200 and logo.content_type == "image/svg+xml"
    assert page.select_one('link[href="/identity.css"]') is not None


def test_without_a_logo_the_route_answers_404(data_dir: Path) -> None:
    plain = create_app({"DATA_DIR": str(data_dir), "TESTING": True}).test_client()
    assert plain.get("/identity/logo").status_code == 404
    assert "#0b5cad" in plain.get("/identity.css").get_data(as_text=True)
