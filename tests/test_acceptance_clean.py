"""Acceptance: crawl the sample newsroom, export its releases, score them against truth.jsonl.

The floors are the ones the cleaning issue sets; CI fails when extraction gets worse. The same
archive is then recleaned with no page rules at all, and must still meet the floors: a page in
a template nobody wrote a rule for must come out right.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.cleaning.releases import clean_versions
from archive.cleaning.vocab import load_vocabulary
from archive.layout import open_archive
from tests.catalogue_rows import archive_settings
from tests.conftest import ROOT, SAMPLE_SITE, crawl_sample_site, run_cli

sys.path.insert(0, str(ROOT / "bench"))
from score_releases import below_floors, load_jsonl, score

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("clean") / "data"
    crawl_sample_site(data)
    yield data


def report(name: str, result: dict[str, object]) -> None:
    """Print the scores, so that `pytest -s` and CI logs show them."""
    print(f"\n{name}: overall {json.dumps(result['overall'])}")
    for template, scores in result["by_template"].items():  # type: ignore[attr-defined]
        print(f"  {template}: {json.dumps(scores)}")
    for line in result["errors"]:  # type: ignore[attr-defined]
        print(f"  {line}")


def test_exported_releases_meet_the_floors(archive_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "releases.jsonl"
    result = run_cli("export", "--format", "jsonl", "--output", str(out), "--data-dir", str(archive_dir))
    assert result.returncode == 0, result.stderr
    releases = load_jsonl(out)
    truth = load_jsonl(SAMPLE_SITE / "truth.jsonl")
    scored = score(releases, truth)
    report("with page rules", scored)
    assert scored["missing"] == []
    assert len(releases) == len(truth), "a page that is not a release was exported as one"
    assert below_floors(scored["overall"]) == {}


def test_the_generic_path_alone_meets_the_floors(archive_dir: Path) -> None:
    settings = archive_settings(archive_dir)
    vocab = load_vocabulary()
    vocab.rules = []
    with open_archive(settings) as (catalogue, store):
        stats = clean_versions(catalogue, store, settings, vocab, everything=True)
        releases = [r.to_json() for r in catalogue.releases()]
    assert stats.errors == 0
    scored = score(releases, load_jsonl(SAMPLE_SITE / "truth.jsonl"))
    report("generic path, no page rules", scored)
    assert below_floors(scored["overall"]) == {}
    assert len(releases) == 60


def test_export_csv_has_a_row_per_release(archive_dir: Path, tmp_path: Path) -> None:
    import csv

    out = tmp_path / "releases.csv"
    result = run_cli("export", "--format", "csv", "-o", str(out), "--data-dir", str(archive_dir))
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8-sig") as f:       # the BOM that tells Excel it is UTF-8
        rows = list(csv.DictReader(f))
    assert len(rows) == 60
    assert {"id", "title", "published", "countries", "body"} <= set(rows[0])
    assert all(row["title"] and row["body"] for row in rows)


def test_projects_command_lists_what_was_found(archive_dir: Path) -> None:
    result = run_cli("projects", "--json", "--data-dir", str(archive_dir))
    assert result.returncode == 0, result.stderr
    found = {row["acronym"]: row["releases"] for row in json.loads(result.stdout)}
    truth = load_jsonl(SAMPLE_SITE / "truth.jsonl")
    for acronym in {t["project"] for t in truth if t["project"]}:
        assert found.get(acronym) == sum(1 for t in truth if t["project"] == acronym)
