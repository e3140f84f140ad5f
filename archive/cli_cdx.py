"""`pressroom cdx`: write the CDXJ index of the archive's WARC files for a replay tool."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive.cdx import write_cdxj
from archive.cli_common import common_options, settings_from
from archive.layout import DataDir


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@common_options
def cdx(output: Path | None, config_file: str | None, data_dir: str | None,
        log_level: str | None) -> None:
    """Write a sorted CDXJ index of the archive's closed WARC files (pywb, replayweb.page).

    Point pywb at it by copying it into a collection's indexes/ folder, with the WARC folder
    as the collection's archive/ (or `archive_paths`). Files still being written by a crawl
    (`.open`) are left out until it closes them.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    directory = DataDir.of(settings).warc
    if not directory.is_dir():
        raise click.ClickException(f"no WARC folder at {directory}: nothing archived yet")
    if output is None:
        stats = write_cdxj(directory, sys.stdout)
    else:
        partial = output.with_name(output.name + ".partial")
        with partial.open("w", encoding="utf-8") as fh:
            stats = write_cdxj(directory, fh)
        partial.replace(output)
    click.echo(f"cdx: {stats.lines} lines from {stats.files} WARC files"
               + (f", {stats.old_revisits} old-style 304 revisits left out" if stats.old_revisits
                  else ""), err=True)
