"""A throwaway PostgreSQL cluster for the tests, from Debian's server binaries.

`Cluster()` runs initdb into a temporary directory (in /dev/shm when it has room) and starts
the server on 127.0.0.1 at a free port (plus a unix socket in that directory), tuned for speed,
not durability; `new_database()` hands out fresh empty databases as SQLAlchemy URLs; `stop()`
ends the server and removes the directory. The postmaster is this process's child and is told
to quit when this process dies, so a killed test run leaves no server behind.

    python tests/postgres.py     # start one by hand; prints a database URL; Ctrl-C stops it
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

DEBIAN_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"  # the superuser role in the cluster, and the system user when run as root
DIR_PREFIX = "pressroom-pg-"
OWNER_FILE = "owner.pid"

# Speed over durability: the cluster lives for one test session. A small WAL keeps a cluster
# in memory (/dev/shm) small: each CREATE DATABASE writes its template's 7 MB to the WAL.
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "listen_addresses": "127.0.0.1",
    "min_wal_size": "32MB",
    "max_wal_size": "64MB",
}
MEMORY_DIR = Path("/dev/shm")
MEMORY_DIR_MIN_FREE = 1 << 30  # Docker's default /dev/shm (64 MB) is too small for a cluster

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_PR_SET_PDEATHSIG = 1


class ClusterError(RuntimeError):
    """The throwaway cluster could not be set up, started or used."""


def find_bindir() -> Path | None:
    """Return the newest directory holding PostgreSQL's initdb and postgres, or None."""
    candidates: list[Path] = []
    if DEBIAN_ROOT.is_dir():
        versions = [entry for entry in DEBIAN_ROOT.iterdir() if entry.name.replace(".", "").isdigit()]
        versions.sort(key=lambda entry: [int(part) for part in entry.name.split(".")], reverse=True)
        candidates += [entry / "bin" for entry in versions]
    pg_config = shutil.which("pg_config")
    if pg_config:
        # libpq-dev's pg_config names the server's bindir even when the server is not installed
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "postgres")):
            return bindir
    return None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def default_parent() -> Path:
    """Return where clusters live: /dev/shm when it has room (creating a database is several
    times faster in memory than on a busy disk), else the temporary directory."""
    try:
        usage = os.statvfs(MEMORY_DIR)
    except OSError:
        return Path(tempfile.gettempdir())
    if os.access(MEMORY_DIR, os.W_OK | os.X_OK) and usage.f_bavail * usage.f_frsize >= MEMORY_DIR_MIN_FREE:
        return MEMORY_DIR
    return Path(tempfile.gettempdir())


def database_name(url: str) -> str:
    """Return the database name at the end of a URL from `Cluster.new_database`."""
    return url.rsplit("/", 1)[1]


def _alive(pid: int) -> bool:
    """Return True while process `pid` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc to ask: assume it runs, and keep its files
    return state not in ("Z", "X")


def _first_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def sweep_stale(parent: Path) -> list[Path]:
    """Remove cluster directories left by runs that were killed (owner and server both dead)."""
    removed = []
    for base in parent.glob(DIR_PREFIX + "*"):
        owner = _first_int(base / OWNER_FILE)
        server = _first_int(base / "data" / "postmaster.pid")
        if owner is None or _alive(owner) or (server is not None and _alive(server)):
            continue
        shutil.rmtree(base, ignore_errors=True)
        removed.append(base)
    return removed


def _server_user() -> dict[str, Any]:
    """Popen arguments that drop root to the postgres system user (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ClusterError(f"running as root, but there is no {SERVER_USER!r} system user to run "
                           "PostgreSQL as (Debian's postgresql package creates it)") from None
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _die_with_parent() -> Callable[[], None]:
    """A preexec function: the child gets SIGQUIT (immediate shutdown) when this process dies.

    It runs after the child's setuid (which would clear the setting), just before exec.
    """
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)

    return preexec


class Cluster:
    """A running throwaway PostgreSQL cluster on 127.0.0.1; a context manager that stops it."""

    def __init__(self, bindir: Path | None = None, parent: str | Path | None = None,
                 settings: Mapping[str, str] | None = None, timeout: float = 60) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise ClusterError(f"no PostgreSQL server binaries (initdb, postgres) in {DEBIAN_ROOT}/*/bin "
                               "or pg_config --bindir: install Debian's postgresql (make postgres)")
        self.bindir = found
        self.timeout = timeout
        self.settings = {**SERVER_SETTINGS, **(settings or {})}
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._admin: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._names = itertools.count(1)
        self._as_user = _server_user()
        parent_dir = Path(parent) if parent else default_parent()
        sweep_stale(parent_dir)
        self.dir = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=parent_dir))
        (self.dir / OWNER_FILE).write_text(f"{os.getpid()}\n")
        self.log = self.dir / "server.log"
        atexit.register(self.stop)
        try:
            if self._as_user:
                os.chown(self.dir, self._as_user["user"], self._as_user["group"])
            self._initdb()
            self._start()
        except BaseException:
            self.stop()
            raise

    @property
    def socket_dir(self) -> Path:
        """The directory of the server's unix socket."""
        return self.dir

    def url(self, name: str) -> str:
        """Return the SQLAlchemy URL of database `name` over TCP on 127.0.0.1."""
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{name}"

    def new_database(self, name: str | None = None) -> str:
        """Create a fresh empty database and return its SQLAlchemy URL."""
        name = name or f"test_{next(self._names)}"
        self._check_name(name)
        self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name`, closing any connection still open to it."""
        self._check_name(name)
        self._execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def databases(self) -> list[str]:
        """Return the names of the databases other than the templates and `postgres`."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' "
                "ORDER BY datname").fetchall()
        return [row[0] for row in rows]

    def stop(self) -> None:
        """Stop the server at once (immediate shutdown) and remove its directory; safe to repeat."""
        atexit.unregister(self.stop)
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def _check_name(self, name: str) -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(f"database name {name!r}: use lower-case letters, digits and _")

    def _execute(self, statement: sql.Composed) -> None:
        with self._lock:
            self._connection().execute(statement)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._admin is None or self._admin.closed:
            self._admin = self._connect(connect_timeout=10)
        return self._admin

    def _connect(self, connect_timeout: int) -> psycopg.Connection[Any]:
        return psycopg.connect(host=str(self.socket_dir), port=self.port, user=SERVER_USER,
                               dbname="postgres", connect_timeout=connect_timeout, autocommit=True)

    def _initdb(self) -> None:
        argv = [str(self.bindir / "initdb"), "--pgdata", str(self.dir / "data"), "--auth", "trust",
                "--username", SERVER_USER, "--encoding", "UTF8", "--locale", "C", "--no-sync"]
        result = subprocess.run(argv, cwd=self.dir, capture_output=True, text=True,
                                timeout=self.timeout, check=False, **self._as_user)
        if result.returncode != 0:
            hint = (f" (is {self.dir.parent} reachable by the {SERVER_USER} user?)"
                    if self._as_user else "")
            raise ClusterError(f"initdb failed{hint}:\n{result.stdout}{result.stderr}")

    def _start(self, attempts: int = 5) -> None:
        for _ in range(attempts):  # another process may take the free port before the server
            self.port = free_port()
            self._spawn()
            if self._wait_ready():
                return
            if "Address already in use" not in self.log.read_text(errors="replace"):
                break
        raise ClusterError(f"PostgreSQL did not start; its log ({self.log}):\n"
                           + self.log.read_text(errors="replace"))

    def _spawn(self) -> None:
        options = {**self.settings, "port": str(self.port),
                   "unix_socket_directories": str(self.socket_dir)}
        argv = [str(self.bindir / "postgres"), "-D", str(self.dir / "data")]
        for key, value in options.items():
            argv += ["-c", f"{key}={value}"]
        with self.log.open("ab") as log:
            # a session of its own: a terminal's Ctrl-C reaches this process, which stops the server
            self.proc = subprocess.Popen(argv, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent(), **self._as_user)

    def _wait_ready(self) -> bool:
        """Wait until the server accepts connections; False when it exited first."""
        assert self.proc is not None
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                self._admin = self._connect(connect_timeout=2)
                return True
            except psycopg.OperationalError:
                time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        raise ClusterError(f"PostgreSQL did not accept connections within {self.timeout:g} s; "
                           f"its log ({self.log}):\n" + self.log.read_text(errors="replace"))


def main(argv: list[str] | None = None) -> int:
    """Start a throwaway cluster, print a fresh database's URL, and stop on Ctrl-C."""
    parser = argparse.ArgumentParser(
        description="Start a throwaway PostgreSQL cluster on 127.0.0.1 (as the tests do), create "
                    "a database, print its SQLAlchemy URL, and wait; Ctrl-C stops the server and "
                    "removes its files.")
    parser.add_argument("--database", default="pressroom", help="name of the database to create "
                        "(default: pressroom)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the "
                        "server to start (default: 60)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with Cluster(timeout=args.timeout) as cluster:
            print(cluster.new_database(args.database), flush=True)
            print(f"socket directory: {cluster.socket_dir}; Ctrl-C stops the server", flush=True)
            while cluster.proc is not None and cluster.proc.poll() is None:
                time.sleep(0.5)
            print(f"the server exited; its log:\n{cluster.log.read_text(errors='replace')}",
                  file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0
    except (ClusterError, ValueError, psycopg.Error) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
