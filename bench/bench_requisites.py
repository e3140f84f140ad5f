"""What page requisites cost: extra requests, bytes and time per release, median of several runs.

    .venv/bin/python bench/bench_requisites.py [--runs 3] [--out bench/results/requisites.json]

Each run crawls ../shared/sample-site into a fresh data directory with `pressroom crawl` (crawl
and cleaning, delay 0, no keep-alive), once with [requisites] enabled and once without. The
difference, divided by the releases cleaned, is what requisites cost per release; requisites
shared by many pages (the site's stylesheet, its logo) are fetched once per run, so the cost
per release falls as a site grows. A later run asks only the new and changed pages' requisites,
each by conditional GET.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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


def crawl_once(url: str, requisites: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PRESSROOM_CRAWL_KEEP_ALIVE": "false",
               "PRESSROOM_REQUISITES_ENABLED": "true" if requisites else "false"}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pressroom", "crawl", url, "--delay", "0", "--data-dir",
                        tmp, "--log-level", "WARNING"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        seconds = time.perf_counter() - started
        db = sqlite3.connect(Path(tmp) / "catalogue.sqlite")
        stats = json.loads(db.execute("SELECT stats FROM runs ORDER BY id LIMIT 1").fetchone()[0])
        releases = db.execute("SELECT COUNT(*) FROM cleaned WHERE is_release = 1").fetchone()[0]
        received = db.execute("SELECT COUNT(*) FROM fetches WHERE http_status IS NOT NULL").fetchone()[0]
        db.close()
        warc = sum(p.stat().st_size for p in (Path(tmp) / "warc").iterdir())
    return {"requests": received, "seconds": seconds, "warc_bytes": warc, "releases": releases,
            "requisite_requests": stats.get("requisite_requests", 0),
            "requisite_bytes": stats.get("requisite_bytes", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration (median)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "requisites.json",
                        help="where to write the figures as JSON")
    args = parser.parse_args()
    if not (SAMPLE / "serve.py").exists():
        raise SystemExit(f"the sample site is absent ({SAMPLE}): nothing to measure")
    proc, url = start_site()
    try:
        on = [crawl_once(url, True) for _ in range(args.runs)]
        off = [crawl_once(url, False) for _ in range(args.runs)]
    finally:
        proc.terminate()
        proc.wait()

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    releases = median(on, "releases")
    extra_requests = median(on, "requests") - median(off, "requests")
    results = {
        "releases": releases,
        "requests_without": median(off, "requests"), "requests_with": median(on, "requests"),
        "extra_requests_per_release": round(extra_requests / releases, 3),
        "requisite_bytes_received_per_release": round(median(on, "requisite_bytes") / releases),
        "extra_warc_bytes_per_release": round(
            (median(on, "warc_bytes") - median(off, "warc_bytes")) / releases),
        "extra_seconds_per_release": round(
            (median(on, "seconds") - median(off, "seconds")) / releases, 4),
        "crawl_seconds_without": round(median(off, "seconds"), 2),
        "crawl_seconds_with": round(median(on, "seconds"), 2),
        "runs": args.runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        print(f"  {key}: {value}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
