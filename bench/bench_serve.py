"""Load on `pressroom serve`: varied searches at fixed rates, p95 latency, errors, memory.

    .venv/bin/python bench/bench_serve.py --index DIR [--rates 25,50,100] [--duration 60]

DIR is an index folder (e.g. one that bench/bench_index.py built at 100,000 releases) or a
data directory. The server runs in its own process on 127.0.0.1; this process replays search
pages and API calls (terms, AND, phrases, facet filters, dates, pages) open-loop at each
rate: latency counts from when a request was due, so a slow server cannot hide its queue.
Reports, per rate, the achieved requests per second, p50/p95/p99 latency, errors, and the
server's resident memory; the sustained rate is the highest with p95 <= 100 ms and 0 errors.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from corpus import queries  # noqa: E402

COUNTRIES = ["LY", "NE", "SN", "ML", "NG", "ET", "SO", "AF", "SY", "IQ", "PH", "BD", "GT", "HN"]
THEMES = ["counter-trafficking", "missing-migrants", "return-reintegration", "migration-health",
          "emergency-response", "displacement-tracking"]


def urls(count: int, seed: int = 3) -> list[str]:
    """A varied list of search URLs: page and API, words, facets, dates, sort, pages."""
    rng = random.Random(seed)
    sets = queries(max(50, count // 3), seed)
    pool = [q["q"] for kind in ("term", "and", "phrase") for q in sets[kind]]
    made = []
    for _ in range(count):
        params: list[tuple[str, str]] = []
        if rng.random() < 0.9:
            params.append(("q", rng.choice(pool)))
        if rng.random() < 0.35:
            params.append(("country", rng.choice(COUNTRIES)))
        if rng.random() < 0.25:
            params.append(("theme", rng.choice(THEMES)))
        if rng.random() < 0.15:
            params += [("from", f"{rng.randint(2005, 2020)}-01-01"), ("to", "2026-12-31")]
        if rng.random() < 0.15:
            params.append(("sort", "date"))
        if rng.random() < 0.1:
            params.append(("page", str(rng.randint(2, 5))))
        path = "/api/search" if rng.random() < 0.4 else "/"
        made.append(f"{path}?{urlencode(params)}")
    return made


def start_server(index: Path) -> tuple[subprocess.Popen[str], str, Path]:
    work = Path(tempfile.mkdtemp(prefix="pressroom-serve-"))
    data = work / "data"
    data.mkdir()
    if (index / "index").exists():
        data = index
    else:
        (data / "index").symlink_to(index.resolve())
    port = _free_port()
    log = (work / "server.log").open("w")  # a pipe nobody reads would stall the server
    # the load generator is one client standing for many: lift the per-client limit
    env = {**os.environ, "PRESSROOM_WEB_SEARCH_RATE": "100000", "PRESSROOM_WEB_SEARCH_BURST": "100000"}
    proc = subprocess.Popen([sys.executable, "-m", "pressroom", "serve", "--port", str(port),
                             "--data-dir", str(data), "--log-level", "ERROR"], cwd=ROOT, text=True, env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/api/openapi.json", timeout=1)
            break
        except (requests.ConnectionError, requests.Timeout):  # not listening, or still warming
            time.sleep(0.2)
    return proc, base, work


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn's workers), in MB."""
    return sum(_own_rss_mb(p) for p in _tree(pid))


def worker_rss_mb(pid: int) -> list[float]:
    """Resident memory of each child process (each gunicorn worker), in MB."""
    return [round(_own_rss_mb(p), 1) for p in _tree(pid)[1:]]


def _own_rss_mb(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else 0.0


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            found += _tree(int(child))
    return found


def run_rate(base: str, targets: list[str], rate: float, duration: float) -> dict[str, float]:
    """Send requests open-loop at `rate` per second for `duration` seconds."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    session_local = threading.local()

    statuses: dict[str, int] = {}

    def one(url: str, due: float) -> None:
        nonlocal errors
        session = getattr(session_local, "s", None) or requests.Session()
        session_local.s = session
        try:
            status = str(session.get(base + url, timeout=10).status_code)
        except requests.RequestException as exc:
            status = type(exc).__name__
        ok = status == "200"
        took = (time.perf_counter() - due) * 1000
        with lock:
            latencies.append(took)
            errors += 0 if ok else 1
            statuses[status] = statuses.get(status, 0) + 1

    total = int(rate * duration)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(total):
            due = started + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            pool.submit(one, targets[i % len(targets)], due)
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {"rate": rate, "achieved_rps": round(len(latencies) / elapsed, 1), "requests": len(latencies),
            "errors": errors, "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(latencies), 1), "statuses": statuses}  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="index folder or data directory")
    parser.add_argument("--rates", default="25,50,100", help="request rates to try, comma-separated")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per rate")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "serve.json",
                        help="where to write the figures as JSON")
    args = parser.parse_args()
    targets = urls(2000)
    proc, base, _ = start_server(args.index)
    results = []
    try:
        for url in targets[:200]:  # warm: searcher, facet bitsets, labels, caches
            requests.get(base + url, timeout=30)
        for rate in (float(r) for r in args.rates.split(",")):
            figures = run_rate(base, targets, rate, args.duration)
            figures["server_rss_mb"] = round(rss_mb(proc.pid), 1)
            figures["worker_rss_mb"] = worker_rss_mb(proc.pid)  # type: ignore[assignment]
            results.append(figures)
            print(json.dumps(figures), flush=True)
    finally:
        proc.terminate()
        proc.wait()
    ok = [r for r in results if r["p95_ms"] <= 100 and r["errors"] == 0]
    summary = {"runs": results, "sustained_rps_p95_under_100ms": max((r["achieved_rps"] for r in ok),
                                                                       default=0.0)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({"sustained_rps_p95_under_100ms": summary["sustained_rps_p95_under_100ms"]}))


if __name__ == "__main__":
    main()
