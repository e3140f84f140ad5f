"""The benchmark scoring itself, on cases worked by hand."""

from __future__ import annotations

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from score_extraction import page_scores, score, shingles


def test_shingles_are_four_token_runs_counted_as_a_multiset() -> None:
    assert shingles("a b c d e") == {("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1}
    assert sum(shingles("x x x x x x").values()) == 3


def test_perfect_empty_and_disjoint_pages() -> None:
    text = "one two three four five six"
    assert page_scores(text, text) == (1.0, 1.0)
    assert page_scores("", text) == (0.0, 0.0)
    assert page_scores("alpha beta gamma delta", text) == (0.0, 0.0)


def test_extra_text_lowers_precision_not_recall() -> None:
    expected = "one two three four five six"
    precision, recall = page_scores(expected + " seven eight nine ten", expected)
    assert recall == 1.0 and 0.4 < precision < 0.5   # 3 of 7 shingles correct
    overall = score([(expected, expected), (expected + " seven eight nine ten", expected)])
    assert overall["recall"] == 1.0 and abs(overall["precision"] - (1 + 3 / 7) / 2) < 1e-9
