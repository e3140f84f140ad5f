"""What crawlers and people find around the pages: robots.txt, the sitemap, the favicon, the API
page with working curl examples, and one h1 on every page."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from archive.layout import DataDir
from tests.catalogue_rows import archive_settings, pass_database
from tests.webapp_fixtures import build_archive
from webapp import create_app
from webapp.accounts import Accounts
from webapp.i18n import LANGUAGES, STRINGS

LIFTED = {"SEARCH_BURST": 1000.0, "EXPORT_BURST": 1000.0, "PAGE_BURST": 1000.0, "TESTING": True}
SITEMAP = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("meta") / "data"
    build_archive(data)
    with Accounts(DataDir(data, pass_database()).store_url("staff")) as accounts:
        accounts.add("alice", PASSWORD)
    return data


def make_app(data_dir: Path, config: dict[str, Any] | None = None, **settings: Any) -> Flask:
    loaded = archive_settings(data_dir, **{"staff.secure_cookies": False, **settings})
    return create_app({**LIFTED, **(config or {})}, settings=loaded)


@pytest.fixture
def client(data_dir: Path) -> FlaskClient:
    return make_app(data_dir).test_client()


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "lxml")


def release_ids(client: FlaskClient) -> list[str]:
    return sorted(r["id"] for r in client.get("/api/search?size=50").get_json()["results"])


# ---- robots.txt ---------------------------------------------------------------------------------

def rules_of(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        found.setdefault(name.strip().lower(), set()).add(value.strip())
    return found


def test_robots_keep_crawlers_out_of_staff_exports_and_searches_by_default(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    rules = rules_of(response.get_data(as_text=True))
    assert {"/staff/", "/export.", "/archive/", "/api/search", "/?"} <= rules["disallow"]
    assert rules["sitemap"] == {"http://localhost/sitemap.xml"}
    assert "/release/" not in rules["disallow"] and "/" in rules["allow"]


def test_robots_allow_search_pages_when_the_setting_says_so(data_dir: Path) -> None:
    client = make_app(data_dir, **{"web.robots_allow_search": True}).test_client()
    rules = rules_of(client.get("/robots.txt").get_data(as_text=True))
    assert "/?" not in rules["disallow"] and {"/staff/", "/export."} <= rules["disallow"]


# ---- sitemap.xml --------------------------------------------------------------------------------

def locations(response: Any, tag: str) -> list[str]:
    assert response.status_code == 200 and response.content_type.startswith("application/xml")
    root = ElementTree.fromstring(response.get_data())
    return [e.text or "" for e in root.iterfind(f"s:{tag}/s:loc", SITEMAP)]


def test_the_sitemap_lists_every_release_permalink_with_its_last_change(client: FlaskClient) -> None:
    ids = release_ids(client)
    response = client.get("/sitemap.xml")
    urls = locations(response, "url")
    assert urls == [f"http://localhost/release/{rid}" for rid in ids]
    root = ElementTree.fromstring(response.get_data())
    assert all(len(e.text or "") >= 10 for e in root.iterfind("s:url/s:lastmod", SITEMAP))
    for url in urls:
        assert client.get(urlsplit(url).path).status_code == 200


def test_past_the_limit_the_sitemap_is_an_index_of_pages(data_dir: Path) -> None:
    client = make_app(data_dir, {"SITEMAP_URLS": 3}).test_client()
    ids = release_ids(client)
    assert len(ids) == 4
    parts = locations(client.get("/sitemap.xml"), "sitemap")
    assert parts == ["http://localhost/sitemap-1.xml", "http://localhost/sitemap-2.xml"]
    listed = [u for part in parts for u in locations(client.get(urlsplit(part).path), "url")]
    assert listed == [f"http://localhost/release/{rid}" for rid in ids]
    assert client.get("/sitemap-3.xml").status_code == 404
    assert client.get("/sitemap-0.xml").status_code == 404


# ---- favicon ------------------------------------------------------------------------------------

def test_the_favicon_is_a_small_real_icon(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")
    data = response.get_data()
    response.close()
    assert response.status_code == 200 and response.content_type == "image/vnd.microsoft.icon"
    assert data[:4] == b"\0\0\1\0" and 0 < data[4] <= 4 and len(data) < 5000   # an ICO header
    assert b"\x89PNG" in data
    icon = soup(client.get("/")).select_one("link[rel=icon]")
    assert icon is not None and icon["href"] == "/favicon.ico"


# ---- the API page -------------------------------------------------------------------------------

def test_the_api_page_documents_each_operation_with_a_curl_example_that_works(
        client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    page = soup(client.get("/api/"))
    commands = [c.get_text() for c in page.select("pre code")]
    assert len(commands) == sum(len(methods) for methods in spec["paths"].values())
    for command in commands:
        words = shlex.split(command)
        assert words[0] == "curl"
        url = urlsplit(words[-1])
        answer = client.get(url.path, query_string=url.query)
        assert answer.status_code == 200 and answer.is_json, command
    names = {code.get_text() for code in page.select("td code")}
    declared = {p["name"] for methods in spec["paths"].values() for op in methods.values()
                for p in op["parameters"]}
    assert names == declared
    assert soup(client.get("/")).select_one("footer a[href='/api/']") is not None


def test_the_api_page_speaks_the_interface_language(client: FlaskClient) -> None:
    keys = [k for k in STRINGS if k.startswith("api_")]
    assert len(keys) >= 10 and all(set(LANGUAGES) <= set(STRINGS[k]) for k in keys)
    headings = {lang: soup(client.get(f"/api/?lang={lang}")).h2.get_text() for lang in LANGUAGES}
    assert len(set(headings.values())) == len(LANGUAGES)
    arabic = soup(client.get("/api/?lang=ar"))
    assert arabic.html["dir"] == "rtl" and arabic.select_one("pre")["dir"] == "ltr"


# ---- one h1 per page ----------------------------------------------------------------------------

def filled(rule: Any, rid: str) -> str | None:
    """A URL for a GET rule, its arguments filled with real values (None: not a page)."""
    values = {"rid": rid, "fmt": "csv", "number": 1, "filename": "style.css", "f": 1, "doc": 1,
              "ts": 20240101000000, "url": "https://news.example.org/news/x"}
    missing = set(rule.arguments) - set(values)
    assert not missing, f"{rule.rule}: teach this test a value for {missing}"
    url: str = rule.build({k: values[k] for k in rule.arguments})[1]
    return url + ("?from=1&to=1" if rule.endpoint == "pages.changes_page" else "")


def test_every_page_has_exactly_one_h1(data_dir: Path) -> None:
    app = make_app(data_dir)
    client = app.test_client()
    rid = release_ids(client)[0]
    token = soup(client.get("/staff/login")).select_one("input[name=csrf_token]")["value"]
    logged = client.post("/staff/login", data={"name": "alice", "password": PASSWORD,
                                               "csrf_token": token})
    assert logged.status_code in (302, 303)
    urls = [filled(rule, rid) for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())]
    urls += ["/nowhere", "/release/nothing", "/?q=%2Aab", "/?lang=ar", "/?q=zzzzqqq"]
    html_pages = 0
    for url in urls:
        response = client.get(url)
        is_html = response.content_type.startswith("text/html") and not url.startswith("/archive/")
        if is_html:
            html_pages += 1
            assert len(soup(response).find_all("h1")) == 1, url
        response.close()
    assert html_pages >= 12
    anonymous = app.test_client().get("/staff/")
    assert anonymous.status_code == 302
    assert len(soup(app.test_client().get("/staff/login")).find_all("h1")) == 1
