"""The Atom feed (issue 12): valid by RFC 4287's rules, authored by the organisation, updated
when a release last changed, ids that no Host header can change, and a page for browsers."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import etree

from archive.capture.importer import import_paths
from archive.cleaning.releases import clean_versions
from archive.layout import open_archive
from indexer.build import rebuild
from tests.catalogue_rows import archive_settings, catalogue_of, catalogue_url
from webapp import create_app

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
BASE = "http://127.0.0.1:8123"    # imported, never fetched
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:type" content="article"><meta property="og:site_name" content="Example Agency">
</head><body><article><h1>{title}</h1><time datetime="{date}">{date}</time>
<p>Tripoli – Coast guards rescued {n} migrants off the coast of Libya on Monday, and teams gave
them water, blankets and medical checks at the disembarkation point.</p>
<p>The rescue is the third this month. Survivors said their boat left Zuwara two days earlier;
several people are still missing, and families are asking for news.</p>
<p>Partners are scaling up protection services for survivors in Libya, including psychosocial
support and help to contact relatives, and call for safe and regular pathways.</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    root = tmp_path_factory.mktemp("feed")
    data = root / "data"
    settings = archive_settings(data)
    pages = {"rescue": ("Coast guards rescue migrants off Libya", "2024-03-12", 120),
             "boats": ("New boats for Libya's fishing families", "2023-05-02", 40)}
    with open_archive(settings) as (catalogue, store):
        for name, (title, date, n) in pages.items():
            file = root / f"{name}.html"
            file.write_text(PAGE.format(title=title, date=date, n=n), encoding="utf-8")
            import_paths([file], catalogue, store, "adhoc", f"{BASE}/news/{name}", [])
        time.sleep(1.1)     # the second version is captured a second later
        changed = root / "rescue.html"
        changed.write_text(PAGE.format(title=pages["rescue"][0], date="2024-03-12", n=124), encoding="utf-8")
        import_paths([changed], catalogue, store, "adhoc", f"{BASE}/news/rescue", [])
        clean_versions(catalogue, store, settings)
    rebuild(data, procs=1, catalogue_url=catalogue_url(data))
    return data


def client_for(data_dir: Path, **web: Any) -> FlaskClient:
    settings = archive_settings(data_dir, **{f"web.{k}": v for k, v in web.items()})
    return create_app({"TESTING": True, "SEARCH_BURST": 1000.0}, settings=settings).test_client()


def feed(client: FlaskClient, url: str = "/feed.atom?q=Libya", host: str = "localhost") -> Any:
    response = client.get(url, headers={"Host": host})
    assert response.status_code == 200, response.data
    return etree.fromstring(response.data)


def one(element: Any, name: str) -> Any:
    found = element.findall(A + name)
    assert len(found) == 1, f"{element.tag} has {len(found)} {name} elements, RFC 4287 wants one"
    return found[0]


def test_feed_meets_rfc_4287(data_dir: Path) -> None:
    root = feed(client_for(data_dir))
    assert root.tag == A + "feed"
    for name in ("id", "title", "updated"):
        assert one(root, name).text
    assert RFC3339.match(one(root, "updated").text)
    entries = root.findall(A + "entry")
    assert len(entries) == 2
    feed_authors = root.findall(A + "author")
    ids = []
    for entry in entries:
        ids.append(one(entry, "id").text)
        assert one(entry, "title").text
        assert RFC3339.match(one(entry, "updated").text)
        assert feed_authors or entry.findall(A + "author"), "an entry without an author"
        for author in entry.findall(A + "author"):
            assert one(author, "name").text
        assert entry.findall(f"{A}link[@rel='alternate']") or entry.findall(f"{A}link[@href]")
        assert len(entry.findall(A + "published")) <= 1 and len(entry.findall(A + "summary")) <= 1
    assert len(set(ids)) == len(ids)
    assert all(re.match(r"^(urn:uuid:[0-9a-f-]{36}|https?://)", i) for i in ids)


def test_author_is_the_organisation_and_updated_the_last_version(data_dir: Path) -> None:
    root = feed(client_for(data_dir))
    catalogue = catalogue_of(data_dir, read_only=True)
    by_title = {e.findtext(A + "title"): e for e in root.findall(A + "entry")}
    assert {e.findtext(f"{A}author/{A}name") for e in by_title.values()} == {"Example Agency"}
    rescue = by_title["Coast guards rescue migrants off Libya"]
    rid = rescue.find(f"{A}link[@rel='alternate']").get("href").rsplit("/", 1)[1]
    versions = catalogue.release_versions(rid)
    assert len(versions) == 2
    assert rescue.findtext(A + "updated") == versions[-1].archived.captured
    assert rescue.findtext(A + "published") == "2024-03-12T00:00:00Z"
    boats = by_title["New boats for Libya's fishing families"]
    assert boats.findtext(A + "updated") == "2023-05-02T00:00:00Z"
    assert root.findtext(A + "updated") == versions[-1].archived.captured
    catalogue.close()


def test_ids_do_not_depend_on_the_host_header(data_dir: Path) -> None:
    client = client_for(data_dir)
    seen = []
    for host in ("localhost", "127.0.0.1", "localhost:8080"):
        root = feed(client, host=host)
        seen.append([root.findtext(A + "id"), *(e.findtext(A + "id") for e in root.findall(A + "entry"))])
    assert seen[0] == seen[1] == seen[2]
    assert all(i.startswith("urn:uuid:") for i in seen[0])
    # the same search asked with its parameters in another order, or paged, is the same feed
    again = feed(client, "/feed.atom?sort=relevance&q=Libya&lang=fr")
    assert again.findtext(A + "id") == seen[0][0]
    assert feed(client, "/feed.atom?q=Tripoli").findtext(A + "id") != seen[0][0]


def test_with_a_base_url_ids_are_its_permalinks(data_dir: Path) -> None:
    client = client_for(data_dir, base_url="https://press.example.org")
    root = feed(client, host="press.example.org")
    assert root.findtext(A + "id").startswith("https://press.example.org/feed.atom?q=Libya")
    for entry in root.findall(A + "entry"):
        assert re.match(r"^https://press\.example\.org/release/r-[0-9a-f]{16}$", entry.findtext(A + "id"))


def test_browsers_get_a_page_saying_how_to_follow_the_feed(data_dir: Path) -> None:
    client = client_for(data_dir)
    response = client.get("/feed.atom?q=Libya&lang=fr")
    pi = re.search(rb'<\?xml-stylesheet type="text/xsl" href="([^"]+)"\?>', response.data)
    assert pi is not None
    style = client.get(pi.group(1).decode().replace("&amp;", "&"))
    assert style.status_code == 200 and "xsl" in style.content_type
    transform = etree.XSLT(etree.fromstring(style.data))
    page = transform(etree.fromstring(response.data))
    html = etree.tostring(page, encoding="unicode", method="html")
    assert "lecteur de flux" in html and 'lang="fr"' in html
    assert re.search(r'<input id="feed-address"[^>]*value="http://localhost/feed.atom\?q=Libya', html)
    assert len(re.findall(r"<li[ >]", html)) == 2 and "Example Agency" in html


def test_the_search_page_links_a_follow_page_that_names_the_feed(data_dir: Path) -> None:
    client = client_for(data_dir)
    search = client.get("/?q=Libya&lang=es").get_data(as_text=True)
    follow = re.search(r'href="(/feed\?[^"]+)"', search)
    assert follow is not None
    page = client.get(follow.group(1).replace("&amp;", "&"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "lector de fuentes" in html and html.count("<h1") == 1
    assert re.search(r'<input id="feed-address" readonly value="http://localhost/feed.atom\?q=Libya', html)
    assert re.search(r'<link rel="alternate" type="application/atom\+xml"', html)


def test_categories_carry_names_for_people_beside_their_codes(data_dir: Path) -> None:
    root = feed(client_for(data_dir), "/feed.atom?q=Libya&lang=es")
    labels = {c.get("term"): c.get("label") for c in root.iter(A + "category")}
    assert labels["LY"] == "Libia"
    assert all(labels.values()), "every category names its code"
