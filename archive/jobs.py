"""Run the archive's jobs over a data directory: one crawl at a time, every site in turn."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archive.capture.crawl import Crawl, Event
from archive.capture.netguard import AddressPolicy
from archive.capture.record import CrawlStats
from archive.catalogue import Catalogue
from archive.lock import RunLock
from archive.settings import Settings, SiteConfig
from archive.warcstore import WarcStore, WarcWriteError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paths:
    """Where a data directory keeps each part of the archive."""

    data_dir: Path

    @property
    def catalogue(self) -> Path:
        return self.data_dir / "catalogue.sqlite"

    @property
    def warc(self) -> Path:
        return self.data_dir / "warc"


@dataclass
class SiteResult:
    """The outcome of one site's run."""

    site: SiteConfig
    run_id: int
    stats: CrawlStats
    seconds: float
    complete: bool


@contextmanager
def open_archive(settings: Settings) -> Iterator[tuple[Catalogue, WarcStore]]:
    """Open the catalogue and WARC store of the data directory (no lock taken)."""
    paths = Paths(settings.data_dir)
    catalogue = Catalogue(paths.catalogue)
    store = WarcStore(paths.warc, settings.archive.warc_prefix, settings.archive.warc_max_bytes,
                      max_payload_bytes=settings.crawl.max_body_bytes)
    try:
        yield catalogue, store
    finally:
        store.close()
        catalogue.close()


def crawl_sites(settings: Settings, sites: list[SiteConfig], on_event: Event | None = None,
                max_fetches: int | None = None) -> list[SiteResult]:
    """Crawl each site in turn under the data directory's crawl lock."""
    results = []
    with RunLock(settings.data_dir, "crawl"), open_archive(settings) as (catalogue, store):
        for name in store.recover():
            logger.warning("recovered %s left open by an interrupted crawl", name)
        policy = AddressPolicy(host for site in sites for host in site.hosts)
        for site in sites:
            started = time.monotonic()
            crawl = Crawl(settings, site, catalogue, store, policy, on_event)
            try:
                stats = crawl.run(max_fetches=max_fetches)
            except WarcWriteError as exc:
                # not resumable as if merely interrupted: the disk must be seen to first
                catalogue.finish_run(crawl.run_id, "failed", crawl.stats.as_dict())
                raise WarcWriteError(f"{exc}; run {crawl.run_id} of {site.key} is marked failed "
                                     "and nothing half-written was kept") from exc
            complete = catalogue.runs(1)[0]["state"] == "done"
            results.append(SiteResult(site, crawl.run_id, stats, time.monotonic() - started,
                                      complete))
    return results
