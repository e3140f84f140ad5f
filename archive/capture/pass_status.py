"""What the crawl workers are doing: the latest pass, its sites, and each worker's leases."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from archive.capture.leases import db_now
from archive.catalogue import Catalogue
from archive.database import Database
from archive.layout import DataDir
from archive.settings import Settings


@dataclass(frozen=True)
class WorkerActivity:
    """One site being crawled by one worker, as its leases say."""

    worker: str
    site: str
    hosts: list[str]
    alive: bool                 # its leases are current (False: it died or hangs; taken over soon)
    expires_in: float           # seconds until its leases lapse (negative: lapsed)
    last_request_ago: float | None  # seconds since its latest request to one of the hosts
    takeovers: int              # how often this site changed worker in this pass


@dataclass(frozen=True)
class CrawlPassStatus:
    """The latest pass of workers: open or done, its sites by state, who crawls what now."""

    id: int
    state: str
    started: str
    finished: str | None
    sites: dict[str, int]       # task state -> number of sites
    workers: list[WorkerActivity] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the status as JSON-ready data."""
        return asdict(self)

    def lines(self) -> list[str]:
        """Describe the pass in a few lines of text."""
        counts = ", ".join(f"{n} {state}" for state, n in sorted(self.sites.items()))
        when = (f"{self.started} to {self.finished}" if self.finished
                else f"since {self.started}")
        out = [f"crawl pass {self.id}: {self.state} {when} (sites: {counts})"]
        for w in self.workers:
            last = (f", last request {w.last_request_ago:.1f} s ago"
                    if w.last_request_ago is not None else "")
            health = (f"lease {w.expires_in:.0f} s" if w.alive
                      else f"lease lapsed {-w.expires_in:.0f} s ago")
            out.append(f"  {w.worker}: {w.site} ({' '.join(w.hosts)}), {health}{last}")
        return out


def crawl_pass_status(db: Database) -> CrawlPassStatus | None:
    """Read the latest crawl pass and its workers' activity (None when no pass ever ran)."""
    row = db.execute("SELECT * FROM crawl_passes ORDER BY id DESC LIMIT 1").first()
    if row is None:
        return None
    sites = {r[0]: int(r[1]) for r in db.execute(
        "SELECT state, COUNT(*) FROM crawl_tasks WHERE pass_id = :id GROUP BY state",
        {"id": row.id})}
    now = db_now(db)
    leased: dict[int, list[Any]] = {}
    for lease in db.execute("SELECT * FROM host_leases WHERE task_id IS NOT NULL"):
        leased.setdefault(lease.task_id, []).append(lease)
    workers = []
    for task in db.execute("SELECT * FROM crawl_tasks WHERE pass_id = :id AND state = 'crawling'"
                           " ORDER BY id", {"id": row.id}):
        mine = [lease for lease in leased.get(task.id, []) if lease.worker == task.worker]
        expires = min((lease.expires for lease in mine), default=0.0)
        last = max((lease.last_request for lease in mine), default=0.0)
        workers.append(WorkerActivity(task.worker, task.site, task.hosts.split(), expires > now,
                                      round(expires - now, 1),
                                      round(now - last, 1) if last else None, task.takeovers))
    return CrawlPassStatus(row.id, row.state, row.started, row.finished, sites, workers)


def read_crawl_pass(settings: Settings) -> CrawlPassStatus | None:
    """Open the catalogue read-only and read the latest crawl pass (None without an archive)."""
    where = DataDir.of(settings)
    if not where.shared_database and not where.catalogue.exists():
        return None
    catalogue = Catalogue(where.catalogue_url, read_only=True)
    try:
        return crawl_pass_status(catalogue.db)
    finally:
        catalogue.close()
