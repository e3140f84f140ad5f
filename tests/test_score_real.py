"""The real-pages scorer: its counting on a hand-made example, and a run on three real pages."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from score_real import DEFAULT_TRUTH, Prediction, judge, load_truth, main, summarise, table


def _example() -> list[tuple[dict[str, Any], Prediction]]:
    return [
        # right title after whitespace, right day of a date-time, right language
        ({"file": "a", "title": "A  title\n", "date": "2020-01-02", "language": "en"},
         Prediction(title="A title", date="2020-01-02", language="en", hd_ext="2020-01-02",
                    hd_def="2019-12-31", traf_title="A title | Site")),
        # everything wrong, and rejected
        ({"file": "b", "title": "Other", "date": "2020-01-03", "language": "en"},
         Prediction(title="Menu", date=None, language="FR", rejected="listing",
                    hd_ext="2020-01-03", hd_def=None, traf_title="Other")),
        # no title or language truth; the source says it has no date, and a date was given
        ({"file": "c", "title": None, "date": None, "no_date": True, "language": None},
         Prediction(title="Whatever", date="2021-05-05", language="es", hd_ext=None)),
        # the cleaner crashed: wrong on every field it has truth for, counted as rejected
        ({"file": "d", "title": "T", "date": None, "language": "fr"},
         Prediction(error="ValueError: boom", traf_title="T")),
    ]


def test_counts_on_a_hand_made_example() -> None:
    judged = [(row.get("language") or "??", judge(row, pred)) for row, pred in _example()]
    counts = summarise(judged)
    assert counts["all"] == {
        "title": [1, 3], "traf_title": [2, 3], "date": [1, 2], "hd_ext": [2, 2], "hd_def": [0, 2],
        "no_date": [0, 1], "hd_ext_no_date": [1, 1], "language": [1, 3], "rejected": [2, 4],
    }
    assert counts["en"]["title"] == [1, 2] and counts["en"]["rejected"] == [1, 2]
    assert counts["fr"]["language"] == [0, 1] and counts["fr"]["rejected"] == [1, 1]
    assert counts["??"]["title"] == [0, 0] and counts["??"]["no_date"] == [0, 1]
    rendered = table(counts, "language")
    assert "1/3  33%" in rendered and rendered.splitlines()[-1].startswith("all")


def test_title_and_date_need_an_exact_match() -> None:
    row = {"file": "x", "title": "Title", "date": "2020-01-02", "language": "en"}
    verdicts = judge(row, Prediction(title="Title - Site", date="2020-01-01", language="en"))
    assert verdicts["title"] is False and verdicts["date"] is False and verdicts["language"] is True
    assert verdicts["no_date"] is None


def test_run_on_three_real_pages(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--limit", "3", "--json"])
    result = json.loads(capsys.readouterr().out)
    rows = load_truth(DEFAULT_TRUTH)[:3]
    assert result["pages"] == 3 and len(result["details"]) == 3
    overall = result["by_language"]["all"]
    # every page is judged on exactly the fields its truth gives
    assert overall["title"][1] == sum(1 for r in rows if r["title"])
    assert overall["date"][1] == overall["hd_ext"][1] == sum(1 for r in rows if r["date"])
    assert overall["language"][1] == sum(1 for r in rows if r["language"])
    assert overall["rejected"][1] == 3
    assert all(0 <= hits <= n for hits, n in overall.values())
    assert all(d["predicted"]["error"] is None for d in result["details"])
