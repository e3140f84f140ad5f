"""Schema migrations: an older SQLite catalogue is adopted and upgraded with its rows intact;
`pressroom migrate` creates and reports every store; a database newer than this Pressroom, or
one behind it when opened read-only, stops with a message saying what to do."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from archive import migrate
from archive.catalogue import Catalogue
from archive.database import STORES, Database, redacted, sqlite_url
from archive.errors import CatalogueError, NoArchive
from tests.catalogue_rows import catalogue_url, execute, pass_database
from tests.conftest import run_cli, test_database

# The catalogue schema Pressroom wrote before Alembic kept its migrations (git 1fbef03)
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, site TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
    state TEXT NOT NULL, resumed_from INTEGER, pid INTEGER, stats TEXT);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, site TEXT NOT NULL, url TEXT NOT NULL UNIQUE,
    first_captured TEXT NOT NULL, last_captured TEXT NOT NULL, latest_version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id),
    version INTEGER NOT NULL, captured TEXT NOT NULL, url TEXT NOT NULL, status INTEGER NOT NULL,
    content_type TEXT NOT NULL, text_hash TEXT NOT NULL, payload_digest TEXT,
    warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL, warc_length INTEGER NOT NULL,
    truncated TEXT, run_id INTEGER, UNIQUE (document_id, version));
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY, site TEXT NOT NULL, document_id INTEGER REFERENCES documents(id),
    outcome TEXT NOT NULL, http_status INTEGER, reason TEXT, etag TEXT, last_modified TEXT,
    sitemap_lastmod TEXT, last_checked TEXT, redirect_to TEXT);
CREATE TABLE IF NOT EXISTS fetches (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, url TEXT NOT NULL, fetched_at TEXT NOT NULL,
    http_status INTEGER, outcome TEXT NOT NULL, reason TEXT, warc_file TEXT, warc_offset INTEGER,
    warc_length INTEGER, document_id INTEGER, version INTEGER);
CREATE INDEX IF NOT EXISTS fetches_run ON fetches (run_id);
CREATE TABLE IF NOT EXISTS cleaned (
    document_id INTEGER NOT NULL REFERENCES documents(id), version INTEGER NOT NULL,
    release_id TEXT, site TEXT NOT NULL, is_release INTEGER NOT NULL, reason TEXT,
    release TEXT, cleaned_at TEXT NOT NULL, PRIMARY KEY (document_id, version));
CREATE INDEX IF NOT EXISTS cleaned_release ON cleaned (is_release, release_id);
CREATE TABLE IF NOT EXISTS requisites (
    id INTEGER PRIMARY KEY, site TEXT NOT NULL, url TEXT NOT NULL, kind TEXT NOT NULL,
    captured TEXT NOT NULL, status INTEGER NOT NULL, content_type TEXT NOT NULL,
    payload_digest TEXT, warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL,
    warc_length INTEGER NOT NULL, truncated TEXT, run_id INTEGER);
CREATE INDEX IF NOT EXISTS requisites_digest ON requisites (payload_digest);
CREATE TABLE IF NOT EXISTS requisite_urls (
    url TEXT PRIMARY KEY, requisite_id INTEGER REFERENCES requisites(id), etag TEXT,
    last_modified TEXT, last_checked TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS page_requisites (
    document_id INTEGER NOT NULL REFERENCES documents(id), version INTEGER NOT NULL,
    url TEXT NOT NULL, kind TEXT NOT NULL, requisite_id INTEGER REFERENCES requisites(id),
    outcome TEXT NOT NULL, PRIMARY KEY (document_id, version, url));
CREATE TABLE IF NOT EXISTS frontier (
    run_id INTEGER NOT NULL, url TEXT NOT NULL, kind TEXT NOT NULL, depth INTEGER NOT NULL,
    not_before REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, url));
"""


def old_catalogue(path: Path) -> None:
    """Write a catalogue as the old Pressroom did: its schema, a release and a page's requisites."""
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.execute("INSERT INTO documents VALUES (1, 's', 'http://a/1', 't', 't', 1)")
    db.execute("INSERT INTO documents VALUES (2, 's', 'http://a/2', 't', 't', 1)")
    for doc in (1, 2):
        db.execute("INSERT INTO versions (document_id, version, captured, url, status, content_type,"
                   " text_hash, warc_file, warc_offset, warc_length) VALUES (?, 1,"
                   " '2024-01-01T00:00:00+00:00', 'http://a/', 200, 'text/html', 'h', 'f', 0, 1)",
                   (doc,))
        db.execute("INSERT INTO cleaned VALUES (?, 1, ?, 's', 1, NULL, ?, 't')",
                   (doc, f"r{doc}", json.dumps({"id": f"r{doc}"})))
    for url in ("http://a/z.css", "http://a/a.png"):  # found in this order, not sorted
        db.execute("INSERT INTO page_requisites VALUES (1, 1, ?, 'style', NULL, 'failed')", (url,))
    db.commit()
    db.close()


OLD_CATALOGUES_ARE_SQLITE = pytest.mark.skipif(
    test_database() == "postgresql",
    reason="an older catalogue is a SQLite file: PostgreSQL catalogues began with these migrations")


@OLD_CATALOGUES_ARE_SQLITE
def test_an_older_sqlite_catalogue_is_adopted_and_upgraded_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    old_catalogue(path)
    catalogue = Catalogue(path)
    assert migrate.current(catalogue.db, "catalogue") == migrate.head("catalogue")
    assert catalogue.count("documents") == 2
    assert catalogue.release_count() == 2
    # the change sequence is filled in for the rows that were there, distinct and increasing
    seqs = [r[0] for r in catalogue.db.execute("SELECT seq FROM cleaned ORDER BY document_id")]
    assert seqs == sorted(seqs) and len(set(seqs)) == 2 and None not in seqs
    token = catalogue.change_token()
    catalogue.db.execute("UPDATE cleaned SET seq = 99 WHERE document_id = 1")
    assert catalogue.change_token() != token
    # requisites keep the order the page named them in
    urls = [r[0] for r in catalogue.db.execute(
        "SELECT url FROM page_requisites ORDER BY position")]
    assert urls == ["http://a/z.css", "http://a/a.png"]
    catalogue.close()


@OLD_CATALOGUES_ARE_SQLITE
def test_a_read_only_open_does_not_upgrade_an_older_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    old_catalogue(path)
    with pytest.raises(CatalogueError, match="run `pressroom migrate`"):
        Catalogue(path, read_only=True)
    assert "alembic_version" not in {r[0] for r in sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master")}


def test_a_catalogue_newer_than_this_pressroom_is_refused(tmp_path: Path) -> None:
    Catalogue(catalogue_url(tmp_path)).close()
    execute(tmp_path, "UPDATE alembic_version SET version_num = 'catalogue_9999'"
                      " WHERE version_num = :head", {"head": migrate.head("catalogue")})
    with pytest.raises(CatalogueError, match="newer than this Pressroom"):
        Catalogue(catalogue_url(tmp_path))


def test_migrate_creates_every_store_and_reports_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run_cli("migrate", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    for store in STORES:
        assert f"{store}: " in result.stdout and f"-> {migrate.head(store)}" in result.stdout
    result = run_cli("migrate", "--data-dir", str(data))
    assert result.stdout.count("up to date") == len(STORES)
    result = run_cli("migrate", "--data-dir", str(data), "--status")
    assert result.returncode == 0 and result.stdout.count("; up to date)") == len(STORES)
    files = [data / "catalogue.sqlite", data / "staff.sqlite", data / "jobs.sqlite",
             data / "ratelimits.db"]
    if pass_database():  # every store is tables of the one database
        assert not any(path.exists() for path in files)
        assert all(f": {redacted(pass_database())}: " in line for line in result.stdout.splitlines())
    else:
        assert all(path.exists() for path in files)


def test_migrate_names_a_database_it_cannot_reach(tmp_path: Path) -> None:
    result = run_cli("migrate", "--data-dir", str(tmp_path / "data"),
                     env={"PRESSROOM_ARCHIVE_DATABASE": "postgresql://u:secret@127.0.0.1:1/nothing"})
    assert result.returncode != 0
    assert "catalogue: postgresql+psycopg://u:***@127.0.0.1:1/nothing" in result.stderr
    assert "secret" not in result.stdout + result.stderr and "refused" in result.stderr.lower()


def test_each_store_has_its_own_branch_of_migrations(tmp_path: Path) -> None:
    for store in STORES:
        url = sqlite_url(tmp_path / f"{store}.sqlite")
        assert migrate.upgrade(url, store) == (None, migrate.head(store))
        db = Database(url, what=store)
        assert migrate.current(db, store) == migrate.head(store)
        others = [s for s in STORES if s != store]
        assert all(migrate.current(db, other) is None for other in others)
        db.close()


def test_a_shared_database_with_only_other_stores_has_no_catalogue_yet(postgres_url: str) -> None:
    """The web app creates its rate limits and staff tables on first use: the database then
    holds tables, but no archive, and a reader says so (not "run migrate")."""
    for store in ("staff", "ratelimits"):
        migrate.upgrade(postgres_url, store)
    with pytest.raises(NoArchive, match="no catalogue there yet"):
        Catalogue(postgres_url, read_only=True)
