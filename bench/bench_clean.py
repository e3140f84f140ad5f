"""Cleaning speed and quality: releases cleaned per second on the sample site, median of runs.

    .venv/bin/python bench/bench_clean.py [--runs 5] [--out bench/results/clean.json]

Crawls ../shared/sample-site once, then recleans the whole archive `--runs` times (every
captured page: releases and the pages rejected as not releases). The reference, in the same
process and on the same pages, is trafilatura.extract alone (the generic extractor with no
metadata work): the ratio says what dates, countries, projects, themes and contacts cost.
Also runs the 181-page article-extraction benchmark and reports its F1 and pages per second.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_crawl import SAMPLE, start_site  # noqa: E402
from score_extraction import score  # noqa: E402
from score_releases import load_jsonl  # noqa: E402
from score_releases import score as score_releases  # noqa: E402

from archive.capture.runs import crawl_sites  # noqa: E402
from archive.cleaning.clean import Capture, clean_page  # noqa: E402
from archive.cleaning.releases import clean_versions  # noqa: E402
from archive.cleaning.vocab import load_vocabulary  # noqa: E402
from archive.layout import open_archive  # noqa: E402
from archive.settings import adhoc_site, load_settings  # noqa: E402

BENCHMARK = ROOT.parent / "shared" / "benchmarks" / "article-extraction"


def sample_site(runs: int) -> dict[str, float]:
    proc, url = start_site()
    vocab = load_vocabulary()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(overrides={"data_dir": tmp, "crawl.delay": 0.0,
                                            "crawl.keep_alive": False}, environ={})
        try:
            crawl_sites(settings, [adhoc_site([url])])
        finally:
            proc.terminate()
            proc.wait()
        timings, pages = [], []
        with open_archive(settings) as (catalogue, store):
            for _ in range(runs):
                started = time.perf_counter()
                stats = clean_versions(catalogue, store, settings, vocab, everything=True)
                timings.append(time.perf_counter() - started)
            releases = [r.to_json() for r in catalogue.releases()]
            for row in catalogue.versions_to_clean(everything=True):
                if row.content_type == "text/html":
                    pages.append(store.read_payload(row.ref)[1])
        references = []
        for _ in range(runs):
            started = time.perf_counter()
            for body in pages:
                trafilatura.extract(body.decode("utf-8", "replace"), favor_precision=True)
            references.append(time.perf_counter() - started)
    cleaned = stats.releases + sum(stats.not_releases.values())
    seconds = statistics.median(timings)
    reference = statistics.median(references)
    quality = score_releases(releases, load_jsonl(SAMPLE / "truth.jsonl"))["overall"]
    return {"pages_cleaned": cleaned, "releases": stats.releases,
            "pages_per_s": round(cleaned / seconds, 1),
            "releases_per_s": round(stats.releases / seconds, 1),
            "reference_trafilatura_pages_per_s": round(len(pages) / reference, 1),
            "ratio_to_reference": round((cleaned / seconds) / (len(pages) / reference), 3),
            "quality": quality}


def extraction_benchmark(runs: int) -> dict[str, float]:
    truth = json.loads((BENCHMARK / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {key: gzip.decompress((BENCHMARK / "html" / f"{key}.html.gz").read_bytes()) for key in truth}
    vocab = load_vocabulary()
    timings, bodies = [], {}
    for _ in range(runs):
        started = time.perf_counter()
        for key, html in pages.items():
            release, _ = clean_page(Capture(url=truth[key]["url"], site="bench", body=html,
                                            content_type=None), vocab)
            bodies[key] = release.body
        timings.append(time.perf_counter() - started)
    result = score((bodies[k], truth[k]["articleBody"]) for k in truth)
    return {"pages": len(pages), "precision": round(result["precision"], 4),
            "recall": round(result["recall"], 4), "f1": round(result["f1"], 4),
            "pages_per_s": round(len(pages) / statistics.median(timings), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs (the median is reported)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "clean.json",
                        help="where to write the figures as JSON")
    args = parser.parse_args()
    if not (SAMPLE / "serve.py").exists():
        raise SystemExit(f"the sample site is absent ({SAMPLE}): nothing to measure")
    results = {"sample_site": sample_site(args.runs)}
    if (BENCHMARK / "ground-truth.json").exists():
        results["article_extraction"] = extraction_benchmark(max(1, args.runs // 2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
