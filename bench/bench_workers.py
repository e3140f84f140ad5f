"""Crawl workers: pages per second for 1, 2 and 4 workers over 20 hosts at a fixed per-host delay.

    .venv/bin/python bench/bench_workers.py [--runs 3] [--hosts 20] [--pages 10] [--delay 0.2]
        [--database postgresql://...] [--out bench/results/workers.json]

A threaded server in this process listens on one loopback port per host; every host serves a
home page linking to --pages pages, and answers each request after a fixed --service-ms.
Each run opens a crawl pass of one site per host and starts the workers as `pressroom crawl
--workers N` does (spawned processes); pages/s counts the requests the server saw between its
first and last, so that the workers' start-up is left out (the wall time is reported too).
One worker can do no better than one host at a time: 1 / (delay + service time + own cost)
requests a second; N workers, N hosts at a time, until the CPU is the limit. The single-process
crawl (`pressroom crawl`, no workers) is measured once as the reference.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.capture import leases  # noqa: E402
from archive.capture.runs import crawl_sites  # noqa: E402
from archive.catalogue import Catalogue  # noqa: E402
from archive.layout import DataDir  # noqa: E402
from archive.settings import SiteConfig, load_settings  # noqa: E402
from pressroom.cli_worker import work  # noqa: E402


class Hosts:
    """One server thread per host on 127.0.0.1; a shared log of request times."""

    def __init__(self, count: int, pages: int, service: float) -> None:
        self.times: list[float] = []
        lock = threading.Lock()
        times = self.times

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with lock:
                    times.append(time.time())
                time.sleep(service)
                port = self.server.server_address[1]
                if self.path == "/":
                    links = "".join(f'<a href="/p{n}">page {n}</a> ' for n in range(pages))
                    body = f"<html><body><h1>Host {port}</h1>{links}</body></html>"
                elif self.path.startswith("/p"):
                    body = (f"<html><body><h1>Page {self.path} of {port}</h1><p>"
                            + "Some release text. " * 50 + "</p></body></html>")
                else:
                    body = ""
                data = body.encode()
                head = (f"HTTP/1.1 {200 if body else 404} X\r\nContent-Type: text/html\r\n"
                        f"Content-Length: {len(data)}\r\n\r\n").encode()
                self.wfile.write(head + data)  # one write: no delayed-ACK stall

            def log_message(self, *args: Any) -> None:
                pass

        self.servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler) for _ in range(count)]
        for server in self.servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def sites(self) -> list[SiteConfig]:
        return [SiteConfig(f"h{n}", f"Host {n}", [f"http://127.0.0.1:{s.server_address[1]}/"],
                           [], [], [], ["en"]) for n, s in enumerate(self.servers)]

    def span(self) -> tuple[int, float]:
        """Return the number of requests seen and the seconds from the first to the last."""
        return len(self.times), (max(self.times) - min(self.times)) if self.times else 0.0

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def overrides_for(data_dir: str, delay: float, database: str) -> dict[str, Any]:
    return {"data_dir": data_dir, "crawl.delay": delay, "crawl.keep_alive": False,
            "crawl.nice": 0, "log_level": "WARNING", "archive.database": database}


def run_workers(hosts: Hosts, workers: int, delay: float, database: str) -> dict[str, float]:
    hosts.times.clear()
    with tempfile.TemporaryDirectory() as tmp:
        overrides = overrides_for(tmp, delay, database)
        settings = load_settings(overrides=overrides, environ={})
        catalogue = Catalogue(DataDir.of(settings).catalogue_url)
        _clear(catalogue, database)
        pass_id, _ = leases.start_pass(catalogue.db, hosts.sites(), "bench")
        catalogue.close()
        context = multiprocessing.get_context("spawn")
        started = time.perf_counter()
        procs = [context.Process(target=work, args=(None, overrides, pass_id, 30.0))
                 for _ in range(workers)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        wall = time.perf_counter() - started
        if any(proc.exitcode for proc in procs):
            raise SystemExit(f"a worker failed: {[proc.exitcode for proc in procs]}")
    requests, span = hosts.span()
    return {"workers": workers, "requests": requests, "span_s": round(span, 2),
            "pages_per_s": round(requests / span, 2), "wall_s": round(wall, 2)}


def run_single(hosts: Hosts, delay: float) -> dict[str, float]:
    """The single-process crawl, sites one after the other (no leases, no workers)."""
    hosts.times.clear()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(overrides=overrides_for(tmp, delay, ""), environ={})
        started = time.perf_counter()
        crawl_sites(settings, hosts.sites())
        wall = time.perf_counter() - started
    requests, span = hosts.span()
    return {"workers": 0, "requests": requests, "span_s": round(span, 2),
            "pages_per_s": round(requests / span, 2), "wall_s": round(wall, 2)}


def _clear(catalogue: Catalogue, database: str) -> None:
    """Empty a shared PostgreSQL catalogue between runs (a SQLite one is new each time)."""
    if not database:
        return
    for table in ("host_leases", "crawl_tasks", "crawl_passes", "fetches", "frontier",
                  "urls", "versions", "documents", "runs"):
        catalogue.db.execute(f"DELETE FROM {table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--pages", type=int, default=10, help="pages per host, besides its home")
    parser.add_argument("--delay", type=float, default=0.2, help="per-host delay, seconds")
    parser.add_argument("--service-ms", type=float, default=10.0)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--database", default="", help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    hosts = Hosts(args.hosts, args.pages, args.service_ms / 1000)
    results: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "hosts": args.hosts, "pages_per_host": args.pages, "delay_s": args.delay,
        "service_ms": args.service_ms, "database": "postgresql" if args.database else "sqlite",
        "runs": args.runs}
    try:
        single = run_single(hosts, args.delay)
        results["single_process"] = single
        print(f"single process: {single['pages_per_s']} pages/s ({single['requests']} requests "
              f"in {single['span_s']} s)", flush=True)
        for count in (int(n) for n in args.workers.split(",")):
            runs = [run_workers(hosts, count, args.delay, args.database) for _ in range(args.runs)]
            median = statistics.median(r["pages_per_s"] for r in runs)
            results[f"workers_{count}"] = {"median_pages_per_s": median, "runs": runs}
            print(f"{count} workers: {median} pages/s (median of {args.runs}; runs "
                  f"{[r['pages_per_s'] for r in runs]}, wall {[r['wall_s'] for r in runs]} s)",
                  flush=True)
    finally:
        hosts.close()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
