"""Token buckets that every process serving the archive shares: a small SQLite file of the data
directory, or a table of the shared PostgreSQL database.

Gunicorn's workers, several `pressroom serve` on one data directory, and on PostgreSQL several
web nodes behind a load balancer each keep their own memory: buckets there would multiply a
client's budget by the number of processes. A take is one SQL statement, and the table stays
small: full buckets are forgotten, and past `max_clients` those nearest to full go first. The
buckets are worth no durability: on SQLite the file runs in WAL without fsync, on PostgreSQL
the table is UNLOGGED (ratelimits_0002) and the time is the server's, the same for every node.
"""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from typing import Any, cast

import sqlalchemy

from archive import migrate
from archive.database import Database
from archive.errors import ArchiveError
from archive.layout import DataDir
from archive.settings import Settings

logger = logging.getLogger(__name__)

STORE_ERRORS = (sqlite3.Error, sqlalchemy.exc.SQLAlchemyError, ArchiveError, OSError)

REFILL = "min(:burst, tokens + max(0.0, :now - updated) * :rate)"
# SQLite: one statement, so one short transaction: refill the bucket, then take a token if any
TAKE = f"""INSERT INTO buckets (key, tokens, updated, full_at, allowed)
VALUES (:key, :burst - (:burst >= 1), :now, :now + (:burst >= 1) / :rate, :burst >= 1)
ON CONFLICT (key) DO UPDATE SET
    allowed = {REFILL} >= 1,
    tokens = {REFILL} - ({REFILL} >= 1),
    full_at = :now + (:burst - {REFILL} + ({REFILL} >= 1)) / :rate,
    updated = :now
RETURNING allowed"""
# a full bucket is the same as none; past the cap, forget the buckets nearest to full first
PRUNE = ("DELETE FROM buckets WHERE full_at <= :now",
         "DELETE FROM buckets WHERE key IN (SELECT key FROM buckets ORDER BY full_at DESC "
         "LIMIT -1 OFFSET :cap)")

# PostgreSQL: the same take, with its own words for min, max and true-as-1; "now" is the
# server's clock, read once (EXCLUDED.updated is the row the statement meant to insert)
_PG_NOW = "extract(epoch FROM clock_timestamp())::float8"
_PG_REFILL = "LEAST(:burst, b.tokens + GREATEST(0.0, EXCLUDED.updated - b.updated) * :rate)"
_PG_ONE = "CASE WHEN {} >= 1 THEN 1 ELSE 0 END"
PG_TAKE = f"""INSERT INTO buckets AS b (key, tokens, updated, full_at, allowed)
SELECT :key, :burst - {_PG_ONE.format(":burst")}, now, now + {_PG_ONE.format(":burst")} / :rate,
       {_PG_ONE.format(":burst")}
FROM (SELECT {_PG_NOW} AS now) AS clock
ON CONFLICT (key) DO UPDATE SET
    allowed = {_PG_ONE.format(_PG_REFILL)},
    tokens = {_PG_REFILL} - {_PG_ONE.format(_PG_REFILL)},
    full_at = EXCLUDED.updated + (:burst - {_PG_REFILL} + {_PG_ONE.format(_PG_REFILL)}) / :rate,
    updated = EXCLUDED.updated
RETURNING allowed"""
PG_PRUNE = (f"DELETE FROM buckets WHERE full_at <= {_PG_NOW}",
            "DELETE FROM buckets WHERE key IN (SELECT key FROM buckets ORDER BY full_at DESC "
            "OFFSET :cap)")


class MemoryBuckets:
    """Token buckets in this process only: the fallback when the shared file cannot be used."""

    def __init__(self, max_clients: int) -> None:
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, rate: float, burst: float) -> bool:
        """Take a token from a bucket; False when it is empty."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return allowed


class SharedBuckets:
    """Token buckets in the rate-limit store that every process serving the archive shares.

    One connection per process, behind a lock: a take is one statement of a few microseconds
    on SQLite (run on the driver's connection, SQLAlchemy's layer would double its cost), and
    under gevent a connection per greenlet would mean one per open client connection.
    """

    PRUNE_EVERY = 500
    RETRY_SECONDS = 30.0    # after a failure, per-process limits for this long: no request waits
                            # on a database that is down

    def __init__(self, url: str, max_clients: int = 100_000, busy_seconds: float = 0.5) -> None:
        self.url = url
        self.max_clients = max_clients
        self.busy_seconds = busy_seconds
        self.memory = MemoryBuckets(max_clients)
        self._lock = threading.Lock()
        self._db: Database | None = None
        self._sqlite: sqlite3.Connection | None = None
        self._pid = 0
        self._takes = itertools.count(1)
        self._warned = False
        self._retry_at = 0.0

    @classmethod
    def of(cls, settings: Settings) -> SharedBuckets:
        """The buckets of the settings' data directory (or shared database)."""
        return cls(DataDir.of(settings).store_url("ratelimits"))

    def take(self, key: str, rate: float, burst: float) -> bool:
        """Take a token from a bucket; False when it is empty."""
        params: dict[str, Any] = {"key": key, "rate": float(rate), "burst": float(burst),
                                  "cap": self.max_clients}
        prune = next(self._takes) % self.PRUNE_EVERY == 0
        if time.monotonic() < self._retry_at:
            return self.memory.take(key, rate, burst)
        try:
            with self._lock:
                db = self._connection()
                params["now"] = time.time()       # after any wait for the lock or a connection
                if self._sqlite is not None:
                    allowed = self._sqlite.execute(TAKE, params).fetchall()[0][0]
                    if prune:
                        for statement in PRUNE:
                            self._sqlite.execute(statement, params)
                else:
                    allowed = db.scalar(PG_TAKE, params)
                    if prune:
                        for statement in PG_PRUNE:
                            db.execute(statement, params)
            return bool(allowed)
        except STORE_ERRORS as exc:  # limits per process for a while, never a 500
            with self._lock:                                # open afresh next time
                self._drop()
                self._retry_at = time.monotonic() + self.RETRY_SECONDS
            if not self._warned:
                self._warned = True
                logger.warning("rate limits are per process for now: %s: %s", self.url, exc)
            return self.memory.take(key, rate, burst)

    def _connection(self) -> Database:
        """This process's connection (a new one after a fork: connections do not cross it)."""
        if self._db is None or self._pid != os.getpid():
            self._db, self._sqlite = None, None
            db = Database(self.url, what="rate limits")
            try:
                migrate.ensure(db, "ratelimits")
                if db.sqlite:
                    raw = cast(sqlite3.Connection, db.conn.connection.dbapi_connection)
                    raw.execute(f"PRAGMA busy_timeout = {int(self.busy_seconds * 1000)}")
                    raw.execute("PRAGMA synchronous = OFF")      # buckets are worth no fsync
                    self._sqlite = raw
            except BaseException:
                db.close()
                raise
            self._db, self._pid = db, os.getpid()
        return self._db

    def _drop(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            try:
                self._db.close()
            except STORE_ERRORS:  # a broken connection is being thrown away anyway
                logger.debug("closing the rate-limit connection failed", exc_info=True)
        self._db, self._sqlite = None, None
