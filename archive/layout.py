"""The data directory's layout: the one place that knows where each part of a Pressroom lives.

    DATA_DIR/
      catalogue.sqlite      the record: documents, versions, fetches, runs, releases
      warc/                 WARC files (NAME.warc.gz, NAME.warc.gz.open while being written)
                            [archive] warc_dir puts them elsewhere (shared storage)
      index -> index-*/     symlink to the live search index (derived; rebuilt from the record)
      index-*/              built or replaced indexes, removed once no searcher can need them
      jobs.sqlite           jobs queued by staff for the scheduler
      staff.sqlite          staff accounts and sessions (owner-only)
      secret_key            the web app's session key (owner-only)
      ratelimits.db         request budgets shared by the web server's workers
      schedule.json         what the scheduler is doing, for `pressroom status`
      NAME.lock             one run at a time: crawl, index, schedule

With [archive] database set to PostgreSQL, the catalogue, jobs, staff and rate limits are
tables of that one database (shared by every machine) and their files here are unused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archive.catalogue import Catalogue
from archive.database import is_postgresql, sqlite_url
from archive.errors import NoArchive
from archive.settings import Settings
from archive.warcstore import WarcStore

INDEX_PREFIX = "index-"
# files a copy of the data directory must keep readable by the owner only
PRIVATE_FILES = frozenset({"staff.sqlite", "secret_key"})


@dataclass(frozen=True)
class DataDir:
    """Where a data directory keeps each part of the archive, the index and the services' state."""

    root: Path
    database: str = ""  # [archive] database: empty for SQLite files here
    warc_dir: str = ""  # [archive] warc_dir: empty for DATA_DIR/warc

    @classmethod
    def of(cls, settings: Settings) -> DataDir:
        """The data directory as the settings describe it (database and WARC folder included)."""
        return cls(settings.data_dir, settings.archive.database, settings.archive.warc_dir)

    @property
    def catalogue(self) -> Path:
        """The SQLite catalogue file (unused when the database is PostgreSQL)."""
        return self.root / "catalogue.sqlite"

    @property
    def shared_database(self) -> bool:
        """Tell whether the stores live in a PostgreSQL database rather than files here."""
        return is_postgresql(self.database)

    @property
    def catalogue_url(self) -> str:
        """The catalogue's database URL."""
        return self.database or sqlite_url(self.catalogue)

    def store_url(self, store: str) -> str:
        """The database URL of a store: catalogue, staff, jobs or ratelimits."""
        if store == "catalogue":
            return self.catalogue_url
        if self.shared_database:
            return self.database
        return sqlite_url({"staff": self.staff, "jobs": self.jobs,
                           "ratelimits": self.ratelimits}[store])

    @property
    def warc(self) -> Path:
        return Path(self.warc_dir) if self.warc_dir else self.root / "warc"

    @property
    def index(self) -> Path:
        """The symlink to the live index folder."""
        return self.root / "index"

    def index_folders(self) -> Iterator[Path]:
        """Every index folder, live or replaced."""
        return (p for p in self.root.glob(INDEX_PREFIX + "*") if p.is_dir())

    @property
    def jobs(self) -> Path:
        return self.root / "jobs.sqlite"

    @property
    def staff(self) -> Path:
        return self.root / "staff.sqlite"

    @property
    def secret_key(self) -> Path:
        return self.root / "secret_key"

    @property
    def ratelimits(self) -> Path:
        return self.root / "ratelimits.db"

    @property
    def schedule_state(self) -> Path:
        return self.root / "schedule.json"

    def lock(self, name: str) -> Path:
        """The lock file of a kind of run ("crawl", "index", "schedule")."""
        return self.root / f"{name}.lock"


def warcinfo(settings: Settings) -> dict[str, str]:
    """Return the warcinfo fields that name who crawls, and how, in every WARC file."""
    crawl = settings.crawl
    return {"operator": f"{crawl.operator} <{crawl.contact_url}>",
            "http-header-user-agent": crawl.user_agent, "robots": "obey"}


def open_catalogue(settings: Settings, read_only: bool = False) -> Catalogue:
    """Open the catalogue of an existing archive (NoArchive when there is none yet)."""
    where = DataDir.of(settings)
    if not where.shared_database and not where.catalogue.exists():
        raise NoArchive(f"no archive in {settings.data_dir}: run pressroom crawl first")
    return Catalogue(where.catalogue_url, read_only=read_only)


@contextmanager
def open_archive(settings: Settings) -> Iterator[tuple[Catalogue, WarcStore]]:
    """Open the catalogue and WARC store of the data directory (no lock taken)."""
    where = DataDir.of(settings)
    catalogue = Catalogue(where.catalogue_url)
    store = WarcStore(where.warc, settings.archive.warc_prefix, settings.archive.warc_max_bytes,
                      max_payload_bytes=settings.crawl.max_body_bytes, info=warcinfo(settings))
    try:
        yield catalogue, store
    finally:
        store.close()
        catalogue.close()
