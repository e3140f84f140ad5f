"""Shared fixtures: settings on a temporary data dir, local servers, a loopback-only tripwire."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from click.testing import CliRunner

from archive.settings import Settings, load_settings
from pressroom.cli import cli

if TYPE_CHECKING:
    from tests.postgres import Cluster

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLE_SITE = SHARED / "sample-site"

# run by the pywb venv's Python as a subprocess; pywb is not importable here
collect_ignore = ["pywb_replay.py"]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail any connection a test tries to open to an address outside 127.0.0.0/8 or ::1.

    A guard that stopped working would otherwise send traffic to a private or public address.
    """
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(address[0])
            if not ip.is_loopback:
                attempts.append(address)
                raise AssertionError(f"test tried to connect to {address[0]}: not loopback")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


TEST_DATABASE_VARIABLE = "PRESSROOM_TEST_DATABASE"
TEST_DATABASES = ("sqlite", "postgresql")
# The variable's value, taken out of the environment when the run starts (pytest_configure)
_chosen_database: dict[str, str] = {}


def test_database() -> str | None:
    """Return "postgresql" when this run puts the tests' catalogues on PostgreSQL, else None.

    Chosen by PRESSROOM_TEST_DATABASE: "sqlite" (the default) or "postgresql" (`make test`'s
    second pass). Any other value stops the run rather than quietly testing SQLite again.
    """
    raw = os.environ.get(TEST_DATABASE_VARIABLE) or _chosen_database.get(TEST_DATABASE_VARIABLE, "")
    value = raw.strip().lower() or "sqlite"
    if value not in TEST_DATABASES:
        raise pytest.UsageError(f"{TEST_DATABASE_VARIABLE}={value!r}: use one of "
                                f"{', '.join(TEST_DATABASES)}")
    return None if value == "sqlite" else value


test_database.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test to collect


def pytest_configure(config: pytest.Config) -> None:
    """Check PRESSROOM_TEST_DATABASE and take it out of the environment.

    Every PRESSROOM_* variable is a setting to Pressroom, which stops at one it does not know:
    left in place, it would fail every command the tests run, in process or as a subprocess.
    """
    _chosen_database[TEST_DATABASE_VARIABLE] = os.environ.pop(TEST_DATABASE_VARIABLE, "")
    test_database()


def in_ci() -> bool:
    """Return True under a CI service (CI set, as GitHub Actions and GitLab set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for the session (tests/postgres.py), started on first use.

    Skipped with a message when Debian's server binaries are absent, except under CI or in the
    PostgreSQL pass, where their absence is an error.
    """
    from tests.postgres import Cluster, find_bindir

    bindir = find_bindir()
    if bindir is None:
        message = ("PostgreSQL's server binaries (initdb, postgres) are absent: `make postgres` "
                   "installs Debian's postgresql")
        if in_ci() or test_database() == "postgresql":
            pytest.fail(message + " (required under CI and in the PostgreSQL pass)", pytrace=False)
        pytest.skip(message)
    cluster = Cluster(bindir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh empty database on the session's cluster, dropped after."""
    from tests.postgres import database_name

    url = postgres_cluster.new_database()
    yield url
    postgres_cluster.drop_database(database_name(url))


@pytest.fixture(scope="module")
def module_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The database of an archive a test module builds once for all its tests: in the PostgreSQL
    pass a fresh database on the session's cluster, named to every command by
    PRESSROOM_ARCHIVE_DATABASE while the module runs; "" (SQLite files) in the SQLite pass.

    A module-scoped fixture that builds an archive asks for it; the tests that use the archive
    and the commands they run then use this database rather than one of their own.
    """
    if test_database() != "postgresql":
        yield ""
        return
    from tests.postgres import database_name

    cluster = request.getfixturevalue("postgres_cluster")
    url = cluster.new_database()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRESSROOM_ARCHIVE_DATABASE", url)
        yield url
    cluster.drop_database(database_name(url))


def fresh_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """Yield the [archive] database of one more, separate archive: a fresh database in the
    PostgreSQL pass (dropped after), "" (SQLite files in its own data directory) in the SQLite
    pass. For fixtures of any scope: `yield from fresh_database(request)`."""
    if test_database() != "postgresql":
        yield ""
        return
    from tests.postgres import database_name

    cluster = request.getfixturevalue("postgres_cluster")
    url = cluster.new_database()
    yield url
    cluster.drop_database(database_name(url))


@pytest.fixture
def second_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The [archive] database of a second, separate archive in one test (fresh_database)."""
    yield from fresh_database(request)


def _test_database_url(request: pytest.FixtureRequest) -> str:
    """The PostgreSQL database of a test: its module's archive's when it uses one, else its own."""
    if "module_database" in request.fixturenames:
        return str(request.getfixturevalue("module_database"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(autouse=True)
def database_for_commands(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In the PostgreSQL pass, every command a test runs (in this process or a child) uses the
    test's fresh database, through PRESSROOM_ARCHIVE_DATABASE: the same one make_settings gives,
    or its module's when the test uses an archive built for the whole module (module_database).

    A test that needs two separate archives names the second database itself.
    """
    if test_database() == "postgresql" and "no_database" not in request.keywords:
        monkeypatch.setenv("PRESSROOM_ARCHIVE_DATABASE", _test_database_url(request))


@pytest.fixture
def make_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Settings]:
    """Build settings on a temporary data dir, with dotted-key overrides.

    In the PostgreSQL pass the catalogue goes to a fresh database (one per test, however many
    settings it builds), unless the test names its own `archive__database`.
    """

    def build(config: Path | None = None, **overrides: Any) -> Settings:
        values = {"data_dir": str(tmp_path / "data"), **{k.replace("__", "."): v
                                                          for k, v in overrides.items()}}
        if test_database() == "postgresql" and "archive.database" not in values:
            values["archive.database"] = request.getfixturevalue("postgres_url")
        return load_settings(config, values, environ={})

    return build


def _start_server(argv: list[str], cwd: Path | None = None) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd)
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.match(r"PORT=(\d+)", line)
        if match:
            return proc, int(match.group(1))
    proc.kill()
    raise RuntimeError(f"server {argv} did not start: {proc.stderr.read() if proc.stderr else ''}")


class SampleSite:
    """A running copy of ../shared/sample-site/serve.py; `requests()` reads its request log."""

    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"

    def stop(self) -> str:
        """Stop the server and return its request log."""
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def request_paths(log: str) -> list[str]:
    """Return the paths of the GET requests in a serve.py log."""
    return re.findall(r'"GET (\S+) HTTP', log)


@pytest.fixture
def sample_site() -> Iterator[Callable[..., SampleSite]]:
    """Start ../shared/sample-site/serve.py with extra options (skipped when it is absent)."""
    if not (SAMPLE_SITE / "serve.py").exists():
        pytest.skip(f"acceptance test needs the sample site at {SAMPLE_SITE}, which is absent")
    started: list[SampleSite] = []

    def start(*options: str, root: Path | None = None) -> SampleSite:
        argv = [sys.executable, str(SAMPLE_SITE / "serve.py"), "--port", "0", *options]
        if root is not None:
            argv += ["--root", str(root)]
        site = SampleSite(*_start_server(argv))
        started.append(site)
        return site

    yield start
    for site in started:
        if site.proc.poll() is None:
            site.stop()


@pytest.fixture
def sample_www_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample site's www/, for tests that change a page."""
    if not (SAMPLE_SITE / "www").exists():
        pytest.skip(f"acceptance test needs the sample site at {SAMPLE_SITE}, which is absent")
    target = tmp_path / "www"
    shutil.copytree(SAMPLE_SITE / "www", target)
    return target


def crawl_sample_site(data: Path) -> None:
    """Crawl (and clean) the sample site into `data` with the real CLI; skip when it is absent."""
    if not (SAMPLE_SITE / "serve.py").exists():
        pytest.skip(f"acceptance test needs the sample site at {SAMPLE_SITE}, which is absent")
    site = SampleSite(*_start_server([sys.executable, str(SAMPLE_SITE / "serve.py"), "--port", "0"]))
    try:
        # keep-alive off: the replica's server stalls ~40 ms per request on kept-alive connections
        result = run_cli("crawl", site.url, "--delay", "0", "--data-dir", str(data),
                           env={"PRESSROOM_CRAWL_KEEP_ALIVE": "false"})
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr
    assert "cleaned:" in result.stdout


@dataclass(frozen=True)
class CliResult:
    """How a pressroom command ended: what a shell would see of it."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> CliResult:
    """Run a pressroom command in this process (click's CliRunner), as the console script would.

    Its log lines land in `stderr`; it may not lower the test process's priority; an unexpected
    exception is a failed command whose traceback ends `stderr`.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with mock.patch.object(os, "nice", lambda increment: 0):
            result = CliRunner().invoke(cli, list(args), env=env, input=input)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return CliResult(result.exit_code, result.stdout, stderr)


def run_process(*args: str, env: dict[str, str] | None = None, timeout: float = 300
                ) -> subprocess.CompletedProcess[str]:
    """Run the pressroom command in a subprocess, for tests of what happens between processes."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "pressroom", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=ROOT)


class PressroomServer:
    """A running `pressroom serve` (gunicorn, the production server) on a free loopback port."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, workers: int = 1) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.log = data_dir.parent / f"serve-{port}.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pressroom", "serve", "--port", str(port), "--workers",
                 str(workers), "--data-dir", str(data_dir), "--log-level", "WARNING"],
                cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log)
        import time
        import urllib.request

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/openapi.json", timeout=2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pressroom serve did not start: {self.log.read_text()}")

    def stop(self) -> None:
        """Stop the server (SIGTERM: gunicorn's graceful shutdown)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
