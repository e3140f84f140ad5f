"""A test's catalogue on the database of the pass: SQLite files in the data directory, or (in
the PostgreSQL pass) the database conftest named in PRESSROOM_ARCHIVE_DATABASE for the test
(database_for_commands) or for its module's archive (module_database).

Tests read and change the catalogue through these rather than by opening catalogue.sqlite, so
that each runs in both passes on the same archive the commands it runs see.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from archive.catalogue import Catalogue
from archive.copy import copy_catalogue
from archive.database import Params
from archive.layout import DataDir
from archive.settings import Settings, load_settings

DATABASE_VARIABLE = "PRESSROOM_ARCHIVE_DATABASE"


def pass_database() -> str:
    """Return the [archive] database of the running test: a PostgreSQL URL, or "" (SQLite)."""
    return os.environ.get(DATABASE_VARIABLE, "")


def archive_settings(data_dir: Path, config: Path | None = None, **overrides: Any) -> Settings:
    """Load settings for a data directory on the pass's database, from no other environment."""
    values = {"data_dir": str(data_dir), "archive.database": pass_database(),
              **{k.replace("__", "."): v for k, v in overrides.items()}}
    return load_settings(config, values, environ={})


def catalogue_url(where: Settings | Path, database: str | None = None) -> str:
    """Return the catalogue's URL for settings, or for a data directory on `database` (by
    default the pass's)."""
    if isinstance(where, Settings):
        return DataDir.of(where).catalogue_url
    return DataDir(where, pass_database() if database is None else database).catalogue_url


def catalogue_of(where: Settings | Path, read_only: bool = False, database: str | None = None
                 ) -> Catalogue:
    """Open the catalogue of settings or of a data directory (on the pass's database unless
    `database` names another)."""
    return Catalogue(catalogue_url(where, database), read_only=read_only)


def rows(where: Settings | Path, sql: str, params: Params = None) -> list[Any]:
    """Run one query on the catalogue and return its rows (read-only)."""
    catalogue = catalogue_of(where, read_only=True)
    try:
        return list(catalogue.db.execute(sql, params))
    finally:
        catalogue.close()


def execute(where: Settings | Path, sql: str, params: Params = None) -> None:
    """Run one statement that changes the catalogue, committed when it returns."""
    catalogue = catalogue_of(where)
    try:
        with catalogue.transaction() as db:
            db.execute(sql, params)
    finally:
        catalogue.close()


def copy_archive(data_dir: Path, target: Path, database: str) -> str:
    """Copy an archive: its data directory to `target`, and its catalogue to `database` when
    that is not "" (SQLite: the copied file); return the copy's catalogue URL."""
    shutil.copytree(data_dir, target, symlinks=True)
    if database:
        copy_catalogue(catalogue_url(data_dir), database)  # archive.copy, either way
    return DataDir(target, database).catalogue_url
