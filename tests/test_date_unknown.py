"""A release whose page gives no date: kept, shown as "date unknown" with its capture date in
results, the API and feeds (never 1970)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from archive.capture.importer import import_paths
from archive.cleaning.releases import clean_versions
from archive.layout import open_archive
from indexer.build import rebuild
from tests.catalogue_rows import archive_settings, catalogue_url
from webapp import create_app

ATOM = {"a": "http://www.w3.org/2005/Atom"}
UNDATED = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Ministry opens a shelter for families in Zuwara</title>
<meta property="og:type" content="article"></head><body><article>
<h1>Ministry opens a shelter for families in Zuwara</h1>
<p>Zuwara – The ministry opened a shelter for displaced families on the coast, with room for two
hundred people, a clinic and a kitchen run by volunteers from the town.</p>
<p>Families who lost their homes in the floods will be able to stay for up to six months while
their houses are repaired, and children will go to the school next door.</p>
<p>Volunteers have registered more than ninety families so far; the ministry asks donors to help
with blankets, mattresses and cooking gas before the winter begins.</p>
</article></body></html>"""


def test_an_undated_release_carries_its_capture_date_everywhere(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = archive_settings(data_dir)
    page = tmp_path / "undated.html"
    page.write_text(UNDATED, encoding="utf-8")
    with open_archive(settings) as (catalogue, store):
        import_paths([page], catalogue, store, "example", "https://news.example.org/news/shelter", [])
        stats = clean_versions(catalogue, store, settings)
        (release,) = [r.to_json() for r in catalogue.releases()]
    assert stats.releases == 1
    assert release["published"] is None and release["captured"]
    captured = release["captured"][:10]
    rebuild(data_dir, procs=1, catalogue_url=catalogue_url(data_dir))
    client = create_app({"DATA_DIR": str(data_dir), "TESTING": True}).test_client()

    (hit,) = client.get("/api/search?q=shelter").get_json()["results"]
    assert (hit["published"], hit["captured"][:10], hit["date_source"]) == (None, captured, None)

    feed = etree.fromstring(client.get("/feed.atom?q=shelter").data)
    (entry,) = feed.findall("a:entry", ATOM)
    assert entry.findtext("a:updated", namespaces=ATOM) == f"{captured}T00:00:00Z"
    assert entry.find("a:published", ATOM) is None
    assert feed.findtext("a:updated", namespaces=ATOM) == f"{captured}T00:00:00Z"

    page_html = client.get("/?q=shelter").get_data(as_text=True)
    assert "Date unknown" in page_html and f'<time datetime="{captured}">' in page_html
