"""A crawl worker: lease a site of the open pass, crawl it under its leases, repeat.

Workers on one machine (`pressroom crawl --workers N`) or several (`pressroom worker`) share
the catalogue (PostgreSQL, or one SQLite file on one machine) and the WARC folder; each writes
its own WARC files, named after it. A worker crawls one site at a time, so each host has one
connection; its requests are claimed in the database first (archive.capture.leases).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

from archive.capture import leases
from archive.capture.crawl import Crawl
from archive.capture.leases import LEASE_SECONDS, LeaseLost, Task
from archive.capture.netguard import AddressPolicy
from archive.capture.record import CrawlStats
from archive.catalogue import Catalogue
from archive.database import Database
from archive.layout import DataDir, warcinfo
from archive.settings import Settings
from archive.warcstore import WarcStore, WarcWriteError

logger = logging.getLogger(__name__)


def default_name() -> str:
    """Return this process's worker name: host name and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class TaskResult:
    """How one site's task ended for this worker."""

    task: Task
    run_id: int
    state: str  # done, interrupted, failed, lost
    stats: CrawlStats
    seconds: float


class Heartbeat:
    """Renew a task's leases every third of their life, on a connection of its own."""

    def __init__(self, url: str, task: Task, worker: str, ttl: float) -> None:
        self.url, self.task, self.worker, self.ttl = url, task, worker, ttl
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{task.site.key}",
                                        daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        db = Database(self.url, what="catalogue")
        try:
            while not self._stop.wait(self.ttl / 3):
                try:
                    leases.renew(db, self.task, self.worker, self.ttl)
                except LeaseLost as exc:
                    logger.error("%s", exc)
                    self.lost.set()
                    return
                except Exception:  # a database hiccup: the next beat tries again
                    logger.exception("%s: cannot renew the leases of %s", self.worker,
                                     self.task.site.key)
        finally:
            db.close()


class Worker:
    """One crawl worker: takes the open pass's sites one at a time until none is left."""

    def __init__(self, settings: Settings, name: str | None = None,
                 lease_seconds: float = LEASE_SECONDS, poll_seconds: float = 2.0) -> None:
        self.settings = settings
        self.name = name or default_name()
        self.ttl = lease_seconds
        self.poll = poll_seconds
        self.where = DataDir.of(settings)
        self.catalogue = Catalogue(self.where.catalogue_url)
        self.db = self.catalogue.db

    def close(self) -> None:
        """Close the worker's connection."""
        self.catalogue.close()

    def run(self, wait: bool = False, pass_id: int | None = None) -> list[TaskResult]:
        """Crawl tasks until no pass is open (with `wait`, forever); return what was crawled."""
        results: list[TaskResult] = []
        while True:
            current = leases.open_pass(self.db) if pass_id is None else pass_id
            if current is None or not leases.tasks_left(self.db, current):
                if not wait:
                    return results
                pass_id = None
                time.sleep(self.poll)
                continue
            task = leases.lease_task(self.db, current, self.name, self.ttl)
            if task is None:  # every site left is being crawled: wait for one to end or lapse
                time.sleep(self.poll)
                continue
            results.append(self.crawl_task(task))

    def crawl_task(self, task: Task) -> TaskResult:
        """Crawl a leased site under its leases; close the task (or give it back when stopped)."""
        started = time.monotonic()
        store = WarcStore(self.where.warc, self.settings.archive.warc_prefix,
                          self.settings.archive.warc_max_bytes,
                          max_payload_bytes=self.settings.crawl.max_body_bytes,
                          info=warcinfo(self.settings), worker=self.name)
        if task.previous_worker:
            logger.warning("%s: taking %s over from %s, whose lease lapsed", self.name,
                           task.site.key, task.previous_worker)
            for name in store.recover(worker=task.previous_worker):
                logger.warning("recovered %s left open by %s", name, task.previous_worker)
        policy = AddressPolicy(leases.pass_hosts(self.db, task.pass_id) | set(task.hosts))
        with Heartbeat(self.where.catalogue_url, task, self.name, self.ttl) as heartbeat:
            crawl = Crawl(self.settings, task.site, self.catalogue, store, policy,
                          gate=lambda host, delay: self._claim(task, heartbeat, host, delay),
                          worker=self.name)
            try:
                stats = crawl.run()
            except LeaseLost as exc:
                logger.error("%s: stopping %s: %s", self.name, task.site.key, exc)
                return TaskResult(task, crawl.run_id, "lost", crawl.stats,
                                  time.monotonic() - started)
            except WarcWriteError as exc:
                self.catalogue.finish_run(crawl.run_id, "failed", crawl.stats.as_dict())
                leases.finish_task(self.db, task, self.name, "failed", crawl.run_id, str(exc))
                raise
            except BaseException:
                leases.give_back(self.db, task, self.name, crawl.run_id or None)
                raise
        state = "done" if self._run_state(crawl.run_id) == "done" else "interrupted"
        try:
            leases.finish_task(self.db, task, self.name, state, crawl.run_id)
        except LeaseLost as exc:
            logger.error("%s", exc)
            state = "lost"
        logger.info("%s: %s %s (run %d)", self.name, task.site.key, state, crawl.run_id)
        return TaskResult(task, crawl.run_id, state, stats, time.monotonic() - started)

    def _claim(self, task: Task, heartbeat: Heartbeat, host: str, delay: float) -> None:
        """Wait for this host's turn among every worker; raise LeaseLost once the lease is gone."""
        while True:
            if heartbeat.lost.is_set():
                raise LeaseLost(f"{self.name} lost its lease on {task.site.key}")
            wait = leases.claim_request(self.db, task, self.name, host, delay, self.ttl)
            if wait <= 0:
                return
            time.sleep(wait)

    def _run_state(self, run_id: int) -> str:
        return str(self.db.scalar("SELECT state FROM runs WHERE id = :id", {"id": run_id}))
