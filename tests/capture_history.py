"""A release captured four times through the crawler's own Recorder, at chosen times.

A first version, a 304 re-crawl (a revisit), a changed version, a re-crawl with the same bytes
(a revisit by payload digest): every kind of capture, each at a known second.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from archive.capture.fetch import Response
from archive.capture.record import CrawlStats, Recorder
from archive.cleaning.releases import clean_versions
from archive.layout import open_archive
from tests.catalogue_rows import archive_settings
from tests.webapp_fixtures import pages

BASE = "https://news.example.org"
URL = f"{BASE}/news/libya-rescue"
FIRST = pages(BASE)["/news/libya-rescue"][1]
SECOND = FIRST.replace("The rescue is the third this month.", "The rescue is the fourth this month.")
# (capture time, body; None answers 304 Not Modified)
HISTORY = [(datetime(2024, 3, 12, 10, 0, tzinfo=UTC), FIRST),
           (datetime(2024, 4, 1, 10, 0, tzinfo=UTC), None),
           (datetime(2024, 5, 1, 10, 0, tzinfo=UTC), SECOND),
           (datetime(2024, 6, 1, 10, 0, tzinfo=UTC), SECOND)]
BODIES = [FIRST, FIRST, SECOND, SECOND]      # what each capture holds


def _response(when: datetime, body: str | None) -> Response:
    raw = (body or "").encode()
    return Response(URL, 304 if body is None else 200, "OK" if body else "Not Modified",
                    [("Content-Type", "text/html; charset=utf-8"), ("ETag", '"e"')],
                    [("Host", "news.example.org")], raw, raw, when)


def record_history(data_dir: Path) -> None:
    """Record HISTORY through the crawler's Recorder, then clean it into releases."""
    settings = archive_settings(data_dir)
    with open_archive(settings) as (catalogue, store):
        for when, body in HISTORY:
            run_id, _ = catalogue.start_run("example", 1)
            recorder = Recorder(catalogue, store, "example", run_id, CrawlStats())
            _, latest = recorder.previous(URL, URL)
            if body is None:
                assert latest is not None
                recorder.not_modified(URL, _response(when, body), latest)
            else:
                digest = hashlib.sha256(body.encode()).hexdigest()
                recorder.capture(URL, _response(when, body), URL, digest, latest)
            catalogue.finish_run(run_id, "done", {})
        clean_versions(catalogue, store, settings)
