"""Command-line commands of the archive: crawl, settings."""

from __future__ import annotations

import json
import shutil
import sys
from typing import Any

import click

from archive.capture.record import CrawlStats
from archive.capture.runs import SiteResult, crawl_sites
from archive.cli_common import common_options, lower_priority, settings_from
from archive.cli_releases import clean_archive, report_cleaning
from archive.errors import ArchiveError
from archive.layout import open_archive, open_catalogue
from archive.settings import Settings, SiteConfig, adhoc_site
from archive.verify import verify_archive


@click.command()
@click.argument("urls", nargs=-1)
@click.option("--site", "site_keys", multiple=True, metavar="KEY",
              help="Crawl only this configured site (repeatable). Default: every site.")
@click.option("--delay", type=float, help="Seconds between requests to one host (crawl.delay).")
@click.option("--limit", type=int, help="Stop after this many fetches; the next run resumes.")
@common_options
def crawl(urls: tuple[str, ...], site_keys: tuple[str, ...], delay: float | None,
          limit: int | None, config_file: str | None, data_dir: str | None,
          log_level: str | None) -> None:
    """Capture the configured sites (or the site of URLS) into the archive.

    With URLS, crawl an ad-hoc site from those start URLs: their host only, sitemaps from its
    robots.txt. Without, crawl every configured site (or those named by --site). Polite,
    incremental and resumable; only one crawl runs at a time on a data directory.
    """
    interactive = sys.stderr.isatty()
    level = log_level or ("WARNING" if interactive else None)
    settings = settings_from(config_file, {"data_dir": data_dir, "crawl.delay": delay,
                                           "log_level": level and level.upper()})
    lower_priority(settings.crawl.nice)
    sites = pick_sites(settings, urls, site_keys)
    progress = Progress() if interactive else None
    try:
        results = crawl_sites(settings, sites, progress, max_fetches=limit)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("\ninterrupted: the next crawl resumes where this one stopped", err=True)
        sys.exit(130)
    finally:
        if progress:
            progress.clear()
    for result in results:
        click.echo(summary(result))
    report_cleaning(clean_archive(settings))


def pick_sites(settings: Settings, urls: tuple[str, ...], keys: tuple[str, ...]) -> list[SiteConfig]:
    """Choose the sites of a crawl: ad-hoc from URLs, or configured ones by key."""
    if urls and keys:
        raise click.UsageError("give either URLs or --site, not both")
    if urls:
        try:
            return [adhoc_site(list(urls))]
        except ArchiveError as exc:
            raise click.BadParameter(str(exc), param_hint="URLS") from None
    unknown = [k for k in keys if k not in settings.sites]
    if unknown:
        raise click.BadParameter(f"no such site: {', '.join(unknown)} (configured: "
                                 f"{', '.join(settings.sites) or 'none'})", param_hint="--site")
    sites = [settings.sites[k] for k in keys] if keys else list(settings.sites.values())
    if not sites:
        raise click.UsageError("no sites configured; give start URLs or a config file")
    return sites


class Progress:
    """A status line on the terminal, rewritten in place."""

    def __init__(self) -> None:
        self.width = 0

    def __call__(self, url: str, stats: CrawlStats, queued: int) -> None:
        failed = sum(stats.failed.values())
        line = (f"fetched {stats.fetched}  new {stats.new}  changed {stats.changed}  "
                f"unchanged {stats.unchanged}  failed {failed}  queue {queued}  {url}")
        line = line[: max(20, shutil.get_terminal_size().columns - 1)]
        click.echo("\r" + line.ljust(self.width), nl=False, err=True)
        self.width = len(line)

    def clear(self) -> None:
        """Erase the status line."""
        if self.width:
            click.echo("\r" + " " * self.width + "\r", nl=False, err=True)


def summary(result: SiteResult) -> str:
    """Format the closing summary of one site's run."""
    s = result.stats
    state = "complete" if result.complete else "stopped early (the next run resumes)"
    lines = [
        f"{result.site.key}: run {result.run_id} {state} in {result.seconds:.1f} s",
        f"  fetched {s.fetched}, new {s.new}, changed {s.changed}, unchanged {s.unchanged} "
        f"({s.not_modified} answered 304), redirects {s.redirects}, retries {s.retries}",
        f"  failed {sum(s.failed.values())}{_by_reason(s.failed)}",
        f"  skipped by robots.txt {s.skipped_robots}, refused {sum(s.refused.values())}"
        f"{_by_reason(s.refused)}, not followed {sum(s.skipped.values())}{_by_reason(s.skipped)}",
    ]
    lines += [f"  postponed to the next run: {host} ({why})" for host, why in s.postponed.items()]
    return "\n".join(lines)


def _by_reason(counter: Any) -> str:
    if not counter:
        return ""
    return " (" + ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) + ")"


@click.command("settings")
@common_options
def show_settings(config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """Check the settings and print them as JSON, each with the file or variable it came from."""
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    out = {
        "data_dir": str(settings.data_dir), "log_level": settings.log_level,
        "crawl": vars(settings.crawl), "archive": vars(settings.archive),
        "sites": {k: {f: v for f, v in vars(s).items() if f != "key"}
                  for k, s in settings.sites.items()},
        "sources": settings.sources,
    }
    click.echo(json.dumps(out, indent=2, ensure_ascii=False, default=str))


@click.command()
@common_options
def verify(config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """Check the archive: every WARC record readable with its digests, every catalogue row
    pointing at a record of the right length. Exits 1 when anything is wrong."""
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    try:
        open_catalogue(settings).close()
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    with open_archive(settings) as (catalogue, store):
        report = verify_archive(catalogue, store)
    for problem in report.problems[:50]:
        click.echo(f"  {problem}", err=True)
    if len(report.problems) > 50:
        click.echo(f"  ... and {len(report.problems) - 50} more", err=True)
    click.echo(f"{report.files} WARC files, {report.records} records, {report.rows} catalogue "
               f"references: {'all consistent' if report.ok else f'{len(report.problems)} problems'}")
    if not report.ok:
        sys.exit(1)
