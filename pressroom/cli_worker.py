"""Crawling with several workers: `pressroom crawl --workers N` and `pressroom worker`.

`crawl --workers N` opens a crawl pass in the catalogue (one task per site), starts N worker
processes on this machine and waits for them; `pressroom worker` on other
machines (same catalogue database, same WARC folder) joins any open pass.
"""

from __future__ import annotations

import json
import multiprocessing
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import click

from archive.capture import leases
from archive.capture.leases import LEASE_SECONDS
from archive.capture.workers import TaskResult, Worker, default_name
from archive.catalogue import Catalogue
from archive.cli import pick_sites
from archive.cli_common import common_options, configure_logging, lower_priority, settings_from
from archive.cli_releases import clean_archive, report_cleaning
from archive.errors import ArchiveError
from archive.layout import DataDir
from archive.lock import RunLock
from archive.settings import Settings, load_settings

LEASE_HELP = ("Seconds a worker's hold on its hosts lasts unless renewed; a worker that dies "
              "is taken over this long after its last renewal.")


@click.command()
@click.option("--name", help="This worker's name, in its leases, runs and WARC file names "
                             "(default: HOST-PID).")
@click.option("--wait", is_flag=True,
              help="Keep waiting for new passes rather than stopping when none is open.")
@click.option("--poll", type=click.FloatRange(0.05, 3600), default=2.0, show_default=True,
              help="Seconds between looks for a free site.")
@click.option("--lease-seconds", type=click.FloatRange(1, 3600), default=LEASE_SECONDS,
              show_default=True, help=LEASE_HELP)
@click.option("--pass", "pass_id", type=int, hidden=True)
@common_options
def worker(name: str | None, wait: bool, poll: float, lease_seconds: float, pass_id: int | None,
           config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """Crawl the sites of the open crawl pass, one at a time, until none is left.

    A pass is opened by `pressroom crawl --workers N`; run this on other machines that share
    the catalogue ([archive] database on PostgreSQL) and the WARC folder ([archive] warc_dir)
    to crawl it faster. Each site's hosts are leased to one worker at a time; a worker that
    dies is taken over once its lease lapses. Crawl settings (delay, timeouts) are this
    machine's; the sites come with the pass.
    """
    settings = settings_from(config_file, {"data_dir": data_dir,
                                           "log_level": log_level and log_level.upper()})
    lower_priority(settings.crawl.nice)
    try:
        crawler = Worker(settings, name, lease_seconds, poll)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        results = crawler.run(wait=wait, pass_id=pass_id)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo(f"\n{crawler.name} stopped: its site goes back to the pass", err=True)
        sys.exit(130)
    finally:
        crawler.close()
    for result in results:
        click.echo(task_line(crawler.name, result))
    if not results:
        click.echo(f"{crawler.name}: no site left to crawl")


def task_line(name: str, result: TaskResult) -> str:
    """Format one site a worker crawled."""
    s = result.stats
    return (f"{result.task.site.key}: {result.state} by {name} (run {result.run_id}) in "
            f"{result.seconds:.1f} s: fetched {s.fetched}, new {s.new}, changed {s.changed}, "
            f"unchanged {s.unchanged}, failed {sum(s.failed.values())}")


def with_workers(base: click.Command) -> click.Command:
    """Return the crawl command with --workers: N > 1 crawls with N worker processes."""
    assert base.callback is not None
    single: Callable[..., Any] = base.callback

    def callback(workers: int, lease_seconds: float, **options: Any) -> None:
        if workers <= 1:
            single(**options)
        else:
            crawl_with_workers(workers, lease_seconds, **options)

    return click.Command(
        base.name, callback=callback, help=base.help, short_help=base.short_help,
        context_settings=base.context_settings,
        params=[*base.params,
                click.Option(["--workers"], type=click.IntRange(1, 256), default=1,
                             show_default=True,
                             help="Crawl the sites with this many worker processes, one site "
                                  "(and its hosts) per worker at a time."),
                click.Option(["--lease-seconds"], type=click.FloatRange(1, 3600),
                             default=LEASE_SECONDS, show_default=True, help=LEASE_HELP)])


def crawl_with_workers(workers: int, lease_seconds: float, *, urls: tuple[str, ...],
                       site_keys: tuple[str, ...], delay: float | None, limit: int | None,
                       config_file: str | None, data_dir: str | None,
                       log_level: str | None) -> None:
    """Open (or join) a crawl pass, run `workers` worker processes, report each site."""
    if limit is not None:
        raise click.UsageError("--limit stops a single crawl; it does not apply with --workers")
    settings = settings_from(config_file, {"data_dir": data_dir, "crawl.delay": delay,
                                           "log_level": log_level and log_level.upper()})
    sites = pick_sites(settings, urls, site_keys)
    try:
        with RunLock(settings.data_dir, "crawl"):
            catalogue = Catalogue(DataDir.of(settings).catalogue_url)
            try:
                pass_id, created = leases.start_pass(catalogue.db, sites, default_name())
            finally:
                catalogue.close()
            if not created:
                click.echo(f"joining crawl pass {pass_id}, still in progress", err=True)
            codes = run_workers(settings, workers, pass_id, lease_seconds, config_file, delay,
                                log_level)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    ok = report_pass(settings, pass_id, codes)
    report_cleaning(clean_archive(settings))
    if not ok:
        raise click.ClickException(f"crawl pass {pass_id} did not finish every site")


def run_workers(settings: Settings, count: int, pass_id: int, lease_seconds: float,
                config_file: str | None, delay: float | None, log_level: str | None) -> list[int]:
    """Start `count` worker processes on the pass and wait for them; return their exit codes."""
    overrides = {"data_dir": str(settings.data_dir), "crawl.delay": delay,
                 "log_level": log_level and log_level.upper()}
    # spawned, not forked: a child must not share this process's database connections
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=work, args=(config_file, overrides, pass_id, lease_seconds),
                             name=f"pressroom-worker-{n}") for n in range(1, count + 1)]
    for proc in procs:
        proc.start()
    try:
        for proc in procs:
            proc.join()
    except KeyboardInterrupt:
        for proc in procs:
            proc.terminate()  # each gives its site back to the pass
        for proc in procs:
            proc.join()
        click.echo("\ninterrupted: `pressroom crawl --workers N` or `pressroom worker` "
                   "resumes the pass", err=True)
        sys.exit(130)
    return [proc.exitcode or 0 for proc in procs]


def work(config_file: str | None, overrides: dict[str, Any], pass_id: int,
         lease_seconds: float, poll_seconds: float = 0.5) -> None:
    """Run one worker on a pass: the body of a process started by `crawl --workers N`."""
    signal.signal(signal.SIGTERM, _terminate)
    settings = load_settings(config_file, overrides)
    configure_logging(settings.log_level)
    lower_priority(settings.crawl.nice)
    # a short poll: a worker left without a site sees the pass end (and exits) soon after
    crawler = Worker(settings, lease_seconds=lease_seconds, poll_seconds=poll_seconds)
    try:
        crawler.run(pass_id=pass_id)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        crawler.close()


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def report_pass(settings: Settings, pass_id: int, codes: list[int]) -> bool:
    """Print each site of the pass and how its workers ended; tell whether the pass is done."""
    catalogue = Catalogue(DataDir.of(settings).catalogue_url, read_only=True)
    try:
        tasks = leases.pass_tasks(catalogue.db, pass_id)
    finally:
        catalogue.close()
    for task in tasks:
        stats = json.loads(task["stats"]) if task["stats"] else {}
        taken = f", taken over {task['takeovers']} times" if task["takeovers"] else ""
        click.echo(f"{task['site']}: {task['state']} by {task['worker']} (run {task['run_id']})"
                   f"{taken}: fetched {stats.get('fetched', 0)}, new {stats.get('new', 0)}, "
                   f"changed {stats.get('changed', 0)}, unchanged {stats.get('unchanged', 0)}, "
                   f"failed {sum(stats.get('failed', {}).values())}")
    for number, code in enumerate(codes, 1):
        if code:
            click.echo(f"worker {number} of {len(codes)} exited with code {code}", err=True)
    return all(t["state"] in ("done", "interrupted") for t in tasks)
