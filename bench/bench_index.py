"""Index build and query speed: Pressroom's Whoosh index against tantivy and SQLite FTS5.

    .venv/bin/python bench/bench_index.py [--sizes 10000,100000] [--queries 200]
        [--engines whoosh,tantivy,fts5] [--work DIR] [--out bench/results/index.json]

The corpus is bench/corpus.py's generated releases, made once per size and kept as JSON lines
in --work (a temporary folder unless given). Each engine runs per size in a subprocess of its
own, so that one engine's heap, caches or crash do not touch the next. There it builds an index
from the streamed corpus (documents per second, then bytes on disk), runs the query set once
untimed to warm up, then times every query: one results page each, that is the total, the top
10 with snippets and the counts of every facet value over the whole match set. Reported: the
median and 95th percentile in ms per query kind (term, two-word AND, phrase), mean hits, and
Whoosh's ratios to each reference engine: build rate and size as whoosh / reference (a rate
below 1 is slower), latency as whoosh / reference (above 1 is slower).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus import queries, write_jsonl  # noqa: E402
from reference_engines import KINDS, Fts5Engine, Page, TantivyEngine, query_words  # noqa: E402

ENGINES = ("whoosh", "tantivy", "fts5")
EXTRA_ENGINES = ("whoosh-plain",)  # run only when named in --engines
WHOOSH = ("whoosh", "whoosh-plain")
REFERENCES = ("tantivy", "fts5")


class EngineUnavailable(Exception):
    """An engine that cannot run here; the benchmark goes on without it."""


class WhooshEngine:
    """Pressroom's own indexer (Whoosh) behind the reference engines' interface.

    `plain` builds the indexer's baseline (one analyzer without stemming or stop words, like
    the reference engines'), to tell the cost of analysis from that of the engine.
    """

    def __init__(self, procs: int = 2, plain: bool = False) -> None:
        try:
            from indexer.interface import SearchRequest, build_index, open_index
        except ImportError as exc:
            raise EngineUnavailable(
                f"Pressroom's indexer API is not importable ({exc}): the benchmark needs "
                "indexer.interface's build_index, open_index and SearchRequest") from exc
        self.name = "whoosh-plain" if plain else "whoosh"
        self.procs = procs
        self.plain = plain
        self._build, self._open, self._request = build_index, open_index, SearchRequest
        self._searcher: Any = None
        self.indexed = 0

    def build(self, releases: Iterator[dict[str, Any]], path: Path) -> None:
        """Build Pressroom's index from the releases, then open it."""
        options = {"single_analyzer": True} if self.plain else {}
        self.indexed = self._build(releases, path, procs=self.procs, **options)
        self.open(path)

    def open(self, path: Path) -> None:
        """Open the index read-only."""
        self._searcher = self._open(path)

    def page(self, q: str, kind: str, limit: int = 10) -> Page:
        """Answer one results page with Pressroom's searcher (snippets and facets on)."""
        request = self._request(q=whoosh_query(q, kind), language=None, filters={}, page=1,
                                page_size=limit, snippets=True)
        result = self._searcher.search(request)
        facets = {str(name): {str(v["value"]): int(v["count"]) for v in values}
                  for name, values in result.facets.items()}
        return Page(int(result.total), [r.id for r in result.results], facets,
                    [r.snippet or "" for r in result.results])


def whoosh_query(q: str, kind: str) -> str:
    """Write a benchmark query in Pressroom's query syntax.

    >>> whoosh_query("border management", "and"), whoosh_query("border management", "phrase")
    ('border AND management', '"border management"')
    """
    words = query_words(q, kind)
    return f'"{words[0]}"' if kind == "phrase" else " AND ".join(words)


def make_engine(name: str, procs: int) -> WhooshEngine | TantivyEngine | Fts5Engine:
    """Return a new engine by name."""
    if name in WHOOSH:
        return WhooshEngine(procs, plain=name == "whoosh-plain")
    if name == "tantivy":
        return TantivyEngine(threads=procs)
    if name == "fts5":
        return Fts5Engine()
    raise EngineUnavailable(f"unknown engine {name!r} (expected one of {', '.join(ENGINES + EXTRA_ENGINES)})")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Stream releases from a JSON lines file."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def folder_bytes(path: Path) -> int:
    """Return the total size of the files under path."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def p95(values: list[float]) -> float:
    """Return the 95th percentile (nearest rank).

    >>> p95(list(range(1, 101)))
    95
    """
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure(engine_name: str, corpus: Path, index: Path, query_sets: dict[str, list[dict[str, str]]],
            procs: int) -> dict[str, Any]:
    """Build one engine's index from the corpus and time its query sets (runs in the subprocess)."""
    engine = make_engine(engine_name, procs)
    shutil.rmtree(index, ignore_errors=True)
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for release in read_jsonl(corpus):
            count += 1
            yield release

    started = time.perf_counter()
    engine.build(counted(), index)
    build_s = time.perf_counter() - started
    result: dict[str, Any] = {"documents": count, "build_s": round(build_s, 2),
                              "docs_per_s": round(count / build_s, 1), "index_bytes": folder_bytes(index)}
    if isinstance(engine, WhooshEngine) and engine.indexed != count:
        result["documents_indexed"] = engine.indexed
    for kind in KINDS:  # warm-up: every query once, untimed
        for item in query_sets[kind]:
            engine.page(item["q"], kind)
    result["queries"], result["totals"] = {}, {}
    for kind in KINDS:
        latencies, totals = [], []
        for item in query_sets[kind]:
            started = time.perf_counter()
            page = engine.page(item["q"], kind)
            latencies.append((time.perf_counter() - started) * 1000)
            totals.append(page.total)
        result["queries"][kind] = {"median_ms": round(statistics.median(latencies), 3),
                                   "p95_ms": round(p95(latencies), 3),
                                   "mean_hits": round(statistics.mean(totals), 1),
                                   "zero_hits": sum(1 for t in totals if t == 0)}
        result["totals"][kind] = totals
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if children:
        result["peak_child_rss_mb"] = round(children / 1024, 1)
    return result


def run_engine(engine: str, corpus: Path, index: Path, query_file: Path, procs: int) -> dict[str, Any]:
    """Measure one engine in a subprocess; return its figures or {"error": why}."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", engine, "--corpus", str(corpus),
               "--index", str(index), "--query-file", str(query_file), "--procs", str(procs)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return {"error": lines[-1] if lines else f"exit status {done.returncode}"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def compare(size_results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return Whoosh's ratios to each reference engine, and how often their totals agree."""
    ratios: dict[str, dict[str, Any]] = {}
    for name, reference in itertools.product(WHOOSH, REFERENCES):
        whoosh, other = size_results.get(name, {}), size_results.get(reference, {})
        if "error" in whoosh or "error" in other or not whoosh or not other:
            continue
        ratio = {"docs_per_s": whoosh["docs_per_s"] / other["docs_per_s"],
                 "index_bytes": whoosh["index_bytes"] / other["index_bytes"]}
        for kind in KINDS:
            for stat in ("median_ms", "p95_ms"):
                ratio[f"{kind}_{stat}"] = whoosh["queries"][kind][stat] / other["queries"][kind][stat]
        ratio = {key: round(value, 3) for key, value in ratio.items()}
        ratio["same_total"] = {kind: _agreement(whoosh["totals"][kind], other["totals"][kind])
                               for kind in KINDS}
        ratios[f"{name}/{reference}"] = ratio
    if "totals" in size_results.get("tantivy", {}) and "totals" in size_results.get("fts5", {}):
        ratios["tantivy/fts5"] = {"same_total": {
            kind: _agreement(size_results["tantivy"]["totals"][kind], size_results["fts5"]["totals"][kind])
            for kind in KINDS}}
    return ratios


def _agreement(a: list[int], b: list[int]) -> float:
    return round(sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a), 3) if a else 0.0


def table(size: int, engines: dict[str, dict[str, Any]], ratios: dict[str, dict[str, Any]]) -> str:
    """Render one size's figures as a plain-text table."""
    head = f"{'':22}{'build docs/s':>13}{'index MB':>10}" + "".join(f"{k + ' ms med/p95':>22}" for k in KINDS)
    lines = [f"{size:,} releases", head + f"{'mean hits t/a/p':>22}"]
    for name, figures in engines.items():
        if "error" in figures:
            lines.append(f"{name:22}failed: {figures['error']}")
            continue
        cells = "".join(_latency(figures["queries"][k]["median_ms"], figures["queries"][k]["p95_ms"])
                        for k in KINDS)
        hits = "/".join(f"{figures['queries'][k]['mean_hits']:g}" for k in KINDS)
        lines.append(f"{name:22}{figures['docs_per_s']:>13,.0f}{figures['index_bytes'] / 1e6:>10.1f}{cells}"
                     f"{hits:>22}")
    for name, ratio in ratios.items():
        if "docs_per_s" not in ratio:
            continue
        cells = "".join(_latency(ratio[f"{k}_median_ms"], ratio[f"{k}_p95_ms"]) for k in KINDS)
        lines.append(f"{name:22}{ratio['docs_per_s']:>13.3f}{ratio['index_bytes']:>10.2f}{cells}")
    for name, ratio in ratios.items():
        same = ", ".join(f"{k} {v:.0%}" for k, v in ratio["same_total"].items())
        lines.append(f"same total hits, {name}: {same}")
    return "\n".join(lines)


def _latency(median: float, p95: float) -> str:
    return f"{median:>12.2f} /{p95:>8.2f}"


def versions() -> dict[str, str]:
    """Return the versions of what is measured."""
    found = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for package in ("whoosh3", "tantivy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    return found


def benchmark(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run every size and engine; write the JSON after each engine."""
    query_sets = queries(args.queries, seed=args.query_seed)
    query_file = work / f"queries-{args.queries}-seed{args.query_seed}.json"
    query_file.write_text(json.dumps(query_sets, ensure_ascii=False), encoding="utf-8")
    results: dict[str, Any] = {"corpus_seed": args.seed, "query_seed": args.query_seed,
                               "queries_per_kind": args.queries, "procs": args.procs,
                               "versions": versions(), "sizes": {}}
    for size in args.sizes:
        corpus = work / f"corpus-{size}-seed{args.seed}.jsonl"
        if not corpus.exists():
            print(f"generating {size:,} releases into {corpus}", file=sys.stderr, flush=True)
            write_jsonl(corpus, size, args.seed)
        engines: dict[str, dict[str, Any]] = {}
        for engine in args.engines:
            print(f"{engine}: {size:,} releases", file=sys.stderr, flush=True)
            index = work / f"index-{engine}-{size}"
            engines[engine] = run_engine(engine, corpus, index, query_file, args.procs)
            if "error" in engines[engine]:
                print(f"{engine}: failed: {engines[engine]['error']}", file=sys.stderr, flush=True)
        ratios = compare(engines)
        print(table(size, engines, ratios) + "\n", flush=True)
        for figures in engines.values():
            figures.pop("totals", None)
        results["sizes"][str(size)] = {"engines": engines, "ratios": ratios}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="corpus sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=200, help="queries per kind (term, and, phrase)")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="engines to run, comma-separated: whoosh, tantivy, fts5, and whoosh-plain "
                             "(Pressroom's baseline analyzer: no stemming, no stop words)")
    parser.add_argument("--work", type=Path, help="folder for corpora (kept and reused) and indexes; "
                                                  "a temporary folder by default")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "index.json",
                        help="where to write the figures as JSON")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed")
    parser.add_argument("--query-seed", type=int, default=1, help="query set seed")
    parser.add_argument("--procs", type=int, default=2, help="build processes/threads for Whoosh and tantivy")
    for hidden in ("--child", "--corpus", "--index", "--query-file"):  # the subprocess's own arguments
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(args.engines) - set(ENGINES + EXTRA_ENGINES))
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(ENGINES + EXTRA_ENGINES)}")
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        query_sets = json.loads(Path(args.query_file).read_text(encoding="utf-8"))
        try:
            figures = measure(args.child, Path(args.corpus), Path(args.index), query_sets, args.procs)
        except EngineUnavailable as exc:
            raise SystemExit(f"{args.child} unavailable: {exc}") from None
        print(json.dumps(figures))
        return
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        benchmark(args, args.work)
    else:
        with tempfile.TemporaryDirectory(prefix="pressroom-bench-index-") as tmp:
            benchmark(args, Path(tmp))
    print(f"figures written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
