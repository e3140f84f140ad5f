"""Searchers come from a small pool per process, whatever runs the searches: threads that come
and go, or gevent's greenlets (one per connection under `pressroom serve`)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from indexer.build import rebuild, update
from indexer.interface import SearchIndex, SearchRequest, open_index
from indexer.pool import IDLE_SEARCHERS
from tests.catalogue_rows import catalogue_url
from tests.conftest import ROOT
from tests.test_index import make_release, store


@pytest.fixture(autouse=True)
def no_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count open files: a search slowed past its limit by a loaded machine is noise."""
    monkeypatch.setattr("indexer.search.TIME_LIMIT", 120.0)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    store(tmp_path / "data", [make_release(n) for n in range(60)])
    rebuild(tmp_path / "data", procs=1, catalogue_url=catalogue_url(tmp_path / "data"))
    return tmp_path / "data"


def open_index_paths(data_dir: Path, pid: int | str = "self") -> list[str]:
    """The files under a data directory that a process holds open, once per descriptor."""
    root = str(data_dir.resolve())
    paths = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(root):
            paths.append(target)
    return paths


def open_index_files(data_dir: Path, pid: int | str = "self") -> int:
    """Count the descriptors of files under a data directory that a process holds open."""
    return len(open_index_paths(data_dir, pid))


def search_in_threads(searcher: SearchIndex, threads: int, at_once: int) -> list[int]:
    """Search once in each of `threads` short-lived threads, `at_once` at a time."""
    totals: list[int] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            totals.append(searcher.search(SearchRequest(q="migrants")).total)
        except BaseException as exc:  # the test reports every failure
            errors.append(exc)

    for start in range(0, threads, at_once):
        batch = [threading.Thread(target=one) for _ in range(min(at_once, threads - start))]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join(timeout=60)
    assert errors == []
    return totals


def test_threads_that_come_and_go_share_a_few_searchers(data_dir: Path) -> None:
    searcher = open_index(data_dir)
    before = open_index_files(data_dir)
    searcher.search(SearchRequest(q="migrants"))
    one = open_index_files(data_dir) - before
    assert one > 0, "a searcher holds its segment files open"
    totals = search_in_threads(searcher, threads=40, at_once=8)
    assert len(set(totals)) == 1 and len(totals) == 40
    assert open_index_files(data_dir) - before <= one * IDLE_SEARCHERS


def test_closing_or_dropping_the_searcher_closes_its_files(data_dir: Path) -> None:
    before = open_index_files(data_dir)
    searcher = open_index(data_dir)
    search_in_threads(searcher, threads=8, at_once=8)
    searcher.close()
    assert open_index_files(data_dir) == before
    assert searcher.search(SearchRequest(q="migrants")).total > 0   # still usable after close
    assert open_index_files(data_dir) == before
    dropped = open_index(data_dir)
    search_in_threads(dropped, threads=8, at_once=8)
    del dropped
    gc.collect()
    assert open_index_files(data_dir) == before


def test_a_new_commit_is_seen_and_old_searchers_are_closed(data_dir: Path) -> None:
    searcher = open_index(data_dir)
    releases = [make_release(n) for n in range(60)]
    search_in_threads(searcher, threads=4, at_once=4)
    for round_ in range(3):
        releases.append(make_release(1000 + round_, title=f"Fresh word{round_} release"))
        store(data_dir, releases)
        update(data_dir, catalogue_url=catalogue_url(data_dir))
        assert searcher.search(SearchRequest(q=f"word{round_}")).total == 1
    paths = open_index_paths(data_dir)
    # one searcher stays open, of the latest commit: no file twice, none of a merged-away segment
    assert paths and len(paths) == len(set(paths)), sorted(paths)
    assert not [path for path in paths if path.endswith(" (deleted)")]


def test_gevent_greenlets_share_a_few_searchers(data_dir: Path) -> None:
    # monkey patching is for a whole process: a child process, as a gevent worker is
    script = textwrap.dedent(f"""
        from gevent import monkey
        monkey.patch_all()
        import gevent, os, sys
        from pathlib import Path
        from indexer.interface import SearchRequest, open_index
        searcher = open_index(Path({str(data_dir)!r}))

        def one():
            gevent.sleep(0.01)          # all the greenlets are alive at once, as connections are
            return searcher.search(SearchRequest(q="migrants")).total

        jobs = [gevent.spawn(one) for _ in range(50)]
        gevent.joinall(jobs, timeout=60)
        assert all(job.successful() for job in jobs), [job.exception for job in jobs]
        print(len({{job.value for job in jobs}}))
        sys.stdout.flush()
        sys.stdin.read()                # hold still while the test counts the open files
    """)
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdin is not None
        line = child.stdout.readline()
        assert line.strip() == "1", child.stderr.read() if child.stderr else line
        files = open_index_files(data_dir, child.pid)
        baseline = open_index(data_dir)
        before = open_index_files(data_dir)
        baseline.search(SearchRequest(q="migrants"))
        one = open_index_files(data_dir) - before
        assert 0 < files <= one * IDLE_SEARCHERS, (files, one)
    finally:
        child.kill()
        child.communicate(timeout=30)
