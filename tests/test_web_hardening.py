"""Web hardening (issue 15): raw captures capped, costly pages limited, limits shared by workers
and keyed on the real client, Host checked and base_url pinned, headers on every reply, feeds
that stay XML, and text fields that hold text."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sqlite3
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from archive.capture.fetch import Response
from archive.database import sqlite_url
from archive.errors import SettingsError
from archive.layout import DataDir
from archive.release import Archived, Contact, Release, ReleaseVersion
from archive.settings import Settings, load_settings
from archive.warcstore import RecordRef, WarcStore
from indexer.search import Hit, SearchPage, SearchRequest
from tests.webapp_fixtures import build_archive
from webapp import create_app

BASE = "https://news.example.org"
ATOM = {"a": "http://www.w3.org/2005/Atom"}
LIFTED = {"SEARCH_BURST": 1000.0, "EXPORT_BURST": 1000.0, "PAGE_BURST": 1000.0}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("hardening") / "data"
    build_archive(data, BASE)
    return data


def settings_for(data_dir: Path, **web: Any) -> Settings:
    return load_settings(overrides={"data_dir": str(data_dir),
                                    **{f"web.{k}": v for k, v in web.items()}}, environ={})


def make_app(data_dir: Path, config: dict[str, Any] | None = None, **web: Any) -> Flask:
    app = create_app({"TESTING": True, **LIFTED, **(config or {})}, settings=settings_for(data_dir, **web))
    return app


def release_ids(client: FlaskClient) -> dict[str, str]:
    data = client.get("/api/search?size=50").get_json()
    return {re.sub(r"^https?://[^/]+", "", r["url"]): r["id"] for r in data["results"]}


def peer(address: str, **headers: str) -> dict[str, Any]:
    """Keyword arguments for the test client: a request from `address`, with headers."""
    return {"environ_base": {"REMOTE_ADDR": address}, "headers": headers}


def security_headers_on(response: Any) -> bool:
    return ("default-src 'self'" in response.headers.get("Content-Security-Policy", "")
            and response.headers.get("X-Content-Type-Options") == "nosniff"
            and bool(response.headers.get("Referrer-Policy"))
            and response.headers.get("X-Frame-Options") == "DENY")


# ---- 1. the raw capture is decoded within a cap -------------------------------------------------

def archive_response(data_dir: Path, body: bytes, encoding: str | None) -> RecordRef:
    settings = settings_for(data_dir)
    store = WarcStore(DataDir(data_dir).warc, settings.archive.warc_prefix, settings.archive.warc_max_bytes)
    headers = [("Content-Type", "text/html; charset=utf-8")]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    try:
        return store.write_exchange(Response(
            url=BASE + "/news/bomb", status=200, reason="OK", headers=headers, request_headers=[],
            raw_body=body, body=b"", fetched_at=datetime.now(UTC)))
    finally:
        store.close()


def gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


@pytest.fixture
def pointed(data_dir: Path) -> Iterator[Any]:
    """Point the Spanish release's capture at another WARC record for one test."""
    db = sqlite3.connect(data_dir / "catalogue.sqlite")
    (row_id, *before), = db.execute(
        "SELECT v.id, v.warc_file, v.warc_offset, v.warc_length FROM versions v JOIN cleaned c"
        " ON c.document_id = v.document_id AND c.version = v.version"
        " WHERE c.release LIKE '%Albergues%'").fetchall()

    def point(ref: RecordRef) -> None:
        db.execute("UPDATE versions SET warc_file = ?, warc_offset = ?, warc_length = ? WHERE id = ?",
                   (ref.file, ref.offset, ref.length, row_id))
        db.commit()

    yield point
    db.execute("UPDATE versions SET warc_file = ?, warc_offset = ?, warc_length = ? WHERE id = ?",
               (*before, row_id))
    db.commit()
    db.close()


def test_a_compressed_capture_past_raw_max_bytes_is_413_and_never_expanded(data_dir: Path,
                                                                           pointed: Any) -> None:
    bomb = gzip_of_zeros(48 << 20)
    assert len(bomb) < 64 * 1024, "a few kilobytes that decode to 48 MB"
    app = make_app(data_dir, {"RAW_MAX_BYTES": 1 << 20})
    client = app.test_client()
    rid = release_ids(client)["/es/news/guatemala-albergues"]
    pointed(archive_response(data_dir, bomb, "gzip"))
    tracemalloc.start()
    try:
        refused = client.get(f"/archive/{rid}/raw")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.status_code == 413
    assert "raw_max_bytes" in refused.get_data(as_text=True)
    assert security_headers_on(refused)
    assert peak < 8 << 20, f"{peak:,} bytes held to refuse it"

    # under the cap: decoded, whole, with its length (gzip and deflate, raw deflate too)
    page = ("<html><body>" + "Albergues en Guatemala. " * 20000 + "</body></html>").encode()
    for encoding, body in (("gzip", gzip.compress(page)), ("deflate", zlib.compress(page)),
                           ("deflate", zlib.compress(page)[2:-4]), (None, page)):
        pointed(archive_response(data_dir, body, encoding))
        served = client.get(f"/archive/{rid}/raw")
        assert served.status_code == 200, encoding
        assert served.data == page and served.content_length == len(page), encoding
        assert served.headers["Content-Security-Policy"].startswith("sandbox;")


# ---- 2 and 3. rate limits: costly pages, shared by workers, keyed on the real client ----------

def test_costly_pages_have_their_own_rate_limit(data_dir: Path) -> None:
    app = make_app(data_dir, {"PAGE_RATE": 0.01, "PAGE_BURST": 2.0})
    client = app.test_client()
    rid = release_ids(client)["/news/libya-rescue"]
    urls = [f"/release/{rid}", f"/release/{rid}/original", f"/archive/{rid}/raw", "/status",
            f"/api/releases/{rid}", f"/release/{rid}/changes?from=1&to=1"]
    for number, url in enumerate(urls):
        who = peer(f"192.0.2.{number + 10}")
        assert [client.get(url, **who).status_code for _ in range(3)] == [200, 200, 429], url
        limited = client.get(url, **who)
        assert int(limited.headers["Retry-After"]) > 0 and security_headers_on(limited)
    assert client.get("/api/search?q=libya", **peer("192.0.2.10")).status_code == 200, \
        "searches keep their own budget"


def test_two_workers_draw_on_one_budget(data_dir: Path) -> None:
    config = {"PAGE_RATE": 0.001, "PAGE_BURST": 3.0}
    first, second = (make_app(data_dir, config).test_client() for _ in range(2))
    rid = release_ids(first)["/news/libya-rescue"]
    who = peer("192.0.2.77")
    assert [first.get(f"/api/releases/{rid}", **who).status_code for _ in range(2)] == [200, 200]
    assert [second.get(f"/api/releases/{rid}", **who).status_code for _ in range(2)] == [200, 429]
    assert first.get(f"/api/releases/{rid}", **who).status_code == 429
    assert second.get(f"/api/releases/{rid}", **peer("192.0.2.78")).status_code == 200


def test_forwarded_for_counts_only_from_a_trusted_proxy(data_dir: Path) -> None:
    config = {"PAGE_RATE": 0.001, "PAGE_BURST": 1.0}
    client = make_app(data_dir, config, trusted_proxies=["10.0.0.0/8"]).test_client()
    url = f"/api/releases/{release_ids(client)['/news/libya-rescue']}"
    # a client that is not a proxy cannot buy a new budget with a forged header
    assert client.get(url, **peer("203.0.113.9", **{"X-Forwarded-For": "198.51.100.1"})).status_code == 200
    assert client.get(url, **peer("203.0.113.9", **{"X-Forwarded-For": "198.51.100.2"})).status_code == 429
    # through the proxy, each client has its own budget: the address the proxy saw counts
    via_proxy = [client.get(url, **peer("10.1.2.3", **{"X-Forwarded-For": f})).status_code
                 for f in ("198.51.100.3", "198.51.100.4", "203.0.113.50, 198.51.100.3",
                           "198.51.100.4, 10.9.9.9")]
    assert via_proxy == [200, 200, 429, 429]


def test_the_shared_buckets_stay_small(tmp_path: Path) -> None:
    from webapp.ratelimit import SharedBuckets

    buckets = SharedBuckets(sqlite_url(tmp_path / "ratelimits.db"), max_clients=20)
    buckets.PRUNE_EVERY = 10
    for number in range(200):               # slow refill: nobody's bucket is full again soon
        key = f"page|0.001|2|198.51.100.{number}"
        assert buckets.take(key, 0.001, 2.0) and buckets.take(key, 0.001, 2.0)
    with sqlite3.connect(tmp_path / "ratelimits.db") as db:
        assert db.execute("SELECT count(*) FROM buckets").fetchone()[0] <= 20 + 10
    for number in range(30):                # fast refill: full at once, so forgotten
        assert buckets.take(f"search|1e+06|2|203.0.113.{number}", 1e6, 2.0)
    with sqlite3.connect(tmp_path / "ratelimits.db") as db:
        assert db.execute("SELECT count(*) FROM buckets WHERE key LIKE 'search%'").fetchone()[0] < 10
    assert not buckets.take("page|0.001|2|198.51.100.199", 0.001, 2.0), "the newest are kept"


# ---- 4. the Host header, allowed hosts and base_url ---------------------------------------------

def test_hosts_that_are_not_allowed_get_400(data_dir: Path) -> None:
    client = make_app(data_dir).test_client()
    for host in ("evil.example", "localhost.evil.example", "evil.example:80"):
        page = client.get("/", headers={"Host": host})
        assert page.status_code == 400 and "evil.example" not in page.headers.get("Location", "")
        assert security_headers_on(page)
        api = client.get("/api/openapi.json", headers={"Host": host})
        assert api.status_code == 400 and api.get_json()["error"]["status"] == 400
    for host in ("localhost", "127.0.0.1:8080", "[::1]:8080", "LOCALHOST"):
        assert client.get("/api/openapi.json", headers={"Host": host}).status_code == 200, host

    subdomains = make_app(data_dir, allowed_hosts=[".example.org"]).test_client()
    spec = subdomains.get("/api/openapi.json", headers={"Host": "press.example.org"}).get_json()
    assert spec["servers"][0]["url"] == "http://press.example.org"
    assert subdomains.get("/", headers={"Host": "example.org.evil.net"}).status_code == 400
    assert subdomains.get("/", headers={"Host": "localhost"}).status_code == 400


def test_base_url_makes_every_absolute_url_whatever_the_host_says(data_dir: Path) -> None:
    base = "https://press.example.org/press"
    client = make_app(data_dir, base_url=base).test_client()
    assert client.get("/api/search", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/search", headers={"Host": "localhost"}).status_code == 400
    host = {"Host": "press.example.org"}
    # a proxy may pass the path prefix on, or strip it
    for prefix in ("/press", ""):
        hits = client.get(prefix + "/api/search?q=migrants", headers=host).get_json()["results"]
        assert hits and all(h["permalink"].startswith(base + "/release/") for h in hits)
    rid = hits[0]["id"]
    spec = client.get("/api/openapi.json", headers=host).get_json()
    assert spec["servers"] == [{"url": base}]
    release = client.get(f"/api/releases/{rid}", headers=host).get_json()
    assert release["archived_original"].startswith(base + "/release/")
    assert all(v["url"].startswith(base + "/api/releases/") for v in release["versions"])
    feed = ElementTree.fromstring(client.get("/feed.atom?q=migrants", headers=host).data)
    assert feed.findtext("a:id", "", ATOM).startswith(base + "/feed.atom")
    links = [link.get("href", "") for link in feed.iter("{http://www.w3.org/2005/Atom}link")
             if link.get("rel") != "via"]
    assert links and all(href.startswith(base + "/") for href in links)
    assert all(e.findtext("a:id", "", ATOM).startswith(base + "/release/")
               for e in feed.findall("a:entry", ATOM))
    opensearch = ElementTree.fromstring(client.get("/opensearch.xml", headers=host).data)
    templates = [u.get("template", "") for u in opensearch.iter("{http://a9.com/-/spec/opensearch/1.1/}Url")]
    assert len(templates) == 2 and all(t.startswith(base + "/") for t in templates)
    for line in client.get("/export.jsonl?q=migrants", headers=host).get_data(as_text=True).splitlines():
        assert json.loads(line)["permalink"].startswith(base + "/release/")
    page = client.get(f"/press/release/{rid}", headers=host).get_data(as_text=True)
    assert f'value="{base}/release/{rid}?v=1"' in page
    assert 'href="/press/static/style.css"' in page
    login = client.get("/press/staff/", headers=host)
    assert login.status_code == 302 and login.headers["Location"] == "/press/staff/login"
    form = client.get("/press/staff/login", headers=host)
    assert "Path=/press/staff" in form.headers["Set-Cookie"]
    # a prefix that is also one of the app's own paths could be read two ways: refused
    with pytest.raises(SettingsError, match="base_url"):
        make_app(data_dir, base_url="https://press.example.org/archive/")


# ---- 5. caching of staff pages, Allow, headers on errors, HSTS ---------------------------------

def test_staff_pages_and_the_login_are_never_stored(data_dir: Path) -> None:
    client = make_app(data_dir).test_client()
    for url in ("/staff/login", "/staff/", "/staff/jobs"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
    assert client.post("/staff/login", data={"name": "x"}).headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


def test_405_says_which_methods_are_allowed(data_dir: Path) -> None:
    client = make_app(data_dir).test_client()
    for url in ("/", "/api/search", "/staff/logout"):
        response = client.put(url)
        assert response.status_code == 405
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed >= ({"POST"} if "logout" in url else {"GET", "HEAD"}), url
        assert "our side" not in response.get_data(as_text=True)


def test_error_replies_carry_the_security_headers(data_dir: Path) -> None:
    app = make_app(data_dir, {"PAGE_RATE": 0.001, "PAGE_BURST": 1.0})

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    client = app.test_client()
    rid = release_ids(client)["/news/libya-rescue"]
    client.get(f"/release/{rid}", **peer("192.0.2.200"))
    replies = {404: client.get("/nowhere"), 405: client.put("/"),
               413: client.post("/staff/login", data={"name": "x" * 100_000}),
               429: client.get(f"/release/{rid}", **peer("192.0.2.200")), 500: client.get("/boom"),
               400: client.get("/", headers={"Host": "evil.example"})}
    for status, response in replies.items():
        assert response.status_code == status
        assert security_headers_on(response), status


def test_hsts_only_when_the_request_came_over_https(data_dir: Path) -> None:
    direct = make_app(data_dir).test_client()
    assert direct.get("/", base_url="https://localhost").headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in direct.get("/").headers
    forged = direct.get("/", **peer("203.0.113.9", **{"X-Forwarded-Proto": "https"}))
    assert "Strict-Transport-Security" not in forged.headers
    proxied = make_app(data_dir, trusted_proxies=["10.0.0.0/8"]).test_client()
    response = proxied.get("/", **peer("10.0.0.2", **{"X-Forwarded-Proto": "https"}))
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in proxied.get("/", **peer("10.0.0.2")).headers


# ---- 6 and 7. feeds stay XML; text fields hold text ----------------------------------------------

class FixedSearcher:
    """A searcher that answers every search with the same hits (what an older index may hold)."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits

    def search(self, search: SearchRequest) -> SearchPage:
        return SearchPage(total=len(self.hits), page=1, results=self.hits, facets={})

    def iter_hits(self, search: SearchRequest) -> Iterator[Hit]:
        return iter(self.hits)

    def suggest(self, q: str) -> None:
        return None


def hit(title: str, snippet: str = "text", published: str = "2024-03-12") -> Hit:
    return Hit(id="r-0123456789abcdef", url=BASE + "/news/x", title=title, published=published,
               language="en", countries=["LY"], themes=[], projects=[], snippet=snippet)


def with_hits(data_dir: Path, hits: list[Hit]) -> FlaskClient:
    app = make_app(data_dir)
    app.extensions["pressroom_searcher"] = FixedSearcher(hits)
    return app.test_client()


def test_feeds_stay_valid_xml_with_control_characters(data_dir: Path) -> None:
    dirty = hit("Flood\x1b relief\x08 in the \ufffe north\x00", snippet="rain <mark>fell</mark>\x01 \x0b")
    client = with_hits(data_dir, [dirty])
    for url in ("/feed.atom?q=%01flood%1b", "/feed.atom?q=%EF%BF%BEflood", "/opensearch.xml",
                "/feed.atom?country=%01LY"):
        response = client.get(url)
        assert response.status_code == 200, url
        etree.fromstring(response.data)               # strict: a forbidden character fails
    feed = ElementTree.fromstring(client.get("/feed.atom?q=%01flood").data)
    entry = feed.find("a:entry", ATOM)
    assert entry is not None
    assert entry.findtext("a:title", namespaces=ATOM) == "Flood relief in the  north"
    assert entry.findtext("a:summary", namespaces=ATOM) == "rain fell "
    assert feed.findtext("a:title", namespaces=ATOM) == "Pressroom: flood"


def test_text_fields_hold_text_in_the_api_and_exports(data_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    title = "<img src=x onerror=alert(1)>Flood <<b>script>alert(2)</script> relief"
    client = with_hits(data_dir, [hit(title, snippet="<mark>Flood</mark> relief"),
                                  hit("=HYPERLINK(\"http://x\")")])
    api = client.get("/api/search?q=flood").get_json()["results"]
    assert [h["title"] for h in api] == ["Flood alert(2) relief", '=HYPERLINK("http://x")']
    assert api[0]["snippet"] == "<mark>Flood</mark> relief"      # the one field that is HTML
    lines = client.get("/export.jsonl?q=flood").get_data(as_text=True).splitlines()
    assert json.loads(lines[0])["title"] == "Flood alert(2) relief"
    rows = list(csv.DictReader(io.StringIO(client.get("/export.csv?q=flood").get_data(as_text=True))))
    assert [r["title"] for r in rows] == ["Flood alert(2) relief", "'=HYPERLINK(\"http://x\")"]

    class Catalogue:
        def release_versions(self, rid: str) -> list[ReleaseVersion]:
            stored = Release(id=rid, url=BASE + "/news/x", site="x", language="en", title=title,
                             published=None, version=1,
                             body="Rain.\n\n<svg onload=alert(3)>Roads closed <!-- x -->",
                             contacts=[Contact(name="Eve <img src=x onerror=alert(4)>")])
            return [ReleaseVersion(stored, Archived("2024-03-12T00:00:00Z", "text/html",
                                                    BASE + "/news/x", RecordRef("x", 0, 1)))]

    monkeypatch.setattr("webapp.api.catalogue", lambda app: Catalogue())
    release = client.get("/api/releases/r-0123456789abcdef").get_json()
    assert release["title"] == "Flood alert(2) relief"
    assert release["body"] == "Rain.\n\nRoads closed "
    assert release["contacts"] == [{"name": "Eve ", "office": None, "email": None, "phone": None}]
    assert release["url"] == BASE + "/news/x"
