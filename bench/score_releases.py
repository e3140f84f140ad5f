"""Score cleaned releases against the sample site's truth.jsonl, per field and per template.

    .venv/bin/python bench/score_releases.py RELEASES.jsonl [TRUTH.jsonl]

RELEASES.jsonl is what `pressroom export --format jsonl` writes. Releases are matched to truth
by URL path. Fields: title, published date and language exact; countries and themes F1 (micro,
over all releases); project exact (acronym, or none); contact emails found; first and last
sentence present in the body; boilerplate probe absent from it.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_TRUTH = Path(__file__).resolve().parent.parent.parent / "shared" / "sample-site" / "truth.jsonl"
FLOORS = {"title": 1.0, "published": 1.0, "language": 1.0, "countries_f1": 0.95,
          "project": 0.95, "themes_f1": 0.85, "emails": 1.0, "first_sentence": 1.0,
          "last_sentence": 1.0, "probe_absent": 1.0}


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON Lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _f1(tp: int, fp: int, fn: int) -> float:
    if tp == 0:
        return 1.0 if fp == fn == 0 else 0.0
    return 2 * tp / (2 * tp + fp + fn)


def score(releases: list[dict[str, Any]], truth: list[dict[str, Any]]) -> dict[str, Any]:
    """Return {"overall": {metric: value}, "by_template": {...}, "missing": [...], "errors": [...]}."""
    by_path = {urlsplit(r["url"]).path: r for r in releases}
    groups: dict[str, list[tuple[dict[str, Any], dict[str, Any] | None]]] = defaultdict(list)
    for expected in truth:
        pair = (expected, by_path.get(expected["path"]))
        groups["overall"].append(pair)
        groups[expected["template"]].append(pair)
    results = {name: _score_group(pairs) for name, pairs in groups.items()}
    errors = _errors(groups["overall"])
    return {"overall": results.pop("overall"), "by_template": results,
            "missing": [e["id"] for e, r in groups["overall"] if r is None], "errors": errors}


def _score_group(pairs: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> dict[str, float]:
    n = len(pairs)
    counts: dict[str, float] = defaultdict(float)
    tallies = {"countries": [0, 0, 0], "themes": [0, 0, 0]}
    for expected, got in pairs:
        got = got or {}
        body = got.get("body") or ""
        counts["title"] += got.get("title") == expected["title"]
        counts["published"] += got.get("published") == expected["date"]
        counts["language"] += got.get("language") == expected["lang"]
        acronyms = {p.get("acronym") for p in got.get("projects") or []}
        counts["project"] += acronyms == ({expected["project"]} if expected["project"] else set())
        emails = {c.get("email") for c in got.get("contacts") or [] if c.get("email")}
        counts["emails"] += set(expected["contact_emails"]) <= emails
        counts["first_sentence"] += expected["first_sentence"] in body
        counts["last_sentence"] += expected["last_sentence"] in body
        counts["probe_absent"] += bool(got) and expected["boilerplate_probe"] not in body
        for field, key in (("countries", "countries"), ("themes", "themes")):
            want, have = set(expected[key]), set(got.get(field) or [])
            tally = tallies[field]
            tally[0] += len(want & have)
            tally[1] += len(have - want)
            tally[2] += len(want - have)
    result = {k: round(v / n, 4) for k, v in counts.items()}
    result["countries_f1"] = round(_f1(*tallies["countries"]), 4)
    result["themes_f1"] = round(_f1(*tallies["themes"]), 4)
    result["releases"] = n
    return result


def _errors(pairs: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> list[str]:
    errors = []
    for expected, got in pairs:
        if got is None:
            continue
        for field, key in (("countries", "countries"), ("themes", "themes")):
            if set(expected[key]) != set(got.get(field) or []):
                errors.append(f"{expected['id']} {field}: want {sorted(expected[key])} got {got.get(field)}")
        acronyms = sorted(p.get("acronym") for p in got.get("projects") or [])
        if acronyms != ([expected["project"]] if expected["project"] else []):
            errors.append(f"{expected['id']} project: want {expected['project']} got {acronyms}")
        for field, key in (("title", "title"), ("published", "date"), ("language", "lang")):
            if got.get(field) != expected[key]:
                errors.append(f"{expected['id']} {field}: want {expected[key]!r} got {got.get(field)!r}")
    return errors


def below_floors(overall: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Return the metrics under their floor: {metric: (value, floor)}."""
    return {k: (overall[k], floor) for k, floor in FLOORS.items() if overall[k] < floor}


def main() -> None:
    releases = load_jsonl(Path(sys.argv[1]))
    truth = load_jsonl(Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_TRUTH)
    result = score(releases, truth)
    print(json.dumps({k: v for k, v in result.items() if k != "errors"}, indent=2))
    for line in result["errors"]:
        print(line)
    print("below floors:", below_floors(result["overall"]) or "none")


if __name__ == "__main__":
    main()
