"""Token buckets that every process serving a data directory shares, in a small SQLite file.

Gunicorn's workers, and several `pressroom serve` on one data directory, each keep their own
memory: buckets there would multiply a client's budget by the number of processes. A take is
one SQL statement (WAL, no fsync: the buckets are worth none), and the table stays small: full
buckets are forgotten, and past `max_clients` those nearest to full go first.
"""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path

logger = logging.getLogger(__name__)

REFILL = "min(:burst, tokens + max(0.0, :now - updated) * :rate)"
SCHEMA = ("CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, "
          "updated REAL NOT NULL, full_at REAL NOT NULL, allowed INTEGER NOT NULL) WITHOUT ROWID",
          "CREATE INDEX IF NOT EXISTS buckets_full_at ON buckets (full_at)")
# one statement, so one short transaction: refill the bucket, then take a token if there is one
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
    """Token buckets in a SQLite file (WAL) that every process serving a data directory shares.

    One connection per process, behind a lock: a take is one statement of a few microseconds,
    and under gevent a connection per greenlet would mean one per open client connection.
    """

    PRUNE_EVERY = 500

    def __init__(self, path: Path, max_clients: int = 100_000, busy_seconds: float = 0.5) -> None:
        self.path = path
        self.max_clients = max_clients
        self.busy_seconds = busy_seconds
        self.memory = MemoryBuckets(max_clients)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._takes = itertools.count(1)
        self._warned = False

    def take(self, key: str, rate: float, burst: float) -> bool:
        """Take a token from a bucket; False when it is empty."""
        now = time.time()
        try:
            with self._lock:
                db = self._connection()
                allowed = db.execute(TAKE, {"key": key, "rate": float(rate), "burst": float(burst),
                                            "now": now}).fetchall()[0][0]
                if next(self._takes) % self.PRUNE_EVERY == 0:
                    for statement in PRUNE:
                        db.execute(statement, {"now": now, "cap": self.max_clients})
            return bool(allowed)
        except sqlite3.Error as exc:
            with self._lock:                                # open afresh next time
                if self._db is not None:
                    self._db.close()
                    self._db = None
            if not self._warned:
                self._warned = True
                logger.warning("rate limits are per process for now: %s: %s", self.path, exc)
            return self.memory.take(key, rate, burst)

    def _connection(self) -> sqlite3.Connection:
        """This process's connection (a new one after a fork: connections do not cross it)."""
        if self._db is None or self._pid != os.getpid():
            db = sqlite3.connect(self.path, timeout=self.busy_seconds, isolation_level=None,
                                 check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = OFF")      # buckets are worth no fsync
                for statement in SCHEMA:
                    db.execute(statement)
            except sqlite3.Error:
                db.close()
                raise
            self._db, self._pid = db, os.getpid()
        return self._db
