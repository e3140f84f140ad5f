"""Crawl passes shared by workers: one task per site, taken by leasing every host of the site.

A worker leases a task whose hosts no live worker holds (host_leases: worker, expiry), renews
the leases while it crawls (a heartbeat), and gives them back at the end. A worker that dies
stops renewing; once its leases expire another worker takes the task over, and its run resumes
the dead one's frontier (Catalogue.start_run). Before each request a worker claims it here:
the claim fails when the lease is gone (fencing: a worker that lost its hosts stops), and waits
until the host's delay has passed since its last request, whichever worker made that one.

Task states: waiting -> crawling -> done | interrupted | failed; a worker stopped by a signal
puts its task back to waiting. A pass stays open until none of its tasks is waiting or crawling.
Times are seconds since the epoch, from PostgreSQL's clock when the database is shared (one
clock for every machine), from this machine's on SQLite.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from archive.catalogue import now_iso
from archive.database import Database
from archive.errors import ArchiveError, CrawlLocked
from archive.settings import SiteConfig

LEASE_SECONDS = 60.0
OPEN_STATES = ("waiting", "crawling")
# any 64-bit number both sides agree on: queues two coordinators opening a pass at once
PASS_LOCK = 0x70617373_6C6F636B


class LeaseLost(ArchiveError):
    """This worker no longer holds a host it crawls: its lease expired, another worker took over."""


@dataclass(frozen=True)
class Task:
    """One site of a crawl pass, as a worker leased it."""

    id: int
    pass_id: int
    site: SiteConfig
    hosts: tuple[str, ...]
    previous_worker: str | None = None  # set when this lease takes over a lapsed one


def db_now(db: Database) -> float:
    """Return the time in seconds since the epoch: the database's clock on PostgreSQL."""
    if db.sqlite:
        return time.time()
    return float(db.scalar("SELECT EXTRACT(EPOCH FROM clock_timestamp())"))


def site_json(site: SiteConfig) -> str:
    """Serialise a site's configuration for a task (a worker elsewhere may not have the file)."""
    return json.dumps(asdict(site), ensure_ascii=False, sort_keys=True)


def task_hosts(site: SiteConfig) -> list[str]:
    """Return the hosts a site's task leases: the hosts its pages are crawled from."""
    return sorted(site.hosts)


# -- passes ------------------------------------------------------------------------------------
def open_pass(db: Database) -> int | None:
    """Return the id of the pass in progress, or None."""
    found = db.scalar("SELECT id FROM crawl_passes WHERE state = 'running' ORDER BY id LIMIT 1")
    return int(found) if found is not None else None


def start_pass(db: Database, sites: Iterable[SiteConfig], by: str) -> tuple[int, bool]:
    """Open a pass with one task per site, or join the one in progress: return (id, created)."""
    with db.transaction():
        if not db.sqlite:  # SQLite's BEGIN IMMEDIATE already queues writers
            db.execute("SELECT pg_advisory_xact_lock(:key)", {"key": PASS_LOCK})
        current = open_pass(db)
        if current is not None:
            return current, False
        pass_id = int(db.scalar("INSERT INTO crawl_passes (started, state, started_by)"
                                " VALUES (:now, 'running', :by) RETURNING id",
                                {"now": now_iso(), "by": by}))
        db.execute("INSERT INTO crawl_tasks (pass_id, site, config, hosts, state)"
                   " VALUES (:pass_id, :site, :config, :hosts, 'waiting')",
                   [{"pass_id": pass_id, "site": s.key, "config": site_json(s),
                     "hosts": " ".join(task_hosts(s))} for s in sites])
    return pass_id, True


def refuse_if_pass_open(db: Database) -> None:
    """Raise CrawlLocked while a pass of workers is open: never two crawls of a site at once."""
    current = open_pass(db)
    if current is not None:
        left = db.scalar("SELECT COUNT(*) FROM crawl_tasks WHERE pass_id = :id AND state IN"
                         " ('waiting', 'crawling')", {"id": current})
        raise CrawlLocked(f"crawl pass {current} of workers is in progress ({left} to crawl); "
                          "`pressroom worker` finishes it, or `pressroom crawl --workers N` "
                          "joins it")


def pass_hosts(db: Database, pass_id: int) -> set[str]:
    """Return every host of a pass's sites (the addresses its workers may connect to)."""
    rows = db.execute("SELECT hosts FROM crawl_tasks WHERE pass_id = :id", {"id": pass_id})
    return {h for (hosts,) in rows for h in hosts.split()}


def tasks_left(db: Database, pass_id: int) -> int:
    """Count a pass's tasks that are waiting or being crawled."""
    return int(db.scalar("SELECT COUNT(*) FROM crawl_tasks WHERE pass_id = :id AND state IN"
                         " ('waiting', 'crawling')", {"id": pass_id}))


def pass_tasks(db: Database, pass_id: int) -> list[Any]:
    """Return a pass's tasks with their run's counters (rows), in order."""
    return list(db.execute(
        "SELECT t.id, t.site, t.state, t.worker, t.run_id, t.takeovers, t.started, t.finished,"
        " t.message, r.stats FROM crawl_tasks t LEFT JOIN runs r ON r.id = t.run_id"
        " WHERE t.pass_id = :id ORDER BY t.id", {"id": pass_id}).mappings())


# -- leases ------------------------------------------------------------------------------------
class _Raced(Exception):
    """Another worker leased one of the hosts between our look and our claim."""


def lease_task(db: Database, pass_id: int, worker: str, ttl: float = LEASE_SECONDS) -> Task | None:
    """Lease a task of the pass whose hosts are all free (or lapsed); None when there is none."""
    now = db_now(db)
    held = {r.host: r.worker for r in db.execute(
        "SELECT host, worker FROM host_leases WHERE worker IS NOT NULL AND expires > :now",
        {"now": now})}
    candidates = [r.id for r in db.execute(
        "SELECT id, hosts FROM crawl_tasks WHERE pass_id = :id AND state IN ('waiting', 'crawling')"
        " ORDER BY id", {"id": pass_id})
        if all(held.get(h, worker) == worker for h in r.hosts.split())]
    for task_id in candidates:
        try:
            task = _take(db, task_id, worker, ttl)
        except _Raced:
            continue
        if task is not None:
            return task
    return None


def _take(db: Database, task_id: int, worker: str, ttl: float) -> Task | None:
    lock = "" if db.sqlite else " FOR UPDATE SKIP LOCKED"
    with db.transaction():
        row = db.execute("SELECT * FROM crawl_tasks WHERE id = :id AND state IN"
                         f" ('waiting', 'crawling'){lock}", {"id": task_id}).first()
        if row is None:
            return None  # finished, or another worker is taking it right now
        now = db_now(db)
        for host in row.hosts.split():
            claimed = db.execute(
                "INSERT INTO host_leases (host, worker, task_id, expires) VALUES (:host,"
                " :worker, :task, :expires) ON CONFLICT (host) DO UPDATE SET worker ="
                " excluded.worker, task_id = excluded.task_id, expires = excluded.expires"
                " WHERE host_leases.worker IS NULL OR host_leases.expires <= :now"
                " OR host_leases.worker = :worker",
                {"host": host, "worker": worker, "task": task_id, "expires": now + ttl,
                 "now": now})
            if claimed.rowcount != 1:
                raise _Raced(host)
        takeover = row.state == "crawling"
        db.execute("UPDATE crawl_tasks SET state = 'crawling', worker = :worker,"
                   " started = COALESCE(started, :iso), takeovers = takeovers + :more"
                   " WHERE id = :id", {"worker": worker, "iso": now_iso(),
                                        "more": int(takeover), "id": task_id})
    return Task(row.id, row.pass_id, SiteConfig(**json.loads(row.config)),
                tuple(row.hosts.split()), row.worker if takeover else None)


def renew(db: Database, task: Task, worker: str, ttl: float = LEASE_SECONDS) -> None:
    """Extend the leases of a task's hosts (the heartbeat); raise LeaseLost when one lapsed."""
    with db.transaction():
        now = db_now(db)
        renewed = db.execute("UPDATE host_leases SET expires = :expires WHERE task_id = :task"
                             " AND worker = :worker AND expires > :now",
                             {"expires": now + ttl, "task": task.id, "worker": worker, "now": now})
        if renewed.rowcount != len(task.hosts):
            raise LeaseLost(f"{worker} lost its lease on {task.site.key}")


def claim_request(db: Database, task: Task, worker: str, host: str, delay: float,
                  ttl: float = LEASE_SECONDS) -> float:
    """Claim the next request to a host: 0 when granted, else the seconds to wait first.

    A host of the task must still be leased to this worker (else LeaseLost); any other host (a
    requisite host that another site's worker may be crawling) is only spaced by its delay.
    Either way the request waits `delay` (or the delay of whoever asked last, if longer) after
    the host's last request, whichever worker made it, and becomes the host's last request.
    """
    own = host in task.hosts
    with db.transaction():
        if not own:
            db.execute("INSERT INTO host_leases (host) VALUES (:host) ON CONFLICT DO NOTHING",
                       {"host": host})
        lock = "" if db.sqlite else " FOR UPDATE"
        row = db.execute("SELECT worker, task_id, expires, last_request, delay FROM host_leases"
                         f" WHERE host = :host{lock}", {"host": host}).first()
        now = db_now(db)
        if own and (row is None or row.worker != worker or row.task_id != task.id
                    or row.expires <= now):
            raise LeaseLost(f"{worker} lost its lease on {host} ({task.site.key})")
        assert row is not None
        wait = row.last_request + max(delay, row.delay) - now
        if wait > 0:
            return float(wait)
        expires = "expires = :expires, " if own else ""
        db.execute(f"UPDATE host_leases SET {expires}last_request = :now, delay = :delay"
                   " WHERE host = :host", {"expires": now + ttl, "now": now, "delay": delay,
                                            "host": host})
    return 0.0


def finish_task(db: Database, task: Task, worker: str, state: str, run_id: int | None,
                message: str | None = None) -> bool:
    """Close a task and give its hosts back; return True when that closed the pass too.

    Raise LeaseLost when another worker has taken the task over meanwhile.
    """
    with db.transaction():
        done = db.execute("UPDATE crawl_tasks SET state = :state, finished = :iso, run_id = :run,"
                          " message = :message WHERE id = :id AND worker = :worker AND state ="
                          " 'crawling'", {"state": state, "iso": now_iso(), "run": run_id,
                                          "message": message, "id": task.id, "worker": worker})
        if done.rowcount != 1:
            raise LeaseLost(f"{worker} lost its task {task.site.key} before finishing it")
        _release_hosts(db, task, worker)
        if tasks_left(db, task.pass_id):
            return False
        db.execute("UPDATE crawl_passes SET state = 'done', finished = :iso WHERE id = :id",
                   {"iso": now_iso(), "id": task.pass_id})
    return True


def give_back(db: Database, task: Task, worker: str, run_id: int | None) -> None:
    """Put a task back to waiting, its hosts free at once (this worker was stopped)."""
    with db.transaction():
        db.execute("UPDATE crawl_tasks SET state = 'waiting', run_id = :run WHERE id = :id"
                   " AND worker = :worker AND state = 'crawling'",
                   {"run": run_id, "id": task.id, "worker": worker})
        _release_hosts(db, task, worker)


def _release_hosts(db: Database, task: Task, worker: str) -> None:
    db.execute("UPDATE host_leases SET worker = NULL, task_id = NULL, expires = 0"
               " WHERE task_id = :task AND worker = :worker", {"task": task.id, "worker": worker})
