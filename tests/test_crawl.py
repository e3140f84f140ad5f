"""The crawl on a small site of the test's own: discovery, incremental runs, WARC, lock, resume."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from warcio.archiveiterator import ArchiveIterator
from werkzeug import Request, Response

from archive.capture.record import CrawlStats
from archive.capture.runs import crawl_sites
from archive.errors import CrawlLocked
from archive.layout import DataDir, open_archive
from archive.lock import RunLock
from archive.settings import Settings, SiteConfig
from archive.verify import verify_archive
from tests.catalogue_rows import catalogue_of
from tests.conftest import run_cli


class TinySite:
    """Pages served with ETag and Last-Modified; `pages` may be changed between crawls."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.base = f"http://127.0.0.1:{server.port}"
        self.pages: dict[str, tuple[str, str]] = {
            "/": ("text/html", '<html><head><title>Home</title></head><body>'
                               '<a href="/news">News</a> <a href="/news?utm_source=x">again</a>'
                               '<a href="/report.pdf">PDF</a> <a href="/old">old</a>'
                               '<a href="mailto:press@example.org">mail</a></body></html>'),
            "/news": ("text/html", '<html><head><title>News</title></head><body>'
                                   '<a href="/news/one">One</a> <a href="/news/two#top">Two</a>'
                                   '<a href="/news?page=1">next</a></body></html>'),
            "/news?page=1": ("text/html", '<html><body><a href="/news/three">Three</a></body></html>'),
            "/news/one": ("text/html", self.release("One", "First text.").replace(
                "</head>", '<link rel="alternate" hreflang="fr" href="/fr/news/un"></head>')),
            "/fr/news/un": ("text/html", self.release("Un", "Premier texte.", "/fr/news/un")),
            "/news/two": ("text/html", self.release("Two", "Second text.")),
            "/news/three": ("text/html", self.release("Three", "Third text.")),
            "/report.pdf": ("application/pdf", "%PDF-1.4 not really a PDF"),
        }
        self.requests: list[tuple[str, int]] = []
        server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private\n")
        server.expect_request("/sitemap.xml").respond_with_handler(self.sitemap)
        self.lastmod: dict[str, str] = {}
        server.expect_request("/old").respond_with_data("", 301, {"Location": "/news/one"})
        server.no_handler_status_code = 404
        for path in ("/", "/news", "/news/one", "/news/two", "/news/three", "/report.pdf",
                     "/fr/news/un"):
            server.expect_request(path).respond_with_handler(self.handle)

    def sitemap(self, request: Request) -> Response:
        if not self.lastmod:
            return Response("", status=404)
        urls = "".join(f"<url><loc>{self.base}{path}</loc><lastmod>{when}</lastmod></url>"
                       for path, when in self.lastmod.items())
        return Response('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                        f'sitemap/0.9">{urls}</urlset>', content_type="application/xml")

    def release(self, title: str, text: str, path: str | None = None) -> str:
        return (f'<html><head><title>{title}</title><link rel="canonical" '
                f'href="{self.base}{path or "/news/" + title.lower()}"></head><body><p>{text}</p>'
                f'<a href="/news">back</a></body></html>')

    def handle(self, request: Request) -> Response:
        key = request.path + (f"?page={request.args['page']}" if "page" in request.args else "")
        ctype, text = self.pages[key]
        etag = '"' + hashlib.sha1(text.encode()).hexdigest()[:16] + '"'
        status = 304 if request.headers.get("If-None-Match") == etag else 200
        self.requests.append((key, status))
        if status == 304:
            return Response(status=304, headers={"ETag": etag})
        return Response(text, content_type=ctype, headers={"ETag": etag})

    def site(self) -> SiteConfig:
        return SiteConfig(key="tiny", name="Tiny", start_urls=[self.base + "/"], sitemaps=[],
                          allow=[], deny=[], languages=["en"])


@pytest.fixture
def tiny(httpserver: HTTPServer) -> TinySite:
    return TinySite(httpserver)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(crawl__delay=0.0, crawl__backoff=0.01)


def crawl(settings: Settings, site: SiteConfig) -> CrawlStats:
    return crawl_sites(settings, [site])[0].stats


def test_first_crawl_captures_every_page_once(tiny: TinySite, settings: Settings) -> None:
    stats = crawl(settings, tiny.site())
    catalogue = catalogue_of(settings)
    docs = {r[0] for r in catalogue.db.execute("SELECT url FROM documents")}
    base = tiny.base
    assert {f"{base}/", f"{base}/news", f"{base}/news?page=1", f"{base}/news/one",
            f"{base}/news/two", f"{base}/news/three", f"{base}/report.pdf",
            f"{base}/fr/news/un"} <= docs
    assert not any("utm_" in d or "#" in d or d.endswith("/old") for d in docs)
    fetched = [path for path, _ in tiny.requests]
    assert len(fetched) == len(set(fetched)), "a page was fetched twice in one run"
    assert stats.new == 8 and stats.changed == 0 and stats.redirects == 1
    old = catalogue.url_state(f"{base}/old")
    assert old is not None and old.outcome == "redirect"
    pdf = catalogue.latest_version(catalogue.document_id(f"{base}/report.pdf") or 0)
    assert pdf is not None and pdf.content_type == "application/pdf"


def test_recrawl_is_answered_by_304_and_a_change_makes_one_new_version(
        tiny: TinySite, settings: Settings) -> None:
    crawl(settings, tiny.site())
    tiny.requests.clear()
    second = crawl(settings, tiny.site())
    assert second.new == 0 and second.changed == 0
    assert {status for _, status in tiny.requests} == {304}
    assert second.not_modified == len(tiny.requests)

    tiny.pages["/news/two"] = ("text/html", tiny.release("Two", "Second text, corrected."))
    third = crawl(settings, tiny.site())
    assert third.changed == 1 and third.new == 0
    catalogue = catalogue_of(settings)
    doc = catalogue.document_id(f"{tiny.base}/news/two")
    assert doc is not None
    versions = catalogue.versions(doc)
    assert [v.version for v in versions] == [1, 2]
    changed = {r[0] for r in catalogue.db.execute("SELECT document_id FROM versions WHERE version > 1")}
    assert changed == {doc}
    with open_archive(settings) as (_, store):
        _, first_body = store.read_payload(versions[0].ref)
        _, second_body = store.read_payload(versions[1].ref)
    assert b"Second text." in first_body and b"corrected" in second_body


def test_markup_only_change_records_unchanged(tiny: TinySite, settings: Settings) -> None:
    crawl(settings, tiny.site())
    html = tiny.pages["/news/one"][1]
    tiny.pages["/news/one"] = ("text/html", html.replace("<p>", '<p class="lead">'))
    stats = crawl(settings, tiny.site())
    assert stats.changed == 0
    catalogue = catalogue_of(settings)
    row = catalogue.db.execute("SELECT outcome, reason FROM fetches WHERE url LIKE '%/news/one'"
                               " ORDER BY id DESC LIMIT 1").fetchone()
    assert tuple(row) == ("unchanged", "same-text")


def test_warc_files_hold_requests_responses_and_revisits(tiny: TinySite, settings: Settings) -> None:
    crawl(settings, tiny.site())
    crawl(settings, tiny.site())
    files = sorted(DataDir(settings.data_dir).warc.glob("*"))
    assert files and all(f.name.endswith(".warc.gz") for f in files), "a WARC file was left open"
    kinds: dict[str, int] = {}
    for path in files:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                kinds[record.rec_type] = kinds.get(record.rec_type, 0) + 1
                if record.rec_type == "revisit":
                    assert record.rec_headers.get_header("WARC-Refers-To-Target-URI")
    assert kinds["request"] == kinds["response"] + kinds["revisit"]
    assert kinds["revisit"] >= 8
    with open_archive(settings) as (catalogue, store):
        report = verify_archive(catalogue, store)
    assert report.ok, report.problems
    assert report.rows > 0


def test_a_second_crawl_waits_for_none_and_says_so(tiny: TinySite, settings: Settings,
                                                   tmp_path: Path) -> None:
    with RunLock(settings.data_dir, "crawl"):
        with pytest.raises(CrawlLocked, match="another crawl is running"):
            crawl(settings, tiny.site())
        result = run_cli("crawl", tiny.base + "/", "--data-dir", str(settings.data_dir))
        assert result.returncode == 1
        assert "another crawl is running" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert crawl(settings, tiny.site()).new == 8


def test_cli_crawl_prints_a_summary(tiny: TinySite, tmp_path: Path) -> None:
    result = run_cli("crawl", tiny.base + "/", "--delay", "0", "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    assert "new 8" in result.stdout and "failed 0" in result.stdout
    assert "skipped by robots.txt" in result.stdout and "refused 0" in result.stdout


def test_cli_rejects_a_bad_setting_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[crawl]\ndelay = 'soon'\n")
    result = run_cli("crawl", "--config", str(bad), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: {bad}: crawl.delay must be float, not 'soon'"


def test_limit_stops_early_and_the_next_run_resumes(tiny: TinySite, settings: Settings) -> None:
    first = crawl_sites(settings, [tiny.site()], max_fetches=3)[0]
    assert not first.complete and first.stats.fetched == 3
    second = crawl_sites(settings, [tiny.site()])[0]
    assert second.complete
    catalogue = catalogue_of(settings)
    assert catalogue.count("documents") == 8
    fetched = [path for path, status in tiny.requests if status == 200]
    assert len(fetched) == len(set(fetched)), "the resumed run fetched a page again"
    runs = catalogue.runs()
    assert runs[0]["resumed_from"] == runs[1]["id"] and runs[1]["state"] == "resumed"


def test_sitemap_lastmod_newer_than_the_capture_forces_a_full_fetch(
        tiny: TinySite, settings: Settings) -> None:
    crawl(settings, tiny.site())
    tiny.lastmod = {"/news/three": "2999-01-01", "/news/two": "2000-01-01"}
    tiny.requests.clear()
    crawl(settings, tiny.site())
    assert ("/news/three", 200) in tiny.requests     # told it changed: no If-None-Match sent
    assert ("/news/two", 304) in tiny.requests       # older lastmod: revalidated


def test_trusting_sitemap_lastmod_skips_unchanged_pages(
        tiny: TinySite, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__delay=0.0, crawl__sitemap_lastmod_skip=True)
    tiny.lastmod = {"/news/two": "2000-01-01", "/news/three": "2000-01-01"}
    crawl(settings, tiny.site())
    tiny.requests.clear()
    stats = crawl(settings, tiny.site())
    fetched = {path for path, _ in tiny.requests}
    assert "/news/two" not in fetched and "/news/three" not in fetched
    assert "/news" in fetched and stats.unchanged >= 2 and stats.new == 0


def test_requests_name_the_operator_and_warc_files_rotate_by_size(
        tiny: TinySite, httpserver: HTTPServer, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__delay=0.0, archive__warc_max_bytes=2000)
    crawl(settings, tiny.site())
    agents = {request.headers.get("User-Agent") for request, _ in httpserver.log}
    assert agents == {settings.crawl.user_agent}
    assert settings.crawl.contact_url in settings.crawl.user_agent
    assert settings.crawl.operator in settings.crawl.user_agent
    files = sorted(DataDir(settings.data_dir).warc.iterdir())
    assert len(files) >= 4 and all(f.name.endswith(".warc.gz") for f in files)
    with open_archive(settings) as (catalogue, store):
        report = verify_archive(catalogue, store)
    assert report.ok and report.files == len(files)


def test_progress_line_and_log_lines_name_site_and_url(
        tiny: TinySite, settings: Settings, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from archive.cli import Progress

    caplog.set_level(logging.INFO, logger="archive")
    lines: list[str] = []
    progress = Progress()

    def on_event(url: str, stats: CrawlStats, queued: int) -> None:
        lines.append(url)
        progress(url, stats, queued)

    result = crawl_sites(settings, [tiny.site()], on_event=on_event)
    assert result[0].complete and len(lines) >= 8
    progress.clear()
    status = capsys.readouterr().err
    assert "\rfetched 2  new 1  changed 0" in status and "queue" in status
    events = [r.getMessage() for r in caplog.records if r.name == "archive.capture.record"]
    assert any(m.startswith(f"tiny: new {tiny.base}/news/one") for m in events)


def test_verify_command_reports_a_consistent_archive_and_a_damaged_one(
        tiny: TinySite, settings: Settings) -> None:
    crawl(settings, tiny.site())
    ok = run_cli("verify", "--data-dir", str(settings.data_dir))
    assert ok.returncode == 0 and "all consistent" in ok.stdout
    [warc] = list(DataDir(settings.data_dir).warc.glob("*.warc.gz"))
    data = warc.read_bytes()
    warc.write_bytes(data[: len(data) // 2])      # lose the second half of the records
    damaged = run_cli("verify", "--data-dir", str(settings.data_dir))
    assert damaged.returncode == 1 and "problems" in damaged.stdout
    assert "no record there" in damaged.stderr
