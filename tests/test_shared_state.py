"""Staff logins, the job queue and rate limits shared by several nodes, on SQLite and PostgreSQL.

A "node" here is a web app (or a store) with its own data directory; on PostgreSQL the nodes
share one database, as machines behind a load balancer do.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from archive.database import Database
from archive.layout import DataDir
from archive.settings import Settings
from pressroom.jobqueue import JobQueue
from webapp import create_app
from webapp.accounts import AccountError, Accounts
from webapp.ratelimit import SharedBuckets

PASSWORD = "correct horse battery staple"
COOKIE = "pressroom_staff"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    """The [archive] database setting: "" (SQLite files) or a fresh PostgreSQL database."""
    return "" if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def node(tmp_path: Path, make_settings: Callable[..., Settings],
         database: str) -> Callable[[str], Settings]:
    """Settings of a node: its own data directory; the database shared when on PostgreSQL."""
    def make(name: str) -> Settings:
        settings = make_settings(data_dir=str(tmp_path / name), archive__database=database)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return settings
    return make


def app_of(settings: Settings) -> Flask:
    return create_app({"TESTING": True}, settings=settings)


def token_of(response: Any) -> str:
    field = BeautifulSoup(response.get_data(as_text=True), "lxml").select_one(
        "input[name=csrf_token]")
    assert field is not None, "the page has no CSRF field"
    return str(field["value"])


def log_in(client: FlaskClient, password: str = PASSWORD) -> int:
    token = token_of(client.get("/staff/login"))
    return client.post("/staff/login", data={"name": "alice", "password": password,
                                             "csrf_token": token}).status_code


# ---- staff accounts and logins ----------------------------------------------------------------

def test_accounts_add_check_and_remove(node: Callable[[str], Settings]) -> None:
    with Accounts.of(node("a")) as accounts:
        accounts.add("alice", PASSWORD)
        with pytest.raises(AccountError, match="already exists"):
            accounts.add("alice", PASSWORD)
        assert accounts.authenticate("alice", PASSWORD)
        assert not accounts.authenticate("alice", "not the password at all")
        session = accounts.start_session("alice")
        assert accounts.session_user(session) == "alice"
        accounts.remove("alice")
        assert accounts.session_user(session) is None
        with pytest.raises(AccountError, match="no user"):
            accounts.remove("alice")


def test_a_login_made_on_one_node_is_known_to_the_other(node: Callable[[str], Settings],
                                                        database: str) -> None:
    first, second = node("a"), node("b")
    with Accounts.of(first) as accounts:
        accounts.add("alice", PASSWORD)
    one, other = app_of(first).test_client(), app_of(second).test_client()
    assert log_in(one) == 303
    cookie = one.get_cookie(COOKIE, path="/staff")
    assert cookie is not None
    other.set_cookie(COOKIE, cookie.value, path="/staff")
    if not database:       # separate data directories: separate accounts and keys
        assert other.get("/staff/").status_code == 302
        return
    assert one.get("/staff/").status_code == 200
    assert other.get("/staff/").status_code == 200, "the second node knows the login"
    out = other.post("/staff/logout", data={"csrf_token": token_of(other.get("/staff/"))})
    assert out.status_code == 303
    assert one.get("/staff/").status_code == 302, "a logout on one node ends it on every node"
    assert not (first.data_dir / "secret_key").exists(), "the key lives in the database"


def test_login_attempts_draw_on_one_budget_across_nodes(node: Callable[[str], Settings],
                                                        database: str) -> None:
    first, second = node("a"), node("b")
    for settings in (first, second):
        with Accounts.of(settings) as accounts:
            if not accounts.all_accounts():
                accounts.add("alice", PASSWORD)
    one, other = app_of(first).test_client(), app_of(second).test_client()
    assert first.staff.login_burst == 5.0
    codes = [log_in(client, "wrong password, again") for client in (one, other) * 3]
    if database:
        assert codes == [401] * 5 + [429], "five attempts in all, whichever node they reach"
    else:
        assert codes == [401] * 6, "each data directory has its own budget"


# ---- the job queue ------------------------------------------------------------------------------

def test_a_job_queued_on_any_node_is_one_job(node: Callable[[str], Settings], database: str) -> None:
    first, second = node("a"), node("b")
    queues = [JobQueue.of(first), JobQueue.of(second)]
    try:
        def enqueue(queue: JobQueue) -> None:
            for _ in range(10):
                queue.enqueue("reclean", None, "ana")

        threads = [threading.Thread(target=enqueue, args=(JobQueue.of(settings),))
                   for settings in (first, second) * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seen = [[job.id for job in queue.recent()] for queue in queues]
        assert seen == [[1], [1]], "a waiting job is never doubled (on PostgreSQL: one in all)"
        crawl = queues[0].enqueue("crawl", "iom", "ben")
        assert queues[0].enqueue("crawl", "iom", "ana").id == crawl.id
        assert queues[0].enqueue("crawl", "other", "ana").id != crawl.id
        claimed = queues[1].claim(pid=4242) if database else queues[0].claim(pid=4242)
        assert claimed is not None and claimed.kind == "reclean" and claimed.state == "running"
        assert queues[0].abandon_running("gone") == 1
        assert queues[0].get(claimed.id).state == "failed"
        queues[0].finish(crawl.id, True, "crawl ok")
        assert [j.state for j in queues[0].recent()][:3] == ["queued", "done", "failed"]
    finally:
        for queue in queues:
            queue.close()


# ---- rate limits --------------------------------------------------------------------------------

def test_buckets_are_shared_by_every_node(node: Callable[[str], Settings], database: str) -> None:
    one, other = SharedBuckets.of(node("a")), SharedBuckets.of(node("b"))
    taken = [buckets.take("page|0.001|3|192.0.2.7", 0.001, 3.0) for buckets in (one, other) * 2]
    if database:
        assert taken == [True, True, True, False]
    else:
        assert taken == [True, True, True, True]
    assert not one.memory._buckets, "the store answered: no fallback to per-process memory"


def test_buckets_on_postgresql_stay_small_and_skip_the_wal(postgres_url: str) -> None:
    buckets = SharedBuckets(postgres_url, max_clients=20)
    buckets.PRUNE_EVERY = 10
    for number in range(200):               # slow refill: nobody's bucket is full again soon
        key = f"page|0.001|2|198.51.100.{number}"
        assert buckets.take(key, 0.001, 2.0) and buckets.take(key, 0.001, 2.0)
    for number in range(30):                # fast refill: full at once, so forgotten
        assert buckets.take(f"search|1e+06|2|203.0.113.{number}", 1e6, 2.0)
    assert not buckets.take("page|0.001|2|198.51.100.199", 0.001, 2.0), "the newest are kept"
    db = Database(postgres_url)
    try:
        assert db.scalar("SELECT count(*) FROM buckets") <= 20 + 10
        assert db.scalar("SELECT count(*) FROM buckets WHERE key LIKE 'search%'") < 10
        assert db.scalar("SELECT relpersistence FROM pg_class WHERE relname = 'buckets'") == "u"
    finally:
        db.close()
    assert not buckets.memory._buckets


def test_a_refill_follows_the_rate(database: str, node: Callable[[str], Settings]) -> None:
    buckets = SharedBuckets.of(node("a"))
    key = "search|4|1|192.0.2.9"
    assert buckets.take(key, 4.0, 1.0) and not buckets.take(key, 4.0, 1.0)
    threading.Event().wait(0.5)             # 4 a second: two tokens' worth, capped at one
    assert buckets.take(key, 4.0, 1.0) and not buckets.take(key, 4.0, 1.0)


def test_the_stores_live_where_the_settings_say(node: Callable[[str], Settings],
                                                database: str) -> None:
    settings = node("a")
    with Accounts.of(settings):
        pass
    JobQueue.of(settings).close()
    SharedBuckets.of(settings).take("k", 1.0, 1.0)
    where = DataDir.of(settings)
    files = {p.name for p in settings.data_dir.iterdir()}
    if database:
        assert not files & {"staff.sqlite", "jobs.sqlite", "ratelimits.db"}
    else:
        assert {"staff.sqlite", "jobs.sqlite", "ratelimits.db"} <= files
        assert where.staff.stat().st_mode & 0o077 == 0, "password hashes: owner only"


def test_an_unreachable_database_means_per_process_limits_for_a_while(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import webapp.ratelimit

    with socket.socket() as probe:          # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tries: list[str] = []

    def counted(url: str, **options: Any) -> Database:
        tries.append(url)
        return Database(url, **options)

    monkeypatch.setattr(webapp.ratelimit, "Database", counted)
    buckets = SharedBuckets(f"postgresql://nobody@127.0.0.1:{port}/none")
    assert [buckets.take("k", 0.001, 2.0) for _ in range(3)] == [True, True, False]
    assert len(tries) == 1, "no request waits on the database again until RETRY_SECONDS pass"
    buckets._retry_at = 0.0
    assert not buckets.take("k", 0.001, 2.0) and len(tries) == 2
