"""What the archive holds and how its crawls went: runs, sizes, extraction problems, coverage,
and the pages cleaning did not keep as releases (with why).

Read-only over the catalogue. Figures come from SQL aggregation: run counters from each run's
`stats` JSON (one small row per run, not the fetch log, which grows by every page of every
crawl), releases from one pass over the latest cleaned version of each document.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.catalogue import Catalogue
from archive.database import Database, DatabaseError, first_line, redacted
from archive.errors import ArchiveError, NoArchive
from archive.layout import DataDir
from archive.settings import Settings
from archive.status_contacts import DoubtfulContact, doubtful_contacts
from archive.status_sql import (
    catalogue_size,
    dropped_rows,
    in_text_order,
    release_rows,
    run_breakdowns,
    run_counter,
)

logger = logging.getLogger(__name__)

RECENT_RUNS = 5
PROBLEM_KINDS = ("no-date", "no-body", "no-country")
# what a run's counters say about the pages it handled, by the fetch log's outcome names
PAGE_OUTCOMES = {"new": "new", "changed": "changed", "unchanged": "unchanged",
                 "redirect": "redirects", "retry": "retries"}

PROBLEM_WHERE = {"no-date": "month IS NULL", "no-body": "no_body", "no-country": "no_country"}

REJECTED_LISTED = 20  # latest rejected pages listed per site


@dataclass(frozen=True)
class RunSummary:
    """One crawl run of a site and its counters."""

    id: int
    site: str
    state: str
    started: str
    finished: str | None
    seconds: float | None
    fetched: int
    new: int
    changed: int
    unchanged: int
    failed: dict[str, int]
    skipped_robots: int
    live: bool  # no counters stored (still running, or killed): counted from its fetch log

    @property
    def failed_total(self) -> int:
        """Failed fetches, all reasons together."""
        return sum(self.failed.values())


@dataclass(frozen=True)
class Problem:
    """A release whose extraction missed something staff can fix with page rules."""

    kind: str
    site: str
    url: str
    release_id: str


@dataclass(frozen=True)
class Rejected:
    """A captured page that cleaning did not keep as a release, and why."""

    site: str
    url: str
    reason: str     # as cleaning gave it: "too little text (12 words)"
    kind: str       # the reason without its details: "too little text"
    captured: str   # when the version judged was captured


@dataclass
class SiteStatus:
    """One site: its latest runs, next scheduled run and how many releases it gave."""

    key: str
    name: str
    configured: bool
    runs: list[RunSummary]
    run_count: int
    next_run: datetime | None
    releases: int


@dataclass
class Coverage:
    """Releases per site, language and month of publication (latest version of each)."""

    counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    undated: dict[str, int] = field(default_factory=dict)

    def series(self, site: str | None = None) -> tuple[list[str], dict[str, list[int]]]:
        """Return every month from the first to the last (gaps as zero) and counts by language."""
        sites = [site] if site is not None else list(self.counts)
        by_language: dict[str, Counter[str]] = {}
        for key in sites:
            for language, counts in self.counts.get(key, {}).items():
                by_language.setdefault(language, Counter()).update(counts)
        seen = [m for c in by_language.values() for m in c]
        months = months_between(min(seen), max(seen)) if seen else []
        return months, {lang: [c.get(m, 0) for m in months] for lang, c in sorted(by_language.items())}

    def total(self, site: str | None = None) -> int:
        """Count the dated releases of a site (or of all sites)."""
        sites = [site] if site is not None else list(self.counts)
        return sum(n for key in sites for months in self.counts.get(key, {}).values()
                   for n in months.values())


@dataclass
class RunTotals:
    """Counters summed over every run, for the metrics."""

    runs: dict[tuple[str, str], int] = field(default_factory=dict)        # (site, state)
    fetched: dict[str, int] = field(default_factory=dict)                 # site
    pages: dict[tuple[str, str], int] = field(default_factory=dict)       # (site, outcome)
    failures: dict[tuple[str, str], int] = field(default_factory=dict)    # (site, reason)


@dataclass(frozen=True)
class SchedulerState:
    """What DATA_DIR/schedule.json says of the built-in scheduler."""

    state: str
    pid: int | None
    heartbeat: str | None
    alive: bool  # said it was running and gave a sign of life within two poll intervals


@dataclass
class ArchiveStatus:
    """Everything the status page and `pressroom status` say about the archive."""

    generated: datetime
    exists: bool
    sites: list[SiteStatus]
    warc_files: int
    warc_bytes: int
    catalogue_bytes: int
    releases: int
    problem_counts: dict[str, int]
    problems: list[Problem]
    coverage: Coverage
    totals: RunTotals
    schedule_note: str | None = None
    scheduler: SchedulerState | None = None
    rejection_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # site -> kind -> n
    rejected: list[Rejected] = field(default_factory=list)  # the latest of each site
    doubtful_contact_count: int = 0
    doubtful_contacts: list[DoubtfulContact] = field(default_factory=list)  # the first few

    def to_json(self) -> dict[str, Any]:
        """Return the status as JSON-ready data."""
        return {
            "generated": self.generated.isoformat(timespec="seconds"), "exists": self.exists,
            "sites": [{**{k: v for k, v in asdict(s).items() if k != "runs"},
                       "next_run": s.next_run.isoformat(timespec="seconds") if s.next_run else None,
                       "runs": [{**asdict(r), "failed_total": r.failed_total} for r in s.runs]}
                      for s in self.sites],
            "schedule_note": self.schedule_note,
            "scheduler": asdict(self.scheduler) if self.scheduler else None,
            "archive": {"warc_files": self.warc_files, "warc_bytes": self.warc_bytes,
                        "catalogue_bytes": self.catalogue_bytes, "releases": self.releases},
            "problems": {"counts": self.problem_counts,
                         "listed": [asdict(p) for p in self.problems]},
            "coverage": {"months": self.coverage.counts, "undated": self.coverage.undated},
            "rejections": {"counts": self.rejection_counts,
                           "listed": [asdict(r) for r in self.rejected]},
            "doubtful_contacts": {"count": self.doubtful_contact_count,
                                  "listed": [asdict(c) for c in self.doubtful_contacts]},
        }


def months_between(first: str, last: str) -> list[str]:
    """Return the months from `first` to `last` (YYYY-MM), both included.

    >>> months_between("2023-11", "2024-02")
    ['2023-11', '2023-12', '2024-01', '2024-02']
    """
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def gather_status(settings: Settings, now: datetime | None = None, problem_limit: int = 20,
                  recent_runs: int = RECENT_RUNS, rejected_limit: int = REJECTED_LISTED
                  ) -> ArchiveStatus:
    """Read the data directory's catalogue and files into an ArchiveStatus (never writes)."""
    now = now or datetime.now(UTC)
    paths = DataDir.of(settings)
    warc_files, warc_bytes = _folder_size(paths.warc)
    catalogue_bytes = sum(_size(paths.catalogue.with_name(paths.catalogue.name + suffix))
                          for suffix in ("", "-wal"))
    next_runs, note = scheduled_runs(settings, now)
    scheduler = scheduler_state(settings, now)
    status = ArchiveStatus(generated=now, exists=paths.shared_database or paths.catalogue.exists(),
                           sites=[],
                           warc_files=warc_files, warc_bytes=warc_bytes,
                           catalogue_bytes=catalogue_bytes, releases=0,
                           problem_counts=dict.fromkeys(PROBLEM_KINDS, 0), problems=[],
                           coverage=Coverage(), totals=RunTotals(), schedule_note=note,
                           scheduler=scheduler)
    runs: dict[str, list[RunSummary]] = {}
    catalogue = _open_catalogue(paths) if status.exists else None
    status.exists = catalogue is not None
    if catalogue is not None:
        try:
            db = catalogue.db
            runs = recent_runs_by_site(db, recent_runs, now)
            status.totals = run_totals(db)
            status.coverage, status.problem_counts, status.problems = release_figures(
                db, problem_limit)
            status.rejection_counts, status.rejected = rejections(db, rejected_limit)
            status.doubtful_contact_count, status.doubtful_contacts = doubtful_contacts(
                db, problem_limit)
            if paths.shared_database:
                status.catalogue_bytes = catalogue_size(db)
        except DatabaseError as exc:
            # the statement stays in the log: the message may reach a web page
            logger.error("cannot read the catalogue %s: %s", redacted(catalogue.url), exc)
            raise ArchiveError(f"{redacted(catalogue.url)}: cannot read the catalogue: "
                               f"{first_line(exc)}") from exc
        finally:
            catalogue.close()
    status.releases = sum(status.coverage.undated.values()) + status.coverage.total()
    status.sites = _sites(settings, status, runs, next_runs)
    return status


def _open_catalogue(paths: DataDir) -> Catalogue | None:
    """Open the catalogue read-only; None when a shared database holds no archive yet."""
    try:
        return Catalogue(paths.catalogue_url, read_only=True)
    except NoArchive:
        if paths.shared_database:  # an empty database, as a missing SQLite file
            return None
        raise


def _sites(settings: Settings, status: ArchiveStatus, runs: dict[str, list[RunSummary]],
           next_runs: dict[str, datetime]) -> list[SiteStatus]:
    keys = list(settings.sites) + sorted(
        ({s for s, _ in status.totals.runs} | set(status.coverage.counts)
         | set(status.coverage.undated) | set(status.rejection_counts)) - set(settings.sites))
    sites = []
    for key in keys:
        config = settings.sites.get(key)
        sites.append(SiteStatus(
            key=key, name=config.name if config else key, configured=config is not None,
            runs=runs.get(key, []),
            run_count=sum(n for (s, _), n in status.totals.runs.items() if s == key),
            next_run=next_runs.get(key),
            releases=status.coverage.total(key) + status.coverage.undated.get(key, 0)))
    return sites


def scheduled_runs(settings: Settings, now: datetime) -> tuple[dict[str, datetime], str | None]:
    """Return the next run of each site from pressroom.schedule, or why there is none."""
    try:
        schedule = importlib.import_module("pressroom.schedule")
    except ImportError:
        return {}, "not scheduled"
    try:
        found = schedule.next_runs(settings, now)
    except (ArchiveError, ValueError) as exc:
        return {}, f"schedule error: {exc}"
    return {str(k): v for k, v in dict(found).items() if isinstance(v, datetime)}, None


def scheduler_state(settings: Settings, now: datetime) -> SchedulerState | None:
    """Read the scheduler's schedule.json (None when no scheduler ever ran here)."""
    try:
        read_state = importlib.import_module("pressroom.schedule").read_state
    except (ImportError, AttributeError):
        return None
    state = read_state(settings.data_dir)
    if not state:
        return None
    heartbeat = state.get("heartbeat")
    try:
        age = (now - datetime.fromisoformat(heartbeat)).total_seconds() if heartbeat else None
        poll = float(state.get("poll") or settings.schedule.poll)
    except (TypeError, ValueError):
        age, poll = None, settings.schedule.poll
    alive = state.get("state") in ("idle", "running") and age is not None and age <= 2 * poll + 5
    pid = state.get("pid")
    return SchedulerState(state=str(state.get("state") or "unknown"),
                          pid=pid if isinstance(pid, int) else None,
                          heartbeat=heartbeat if isinstance(heartbeat, str) else None, alive=alive)


def recent_runs_by_site(db: Database, limit: int, now: datetime) -> dict[str, list[RunSummary]]:
    """Return the latest `limit` runs of every site, newest first."""
    rows = db.execute(
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY site ORDER BY id DESC) AS rank"
        " FROM runs) ranked WHERE rank <= :limit ORDER BY site, id DESC", {"limit": limit}).mappings().all()
    live = _live_counts(db, [r["id"] for r in rows if r["stats"] is None])
    runs: dict[str, list[RunSummary]] = {}
    for row in rows:
        runs.setdefault(row["site"], []).append(_run(row, live.get(row["id"]), now))
    return runs


def _run(row: Any, live: dict[str, Any] | None, now: datetime) -> RunSummary:
    stats: dict[str, Any] = json.loads(row["stats"]) if row["stats"] else (live or {})
    started = datetime.fromisoformat(row["started"])
    end = datetime.fromisoformat(row["finished"]) if row["finished"] else (
        now if row["state"] == "running" else None)
    return RunSummary(
        id=row["id"], site=row["site"], state=row["state"], started=row["started"],
        finished=row["finished"], seconds=(end - started).total_seconds() if end else None,
        fetched=int(stats.get("fetched", 0)), new=int(stats.get("new", 0)),
        changed=int(stats.get("changed", 0)), unchanged=int(stats.get("unchanged", 0)),
        failed={str(k): int(v) for k, v in sorted((stats.get("failed") or {}).items())},
        skipped_robots=int(stats.get("skipped_robots", 0)), live=row["stats"] is None)


def _live_counts(db: Database, run_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Count the fetch log of runs without stored counters (uses the fetches_run index)."""
    counts: dict[int, dict[str, Any]] = {}
    for run_id in run_ids:
        stats: dict[str, Any] = {"fetched": 0, "failed": {}}
        for outcome, reason, n, answered in db.execute(
                "SELECT outcome, reason, COUNT(*), COUNT(http_status) FROM fetches"
                " WHERE run_id = :run_id GROUP BY outcome, reason", {"run_id": run_id}):
            stats["fetched"] += int(answered or 0)
            if outcome == "failed":
                stats["failed"][reason or "unknown"] = stats["failed"].get(reason or "unknown", 0) + n
            elif outcome in ("new", "changed", "unchanged"):
                stats[outcome] = stats.get(outcome, 0) + n
        counts[run_id] = stats
    return counts


def run_totals(db: Database) -> RunTotals:
    """Sum the counters of every run by site (stored runs from their stats, the others live)."""
    totals = RunTotals()
    for site, state, n in db.execute("SELECT site, state, COUNT(*) FROM runs GROUP BY site, state"):
        totals.runs[(site, state)] = n
    columns = ", ".join(f"SUM({run_counter(db, key)})" for key in ("fetched", *PAGE_OUTCOMES.values()))
    for site, fetched, *values in db.execute(
            f"SELECT site, {columns} FROM runs WHERE stats IS NOT NULL GROUP BY site"):
        totals.fetched[site] = int(fetched)
        for outcome, value in zip(PAGE_OUTCOMES, values, strict=True):
            totals.pages[(site, outcome)] = int(value)
    for site, kind, reason, value in db.execute(run_breakdowns(db)):
        totals.pages[(site, kind)] = totals.pages.get((site, kind), 0) + int(value)
        if kind == "failed":
            totals.failures[(site, reason)] = int(value)
    for site, outcome, reason, n, answered in db.execute(
            "SELECT r.site, f.outcome, f.reason, COUNT(*), COUNT(f.http_status)"
            " FROM runs r JOIN fetches f ON f.run_id = r.id WHERE r.stats IS NULL"
            " GROUP BY r.site, f.outcome, f.reason"):
        totals.fetched[site] = totals.fetched.get(site, 0) + int(answered or 0)
        if outcome in PAGE_OUTCOMES or outcome in ("failed", "refused"):
            totals.pages[(site, outcome)] = totals.pages.get((site, outcome), 0) + n
        if outcome == "failed":
            key = (site, reason or "unknown")
            totals.failures[key] = totals.failures.get(key, 0) + n
    return totals


def release_figures(db: Database, limit: int) -> tuple[Coverage, dict[str, int], list[Problem]]:
    """Count releases by site, language and month and the problems of each kind, and list up to
    `limit` releases of each problem kind, in one pass over the releases."""
    sums = ", ".join(f"SUM(CASE WHEN {PROBLEM_WHERE[k]} THEN 1 ELSE 0 END)" for k in PROBLEM_KINDS)
    counts = f"SELECT 'count', site, language, month, COUNT(*), {sums} FROM r GROUP BY site, language, month"
    lists = [f"SELECT * FROM (SELECT '{kind}', site, url, release_id, 0, 0, 0, 0 FROM r WHERE "
             f"{PROBLEM_WHERE[kind]} ORDER BY {in_text_order(db, 'site', 'url', 'release_id')}"
             f" LIMIT {int(limit)}) listed_{n}"
             for n, kind in enumerate(PROBLEM_KINDS)]
    coverage = Coverage()
    problem_counts = dict.fromkeys(PROBLEM_KINDS, 0)
    found = []
    for kind, site, a, b, n, *kinds in db.execute(release_rows(db) + " UNION ALL ".join([counts, *lists])):
        if kind != "count":
            found.append(Problem(kind, site, a or "", b or ""))
        elif b is None:  # no usable publication date
            coverage.undated[site] = coverage.undated.get(site, 0) + n
        else:
            coverage.counts.setdefault(site, {}).setdefault(a, {})[b] = n
        for name, count in zip(PROBLEM_KINDS, kinds, strict=True):
            problem_counts[name] += int(count or 0)
    # rows come in no promised order: months, languages and sites in order, as they read
    coverage.counts = {site: {language: dict(sorted(months.items()))
                              for language, months in sorted(languages.items())}
                       for site, languages in sorted(coverage.counts.items())}
    coverage.undated = dict(sorted(coverage.undated.items()))
    # a UNION ALL promises no order: by kind, then as each list was chosen
    found.sort(key=lambda p: (PROBLEM_KINDS.index(p.kind), p.site, p.url, p.release_id))
    return coverage, problem_counts, found


def rejections(db: Database, limit: int) -> tuple[dict[str, dict[str, int]], list[Rejected]]:
    """Count the dropped documents by site and reason kind, and list each site's `limit` latest
    (by capture time), with their reasons."""
    counts: dict[str, dict[str, int]] = {}
    order = f"{in_text_order(db, 'site')}, COUNT(*) DESC, {in_text_order(db, 'kind')}"
    for site, kind, n in db.execute(dropped_rows(db) + "SELECT site, kind, COUNT(*) FROM d"
                                    f" GROUP BY site, kind ORDER BY {order}"):
        counts.setdefault(site, {})[kind] = n
    listed = [Rejected(site, url, reason, kind, captured) for site, url, reason, kind, captured in db.execute(
        dropped_rows(db) + "SELECT site, url, reason, kind, captured FROM ("
        " SELECT d.site, doc.url, d.reason, d.kind, v.captured, ROW_NUMBER() OVER ("
        "  PARTITION BY d.site ORDER BY v.captured DESC, d.document_id DESC) AS rank"
        " FROM d JOIN documents doc ON doc.id = d.document_id"
        " JOIN versions v ON v.document_id = d.document_id AND v.version = d.version"
        f" ) ranked WHERE rank <= :limit ORDER BY {in_text_order(db, 'site')}, rank", {"limit": limit})]
    return counts, listed


def _folder_size(folder: Path) -> tuple[int, int]:
    if not folder.is_dir():
        return 0, 0
    sizes = [_size(p) for p in folder.iterdir() if p.is_file()]
    return len(sizes), sum(sizes)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # gone between listing and stat (a WARC file renamed on close)
        return 0
