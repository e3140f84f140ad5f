"""Commands for the databases behind the archive: `pressroom migrate`."""

from __future__ import annotations

import click
import sqlalchemy

from archive import migrate as migrations
from archive.cli_common import common_options, settings_from
from archive.database import STORES, Database, first_line, redacted
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
