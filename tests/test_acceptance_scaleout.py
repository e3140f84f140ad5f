"""Acceptance (issue 14): crawl workers on PostgreSQL, one of them killed, its sites taken over.

The sample site (../shared/sample-site) is served on four loopback addresses, 127.0.0.2 to
127.0.0.5, as four sites; `pressroom crawl --workers 3` crawls them into a PostgreSQL
catalogue. One worker is SIGKILLed mid-run; the others take its site over once its lease
lapses. Each server logs every request's arrival time to the microsecond, by Host, so that
the per-host delay can be checked across workers.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.database import Database
from tests.conftest import ROOT, SAMPLE_SITE, _start_server

pytestmark = pytest.mark.acceptance

HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
DELAY = 0.05
LEASE = 5.0  # renewed every third: a loaded machine's worker keeps its lease
# serve.py, logging each request's arrival to a file: "<epoch seconds> <Host> <path>"
TIMED_SERVER = """
import sys, threading, time
sys.path.insert(0, sys.argv.pop(1))
log, lock = open(sys.argv.pop(1), "a", buffering=1), threading.Lock()
import serve
plain = serve.Handler.do_GET
def do_GET(self):
    with lock:
        log.write(f"{time.time():.6f} {self.headers.get('Host')} {self.path}\\n")
    plain(self)
serve.Handler.do_GET = do_GET
serve.Handler.log_message = lambda self, *args: None
serve.main()
"""


def truth_paths() -> list[str]:
    lines = (SAMPLE_SITE / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    return [str(json.loads(line)["path"]) for line in lines if line]


def start_servers(logs: Path) -> list[tuple[subprocess.Popen[str], str]]:
    started = []
    for host in HOSTS:
        argv = [sys.executable, "-c", TIMED_SERVER, str(SAMPLE_SITE), str(logs / f"{host}.log"),
                "--host", host, "--port", "0"]
        proc, port = _start_server(argv)
        started.append((proc, f"{host}:{port}"))
    return started


def write_config(path: Path, netlocs: list[str]) -> None:
    # the events calendar (a fifth of the requests, no release) is left out to save time
    tables = [f'[sites.s{n}]\nname = "Sample {n}"\nstart_urls = ["http://{netloc}/"]\n'
              'sitemaps = []\nallow = []\ndeny = ["/events/calendar"]\nlanguages = ["en"]\n'
              for n, netloc in enumerate(netlocs, 1)]
    path.write_text("\n".join(tables), encoding="utf-8")


def kill_a_worker_mid_run(db: Database, crawl: subprocess.Popen[str], timeout: float = 240
                          ) -> tuple[int, str]:
    """SIGKILL a worker once its run has 30 fetches; return its run id and name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and crawl.poll() is None:
        row = db.execute(
            "SELECT r.id, r.pid, r.worker FROM runs r WHERE r.state = 'running' AND"
            " (SELECT COUNT(*) FROM fetches f WHERE f.run_id = r.id) >= 30 ORDER BY r.id LIMIT 1"
        ).first() if _has_runs(db) else None
        if row is not None:
            os.kill(row.pid, signal.SIGKILL)
            return int(row.id), str(row.worker)
        time.sleep(0.1)
    crawl.kill()
    pytest.fail("no worker's run reached 30 fetches")


def _has_runs(db: Database) -> bool:
    return bool(db.scalar("SELECT to_regclass('runs') IS NOT NULL"))


def arrivals(logs: Path) -> dict[str, list[float]]:
    """Return each Host's request arrival times, in order, from the timed servers' logs."""
    by_host: dict[str, list[float]] = {}
    for log in logs.glob("*.log"):
        for line in log.read_text(encoding="utf-8").splitlines():
            when, host, _path = line.split(" ", 2)
            by_host.setdefault(host, []).append(float(when))
    return by_host


def test_three_workers_one_killed_capture_every_release_once_politely(
        postgres_url: str, tmp_path: Path) -> None:
    if not (SAMPLE_SITE / "serve.py").exists():
        pytest.skip(f"acceptance test needs the sample site at {SAMPLE_SITE}, which is absent")
    logs = tmp_path / "requests"
    logs.mkdir()
    servers = start_servers(logs)
    data, config = tmp_path / "data", tmp_path / "sites.toml"
    netlocs = [netloc for _, netloc in servers]
    write_config(config, netlocs)
    env = {**os.environ, "PRESSROOM_ARCHIVE_DATABASE": postgres_url,
           "PRESSROOM_CRAWL_KEEP_ALIVE": "false", "PRESSROOM_CRAWL_NICE": "0"}
    db = Database(postgres_url)
    try:
        crawl = subprocess.Popen(
            [sys.executable, "-m", "pressroom", "crawl", "--workers", "3", "--lease-seconds",
             str(LEASE), "--delay", str(DELAY), "--config", str(config), "--data-dir", str(data),
             "--log-level", "WARNING"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        killed_run, killed_worker = kill_a_worker_mid_run(db, crawl)
        out, err = crawl.communicate(timeout=600)
        assert crawl.returncode == 0, err[-3000:]
        assert "exited with code -9" in err
        assert re.search(r"taken over [1-9]\d* times", out), out

        # the dead worker's run was resumed by another worker, from its frontier
        resumed = db.execute("SELECT worker, state FROM runs WHERE resumed_from = :id",
                             {"id": killed_run}).one()
        assert resumed.worker != killed_worker and resumed.state == "done"
        assert db.scalar("SELECT state FROM runs WHERE id = :id", {"id": killed_run}) == "resumed"
        assert db.scalar("SELECT state FROM crawl_passes") == "done"
        assert db.scalar("SELECT COUNT(*) FROM crawl_tasks WHERE state = 'done'") == len(HOSTS)

        # every release of every site captured, each exactly once
        documents = {r.url for r in db.execute("SELECT url FROM documents")}
        for netloc in netlocs:
            missing = [p for p in truth_paths() if f"http://{netloc}{p}" not in documents]
            assert not missing, f"{netloc}: {missing[:5]}"
        assert db.scalar("SELECT COUNT(*) FROM versions") == len(documents)
        captured = [r.url for r in db.execute("SELECT url FROM fetches WHERE outcome = 'new'")]
        assert len(captured) == len(set(captured)), "a page was captured twice"

        # each worker wrote WARC files of its own, the killed one included
        names = [p.name for p in (data / "warc").iterdir()]
        workers = {r.worker for r in db.execute("SELECT DISTINCT worker FROM runs")}
        assert len(workers) == 3
        assert all(any(n.startswith(f"pressroom-{w}_") for n in names) for w in workers)

        verify = subprocess.run([sys.executable, "-m", "pressroom", "verify", "--config",
                                 str(config), "--data-dir", str(data)],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "all consistent" in verify.stdout
    finally:
        db.close()
        for proc, _ in servers:
            proc.terminate()
            proc.communicate(timeout=10)

    # never two requests to one host closer than the delay, whichever workers sent them
    by_host = arrivals(logs)
    assert sorted(by_host) == sorted(netlocs)
    for host, times in by_host.items():
        assert len(times) > 200
        closest = min(b - a for a, b in itertools.pairwise(sorted(times)))
        assert closest >= DELAY, f"{host}: two requests {closest:.4f} s apart"
