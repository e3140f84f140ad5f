"""Scoring of the article-extraction benchmark, as its README describes it.

Word tokens (\\w+), 4-token shingles counted as multisets; per page tp/fp/fn normalised to sum
to 1; precision and recall averaged over pages; F1 from the two averages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

TOKEN = re.compile(r"\w+")


def shingles(text: str, size: int = 4) -> Counter[tuple[str, ...]]:
    """Count the runs of `size` consecutive word tokens of a text."""
    tokens = TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + size]) for i in range(max(0, len(tokens) - size + 1)))


def page_scores(predicted: str, expected: str) -> tuple[float, float]:
    """Return (precision, recall) of one page from normalised tp, fp and fn."""
    pred, exp = shingles(predicted), shingles(expected)
    tp = sum((pred & exp).values())
    fp = sum((pred - exp).values())
    fn = sum((exp - pred).values())
    total = tp + fp + fn
    if total == 0:
        return 1.0, 1.0
    tp, fp, fn = tp / total, fp / total, fn / total
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


def score(pairs: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Score (predicted, expected) pairs: mean precision, mean recall and their F1."""
    results = [page_scores(p, e) for p, e in pairs]
    precision = sum(p for p, _ in results) / len(results)
    recall = sum(r for _, r in results) / len(results)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pages": len(results)}
