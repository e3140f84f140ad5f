"""Search throughput with 1 and 2 search nodes sharing one PostgreSQL catalogue.

    .venv/bin/python bench/bench_nodes.py [--database postgresql://...] [--releases 0]
        [--clients 8] [--seconds 10] [--repeats 3] [--workers 1] [--out bench/results/nodes.json]

The sample site is crawled into the catalogue (unless it holds releases already; --releases N
adds N generated ones), and each node builds its own index from it in its own data dir, as
`pressroom index --follow` keeps it. Then 1, and 2, `pressroom serve` processes (--workers
each) answer the sample queries (queries.jsonl, cycled) from --clients concurrent clients
spread over the nodes as a load balancer would. Reported: queries/s and p50/p95 latency, the
median of --repeats runs, and errors. Without --database a throwaway cluster is started
(tests/postgres.py, Debian's server binaries).

Every process here (servers, PostgreSQL, the clients) shares this machine's cores: with two
cores, two nodes cannot do much better than one node with two workers. A node adds capacity
when it has a machine of its own.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus import generate  # noqa: E402
from score_search import api_params  # noqa: E402

from archive.catalogue import Catalogue, VersionRow  # noqa: E402
from archive.release import Release  # noqa: E402
from archive.warcstore import RecordRef  # noqa: E402

SAMPLE_SITE = ROOT.parent / "shared" / "sample-site"
UNLIMITED = {"PRESSROOM_WEB_SEARCH_RATE": "100000", "PRESSROOM_WEB_SEARCH_BURST": "100000"}


def pressroom(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pressroom", *args], capture_output=True,
                            text=True, cwd=ROOT, env={**os.environ, **env}, timeout=1800)
    if result.returncode != 0:
        raise SystemExit(f"pressroom {' '.join(args)} failed: {result.stderr[-2000:]}")


def fill(database: str, work: Path, env: dict[str, str], extra: int) -> int:
    """Crawl the sample site into the catalogue if it is empty, add generated releases; count."""
    catalogue = Catalogue(database)
    try:
        if catalogue.release_count() == 0:
            site = subprocess.Popen([sys.executable, str(SAMPLE_SITE / "serve.py"), "--port", "0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            assert site.stdout is not None
            port = next(line.split("=", 1)[1].strip() for line in site.stdout
                        if line.startswith("PORT="))
            try:
                pressroom({**env, "PRESSROOM_CRAWL_KEEP_ALIVE": "false"}, "crawl",
                          f"http://127.0.0.1:{port}/", "--delay", "0", "--data-dir",
                          str(work / "crawler"))
            finally:
                site.terminate()
                site.wait()
        if extra:
            with catalogue.transaction():
                for data in generate(extra, seed=14):
                    release = Release.from_json(dict(data))
                    doc = catalogue.document_id(release.url)
                    if doc is None:
                        doc, _ = catalogue.add_version(release.site, release.url, release.url, 200,
                                                       "text/html", release.id,
                                                       RecordRef("bench", 0, 1), None, 0,
                                                       "2026-01-01T00:00:00+00:00")
                    catalogue.save_cleaned(VersionRow(doc, 1, release.url, release.site, "",
                                                      "text/html", RecordRef("bench", 0, 1)),
                                           release, None)
        return catalogue.release_count()
    finally:
        catalogue.close()


class Server:
    """One search node: `pressroom serve` on a free loopback port."""

    def __init__(self, data_dir: Path, env: dict[str, str], workers: int) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.log = (data_dir.parent / f"{data_dir.name}-serve.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pressroom", "serve", "--port", str(port), "--workers",
             str(workers), "--data-dir", str(data_dir), "--log-level", "ERROR"],
            cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/search?q=migrants", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"pressroom serve on {data_dir} did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def load(servers: list[Server], queries: list[list[tuple[str, str]]], clients: int,
         seconds: float) -> dict[str, Any]:
    """Closed-loop clients for `seconds`: each sends the next query to the next node."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        mine: list[float] = []
        failed = 0
        while time.monotonic() < stop:
            n = next(counter)
            started = time.perf_counter()
            try:
                answer = session.get(f"{servers[n % len(servers)].url}/api/search",
                                     params=queries[n % len(queries)], timeout=30)
                ok = answer.status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                failed += 1
        session.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    began = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    return {"qps": round(len(latencies) / elapsed, 1), "errors": errors[0],
            "p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
            "p95_ms": round(1000 * latencies[int(len(latencies) * 0.95)], 1) if latencies else None}


def measure(nodes: list[Path], env: dict[str, str], workers: int, queries: list[list[tuple[str, str]]],
            clients: int, seconds: float, repeats: int) -> dict[str, Any]:
    """Start the nodes, run the load `repeats` times, return every run and the medians."""
    with ExitStack() as stack:
        servers = []
        for node in nodes:
            server = Server(node, env, workers)
            stack.callback(server.stop)
            servers.append(server)
        load(servers, queries, clients, min(seconds, 3.0))        # warm-up, not counted
        runs = [load(servers, queries, clients, seconds) for _ in range(repeats)]
    return {"nodes": len(nodes), "workers_per_node": workers, "clients": clients, "runs": runs,
            **{key: statistics.median(r[key] for r in runs)
               for key in ("qps", "p50_ms", "p95_ms") if all(r[key] is not None for r in runs)},
            "errors": sum(r["errors"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="PostgreSQL URL of the shared catalogue "
                                           "(default: a throwaway cluster)")
    parser.add_argument("--releases", type=int, default=0, help="Generated releases to add.")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent clients.")
    parser.add_argument("--seconds", type=float, default=10.0, help="Length of each run.")
    parser.add_argument("--repeats", type=int, default=3, help="Runs per setting (median).")
    parser.add_argument("--workers", type=int, default=1, help="Worker processes per node.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "nodes.json")
    args = parser.parse_args()

    with ExitStack() as stack:
        database = args.database
        if database is None:
            from tests.postgres import Cluster, find_bindir

            bindir = find_bindir()
            if bindir is None:
                raise SystemExit("no PostgreSQL server binaries: pass --database or "
                                 "`make postgres`")
            cluster = Cluster(bindir)
            stack.callback(cluster.stop)
            database = cluster.new_database()
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-nodes-")))
        env = {"PRESSROOM_ARCHIVE_DATABASE": database, "PRESSROOM_INDEX_NICE": "0", **UNLIMITED}
        releases = fill(database, work, env, args.releases)
        nodes = [work / "node1", work / "node2"]
        for node in nodes:
            started = time.monotonic()
            pressroom(env, "index", "--data-dir", str(node))
            print(f"{node.name}: own index of {releases} releases built in "
                  f"{time.monotonic() - started:.1f} s", file=sys.stderr)
        queries = [api_params(json.loads(line)) for line in
                   (SAMPLE_SITE / "queries.jsonl").read_text(encoding="utf-8").splitlines() if line]
        results = []
        load_before = os.getloadavg()[0]
        for count, workers in ((1, args.workers), (2, args.workers), (1, 2 * args.workers)):
            result = measure(nodes[:count], env, workers, queries, args.clients, args.seconds,
                             args.repeats)
            results.append(result)
            print(f"{count} node(s) x {workers} worker(s): {result.get('qps')} queries/s, "
                  f"p50 {result.get('p50_ms')} ms, p95 {result.get('p95_ms')} ms, "
                  f"{result['errors']} errors", file=sys.stderr)
    # other work on the machine skews every figure: the load average says how much there was
    report = {"releases": releases, "queries": len(queries), "cores": os.cpu_count(),
              "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
              "seconds": args.seconds, "repeats": args.repeats, "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
