"""The databases behind the archive: SQLite files by default, or one shared PostgreSQL database.

Everything goes through SQLAlchemy Core, with SQL text that both engines read (named `:params`,
`ON CONFLICT`, `RETURNING`). A `Database` is one connection in autocommit mode; `transaction()`
groups statements into one durable write transaction: `BEGIN IMMEDIATE` on SQLite (the write
lock up front, so two writers queue rather than deadlock), `BEGIN` on PostgreSQL.

There are four stores: the catalogue (the record), staff accounts and sessions, the job queue
and the web server's rate limits. On SQLite each is its own file in the data directory, as it
always was; on PostgreSQL they are tables of one database. Their schemas are Alembic branches
of the same name (archive/migrations).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, CursorResult, Engine, make_url
from sqlalchemy.pool import NullPool

from archive.errors import CatalogueError

logger = logging.getLogger(__name__)

STORES = ("catalogue", "staff", "jobs", "ratelimits")
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None

DatabaseError = sqlalchemy.exc.DBAPIError  # what a failed statement raises, on either engine
IntegrityError = sqlalchemy.exc.IntegrityError


def engine_url(url: str) -> URL:
    """Return SQLAlchemy's URL for a setting: postgresql:// means psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_url(path: Path) -> str:
    """Return the database URL of a SQLite file."""
    return f"sqlite:///{path}"


def is_postgresql(url: str) -> bool:
    """Tell whether a database URL names PostgreSQL."""
    return url.startswith("postgresql")


def redacted(url: str) -> str:
    """Return a URL fit for a log line or an error message: no password."""
    return engine_url(url).render_as_string(hide_password=True)


_engines: dict[tuple[int, str, bool], Engine] = {}
_engines_lock = threading.Lock()


def engine(url: str, read_only: bool = False) -> Engine:
    """Return this process's engine for a URL (a forked child makes its own)."""
    key = (os.getpid(), url, read_only)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = _make_engine(url, read_only)
        return _engines[key]


def _make_engine(url: str, read_only: bool) -> Engine:
    parsed = engine_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if read_only:
            # readers (the web app) never write, nor create a missing file
            parsed = make_url(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true")
        made = sqlalchemy.create_engine(
            parsed, poolclass=NullPool, isolation_level="AUTOCOMMIT",
            connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(made, "connect")
        def _pragmas(dbapi_connection: Any, record: Any) -> None:
            if read_only:
                return
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return made
    options = "-c default_transaction_read_only=on" if read_only else ""
    return sqlalchemy.create_engine(
        parsed, isolation_level="AUTOCOMMIT", pool_pre_ping=True, pool_size=2, max_overflow=8,
        connect_args={"connect_timeout": 10, "application_name": "pressroom",
                      **({"options": options} if options else {})})


@lru_cache(maxsize=512)
def _statement(sql: str) -> sqlalchemy.TextClause:
    return sqlalchemy.text(sql)


class Database:
    """One connection to one store, in autocommit mode between explicit transactions."""

    def __init__(self, url: str, *, read_only: bool = False, what: str = "catalogue") -> None:
        self.url = url
        self.read_only = read_only
        self.what = what
        self._depth = 0
        try:
            self.engine = engine(url, read_only)
            self.conn: Connection = self.engine.connect()
        except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
            raise CatalogueError(f"{redacted(url)}: cannot open the {what}: "
                                 f"{first_line(exc)}") from exc

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @property
    def sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def execute(self, sql: str, params: Params = None) -> CursorResult[*tuple[Any, ...]]:
        """Run one statement with named parameters (a list of them runs it once per item)."""
        if isinstance(params, Sequence) and not params:
            return self.conn.execute(_statement("SELECT 1 WHERE 1 = 0"))
        return self.conn.execute(_statement(sql), params)

    def scalar(self, sql: str, params: Params = None) -> Any:
        """Return the first column of the first row, or None."""
        return self.execute(sql, params).scalar()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """Run a block in one write transaction; a transaction inside one joins it."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.conn.exec_driver_sql("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            try:
                self.conn.exec_driver_sql("ROLLBACK")
            except sqlalchemy.exc.SQLAlchemyError:
                logger.warning("%s: rollback failed; the connection is dropped", self.what)
                self.conn.invalidate()
            raise
        self._depth = 0
        self.conn.exec_driver_sql("COMMIT")

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    def close(self) -> None:
        """Give the connection back (closed on SQLite, pooled on PostgreSQL)."""
        self.conn.close()


def first_line(exc: BaseException) -> str:
    """Return the driver's own first line of a database error (no SQLAlchemy boilerplate)."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
