"""HTTP as caches, browsers and other sites see it: validators and 304s that follow the archive,
Vary, compression, and CORS on the read-only API only."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive.capture.importer import import_paths
from archive.cleaning.releases import clean_versions
from archive.layout import open_archive
from indexer.build import update
from tests.catalogue_rows import catalogue_url
from tests.webapp_fixtures import build_archive, pages
from webapp import create_app

BASE = "https://news.example.org"
LIFTED = {"SEARCH_BURST": 1000.0, "EXPORT_BURST": 1000.0, "PAGE_BURST": 1000.0, "TESTING": True}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("http") / "data"
    build_archive(data, BASE)
    return data


@pytest.fixture
def app(data_dir: Path) -> Flask:
    return create_app({"DATA_DIR": str(data_dir), **LIFTED})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def release_id(client: FlaskClient, path: str = "/news/libya-rescue") -> str:
    data = client.get("/api/search?size=50").get_json()
    return next(r["id"] for r in data["results"] if r["url"].endswith(path))


def cacheable_urls(client: FlaskClient) -> list[str]:
    rid = release_id(client)
    return ["/?q=migrants", f"/release/{rid}", f"/release/{rid}/changes?from=1&to=1",
            f"/release/{rid}/original", f"/archive/{rid}/replay", "/api/search?q=migrants",
            f"/api/releases/{rid}", "/api/openapi.json", "/feed.atom?q=migrants", "/export.csv?q=migrants",
            "/export.jsonl?q=migrants", "/opensearch.xml"]


def decoded(response: Any) -> bytes:
    data: bytes = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "deflate":
        return zlib.decompress(data)
    assert encoding is None, encoding
    return data


# ---- validators and 304 -------------------------------------------------------------------------

def test_pages_api_and_feeds_answer_304_while_nothing_changed(client: FlaskClient) -> None:
    for url in cacheable_urls(client):
        first = client.get(url)
        assert first.status_code == 200 and first.get_data(), url
        etag, modified = first.headers.get("ETag"), first.headers.get("Last-Modified")
        assert etag and modified, url
        assert first.headers["Cache-Control"].startswith(("no-cache", "private")), url
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b"", url
        assert again.headers["ETag"] == etag and "accept-encoding" in again.headers["Vary"].lower(), url
        assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304, url
        assert client.head(url, headers={"If-None-Match": etag}).status_code == 304, url
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200, url


def test_the_etag_follows_the_request_and_its_language(client: FlaskClient) -> None:
    english = client.get("/?q=migrants").headers["ETag"]
    spanish = client.get("/?q=migrants", headers={"Accept-Language": "es",
                                                  "If-None-Match": english})
    assert spanish.status_code == 200, "a page in another language is another representation"
    tags = {client.get(url, headers=headers).headers["ETag"] for url, headers in (
        ("/?q=migrants", {}), ("/?q=rescue", {}), ("/?q=migrants", {"Accept-Language": "es"}),
        ("/api/search?q=migrants", {}), ("/?q=migrants&lang=fr", {}))}
    assert len(tags) == 5
    # ?lang=fr left a cookie: the same URL is now French, so its English ETag no longer matches
    assert client.get("/?q=migrants", headers={"If-None-Match": english}).status_code == 200


def test_a_304_is_answered_before_searching(app: Flask, client: FlaskClient,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    etag = client.get("/api/search?q=migrants").headers["ETag"]

    def no_search(*_: Any, **__: Any) -> Any:
        raise AssertionError("searched for a conditional request that still matches")

    monkeypatch.setattr("webapp.pages.run_search", no_search)
    monkeypatch.setattr("webapp.api.run_search", no_search)
    assert client.get("/api/search?q=migrants", headers={"If-None-Match": etag}).status_code == 304


def test_validators_change_when_the_archive_changes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = build_archive(data, BASE)
    client = create_app({"DATA_DIR": str(data), **LIFTED}).test_client()
    rid = release_id(client)
    urls = ["/?q=rescue", f"/release/{rid}", "/api/search?q=rescue", "/feed.atom?q=rescue"]
    before = {url: client.get(url).headers["ETag"] for url in urls}
    _name, html = pages(BASE)["/news/libya-rescue"]
    changed = tmp_path / "v2.html"
    changed.write_text(html.replace("the third this month", "the fourth this month"), "utf-8")
    with open_archive(settings) as (catalogue, store):
        import_paths([changed], catalogue, store, "example", BASE + "/news/libya-rescue", [])
        clean_versions(catalogue, store, settings)
    update(data, procs=1, catalogue_url=catalogue_url(settings))
    for url, etag in before.items():
        response = client.get(url, headers={"If-None-Match": etag})
        assert response.status_code == 200 and response.headers["ETag"] != etag, url
    assert b"fourth" in client.get(f"/release/{rid}").get_data()


def test_only_successful_answers_carry_validators(client: FlaskClient, tmp_path: Path) -> None:
    assert "ETag" not in client.get("/release/nothing-here").headers
    assert "ETag" not in client.get("/?q=%2Aab").headers
    assert "ETag" not in client.get("/status").headers
    empty = create_app({"DATA_DIR": str(tmp_path / "empty"), **LIFTED}).test_client()
    assert "ETag" not in empty.get("/?q=x").headers


# ---- Vary ---------------------------------------------------------------------------------------

def vary(response: Any) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


def test_vary_names_what_chose_the_answer(client: FlaskClient) -> None:
    rid = release_id(client)
    for url in ("/", f"/release/{rid}", "/api/search?q=x", "/feed.atom", "/nowhere",
                "/api/nowhere"):
        assert {"accept-language", "cookie", "accept-encoding"} <= vary(client.get(url)), url
    # chosen by the URL, the language does not depend on the headers
    assert "accept-language" not in vary(client.get("/?lang=fr"))
    assert "cookie" not in vary(client.get("/?lang=fr"))
    for url in ("/api/openapi.json", "/opensearch.xml", f"/archive/{rid}/raw",
                f"/archive/{rid}/replay"):
        assert "accept-language" not in vary(client.get(url)), url
    assert "accept" in vary(client.get("/metrics"))
    assert "accept" not in vary(client.get("/"))


# ---- compression --------------------------------------------------------------------------------

def test_pages_api_feeds_and_exports_are_compressed_when_accepted(client: FlaskClient) -> None:
    for url in [*cacheable_urls(client)[:-1], "/static/style.css"]:   # not the tiny OpenSearch
        plain = client.get(url)
        packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
        assert packed.status_code == 200, url
        assert packed.headers.get("Content-Encoding") in ("gzip", "deflate"), url
        if not url.startswith("/export"):           # exports are stamped with their time
            assert decoded(packed) == plain.get_data(), url
        assert len(packed.get_data()) < len(plain.get_data()), url
        assert plain.headers.get("Content-Encoding") is None, url
        plain.close()                                  # a static file is open until then
        packed.close()
    identity = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in identity.headers


def test_the_etag_is_the_same_compressed_or_not(client: FlaskClient) -> None:
    packed = client.get("/?q=migrants", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    plain = client.get("/?q=migrants", headers={"If-None-Match": packed.headers["ETag"]})
    assert plain.status_code == 304


def test_staff_pages_are_never_compressed(client: FlaskClient) -> None:
    login = client.get("/staff/login", headers={"Accept-Encoding": "gzip"})
    assert login.status_code == 200 and "Content-Encoding" not in login.headers


# ---- CORS ---------------------------------------------------------------------------------------

def test_the_read_only_api_answers_any_origin_without_credentials(client: FlaskClient) -> None:
    rid = release_id(client)
    origin = {"Origin": "https://newsroom.example.net"}
    for url in ("/api/search?q=migrants", f"/api/releases/{rid}", "/api/openapi.json",
                "/api/releases/none", "/api/search?q=%2Aab"):
        response = client.get(url, headers=origin)
        assert response.headers["Access-Control-Allow-Origin"] == "*", url
        assert "Access-Control-Allow-Credentials" not in response.headers, url
        assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options("/api/search", headers={
        **origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert preflight.status_code == 200
    methods = {m.strip() for m in preflight.headers["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "HEAD", "OPTIONS"}
    assert "if-none-match" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert client.post("/api/search", headers=origin).status_code == 405


def test_no_cors_outside_the_api(client: FlaskClient) -> None:
    origin = {"Origin": "https://newsroom.example.net"}
    for url in ("/", "/staff/login", "/staff/", "/status", "/feed.atom"):
        response = client.get(url, headers=origin)
        assert "Access-Control-Allow-Origin" not in response.headers, url
    preflight = client.options("/staff/login", headers={**origin,
                                                        "Access-Control-Request-Method": "POST"})
    assert not any(re.match("access-control-", k, re.I) for k, _ in preflight.headers.items())


# ---- rate limits behind a proxy (web.trusted_proxies; see also test_web_hardening) ---------------

def test_without_trusted_proxies_forwarded_for_never_buys_a_new_budget(data_dir: Path) -> None:
    first, second = (create_app({"DATA_DIR": str(data_dir), **LIFTED, "PAGE_RATE": 0.001,
                                 "PAGE_BURST": 2.0}).test_client() for _ in range(2))
    rid = release_id(first)
    url = f"/api/releases/{rid}"

    def status(client: FlaskClient, forwarded: str) -> int:
        return client.get(url, environ_base={"REMOTE_ADDR": "127.0.0.9"},
                          headers={"X-Forwarded-For": forwarded}).status_code

    # the shipped default trusts no proxy, not even loopback; two apps share one bucket
    assert [status(first, "198.51.100.1"), status(second, "198.51.100.2")] == [200, 200]
    assert [status(first, "198.51.100.3"), status(second, "198.51.100.4")] == [429, 429]
