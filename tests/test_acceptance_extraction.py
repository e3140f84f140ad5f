"""Acceptance: the generic cleaner on 181 news pages of many sites (article-extraction benchmark).

`pressroom extract` runs over every page; its body field is scored as the benchmark's README
describes. The floor is the best published open-source result (trafilatura 2.0.0, F1 0.958).
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import ROOT, SHARED, run_cli

sys.path.insert(0, str(ROOT / "bench"))
from score_extraction import score

BENCHMARK = SHARED / "benchmarks" / "article-extraction"
pytestmark = pytest.mark.acceptance


def test_generic_extraction_scores_at_least_the_best_open_source_result() -> None:
    if not (BENCHMARK / "ground-truth.json").exists():
        pytest.skip(f"the extraction benchmark is absent ({BENCHMARK})")
    truth = json.loads((BENCHMARK / "ground-truth.json").read_text(encoding="utf-8"))
    pages = sorted((BENCHMARK / "html").glob("*.html.gz"))
    assert len(pages) == len(truth) == 181
    result = run_cli("extract", *map(str, pages))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["source"] for line in lines] == list(map(str, pages)), "output out of input order"
    pairs = [(line.get("body", ""), truth[line["source"].rsplit("/", 1)[1].split(".")[0]]["articleBody"])
             for line in lines]
    scores = score(pairs)
    print(f"\narticle-extraction: precision {scores['precision']:.4f} recall {scores['recall']:.4f} "
          f"F1 {scores['f1']:.4f} over {scores['pages']} pages")
    assert scores["f1"] >= 0.958
