"""Page requisites: found in pages and stylesheets, fetched politely, stored once, linked to pages."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer
from warcio.archiveiterator import ArchiveIterator
from werkzeug import Request, Response

from archive.capture.record import CrawlStats
from archive.capture.runs import crawl_sites
from archive.catalogue import Catalogue
from archive.layout import DataDir, open_archive
from archive.requisite_rows import RequisiteRows
from archive.settings import Settings, SiteConfig
from archive.verify import verify_archive
from tests.catalogue_rows import catalogue_of

LOGO = b"\x89PNG\r\n\x1a\n" + b"logo" * 50
CSS = b'@import "print.css"; @font-face{font-family:F;src:url(/f/font.woff2)} body{background:url(bg.png)}'


def page(title: str, text: str, extra: str = "") -> str:
    return (f'<html><head><title>{title}</title><link rel="stylesheet" href="/s/site.css"></head>'
            f'<body><img src="/img/logo.png" srcset="/img/logo2x.png 2x"><p>{text}</p>{extra}'
            '<img src="/private/secret.png"><img src="http://cdn.invalid/x.png">'
            '<a href="/files/a.pdf">report</a></body></html>')


class RequisiteSite:
    """Two releases sharing a stylesheet and a logo; every request logged with its time."""

    def __init__(self, server: HTTPServer) -> None:
        self.base = f"http://127.0.0.1:{server.port}"
        self.files: dict[str, tuple[str, bytes]] = {
            "/": ("text/html", b'<html><body><a href="/news/a">A</a> <a href="/news/b">B</a></body></html>'),
            "/news/a": ("text/html", page("A", "First release.").encode()),
            "/news/b": ("text/html", page("B", "Second release.").encode()),
            "/s/site.css": ("text/css", CSS),
            "/s/print.css": ("text/css", b"@media print{body{color:black}}"),
            "/s/bg.png": ("image/png", b"\x89PNG\r\n\x1a\nbg"),
            "/f/font.woff2": ("font/woff2", b"wOF2font"),
            "/img/logo.png": ("image/png", LOGO),
            "/img/logo2x.png": ("image/png", LOGO + b"2x"),
            "/img/copy.png": ("image/png", LOGO),
            "/private/secret.png": ("image/png", b"secret"),
            "/files/a.pdf": ("application/pdf", b"%PDF-1.4 report"),
        }
        self.log: list[tuple[str, int, float]] = []
        server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private\n")
        server.no_handler_status_code = 404
        for path in self.files:
            server.expect_request(path).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        ctype, body = self.files[request.path]
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        status = 304 if request.headers.get("If-None-Match") == etag else 200
        self.log.append((request.path, status, time.monotonic()))
        if status == 304:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type=ctype, headers={"ETag": etag})

    def requested(self, prefix: str = "/") -> list[str]:
        return [p for p, _, _ in self.log if p.startswith(prefix) and p not in ("/", "/news/a", "/news/b")]

    def site(self) -> SiteConfig:
        return SiteConfig(key="req", name="Req", start_urls=[self.base + "/"], sitemaps=[],
                          allow=[], deny=[r"\.pdf$"], languages=["en"])


@pytest.fixture
def rsite(httpserver: HTTPServer) -> RequisiteSite:
    return RequisiteSite(httpserver)


def crawl(settings: Settings, site: SiteConfig) -> CrawlStats:
    return crawl_sites(settings, [site])[0].stats


def open_catalogue(settings: Settings) -> Catalogue:
    return catalogue_of(settings)


def warc_records(settings: Settings) -> list[tuple[str, str, str | None]]:
    """(type, target URI, profile) of every record in the data dir's WARC files."""
    found = []
    for path in sorted(DataDir(settings.data_dir).warc.glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                found.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                              record.rec_headers.get_header("WARC-Profile")))
    return found


def page_links(catalogue: Catalogue, base: str, path: str, version: int = 1) -> dict[str, str]:
    doc = catalogue.document_id(base + path)
    assert doc is not None
    return {r.url.removeprefix(base): r.outcome for r in RequisiteRows(catalogue).of_page(doc, version)}


def test_requisites_are_captured_once_and_linked_to_each_page(
        rsite: RequisiteSite, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__delay=0.0)
    stats = crawl(settings, rsite.site())
    # each requisite asked once in the run, although both releases name them
    assert sorted(rsite.requested()) == sorted(
        ["/s/site.css", "/s/print.css", "/s/bg.png", "/f/font.woff2", "/img/logo.png",
         "/img/logo2x.png", "/files/a.pdf"])
    assert stats.requisites == 7 and stats.requisite_requests == 7
    catalogue = open_catalogue(settings)
    for path in ("/news/a", "/news/b"):
        links = page_links(catalogue, rsite.base, path)
        assert links == {"/s/site.css": "archived", "/img/logo.png": "archived",
                         "/img/logo2x.png": "archived", "/private/secret.png": "robots",
                         "http://cdn.invalid/x.png": "off-site", "/files/a.pdf": "archived",
                         "/s/print.css": "archived", "/f/font.woff2": "archived",
                         "/s/bg.png": "archived"}
    kinds = dict(catalogue.db.execute("SELECT url, kind FROM requisites").fetchall())
    assert kinds[rsite.base + "/f/font.woff2"] == "font"
    assert kinds[rsite.base + "/files/a.pdf"] == "document"
    responses = [uri for kind, uri, _ in warc_records(settings) if kind == "response"]
    assert sum(uri == rsite.base + "/s/site.css" for uri in responses) == 1
    with open_archive(settings) as (cat, store):
        report = verify_archive(cat, store)
    assert report.ok, report.problems


def test_a_later_run_asks_conditionally_and_stores_no_bytes_twice(
        rsite: RequisiteSite, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__delay=0.0)
    crawl(settings, rsite.site())
    rsite.log.clear()
    # release B changes, and now also shows the logo's bytes under another URL
    rsite.files["/news/b"] = ("text/html", page("B", "Second release, corrected.",
                                                '<img src="/img/copy.png">').encode())
    stats = crawl(settings, rsite.site())
    statuses = {p: s for p, s, _ in rsite.log}
    assert statuses["/s/site.css"] == 304 and statuses["/img/logo.png"] == 304
    assert statuses["/img/copy.png"] == 200
    assert stats.requisites == 0 and stats.requisite_revisits == len(rsite.requested())
    catalogue = open_catalogue(settings)
    assert catalogue.count("versions") >= 4  # / , A, B v1, B v2
    assert catalogue.db.execute("SELECT COUNT(*) FROM requisites").fetchone()[0] == 7
    links = RequisiteRows(catalogue).of_page(catalogue.document_id(rsite.base + "/news/b") or 0, 2)
    copy = next(r for r in links if r.url.endswith("/img/copy.png"))
    assert copy.stored is not None and copy.stored.url.endswith("/img/logo.png")  # same bytes
    revisits = [(uri, profile) for kind, uri, profile in warc_records(settings) if kind == "revisit"]
    assert any(uri == rsite.base + "/img/copy.png" and "identical-payload-digest" in (profile or "")
               for uri, profile in revisits)
    assert any(uri == rsite.base + "/s/site.css" and "server-not-modified" in (profile or "")
               for uri, profile in revisits)


def test_budget_and_delay_hold_for_requisites(
        rsite: RequisiteSite, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__delay=0.15, requisites__max_count=2)
    stats = crawl(settings, rsite.site())
    assert len(rsite.requested()) == 2 and stats.requisite_requests == 2
    assert stats.requisites_skipped["over-budget"] > 0
    times = [t for _, _, t in rsite.log]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.15 * 0.9, gaps  # one host: every request, requisites too, waits its turn


def test_byte_budget_stops_requisites(rsite: RequisiteSite, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__delay=0.0, requisites__max_bytes=50)
    stats = crawl(settings, rsite.site())
    assert stats.requisite_requests == 1  # the first one passes the 50 bytes; none follows


def test_requisites_off_fetches_none(rsite: RequisiteSite, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__delay=0.0, requisites__enabled=False)
    stats = crawl(settings, rsite.site())
    assert rsite.requested() == [] and stats.requisite_requests == 0
    assert open_catalogue(settings).db.execute("SELECT COUNT(*) FROM page_requisites").fetchone()[0] == 0


def test_only_the_chosen_types_are_fetched(rsite: RequisiteSite,
                                           make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__delay=0.0, requisites__types=["stylesheet"])
    crawl(settings, rsite.site())
    assert sorted(rsite.requested()) == ["/s/print.css", "/s/site.css"]


def test_unknown_requisite_type_is_refused(make_settings: Callable[..., Settings]) -> None:
    from archive.errors import SettingsError

    with pytest.raises(SettingsError, match=r"requisites\.types"):
        make_settings(requisites__types=["video"])


