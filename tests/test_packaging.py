"""The wheel built from the repository works on its own: shipped defaults, the demo pipeline.

The wheel is built offline from a copy of the files the build reads (so a stale build/ in the
checkout cannot leak into it), installed into a fresh venv without pip, and run from a folder
outside the repository. The fresh venv borrows the dependencies from the running venv through
a .pth line instead of downloading them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.catalogue_rows import DATABASE_VARIABLE, pass_database
from tests.conftest import ROOT, _start_server

pytestmark = pytest.mark.slow

DEMO = ROOT / "demo"


@dataclass
class Installed:
    wheel: Path
    venv: Path
    workdir: Path

    @property
    def site_packages(self) -> Path:
        return next((self.venv / "lib").glob("python3*/site-packages"))

    def run(self, *args: str, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the installed `pressroom` from the work folder, with no PRESSROOM_* from outside."""
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("PRESSROOM_", "PYTHON", "VIRTUAL_ENV"))}
        return subprocess.run([str(self.venv / "bin" / "pressroom"), *args], cwd=self.workdir,
                              env={**clean, **(env or {})}, capture_output=True, text=True,
                              timeout=timeout)


def _build_inputs() -> list[str]:
    """Name the top-level files and folders the build reads, from pyproject.toml itself."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    tool = project["tool"]["setuptools"]
    names = {"pyproject.toml", project["project"]["readme"]}
    names |= {package.split(".")[0] for package in tool["packages"]}
    names |= {folder.split("/")[0] for folder in tool.get("package-dir", {}).values()}
    return sorted(names)


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"
    for name in _build_inputs():
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    dist = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--no-index", "-w", str(dist), str(source)])
    wheel = next(dist.glob("pressroom-*.whl"))
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    target = next((venv / "lib").glob("python3*/site-packages"))
    (target / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
          "--quiet", "--no-deps", "--no-index", str(wheel)])
    workdir = base / "elsewhere"
    workdir.mkdir()
    return Installed(wheel, venv, workdir)


def test_the_wheel_carries_every_file_of_config(installed: Installed) -> None:
    shipped = set(zipfile.ZipFile(installed.wheel).namelist())
    expected = {f"archive/defaults/{p.relative_to(ROOT / 'config').as_posix()}"
                for p in (ROOT / "config").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert expected - shipped == set()
    assert {"archive/defaults/pressroom.toml", "archive/defaults/crontab",
            "archive/defaults/systemd/pressroom-crawl.timer"} <= shipped


def test_settings_come_from_the_packaged_defaults(installed: Installed) -> None:
    result = installed.run("settings")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    packaged = installed.site_packages / "archive" / "defaults" / "pressroom.toml"
    assert shown["sources"]["crawl.delay"] == str(packaged)
    assert packaged.read_bytes() == (ROOT / "config" / "pressroom.toml").read_bytes()
    assert shown["data_dir"] == "data"  # relative: taken from the working directory


@pytest.fixture
def demo_site() -> Iterator[int]:
    proc, port = _start_server([sys.executable, str(DEMO / "serve.py"), "--port", "0"])
    try:
        yield port
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_the_demo_runs_from_the_wheel(installed: Installed, demo_site: int,
                                      tmp_path: Path) -> None:
    config = tmp_path / "pressroom-demo.toml"
    text = (DEMO / "pressroom-demo.toml").read_text(encoding="utf-8")
    config.write_text(text.replace("8471", str(demo_site)), encoding="utf-8")
    database = pass_database()  # the PostgreSQL pass: the demo's catalogue there
    env = {"PRESSROOM_CONFIG": str(config), **({DATABASE_VARIABLE: database} if database else {})}
    run = installed.run
    crawled = run("crawl", "--log-level", "WARNING", env=env)
    assert crawled.returncode == 0, crawled.stderr
    assert "complete" in crawled.stdout
    # every page of demo/content is a release; its home and listing pages are not
    releases = len(list(DEMO.glob("content/*.json")))
    assert f"cleaned: {releases} releases" in crawled.stdout, crawled.stdout
    indexed = run("index", env=env)
    assert indexed.returncode == 0, indexed.stderr
    found = run("search", "Libya", "--limit", "3", "--json", env=env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["total"] >= 1
    french = run("search", "diaspora", "--language", "fr", "--json", env=env)
    assert french.returncode == 0, french.stderr
    assert {r["language"] for r in json.loads(french.stdout)["results"]} == {"fr"}
    assert (installed.workdir / ".demo-data" / "catalogue.sqlite").exists() == (not database)
