"""The status report: the archive's status and the index's freshness together, cached briefly.

The web app and the metrics share one cached report per process, so neither /status nor
/metrics can be used to make the server re-read the catalogue on every request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from flask import Flask

from archive.settings import Settings
from archive.status import PROBLEM_KINDS, ArchiveStatus, gather_status
from indexer.interface import IndexStatus, index_status

CACHE_SECONDS = 10.0
WEB_PROBLEM_LIMIT = 200

T = TypeVar("T")


@dataclass
class Report:
    """What `pressroom status` and the status page show."""

    archive: ArchiveStatus
    index: IndexStatus

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {**self.archive.to_json(), "index": self.index.to_json()}


def gather_report(settings: Settings, now: datetime | None = None,
                  problem_limit: int = 20) -> Report:
    """Read the archive and the index of the data directory into a Report."""
    return Report(gather_status(settings, now or datetime.now(UTC), problem_limit),
                  index_status(settings.data_dir))


class TimedCache(Generic[T]):
    """One value, computed at most once per `seconds`; concurrent callers wait for it."""

    def __init__(self, compute: Callable[[], T], seconds: float = CACHE_SECONDS) -> None:
        self.compute = compute
        self.seconds = seconds
        self._value: tuple[float, T] | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        """Return the cached value, computing it again when it is older than `seconds`."""
        with self._lock:
            if self._value is None or time.monotonic() - self._value[0] > self.seconds:
                self._value = (time.monotonic(), self.compute())
            return self._value[1]


def cached_report(app: Flask) -> Report:
    """The app's report, at most CACHE_SECONDS old."""
    cache: TimedCache[Report] | None = app.extensions.get("pressroom_report")
    if cache is None:
        settings: Settings = app.extensions["pressroom_settings"]
        cache = TimedCache(lambda: gather_report(settings, problem_limit=WEB_PROBLEM_LIMIT),
                           app.config.get("STATUS_CACHE_SECONDS", CACHE_SECONDS))
        cache = app.extensions.setdefault("pressroom_report", cache)
    return cache.get()


def human_bytes(size: int) -> str:
    """Format a byte count for people.

    >>> human_bytes(0), human_bytes(1536), human_bytes(5 * 1024 ** 3)
    ('0 B', '1.5 KiB', '5.0 GiB')
    """
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def text_report(report: Report, shown: int = 5) -> list[str]:
    """Format the report as lines of text for the terminal."""
    archive, index = report.archive, report.index
    lines = [f"archive: {archive.releases} releases; WARC {human_bytes(archive.warc_bytes)} in "
             f"{archive.warc_files} files, catalogue {human_bytes(archive.catalogue_bytes)}"
             + ("" if archive.exists else " (no catalogue yet)")]
    if index.exists:
        commit = index.last_commit.isoformat(timespec="seconds") if index.last_commit else "unknown"
        lines.append(f"index: {index.documents} documents, last commit {commit}, "
                     f"{human_bytes(index.bytes)}, schema {index.schema_version}"
                     + (f" ({index.problem})" if index.problem else ""))
    else:
        lines.append("index: no index yet (run `pressroom index`)")
    scheduler = archive.scheduler
    if scheduler is None:
        lines.append("scheduler: none has run on this data directory")
    else:
        lines.append(f"scheduler: {'running' if scheduler.alive else 'not running'} "
                     f"(state {scheduler.state}, pid {scheduler.pid}, last heartbeat "
                     f"{scheduler.heartbeat or 'never'})")
    for site in archive.sites:
        when = (site.next_run.isoformat(timespec="minutes") if site.next_run
                else archive.schedule_note or "not scheduled")
        lines.append(f"{site.key} ({site.name}): {site.releases} releases, {site.run_count} runs; "
                     f"next run {when}")
        if not site.runs:
            lines.append("  no crawl yet")
        for run in site.runs:
            took = f"{run.seconds:.0f} s" if run.seconds is not None else "?"
            reasons = ", ".join(f"{k} {v}" for k, v in run.failed.items())
            lines.append(
                f"  run {run.id} {run.state}{' (live counts)' if run.live else ''}, started "
                f"{run.started}, {took}: fetched {run.fetched}, new {run.new}, changed "
                f"{run.changed}, unchanged {run.unchanged}, failed {run.failed_total}"
                f"{f' ({reasons})' if reasons else ''}, skipped by robots {run.skipped_robots}")
    counts = ", ".join(f"{kind} {archive.problem_counts[kind]}" for kind in PROBLEM_KINDS)
    lines.append(f"extraction problems: {counts}")
    for kind in PROBLEM_KINDS:
        listed = [p for p in archive.problems if p.kind == kind][:shown]
        for problem in listed:
            lines.append(f"  {kind}: {problem.site} {problem.url}")
        if archive.problem_counts[kind] > len(listed):
            lines.append(f"  {kind}: ... {archive.problem_counts[kind] - len(listed)} more")
    for key, kinds in archive.rejection_counts.items():
        lines.append(f"not kept as releases, {key}: " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
        lines.extend(f"  {r.reason}: {r.url}" for r in [r for r in archive.rejected if r.site == key][:shown])
    return lines
