"""Relevance of search on the sample site's queries.jsonl: recall@10 and nDCG@10, by kind.

    .venv/bin/python bench/score_search.py DATA_DIR [QUERIES.jsonl]

DATA_DIR holds a crawled, cleaned and indexed copy of the sample site. A query with `lang`
searches that language only; filters combine with AND, values with OR; from/to are dates.
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SAMPLE = Path(__file__).resolve().parent.parent.parent / "shared" / "sample-site"
FLOORS = {"recall@10": 0.95, "ndcg@10": 0.90}
KIND_FLOOR = 0.8


def request_for(query: dict[str, Any]) -> Any:
    """Turn a queries.jsonl line into a SearchRequest."""
    from indexer.interface import SearchRequest

    filters = {k: list(v) for k, v in query["filters"].items() if k not in ("from", "to")}
    return SearchRequest(q=query["q"], language=query.get("lang"), filters=filters,
                         date_from=query["filters"].get("from"), date_to=query["filters"].get("to"),
                         page_size=10, snippets=False)


def api_params(query: dict[str, Any]) -> list[tuple[str, str]]:
    """Turn a queries.jsonl line into the search API's parameters (its language as the filter).

    >>> api_params({"q": "Libya", "filters": {"country": ["LY"]}, "lang": "en"})
    [('q', 'Libya'), ('size', '10'), ('country', 'LY'), ('language', 'en')]
    """
    params = [("q", query["q"]), ("size", "10")]
    for name, values in query["filters"].items():
        params += [(name, values)] if isinstance(values, str) else [(name, v) for v in values]
    if query.get("lang") and "language" not in query["filters"]:
        params.append(("language", query["lang"]))
    return params


def ndcg(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k.

    >>> ndcg(["a", "x", "b"], {"a", "b"})
    0.9197207891481876
    """
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 1.0


def evaluate(searcher: Any, queries: list[dict[str, Any]], path_to_id: dict[str, str]) -> dict[str, Any]:
    """Run every query; return overall and per-kind recall@10 and nDCG@10, and each query's."""
    per_query = []
    for query in queries:
        page = searcher.search(request_for(query))
        ranked = [path_to_id.get(urlsplit(hit.url).path, hit.url) for hit in page.results]
        relevant = set(query["relevant"])
        # recall@10 out of what 10 results can hold: min(10, relevant)
        recall = len(relevant & set(ranked[:10])) / min(10, len(relevant)) if relevant else 1.0
        per_query.append({"id": query["id"], "kind": query["kind"], "recall@10": recall,
                          "ndcg@10": ndcg(ranked, relevant), "total": page.total,
                          "missing": sorted(relevant - set(ranked[:10]))})
    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in per_query:
        kinds[row["kind"]].append(row)

    def mean(rows: list[dict[str, Any]], key: str) -> float:
        return round(sum(r[key] for r in rows) / len(rows), 4)

    return {"overall": {k: mean(per_query, k) for k in ("recall@10", "ndcg@10")},
            "by_kind": {kind: {k: mean(rows, k) for k in ("recall@10", "ndcg@10")}
                        for kind, rows in sorted(kinds.items())},
            "queries": per_query}


def problems(result: dict[str, Any]) -> list[str]:
    """Return the floors the result misses."""
    found = [f"overall {k} {result['overall'][k]} < {floor}" for k, floor in FLOORS.items()
             if result["overall"][k] < floor]
    for kind, scores in result["by_kind"].items():
        found += [f"{kind} {k} {v} < {KIND_FLOOR}" for k, v in scores.items() if v < KIND_FLOOR]
    return found


def load(path: Path) -> list[dict[str, Any]]:
    """Read a JSON Lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from indexer.interface import open_index

    data_dir = Path(sys.argv[1])
    queries = load(Path(sys.argv[2]) if len(sys.argv) > 2 else SAMPLE / "queries.jsonl")
    path_to_id = {t["path"]: t["id"] for t in load(SAMPLE / "truth.jsonl")}
    result = evaluate(open_index(data_dir), queries, path_to_id)
    print(json.dumps({k: v for k, v in result.items() if k != "queries"}, indent=2))
    for row in result["queries"]:
        if row["recall@10"] < 1 or row["ndcg@10"] < 0.9:
            print(row)
    print("below floors:", problems(result) or "none")


if __name__ == "__main__":
    main()
