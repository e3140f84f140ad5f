"""Prometheus metrics: the archive and index figures (read when scraped, from the cached status
report) and the latency of searches (observed by the web app itself).

One registry per app, so that several apps in one process (tests) never share series. Under
`pressroom serve` with several worker processes, PROMETHEUS_MULTIPROC_DIR is set and the
latency histogram is kept in files that every worker's /metrics adds up, so a scrape sees all
searches whichever worker answers it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from flask import Flask
from prometheus_client import CollectorRegistry, Histogram, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector

from archive.errors import ArchiveError
from archive.status import PROBLEM_KINDS
from pressroom.status import Report

SEARCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ArchiveCollector:
    """Turn the status report into metric families each time the registry is collected."""

    def __init__(self, report: Callable[[], Report]) -> None:
        self.report = report

    def collect(self) -> Iterable[Metric]:
        """Yield the archive's and the index's metrics (or only `pressroom_status_ok 0`)."""
        ok = GaugeMetricFamily("pressroom_status_ok",
                               "1 when the catalogue and index could be read for these metrics")
        try:
            report = self.report()
        except ArchiveError:
            ok.add_metric([], 0)
            yield ok
            return
        ok.add_metric([], 1)
        yield ok
        yield from _run_metrics(report)
        yield from _archive_metrics(report)
        yield from _index_metrics(report)


def _run_metrics(report: Report) -> Iterable[Metric]:
    totals = report.archive.totals
    runs = GaugeMetricFamily("pressroom_crawl_runs", "Crawl runs in the catalogue, by site and state",
                             labels=["site", "state"])
    for (site, state), n in sorted(totals.runs.items()):
        runs.add_metric([site, state], n)
    responses = CounterMetricFamily("pressroom_crawl_responses",
                                    "HTTP responses received by crawls, by site", labels=["site"])
    for site, n in sorted(totals.fetched.items()):
        responses.add_metric([site], n)
    pages = CounterMetricFamily("pressroom_pages_fetched",
                                "Pages handled by crawls, by site and outcome (new, changed, "
                                "unchanged, redirect, retry, failed, refused)",
                                labels=["site", "outcome"])
    for (site, outcome), n in sorted(totals.pages.items()):
        pages.add_metric([site, outcome], n)
    failures = CounterMetricFamily("pressroom_crawl_failures",
                                   "Failed fetches, by site and reason", labels=["site", "reason"])
    for (site, reason), n in sorted(totals.failures.items()):
        failures.add_metric([site, reason], n)
    return [runs, responses, pages, failures]


def _archive_metrics(report: Report) -> Iterable[Metric]:
    archive = report.archive
    size = GaugeMetricFamily("pressroom_archive_bytes", "Bytes on disk of the archive, by part",
                             labels=["part"])
    size.add_metric(["warc"], archive.warc_bytes)
    size.add_metric(["catalogue"], archive.catalogue_bytes)
    files = GaugeMetricFamily("pressroom_warc_files", "WARC files in the archive")
    files.add_metric([], archive.warc_files)
    releases = GaugeMetricFamily("pressroom_releases", "Releases in the archive (latest versions), "
                                 "by site", labels=["site"])
    for site in archive.sites:
        releases.add_metric([site.key], site.releases)
    problems = GaugeMetricFamily("pressroom_extraction_problems",
                                 "Releases whose extraction missed a field, by kind", labels=["kind"])
    for kind in PROBLEM_KINDS:
        problems.add_metric([kind], archive.problem_counts[kind])
    return [size, files, releases, problems]


def _index_metrics(report: Report) -> Iterable[Metric]:
    index = report.index
    documents = GaugeMetricFamily("pressroom_index_documents", "Documents in the search index")
    documents.add_metric([], index.documents)
    size = GaugeMetricFamily("pressroom_index_bytes", "Bytes on disk of the live search index")
    size.add_metric([], index.bytes)
    current = GaugeMetricFamily("pressroom_index_current",
                                "1 when an index of the expected schema version exists")
    current.add_metric([], 1 if index.current else 0)
    found = [documents, size, current]
    if index.last_commit is not None:
        commit = GaugeMetricFamily("pressroom_index_last_commit_timestamp_seconds",
                                   "Unix time of the index's last commit")
        commit.add_metric([], index.last_commit.timestamp())
        found.append(commit)
    return found


def install(app: Flask, report: Callable[[], Report]) -> None:
    """Give an app its registry: the archive collector, process metrics, the search histogram."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ArchiveCollector(report))
    shared = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    if shared:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        ProcessCollector(registry=registry)
    app.extensions["pressroom_metrics"] = registry
    app.extensions["pressroom_search_seconds"] = Histogram(
        "pressroom_search_seconds", "Time to answer a search, by endpoint", ["endpoint"],
        registry=None if shared else registry, buckets=SEARCH_BUCKETS)


def observe_search(app: Flask, endpoint: str, seconds: float) -> None:
    """Record the duration of one search request."""
    histogram: Histogram | None = app.extensions.get("pressroom_search_seconds")
    if histogram is not None:
        histogram.labels(endpoint=endpoint).observe(seconds)
