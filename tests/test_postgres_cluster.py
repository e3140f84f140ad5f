"""The throwaway PostgreSQL cluster of the tests (tests/postgres.py) and its fixtures: it serves
fresh, independent databases on 127.0.0.1, stops without a trace, and dies with its owner."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tests.conftest
from archive.settings import Settings
from tests.conftest import ROOT, run_cli
from tests.postgres import OWNER_FILE, Cluster, ClusterError, database_name, default_parent, sweep_stale

SCRIPT = ROOT / "tests" / "postgres.py"


def running(pid: int) -> bool:
    """Return True while process `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_gone(pids: list[int], timeout: float = 15) -> list[int]:
    """Poll until none of `pids` runs; return those still running after `timeout`."""
    deadline = time.monotonic() + timeout
    while (left := [pid for pid in pids if running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def server_pids(postmaster: int) -> list[int]:
    """Return the postmaster's pid and those of its children (the server's processes)."""
    pids = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == postmaster:
                pids.append(int(entry.name))
    return pids


def our_cluster_dirs() -> set[Path]:
    """Return the cluster directories this test process owns."""
    found = set()
    for base in default_parent().glob("pressroom-pg-*"):
        try:
            if int((base / OWNER_FILE).read_text()) == os.getpid():
                found.add(base)
        except (OSError, ValueError):
            continue
    return found


@pytest.fixture
def engine() -> Iterator[Callable[[str], sa.Engine]]:
    """SQLAlchemy engines for URLs, disposed after the test."""
    made: list[sa.Engine] = []

    def make(url: str) -> sa.Engine:
        made.append(sa.create_engine(url))
        return made[-1]

    yield make
    for each in made:
        each.dispose()


def test_a_fresh_database_is_served_on_loopback_only(postgres_url: str,
                                                      engine: Callable[[str], sa.Engine]) -> None:
    assert postgres_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    with engine(postgres_url).connect() as connection:
        row = connection.execute(sa.text(
            "SELECT host(inet_server_addr()), current_database(), current_setting('listen_addresses'),"
            " current_setting('fsync'), current_setting('max_connections')")).one()
        tables = connection.execute(sa.text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one()
    assert tuple(row) == ("127.0.0.1", database_name(postgres_url), "127.0.0.1", "off", "200")
    assert tables == 0


def test_two_fresh_databases_are_independent(postgres_cluster: Cluster,
                                             engine: Callable[[str], sa.Engine]) -> None:
    first, second = postgres_cluster.new_database(), postgres_cluster.new_database()
    assert first != second
    with engine(first).begin() as connection:
        connection.execute(sa.text("CREATE TABLE releases (id integer PRIMARY KEY, title text)"))
        connection.execute(sa.text("INSERT INTO releases VALUES (1, 'Only in the first')"))
    assert sa.inspect(engine(first)).get_table_names() == ["releases"]
    assert sa.inspect(engine(second)).get_table_names() == []
    with engine(second).begin() as connection:  # the same name is free in the second
        connection.execute(sa.text("CREATE TABLE releases (id integer PRIMARY KEY)"))
        assert connection.execute(sa.text("SELECT count(*) FROM releases")).scalar_one() == 0


def test_drop_database_closes_its_connections(postgres_cluster: Cluster,
                                              engine: Callable[[str], sa.Engine]) -> None:
    url = postgres_cluster.new_database("dropped_while_open")
    assert "dropped_while_open" in postgres_cluster.databases()
    connection = engine(url).connect()  # a test that forgot to close its pool
    connection.execute(sa.text("SELECT 1"))
    postgres_cluster.drop_database("dropped_while_open")
    assert "dropped_while_open" not in postgres_cluster.databases()
    with pytest.raises(sa.exc.OperationalError):
        connection.execute(sa.text("SELECT 1"))
    postgres_cluster.drop_database("dropped_while_open")  # again: no error


def test_database_names_are_plain_identifiers(postgres_cluster: Cluster) -> None:
    for bad in ("Upper", "semi;colon", "a b", "x" * 64, ""):
        with pytest.raises(ValueError):
            postgres_cluster.drop_database(bad)
    with pytest.raises(ValueError):
        postgres_cluster.new_database("drop table")


def test_stop_removes_the_directory_frees_the_port_and_ends_every_process() -> None:
    cluster = Cluster()
    assert cluster.proc is not None
    pids = server_pids(cluster.proc.pid)
    assert len(pids) > 2, "the server's background processes are missing"
    directory, port = cluster.dir, cluster.port
    assert (directory / "data" / "PG_VERSION").exists()
    cluster.stop()
    assert not directory.exists()
    assert wait_gone(pids, timeout=5) == []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # raises if a server still holds it
    cluster.stop()  # again: no error


def test_a_server_that_cannot_start_says_why_and_leaves_nothing() -> None:
    before = our_cluster_dirs()
    with pytest.raises(ClusterError) as failure:
        Cluster(settings={"max_connections": "many"})
    assert "did not start" in str(failure.value)
    assert 'parameter "max_connections"' in str(failure.value)  # the server's own log line
    assert our_cluster_dirs() == before


def start_script(*args: str) -> tuple[subprocess.Popen[str], str, Path]:
    proc = subprocess.Popen([sys.executable, str(SCRIPT), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    url, where = proc.stdout.readline().strip(), proc.stdout.readline()
    if not url.startswith("postgresql+psycopg://"):
        proc.kill()
        pytest.fail(f"tests/postgres.py did not start: {url} {proc.communicate()[1]}")
    return proc, url, Path(where.split(": ", 1)[1].split(";")[0])


def test_the_script_prints_a_working_url_and_stops_on_ctrl_c(
        engine: Callable[[str], sa.Engine]) -> None:
    proc, url, directory = start_script("--database", "by_hand")
    try:
        assert url.endswith("/by_hand")
        with engine(url).connect() as connection:
            assert connection.execute(sa.text("SELECT current_database()")).scalar_one() == "by_hand"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.communicate()
    assert not directory.exists()


def test_a_killed_owner_takes_its_server_along() -> None:
    proc, _, directory = start_script()
    postmaster = int((directory / "data" / "postmaster.pid").read_text().split()[0])
    pids = server_pids(postmaster)
    proc.kill()  # SIGKILL: no atexit, no finalizer
    proc.communicate()
    left = wait_gone(pids)
    if left:  # end what this test started before failing
        os.kill(postmaster, signal.SIGKILL)
        wait_gone(pids)
    sweep_stale(directory.parent)  # what the next Cluster() does
    assert left == [], "the server outlived the process that started it"
    assert not directory.exists()


def test_the_pass_variable_is_no_setting_to_commands() -> None:
    # pressroom stops at a PRESSROOM_* variable that names no setting
    assert "PRESSROOM_TEST_DATABASE" not in os.environ
    result = run_cli("settings")
    assert result.returncode == 0, result.stderr


def test_script_help() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0
    assert "Ctrl-C" in result.stdout


def test_make_settings_puts_the_catalogue_on_postgresql_in_that_pass(
        make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
        postgres_cluster: Cluster, engine: Callable[[str], sa.Engine]) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(tests.conftest, "load_settings",
                        lambda config, values, environ: seen.append(dict(values)))
    monkeypatch.delenv("PRESSROOM_TEST_DATABASE", raising=False)
    monkeypatch.setitem(tests.conftest._chosen_database, "PRESSROOM_TEST_DATABASE", "sqlite")
    make_settings()
    monkeypatch.setenv("PRESSROOM_TEST_DATABASE", "postgresql")
    make_settings()
    make_settings(crawl__delay=0)
    make_settings(archive__database="sqlite-by-choice")
    assert "archive.database" not in seen[0]
    url = seen[1]["archive.database"]
    assert seen[2]["archive.database"] == url  # one database per test
    assert seen[3]["archive.database"] == "sqlite-by-choice"
    assert database_name(url) in postgres_cluster.databases()
    with engine(url).connect() as connection:
        assert connection.execute(sa.text("SELECT 1")).scalar_one() == 1
    monkeypatch.setenv("PRESSROOM_TEST_DATABASE", "postgres")  # a typo must not mean SQLite
    with pytest.raises(pytest.UsageError):
        make_settings()
