"""Acceptance: relevance on the sample site's queries.jsonl, with a plain-index baseline beside it.

Crawl, clean, index, then every query with its filters (a query with `lang` searches that
language only). Floors: recall@10 >= 0.95 and nDCG@10 >= 0.90 overall, no query kind below
0.8. recall@10 counts out of what ten results can hold (min(10, relevant)).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.build import build_from_releases
from indexer.search import Searcher
from tests.catalogue_rows import catalogue_of
from tests.conftest import ROOT, SAMPLE_SITE, crawl_sample_site, run_cli

sys.path.insert(0, str(ROOT / "bench"))
from score_search import evaluate, load, problems

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("search") / "data"
    crawl_sample_site(data)
    index = run_cli("index", "--data-dir", str(data))
    assert index.returncode == 0, index.stderr
    yield data


def _report(name: str, result: dict) -> None:
    print(f"\n{name}: {json.dumps(result['overall'])}")
    for kind, scores in result["by_kind"].items():
        print(f"  {kind:11s} {json.dumps(scores)}")


def test_relevance_meets_the_floors_and_beats_a_plain_index(indexed: Path, tmp_path: Path) -> None:
    queries = load(SAMPLE_SITE / "queries.jsonl")
    path_to_id = {t["path"]: t["id"] for t in load(SAMPLE_SITE / "truth.jsonl")}
    result = evaluate(Searcher(indexed), queries, path_to_id)
    _report("multilingual index", result)

    catalogue = catalogue_of(indexed)
    baseline_dir = tmp_path / "plain"
    build_from_releases(catalogue.releases(), baseline_dir, procs=1, single_analyzer=True)
    baseline = evaluate(Searcher(baseline_dir), queries, path_to_id)
    _report("baseline: one plain analyzer", baseline)

    assert problems(result) == []
    assert result["overall"]["ndcg@10"] >= baseline["overall"]["ndcg@10"]
    assert result["overall"]["recall@10"] >= baseline["overall"]["recall@10"]
