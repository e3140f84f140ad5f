"""The worker processes of a rebuild: they die with it, stop with it, never hold its lock, and a
worker that fails cannot swap a short index in."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from whoosh.multiproc import SubWriterTask

from archive.lock import RunLock
from indexer.build import die_with_parent, rebuild
from indexer.errors import IndexerError
from indexer.schema import live_directory
from indexer.search import Searcher, SearchRequest
from tests.catalogue_rows import catalogue_url
from tests.conftest import ROOT
from tests.test_index import make_release, store
from tests.test_index_kill import processes_on, wait_for_workers, wait_until_gone

PR_GET_PDEATHSIG = 2

FORK_AND_DIE = """
import os, sys, time
from pathlib import Path
from archive.lock import RunLock

lock = RunLock(Path(sys.argv[1]), "index")
lock.acquire()
if os.fork() == 0:          # a child that outlives its parent, until the test kills it
    os.close(1)
    os.close(2)
    time.sleep(60)
    os._exit(0)
print(os.getpid(), flush=True)
os._exit(0)                 # no release: as if killed
"""


def test_a_forked_child_of_the_lock_holder_does_not_hold_the_lock(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", FORK_AND_DIE, str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    children = [pid for pid in processes_on(tmp_path) if pid != int(result.stdout)]
    assert len(children) == 1, "the child waits for the test"
    try:
        lock = RunLock(tmp_path, "index")
        lock.acquire()              # raises if the child kept its parent's lock
        lock.release()
    finally:
        os.kill(children[0], signal.SIGKILL)


def _report_death_signal(parent: int) -> None:
    die_with_parent(parent)
    value = ctypes.c_int(0)
    ctypes.CDLL(None).prctl(PR_GET_PDEATHSIG, ctypes.byref(value), 0, 0, 0)
    os._exit(value.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_a_worker_asks_to_die_with_its_parent_or_exits_if_it_is_gone() -> None:
    fork = multiprocessing.get_context("fork")
    child = fork.Process(target=_report_death_signal, args=(os.getpid(),))
    child.start()
    child.join(30)
    assert child.exitcode == signal.SIGKILL, "PR_SET_PDEATHSIG is SIGKILL"
    orphan = fork.Process(target=_report_death_signal, args=(os.getpid() + 1,))  # not its parent
    orphan.start()
    orphan.join(30)
    assert orphan.exitcode == 1, "a worker whose parent is already gone exits"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_rebuild_stopped_by_a_signal_stops_its_workers(tmp_path: Path, signum: int) -> None:
    data = tmp_path / "data"
    releases = [make_release(n) for n in range(3000)]
    store(data, releases)
    rebuild(data, procs=1, catalogue_url=catalogue_url(data))
    live = live_directory(data)
    with (tmp_path / "stderr").open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "pressroom", "index", "--rebuild", "--procs",
                                 "2", "--data-dir", str(data)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        assert wait_for_workers(proc, data, time.monotonic() + 120, count=2), "no workers"
        proc.send_signal(signum)  # to the parent alone, as `kill PID` or systemd would
        code = proc.wait(timeout=60)  # before: the parent waited for its workers forever
    finally:
        for pid in processes_on(data):  # only the run this test started names its folder
            os.kill(pid, signal.SIGKILL)
        proc.wait()
    assert code != 0 and "Aborted" in (tmp_path / "stderr").read_text(), (tmp_path / "stderr").read_text()
    assert wait_until_gone(data, timeout=10) == {}
    lock = RunLock(data, "index")
    lock.acquire()
    lock.release()
    assert live_directory(data) == live
    assert Searcher(data).doc_count() == len(releases)
    assert [p for p in data.glob("index-*") if p != live] == [], "the stopped build is removed"


def _worker_that_dies(self: SubWriterTask) -> None:
    os._exit(3)  # out of memory, say: its documents never reach the parent


@pytest.mark.timeout(120)  # before: a rebuild with more batches than queue slots hung here
@pytest.mark.parametrize(("count", "message"), [
    (400, r"holds 0 of 400 releases \(a worker process failed\)"),  # all its batches queued
    (2000, r"a worker process of the rebuild ended early \(exit code 3\)"),  # the queue fills
])
def test_a_rebuild_whose_workers_die_fails_and_keeps_the_live_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, message: str) -> None:
    data = tmp_path / "data"
    releases = [make_release(n) for n in range(count)]
    store(data, releases)
    rebuild(data, procs=1, catalogue_url=catalogue_url(data))
    live = live_directory(data)
    monkeypatch.setattr(SubWriterTask, "run", _worker_that_dies)
    with pytest.raises(IndexerError, match=message):
        rebuild(data, procs=2, catalogue_url=catalogue_url(data))
    assert live_directory(data) == live
    assert Searcher(data).search(SearchRequest(q="migrants")).total > 0
    assert Searcher(data).doc_count() == len(releases)
    assert [p for p in data.glob("index-*") if p != live] == [], "the failed build is removed"
