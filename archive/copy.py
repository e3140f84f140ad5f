"""Copy a store's rows from one database to another: SQLite to PostgreSQL and back.

`copy_catalogue(source_url, target_url)` is what `pressroom copy-catalogue` and backups of a
PostgreSQL catalogue run. The source is read in one snapshot (a read transaction on SQLite,
REPEATABLE READ on PostgreSQL), so the copy is one committed state of it even while a crawl
writes. The target is brought to the same schema by the store's migrations, then filled table by
table in foreign-key order, each in primary-key order and in batches (one short transaction per
batch), rows upserted: a second run over a target that already holds an earlier copy catches it
up, and rows deleted from the source since are deleted from the target too. PostgreSQL's
sequences are moved past the highest copied number at the end, never backwards.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy

from archive import migrate
from archive.database import Database, redacted, sqlite_url
from archive.errors import CatalogueError

logger = logging.getLogger(__name__)

BATCH_ROWS = 2000
Progress = Callable[[str, int], None]   # (table, rows copied so far in it)


@dataclass(frozen=True)
class Table:
    """A table of a store: its columns and primary key, as the migrations make them."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    integer_columns: tuple[str, ...] = ()


@dataclass
class TableCopy:
    """What one table's copy did."""

    name: str
    copied: int = 0
    deleted: int = 0


@dataclass
class CopyReport:
    """What a copy did, table by table, and how long it took."""

    store: str
    tables: list[TableCopy] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def copied(self) -> int:
        """Rows written to the target, in all."""
        return sum(t.copied for t in self.tables)

    @property
    def deleted(self) -> int:
        """Rows deleted from the target because the source no longer has them."""
        return sum(t.deleted for t in self.tables)


def copy_catalogue(source_url: str, target_url: str, *, batch_rows: int = BATCH_ROWS,
                   progress: Progress | None = None) -> CopyReport:
    """Copy the catalogue from one database URL to another (SQLite or PostgreSQL, either way).

    The source must be at this Pressroom's schema (`pressroom migrate` first); the target is
    created or upgraded to it. Safe to run again: each run makes the target equal to the
    source's state when that run began. Raises CatalogueError when a database cannot be used.
    """
    return copy_store(source_url, target_url, "catalogue", batch_rows=batch_rows,
                      progress=progress)


def copy_store(source_url: str, target_url: str, store: str, *, batch_rows: int = BATCH_ROWS,
               progress: Progress | None = None) -> CopyReport:
    """Copy one store (catalogue, staff or jobs) between databases; see copy_catalogue."""
    if source_url == target_url:
        raise CatalogueError(f"{redacted(source_url)}: source and target are the same database")
    started = time.monotonic()
    report = CopyReport(store)
    source = Database(source_url, read_only=True, what=f"source {store}")
    try:
        _check_source(source, store)
        target = Database(target_url, what=f"target {store}")
        try:
            migrate.ensure(target, store)
            if target.sqlite:   # a lost copy is made again; WAL keeps the file whole anyway
                target.execute("PRAGMA synchronous = NORMAL")
            with _snapshot(source):
                tables = store_tables(store)
                refill = {t.name: _has_rows(target, t) for t in tables}
                for table in tables:
                    report.tables.append(_copy_table(source, target, table, batch_rows, progress))
                for table, done in zip(reversed(tables), reversed(report.tables), strict=True):
                    if refill[table.name]:
                        done.deleted = _delete_missing(source, target, table, batch_rows)
            if not target.sqlite:
                _advance_sequences(target, tables)
        finally:
            target.close()
    finally:
        source.close()
    report.seconds = time.monotonic() - started
    logger.info("%s: %d rows copied from %s to %s (%d deleted) in %.1f s", store, report.copied,
                redacted(source_url), redacted(target_url), report.deleted, report.seconds)
    return report


def store_rows(url: str, store: str) -> int:
    """Count the rows of a store's tables in a database (0 when it has none of them yet)."""
    db = Database(url, read_only=True, what=store)
    try:
        present = set(sqlalchemy.inspect(db.conn).get_table_names())
        return sum(int(db.scalar(f"SELECT count(*) FROM {_quote(db, t.name)}"))
                   for t in store_tables(store) if t.name in present)
    finally:
        db.close()


@cache
def store_tables(store: str) -> list[Table]:
    """Return a store's tables in foreign-key order, as its migrations make them.

    Read from a scratch SQLite database migrated to the newest revision, so a table a later
    revision adds is copied without this module knowing its name.
    """
    with tempfile.TemporaryDirectory(prefix="pressroom-schema-") as scratch:
        url = sqlite_url(Path(scratch) / f"{store}.sqlite")
        migrate.upgrade(url, store)
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        try:
            metadata = sqlalchemy.MetaData()
            metadata.reflect(bind=engine)
        finally:
            engine.dispose()
    tables = []
    for table in metadata.sorted_tables:
        if table.name == migrate.VERSION_TABLE:
            continue
        key = tuple(c.name for c in table.primary_key.columns) or tuple(table.columns.keys())
        integers = tuple(c.name for c in table.columns
                         if isinstance(c.type, sqlalchemy.Integer))
        tables.append(Table(table.name, tuple(table.columns.keys()), key, integers))
    return tables


def _check_source(source: Database, store: str) -> None:
    found, wanted = migrate.current(source, store), migrate.head(store)
    if found != wanted:
        raise CatalogueError(f"{redacted(source.url)}: the {store} schema is at "
                             f"{found or 'nothing'}, not {wanted}: run `pressroom migrate` on it "
                             "before copying")


@contextmanager
def _snapshot(source: Database) -> Iterator[None]:
    """One read transaction on the source for the whole copy: one committed state of it."""
    # SQLite: a deferred BEGIN, whose first read fixes the snapshot (WAL: the writers go on)
    source.conn.exec_driver_sql(
        "BEGIN" if source.sqlite else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield
    finally:
        source.conn.exec_driver_sql("ROLLBACK")


def _quote(db: Database, name: str) -> str:
    return str(db.engine.dialect.identifier_preparer.quote(name))


def _has_rows(db: Database, table: Table) -> bool:
    return db.scalar(f"SELECT 1 FROM {_quote(db, table.name)} LIMIT 1") is not None


def _batches(db: Database, table: Table, columns: Sequence[str],
             batch_rows: int) -> Iterator[list[Any]]:
    """Yield a table's rows (the given columns, key first) in key order, a batch at a time.

    Keyset pagination: each batch starts after the last key of the one before, so every batch
    is an index range scan, however far into the table."""
    key = ", ".join(_quote(db, c) for c in table.key)
    chosen = ", ".join(_quote(db, c) for c in columns)
    after = ", ".join(f":k{i}" for i in range(len(table.key)))
    first = f"SELECT {chosen} FROM {_quote(db, table.name)} ORDER BY {key} LIMIT :n"
    later = (f"SELECT {chosen} FROM {_quote(db, table.name)} WHERE ({key}) > ({after}) "
             f"ORDER BY {key} LIMIT :n")
    last: Sequence[Any] | None = None
    while True:
        params: dict[str, Any] = {"n": batch_rows}
        if last is not None:
            params.update({f"k{i}": value for i, value in enumerate(last[:len(table.key)])})
        rows = list(db.execute(first if last is None else later, params))
        if not rows:
            return
        yield rows
        if len(rows) < batch_rows:
            return
        last = rows[-1]


def _copy_table(source: Database, target: Database, table: Table, batch_rows: int,
                progress: Progress | None) -> TableCopy:
    done = TableCopy(table.name)
    columns = [*table.key, *(c for c in table.columns if c not in table.key)]
    names = ", ".join(_quote(target, c) for c in columns)
    values = ", ".join(f":c{i}" for i in range(len(columns)))
    key = ", ".join(_quote(target, c) for c in table.key)
    others = [c for c in columns if c not in table.key]
    assignments = ", ".join(f"{_quote(target, c)} = excluded.{_quote(target, c)}" for c in others)
    update = f"DO UPDATE SET {assignments}" if others else "DO NOTHING"
    upsert = (f"INSERT INTO {_quote(target, table.name)} ({names}) VALUES ({values}) "
              f"ON CONFLICT ({key}) {update}")
    for rows in _batches(source, table, columns, batch_rows):
        with target.transaction():
            target.execute(upsert, [{f"c{i}": value for i, value in enumerate(row)}
                                    for row in rows])
        done.copied += len(rows)
        if progress is not None:
            progress(table.name, done.copied)
    return done


def _delete_missing(source: Database, target: Database, table: Table, batch_rows: int) -> int:
    """Delete the target's rows whose key the source no longer has; return how many.

    The two engines may order text differently, so keys are matched as a set: the source's keys
    go into a temporary table of the target, and one statement deletes the rest."""
    scratch = "pressroom_copy_keys"
    key_names = ", ".join(_quote(target, c) for c in table.key)
    params = ", ".join(f":k{i}" for i in range(len(table.key)))
    target.execute(f"DROP TABLE IF EXISTS {scratch}")
    target.execute(f"CREATE TEMPORARY TABLE {scratch} AS SELECT {key_names} "
                   f"FROM {_quote(target, table.name)} WHERE 1 = 0")
    try:
        for rows in _batches(source, table, table.key, batch_rows):
            with target.transaction():
                target.execute(f"INSERT INTO {scratch} ({key_names}) VALUES ({params})",
                               [{f"k{i}": v for i, v in enumerate(row)} for row in rows])
        matched = " AND ".join(f"{scratch}.{_quote(target, c)} = "
                               f"{_quote(target, table.name)}.{_quote(target, c)}"
                               for c in table.key)
        with target.transaction():
            deleted = target.execute(
                f"DELETE FROM {_quote(target, table.name)} WHERE NOT EXISTS "
                f"(SELECT 1 FROM {scratch} WHERE {matched})").rowcount
    finally:
        target.execute(f"DROP TABLE IF EXISTS {scratch}")
    return int(deleted)


def _advance_sequences(target: Database, tables: list[Table]) -> None:
    """Move each PostgreSQL sequence that numbers a copied column past its highest value.

    A serial key's own sequence, and a sequence named TABLE_COLUMN (cleaned_seq numbers
    cleaned.seq). Never backwards: numbers a target once handed out are not handed out again."""
    for table in tables:
        for column in table.integer_columns:
            for sequence in _sequences_of(target, table.name, column):
                highest = target.scalar(f"SELECT max({_quote(target, column)}) "
                                        f"FROM {_quote(target, table.name)}")
                if highest is None:
                    continue
                row = target.execute(f"SELECT last_value, is_called FROM {sequence}").one()
                at = int(row.last_value) if row.is_called else 0
                if highest > at:
                    target.execute("SELECT setval(:sequence, :value, true)",
                                   {"sequence": sequence, "value": int(highest)})


def _sequences_of(target: Database, table: str, column: str) -> list[str]:
    serial = target.scalar("SELECT pg_get_serial_sequence(:table, :column)",
                           {"table": table, "column": column})
    named = target.scalar("SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind = 'S' "
                          "AND c.relname = :name AND pg_table_is_visible(c.oid)",
                          {"name": f"{table}_{column}"})
    return sorted({str(s) for s in (serial, named) if s})
