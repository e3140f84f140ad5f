"""Backup and restore: a consistent snapshot while a crawl runs, a checked and verified restore."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import pressroom.backup
from archive.capture.fetch import Response
from archive.catalogue import Catalogue
from archive.database import sqlite_url
from archive.layout import DataDir
from archive.settings import Settings
from archive.warcstore import OPEN_SUFFIX, RecordRef, WarcStore, iter_records, valid_length
from pressroom.backup import BackupError, backup_archive, read_manifest, restore_archive, sha256_of
from tests.conftest import ROOT, SAMPLE_SITE, SampleSite, _start_server, crawl_sample_site, run_cli

# -- a small archive of the test's own ------------------------------------------------------


def _response(n: int) -> Response:
    body = f"<html><body><p>Release number {n}.</p></body></html>".encode()
    return Response(url=f"http://127.0.0.1/news/{n}", status=200, reason="OK",
                    headers=[("Content-Type", "text/html")], request_headers=[("Accept", "*/*")],
                    raw_body=body, body=body, fetched_at=datetime.now(UTC))


def _catalogue_ref(catalogue: Catalogue, run_id: int, n: int, ref: RecordRef) -> None:
    with catalogue.transaction():
        catalogue.add_version("tiny", f"http://127.0.0.1/news/{n}", f"http://127.0.0.1/news/{n}",
                              200, "text/html", f"hash{n}", ref, None, run_id, "2024-01-01")


_OPEN_STORES: list[WarcStore] = []


@pytest.fixture(autouse=True)
def _close_open_stores() -> Iterator[None]:
    """Close the stores that a test left open (as a running crawl would), after the test."""
    yield
    while _OPEN_STORES:
        _OPEN_STORES.pop().close()


def _small_archive(data: Path, referenced: int = 2, written: int = 3, close: bool = False
                   ) -> tuple[list[RecordRef], Path]:
    """Write `written` exchanges, catalogue the first `referenced`; unless `close`, leave the
    file open (closed after the test) with half a record being written at its end."""
    paths = DataDir(data)
    data.mkdir(parents=True, exist_ok=True)
    catalogue = Catalogue(paths.catalogue)
    store = WarcStore(paths.warc, "pressroom", 10**9)
    run_id, _ = catalogue.start_run("tiny", os.getpid())
    refs = [store.write_exchange(_response(n)) for n in range(written)]
    for n, ref in enumerate(refs[:referenced]):
        _catalogue_ref(catalogue, run_id, n, ref)
    catalogue.close()
    if close:
        store.close()
        return refs, store.path_of(refs[0].file)
    _OPEN_STORES.append(store)
    warc = store.path_of(refs[0].file)
    # a record being written when the backup runs: half a gzip member at the end
    other = WarcStore(data / "scratch", "scratch", 10**9)
    other.write_exchange(_response(99))
    other.close()
    torn = next((data / "scratch").iterdir()).read_bytes()
    with warc.open("ab") as fh:
        fh.write(torn[: len(torn) // 2])
    shutil.rmtree(data / "scratch")
    return refs, warc


def test_open_warc_is_copied_up_to_the_last_referenced_exchange(tmp_path: Path) -> None:
    refs, warc = _small_archive(tmp_path / "data")
    assert warc.name.endswith(OPEN_SUFFIX)
    summary = backup_archive(tmp_path / "data", tmp_path / "backup")

    copy = tmp_path / "backup" / "warc" / refs[0].file  # under its final name, no `.open`
    assert not (tmp_path / "backup" / "warc" / warc.name).exists()
    # the second exchange (response and its request) is in; the third, uncatalogued, and the
    # torn tail are not: the copy ends where the third response begins
    assert copy.stat().st_size == refs[2].offset
    assert valid_length(copy) == copy.stat().st_size
    assert copy.read_bytes() == warc.read_bytes()[: refs[2].offset]
    assert {f.path for f in summary.files} == {"catalogue.sqlite", f"warc/{refs[0].file}"}
    assert not (tmp_path / "backup" / ".partial").exists()


@pytest.mark.no_database  # a SQLite archive made by hand (here and below: SQLite files' modes)
def test_manifest_lists_every_file_with_size_and_digest(tmp_path: Path) -> None:
    _, warc = _small_archive(tmp_path / "data", close=True)
    result = run_cli("backup", str(tmp_path / "backup"), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    copied = [p for p in (tmp_path / "backup").rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in copied if p.name != "manifest.json")
    assert len(copied) == 3  # catalogue, WARC file, manifest
    assert result.stdout.strip() == f"backup {tmp_path / 'backup'}: 2 files, {size} bytes, 0 releases"
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["source"] == str((tmp_path / "data").resolve())
    assert manifest["pressroom"] == pressroom.backup.pressroom_version() != "unknown"
    assert datetime.fromisoformat(manifest["created"]).tzinfo is not None
    files = {f["path"]: f for f in manifest["files"]}
    assert files[f"warc/{warc.name}"]["size"] == warc.stat().st_size  # closed: copied whole
    for path, entry in files.items():
        assert sha256_of(tmp_path / "backup" / path) == entry["sha256"]
    assert (tmp_path / "backup" / f"warc/{warc.name}").read_bytes() == warc.read_bytes()


def test_backup_copies_every_sqlite_database_consistently(tmp_path: Path) -> None:
    _small_archive(tmp_path / "data", close=True)
    jobs = sqlite3.connect(tmp_path / "data" / "jobs.sqlite")
    jobs.execute("PRAGMA journal_mode=WAL")
    jobs.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, kind TEXT)")
    jobs.execute("INSERT INTO jobs (kind) VALUES ('crawl')")
    jobs.commit()  # committed, still in the -wal file: the connection stays open
    backup_archive(tmp_path / "data", tmp_path / "backup")
    jobs.close()
    copy = sqlite3.connect(tmp_path / "backup" / "jobs.sqlite")
    assert copy.execute("SELECT kind FROM jobs").fetchall() == [("crawl",)]
    copy.close()
    assert not list((tmp_path / "backup").glob("*-wal"))


def test_backup_refuses_a_non_empty_target_or_a_missing_archive(tmp_path: Path) -> None:
    _small_archive(tmp_path / "data", close=True)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("keep me")
    with pytest.raises(BackupError, match="not empty"):
        backup_archive(tmp_path / "data", tmp_path / "full")
    with pytest.raises(BackupError, match="no archive"):
        backup_archive(tmp_path / "nothing", tmp_path / "backup")
    assert (tmp_path / "full" / "notes.txt").read_text() == "keep me"


def test_restore_checks_copies_and_verifies(tmp_path: Path,
                                            make_settings: Callable[..., Settings]) -> None:
    refs, _ = _small_archive(tmp_path / "data")
    backup_archive(tmp_path / "data", tmp_path / "backup")
    settings = make_settings(data_dir=str(tmp_path / "restored"))
    summary = restore_archive(tmp_path / "backup", settings)
    assert len(summary.files) == 2
    restored = tmp_path / "restored" / "warc" / refs[0].file
    assert restored.read_bytes() == (tmp_path / "backup" / "warc" / refs[0].file).read_bytes()
    result = run_cli("verify", "--data-dir", str(tmp_path / "restored"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all consistent" in result.stdout


def test_restore_refuses_a_non_empty_data_dir(tmp_path: Path) -> None:
    _small_archive(tmp_path / "data", close=True)
    backup_archive(tmp_path / "data", tmp_path / "backup")
    result = run_cli("restore", str(tmp_path / "backup"), "--data-dir", str(tmp_path / "data"),
                       "--no-index")
    assert result.returncode == 1
    assert "not empty" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("victim", ["catalogue.sqlite", "warc"])
def test_restore_refuses_a_tampered_file_and_names_it(tmp_path: Path, victim: str) -> None:
    refs, _ = _small_archive(tmp_path / "data", close=True)
    backup_archive(tmp_path / "data", tmp_path / "backup")
    name = victim if victim != "warc" else f"warc/{refs[0].file}"
    path = tmp_path / "backup" / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte changed, same size
    path.write_bytes(bytes(data))
    result = run_cli("restore", str(tmp_path / "backup"), "--data-dir",
                       str(tmp_path / "restored"), "--no-index")
    assert result.returncode == 1
    assert name in result.stderr and "SHA-256" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any((tmp_path / "restored").iterdir())  # nothing copied


def test_an_interrupted_backup_cannot_be_restored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   make_settings: Callable[..., Settings]) -> None:
    _small_archive(tmp_path / "data", close=True)

    def killed(partial: Path, target: Path) -> None:
        raise KeyboardInterrupt  # stopped after writing .partial, before moving it into place

    monkeypatch.setattr(pressroom.backup, "_publish", killed)
    with pytest.raises(KeyboardInterrupt):
        backup_archive(tmp_path / "data", tmp_path / "killed")
    monkeypatch.undo()
    assert (tmp_path / "killed" / ".partial" / "manifest.json").exists()
    settings = make_settings(data_dir=str(tmp_path / "restored"))
    with pytest.raises(BackupError, match="interrupted backup"):
        restore_archive(tmp_path / "killed", settings)

    # killed while moving out of .partial: the data files are in place, the manifest is not
    backup_archive(tmp_path / "data", tmp_path / "half")
    (tmp_path / "half" / ".partial").mkdir()
    (tmp_path / "half" / "manifest.json").rename(tmp_path / "half" / ".partial" / "manifest.json")
    with pytest.raises(BackupError, match="interrupted backup"):
        read_manifest(tmp_path / "half")
    assert not any((tmp_path / "restored").iterdir())


def test_restore_fails_loudly_when_the_archive_does_not_verify(
        tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    refs, _ = _small_archive(tmp_path / "data", close=True)
    catalogue = Catalogue(DataDir(tmp_path / "data").catalogue)
    bogus = RecordRef(refs[0].file, refs[0].offset + 7, refs[0].length)
    _catalogue_ref(catalogue, 1, 42, bogus)  # a row pointing at no record
    catalogue.close()
    backup_archive(tmp_path / "data", tmp_path / "backup")
    with pytest.raises(BackupError, match=f"fails verification.*{refs[0].file}@{bogus.offset}"):
        restore_archive(tmp_path / "backup", make_settings(data_dir=str(tmp_path / "restored")))


# -- file modes: a backup is no more readable than the archive --------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which a new file is readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _staff_db(path: Path, mode: int) -> None:
    """A staff.sqlite created as webapp.accounts does: readable by the owner only."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE accounts (name TEXT, password_hash TEXT)")
    db.execute("INSERT INTO accounts VALUES ('ana', 'scrypt$secret')")
    db.commit()
    db.close()
    path.chmod(mode)


def _restore(backup: Path, data: Path) -> None:
    result = run_cli("restore", str(backup), "--data-dir", str(data), "--no-index")
    assert result.returncode == 0, result.stderr


@pytest.mark.no_database
def test_backup_and_restore_keep_staff_sqlite_private_under_umask_022(
        tmp_path: Path, umask_022: None) -> None:
    data, backup = tmp_path / "data", tmp_path / "backup"
    _small_archive(data, close=True)
    _staff_db(data / "staff.sqlite", 0o600)
    (data / "catalogue.sqlite").chmod(0o640)
    warc = next((data / "warc").iterdir())
    result = run_cli("backup", str(backup), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert _mode(backup / "staff.sqlite") == 0o600  # before: 0644, password hashes for all
    assert _mode(backup / "catalogue.sqlite") == 0o640  # its source's, not the umask's
    assert _mode(backup / "manifest.json") == 0o640
    assert _mode(backup / "warc" / warc.name) == _mode(warc) == 0o644
    assert not list(backup.glob("*-journal"))

    _restore(backup, tmp_path / "restored")
    assert _mode(tmp_path / "restored" / "staff.sqlite") == 0o600
    assert _mode(tmp_path / "restored" / "catalogue.sqlite") == 0o640
    db = sqlite3.connect(tmp_path / "restored" / "staff.sqlite")
    assert db.execute("SELECT name FROM accounts").fetchall() == [("ana",)]
    db.close()

    (backup / "staff.sqlite").chmod(0o644)  # a backup written before this fix
    _restore(backup, tmp_path / "from-old")
    assert _mode(tmp_path / "from-old" / "staff.sqlite") == 0o600


@pytest.mark.no_database
def test_a_stricter_source_mode_is_kept(tmp_path: Path, umask_022: None) -> None:
    data, backup = tmp_path / "data", tmp_path / "backup"
    _small_archive(data, close=True)
    _staff_db(data / "staff.sqlite", 0o400)
    (data / "catalogue.sqlite").chmod(0o600)
    backup_archive(data, backup)
    assert _mode(backup / "staff.sqlite") == 0o400
    assert _mode(backup / "catalogue.sqlite") == _mode(backup / "manifest.json") == 0o600
    _restore(backup, tmp_path / "restored")
    assert _mode(tmp_path / "restored" / "staff.sqlite") == 0o400
    assert _mode(tmp_path / "restored" / "catalogue.sqlite") == 0o600


# -- the sample site: a backup taken while a crawl runs --------------------------------------


def _fetches_of_latest_run(catalogue: Path) -> int:
    db = sqlite3.connect(f"{catalogue.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT COUNT(*) FROM fetches WHERE run_id = "
                         "(SELECT MAX(id) FROM runs)").fetchone()
        runs = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    finally:
        db.close()
    return int(row[0]) if runs >= 2 else 0


@pytest.fixture(scope="module")
def mid_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path | str]]:
    """Crawl and index the sample site, then back it up while a second crawl is running."""
    root = tmp_path_factory.mktemp("backup")
    data = root / "data"
    crawl_sample_site(data)
    indexed = run_cli("index", "--data-dir", str(data))
    assert indexed.returncode == 0, indexed.stderr
    site = SampleSite(*_start_server([sys.executable, str(SAMPLE_SITE / "serve.py"), "--port", "0"]))
    crawl = subprocess.Popen(
        [sys.executable, "-m", "pressroom", "crawl", site.url, "--delay", "0.1", "--data-dir",
         str(data)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PRESSROOM_CRAWL_KEEP_ALIVE": "false"})
    try:
        deadline = time.monotonic() + 60
        while _fetches_of_latest_run(DataDir(data).catalogue) < 15:
            assert crawl.poll() is None and time.monotonic() < deadline, "second crawl stalled"
            time.sleep(0.1)
        open_files = sorted(DataDir(data).warc.glob(f"*{OPEN_SUFFIX}"))
        result = run_cli("backup", str(root / "backup"), "--data-dir", str(data))
        still_running = crawl.poll() is None
        # let the crawl write on past the snapshot (on a loaded machine it may have been idle)
        after_backup = _fetches_of_latest_run(DataDir(data).catalogue)
        deadline = time.monotonic() + 30
        while (crawl.poll() is None and time.monotonic() < deadline
               and _fetches_of_latest_run(DataDir(data).catalogue) < after_backup + 3):
            time.sleep(0.1)
    finally:
        crawl.send_signal(signal.SIGTERM)
        crawl.wait(timeout=30)
        site.stop()
    assert result.returncode == 0, result.stderr
    assert still_running, "the crawl ended before the backup did: not a mid-crawl backup"
    assert len(open_files) == 1
    yield {"data": data, "backup": root / "backup", "root": root, "stdout": result.stdout,
           "open": open_files[0].name.removesuffix(OPEN_SUFFIX)}


def test_backup_during_a_crawl_is_a_consistent_snapshot(mid_crawl: dict[str, Path | str]) -> None:
    backup, data = Path(mid_crawl["backup"]), Path(mid_crawl["data"])
    snapshot = Catalogue(backup / "catalogue.sqlite", read_only=True)
    try:
        assert snapshot.runs(1)[0]["state"] == "running"  # the second run, caught mid-way
        refs = snapshot.record_refs()
        releases = sum(1 for _ in snapshot.releases())
    finally:
        snapshot.close()
    assert f", {releases} releases" in str(mid_crawl["stdout"]) and releases > 0
    copy = backup / "warc" / str(mid_crawl["open"])
    source = WarcStore(DataDir(data).warc, "pressroom", 10**9).path_of(str(mid_crawl["open"]))
    size = copy.stat().st_size
    assert 0 < size < source.stat().st_size  # the crawl wrote on after the snapshot
    assert valid_length(copy) == size  # ends on a record boundary: no half record
    assert copy.read_bytes() == source.read_bytes()[:size]
    in_copy = [r for r in refs if r.file == mid_crawl["open"]]
    last_end = max(r.offset + r.length for r in in_copy)
    # after the snapshot's last record in the file: at most the request record of its exchange
    after = [record.rec_type for offset, _, record in iter_records(copy) if offset >= last_end]
    assert after in ([], ["request"])
    for ref in refs:  # every row points at bytes the backup holds
        assert (backup / "warc" / ref.file).stat().st_size >= ref.offset + ref.length


def test_restore_of_a_mid_crawl_backup_verifies_and_searches_the_same(
        mid_crawl: dict[str, Path | str]) -> None:
    if not (SAMPLE_SITE / "queries.jsonl").exists():
        pytest.skip(f"needs the sample site's queries at {SAMPLE_SITE}, which are absent")
    from indexer.search import Searcher

    sys.path.insert(0, str(ROOT / "bench"))
    from score_search import load, request_for

    restored = Path(mid_crawl["root"]) / "restored"
    result = run_cli("restore", str(mid_crawl["backup"]), "--data-dir", str(restored))
    assert result.returncode == 0, result.stderr
    assert "verify passed" in result.stdout and "index rebuilt" in result.stdout
    verify = run_cli("verify", "--data-dir", str(restored))
    assert verify.returncode == 0 and "all consistent" in verify.stdout, verify.stderr

    original, rebuilt = Searcher(Path(mid_crawl["data"])), Searcher(restored)
    answered = 0
    for query in load(SAMPLE_SITE / "queries.jsonl"):
        want = [h.id for h in original.search(request_for(query)).results]
        got = [h.id for h in rebuilt.search(request_for(query)).results]
        assert got == want, query["id"]
        answered += bool(want)
    assert answered >= 20  # the queries find releases: equal lists are not two empty ones


# -- the catalogue on PostgreSQL --------------------------------------------------------------

def test_a_postgresql_archive_backs_up_as_sqlite_and_restores_into_either(
        tmp_path: Path, postgres_url: str, postgres_cluster: Any) -> None:
    from archive.copy import copy_catalogue
    from tests.test_copy import dump
    from webapp.accounts import Accounts

    data = tmp_path / "data"
    _small_archive(data, close=True)
    copy_catalogue(sqlite_url(data / "catalogue.sqlite"), postgres_url)
    (data / "catalogue.sqlite").unlink()                 # the record is now the database's
    with Accounts(postgres_url) as accounts:
        accounts.add("alice", "correct horse battery staple")
    on_postgresql = {"PRESSROOM_ARCHIVE_DATABASE": postgres_url}

    made = run_cli("backup", str(tmp_path / "backup"), "--data-dir", str(data), env=on_postgresql)
    assert made.returncode == 0, made.stderr
    _, entries = read_manifest(tmp_path / "backup")
    names = {e.path for e in entries}
    assert {"catalogue.sqlite", "staff.sqlite"} <= names and "jobs.sqlite" not in names
    assert sum(n.startswith("warc/") for n in names) == 1
    assert not [p.name for p in (tmp_path / "backup").iterdir()
                if p.name.endswith(("-wal", "-shm", "-lock"))], "self-contained files only"
    assert stat.S_IMODE((tmp_path / "backup" / "staff.sqlite").stat().st_mode) == 0o600
    assert dump(sqlite_url(tmp_path / "backup" / "catalogue.sqlite")) == dump(postgres_url)

    into_sqlite = run_cli("restore", str(tmp_path / "backup"), "--data-dir",
                          str(tmp_path / "plain"), "--no-index",
                          env={"PRESSROOM_ARCHIVE_DATABASE": ""})
    assert into_sqlite.returncode == 0, into_sqlite.stderr
    assert "verify passed" in into_sqlite.stdout
    assert dump(sqlite_url(tmp_path / "plain" / "catalogue.sqlite")) == dump(postgres_url)

    second = postgres_cluster.new_database()
    shared_warcs = tmp_path / "shared-warcs"
    elsewhere = {"PRESSROOM_ARCHIVE_DATABASE": second, "PRESSROOM_ARCHIVE_WARC_DIR": str(shared_warcs)}
    into_postgresql = run_cli("restore", str(tmp_path / "backup"), "--data-dir",
                              str(tmp_path / "node"), "--no-index", env=elsewhere)
    assert into_postgresql.returncode == 0, into_postgresql.stderr
    assert dump(second) == dump(postgres_url)
    assert len(list(shared_warcs.glob("*.warc.gz"))) == 1, "WARC files go to [archive] warc_dir"
    assert not any(p.name.startswith(".restore") for p in (tmp_path / "node").iterdir())
    with Accounts(second) as accounts:
        assert accounts.authenticate("alice", "correct horse battery staple")

    shutil.rmtree(shared_warcs)
    again = run_cli("restore", str(tmp_path / "backup"), "--data-dir", str(tmp_path / "other"),
                    "--no-index", env=elsewhere)
    assert again.returncode == 1
    assert re.search(r"refusing to restore into postgresql\S+: its catalogue already holds \d+ "
                     r"rows \(restore into an empty database\)", again.stderr), again.stderr
