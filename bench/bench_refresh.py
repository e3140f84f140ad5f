"""Searches while the archive changes: latency idle, then while a crawl commits and the index refreshes.

    .venv/bin/python bench/bench_refresh.py [--releases 10000] [--rate 40] [--duration 60]
        [--refresh 5] [--work DIR] [--out bench/results/refresh.json]

A data directory is seeded with generated releases (bench/corpus.py) written to the catalogue
as cleaned versions (no WARC bytes behind them: the indexer reads only the catalogue) and
indexed. `pressroom serve` then answers varied searches (bench_serve.py's mix) open-loop at a
fixed rate, twice: idle, and busy. Busy means, for the whole phase: the shared sample site
crawled again and again by `pressroom crawl` (WARC writes and catalogue commits; skipped with
a note when ../shared is absent), and every --refresh seconds a batch of releases changed in
the catalogue and `pressroom index` applying it (a new index commit that every searcher
picks up). Reported: p50/p95/p99, errors, index commits and crawl runs in the busy phase, and
the ratio of busy to idle p95 (the goal is 2 or less, with 0 errors).
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_serve import rss_mb, run_rate, start_server, urls  # noqa: E402
from corpus import generate  # noqa: E402

from archive.catalogue import Catalogue, VersionRow  # noqa: E402
from archive.layout import DataDir  # noqa: E402
from archive.release import Release  # noqa: E402
from archive.warcstore import RecordRef  # noqa: E402

SAMPLE_SITE = ROOT.parent / "shared" / "sample-site"


def seed(data_dir: Path, releases: list[dict[str, Any]], stamp: str = "") -> None:
    """Write releases to the catalogue as cleaned versions (a new version when `stamp` is set)."""
    catalogue = Catalogue(DataDir(data_dir).catalogue)
    try:
        with catalogue.transaction():
            for release in releases:
                if stamp:
                    release = {**release, "body": f"{release['body']} {stamp}",
                               "content_hash": f"{release.get('content_hash', '')}{stamp}"}
                doc = catalogue.document_id(release["url"])
                if doc is None:
                    doc, _ = catalogue.add_version(release["site"], release["url"], release["url"], 200,
                                                   "text/html", release["id"], RecordRef("bench", 0, 1),
                                                   None, 0, "2026-01-01T00:00:00+00:00")
                row = VersionRow(doc, 1, release["url"], release["site"], "", "text/html",
                                 RecordRef("bench", 0, 1))
                catalogue.save_cleaned(row, Release.from_json(release), None)
    finally:
        catalogue.close()


def pressroom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pressroom", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


class Churn:
    """The busy phase's writers: a crawl loop and an index refresh loop, in threads."""

    def __init__(self, data_dir: Path, releases: list[dict[str, Any]], refresh: float) -> None:
        self.data_dir = data_dir
        self.releases = releases
        self.refresh = refresh
        self.stop = threading.Event()
        self.commits = 0
        self.crawls = 0
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._index_loop, daemon=True)]
        self.site: subprocess.Popen[str] | None = None
        if (SAMPLE_SITE / "serve.py").exists():
            self.site = subprocess.Popen([sys.executable, str(SAMPLE_SITE / "serve.py"), "--port", "0"],
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            assert self.site.stdout is not None
            port = next(line.split("=", 1)[1].strip() for line in self.site.stdout
                        if line.startswith("PORT="))
            self.site_url = f"http://127.0.0.1:{port}/"
            self.threads.append(threading.Thread(target=self._crawl_loop, daemon=True))
        else:
            print(f"note: no sample site at {SAMPLE_SITE}: the busy phase has no crawl", file=sys.stderr)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        if self.site is not None:
            self.site.terminate()
            self.site.wait()

    def _index_loop(self) -> None:
        for batch in itertools.count(1):
            if self.stop.wait(self.refresh):
                return
            start = (batch * 50) % len(self.releases)
            seed(self.data_dir, self.releases[start:start + 50], stamp=f"revision{batch}")
            result = pressroom("index", "--data-dir", str(self.data_dir))
            if result.returncode == 0:
                self.commits += 1
            else:
                self.failures.append(result.stderr.strip()[-300:])

    def _crawl_loop(self) -> None:
        while not self.stop.is_set():
            result = pressroom("crawl", self.site_url, "--delay", "0", "--data-dir", str(self.data_dir))
            if result.returncode == 0:
                self.crawls += 1
            else:
                self.failures.append(result.stderr.strip()[-300:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=10_000, help="generated releases to seed")
    parser.add_argument("--rate", type=float, default=40.0, help="searches per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument("--refresh", type=float, default=5.0, help="seconds between index updates")
    parser.add_argument("--work", type=Path, help="working folder (a temporary one by default)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "refresh.json")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="pressroom-refresh-"))
    data = work / "data"
    releases = [dict(r) for r in generate(args.releases)]
    print(f"seeding {len(releases):,} releases into {data}", file=sys.stderr, flush=True)
    data.mkdir(parents=True, exist_ok=True)
    seed(data, releases)
    built = pressroom("index", "--rebuild", "--data-dir", str(data))
    if built.returncode != 0:
        raise SystemExit(built.stderr)
    server, base, _ = start_server(data)   # a data directory: served as it is
    targets = urls(2000)
    try:
        for url in targets[:200]:
            requests.get(base + url, timeout=30)
        idle = run_rate(base, targets, args.rate, args.duration)
        idle["server_rss_mb"] = round(rss_mb(server.pid), 1)
        print("idle", json.dumps(idle), flush=True)
        churn = Churn(data, releases, args.refresh)
        churn.start()
        try:
            busy = run_rate(base, targets, args.rate, args.duration)
        finally:
            churn.finish()
        busy.update(index_commits=churn.commits, crawl_runs=churn.crawls, writer_failures=churn.failures[:3])
        print("busy", json.dumps(busy), flush=True)
    finally:
        server.terminate()
        server.wait()
    summary = {"releases": args.releases, "rate": args.rate, "duration_s": args.duration,
               "refresh_s": args.refresh, "idle": idle, "busy": busy,
               "p95_ratio_busy_to_idle": round(busy["p95_ms"] / max(idle["p95_ms"], 0.1), 2)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: summary[k] for k in ("p95_ratio_busy_to_idle",)}))


if __name__ == "__main__":
    main()
