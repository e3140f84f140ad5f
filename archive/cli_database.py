"""Commands for the databases behind the archive: `pressroom migrate`, `pressroom copy-catalogue`."""

from __future__ import annotations

import click
import sqlalchemy

from archive import migrate as migrations
from archive.cli_common import common_options, settings_from
from archive.copy import copy_store
from archive.database import STORES, Database, first_line, is_postgresql, redacted
from archive.errors import ArchiveError
from archive.layout import DataDir


@click.command()
@click.option("--status", "only_show", is_flag=True,
              help="Only show each store's schema revision and the one this Pressroom needs.")
@common_options
def migrate(only_show: bool, config_file: str | None, data_dir: str | None,
            log_level: str | None) -> None:
    """Bring the schema of every store up to this Pressroom's: the catalogue, staff accounts,
    the job queue and the rate limits ([archive] database: SQLite files or PostgreSQL).

    Run it once, from any machine, after upgrading Pressroom on every machine that shares a
    PostgreSQL database; concurrent runs wait for each other. SQLite files are also upgraded
    when first opened for writing.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    where = DataDir.of(settings)
    if not where.shared_database:
        where.root.mkdir(parents=True, exist_ok=True)
    for store in STORES:
        url = where.store_url(store)
        try:
            if only_show:
                db = Database(url, what=store)
                try:
                    found = migrations.current(db, store)
                finally:
                    db.close()
                state = "up to date" if found == migrations.head(store) else "needs pressroom migrate"
                click.echo(f"{store}: {redacted(url)}: {found or 'empty'} "
                           f"(this Pressroom: {migrations.head(store)}; {state})")
                continue
            before, after = migrations.upgrade(url, store)
        except (ArchiveError, sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
            raise click.ClickException(f"{store}: {redacted(url)}: {first_line(exc)}") from None
        change = "up to date" if before == after else f"{before or 'empty'} -> {after}"
        click.echo(f"{store}: {redacted(url)}: {change}")


COPIED_STORES = ("catalogue", "staff", "jobs")  # rate-limit buckets are minutes-long state


@click.command("copy-catalogue")
@click.option("--from", "source", metavar="URL",
              help="Database to copy from  [default: the SQLite files of the data directory].")
@click.option("--to", "target", metavar="URL",
              help="Database to copy into  [default: the [archive] database setting].")
@click.option("--store", "stores", multiple=True, type=click.Choice(COPIED_STORES),
              help="Copy only this store (repeatable)  [default: catalogue, staff and jobs].")
@common_options
def copy_catalogue(source: str | None, target: str | None, stores: tuple[str, ...],
                   config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """Copy the archive's catalogue, staff accounts and job queue into another database:
    from the SQLite files of a data directory into PostgreSQL, the way to move an archive
    onto several machines.

    Online: the source is read in one snapshot while crawls may go on writing to it. Run it
    again to catch up (each run makes the target equal to the source as it was when the run
    began, deletions included), then stop the old machine's crawls, run it a last time and
    set [archive] database on every machine. The WARC files are copied apart (rsync the
    data directory's warc/ to the shared [archive] warc_dir). --from and --to also take
    the other direction, or two PostgreSQL databases.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    local = DataDir(settings.data_dir)
    target = target or settings.archive.database
    if not target:
        raise click.ClickException("no target: give --to URL or set [archive] database")
    if not source and not local.catalogue.exists():
        raise click.ClickException(f"no archive in {settings.data_dir}: nothing to copy")
    files = {"catalogue": local.catalogue, "staff": local.staff, "jobs": local.jobs}
    for store in stores or COPIED_STORES:
        from_url = source or local.store_url(store)
        if not source and not files[store].exists():
            click.echo(f"{store}: nothing to copy ({files[store]} does not exist)")
            continue
        try:
            if not is_postgresql(from_url):
                migrations.upgrade(from_url, store)  # an older SQLite file: its own upgrade
            report = copy_store(from_url, target, store)
        except (ArchiveError, sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
            raise click.ClickException(f"{store}: {first_line(exc)}") from None
        click.echo(f"{store}: {report.copied} rows copied, {report.deleted} deleted, "
                   f"{redacted(from_url)} -> {redacted(target)} in {report.seconds:.1f} s")
