"""`pressroom cdx`: a CDXJ index of the archive that pywb loads; old-style revisits left out."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.cdx import write_cdxj
from archive.settings import Settings
from archive.verify import VerifyReport, check_file
from archive.warcstore import NOT_MODIFIED_PROFILE, WarcStore
from pressroom.cli import cli
from tests.test_warc import WHEN, response


def test_cdxj_lines_name_a_revisit_and_its_original_by_one_digest(tmp_path: Path) -> None:
    store = WarcStore(tmp_path, "t", 10**9)
    original = store.write_exchange(response("http://127.0.0.1/news/1"))
    store.write_revisit(response("http://127.0.0.1/news/1", 304, b"", [("ETag", '"v1"')],
                                 WHEN + timedelta(days=1)),
                        store.read_original(original), NOT_MODIFIED_PROFILE)
    store.write_exchange(response("http://127.0.0.1/news/2", 200, b"<p>two</p>"))
    store.close()
    lines = [line.split(" ", 2) for line in _cdxj(tmp_path).splitlines()]
    assert [(key, ts) for key, ts, _ in lines] == [
        ("1,0,0,127)/news/1", "20240312090501"), ("1,0,0,127)/news/1", "20240313090501"),
        ("1,0,0,127)/news/2", "20240312090501")]   # sorted by SURT key, then time
    fields = [json.loads(x[2]) for x in lines]
    assert [(f["mime"], f["status"]) for f in fields] == [
        ("text/html", "200"), ("warc/revisit", "200"), ("text/html", "200")]
    assert fields[0]["digest"] == fields[1]["digest"] == original.payload_digest
    assert int(fields[0]["offset"]) == original.offset and fields[0]["filename"] == original.file


def test_cdx_command_writes_an_index_of_the_closed_files(make_settings: Callable[..., Settings],
                                                         tmp_path: Path) -> None:
    settings = make_settings()
    store = WarcStore(settings.data_dir / "warc", "t", 10**9)
    store.write_exchange(response("http://127.0.0.1/news/1"))
    store.close()
    store.write_exchange(response("http://127.0.0.1/news/2"))   # a file still open: left out
    out = tmp_path / "index.cdxj"
    result = CliRunner().invoke(cli, ["cdx", "--data-dir", str(settings.data_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "cdx: 1 lines from 1 WARC files" in result.output
    assert out.read_text().startswith("1,0,0,127)/news/1 20240312090501 {")
    store.close()


def old_style_file(path: Path) -> None:
    """Write a WARC file as Pressroom wrote them before WARC 1.1: a 304 kept in the revisit."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        head = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "http://127.0.0.1/news/1", "response", payload=io.BytesIO(b"<p>old</p>"), length=10,
            http_headers=head, warc_headers_dict={"WARC-Date": "2023-01-01T00:00:00Z"}))
        revisit = writer.create_revisit_record(
            "http://127.0.0.1/news/1", "sha1:AAAA", "http://127.0.0.1/news/1",
            "2023-01-01T00:00:00Z",
            http_headers=StatusAndHeaders("304 Not Modified", [], protocol="HTTP/1.1"))
        revisit.rec_headers.replace_header("WARC-Profile", NOT_MODIFIED_PROFILE)
        revisit.rec_headers.replace_header("WARC-Date", "2023-02-01T00:00:00Z")
        writer.write_record(revisit)


def test_old_style_revisits_stay_readable_and_leave_the_cdx(tmp_path: Path) -> None:
    old_style_file(tmp_path / "old.warc.gz")
    report = VerifyReport()
    places: dict[int, int] = {}
    check_file(tmp_path / "old.warc.gz", report, places)
    assert report.records == 2 and not report.problems
    text = _cdxj(tmp_path)
    assert '"mime": "text/html"' in text and "warc/revisit" not in text


def _cdxj(directory: Path) -> str:
    out = io.StringIO()
    write_cdxj(directory, out)
    return out.getvalue()
