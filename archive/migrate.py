"""Schema migrations of the stores, with Alembic: check on open, upgrade on `pressroom migrate`.

A SQLite file belongs to one machine and one Pressroom: it is brought up to date when opened
for writing. A PostgreSQL database is shared by machines that may run different releases for a
while: it is created when empty, and otherwise upgraded only by `pressroom migrate`; a process
that finds it behind or ahead stops with a message saying so.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy

from archive.database import Database, engine, redacted
from archive.errors import CatalogueError, NoArchive

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
# any 64-bit number both sides agree on: the advisory lock that queues concurrent migrations
MIGRATION_LOCK = 0x7072657373726F6D


def _config() -> Any:
    # Alembic is imported when first needed: most commands never migrate, and its import is
    # a tenth of a second of every process's start
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def _script() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


@cache
def head(store: str) -> str:
    """Return the newest revision of a store's branch."""
    revision = _script().get_revision(f"{store}@head")
    if revision is None:
        raise CatalogueError(f"no migrations for {store!r}")
    return str(revision.revision)


@cache
def _branch(store: str) -> frozenset[str]:
    return frozenset(str(r.revision) for r in _script().iterate_revisions(f"{store}@head", "base"))


def current(db: Database, store: str) -> str | None:
    """Return the store's revision in this database, or None when it has none yet."""
    if not sqlalchemy.inspect(db.conn).has_table(VERSION_TABLE):
        return None
    revisions = {row[0] for row in db.execute(f"SELECT version_num FROM {VERSION_TABLE}")}
    mine = revisions & _branch(store)
    unknown = revisions - _all_revisions()
    if unknown and not mine:
        raise CatalogueError(f"{redacted(db.url)}: the {store} is at revision "
                             f"{', '.join(sorted(unknown))}, newer than this Pressroom knows: "
                             "upgrade Pressroom on this machine")
    return next(iter(mine), None)


@cache
def _all_revisions() -> frozenset[str]:
    return frozenset(str(r.revision) for r in _script().walk_revisions())


# (process, database URL, store) -> when a reader last found its schema current: a web node
# opens the catalogue for every request, and need not ask about the schema each time
_checked: dict[tuple[int, str, str], float] = {}
RECHECK_SECONDS = 60.0


def ensure(db: Database, store: str) -> None:
    """Make sure a store's schema is the one this Pressroom needs, creating or upgrading it
    where that is safe (see the module's docstring)."""
    key = (os.getpid(), db.url, store)
    if db.read_only and time.monotonic() - _checked.get(key, -RECHECK_SECONDS) < RECHECK_SECONDS:
        return
    found = current(db, store)
    wanted = head(store)
    if found == wanted:
        if db.read_only:
            _checked[key] = time.monotonic()
        return
    # no revision of this store: never created, unless a SQLite file holds tables from before
    # migrations were kept (a PostgreSQL database holds the other stores' tables beside it)
    if db.read_only and found is None and (
            not db.sqlite or not sqlalchemy.inspect(db.conn).get_table_names()):
        raise NoArchive(f"{redacted(db.url)}: no {store} there yet: run pressroom crawl (or "
                        "pressroom migrate) first")
    if db.read_only:
        raise CatalogueError(f"{redacted(db.url)}: the {store} schema is at "
                             f"{found or 'nothing'}, not {wanted}: run `pressroom migrate`")
    if not db.sqlite and found is not None:
        raise CatalogueError(f"{redacted(db.url)}: the {store} schema is at {found}, this "
                             f"Pressroom needs {wanted}: run `pressroom migrate` (once, from "
                             "any machine) after upgrading Pressroom everywhere")
    upgrade(db.url, store)


def upgrade(url: str, store: str) -> tuple[str | None, str]:
    """Bring one store of a database to its newest revision; return (before, after)."""
    with _migration_lock(url), engine(url).connect() as conn:
        isolation = "SERIALIZABLE" if conn.dialect.name == "sqlite" else "READ COMMITTED"
        conn = conn.execution_options(isolation_level=isolation)
        before = _version_of(conn, store)
        config = _config()
        config.attributes["connection"] = conn
        from alembic import command

        command.upgrade(config, f"{store}@head")
        conn.commit()
    after = head(store)
    if before != after:
        logger.info("%s: %s schema %s -> %s", redacted(url), store, before or "none", after)
    return before, after


def _version_of(conn: sqlalchemy.Connection, store: str) -> str | None:
    if not sqlalchemy.inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = {r[0] for r in conn.execute(sqlalchemy.text(f"SELECT version_num FROM {VERSION_TABLE}"))}
    return next(iter(rows & _branch(store)), None)


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """One migration at a time: an advisory lock on PostgreSQL, a lock file beside SQLite's."""
    made = engine(url)
    if made.dialect.name == "postgresql":
        with made.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"),
                             {"key": MIGRATION_LOCK})
        return
    path = Path(made.url.database or "")
    with open(path.with_name(f".{path.name}.migrate-lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
