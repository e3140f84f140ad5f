"""Crawl workers: leases, expiry, takeover, fencing and politeness across workers.

Every test runs on SQLite and on PostgreSQL (a throwaway cluster, tests/postgres.py): each
"worker" has a connection of its own, as separate processes would.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from archive.capture import leases
from archive.capture.leases import LeaseLost
from archive.capture.pass_status import crawl_pass_status
from archive.capture.runs import crawl_sites
from archive.capture.workers import Heartbeat, Worker
from archive.catalogue import Catalogue
from archive.database import Database, sqlite_url
from archive.errors import CrawlLocked
from archive.layout import DataDir
from archive.settings import Settings, SiteConfig
from archive.warcstore import WarcStore
from tests.conftest import run_cli


def site(key: str, *hosts: str) -> SiteConfig:
    return SiteConfig(key, key.upper(), [f"http://{h}/" for h in hosts], [], [], [], ["en"])


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The catalogue URL, on either engine (its schema made by opening it once)."""
    where = (sqlite_url(tmp_path / "catalogue.sqlite") if request.param == "sqlite"
             else request.getfixturevalue("postgres_url"))
    Catalogue(where).close()
    return str(where)


@pytest.fixture
def connect(url: str) -> Iterator[Callable[[], Database]]:
    """Open connections to the catalogue (one per simulated worker), closed after the test."""
    opened: list[Database] = []

    def open_one() -> Database:
        opened.append(Database(url))
        return opened[-1]

    yield open_one
    for db in opened:
        db.close()


def test_a_task_is_leased_to_one_worker_and_only_when_its_hosts_are_free(
        connect: Callable[[], Database]) -> None:
    a, b, c = connect(), connect(), connect()
    # two sites share the host h2: they are never crawled at once
    pass_id, created = leases.start_pass(a, [site("one", "h1", "h2"), site("two", "h2"),
                                             site("three", "h3")], "coordinator")
    assert created
    first = leases.lease_task(a, pass_id, "A")
    second = leases.lease_task(b, pass_id, "B")
    assert first is not None and second is not None
    assert (first.site.key, second.site.key) == ("one", "three")
    assert first.site.start_urls == ["http://h1/", "http://h2/"]  # the site comes with the task
    assert leases.lease_task(c, pass_id, "C") is None  # "two" waits for h2
    assert leases.finish_task(a, first, "A", "done", None) is False
    third = leases.lease_task(c, pass_id, "C")
    assert third is not None and third.site.key == "two" and third.previous_worker is None
    assert leases.finish_task(b, second, "B", "done", None) is False
    assert leases.finish_task(c, third, "C", "done", None) is True  # the last closes the pass
    assert leases.open_pass(a) is None


def test_a_second_pass_joins_the_open_one_and_a_single_crawl_is_refused(
        connect: Callable[[], Database], make_settings: Callable[..., Settings], url: str) -> None:
    db = connect()
    pass_id, _ = leases.start_pass(db, [site("one", "h1")], "first")
    assert leases.start_pass(db, [site("two", "h2")], "second") == (pass_id, False)
    with pytest.raises(CrawlLocked, match=rf"pass {pass_id} .*\(1 to crawl\)"):
        leases.refuse_if_pass_open(db)
    settings = make_settings(archive__database=url) if url.startswith("postgresql") \
        else make_settings(data_dir=str(Path(url.removeprefix("sqlite:///")).parent),
                           archive__database="")
    with pytest.raises(CrawlLocked):
        crawl_sites(settings, [site("one", "h1")])


def test_concurrent_workers_never_lease_one_task_twice(connect: Callable[[], Database]) -> None:
    pass_id, _ = leases.start_pass(connect(), [site(f"s{n}", f"h{n}", f"shared{n % 3}")
                                               for n in range(12)], "coordinator")
    taken: list[str] = []
    held: set[str] = set()
    overlaps: list[str] = []
    guard = threading.Lock()

    def work(name: str, db: Database) -> None:
        while leases.tasks_left(db, pass_id):
            task = leases.lease_task(db, pass_id, name)
            if task is None:
                time.sleep(0.01)
                continue
            with guard:
                overlaps.extend(h for h in task.hosts if h in held)
                held.update(task.hosts)
                taken.append(task.site.key)
            time.sleep(0.02)
            with guard:
                held.difference_update(task.hosts)
            leases.finish_task(db, task, name, "done", None)

    threads = [threading.Thread(target=work, args=(f"W{n}", connect())) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(taken) == sorted(f"s{n}" for n in range(12))
    assert overlaps == []  # no host was ever leased to two workers at once


def test_a_lapsed_lease_is_taken_over_and_the_old_worker_is_fenced_off(
        connect: Callable[[], Database]) -> None:
    a, b = connect(), connect()
    pass_id, _ = leases.start_pass(a, [site("one", "h1")], "coordinator")
    task = leases.lease_task(a, pass_id, "A", ttl=0.5)
    assert task is not None
    assert leases.claim_request(a, task, "A", "h1", 0.0, ttl=0.5) == 0.0
    assert leases.lease_task(b, pass_id, "B") is None  # A is alive
    time.sleep(0.7)  # A hangs past its lease
    taken = leases.lease_task(b, pass_id, "B")
    assert taken is not None and taken.previous_worker == "A"
    with pytest.raises(LeaseLost):
        leases.claim_request(a, task, "A", "h1", 0.0)
    with pytest.raises(LeaseLost):
        leases.renew(a, task, "A")
    with pytest.raises(LeaseLost):
        leases.finish_task(a, task, "A", "done", None)
    assert leases.claim_request(b, taken, "B", "h1", 0.0) == 0.0
    assert leases.finish_task(b, taken, "B", "done", None) is True
    row = b.execute("SELECT worker, takeovers, state FROM crawl_tasks").one()
    assert (row.worker, row.takeovers, row.state) == ("B", 1, "done")


def test_a_takeover_waits_the_delay_after_the_dead_workers_last_request(
        connect: Callable[[], Database]) -> None:
    a, b = connect(), connect()
    pass_id, _ = leases.start_pass(a, [site("one", "h1")], "coordinator")
    task = leases.lease_task(a, pass_id, "A", ttl=0.3)
    assert task is not None
    assert leases.claim_request(a, task, "A", "h1", 3.0, ttl=0.3) == 0.0
    last = time.time()
    time.sleep(0.5)
    taken = leases.lease_task(b, pass_id, "B")
    assert taken is not None
    # B's own delay is shorter: A's (a robots.txt Crawl-delay, say) still holds
    wait = leases.claim_request(b, taken, "B", "h1", 1.0)
    assert 3.0 - (time.time() - last) - 0.2 < wait <= 3.0 - 0.5
    # and a worker's own requests are spaced by its delay
    time.sleep(wait)
    assert leases.claim_request(b, taken, "B", "h1", 1.0) == 0.0
    assert leases.claim_request(b, taken, "B", "h1", 1.0) > 0.8


def test_a_host_outside_the_task_is_spaced_across_workers_without_a_lease(
        connect: Callable[[], Database]) -> None:
    a, b = connect(), connect()
    pass_id, _ = leases.start_pass(a, [site("one", "h1"), site("two", "h2")], "coordinator")
    one, two = leases.lease_task(a, pass_id, "A"), leases.lease_task(b, pass_id, "B")
    assert one is not None and two is not None
    # a CDN both sites take requisites from: no lease, but one request per delay between them
    assert leases.claim_request(a, one, "A", "cdn", 2.0) == 0.0
    assert leases.claim_request(b, two, "B", "cdn", 2.0) > 1.5
    # a host another worker leases is spaced too, and stays leased to that worker
    assert leases.claim_request(b, two, "B", "h1", 0.0) == 0.0
    assert leases.claim_request(a, one, "A", "h1", 0.0) == 0.0
    assert leases.claim_request(b, two, "B", "h1", 5.0) > 4.5
    assert a.scalar("SELECT worker FROM host_leases WHERE host = 'h1'") == "A"


def test_the_heartbeat_keeps_a_lease_alive_and_reports_a_lost_one(
        connect: Callable[[], Database], url: str) -> None:
    a, b = connect(), connect()
    pass_id, _ = leases.start_pass(a, [site("one", "h1")], "coordinator")
    task = leases.lease_task(a, pass_id, "A", ttl=1.0)
    assert task is not None
    with Heartbeat(url, task, "A", 1.0) as beat:
        time.sleep(2.0)
        assert leases.lease_task(b, pass_id, "B") is None
        assert not beat.lost.is_set()
        b.execute("UPDATE host_leases SET expires = 0")  # as if the worker had hung
        taken = leases.lease_task(b, pass_id, "B")
        assert taken is not None
        assert beat.lost.wait(2.0)


def test_status_names_each_worker_its_site_and_whether_its_lease_is_current(
        connect: Callable[[], Database]) -> None:
    a = connect()
    assert crawl_pass_status(a) is None
    pass_id, _ = leases.start_pass(a, [site("one", "h1"), site("two", "h2")], "coordinator")
    task = leases.lease_task(a, pass_id, "A", ttl=30)
    assert task is not None
    leases.claim_request(a, task, "A", "h1", 0.0, ttl=30)
    status = crawl_pass_status(a)
    assert status is not None
    assert (status.id, status.state, status.sites) == (pass_id, "running",
                                                        {"crawling": 1, "waiting": 1})
    [activity] = status.workers
    assert (activity.worker, activity.site, activity.hosts, activity.alive) == (
        "A", "one", ["h1"], True)
    assert activity.last_request_ago is not None and activity.last_request_ago < 5
    assert "A: one (h1), lease 30 s" in "\n".join(status.lines())
    a.execute("UPDATE host_leases SET expires = expires - 60")
    lapsed = crawl_pass_status(a)
    assert lapsed is not None and not lapsed.workers[0].alive
    assert status.to_json()["workers"][0]["worker"] == "A"


def test_warc_files_carry_the_worker_and_recovery_keeps_to_one_workers_files(
        tmp_path: Path) -> None:
    folder = tmp_path / "warc"
    folder.mkdir()
    for name in ("pressroom-A_1-1-00001.warc.gz.open", "pressroom-A-2_1-1-00001.warc.gz.open",
                 "pressroom-B_1-1-00001.warc.gz.open"):
        (folder / name).write_bytes(b"")
    store = WarcStore(folder, "pressroom", 1 << 20, worker="A")
    assert store.recover(worker="A") == ["pressroom-A_1-1-00001.warc.gz.open"]
    assert sorted(p.name for p in folder.glob("*.open")) == [
        "pressroom-A-2_1-1-00001.warc.gz.open", "pressroom-B_1-1-00001.warc.gz.open"]
    store._file()
    assert store._name.startswith("pressroom-A_")
    store.close()


# -- a worker over a local server ------------------------------------------------------------
class _Pages(BaseHTTPRequestHandler):
    """Three linked pages on every host; the log keeps (Host, time) of each request."""

    log: ClassVar[list[tuple[str, float]]] = []

    def do_GET(self) -> None:
        _Pages.log.append((self.headers["Host"], time.time()))
        body = {"/": b'<html><body><a href="/a">a</a> <a href="/b">b</a></body></html>',
                "/a": b"<html><body><p>page a</p></body></html>",
                "/b": b"<html><body><p>page b</p></body></html>"}.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: Any) -> None:
        pass


def test_a_worker_crawls_every_site_of_the_pass_politely(
        make_settings: Callable[..., Settings], url: str, tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Pages.log = []
    port = server.server_address[1]
    try:
        # the sqlite case is SQLite in both passes: its own data dir's file
        overrides = {"archive__database": url if url.startswith("postgresql") else ""}
        settings = make_settings(data_dir=str(tmp_path / "data"), crawl__delay=0.3, **overrides)
        if not url.startswith("postgresql"):  # the catalogue of this data dir, then
            url = DataDir.of(settings).catalogue_url
        sites = [site("one", f"127.0.0.1:{port}"), site("two", f"localhost:{port}")]
        db = Database(url) if url.startswith("postgresql") else Catalogue(url).db
        pass_id, _ = leases.start_pass(db, sites, "test")
        crawler = Worker(settings, "tester", lease_seconds=10)
        try:
            results = crawler.run()
        finally:
            crawler.close()
        assert [(r.task.site.key, r.state, r.stats.new) for r in results] == [
            ("one", "done", 3), ("two", "done", 3)]
        assert leases.open_pass(db) is None
        assert {r.worker for r in db.execute("SELECT worker FROM runs")} == {"tester"}
        names = [p.name for p in DataDir.of(settings).warc.iterdir()]
        assert names and all(n.startswith("pressroom-tester_") for n in names)
        assert leases.pass_tasks(db, pass_id)[0]["state"] == "done"
        db.close()
    finally:
        server.shutdown()
        server.server_close()
    times: dict[str, list[float]] = {}
    for host, when in _Pages.log:
        times.setdefault(host, []).append(when)
    assert Counter({h: len(t) for h, t in times.items()}) == Counter(
        {f"127.0.0.1:{port}": 5, f"localhost:{port}": 5})  # robots, sitemap probe, 3 pages
    for stamps in times.values():
        assert min(b - a for a, b in itertools.pairwise(stamps)) >= 0.3



def test_crawl_with_workers_and_the_worker_command(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    config = tmp_path / "sites.toml"
    config.write_text("".join(
        f'[sites.{key}]\nname = "{key}"\nstart_urls = ["http://{host}:{port}/"]\nsitemaps = []\n'
        'allow = []\ndeny = []\nlanguages = ["en"]\n'
        for key, host in (("one", "127.0.0.1"), ("two", "localhost"))), encoding="utf-8")
    data = str(tmp_path / "data")
    try:
        refused = run_cli("crawl", "--workers", "2", "--limit", "3", "--config", str(config),
                          "--data-dir", data)
        assert refused.returncode == 2 and "--limit" in refused.stderr
        result = run_cli("crawl", "--workers", "2", "--delay", "0", "--config", str(config),
                         "--data-dir", data, "--log-level", "WARNING")
        assert result.returncode == 0, result.stderr
        for key in ("one", "two"):
            assert re.search(rf"^{key}: done by \S+ \(run \d+\): fetched 5, new 3,", result.stdout,
                             re.MULTILINE), result.stdout
        assert "cleaned:" in result.stdout
        idle = run_cli("worker", "--name", "spare", "--config", str(config), "--data-dir", data)
        assert idle.returncode == 0 and "spare: no site left to crawl" in idle.stdout
        status = run_cli("status", "--config", str(config), "--data-dir", data)
        assert re.search(r"^crawl pass 1: done .* \(sites: 2 done\)$", status.stdout, re.MULTILINE)
    finally:
        server.shutdown()
        server.server_close()
