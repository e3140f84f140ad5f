"""Options and set-up shared by every command: settings chain, logging."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from archive.errors import ArchiveError
from archive.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def common_options(func: F) -> F:
    """Add --config, --data-dir and --log-level to a command."""
    func = click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"],
                                                         case_sensitive=False),
                        help="Logging threshold (setting log_level).")(func)
    func = click.option("--data-dir", type=click.Path(file_okay=False),
                        help="Folder of the archive and index (setting data_dir, "
                             "env PRESSROOM_DATA_DIR).")(func)
    func = click.option("--config", "config_file", type=click.Path(dir_okay=False),
                        help="User settings file layered over config/pressroom.toml "
                             "(env PRESSROOM_CONFIG).")(func)
    return func


def settings_from(config_file: str | None, overrides: dict[str, Any]) -> Settings:
    """Load the settings and configure logging; turn a settings error into a one-line exit."""
    try:
        settings = load_settings(config_file, overrides)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(settings.log_level)
    return settings


def lower_priority(niceness: int) -> None:
    """Make this process yield the CPU to searches: crawling and indexing are batch work."""
    if niceness > 0 and hasattr(os, "nice"):
        try:
            os.nice(niceness)
        except OSError:  # not allowed here: run at the normal priority
            logging.getLogger(__name__).debug("could not lower the priority by %d", niceness)


def configure_logging(level: str) -> None:
    """Send one line per event to stderr."""
    logging.basicConfig(level=level, stream=sys.stderr, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
