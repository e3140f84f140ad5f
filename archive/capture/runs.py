"""Crawl runs over a data directory: one crawl at a time, every site in turn."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from archive.capture.crawl import Crawl, Event
from archive.capture.leases import refuse_if_pass_open
from archive.capture.netguard import AddressPolicy
from archive.capture.record import CrawlStats
from archive.layout import open_archive
from archive.lock import RunLock
from archive.settings import Settings, SiteConfig
from archive.warcstore import WarcWriteError

logger = logging.getLogger(__name__)


@dataclass
class SiteResult:
    """The outcome of one site's run."""

    site: SiteConfig
    run_id: int
    stats: CrawlStats
    seconds: float
    complete: bool


def crawl_sites(settings: Settings, sites: list[SiteConfig], on_event: Event | None = None,
                max_fetches: int | None = None) -> list[SiteResult]:
    """Crawl each site in turn under the data directory's crawl lock."""
    results = []
    with RunLock(settings.data_dir, "crawl"), open_archive(settings) as (catalogue, store):
        refuse_if_pass_open(catalogue.db)  # workers may be crawling these sites, elsewhere too
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
