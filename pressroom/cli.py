"""The `pressroom` command: one group gathering the commands of every stage."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import click

from archive.cli import crawl, show_settings, verify
from archive.cli_cdx import cdx
from archive.cli_database import copy_catalogue, migrate
from archive.cli_releases import export, extract, import_, projects, reclean
from indexer.cli import index, search
from pressroom.cli_backup import backup, restore
from pressroom.cli_schedule import schedule
from pressroom.cli_status import status
from pressroom.cli_wacz import wacz
from pressroom.cli_worker import with_workers, worker
from webapp.cli_users import user
from webapp.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pressroom")
def cli() -> None:
    """Pressroom: archive and search an organisation's news releases."""


cli.add_command(with_workers(crawl))
cli.add_command(worker)
cli.add_command(show_settings)
cli.add_command(backup)
cli.add_command(restore)
cli.add_command(user)
cli.add_command(status)
cli.add_command(schedule)
cli.add_command(wacz)
cli.add_command(cdx)
cli.add_command(migrate)
cli.add_command(copy_catalogue)
for command in (extract, reclean, export, projects, import_, index, search, serve, verify):
    cli.add_command(command)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the console script: SIGTERM stops as cleanly as Ctrl-C."""
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(cli())
