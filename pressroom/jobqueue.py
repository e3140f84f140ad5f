"""Jobs asked for by staff, waiting for the scheduler: DATA_DIR/jobs.sqlite, or a table of the
shared database when [archive] database is PostgreSQL (any web node queues, the one active
scheduler claims).

The web app only adds jobs and reads their state; `pressroom schedule` claims them and runs them
as the same commands an operator would type. A job asked for twice while the first is still
waiting is one job.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from archive import migrate
from archive.database import Database
from archive.errors import ArchiveError
from archive.layout import DataDir
from archive.settings import Settings

KINDS = ("crawl", "reclean", "rebuild", "index")
# PostgreSQL: the transaction-scoped advisory lock that makes "find the waiting job, else add
# one" a single step when two web nodes queue the same job at once
ENQUEUE_LOCK = 0x707265737346A0B5


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
    """The queue of one data directory (DATA_DIR/jobs.sqlite) or shared database."""

    def __init__(self, url: str) -> None:
        self._db = Database(url, what="job queue")
        try:
            migrate.ensure(self._db, "jobs")
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def of(cls, settings: Settings) -> JobQueue:
        """Open the queue of the settings' data directory (or shared database)."""
        return cls(DataDir.of(settings).store_url("jobs"))

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def enqueue(self, kind: str, site: str | None = None, requested_by: str = "") -> Job:
        """Queue a job, or return the same job already waiting."""
        if kind not in KINDS:
            raise JobError(f"unknown job {kind!r}: use one of {', '.join(KINDS)}")
        if kind == "crawl" and not site:
            raise JobError("a crawl job needs a site")
        same_site = "site IS NULL" if site is None else "site = :site"
        with self._db.transaction():
            if not self._db.sqlite:   # SQLite's BEGIN IMMEDIATE already lets one writer in
                self._db.execute("SELECT pg_advisory_xact_lock(:key)", {"key": ENQUEUE_LOCK})
            job_id = self._db.scalar(
                f"SELECT id FROM jobs WHERE state = 'queued' AND kind = :kind AND {same_site}",
                {"kind": kind, "site": site})
            if job_id is None:
                job_id = self._db.scalar(
                    "INSERT INTO jobs (kind, site, requested_by, requested_at, state) "
                    "VALUES (:kind, :site, :by, :now, 'queued') RETURNING id",
                    {"kind": kind, "site": site, "by": requested_by, "now": _now()})
        return self.get(int(job_id))

    def claim(self, pid: int) -> Job | None:
        """Mark the oldest waiting job as running (by `pid`) and return it."""
        skip = "" if self._db.sqlite else " FOR UPDATE SKIP LOCKED"
        job_id = self._db.scalar(
            "UPDATE jobs SET state = 'running', started_at = :now, pid = :pid WHERE id = "
            f"(SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1{skip}) RETURNING id",
            {"now": _now(), "pid": pid})
        return None if job_id is None else self.get(int(job_id))

    def finish(self, job_id: int, ok: bool, message: str = "") -> None:
        """Record a job's end."""
        self._db.execute("UPDATE jobs SET state = :state, finished_at = :now, message = :message "
                         "WHERE id = :id", {"state": "done" if ok else "failed", "now": _now(),
                                            "message": message, "id": job_id})

    def abandon_running(self, message: str = "the scheduler stopped before the job ended") -> int:
        """Mark jobs left running by a scheduler that died as failed; return how many."""
        return int(self._db.execute(
            "UPDATE jobs SET state = 'failed', finished_at = :now, message = :message "
            "WHERE state = 'running'", {"now": _now(), "message": message}).rowcount)

    def get(self, job_id: int) -> Job:
        """Return one job."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = :id",
                               {"id": job_id}).fetchone()
        if row is None:
            raise JobError(f"no job {job_id}")
        return Job(*row)

    def recent(self, limit: int = 20) -> list[Job]:
        """Return the newest jobs first."""
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM jobs ORDER BY id DESC LIMIT :limit",
                                {"limit": limit})
        return [Job(*row) for row in rows]


_COLUMNS = "id, kind, site, requested_by, requested_at, state, started_at, finished_at, message"
