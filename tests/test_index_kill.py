"""SIGKILL during `pressroom index` and `index --rebuild`, at 30 random points each: the index
opens and answers every time, no lock is left behind, no release is lost. A rebuild with worker
processes, killed again and again: its workers die with it and never hold the lock."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from archive.lock import RunLock
from indexer.build import rebuild
from indexer.search import Searcher, SearchRequest
from tests.catalogue_rows import catalogue_url
from tests.conftest import ROOT
from tests.test_index import make_release, store

POINTS = 30
PARALLEL_KILLS = 8


def run_and_kill(data: Path, args: list[str], after: float) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "pressroom", "index", *args, "--procs", "1",
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
    rebuild(data, procs=1, catalogue_url=catalogue_url(data))
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pressroom", "index", "--rebuild", "--procs", "1",
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
    final = subprocess.run([sys.executable, "-m", "pressroom", "index", "--data-dir", str(data)],
                           cwd=ROOT, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    searcher = Searcher(data)
    assert searcher.doc_count() == len(releases)
    titles = {h.title for h in searcher.search(SearchRequest(q="Changed", page_size=100)).results}
    assert titles, "changed releases are searchable"
    stray = [p for p in data.glob("index-*") if p.is_dir() and not (p / "PRESSROOM_SCHEMA").exists()]
    assert stray == [], "killed rebuilds left folders behind"


# -- a rebuild with worker processes ([index] procs > 1) -------------------------------------


def process_stat(pid: int) -> tuple[int, str, int] | None:
    """Return (parent pid, state, start time) of a process from /proc, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return int(fields[1]), fields[0], int(fields[19])


def processes_on(data: Path) -> dict[int, int]:
    """Return pid -> start time of the live processes whose command line names `data`
    (the `pressroom index` run and the workers it forked, which share its command line)."""
    found = {}
    needle = str(data).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        stat = process_stat(int(entry.name))
        if needle in argv and stat is not None and stat[1] not in "ZX":
            found[int(entry.name)] = stat[2]
    return found


def holds_file(pid: int, path: Path) -> bool:
    """Tell whether a process has `path` open."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) == str(path):
                return True
        except OSError:
            continue
    return False


def holders(pids: Iterable[int], path: Path, timeout: float = 0.2) -> list[int]:
    """Return the processes that still have `path` open after `timeout` (a child just forked
    has its parent's files open for the moment it takes to close them)."""
    deadline = time.monotonic() + timeout
    while (held := [pid for pid in pids if holds_file(pid, path)]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return held


def wait_for_workers(proc: subprocess.Popen[bytes], data: Path, deadline: float,
                     count: int = 1) -> dict[int, int]:
    """Poll until the run has forked `count` workers (the rebuild is under way) or has ended."""
    while proc.poll() is None and time.monotonic() < deadline:
        workers = {pid: start for pid, start in processes_on(data).items()
                   if (stat := process_stat(pid)) is not None and stat[0] == proc.pid}
        if len(workers) >= count:
            return workers
        time.sleep(0.005)
    return {}


def wait_until_gone(data: Path, timeout: float) -> dict[int, int]:
    """Poll until no process works on `data`; return those still there after `timeout`."""
    deadline = time.monotonic() + timeout
    while (left := processes_on(data)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def test_killed_parallel_rebuilds_leave_no_worker_and_a_free_lock(tmp_path: Path) -> None:
    data = tmp_path / "data"
    releases = [make_release(n) for n in range(3000)]  # a build of a second or two
    store(data, releases)
    rebuild(data, procs=1, catalogue_url=catalogue_url(data))
    lock_file = (data / "index.lock").resolve()
    rng = random.Random(15)
    mid_build = 0
    try:
        for kill in range(PARALLEL_KILLS):
            with (tmp_path / "stderr").open("wb") as err:  # a pipe would wait for orphans
                proc = subprocess.Popen([sys.executable, "-m", "pressroom", "index", "--rebuild",
                                         "--procs", "2", "--data-dir", str(data)], cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=err)
            workers = wait_for_workers(proc, data, time.monotonic() + 120)
            time.sleep(rng.uniform(0, 0.6))  # at the first batch, or later in the build
            held: list[int] = []
            if proc.poll() is None:
                workers.update({pid: start for pid, start in processes_on(data).items()
                                if pid != proc.pid})
                held = holders(workers, lock_file)
                os.kill(proc.pid, signal.SIGKILL)
                mid_build += bool(workers)
            proc.wait()
            assert held == [], f"workers {held} hold {lock_file} (kill {kill})"
            stderr = (tmp_path / "stderr").read_text()
            assert "another index is running" not in stderr, f"kill {kill}: {stderr}"
            left = wait_until_gone(data, timeout=10)
            assert left == {}, f"workers {sorted(left)} outlived their killed rebuild {kill}"
            lock = RunLock(data, "index")
            lock.acquire()          # raises if a surviving worker holds the lock
            lock.release()
            searcher = Searcher(data)  # the previous index still serves, whole
            assert searcher.doc_count() == len(releases), f"after kill {kill}"
            assert searcher.search(SearchRequest(q="migrants")).total > 0
    finally:
        for pid in processes_on(data):  # only the runs this test started name its folder
            os.kill(pid, signal.SIGKILL)
    assert mid_build >= PARALLEL_KILLS // 2, "too few kills landed while workers ran"
    for args in ([], ["--rebuild", "--procs", "2"]):
        result = subprocess.run([sys.executable, "-m", "pressroom", "index", *args, "--data-dir",
                                 str(data)], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    assert processes_on(data) == {}
    searcher = Searcher(data)
    assert searcher.doc_count() == len(releases)
    assert searcher.search(SearchRequest(q="migrants")).total > 0
    stray = [p for p in data.glob("index-*") if p.is_dir() and not (p / "PRESSROOM_SCHEMA").exists()]
    assert stray == [], "killed rebuilds left folders behind"
