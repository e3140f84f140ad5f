"""Command-line commands for the safety of the record: backup, restore."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli_common import common_options, settings_from
from archive.errors import ArchiveError
from archive.layout import DataDir
from pressroom.backup import backup_archive, rebuild_index, restore_archive


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@common_options
def backup(directory: Path, config_file: str | None, data_dir: str | None,
           log_level: str | None) -> None:
    """Write a consistent snapshot of the archive into DIRECTORY (empty or new).

    Safe while a crawl runs: each SQLite database is copied through SQLite's online backup,
    then the WARC files (a file still being written only up to the last record the snapshot
    references). manifest.json lists every file with its size and SHA-256. The backup is
    written into DIRECTORY/.partial and moved into place when complete. Each copy keeps its
    source's file mode, whatever the umask; staff.sqlite is never more than 0600.

    With [archive] database on PostgreSQL, the catalogue, staff and jobs tables are written as
    SQLite files of the same schema (each store one REPEATABLE READ snapshot): the backup has
    the same form either way, and `pressroom restore` reads it into either.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    try:
        summary = backup_archive(DataDir.of(settings), directory)
    except (ArchiveError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup {directory}: {len(summary.files)} files, {summary.bytes} bytes, "
               f"{summary.releases} releases")


@click.command()
@click.argument("backup_dir", metavar="BACKUP",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-index", is_flag=True, help="Do not rebuild the search index afterwards.")
@common_options
def restore(backup_dir: Path, no_index: bool, config_file: str | None, data_dir: str | None,
            log_level: str | None) -> None:
    """Restore BACKUP into an empty data directory, verify it, then rebuild the index.

    Every file is checked against the manifest's size and SHA-256 before anything is copied;
    the restored archive must then pass `pressroom verify`. Exits 1 on any mismatch. Files keep
    their mode in the backup; staff.sqlite is never more than 0600. With [archive] database on
    PostgreSQL the databases are copied into it, which must hold no catalogue, staff or jobs
    rows yet; WARC files go to [archive] warc_dir when it is set.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    try:
        summary = restore_archive(backup_dir, settings)
        click.echo(f"restored {len(summary.files)} files, {summary.bytes} bytes, "
                   f"{summary.releases} releases into {settings.data_dir}: verify passed")
        if no_index:
            click.echo("index not rebuilt (--no-index): run `pressroom index --rebuild`")
        else:
            click.echo(rebuild_index(settings))
    except (ArchiveError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
