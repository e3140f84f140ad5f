"""`pressroom wacz`: a WACZ 1.1.1 package that py-wacz validates, with exactly the captures chosen.

Each package is checked three ways: py-wacz's own `wacz validate`, the format's rules checked
here (py-wacz skips some: stored WARCs, every file listed, sizes), and its contents against the
archive (every capture, byte for byte; a page per version).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archive.catalogue import Catalogue
from archive.release import release_id
from archive.requisite_rows import RequisiteRows
from pressroom.cli_wacz import wacz
from tests.capture_history import HISTORY, URL, record_history
from tests.catalogue_rows import DATABASE_VARIABLE, archive_settings, catalogue_of, copy_archive
from tests.conftest import SAMPLE_SITE, SampleSite, _start_server, fresh_database, run_cli
from webapp import create_app

RID = release_id(URL)


def py_wacz_validate(package: Path) -> tuple[int, str]:
    """Run py-wacz's `wacz validate -f PACKAGE` (its own process: it leaves temporary folders)."""
    result = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(package)],
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout + result.stderr


def check_format(package: Path) -> dict[str, Any]:
    """Check the WACZ 1.1.1 rules; return datapackage.json."""
    with zipfile.ZipFile(package) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        datapackage = json.loads(zf.read("datapackage.json"))
        digest = json.loads(zf.read("datapackage-digest.json"))
        assert digest["path"] == "datapackage.json"
        assert digest["hash"] == "sha256:" + hashlib.sha256(zf.read("datapackage.json")).hexdigest()
        assert datapackage["wacz_version"] == "1.1.1" and datapackage["profile"] == "data-package"
        listed = {r["path"]: r for r in datapackage["resources"]}
        assert set(listed) == set(infos) - {"datapackage.json", "datapackage-digest.json"}
        for path, resource in listed.items():
            data = zf.read(path)
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), path
            assert resource["bytes"] == len(data), path
        warcs = [p for p in infos if p.startswith("archive/")]
        assert warcs and all(p.endswith((".warc", ".warc.gz")) for p in warcs)
        for path in [*warcs, "indexes/index.cdx.gz"]:      # readable by range requests
            assert infos[path].compress_type == zipfile.ZIP_STORED, path
        assert "pages/pages.jsonl" in infos
    return dict(datapackage)


def read_member(package: Path, name: str) -> bytes:
    with zipfile.ZipFile(package) as zf:
        return zf.read(name)


def pages_of(package: Path) -> list[dict[str, Any]]:
    lines = read_member(package, "pages/pages.jsonl").decode("utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "json-pages-1.0" and header["id"]
    return [json.loads(line) for line in lines[1:]]


def records_of(package: Path) -> list[Any]:
    """(type, WARC-Date, raw bytes of the record's gzip member) of the package's WARC file."""
    data = read_member(package, "archive/releases.warc.gz")
    found = []
    records = ArchiveIterator(io.BytesIO(data), check_digests=True)
    for record in records:
        records.read_to_end(record)
        assert record.digest_checker.passed is not False
        start, length = records.get_record_offset(), records.get_record_length()
        found.append((record.rec_type, record.rec_headers.get_header("WARC-Record-ID"),
                      data[start:start + length]))
    return found


def archive_records(data_dir: Path) -> dict[str, bytes]:
    """Every capture record of the archive's own WARC files (not their warcinfo), by
    WARC-Record-ID, as raw bytes."""
    found = {}
    for path in sorted((data_dir / "warc").glob("*.warc.gz")):
        data = path.read_bytes()
        records = ArchiveIterator(io.BytesIO(data), check_digests=False)
        for record in records:
            records.read_to_end(record)
            if record.rec_type == "warcinfo":
                continue
            start, length = records.get_record_offset(), records.get_record_length()
            found[record.rec_headers.get_header("WARC-Record-ID")] = data[start:start + length]
    return found


# -- one release, four captures (fast, in-process) ---------------------------------------------

@pytest.fixture(scope="module")
def history_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("wacz-history") / "data"
    record_history(data)
    return data


def run_wacz(data_dir: Path, *args: str) -> Any:
    return CliRunner().invoke(wacz, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)


def test_one_release_packs_every_capture_byte_for_byte(history_dir: Path, tmp_path: Path) -> None:
    package = tmp_path / "one.wacz"
    result = run_wacz(history_dir, str(package), "--release", RID)
    assert result.exit_code == 0, result.output
    assert "1 releases, 2 pages (versions), 4 captures" in result.output
    code, output = py_wacz_validate(package)
    assert code == 0, output
    datapackage = check_format(package)
    assert datapackage["title"] and RID in datapackage["description"]

    records = records_of(package)
    assert records[0][0] == "warcinfo"
    originals = archive_records(history_dir)
    copied = records[1:]
    # every capture (two responses, two revisits) with its request, each exactly as archived
    assert sorted(kind for kind, _, _ in copied) == ["request"] * 4 + ["response"] * 2 + ["revisit"] * 2
    assert len(originals) == len(copied)
    for _, record_id, raw in copied:
        assert originals[record_id] == raw

    index = gzip.decompress(read_member(package, "indexes/index.cdx.gz")).decode().splitlines()
    stamps = sorted(line.split(" ")[1] for line in index)
    assert stamps == [when.strftime("%Y%m%d%H%M%S") for when, _ in HISTORY]

    pages = pages_of(package)
    catalogue = catalogue_of(history_dir, read_only=True)
    versions = catalogue.release_versions(RID)
    assert [(p["url"], p["ts"], p["title"]) for p in pages] == [
        (URL, datetime.fromisoformat(v.archived.captured).strftime("%Y-%m-%dT%H:%M:%SZ"),
         v.release.title) for v in versions]
    assert "fourth this month" in pages[1]["text"] and "third this month" in pages[0]["text"]


def test_a_damaged_capture_stops_the_package(history_dir: Path, tmp_path: Path,
                                             second_database: str) -> None:
    data = tmp_path / "data"
    copy_archive(history_dir, data, second_database)
    catalogue = catalogue_of(data, read_only=True, database=second_database)
    ref = catalogue.release_captures(RID)[0].ref
    catalogue.close()
    warc = data / "warc" / ref.file
    raw = bytearray(warc.read_bytes())
    raw[ref.offset + ref.length // 2] ^= 0xFF
    warc.write_bytes(bytes(raw))
    package = tmp_path / "bad.wacz"
    result = CliRunner().invoke(wacz, [str(package), "--data-dir", str(data)],
                                env={DATABASE_VARIABLE: second_database})
    assert result.exit_code == 1
    assert ref.file in result.output and "damaged" in result.output
    assert not package.exists() and list(tmp_path.glob("wacz-*")) == []


def test_unknown_release_or_empty_selection_is_a_one_line_error(history_dir: Path,
                                                                tmp_path: Path) -> None:
    result = CliRunner().invoke(wacz, [str(tmp_path / "x.wacz"), "--release", "r-0000000000000000",
                                       "--data-dir", str(history_dir)])
    assert result.exit_code == 1 and "no release r-0000000000000000" in result.output
    result = CliRunner().invoke(wacz, [str(tmp_path / "x.wacz"), "--site", "elsewhere",
                                       "--data-dir", str(history_dir)])
    assert result.exit_code == 1 and "no release matches" in result.output
    assert not (tmp_path / "x.wacz").exists()


# -- the sample site, crawled twice (acceptance) -----------------------------------------------

@pytest.fixture(scope="module")
def sample_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The sample archive's database: this module's other archive has the module's."""
    yield from fresh_database(request)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory, sample_database: str) -> Path:
    """The sample site crawled twice from one server: the second crawl finds it unchanged."""
    if not (SAMPLE_SITE / "serve.py").exists():
        pytest.skip(f"acceptance test needs the sample site at {SAMPLE_SITE}, which is absent")
    data = tmp_path_factory.mktemp("wacz-sample") / "data"
    site = SampleSite(*_start_server([sys.executable, str(SAMPLE_SITE / "serve.py"), "--port", "0"]))
    try:
        for _ in range(2):
            result = run_cli("crawl", site.url, "--delay", "0", "--data-dir", str(data),
                             env={"PRESSROOM_CRAWL_KEEP_ALIVE": "false",
                                  DATABASE_VARIABLE: sample_database})
            assert result.returncode == 0, result.stderr
    finally:
        site.stop()
    return data


def _document_version(catalogue: Catalogue, rid: str, version: int) -> tuple[int, int]:
    found = catalogue.db.scalar("SELECT document_id FROM cleaned WHERE release_id = :rid AND version = :v",
                                {"rid": rid, "v": version})
    return int(found), version


@pytest.mark.acceptance
@pytest.mark.slow
def test_sample_site_package_validates_and_lists_every_release(sample_dir: Path, tmp_path: Path,
                                                               sample_database: str) -> None:
    package = tmp_path / "site.wacz"
    result = run_cli("wacz", str(package), "--data-dir", str(sample_dir),
                     env={DATABASE_VARIABLE: sample_database})
    assert result.returncode == 0, result.stderr
    code, output = py_wacz_validate(package)
    assert code == 0, output
    check_format(package)
    catalogue = catalogue_of(sample_dir, read_only=True, database=sample_database)
    releases = list(catalogue.releases(all_versions=True))
    assert len(releases) >= 50
    pages = pages_of(package)
    assert sorted(p["title"] for p in pages) == sorted(r.title for r in releases)
    captures = [c for r in catalogue.releases() for c in catalogue.release_captures(r.id)]
    rows = RequisiteRows(catalogue)
    requisites = {(q.stored.ref.file, q.stored.ref.offset) for r in releases
                  for q in rows.of_page(*_document_version(catalogue, r.id, r.version))
                  if q.stored is not None}
    assert requisites, "the sample site's releases are shown with stylesheets and images"
    records = records_of(package)
    assert sum(1 for kind, _, _ in records if kind in ("response", "revisit")) == \
        len(captures) + len(requisites)
    assert sum(1 for kind, _, _ in records if kind == "revisit") == len(releases)  # re-crawled
    assert "WARC-Type: warcinfo" in gzip.decompress(records[0][2]).decode()


@pytest.mark.acceptance
@pytest.mark.slow
def test_sample_site_release_package_and_its_timemap(sample_dir: Path, tmp_path: Path,
                                                    sample_database: str) -> None:
    catalogue = catalogue_of(sample_dir, read_only=True, database=sample_database)
    release = next(catalogue.releases())
    package = tmp_path / "release.wacz"
    result = run_cli("wacz", str(package), "--release", release.id, "--data-dir", str(sample_dir),
                     env={DATABASE_VARIABLE: sample_database})
    assert result.returncode == 0, result.stderr
    assert py_wacz_validate(package)[0] == 0
    check_format(package)
    assert [p["url"] for p in pages_of(package)] == [release.url]

    settings = archive_settings(sample_dir, archive__database=sample_database)
    client = create_app({"TESTING": True}, settings=settings).test_client()
    timemap = client.get(f"/timemap/link/{release.url}").get_data(as_text=True)
    assert timemap.count('memento"; datetime=') == 2      # crawled twice: two mementos


@pytest.mark.acceptance
@pytest.mark.slow
def test_a_search_chooses_the_releases_with_all_its_words(sample_dir: Path, tmp_path: Path,
                                                          sample_database: str) -> None:
    env = {DATABASE_VARIABLE: sample_database}
    indexed = run_cli("index", "--data-dir", str(sample_dir), env=env)
    assert indexed.returncode == 0, indexed.stderr
    found = run_cli("search", "trafficking", "Libya", "--limit", "100", "--json",
                    "--data-dir", str(sample_dir), env=env)
    answer = json.loads(found.stdout)
    assert answer["relaxed"] > 0, "the query must have matches with only some of its words"
    all_words = {hit["id"] for hit in answer["results"][:answer["total_all"]]}
    package = tmp_path / "search.wacz"
    result = run_cli("wacz", str(package), "--query", "trafficking Libya",
                     "--data-dir", str(sample_dir), env=env)
    assert result.returncode == 0, result.stderr
    assert f"{len(all_words)} releases" in result.stdout
    code, output = py_wacz_validate(package)
    assert code == 0, output
    catalogue = catalogue_of(sample_dir, read_only=True, database=sample_database)
    urls = {r.url: r.id for r in catalogue.releases(all_versions=True)}
    assert {urls[p["url"]] for p in pages_of(package)} == all_words
    both = run_cli("wacz", str(tmp_path / "x.wacz"), "--site", "x", "--query", "Libya",
                   "--data-dir", str(sample_dir), env=env)
    assert both.returncode == 2 and "one of them" in both.stderr
