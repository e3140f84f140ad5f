"""WARC files per ISO 28500 (1.1): warcinfo first, Host on requests, revisits that replay; CDXJ."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from archive.capture.fetch import Response
from archive.warcstore import IDENTICAL_PROFILE, NOT_MODIFIED_PROFILE, WarcStore

WARCIO = Path(sys.executable).with_name("warcio")
WHEN = datetime(2024, 3, 12, 9, 5, 1, tzinfo=UTC)


def response(url: str, status: int = 200, body: bytes = b"<p>release</p>",
             headers: list[tuple[str, str]] | None = None, when: datetime = WHEN) -> Response:
    headers = headers if headers is not None else [
        ("Content-Type", "text/html; charset=utf-8"), ("ETag", '"v1"'),
        ("Date", "Tue, 12 Mar 2024 09:05:01 GMT"), ("Content-Length", str(len(body)))]
    return Response(url=url, status=status, reason="OK" if status == 200 else "Not Modified",
                    headers=headers, request_headers=[("User-Agent", "test")], raw_body=body,
                    body=body, fetched_at=when)


def records(path: Path) -> list[Any]:
    """Return every record of a WARC file, its payload read."""
    out = []
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            record.payload = record.content_stream().read()
            out.append(record)
    return out


def test_every_file_opens_with_warcinfo_and_every_record_is_warc_1_1(tmp_path: Path) -> None:
    store = WarcStore(tmp_path, "t", max_bytes=1, info={"operator": "Newsroom <https://x.test>"})
    first = store.write_exchange(response("http://127.0.0.1:8000/a?x=1"))
    store.write_revisit(response("http://127.0.0.1:8000/a?x=1", 304, b"", [("ETag", '"v1"')],
                                 WHEN + timedelta(days=1)),
                        store.read_original(first), NOT_MODIFIED_PROFILE)
    store.write_resource("file:///tmp/r.txt", "text/plain", b"text", WHEN)
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) == 3  # max_bytes=1: one exchange per file
    for path in files:
        recs = records(path)
        assert recs[0].rec_type == "warcinfo"
        assert [r.rec_type for r in recs].count("warcinfo") == 1
        assert {r.rec_headers.protocol for r in recs} == {"WARC/1.1"}
        info = recs[0].payload.decode()
        for field in ("software: Pressroom/", "format: WARC File Format 1.1",
                      "operator: Newsroom <https://x.test>", "hostname: "):
            assert field in info
        assert recs[0].rec_headers.get_header("WARC-Filename") == path.name
        for request in (r for r in recs if r.rec_type == "request"):
            assert request.http_headers.get_header("Host") == "127.0.0.1:8000"
            assert request.http_headers.protocol == "GET"
        check = subprocess.run([str(WARCIO), "check", "-v", str(path)], capture_output=True,
                               text=True, timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr
    # the place handed back is the response record's, after the warcinfo record
    assert store.read_payload(first)[1] == b"<p>release</p>"


def test_a_not_modified_revisit_carries_the_originals_head_and_names_it(tmp_path: Path) -> None:
    store = WarcStore(tmp_path, "t", 10**9)
    original = store.write_exchange(response("http://127.0.0.1/news/1"))
    later = WHEN + timedelta(days=2)
    revisit = store.write_revisit(
        response("http://127.0.0.1/news/1", 304, b"",
                 [("ETag", '"v1"'), ("Date", "Thu, 14 Mar 2024 09:05:01 GMT"),
                  ("Content-Length", "0")], later),
        store.read_original(original), NOT_MODIFIED_PROFILE)
    store.close()
    [path] = tmp_path.glob("*.warc.gz")
    by_type = {r.rec_type: r for r in records(path)}
    orig, rev = by_type["response"], by_type["revisit"]
    assert rev.http_headers.statusline == "200 OK"          # replays as the original, not a 304
    assert rev.http_headers.get_header("Content-Type") == "text/html; charset=utf-8"
    assert rev.http_headers.get_header("Content-Length") == str(len(b"<p>release</p>"))
    assert rev.http_headers.get_header("Date") == "Thu, 14 Mar 2024 09:05:01 GMT"  # freshened
    assert rev.rec_headers.get_header("WARC-Profile") == NOT_MODIFIED_PROFILE
    assert rev.rec_headers.get_header("WARC-Refers-To-Target-URI") == "http://127.0.0.1/news/1"
    assert rev.rec_headers.get_header("WARC-Refers-To-Date") == orig.rec_headers.get_header("WARC-Date")
    assert rev.rec_headers.get_header("WARC-Date") == "2024-03-14T09:05:01Z"
    digest = orig.rec_headers.get_header("WARC-Payload-Digest")
    assert rev.rec_headers.get_header("WARC-Payload-Digest") == digest == revisit.payload_digest


def test_an_identical_payload_revisit_keeps_its_own_head(tmp_path: Path) -> None:
    store = WarcStore(tmp_path, "t", 10**9)
    original = store.write_exchange(response("http://127.0.0.1/news/1"))
    again = response("http://127.0.0.1/news/1", when=WHEN + timedelta(days=1))
    again.headers = [*again.headers, ("X-New", "1")]
    store.write_revisit(again, store.read_original(original), IDENTICAL_PROFILE)
    store.close()
    [path] = tmp_path.glob("*.warc.gz")
    rev = next(r for r in records(path) if r.rec_type == "revisit")
    assert rev.http_headers.get_header("X-New") == "1"
    assert rev.rec_headers.get_header("WARC-Profile") == IDENTICAL_PROFILE
