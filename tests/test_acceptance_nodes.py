"""Acceptance: two search nodes, each with its own index, follow one PostgreSQL catalogue.

The sample site is crawled into a PostgreSQL catalogue while two `pressroom index --follow`
processes, each in its own data dir, follow it; two `pressroom serve` processes answer from
those data dirs. Both must give the same top 10 for every query of queries.jsonl, read the
shared catalogue for release pages, and drop a release that the catalogue withdraws.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from archive.catalogue import Catalogue, VersionRow
from archive.warcstore import RecordRef
from tests.conftest import ROOT, SAMPLE_SITE, PressroomServer, SampleSite, run_cli

sys.path.insert(0, str(ROOT / "bench"))
from score_search import api_params

pytestmark = pytest.mark.acceptance

NODES = 2
CONVERGE_SECONDS = 90.0


def top10(server: PressroomServer, params: list[tuple[str, str]]) -> list[str]:
    answer = requests.get(f"{server.url}/api/search", params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    return [hit["id"] for hit in answer.json()["results"]]


def total(server: PressroomServer) -> int:
    answer = requests.get(f"{server.url}/api/search", params={"size": "1"}, timeout=30)
    return int(answer.json()["total"]) if answer.status_code == 200 else -1


def wait_until(check: Callable[[], bool], what: str, timeout: float = CONVERGE_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.25)


@pytest.fixture
def nodes(postgres_url: str, tmp_path: Path, sample_site: Callable[..., SampleSite]
          ) -> Iterator[tuple[list[PressroomServer], list[subprocess.Popen[bytes]], Path]]:
    """The sample site crawled into PostgreSQL, followed by two nodes that serve it."""
    crawler = tmp_path / "crawler"
    env = {"PRESSROOM_ARCHIVE_DATABASE": postgres_url,
           "PRESSROOM_ARCHIVE_WARC_DIR": str(crawler / "warc"), "PRESSROOM_INDEX_NICE": "0",
           "PRESSROOM_INDEX_PROCS": "1"}
    Catalogue(postgres_url).close()      # the schema, as `pressroom migrate` makes it
    followers: list[subprocess.Popen[bytes]] = []
    servers: list[PressroomServer] = []
    try:
        for number in range(1, NODES + 1):
            data = tmp_path / f"node{number}"
            data.mkdir()
            with (tmp_path / f"follow{number}.log").open("w") as log:
                followers.append(subprocess.Popen(
                    [sys.executable, "-m", "pressroom", "index", "--follow", "--interval", "0.5",
                     "--data-dir", str(data)], cwd=ROOT, env={**os.environ, **env},
                    stdout=log, stderr=log))
            servers.append(PressroomServer(data, env=env))
        site = sample_site()
        crawled = run_cli("crawl", site.url, "--delay", "0", "--data-dir", str(crawler),
                          env={**env, "PRESSROOM_CRAWL_KEEP_ALIVE": "false"})
        assert crawled.returncode == 0, crawled.stderr
        yield servers, followers, tmp_path
    finally:
        for server in servers:
            server.stop()
        for proc in followers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_two_nodes_answer_the_same_top_10_for_every_sample_query(
        nodes: tuple[list[PressroomServer], list[subprocess.Popen[bytes]], Path],
        postgres_url: str) -> None:
    servers, followers, logs = nodes
    shared = Catalogue(postgres_url)
    try:
        releases = shared.release_count()
        assert releases >= 50, f"the crawl kept {releases} releases"
        for server in servers:
            wait_until(lambda s=server: total(s) == releases,
                       f"{server.url} indexes the {releases} releases")

        queries = [json.loads(line) for line in
                   (SAMPLE_SITE / "queries.jsonl").read_text(encoding="utf-8").splitlines() if line]
        answered = 0
        for query in queries:
            first, *others = [top10(server, api_params(query)) for server in servers]
            for other in others:
                assert other == first, f"{query['id']} {query['q']!r}: the nodes differ"
            answered += bool(first)
        assert answered >= len(queries) - 2, f"only {answered} of {len(queries)} queries found anything"

        # each node reads the shared catalogue for a release's page, and caches by its change
        release_id = top10(servers[0], [("q", "Agadez")])[0]
        for server in servers:
            page = requests.get(f"{server.url}/release/{release_id}", timeout=30)
            assert page.status_code == 200, page.text[:500]
            etag = page.headers["ETag"]
            again = requests.get(f"{server.url}/release/{release_id}",
                                 headers={"If-None-Match": etag}, timeout=30)
            assert again.status_code == 304

        # the catalogue withdraws a release: both nodes follow
        withdraw(shared, release_id)
        for server in servers:
            wait_until(lambda s=server: total(s) == releases - 1,
                       f"{server.url} drops the withdrawn release")
            assert release_id not in top10(server, [("q", "Agadez")])
            page = requests.get(f"{server.url}/release/{release_id}",
                                headers={"If-None-Match": etag}, timeout=30)
            assert page.status_code != 304, "the ETag ignored a change of the catalogue"
    finally:
        shared.close()

    for number, proc in enumerate(followers, start=1):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        log = (logs / f"follow{number}.log").read_text()
        assert "stopped following after" in log and "Traceback" not in log, log


def withdraw(catalogue: Catalogue, release_id: str) -> None:
    """Re-clean a release's latest version as no release (the page stopped being one)."""
    row = catalogue.db.execute(
        "SELECT c.document_id, c.version, d.url, c.site FROM cleaned c JOIN documents d"
        " ON d.id = c.document_id WHERE c.release_id = :id AND c.is_release = 1"
        " ORDER BY c.version DESC LIMIT 1", {"id": release_id}).one()
    catalogue.save_cleaned(VersionRow(row.document_id, row.version, row.url, row.site, "",
                                      "text/html", RecordRef("x", 0, 1)), None, "withdrawn")
