"""Crawl speed on the sample newsroom: pages per second with delay 0, median of several runs.

    .venv/bin/python bench/bench_crawl.py [--runs 5] [--out bench/results/crawl.json]

Each run crawls ../shared/sample-site into a fresh data directory (a first crawl), then crawls
it again (an incremental crawl, mostly 304s). The reference, measured in the same process on
the same URLs, is a bare `requests` loop that fetches each URL once and keeps nothing: the
ratio says what politeness bookkeeping, WARC writing (fsynced) and the catalogue cost.
Keep-alive is measured off and on: the replica's standard-library server stalls ~40 ms per
request on a kept-alive connection (delayed ACK), which real servers do not.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.capture.runs import crawl_sites  # noqa: E402
from archive.layout import DataDir  # noqa: E402
from archive.settings import adhoc_site, load_settings  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "sample-site"


def start_site() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, str(SAMPLE / "serve.py"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.match(r"PORT=(\d+)", line)
        if match:
            return proc, f"http://127.0.0.1:{match.group(1)}/"
    raise SystemExit("sample site did not start")


def crawl_once(url: str, keep_alive: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(overrides={"data_dir": tmp, "crawl.delay": 0.0,
                                            "crawl.keep_alive": keep_alive}, environ={})
        site = adhoc_site([url])
        started = time.perf_counter()
        first = crawl_sites(settings, [site])[0].stats
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        second = crawl_sites(settings, [site])[0].stats
        second_s = time.perf_counter() - started
        warc_bytes = sum(p.stat().st_size for p in DataDir(Path(tmp)).warc.iterdir())
        urls = [r[0] for r in sqlite3.connect(DataDir(Path(tmp)).catalogue).execute(
            "SELECT url FROM fetches WHERE run_id = 1 ORDER BY id")]
    return {"first_pages": first.fetched, "first_s": first_s, "second_pages": second.fetched,
            "second_s": second_s, "warc_bytes": warc_bytes, "urls": urls}  # type: ignore[dict-item]


def reference(urls: list[str], keep_alive: bool) -> float:
    session = requests.Session()
    session.trust_env = False
    headers = {"Connection": "keep-alive" if keep_alive else "close"}
    started = time.perf_counter()
    for url in urls:
        try:
            session.get(url, headers=headers, allow_redirects=False, timeout=10).content  # noqa: B018
        except requests.ConnectionError:  # the server closed an idle kept-alive connection
            session.get(url, headers=headers, allow_redirects=False, timeout=10).content  # noqa: B018
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per configuration (median)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "crawl.json",
                        help="where to write the figures as JSON")
    args = parser.parse_args()
    if not (SAMPLE / "serve.py").exists():
        raise SystemExit(f"the sample site is absent ({SAMPLE}): nothing to measure")
    proc, url = start_site()
    results: dict[str, dict[str, float]] = {}
    try:
        for keep_alive in (False, True):
            runs = [crawl_once(url, keep_alive) for _ in range(args.runs)]
            urls = list(runs[0]["urls"])  # type: ignore[call-overload]
            refs = [reference(urls, keep_alive) for _ in range(args.runs)]
            first = statistics.median(r["first_pages"] / r["first_s"] for r in runs)
            second = statistics.median(r["second_pages"] / r["second_s"] for r in runs)
            ref = statistics.median(len(urls) / s for s in refs)
            results["keep-alive" if keep_alive else "no keep-alive"] = {
                "first_crawl_pages_per_s": round(first, 1),
                "incremental_crawl_pages_per_s": round(second, 1),
                "reference_requests_loop_pages_per_s": round(ref, 1),
                "first_crawl_ratio_to_reference": round(first / ref, 3),
                "pages_per_crawl": runs[0]["first_pages"],
                "warc_bytes_per_crawl_pair": runs[0]["warc_bytes"],
                "runs": args.runs,
            }
    finally:
        proc.terminate()
        proc.wait()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for name, figures in results.items():
        print(f"{name}:")
        for key, value in figures.items():
            print(f"  {key}: {value}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
