"""`pressroom copy-catalogue`: a SQLite archive moved onto PostgreSQL, online and re-runnable;
the archive read from PostgreSQL is the one that was in SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.catalogue import Catalogue
from archive.layout import DataDir
from tests.conftest import run_cli
from tests.webapp_fixtures import build_archive

pytestmark = pytest.mark.no_database  # the source is SQLite in both passes; the target is explicit


def export(data: Path, database: str | None = None) -> list[dict[str, object]]:
    env = {"PRESSROOM_ARCHIVE_DATABASE": database} if database else None
    result = run_cli("export", "--format", "jsonl", "--data-dir", str(data), env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_sqlite_archive_copied_to_postgresql_reads_the_same(tmp_path: Path, postgres_url: str) -> None:
    data = tmp_path / "data"
    build_archive(data, database="")
    run_cli("user", "add", "ana", "--data-dir", str(data), input="correct horse battery\n" * 2)
    result = run_cli("copy-catalogue", "--to", postgres_url, "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "catalogue: " in result.stdout and "rows copied" in result.stdout
    before = export(data)
    assert before and export(data, postgres_url) == before
    # the release pages, versions and staff accounts are read from PostgreSQL alone
    other = tmp_path / "elsewhere"
    assert export(other, postgres_url) == before
    users = run_cli("user", "list", "--data-dir", str(other),
                    env={"PRESSROOM_ARCHIVE_DATABASE": postgres_url})
    assert users.returncode == 0 and "ana" in users.stdout


def test_a_second_run_catches_up_with_what_changed_meanwhile(tmp_path: Path, postgres_url: str) -> None:
    data = tmp_path / "data"
    build_archive(data, database="")
    assert run_cli("copy-catalogue", "--to", postgres_url, "--data-dir", str(data)).returncode == 0
    # meanwhile, on the old machine: a document's cleaning result is dropped, another rewritten
    catalogue = Catalogue(DataDir(data).catalogue)
    first, second = [r for r in catalogue.db.execute("SELECT document_id, version FROM cleaned"
                                                     " WHERE is_release = 1 ORDER BY document_id")][:2]
    catalogue.db.execute("DELETE FROM cleaned WHERE document_id = :d", {"d": first[0]})
    catalogue.db.execute("UPDATE cleaned SET reason = 'kept by hand' WHERE document_id = :d",
                         {"d": second[0]})
    catalogue.close()
    result = run_cli("copy-catalogue", "--to", postgres_url, "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "1 deleted" in result.stdout.splitlines()[0]
    assert export(data, postgres_url) == export(data)
    target = Catalogue(postgres_url, read_only=True)
    assert target.db.scalar("SELECT reason FROM cleaned WHERE document_id = :d",
                            {"d": second[0]}) == "kept by hand"
    target.close()


def test_copy_needs_a_target_and_an_archive(tmp_path: Path) -> None:
    result = run_cli("copy-catalogue", "--data-dir", str(tmp_path / "none"))
    assert result.returncode != 0 and "give --to URL or set [archive] database" in result.stderr
    result = run_cli("copy-catalogue", "--to", "postgresql://u@127.0.0.1:1/x",
                     "--data-dir", str(tmp_path / "none"))
    assert result.returncode != 0 and "no archive in" in result.stderr
