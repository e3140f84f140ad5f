"""Hazards a crawl must survive, each with its own local server on 127.0.0.x."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from archive.capture.fetch import Fetcher
from archive.capture.netguard import AddressPolicy
from archive.capture.record import CrawlStats
from archive.capture.runs import crawl_sites
from archive.errors import RefusedURL
from archive.settings import Settings, SiteConfig
from tests.catalogue_rows import catalogue_of

PAGE = "<html><head><title>{0}</title></head><body><p>{0}</p>{1}</body></html>"


def page(title: str, *links: str) -> str:
    return PAGE.format(title, "".join(f'<a href="{h}">{h}</a>' for h in links))


def site_for(server: HTTPServer, *paths: str, host: str | None = None) -> SiteConfig:
    base = f"http://{host or '127.0.0.1'}:{server.port}"
    return SiteConfig(key="test", name="test", start_urls=[base + p for p in paths or ("/",)],
                      sitemaps=[], allow=[], deny=[], languages=["en"])


def crawl(settings: Settings, site: SiteConfig) -> CrawlStats:
    return crawl_sites(settings, [site])[0].stats


@pytest.fixture(autouse=True)
def no_sitemap(httpserver: HTTPServer) -> None:
    """The crawler asks for /sitemap.xml when robots.txt names none: answer 404 by default."""
    httpserver.expect_request("/sitemap.xml").respond_with_data("", status=404)


@pytest.fixture
def fast(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(crawl__delay=0.0, crawl__backoff=0.01, crawl__connect_timeout=2.0,
                         crawl__read_timeout=2.0)


class CountingServer:
    """A server on another loopback address that counts the requests reaching it."""

    def __init__(self, address: str) -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"secret")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def other_loopback() -> Iterator[CountingServer]:
    server = CountingServer("127.0.0.2")
    yield server
    server.close()


@pytest.fixture
def other_port() -> Iterator[CountingServer]:
    server = CountingServer("127.0.0.1")
    yield server
    server.close()


def test_redirects_and_links_to_internal_addresses_reach_nothing(
        httpserver: HTTPServer, fast: Settings, other_loopback: CountingServer,
        other_port: CountingServer, loopback_only: list[Any]) -> None:
    elsewhere = f"http://127.0.0.2:{other_loopback.port}/secret"
    same_ip_other_port = f"http://127.0.0.1:{other_port.port}/secret"
    targets = [elsewhere, same_ip_other_port, "http://10.20.30.40/admin",
               "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://localhost:9/x"]
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/").respond_with_data(
        page("home", *targets, *[f"/go/{i}" for i in range(len(targets))]), content_type="text/html")
    for i, target in enumerate(targets):
        httpserver.expect_request(f"/go/{i}").respond_with_data("", status=302,
                                                                headers={"Location": target})
    stats = crawl(fast, site_for(httpserver))
    assert other_loopback.hits == [] and other_port.hits == []
    assert loopback_only == [], "a connection to a non-loopback address was attempted"
    assert stats.redirects == len(targets)
    assert sum(stats.refused.values()) >= len(targets) + 4   # redirects refused, internal links too
    assert stats.refused["forbidden-address"] >= 4


def test_a_site_host_resolving_to_a_private_address_is_refused(
        httpserver: HTTPServer, fast: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    httpserver.expect_request("/").respond_with_data(page("home"), content_type="text/html")
    real = socket.getaddrinfo

    def fake_getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "newsroom.test":  # a public-looking name that DNS points at loopback
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    stats = crawl(fast, site_for(httpserver, host="newsroom.test"))
    assert len(httpserver.log) == 0
    assert stats.fetched == 0
    assert stats.refused["forbidden-address"] >= 1


def test_the_policy_checks_every_resolved_address() -> None:
    policy = AddressPolicy(["127.0.0.1:8000", "news.example.org"])
    policy.check_address("127.0.0.1", 8000, "127.0.0.1")           # a loopback site is allowed
    policy.check_address("news.example.org", 443, "93.184.215.14")
    for host, port, address in [("news.example.org", 443, "10.0.0.1"),
                                ("news.example.org", 443, "127.0.0.1"),
                                ("127.0.0.1", 8001, "127.0.0.1"),
                                ("news.example.org", 80, "::ffff:192.168.0.1")]:
        with pytest.raises(RefusedURL):
            policy.check_address(host, port, address)
    with pytest.raises(RefusedURL, match="off-site"):
        policy.check_url("https://other.example.org/")
    with pytest.raises(RefusedURL, match="bad-scheme"):
        policy.check_url("file:///etc/passwd")


def test_redirect_loop_and_too_many_redirects_fail_with_their_reason(
        httpserver: HTTPServer, fast: Settings) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/").respond_with_data(page("home", "/loop-a", "/hop/0"),
                                                     content_type="text/html")
    httpserver.expect_request("/loop-a").respond_with_data("", 301, {"Location": "/loop-b"})
    httpserver.expect_request("/loop-b").respond_with_data("", 301, {"Location": "/loop-a"})
    for i in range(10):
        httpserver.expect_request(f"/hop/{i}").respond_with_data("", 302, {"Location": f"/hop/{i + 1}"})
    stats = crawl(fast, site_for(httpserver))
    assert stats.failed["redirect-loop"] == 1
    assert stats.failed["too-many-redirects"] == 1
    hops = [r for r, _ in httpserver.log if r.path.startswith("/hop/")]
    assert len(hops) == fast.crawl.max_redirects + 1


def drip(request: Request) -> Response:
    def body() -> Iterator[bytes]:
        yield b"<html><body>"
        for _ in range(600):
            time.sleep(0.05)
            yield b"x"

    return Response(body(), content_type="text/html")


def test_slow_drip_body_is_cut_at_the_deadline(httpserver: HTTPServer,
                                               make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__fetch_deadline=1.0, crawl__read_timeout=5.0)
    httpserver.expect_request("/drip").respond_with_handler(drip)
    fetcher = Fetcher(settings.crawl, AddressPolicy([f"127.0.0.1:{httpserver.port}"]))
    started = time.monotonic()
    resp = fetcher.fetch(f"http://127.0.0.1:{httpserver.port}/drip")
    elapsed = time.monotonic() - started
    assert resp.truncated == "time"
    assert 0.9 <= elapsed < 2.0
    assert resp.body.startswith(b"<html><body>x")


def test_oversize_body_is_capped_and_marked(httpserver: HTTPServer,
                                            make_settings: Callable[..., Settings]) -> None:
    cap = 256 * 1024
    settings = make_settings(crawl__max_body_bytes=cap)
    httpserver.expect_request("/big").respond_with_data(b"<p>" + b"a" * (4 * 1024 * 1024),
                                                        content_type="text/html")
    fetcher = Fetcher(settings.crawl, AddressPolicy([f"127.0.0.1:{httpserver.port}"]))
    resp = fetcher.fetch(f"http://127.0.0.1:{httpserver.port}/big")
    assert resp.truncated == "length"
    assert len(resp.body) == cap and len(resp.raw_body) == cap


def test_gzip_bomb_stops_at_the_cap_with_bounded_memory(httpserver: HTTPServer,
                                                        make_settings: Callable[..., Settings]) -> None:
    cap = 1024 * 1024
    bomb = gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=9)   # 256 MiB in ~250 KiB
    settings = make_settings(crawl__max_body_bytes=cap)
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "gzip"})
    fetcher = Fetcher(settings.crawl, AddressPolicy([f"127.0.0.1:{httpserver.port}"]))
    tracemalloc.start()
    try:
        resp = fetcher.fetch(f"http://127.0.0.1:{httpserver.port}/bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert resp.truncated == "length"
    assert len(resp.body) == cap
    assert peak < 16 * cap, f"peak memory {peak} bytes while reading a gzip bomb"


def test_retry_after_on_429_is_respected(httpserver: HTTPServer, fast: Settings) -> None:
    times: list[float] = []

    def limited(request: Request) -> Response:
        times.append(time.monotonic())
        if len(times) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "2"})
        return Response(page("ok"), content_type="text/html")

    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/").respond_with_handler(limited)
    stats = crawl(fast, site_for(httpserver))
    assert len(times) == 2 and times[1] - times[0] >= 1.95
    assert stats.new == 1 and stats.retries == 1


def test_retry_after_beyond_the_cap_gives_up_at_once(httpserver: HTTPServer,
                                                     make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__delay=0.0, crawl__max_retry_after=5.0)
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/").respond_with_data("busy", 503, {"Retry-After": "86400"})
    started = time.monotonic()
    stats = crawl(settings, site_for(httpserver))
    assert time.monotonic() - started < 3
    assert stats.failed == {"http-503": 1} and stats.new == 0


def test_server_errors_are_retried_then_recorded_without_a_version(
        httpserver: HTTPServer, fast: Settings) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/").respond_with_data("<h1>503</h1>", 503, content_type="text/html")
    stats = crawl(fast, site_for(httpserver))
    assert stats.failed == {"http-503": 1}
    assert stats.retries == fast.crawl.retries
    catalogue = catalogue_of(fast)
    assert catalogue.count("versions") == 0
    assert catalogue.url_state(f"http://127.0.0.1:{httpserver.port}/") is not None


def test_robots_txt_500_keeps_the_host_uncrawled(httpserver: HTTPServer, fast: Settings) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("oops", status=500)
    httpserver.expect_request("/").respond_with_data(page("home", "/a"), content_type="text/html")
    stats = crawl(fast, site_for(httpserver))
    assert {r.path for r, _ in httpserver.log} == {"/robots.txt"}
    assert stats.skipped_robots >= 1 and stats.new == 0 and stats.fetched == 1 + fast.crawl.retries


def test_robots_txt_404_allows_everything(httpserver: HTTPServer, fast: Settings) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("gone", status=404)
    httpserver.expect_request("/").respond_with_data(page("home", "/a"), content_type="text/html")
    httpserver.expect_request("/a").respond_with_data(page("a"), content_type="text/html")
    stats = crawl(fast, site_for(httpserver))
    assert stats.new == 2


def test_robots_rules_and_capped_crawl_delay(httpserver: HTTPServer,
                                             make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(crawl__delay=0.0, crawl__max_crawl_delay=0.3)
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private\nCrawl-delay: 3600\n")
    httpserver.expect_request("/").respond_with_data(page("home", "/a", "/b", "/private/x"),
                                                     content_type="text/html")
    for path in ("/a", "/b"):
        httpserver.expect_request(path).respond_with_data(page(path), content_type="text/html")
    stamps: list[float] = []
    started = time.monotonic()
    stats = crawl(settings, site_for(httpserver))
    stamps.append(time.monotonic() - started)
    paths = [r.path for r, _ in httpserver.log]
    assert "/private/x" not in paths and stats.skipped_robots == 1
    assert stats.new == 3
    # robots.txt, sitemap.xml, /, /a, /b: four gaps of at least the capped 0.3 s
    assert 1.2 <= stamps[0] < 10
