"""Acceptance: crawling ../shared/sample-site, the offline replica of a real newsroom.

Skipped with a message when ../shared is absent. Crawls run in-process with delay 0 and
keep-alive off: the replica's standard-library server sends headers and body in two writes,
which costs a kept-alive connection ~40 ms of delayed ACK per request.
"""

from __future__ import annotations

import html
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.capture.links import decode_html
from archive.capture.runs import SiteResult, crawl_sites
from archive.database import DatabaseError
from archive.errors import CatalogueError
from archive.layout import open_archive
from archive.settings import Settings, adhoc_site
from archive.verify import verify_archive
from tests.catalogue_rows import archive_settings, rows
from tests.conftest import ROOT, SAMPLE_SITE, SampleSite, _start_server, request_paths

pytestmark = pytest.mark.acceptance

TRUTH = SAMPLE_SITE / "truth.jsonl"


def truth() -> list[dict[str, object]]:
    return [json.loads(line) for line in TRUTH.read_text(encoding="utf-8").splitlines() if line]


def settings_for(data_dir: Path, **crawl: object) -> Settings:
    overrides: dict[str, object] = {"crawl.delay": 0.0,
                                    "crawl.keep_alive": False, "crawl.backoff": 0.05}
    overrides.update({f"crawl.{k}": v for k, v in crawl.items()})
    return archive_settings(data_dir, **overrides)


def crawl(settings: Settings, site: SampleSite) -> SiteResult:
    return crawl_sites(settings, [adhoc_site([site.url])])[0]


@dataclass
class Crawled:
    settings: Settings
    site: SampleSite
    first: SiteResult
    second: SiteResult
    first_log: list[str]
    second_log: list[str]

    def rows(self, sql: str, params: dict[str, object] | None = None) -> list[Any]:
        return rows(self.settings, sql, params)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Iterator[Crawled]:
    if not (SAMPLE_SITE / "serve.py").exists():
        pytest.skip(f"acceptance test needs the sample site at {SAMPLE_SITE}, which is absent")
    proc, port = _start_server([sys.executable, str(SAMPLE_SITE / "serve.py"), "--port", "0"])
    site = SampleSite(proc, port)
    settings = settings_for(tmp_path_factory.mktemp("sample") / "data")
    try:
        first = crawl(settings, site)
        mark = time.time()
        second = crawl(settings, site)
    finally:
        log = site.stop()
    lines = log.splitlines()
    # serve.py logs one line per request; split them at the second run by order
    count_first = first.stats.fetched
    paths = request_paths("\n".join(lines))
    yield Crawled(settings, site, first, second, paths[:count_first], paths[count_first:])
    del mark


def documents(crawled: Crawled) -> set[str]:
    return {row[0] for row in crawled.rows("SELECT url FROM documents")}


def test_every_release_is_captured_from_the_home_pages(crawled: Crawled) -> None:
    base = crawled.site.url.rstrip("/")
    docs = documents(crawled)
    missing = [t["path"] for t in truth() if f"{base}{t['path']}" not in docs]
    assert not missing
    assert crawled.first.complete


def test_robots_disallowed_paths_are_never_requested(crawled: Crawled) -> None:
    disallowed = [p for p in crawled.first_log + crawled.second_log
                  if p.startswith(("/admin", "/search"))]
    assert disallowed == []
    assert crawled.first.stats.skipped_robots > 0


def test_the_endless_calendar_costs_a_bounded_number_of_fetches(crawled: Crawled) -> None:
    calendar = [p for p in crawled.first_log if p.startswith("/events/calendar")]
    depth = crawled.settings.crawl.max_depth
    assert 0 < len(calendar) <= 3 * depth + 10


def test_utm_duplicates_and_the_old_redirecting_url_are_one_document_each(crawled: Crawled) -> None:
    docs = documents(crawled)
    assert not [d for d in docs if "utm_" in d]
    assert not any("utm_" in p for p in crawled.first_log)
    config = json.loads((SAMPLE_SITE / "site-config.json").read_text())
    old = config["traps"]["old_url_redirect"]["from"]
    target = next(t["path"] for t in truth() if t["id"] == config["traps"]["old_url_redirect"]["to_article"])
    base = crawled.site.url.rstrip("/")
    [row] = crawled.rows("SELECT outcome, redirect_to, document_id FROM urls WHERE url = :url",
                         {"url": base + old})
    assert row[0] == "redirect" and row[1] == base + target
    assert [d for d in docs if d.endswith(str(target))] == [base + str(target)]
    assert crawled.rows("SELECT latest_version FROM documents WHERE url = :url",
                        {"url": base + str(target)}) == [(1,)]


def test_the_404_and_the_pdf_are_recorded_as_such(crawled: Crawled) -> None:
    config = json.loads((SAMPLE_SITE / "site-config.json").read_text())
    base = crawled.site.url.rstrip("/")
    missing = crawled.rows("SELECT outcome, http_status, reason FROM urls WHERE url = :url",
                           {"url": base + config["traps"]["missing_link"]["href"]})
    assert missing == [("failed", 404, "http-404")]
    pdf = crawled.rows("SELECT v.content_type, v.status FROM versions v JOIN documents d "
                       "ON d.id = v.document_id WHERE d.url = :url",
                       {"url": base + config["traps"]["pdf_link"]["href"]})
    assert pdf == [("application/pdf", 200)]


@pytest.mark.parametrize("trap", ["iso_8859_1_article", "no_charset_header_article"])
def test_latin1_and_headerless_pages_decode_correctly(crawled: Crawled, trap: str) -> None:
    config = json.loads((SAMPLE_SITE / "site-config.json").read_text())
    release = next(t for t in truth() if t["id"] == config["traps"][trap])
    base = crawled.site.url.rstrip("/")
    with open_archive(crawled.settings) as (catalogue, store):
        doc = catalogue.document_id(base + str(release["path"]))
        assert doc is not None
        version = catalogue.latest_version(doc)
        assert version is not None
        headers, body = store.read_payload(version.ref)
    ctype = next(v for k, v in headers if k.lower() == "content-type")
    _, text = decode_html(body, ctype)
    assert str(release["title"]) in html.unescape(text)
    assert "\ufffd" not in text


def test_a_second_crawl_adds_no_version_and_is_answered_by_304s(crawled: Crawled) -> None:
    second = crawled.second.stats
    assert second.new == 0 and second.changed == 0
    assert second.not_modified >= 0.8 * second.fetched
    assert crawled.rows("SELECT COUNT(*) FROM versions WHERE version > 1") == [(0,)]


def test_warc_and_catalogue_agree(crawled: Crawled) -> None:
    with open_archive(crawled.settings) as (catalogue, store):
        report = verify_archive(catalogue, store)
    assert report.ok, report.problems[:5]
    assert report.records >= 2 * report.rows > 0


def test_a_changed_page_gets_exactly_one_new_version(sample_site: Callable[..., SampleSite],
                                                     sample_www_copy: Path, tmp_path: Path) -> None:
    site = sample_site(root=sample_www_copy)
    settings = settings_for(tmp_path / "data")
    crawl(settings, site)
    release = next(t for t in truth() if t["id"] == "d030")
    page = sample_www_copy / str(release["path"]).lstrip("/") / "index.html"
    text = page.read_text(encoding="utf-8")
    last = str(release["last_sentence"])
    assert last in text
    page.write_text(text.replace(last, last + " This sentence was added after publication."),
                    encoding="utf-8")
    result = crawl(settings, site)
    assert result.stats.changed == 1 and result.stats.new == 0
    changed = rows(settings, "SELECT d.url FROM versions v JOIN documents d ON d.id = v.document_id "
                   "WHERE v.version = 2")
    assert changed == [(site.url.rstrip("/") + str(release["path"]),)]


def test_injected_server_errors_end_captured_or_failed_with_a_reason(
        sample_site: Callable[..., SampleSite], tmp_path: Path) -> None:
    # Retry-After 0 keeps the test short; honouring a real Retry-After is a hazard test.
    site = sample_site("--fail-rate", "0.3", "--seed", "7", "--retry-after", "0")
    settings = settings_for(tmp_path / "data", retries=4)
    result = crawl(settings, site)
    assert result.complete
    assert rows(settings, "SELECT COUNT(*) FROM frontier") == [(0,)]
    outcomes = dict(rows(settings, "SELECT outcome, COUNT(*) FROM urls GROUP BY outcome"))
    assert set(outcomes) <= {"new", "unchanged", "changed", "failed", "redirect", "robots",
                             "absent", "refused", "discovered"}
    assert rows(settings, "SELECT COUNT(*) FROM urls WHERE outcome = 'failed' AND reason IS NULL"
                ) == [(0,)]
    assert rows(settings, "SELECT COUNT(*) FROM versions WHERE status >= 300") == [(0,)]
    assert result.stats.retries > 50
    base = site.url.rstrip("/")
    states = dict(rows(settings, "SELECT url, outcome FROM urls"))
    releases = [states.get(base + str(t["path"])) for t in truth()]
    assert all(state in ("new", "failed") for state in releases)
    assert releases.count("new") >= 55
    with open_archive(settings) as (catalogue, store):
        assert verify_archive(catalogue, store).ok


def wait_for_fetches(data: Path, proc: subprocess.Popen[bytes], count: int,
                     timeout: float = 120) -> None:
    """Wait until the crawl run of process `proc` has logged `count` fetches in the catalogue."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the crawl ended (exit {proc.returncode}) before it was killed"
        done = 0
        with suppress(CatalogueError, DatabaseError):  # the crawl is still creating the catalogue
            [(done,)] = rows(data, "SELECT count(*) FROM fetches JOIN runs ON runs.id = run_id"
                                   " WHERE runs.pid = :pid", {"pid": proc.pid})
        if done >= count:
            return
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"the crawl logged fewer than {count} fetches in {timeout} s")


def test_sigkill_mid_crawl_leaves_a_consistent_archive_and_the_next_run_resumes(
        sample_site: Callable[..., SampleSite], tmp_path: Path) -> None:
    site = sample_site()
    data = tmp_path / "data"
    env = {**os.environ, "PRESSROOM_CRAWL_KEEP_ALIVE": "false"}
    command = [sys.executable, "-m", "pressroom", "crawl", site.url, "--delay", "0.02",
               "--data-dir", str(data), "--log-level", "WARNING"]
    rng = random.Random(2)
    for _ in range(3):
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # kill after a number of fetches, not after a time: a loaded machine may take seconds
        # just to start Python, and a kill before the run starts would test nothing
        wait_for_fetches(data, proc, rng.randint(2, 20))
        time.sleep(rng.uniform(0.0, 0.05))  # anywhere between two fetches, mid-write included
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        settings = settings_for(data)
        with open_archive(settings) as (catalogue, store):
            report = verify_archive(catalogue, store)  # an .open file may end in a torn record
        assert report.ok, report.problems[:5]
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert "complete" in finished.stdout
    assert not list((data / "warc").glob("*.open"))
    with open_archive(settings_for(data)) as (catalogue, store):
        report = verify_archive(catalogue, store)
        assert report.ok, report.problems[:5]
        docs = {r[0] for r in catalogue.db.execute("SELECT url FROM documents")}
        runs = catalogue.runs()
        fetched = [r[0] for r in catalogue.db.execute(
            "SELECT url FROM fetches WHERE outcome IN ('new', 'changed')")]
    base = site.url.rstrip("/")
    assert all(base + str(t["path"]) in docs for t in truth())
    assert [r["state"] for r in runs] == ["done", "resumed", "resumed", "resumed"]
    assert [r["resumed_from"] for r in runs[:3]] == [r["id"] for r in runs[1:]]
    assert len(fetched) == len(set(fetched)), "a resumed run captured a page again"
