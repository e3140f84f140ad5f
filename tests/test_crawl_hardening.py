"""Issue 15, crawler side: gzip bombs, ambiguous URLs, IPv6-wrapped private addresses, a robots.txt
that keeps answering 429, and a page with 400,000 links. Local servers on 127.0.0.x only."""

from __future__ import annotations

import gzip
import io
import ipaddress
import json
import logging
import re
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytest_httpserver import HTTPServer
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter
from werkzeug import Request, Response
from werkzeug.datastructures import Headers

from archive.capture import importer, netguard
from archive.capture.importer import import_paths
from archive.capture.links import parse_page
from archive.capture.netguard import AddressPolicy, is_public
from archive.capture.runs import crawl_sites
from archive.capture.sitemaps import SitemapTooLarge, parse_sitemap
from archive.cli import summary
from archive.errors import RefusedURL
from archive.layout import open_archive
from archive.settings import Settings, SiteConfig
from tests.catalogue_rows import catalogue_of
from tests.test_hazards import CountingServer, page

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

MiB = 1024 * 1024
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
SITEMAP = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           '{}</urlset>')


def gzip_bomb(expanded: int, fill: bytes = b"\0", prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    """One gzip member of `prefix`, `expanded` bytes of `fill` (whole MiBs) and `suffix`.

    Each MiB of fill is deflated once and its (byte-aligned, full-flushed) output repeated, so a
    1 GiB bomb takes a fraction of a second to build and about 1 MiB to serve.
    """
    block, count = fill * MiB, expanded // MiB
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    one = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert one == deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.compress(suffix) + deflate.flush()
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + count * MiB + len(suffix)
    return GZIP_HEADER + head + one * count + tail + struct.pack("<II", crc, size & 0xFFFFFFFF)


def site_at(server: HTTPServer, key: str, sitemaps: list[str] | None = None,
            start: list[str] | None = None) -> SiteConfig:
    base = f"http://127.0.0.1:{server.port}"
    return SiteConfig(key=key, name=key, start_urls=start or [base + "/"],
                      sitemaps=[base + s for s in sitemaps or []], allow=[], deny=[],
                      languages=["en"])


@pytest.fixture
def fast(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        return make_settings(crawl__delay=0.0, crawl__backoff=0.01, crawl__connect_timeout=2.0,
                             crawl__read_timeout=2.0, **overrides)
    return build


@pytest.fixture
def second_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


def paths_of(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


# -- 1. gzip bombs -------------------------------------------------------------------------------
def test_gzip_sitemap_bomb_stops_at_the_cap_in_bounded_memory() -> None:
    bomb = gzip_bomb(1024 * MiB)   # 1 GiB in about 1 MiB
    assert len(bomb) < 1.1 * MiB
    tracemalloc.start()
    try:
        with pytest.raises(SitemapTooLarge, match="expands past"):
            parse_sitemap(bomb, max_bytes=MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB, f"peak memory {peak} bytes while reading a gzip sitemap bomb"


def test_gzip_sitemaps_within_the_cap_still_parse_every_member() -> None:
    urls = [f"http://e.org/{i}" for i in range(3)]
    members = [gzip.compress(SITEMAP.format(f"<url><loc>{urls[0]}</loc></url>").encode()[:60]),
               gzip.compress(SITEMAP.format("".join(f"<url><loc>{u}</loc></url>"
                                                    for u in urls)).encode()[60:])]
    sitemap = parse_sitemap(b"".join(members), max_bytes=MiB)
    assert [u for u, _ in sitemap.pages] == urls
    assert parse_sitemap(gzip.compress(SITEMAP.format("").encode()) + b"\0\0\0").pages == []
    with pytest.raises(ValueError, match="truncated"):
        parse_sitemap(members[0][:-9])


def test_a_gzip_bomb_sitemap_fails_once_and_the_crawl_goes_on(
        httpserver: HTTPServer, second_server: HTTPServer,
        fast: Callable[..., Settings]) -> None:
    settings = fast(crawl__max_body_bytes=2 * MiB)
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/").respond_with_data(page("home", "/a", "/b"),
                                                     content_type="text/html")
    for path in ("/a", "/b"):
        httpserver.expect_request(path).respond_with_data(page(path), content_type="text/html")
    httpserver.expect_request("/sitemap.xml.gz").respond_with_data(
        gzip_bomb(1024 * MiB), content_type="application/gzip")
    second_server.expect_request("/robots.txt").respond_with_data("", status=404)
    second_server.expect_request("/sitemap.xml").respond_with_data("", status=404)
    second_server.expect_request("/").respond_with_data(page("other"), content_type="text/html")
    bombed = site_at(httpserver, "bombed", sitemaps=["/sitemap.xml.gz"])
    other = site_at(second_server, "other")

    # robots.txt, /, then the sitemap: the run stops right after it and the next one resumes
    first = crawl_sites(settings, [bombed], max_fetches=3)[0]
    assert first.stats.failed == {"sitemap-too-large": 1}
    assert first.stats.new == 1 and not first.complete
    catalogue = catalogue_of(settings)
    state = catalogue.url_state(bombed.sitemaps[0])
    assert state is not None and state.outcome == "failed" and state.document_id is None

    resumed, after = crawl_sites(settings, [bombed, other])
    assert resumed.complete and resumed.stats.new == 2 and not resumed.stats.failed
    assert after.complete and after.stats.new == 1
    assert paths_of(httpserver).count("/sitemap.xml.gz") == 1


def warc_record(writer: WARCWriter, url: str, body: bytes, headers: list[tuple[str, str]]) -> None:
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), *headers], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                  http_headers=http))


def test_import_skips_a_record_whose_content_encoding_is_a_bomb(
        tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    path = tmp_path / "bomb.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        warc_record(writer, "http://e.org/one", page("one").encode(), [])
        warc_record(writer, "http://e.org/bomb", gzip_bomb(256 * MiB, b" "),
                    [("Content-Encoding", "gzip")])
        warc_record(writer, "http://e.org/three", page("three").encode(), [])
    tracemalloc.start()
    try:
        with open_archive(make_settings()) as (catalogue, store):
            stats = import_paths([path], catalogue, store, "e", None, [], max_body_bytes=MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.new == 2
    assert stats.skipped == [f"{path}: http://e.org/bomb: larger than {MiB} bytes once decoded"]
    assert peak < 64 * MiB, f"peak memory {peak} bytes while importing a gzip bomb"


def test_import_stops_a_warc_gz_member_that_expands_to_an_endless_line(
        tmp_path: Path, make_settings: Callable[..., Settings],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "MAX_LINE_BYTES", MiB)
    pad = 256 * MiB
    http_head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Pad: "
    http_tail = b"\r\n\r\n" + page("padded").encode()
    warc_head = (b"WARC/1.0\r\nWARC-Type: response\r\n"
                 b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
                 b"WARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Target-URI: http://e.org/pad\r\n"
                 b"Content-Type: application/http; msgtype=response\r\n"
                 b"Content-Length: %d\r\n\r\n" % (len(http_head) + pad + len(http_tail)))
    first = io.BytesIO()
    warc_record(WARCWriter(first, gzip=True), "http://e.org/one", page("one").encode(), [])
    path = tmp_path / "line.warc.gz"
    path.write_bytes(first.getvalue() + gzip_bomb(pad, b"a", warc_head + http_head,
                                                  http_tail + b"\r\n\r\n"))
    tracemalloc.start()
    try:
        with open_archive(make_settings()) as (catalogue, store):
            stats = import_paths([path], catalogue, store, "e", None, [])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stats.new == 1
    assert len(stats.skipped) == 1 and "without a newline" in stats.skipped[0]
    assert peak < 32 * MiB, f"peak memory {peak} bytes while importing a gzip bomb"


# -- 2. URLs whose host parsers read differently -------------------------------------------------
@pytest.fixture
def public_elsewhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingServer]:
    """A server on 127.0.0.2 that the address guard takes for a public host."""
    server = CountingServer("127.0.0.2")
    real = netguard.is_public
    monkeypatch.setattr(netguard, "is_public",
                        lambda ip: ip == ipaddress.ip_address("127.0.0.2") or real(ip))
    yield server
    server.close()


class RawRedirect(Response):
    """A redirect whose Location goes out byte for byte (werkzeug would re-encode it)."""

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        return Headers([("Location", self.location), ("Content-Length", "0")])

    def __init__(self, location: str) -> None:
        super().__init__(status=302)
        self.location = location


def redirect_to(location: str) -> Callable[[Request], Response]:
    return lambda request: RawRedirect(location)


def test_userinfo_and_backslashes_never_reach_another_host(
        httpserver: HTTPServer, fast: Callable[..., Settings],
        public_elsewhere: CountingServer) -> None:
    site, other = f"127.0.0.1:{httpserver.port}", f"127.0.0.2:{public_elsewhere.port}"

    def bad(via: str) -> list[str]:
        """Ambiguous URLs; `via` keeps each way in distinct (a URL already seen is not refetched)."""
        return [f"http://{other}\\@{site}/backslash-{via}", f"http://{other}@{site}/userinfo-{via}",
                f"http://user:pw@{site}/password-{via}", f"http://{other}\\\\{site}/two-{via}",
                f"http:\\\\{other}/slashes-{via}"]

    httpserver.expect_request("/robots.txt").respond_with_data(f"Sitemap: {bad('robots')[0]}\n")
    httpserver.expect_request("/").respond_with_data(
        page("home", *bad("link"), *[f"/go/{i}" for i in range(5)]), content_type="text/html")
    for i, target in enumerate(bad("redirect")):
        httpserver.expect_request(f"/go/{i}").respond_with_handler(redirect_to(target))
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        SITEMAP.format("".join(f"<url><loc>{u}</loc></url>" for u in bad("sitemap"))),
        content_type="application/xml")
    config = site_at(httpserver, "site", sitemaps=["/sitemap.xml"],
                     start=[f"http://{site}/", *bad("start")[:3]])
    settings = fast()
    stats = crawl_sites(settings, [config])[0].stats
    assert public_elsewhere.hits == []
    assert not [p for p in paths_of(httpserver)
                if p.startswith(("/backslash", "/userinfo", "/password", "/two"))]
    assert stats.redirects == 5
    assert stats.refused["backslash-in-host"] >= 7 and stats.refused["userinfo-in-url"] >= 6
    catalogue = catalogue_of(settings)
    for refused in [*bad("start")[:3], *bad("redirect")[:3]]:
        state = catalogue.url_state(refused)
        assert state is not None and state.outcome == "refused", refused
    assert stats.failed["bad-redirect"] == 1   # two-redirect: not even urllib.parse reads its port


def test_the_policy_reads_the_host_as_the_http_client_does() -> None:
    policy = AddressPolicy(["127.0.0.1:8000"])
    policy.check_url("http://127.0.0.1:8000/a\\b")   # a backslash in the path is only a path
    for url, reason in [("http://93.184.215.14\\@127.0.0.1:8000/", "backslash-in-host"),
                        ("http://x@127.0.0.1:8000/", "userinfo-in-url"),
                        ("http://%31%32%37.0.0.1:8000/", "ambiguous-host"),
                        ("http://127.0.0.1:8000\t.evil.org/", "unparsable-url")]:
        with pytest.raises(RefusedURL) as refused:
            policy.check_url(url)
        assert refused.value.reason == reason, url


# -- 3. IPv6 addresses that wrap private IPv4 ones -----------------------------------------------
@pytest.mark.parametrize("address", [
    "::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::10.0.0.1", "64:ff9b::127.0.0.1",
    "64:ff9b::169.254.169.254", "64:ff9b:1::8.8.8.8", "::ffff:0:192.168.0.1", "::10.1.2.3",
    "2002:0a00:0001::1", "2002:7f00:0001::1", "2002:a9fe:a9fe::", "fec0::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2"])
def test_ipv6_forms_of_private_ipv4_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(RefusedURL, match="forbidden-address"):
        AddressPolicy(["news.example.org"]).check_address("news.example.org", 443, address)


@pytest.mark.parametrize("address", ["64:ff9b::8.8.8.8", "2002:0808:0808::1", "::ffff:8.8.8.8",
                                     "2a00:1450:4001::1"])
def test_ipv6_forms_of_public_addresses_stay_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


# -- 4. robots.txt answering 429 -----------------------------------------------------------------
@pytest.mark.parametrize(("retry_after", "requests"), [(None, 4), ("86400", 1)])
def test_robots_txt_answering_429_postpones_the_host_to_the_next_run(
        httpserver: HTTPServer, fast: Callable[..., Settings], retry_after: str | None,
        requests: int) -> None:
    settings = fast(crawl__retries=3, crawl__max_retry_after=5.0)
    headers = {"Retry-After": retry_after} if retry_after else {}
    httpserver.expect_request("/robots.txt").respond_with_data("slow down", 429, headers)
    httpserver.expect_request("/").respond_with_data(page("home", "/a"), content_type="text/html")
    httpserver.expect_request("/a").respond_with_data(page("a"), content_type="text/html")
    httpserver.expect_request("/sitemap.xml").respond_with_data("", status=404)
    config = site_at(httpserver, "busy")
    started = time.monotonic()
    result = crawl_sites(settings, [config])[0]
    assert time.monotonic() - started < 10
    assert paths_of(httpserver) == ["/robots.txt"] * requests
    assert not result.complete and result.stats.new == 0
    assert result.stats.postponed == {f"127.0.0.1:{httpserver.port}": "robots.txt answered 429"}
    run = catalogue_of(settings).runs(1)[0]
    assert run["state"] == "interrupted"
    assert json.loads(run["stats"])["postponed"] == result.stats.postponed
    assert f"postponed to the next run: 127.0.0.1:{httpserver.port} (robots.txt answered 429)" \
        in summary(result)

    httpserver.clear_log()
    httpserver.clear_all_handlers()
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/sitemap.xml").respond_with_data("", status=404)
    httpserver.expect_request("/").respond_with_data(page("home", "/a"), content_type="text/html")
    httpserver.expect_request("/a").respond_with_data(page("a"), content_type="text/html")
    again = crawl_sites(settings, [config])[0]
    assert again.complete and again.stats.new == 2 and not again.stats.postponed
    assert catalogue_of(settings).runs(1)[0]["resumed_from"] == run["id"]


# -- 5. a page with 400,000 links ----------------------------------------------------------------
def many_links(count: int) -> bytes:
    links = "".join(f"<a href=/p/{i}>{i}</a>" for i in range(count))
    return (f'<html><head><link rel="canonical" href="/home"></head><body>{links}'
            '<link rel="canonical" href="/not-this"></body></html>').encode()


def test_links_past_the_cap_are_counted_not_read() -> None:
    result = parse_page(many_links(400_000), "text/html", "http://e.org/", max_links=5000)
    assert result.links == [f"http://e.org/p/{i}" for i in range(5000)]
    assert result.ignored == 395_000 and result.canonical == "http://e.org/home"


def test_a_page_with_400000_links_follows_the_first_max_links_per_page(
        httpserver: HTTPServer, fast: Callable[..., Settings],
        caplog: pytest.LogCaptureFixture) -> None:
    settings = fast(crawl__max_links_per_page=20, crawl__max_body_bytes=16 * MiB)
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/sitemap.xml").respond_with_data("", status=404)
    httpserver.expect_request("/").respond_with_data(many_links(400_000), content_type="text/html")
    httpserver.expect_request(re.compile(r"/p/\d+")).respond_with_data(page("p"),
                                                                       content_type="text/html")
    with caplog.at_level(logging.WARNING, logger="archive.capture.crawl"):
        result = crawl_sites(settings, [site_at(httpserver, "links")], max_fetches=40)[0]
    assert result.complete
    assert [p for p in paths_of(httpserver) if p.startswith("/p/")] == [f"/p/{i}" for i in range(20)]
    assert any("399980 links more than max_links_per_page (20)" in r.getMessage()
               for r in caplog.records)
