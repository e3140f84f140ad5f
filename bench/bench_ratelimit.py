"""What a rate-limit take costs: takes per second of webapp.ratelimit.SharedBuckets.

    .venv/bin/python bench/bench_ratelimit.py [--takes 20000] [--database postgresql://...]
                                              [--out bench/results/ratelimit.json]

Every request the web server answers takes a token first, so a take must stay far below a
request's own cost. Measured on a fresh SQLite file (WAL, synchronous=OFF: the default), and on
a PostgreSQL database when --database names one (an UNLOGGED table, one round trip a take),
from one thread and from four threads sharing the process's one connection, over 500 clients.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.database import sqlite_url  # noqa: E402
from webapp.ratelimit import SharedBuckets  # noqa: E402


def takes_per_second(url: str, takes: int, threads: int) -> float:
    """Run `takes` takes spread over `threads` threads; return takes per second."""
    buckets = SharedBuckets(url)
    buckets.take("warm-up", 1.0, 5.0)
    each = takes // threads

    def work(offset: int) -> None:
        for n in range(each):
            buckets.take(f"search|1|5|198.51.{(n + offset) % 500}", 1.0, 5.0)

    workers = [threading.Thread(target=work, args=(i * 97,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    assert not buckets.memory._buckets, "the store failed: the figures would be memory's"
    return each * threads / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=20000, help="takes per measurement")
    parser.add_argument("--database", default="", help="also measure this PostgreSQL database")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="pressroom-bench-") as folder:
        for threads in (1, 4):
            url = sqlite_url(Path(folder) / f"ratelimits-{threads}.db")
            figures[f"sqlite_{threads}_threads"] = takes_per_second(url, args.takes, threads)
    if args.database:
        for threads in (1, 4):
            figures[f"postgresql_{threads}_threads"] = takes_per_second(
                args.database, args.takes // 4, threads)
    for name, value in figures.items():
        print(f"{name}: {value:,.0f} takes/s ({1e6 / value:.1f} us a take)")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({k: round(v) for k, v in figures.items()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
