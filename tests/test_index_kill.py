"""SIGKILL during `pressroom index` and `index --rebuild`, at 30 random points each: the index
opens and answers every time, no lock is left behind, no release is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from archive.lock import RunLock
from indexer.build import rebuild
from indexer.search import Searcher, SearchRequest
from tests.conftest import ROOT
from tests.test_index import make_release, store

POINTS = 30


def run_and_kill(data: Path, args: list[str], after: float) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "webapp", "index", *args, "--procs", "1",
                             "--data-dir", str(data)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(after)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_killed_index_runs_leave_a_working_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    releases = [make_release(n) for n in range(600)]
    store(data, releases)
    rebuild(data, procs=1)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "webapp", "index", "--rebuild", "--procs", "1",
                    "--data-dir", str(data)], cwd=ROOT, check=True, capture_output=True)
    duration = time.monotonic() - started
    rng = random.Random(11)
    for point in range(2 * POINTS):
        if point % 2 == 0:  # give the incremental run something to write
            for n in rng.sample(range(len(releases)), 40):
                releases[n] = {**releases[n], "title": f"Changed {point} {n}",
                               "content_hash": f"sha256:{point}-{n}"}
            store(data, releases)
        run_and_kill(data, [] if point % 2 == 0 else ["--rebuild"], rng.uniform(0.05, duration))
        page = Searcher(data).search(SearchRequest(q="migrants"))
        assert page.total > 0, f"no answer after kill {point}"
        lock = RunLock(data, "index")
        lock.acquire()          # raises if a killed run left the lock held
        lock.release()
    final = subprocess.run([sys.executable, "-m", "webapp", "index", "--data-dir", str(data)],
                           cwd=ROOT, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    searcher = Searcher(data)
    assert searcher.doc_count() == len(releases)
    titles = {h.title for h in searcher.search(SearchRequest(q="Changed", page_size=100)).results}
    assert titles, "changed releases are searchable"
    stray = [p for p in data.glob("index-*") if p.is_dir() and not (p / "PRESSROOM_SCHEMA").exists()]
    assert stray == [], "killed rebuilds left folders behind"
