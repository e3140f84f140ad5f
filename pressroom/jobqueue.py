"""Jobs asked for by staff, waiting for the scheduler: a small SQLite queue in the data directory.

The web app only adds jobs and reads their state; `pressroom schedule` claims them and runs them
as the same commands an operator would type. A job asked for twice while the first is still
waiting is one job.
"""

from __future__ import annotations

import datetime
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from archive.errors import ArchiveError
from archive.layout import DataDir

KINDS = ("crawl", "reclean", "rebuild", "index")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, site TEXT, requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL, state TEXT NOT NULL, started_at TEXT, finished_at TEXT,
    pid INTEGER, message TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, id);
"""


class JobError(ArchiveError):
    """A job that cannot be queued as asked."""


@dataclass(frozen=True)
class Job:
    """One queued, running or ended job."""

    id: int
    kind: str
    site: str | None
    requested_by: str
    requested_at: str
    state: str                      # queued, running, done, failed
    started_at: str | None
    finished_at: str | None
    message: str


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class JobQueue:
    """The queue kept in DATA_DIR/jobs.sqlite."""

    def __init__(self, data_dir: Path) -> None:
        self.path = DataDir(Path(data_dir)).jobs
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def enqueue(self, kind: str, site: str | None = None, requested_by: str = "") -> Job:
        """Queue a job, or return the same job already waiting."""
        if kind not in KINDS:
            raise JobError(f"unknown job {kind!r}: use one of {', '.join(KINDS)}")
        if kind == "crawl" and not site:
            raise JobError("a crawl job needs a site")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            row = self._db.execute(
                "SELECT id FROM jobs WHERE state = 'queued' AND kind = ? AND site IS ?",
                (kind, site)).fetchone()
            if row is None:
                row = self._db.execute(
                    "INSERT INTO jobs (kind, site, requested_by, requested_at, state) "
                    "VALUES (?, ?, ?, ?, 'queued') RETURNING id",
                    (kind, site, requested_by, _now())).fetchone()
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return self.get(int(row[0]))

    def claim(self, pid: int) -> Job | None:
        """Mark the oldest waiting job as running (by `pid`) and return it."""
        row = self._db.execute(
            "UPDATE jobs SET state = 'running', started_at = ?, pid = ? WHERE id = "
            "(SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1) RETURNING id",
            (_now(), pid)).fetchone()
        return None if row is None else self.get(int(row[0]))

    def finish(self, job_id: int, ok: bool, message: str = "") -> None:
        """Record a job's end."""
        self._db.execute("UPDATE jobs SET state = ?, finished_at = ?, message = ? WHERE id = ?",
                         ("done" if ok else "failed", _now(), message, job_id))

    def abandon_running(self, message: str = "the scheduler stopped before the job ended") -> int:
        """Mark jobs left running by a scheduler that died as failed; return how many."""
        cursor = self._db.execute(
            "UPDATE jobs SET state = 'failed', finished_at = ?, message = ? WHERE state = 'running'",
            (_now(), message))
        return cursor.rowcount

    def get(self, job_id: int) -> Job:
        """Return one job."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobError(f"no job {job_id}")
        return Job(*row)

    def recent(self, limit: int = 20) -> list[Job]:
        """Return the newest jobs first."""
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM jobs ORDER BY id DESC LIMIT ?", (limit,))
        return [Job(*row) for row in rows]


_COLUMNS = "id, kind, site, requested_by, requested_at, state, started_at, finished_at, message"
