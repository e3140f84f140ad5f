"""Command-line commands on releases: extract, reclean, export, projects."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import click

from archive.capture.importer import import_paths
from archive.catalogue import Catalogue
from archive.cleaning.clean import Capture, clean_page
from archive.cleaning.releases import CleanStats, clean_versions
from archive.cleaning.textnorm import plain_text
from archive.cleaning.vocab import load_vocabulary
from archive.cli_common import common_options, settings_from
from archive.errors import ArchiveError
from archive.export import NAME_COLUMNS, ColumnError, columns_from, csv_lines, with_names
from archive.layout import open_archive, open_catalogue
from archive.lock import RunLock
from archive.payload import DEFAULT_MAX_PAYLOAD, gunzip
from archive.release import FIELDS
from archive.settings import Settings

MAX_LISTED = 50  # unreadable captures listed one per line; the log has them all


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", help="URL the page was published at (default: a file: URL).")
@click.option("--site", default="extract", show_default=True, help="Site name put in the releases.")
def extract(files: tuple[str, ...], url: str | None, site: str) -> None:
    """Print one release JSON per line for each HTML FILE, without touching the archive.

    Each line has a `source` field naming its file, and `not_a_release` with the reason when
    the page does not look like a release (its text and metadata are printed all the same).
    Gzipped files (.gz) are read as such. For checking page rules and for benchmarks.
    """
    try:
        vocab = load_vocabulary()
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    for name in files:
        path = Path(name)
        page_url = url or path.resolve().as_uri()
        try:
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gunzip(data, DEFAULT_MAX_PAYLOAD)  # a .gz file is no way round the cap
            capture = Capture(url=page_url, site=site, body=data, content_type=None)
            release, problem = clean_page(capture, vocab)
            record: dict[str, Any] = {"source": name, **release.to_json()}
            if problem:
                record["not_a_release"] = problem
        except Exception as exc:  # report the file and go on with the others
            record = {"source": name, "error": f"{type(exc).__name__}: {exc}"}
        click.echo(json.dumps(record, ensure_ascii=False))


@click.command()
@common_options
def reclean(config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """Re-derive every release from the archived captures (after page rules or vocabularies change).

    Fetches nothing. Runs under the crawl lock, so it never races a crawl.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    report_cleaning(clean_archive(settings, everything=True))


def clean_archive(settings: Settings, everything: bool = False) -> CleanStats:
    """Clean new (or all) versions under the crawl lock; turn errors into one-line exits."""
    try:
        vocab = load_vocabulary()
        with RunLock(settings.data_dir, "crawl"), open_archive(settings) as (catalogue, store):
            return clean_versions(catalogue, store, settings, vocab, everything=everything)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


def report_cleaning(stats: CleanStats) -> None:
    """Print what a cleaning pass did; exit 1 when some captures could not be read."""
    click.echo(clean_summary(stats))
    if not stats.unreadable:
        return
    for item in stats.unreadable[:MAX_LISTED]:
        click.echo(f"  not cleaned: {item.url} version {item.version}: {item.file} at byte "
                   f"{item.offset}: {item.reason}", err=True)
    if len(stats.unreadable) > MAX_LISTED:
        click.echo(f"  ... and {len(stats.unreadable) - MAX_LISTED} more (in the log)", err=True)
    files = sorted({item.file for item in stats.unreadable})
    raise click.ClickException(
        f"{len(stats.unreadable)} captures in {len(files)} WARC files could not be read "
        f"({', '.join(files[:3])}{', ...' if len(files) > 3 else ''}); what they were last "
        "cleaned into is kept: restore those files from a backup, then run pressroom verify")


def clean_summary(stats: CleanStats) -> str:
    """Format what a cleaning pass did."""
    others = ", ".join(f"{k} {v}" for k, v in stats.not_releases.most_common())
    return (f"cleaned: {stats.releases} releases, {sum(stats.not_releases.values())} other pages"
            f"{' (' + others + ')' if others else ''}, {stats.skipped_types} not HTML, "
            f"{stats.errors} errors"
            f"{f', {len(stats.unreadable)} unreadable (kept as they were)' if stats.unreadable else ''}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest.")
@click.option("--site", help="Only this site's releases.")
@click.option("--columns", help="CSV columns, comma-separated (default: every field but "
              "content_hash and translations).")
@common_options
def export(fmt: str, output: str | None, all_versions: bool, site: str | None, columns: str | None,
           config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """Write the archive's releases, one per line (JSON Lines) or row (CSV).

    CSV is UTF-8 with a byte order mark (Excel), lists joined with "; ", and cells that a
    spreadsheet would run as formulas (=, +, -, @...) prefixed with a quote.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    try:
        chosen = columns_from(columns, known=(*FIELDS, *NAME_COLUMNS))
    except ColumnError as exc:
        raise click.BadParameter(str(exc), param_hint="--columns") from None
    catalogue = _catalogue(settings)
    out: IO[str] = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        # releases cleaned before text fields were made text only may still carry markup
        releases = (text_only(r.to_json())
                    for r in catalogue.releases(all_versions=all_versions, site=site))
        if fmt == "jsonl":
            for release in releases:
                out.write(json.dumps(release, ensure_ascii=False) + "\n")
        else:
            vocab = load_vocabulary()
            for piece in csv_lines((with_names(r, vocab) for r in releases), chosen):
                out.write(piece)
    finally:
        if output:
            out.close()


def text_only(value: Any) -> Any:
    """Pass every string of a release through the cleaner's text normalisation."""
    if isinstance(value, str):
        return plain_text(value)
    if isinstance(value, list):
        return [text_only(v) for v in value]
    if isinstance(value, dict):
        return {k: text_only(v) for k, v in value.items()}
    return value


@click.command()
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@common_options
def projects(as_json: bool, config_file: str | None, data_dir: str | None,
             log_level: str | None) -> None:
    """List the projects found in releases, with counts, to curate config/projects.toml."""
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    vocab = load_vocabulary()
    known = {p.acronym for p in vocab.projects}
    counts: Counter[tuple[str, str]] = Counter()
    sites: dict[tuple[str, str], set[str]] = {}
    for release in _catalogue(settings).releases():
        for project in release.projects:
            key = (project.get("acronym", ""), project.get("name", ""))
            counts[key] += 1
            sites.setdefault(key, set()).add(urlsplit(release.url).netloc)
    rows = [{"acronym": a, "name": n, "releases": c, "known": a in known}
            for (a, n), c in counts.most_common()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no projects found in the archive's releases")
    for row in rows:
        flag = "" if row["known"] else "  (not in config/projects.toml)"
        click.echo(f"{row['releases']:6d}  {row['acronym']:<12} {row['name']}{flag}")


def _catalogue(settings: Settings) -> Catalogue:
    try:
        return open_catalogue(settings)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--site", help="Site the pages belong to (default: the URL's host; 'import' for files).")
@click.option("--url", help="URL a single HTML or text file was published at (default: a file: URL).")
@common_options
def import_(paths: tuple[Path, ...], site: str | None, url: str | None, config_file: str | None,
            data_dir: str | None, log_level: str | None) -> None:
    """Import .warc/.warc.gz files, saved .html pages and .txt page dumps into the archive.

    Folders are read recursively. Pages join the archive like crawled ones (a new version only
    when their text changed) and are cleaned at once. For text dumps, the site's navigation is
    learned from the lines that recur across its dumps, so import a site's dumps together.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    try:
        with RunLock(settings.data_dir, "crawl"), open_archive(settings) as (catalogue, store):
            stats = import_paths(list(paths), catalogue, store, site, url,
                                 settings.crawl.tracking_params)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    for line in stats.skipped:
        click.echo(f"skipped {line}", err=True)
    click.echo(f"imported {stats.files} files: {stats.new} new, {stats.changed} changed, "
               f"{stats.unchanged} unchanged, {len(stats.skipped)} skipped")
    report_cleaning(clean_archive(settings))
