"""The data directory's layout: the one place that knows where each part of a Pressroom lives.

    DATA_DIR/
      catalogue.sqlite      the record: documents, versions, fetches, runs, releases
      warc/                 WARC files (NAME.warc.gz, NAME.warc.gz.open while being written)
      index -> index-*/     symlink to the live search index (derived; rebuilt from the record)
      index-*/              built or replaced indexes, removed once no searcher can need them
      jobs.sqlite           jobs queued by staff for the scheduler
      staff.sqlite          staff accounts and sessions (owner-only)
      secret_key            the web app's session key (owner-only)
      ratelimits.db         request budgets shared by the web server's workers
      schedule.json         what the scheduler is doing, for `pressroom status`
      NAME.lock             one run at a time: crawl, index, schedule
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archive.catalogue import Catalogue
from archive.settings import Settings
from archive.warcstore import WarcStore

INDEX_PREFIX = "index-"
# files a copy of the data directory must keep readable by the owner only
PRIVATE_FILES = frozenset({"staff.sqlite", "secret_key"})


@dataclass(frozen=True)
class DataDir:
    """Where a data directory keeps each part of the archive, the index and the services' state."""

    root: Path

    @property
    def catalogue(self) -> Path:
        return self.root / "catalogue.sqlite"

    @property
    def warc(self) -> Path:
        return self.root / "warc"

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


@contextmanager
def open_archive(settings: Settings) -> Iterator[tuple[Catalogue, WarcStore]]:
    """Open the catalogue and WARC store of the data directory (no lock taken)."""
    where = DataDir(settings.data_dir)
    catalogue = Catalogue(where.catalogue)
    store = WarcStore(where.warc, settings.archive.warc_prefix, settings.archive.warc_max_bytes,
                      max_payload_bytes=settings.crawl.max_body_bytes, info=warcinfo(settings))
    try:
        yield catalogue, store
    finally:
        store.close()
        catalogue.close()
