"""One active scheduler across machines: a PostgreSQL advisory lock held for the scheduler's life.

With the catalogue on PostgreSQL, `pressroom schedule` may run on several machines for
availability: the first to take the session-level advisory lock SCHEDULER_LOCK is active, the
others stand by and try again every `schedule.poll` seconds. The lock belongs to the active
scheduler's own connection, so it is released by the server when that process dies, however it
dies (its socket closes; TCP keepalives cover a machine that vanished). The connection's
application_name says who holds it ("pressroom schedule HOST pid N"), so a standby can say whom
it waits for. With SQLite files the data directory's schedule.lock (archive/lock.py) does the
same on one machine.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from typing import Any

import sqlalchemy
from sqlalchemy.pool import NullPool

from archive.database import engine_url, first_line, redacted

logger = logging.getLogger(__name__)

# any 63-bit number of Pressroom's own ("pressSCH"); archive.migrate's lock is another
SCHEDULER_LOCK = 0x7072657373534348
APPLICATION = "pressroom schedule "
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
             "keepalives_count": 3}
# the server gives up on a vanished client as soon: the lock is free about 25 s after
SERVER_KEEPALIVE = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
_KEY_PARTS = {"high": SCHEDULER_LOCK >> 32, "low": SCHEDULER_LOCK & 0xFFFFFFFF}
_HOLDERS = """SELECT a.application_name, a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = :high
  AND l.objid::bigint = :low AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"""


class SchedulerLock:
    """The advisory lock of the active scheduler, on a connection of its own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = f"{APPLICATION}{socket.gethostname()} pid {os.getpid()}"[:63]
        self._engine = sqlalchemy.create_engine(
            engine_url(url), poolclass=NullPool, isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 10, "application_name": self.name,
                          "options": SERVER_KEEPALIVE, **KEEPALIVE})
        self._conn: sqlalchemy.Connection | None = None
        self.held = False

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False when another scheduler holds it (or the database
        cannot be reached: said in the log, tried again at the next call)."""
        try:
            taken = bool(self._execute("SELECT pg_try_advisory_lock(:key)",
                                       {"key": SCHEDULER_LOCK}).scalar())
        except sqlalchemy.exc.SQLAlchemyError as exc:
            logger.warning("%s: cannot reach the database for the scheduler lock: %s",
                           redacted(self.url), first_line(exc))
            self._drop()
            return False
        self.held = taken
        return taken

    def holder(self) -> str:
        """Say who holds the lock: "HOST pid N", as its connection's application_name says."""
        try:
            row = self._execute(_HOLDERS, _KEY_PARTS).first()
        except sqlalchemy.exc.SQLAlchemyError:
            self._drop()
            return "an unknown process"
        if row is None:
            return "nobody now"
        name = str(row.application_name or "")
        return name.removeprefix(APPLICATION) if name.startswith(APPLICATION) else \
            f"server process {row.pid}"

    def still_held(self) -> bool:
        """Tell whether this process still holds the lock (False once its connection dropped)."""
        if not self.held:
            return False
        try:
            mine = self._execute(_HOLDERS + " AND l.pid = pg_backend_pid()", _KEY_PARTS).first()
        except sqlalchemy.exc.SQLAlchemyError as exc:
            logger.error("the scheduler lock's connection failed: %s", first_line(exc))
            mine = None
        if mine is None:
            self.held = False
            self._drop()
        return self.held

    def wait(self, stop: threading.Event, poll: float) -> bool:
        """Stand by until the lock is taken (True) or `stop` is set (False)."""
        said = ""
        while not stop.is_set():
            if self.try_acquire():
                if said:
                    logger.info("taking over: the scheduler lock is free")
                return True
            holder = self.holder()
            if holder != said:
                logger.info("standing by: scheduler active on %s", holder)
                said = holder
            stop.wait(poll)
        return False

    def release(self) -> None:
        """Let the lock go and close the connection."""
        if self.held and self._conn is not None:
            # the connection is closed next anyway, and the lock goes with it
            with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError):
                self._conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": SCHEDULER_LOCK})
        self.held = False
        self._drop()
        self._engine.dispose()

    def _execute(self, sql: str, params: dict[str, Any]) -> sqlalchemy.CursorResult[Any]:
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn.execute(sqlalchemy.text(sql), params)

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError):
                self._conn.close()
            self._conn = None
