"""archive/copy.py: a catalogue copied SQLite -> PostgreSQL -> SQLite is the same, and a second
copy catches the target up (new, changed and deleted rows; sequences past the copied numbers)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from archive import migrate
from archive.copy import copy_catalogue, copy_store, store_rows, store_tables
from archive.database import Database, sqlite_url
from archive.errors import CatalogueError
from tests.webapp_fixtures import build_archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small SQLite catalogue (imported pages, cleaned), plus rows in the crawl's tables."""
    data = tmp_path_factory.mktemp("copy") / "data"
    build_archive(data, database="")  # SQLite in both passes: the copy's source
    db = Database(sqlite_url(data / "catalogue.sqlite"))
    with db.transaction():
        db.execute("INSERT INTO runs (site, started, state, pid, worker) "
                   "VALUES ('example', '2024-01-01T00:00:00', 'done', 7, 'w1')")
        db.execute("INSERT INTO frontier (run_id, url, kind, depth, not_before) VALUES "
                   "(1, :url, 'page', :depth, 1.5)",
                   [{"url": f"https://news.example.org/{n}", "depth": n} for n in range(5)])
        db.execute("INSERT INTO meta (key, value) VALUES ('note', 'text with ''quotes'' and é')")
    db.close()
    return data


def dump(url: str, store: str = "catalogue") -> dict[str, list[tuple[Any, ...]]]:
    """Every row of a store's tables, in a stable order."""
    db = Database(url, read_only=True)
    try:
        return {t.name: sorted((tuple(r) for r in db.execute(f'SELECT * FROM "{t.name}"')),
                               key=repr) for t in store_tables(store)}
    finally:
        db.close()


def test_the_catalogue_tables_are_known_in_foreign_key_order() -> None:
    names = [t.name for t in store_tables("catalogue")]
    assert {"documents", "versions", "cleaned", "frontier", "runs", "meta"} <= set(names)
    assert names.index("documents") < names.index("versions") < len(names)
    assert names.index("requisites") < names.index("page_requisites")
    assert migrate.VERSION_TABLE not in names
    staff = [t.name for t in store_tables("staff")]
    assert set(staff) == {"users", "sessions", "signing_keys"}
    assert staff.index("users") < staff.index("sessions")


def test_sqlite_to_postgresql_and_back_is_the_same(archive: Path, postgres_url: str,
                                                   tmp_path: Path) -> None:
    source = sqlite_url(archive / "catalogue.sqlite")
    before = dump(source)
    assert sum(len(rows) for rows in before.values()) > 20 and before["cleaned"]
    report = copy_catalogue(source, postgres_url, batch_rows=3)   # many batches per table
    assert report.copied == sum(len(rows) for rows in before.values()) and report.deleted == 0
    assert dump(postgres_url) == before
    back = sqlite_url(tmp_path / "back.sqlite")
    copy_catalogue(postgres_url, back)
    assert dump(back) == before
    assert store_rows(postgres_url, "catalogue") == report.copied
    assert store_rows(postgres_url, "staff") == 0


def test_a_second_copy_catches_up_and_sequences_move_on(archive: Path, postgres_url: str,
                                                        tmp_path: Path) -> None:
    shutil.copy(archive / "catalogue.sqlite", tmp_path / "live.sqlite")
    source = sqlite_url(tmp_path / "live.sqlite")
    copy_catalogue(source, postgres_url)
    db = Database(source)
    with db.transaction():
        db.execute("DELETE FROM frontier WHERE depth >= 3")
        db.execute("UPDATE frontier SET done = 1 WHERE depth = 0")
        db.execute("INSERT INTO runs (site, started, state) VALUES ('example', '2024-02-01', 'done')")
    db.close()
    report = copy_catalogue(source, postgres_url, batch_rows=2)
    assert report.deleted == 2
    assert dump(postgres_url) == dump(source)

    target = Database(postgres_url)
    try:
        highest_run = target.scalar("SELECT max(id) FROM runs")
        new_run = target.scalar("INSERT INTO runs (site, started, state) "
                                "VALUES ('example', '2024-03-01', 'running') RETURNING id")
        assert new_run == highest_run + 1, "the serial key goes on after the copied ids"
        assert target.scalar("SELECT nextval('cleaned_seq')") > target.scalar(
            "SELECT max(seq) FROM cleaned"), "cleaned.seq goes on after the copied numbers"
    finally:
        target.close()


def test_staff_and_jobs_copy_too(tmp_path: Path, postgres_url: str) -> None:
    from pressroom.jobqueue import JobQueue
    from webapp.accounts import Accounts

    staff, jobs = sqlite_url(tmp_path / "staff.sqlite"), sqlite_url(tmp_path / "jobs.sqlite")
    with Accounts(staff) as accounts:
        accounts.add("alice", "correct horse battery staple")
        accounts.start_session("alice")
    queue = JobQueue(jobs)
    queue.enqueue("reclean", None, "alice")
    queue.close()
    assert copy_store(staff, postgres_url, "staff").copied == 2
    assert copy_store(jobs, postgres_url, "jobs").copied == 1
    assert dump(postgres_url, "staff") == dump(staff, "staff")
    queue = JobQueue(postgres_url)
    assert queue.enqueue("rebuild", None, "alice").id == 2, "the jobs' ids go on"
    queue.close()


def test_a_source_behind_the_schema_is_refused(tmp_path: Path, postgres_url: str) -> None:
    old = sqlite_url(tmp_path / "old.sqlite")
    db = Database(old)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.close()
    with pytest.raises(CatalogueError, match=r"schema is at nothing, not catalogue_\d+: run "
                                             r"`pressroom migrate`"):
        copy_catalogue(old, postgres_url)
    with pytest.raises(CatalogueError, match="the same database"):
        copy_catalogue(postgres_url, postgres_url)
