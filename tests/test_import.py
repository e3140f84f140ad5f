"""pressroom import: text dumps (navigation learned, not listed), HTML files and WARC files."""

from __future__ import annotations

import io
import json
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import ROOT, run_cli

DUMPS = ROOT / "tests" / "fixtures" / "textdumps"
SEED_TITLE = ("L'OIM aide le gouvernement libyen à établir un groupe de travail sur la politique "
              "de gestion des migrations")
MENU = ["Qui sommes nous", "Structure", "Notre travail", "Où travaillons-nous", "Faire un don"]
RELEASE_HTML = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Flood response reaches 12,000 families | Example Agency</title>
<meta property="og:type" content="article"></head><body>
<nav><a href="/">Home</a> <a href="/about">About us</a> Our work across the world</nav>
<article><h1>Flood response reaches 12,000 families</h1><time datetime="2024-05-02">2 May 2024</time>
<p>Dhaka – Relief teams have reached 12,000 families displaced by the floods in northern
Bangladesh with shelter kits, clean water and hygiene supplies over the past week.</p>
<p>The floods followed days of heavy rain and have damaged more than 30,000 homes, according to
district authorities, who asked humanitarian partners to scale up their support quickly.</p>
<p>Teams are also tracking displacement in the worst-hit districts so that aid reaches the
families who need it most, and will publish their next update on Friday.</p></article>
<footer>Example Agency, 1 Main Street. Subscribe to our newsletter.</footer></body></html>"""


def export(data: Path) -> list[dict]:
    result = run_cli("export", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_text_dumps_come_out_without_the_site_navigation(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run_cli("import", str(DUMPS), "--site", "iom-fr", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "6 new" in result.stdout and "cleaned: 6 releases" in result.stdout
    releases = {r["title"]: r for r in export(data)}
    seed = releases[SEED_TITLE]
    assert seed["body"].startswith("Libye - Dans le cadre de son projet")
    assert seed["published"] == "2013-06-11" and seed["language"] == "fr"
    assert seed["countries"] == ["LY"] and [p["acronym"] for p in seed["projects"]] == ["START"]
    for release in releases.values():
        for line in MENU:
            assert f"\n\n{line}\n\n" not in f"\n\n{release['body']}\n\n"
        assert "Restez informé" not in release["body"]
    again = run_cli("import", str(DUMPS), "--site", "iom-fr", "--data-dir", str(data))
    assert "0 new, 0 changed, 6 unchanged" in again.stdout


def test_an_html_file_with_its_url(tmp_path: Path) -> None:
    page = tmp_path / "flood.html"
    page.write_text(RELEASE_HTML, encoding="utf-8")
    data = tmp_path / "data"
    url = "https://news.example.org/news/flood-response"
    result = run_cli("import", str(page), "--url", url, "--site", "example", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    [release] = export(data)
    assert release["url"] == url and release["site"] == "example"
    assert release["published"] == "2024-05-02" and release["countries"] == ["BD"]
    assert "About us" not in release["body"] and "newsletter" not in release["body"]


def test_a_warc_file(tmp_path: Path) -> None:
    warc = tmp_path / "capture.warc.gz"
    with warc.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                   protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "https://news.example.org/news/flood-response?utm_source=x", "response",
            payload=io.BytesIO(RELEASE_HTML.encode()), http_headers=headers))
        missing = StatusAndHeaders("404 Not Found", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            "https://news.example.org/gone", "response", payload=io.BytesIO(b"<p>gone</p>"),
            http_headers=missing))
    data = tmp_path / "data"
    result = run_cli("import", str(warc), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "1 new" in result.stdout
    [release] = export(data)
    assert release["url"] == "https://news.example.org/news/flood-response"
    assert release["site"] == "news.example.org"
    assert release["title"] == "Flood response reaches 12,000 families"


def test_import_refuses_url_for_many_files_and_missing_paths(tmp_path: Path) -> None:
    result = run_cli("import", str(DUMPS), "--url", "https://x.example/a", "--data-dir", str(tmp_path))
    assert result.returncode == 1 and "--url names one page" in result.stderr
    result = run_cli("import", str(tmp_path / "nothing.txt"), "--data-dir", str(tmp_path))
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_a_warc_file_keeps_its_revisit_records(tmp_path: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    url = "https://news.example.org/news/flood-response"
    warc = tmp_path / "capture.warc.gz"
    with warc.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                   protocol="HTTP/1.1")
        original = writer.create_warc_record(url, "response", payload=io.BytesIO(RELEASE_HTML.encode()),
                                             http_headers=headers,
                                             warc_headers_dict={"WARC-Date": "2024-05-02T10:00:00Z"})
        writer.write_record(original)
        digest = original.rec_headers.get_header("WARC-Payload-Digest")
        for when, head, profile in [
                ("2024-05-03T10:00:00Z", StatusAndHeaders("304 Not Modified", [("ETag", '"x"')],
                                                          protocol="HTTP/1.1"),
                 "http://netpreserve.org/warc/1.0/revisit/server-not-modified"),
                ("2024-05-04T10:00:00Z", headers, None)]:
            revisit = writer.create_revisit_record(url, digest, url, "2024-05-02T10:00:00Z",
                                                   http_headers=head,
                                                   warc_headers_dict={"WARC-Date": when})
            if profile:
                revisit.rec_headers.replace_header("WARC-Profile", profile)
            writer.write_record(revisit)
        writer.write_record(writer.create_revisit_record(
            "https://news.example.org/elsewhere", "sha1:AAAA", "https://news.example.org/elsewhere",
            "2024-01-01T00:00:00Z", http_headers=headers))
    data = tmp_path / "data"
    result = run_cli("import", str(warc), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "1 new, 0 changed, 2 unchanged, 1 skipped" in result.stdout
    assert "elsewhere: a revisit of a capture that is not in the archive" in result.stderr
    revisits = []
    for path in sorted((data / "warc").glob("*.warc.gz")):
        with path.open("rb") as fh:
            revisits += [r for r in ArchiveIterator(fh) if r.rec_type == "revisit"]
    assert [r.rec_headers.get_header("WARC-Date") for r in revisits] == [
        "2024-05-03T10:00:00Z", "2024-05-04T10:00:00Z"]
    for r in revisits:   # each replays as the original: a 200 with its payload's digest
        assert r.http_headers.get_statuscode() == "200"
        assert r.rec_headers.get_header("WARC-Refers-To-Target-URI") == url
        assert r.rec_headers.get_header("WARC-Refers-To-Date") == "2024-05-02T10:00:00Z"
    assert revisits[0].rec_headers.get_header("WARC-Profile").endswith("1.1/revisit/server-not-modified")
    assert revisits[0].http_headers.get_header("ETag") == '"x"'
