"""Following the catalogue's change sequence into a node's own index (`pressroom index --follow`).

On SQLite and on PostgreSQL: new, changed and removed releases reach the index; a write that
lands while an update reads, or that commits after a later one, is not missed; reading only the
changed rows gives the index a rebuild gives; a stop waits for the update under way; a database
outage is logged and waited out, an empty database waited for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.catalogue import Catalogue, VersionRow
from archive.database import sqlite_url
from archive.release import Release
from archive.warcstore import RecordRef
from indexer import build, titlewords
from indexer.build import WhooshWriter
from indexer.follow import Follower, stop_on_signals
from indexer.interface import IndexStats, SearchRequest, open_index
from indexer.schema import live_directory
from tests.conftest import ROOT, run_cli
from tests.test_index import make_release


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A shared catalogue's URL: a SQLite file apart from the node's data dir, or PostgreSQL."""
    if request.param == "sqlite":
        (tmp_path / "shared").mkdir()
        return sqlite_url(tmp_path / "shared" / "catalogue.sqlite")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def shared(catalogue_url: str) -> Iterator[Catalogue]:
    catalogue = Catalogue(catalogue_url)
    yield catalogue
    catalogue.close()


def put(catalogue: Catalogue, n: int, **over: Any) -> Release:
    """Store release n (or a new version of its text) as the cleaner would."""
    release = Release.from_json(make_release(n, **over))
    doc = catalogue.document_id(release.url)
    if doc is None:
        doc, _ = catalogue.add_version("example", release.url, release.url, 200, "text/html",
                                       f"h{n}", RecordRef("x", 0, 1), None, 0,
                                       "2026-01-01T00:00:00+00:00")
    catalogue.save_cleaned(_row(doc, release.url), release, None)
    return release


def unpublish(catalogue: Catalogue, release: Release) -> None:
    """Re-clean a release's version as no release at all (the page stopped being one)."""
    doc = catalogue.document_id(release.url)
    assert doc is not None
    catalogue.save_cleaned(_row(doc, release.url), None, "not a release")


def _row(doc: int, url: str) -> VersionRow:
    return VersionRow(doc, 1, url, "example", "", "text/html", RecordRef("x", 0, 1))


def indexed(data_dir: Path) -> dict[str, str]:
    """Every release in a data dir's index: id -> title."""
    index = open_index(data_dir)
    try:
        page = index.search(SearchRequest(page_size=100, snippets=False))
        return {hit.id: hit.title for hit in page.results}
    finally:
        index.close()


@pytest.fixture
def follower() -> Iterator[Callable[..., Follower]]:
    """Make followers of a catalogue URL into a data dir; their connections closed after."""
    made: list[Follower] = []

    def make(data_dir: Path, url: str, writer: Any = None) -> Follower:
        made.append(Follower(data_dir, url, writer or WhooshWriter(data_dir, procs=1,
                                                                   catalogue_url=url), 0.05))
        return made[-1]

    yield make
    for node in made:
        node.close()


def test_new_changed_and_removed_releases_reach_the_index(
        shared: Catalogue, tmp_path: Path, follower: Callable[..., Follower]) -> None:
    data = tmp_path / "node"
    data.mkdir()
    first = [put(shared, n) for n in range(3)]
    node = follower(data, shared.url)
    node.poll()
    assert indexed(data) == {r.id: r.title for r in first}
    node.poll()
    assert node.updates == 1, "an unchanged catalogue is no reason to update"

    changed = put(shared, 0, title="Changed title about shelters", content_hash="changed")
    unpublish(shared, first[1])
    added = put(shared, 7)
    node.poll()
    assert node.updates == 2
    assert indexed(data) == {changed.id: "Changed title about shelters", first[2].id: first[2].title,
                             added.id: added.title}

    # the index is derived: deleted, the next poll rebuilds it, unchanged catalogue or not
    (data / "index").unlink()
    for folder in data.glob("index-*"):
        shutil.rmtree(folder)
    node.poll()
    assert node.updates == 3
    assert set(indexed(data)) == {changed.id, first[2].id, added.id}


class WriteAfterRead:
    """A writer after whose read of the catalogue a cleaner commits one more release."""

    def __init__(self, writer: WhooshWriter, write: Callable[[], None]) -> None:
        self.writer, self.write = writer, write

    def then_write(self, stats: IndexStats) -> IndexStats:
        self.write()       # committed after the update read, before the follower looks again
        self.write = lambda: None
        return stats

    def update(self) -> IndexStats:
        return self.then_write(self.writer.update())

    def update_changes(self) -> IndexStats:
        return self.then_write(self.writer.update_changes())

    def rebuild(self) -> IndexStats:
        return self.writer.rebuild()


def test_a_write_landing_after_the_update_read_is_not_missed(
        shared: Catalogue, tmp_path: Path, follower: Callable[..., Follower]) -> None:
    data = tmp_path / "node"
    data.mkdir()
    put(shared, 0)
    late: list[Release] = []
    writer = WriteAfterRead(WhooshWriter(data, procs=1, catalogue_url=shared.url),
                            lambda: late.append(put(shared, 1)))
    node = follower(data, shared.url, writer)
    node.poll()                          # the first update: every release compared
    assert late and late[0].id not in indexed(data)
    node.poll()
    assert late[0].id in indexed(data)
    writer.write = lambda: late.append(put(shared, 2))
    put(shared, 3)                       # a change, for the follower to update
    node.poll()                          # the next updates: only the rows that changed
    assert late[1].id not in indexed(data)
    node.poll()
    assert late[1].id in indexed(data)


def test_a_write_committed_after_a_later_one_is_not_missed(
        postgres_url: str, tmp_path: Path, follower: Callable[..., Follower]) -> None:
    """On PostgreSQL the sequence numbers a write when it starts: one that commits late has a
    lower number than what the follower saw already (a follower of `seq > last` loses it)."""
    data = tmp_path / "node"
    data.mkdir()
    slow, fast = Catalogue(postgres_url), Catalogue(postgres_url)
    try:
        put(fast, 0)
        node = follower(data, postgres_url)
        node.poll()
        with slow.transaction():
            early = put(slow, 1)                 # takes its number now, commits at the end
            later = put(fast, 2)                 # a higher number, committed at once
            node.poll()
            assert set(indexed(data)) == {make_release(0)["id"], later.id}
        node.poll()
        assert early.id in indexed(data)
        assert node.updates == 3
    finally:
        slow.close()
        fast.close()


def stored(data_dir: Path) -> dict[str, tuple[str, str, str]]:
    """Every release in the index as stored: id -> (content hash, family, title)."""
    from whoosh import index as whoosh_index

    with whoosh_index.open_dir(str(live_directory(data_dir))).searcher() as searcher:
        return {f["id"]: (f["content_hash"], f["family"], f["title"])
                for f in searcher.all_stored_fields()}


def test_reading_only_the_changed_rows_gives_the_index_a_full_rebuild_gives(
        shared: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random rounds of changes (new, changed, unpublished, deleted and republished releases,
    translation links made and broken), each applied by update_changes: the index must equal
    one rebuilt from scratch, its word list must hold the rebuilt one's, and only the first
    round may compare everything."""
    rng = random.Random(int(os.environ.get("FOLLOW_SEED", "14")))  # any seed must pass
    data, fresh = tmp_path / "node", tmp_path / "fresh"
    data.mkdir()
    writer = WhooshWriter(data, procs=1, catalogue_url=shared.url)
    urls = [make_release(n)["url"] for n in range(40)]
    for n in range(20):
        put(shared, n)
    writer.update()
    full_compares: list[Path] = []
    compare_all = build._compare_all
    monkeypatch.setattr(build, "_compare_all", lambda directory, *rest: (
        full_compares.append(directory), compare_all(directory, *rest))[1])
    for round_ in range(12):
        for _ in range(rng.randint(1, 6)):
            n, action = rng.randrange(40), rng.choice(["put", "change", "unpublish", "delete", "link"])
            doc = shared.document_id(urls[n])
            if action == "put" or doc is None:
                put(shared, n)
            elif action == "change":
                put(shared, n, title=f"Round {round_} news", content_hash=f"c{round_}-{n}")
            elif action == "unpublish":
                unpublish(shared, Release.from_json(make_release(n)))
            elif action == "delete":
                shared.db.execute("DELETE FROM cleaned WHERE document_id = :d", {"d": doc})
            else:
                other = rng.randrange(40)
                put(shared, n, translations=[{"url": urls[other], "language": "fr"}]
                    if rng.random() < 0.7 else [], content_hash=f"l{round_}-{n}")
        stats = writer.update_changes()
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir()
        WhooshWriter(fresh, procs=1, catalogue_url=shared.url).rebuild()
        assert stored(data) == stored(fresh), f"round {round_}: {stats}"
        assert not full_compares, f"round {round_} compared every release"
        words = titlewords.read(live_directory(data)) or {}
        assert set(titlewords.read(live_directory(fresh)) or {}) <= set(words)


def test_a_stop_during_an_update_waits_for_it(
        shared: Catalogue, tmp_path: Path, follower: Callable[..., Follower]) -> None:
    data = tmp_path / "node"
    data.mkdir()
    release = put(shared, 0)

    class SignalledMidway(WriteAfterRead):
        def update(self) -> IndexStats:
            signal.raise_signal(signal.SIGTERM)   # handled at once, in this (the main) thread
            assert node.stop.is_set()
            return self.writer.update()

    node = follower(data, shared.url,
                    SignalledMidway(WhooshWriter(data, procs=1, catalogue_url=shared.url), lambda: None))
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals(node.stop):
        assert node.run() == 1
    assert signal.getsignal(signal.SIGTERM) is before
    assert indexed(data) == {release.id: release.title}


def test_cli_follows_and_stops_cleanly_on_sigterm(catalogue_url: str, tmp_path: Path) -> None:
    data = tmp_path / "node"
    data.mkdir()
    url = catalogue_url
    env = {**os.environ, "PRESSROOM_ARCHIVE_DATABASE": url, "PRESSROOM_INDEX_NICE": "0",
           "PRESSROOM_INDEX_PROCS": "1"}
    shared = Catalogue(url)
    put(shared, 0)
    log = tmp_path / "follow.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "pressroom", "index", "--follow",
                                 "--interval", "0.1", "--data-dir", str(data)],
                                cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        wait_for(log, "index rebuilt: 1 releases", proc)
        added = put(shared, 1)
        wait_for(log, "1 added, 0 updated, 0 deleted, 1 unchanged", proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        shared.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert "SIGTERM received" in text and "stopped following after 2 updates" in text, text
    assert "Traceback" not in text, text
    assert added.id in indexed(data)


def wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text():
            return
        assert proc.poll() is None, f"follower ended: {log.read_text()}"
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged within {timeout} s: {log.read_text()}")


class Proxy:
    """A loopback TCP relay to a database port that a test can cut and restore (an outage)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.sockets.clear()


def test_a_database_outage_is_logged_and_waited_out(
        postgres_url: str, tmp_path: Path, follower: Callable[..., Follower],
        caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(postgres_url)
    proxy = Proxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    proxy.start()
    through = parsed.set(port=proxy.port).render_as_string(hide_password=False)
    direct = Catalogue(postgres_url)
    data = tmp_path / "node"
    data.mkdir()
    try:
        put(direct, 0)
        node = follower(data, through)
        node.interval = 0.01
        node.poll()
        assert node.updates == 1
        proxy.cut()
        later = put(direct, 1)
        with caplog.at_level(logging.DEBUG, logger="indexer.follow"):
            waits = [node.poll() for _ in range(3)]
            assert node.updates == 1 and waits == sorted(waits) and waits[-1] > waits[0]
            proxy.start()
            node.poll()
        assert node.updates == 2 and later.id in indexed(data)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 2, warnings           # once when it went, once when it came back
        assert warnings[0].startswith("catalogue unreachable, the index stays as it is")
        assert warnings[1].startswith("catalogue reachable again after")
    finally:
        proxy.cut()
        direct.close()


def test_an_empty_database_is_waited_for_quietly(postgres_url: str, tmp_path: Path,
                                                follower: Callable[..., Follower],
                                                caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "node"
    data.mkdir()
    node = follower(data, postgres_url)
    with caplog.at_level(logging.INFO, logger="indexer.follow"):
        assert [node.poll() for _ in range(3)] == [node.interval] * 3
    assert [r.getMessage()[:30] for r in caplog.records] == ["waiting for a first archive: p"]
    shared = Catalogue(postgres_url)         # the first crawl creates the schema
    try:
        release = put(shared, 0)
    finally:
        shared.close()
    node.poll()
    assert node.updates == 1 and release.id in indexed(data)


def test_cli_refuses_rebuild_with_follow_and_documents_follow() -> None:
    refused = run_cli("index", "--rebuild", "--follow")
    assert refused.returncode == 2 and "do not go together" in refused.stderr
    helped = run_cli("index", "--help")
    assert "--follow" in helped.stdout and "--interval" in helped.stdout
