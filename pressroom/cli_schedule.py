"""The `pressroom schedule` command: the built-in scheduler, in the foreground."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import click

from archive.cli_common import common_options, settings_from
from archive.errors import ArchiveError
from archive.layout import DataDir
from archive.lock import RunLock
from pressroom.schedule import Scheduler
from pressroom.schedule_lock import SchedulerLock


@click.command()
@click.option("--site", "site_keys", multiple=True, metavar="KEY",
              help="Schedule only this configured site (repeatable). Default: every site.")
@click.option("--once", is_flag=True,
              help="Crawl (and index) every site now, run the queued jobs, then exit: "
                   "status 1 if a run failed.")
@common_options
def schedule(site_keys: tuple[str, ...], once: bool, config_file: str | None,
             data_dir: str | None, log_level: str | None) -> None:
    """Crawl each site on its schedule, then update the index; run the jobs staff ask for.

    Runs in the foreground (for systemd or a container) until SIGTERM or Ctrl-C. Each site
    runs at the times of its `schedule` (or [schedule] cron: 5-field cron in UTC, or
    "@every 30m"), plus up to [schedule] jitter seconds. One run at a time, each a child
    `pressroom` process; one scheduler per data directory. State: DATA_DIR/schedule.json.

    With [archive] database on PostgreSQL, one scheduler is active across all machines (a
    database lock): another `pressroom schedule` stands by, trying every [schedule] poll
    seconds, and takes over when the active one dies. `--once` does not wait: it exits 1.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    unknown = [k for k in site_keys if k not in settings.sites]
    if unknown:
        raise click.BadParameter(f"no such site: {', '.join(unknown)} (configured: "
                                 f"{', '.join(settings.sites) or 'none'})", param_hint="--site")
    stop = threading.Event()
    _stop_on_signals(stop)
    where = DataDir.of(settings)
    lock: RunLock | SchedulerLock
    if where.shared_database:
        lock = SchedulerLock(where.database)
        if not (lock.try_acquire() if once else lock.wait(stop, settings.schedule.poll)):
            holder = "" if stop.is_set() else lock.holder()
            lock.release()
            if stop.is_set():
                return
            raise click.ClickException(f"a scheduler is already active on {holder}")
    else:
        lock = RunLock(settings.data_dir, "schedule")
        try:
            lock.acquire()
        except ArchiveError as exc:
            raise click.ClickException(f"a scheduler is already running on this data directory: "
                                       f"{exc}") from None
    lost = False
    try:
        try:
            still_active = lock.still_held if isinstance(lock, SchedulerLock) else None
            scheduler = Scheduler(settings, list(site_keys), config_file, stop=stop,
                                  still_active=still_active)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
        if once:
            ok = scheduler.run_once()
        else:
            scheduler.run_forever()
            ok = True
        lost = scheduler.lost_lock
    finally:
        lock.release()
    if lost:
        raise click.ClickException("the scheduler lock was lost (its database connection "
                                   "dropped): stopped, so that two schedulers never run at once")
    if not ok and not stop.is_set():
        sys.exit(1)


def _stop_on_signals(stop: threading.Event) -> None:
    """Turn SIGTERM and SIGINT into a clean stop: the running child is ended, the lock released."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()  # nothing more here: a handler may interrupt the logging module mid-line

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
