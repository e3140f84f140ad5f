"""The rooms (issue 11): data flows archive -> indexer -> webapp, with operations above them.

archive/ imports none of the others; indexer/ reads archive/ but never the web app or the
operations; pressroom/ (scheduler, jobs, backup, status) drives archive/ and indexer/ and
reaches the web app only from its command root, which mounts `serve` and `user`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_search_seam import imported

FORBIDDEN = {
    "archive": {"indexer", "webapp", "pressroom"},
    "indexer": {"webapp", "pressroom"},
    "pressroom": {"webapp"},
}
COMMAND_ROOT = ROOT / "pressroom" / "cli.py"
MODULES = sorted(path for package in FORBIDDEN for path in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_layer_imports_only_the_ones_below(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    forbidden = set() if path == COMMAND_ROOT else FORBIDDEN[package]
    wrong = sorted(m for m in imported(path) if m.split(".")[0] in forbidden)
    assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}: {package}/ sits below them"


def test_no_module_runs_its_own_package_as_a_subprocess() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in MODULES + sorted(ROOT.glob("webapp/*.py"))
                 if '"-m", "' in p.read_text(encoding="utf-8")]
    assert not offenders, f"{offenders} start a pressroom command as a subprocess: call it instead"
