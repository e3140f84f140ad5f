"""Staff accounts, login and controls: hashes, the `user` commands, the guarded /staff routes."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from archive.database import Database
from archive.layout import DataDir
from archive.settings import Settings
from pressroom.cli import cli
from pressroom.jobqueue import JobQueue
from tests.conftest import run_cli
from webapp import create_app
from webapp.accounts import Accounts, hash_password, verify_password
from webapp.i18n import LANGUAGES, STRINGS, translate

PASSWORD = "correct horse battery staple"
COOKIE = "pressroom_staff"
WEBAPP = Path(__file__).resolve().parent.parent / "webapp"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings) -> Flask:
    with Accounts.of(settings) as accounts:
        accounts.add("alice", PASSWORD)
    return create_app({"TESTING": True}, settings=settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "lxml")


def token_of(response: Any) -> str:
    field = soup(response).select_one("input[name=csrf_token]")
    assert field is not None, "the page has no CSRF field"
    return str(field["value"])


def log_in(client: FlaskClient, name: str = "alice", password: str = PASSWORD) -> Any:
    token = token_of(client.get("/staff/login"))
    return client.post("/staff/login", data={"name": name, "password": password, "csrf_token": token})


def staff_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff")]


def url_of(rule: Rule) -> str:
    """A concrete URL for a rule: every variable part filled with '1'."""
    return re.sub(r"<[^>]+>", "1", rule.rule)


def methods_of(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def snapshot(settings: Settings) -> list[str]:
    """Everything in the job queue and the staff database, one line a row."""
    lines: list[str] = []
    where = DataDir.of(settings)
    for store, table, key in (("jobs", "jobs", "id"), ("staff", "users", "name"),
                              ("staff", "sessions", "id")):
        db = Database(where.store_url(store))
        try:
            lines += [f"{table} {tuple(row)}"
                      for row in db.execute(f"SELECT * FROM {table} ORDER BY {key}")]
        finally:
            db.close()
    return lines


def jobs(settings: Settings) -> list[Any]:
    queue = JobQueue.of(settings)
    try:
        return queue.recent()
    finally:
        queue.close()


# ---- passwords and the `user` commands -------------------------------------------------------

def test_scrypt_hashes_verify_and_differ_per_salt() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second, "each hash has its own random salt"
    assert first.startswith("scrypt$32768$8$1$"), "the parameters are stored with the hash"
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password(PASSWORD + "!", first)
    assert not verify_password(PASSWORD, "plain text") and not verify_password(PASSWORD, "")
    assert hash_password(PASSWORD, salt=b"s" * 16) == hash_password(PASSWORD, salt=b"s" * 16)


def test_user_commands_add_list_change_and_remove(settings: Settings,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("archive.cli_common.configure_logging", lambda level: None)
    runner = CliRunner()
    data = ["--data-dir", str(settings.data_dir)]

    added = runner.invoke(cli, ["user", "add", "bob", *data], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output, "the password is not echoed"
    again = runner.invoke(cli, ["user", "add", "bob", "--password-stdin", *data], input=PASSWORD + "\n")
    assert again.exit_code == 1 and "Error: user 'bob' already exists" in again.output
    assert "Traceback" not in again.output
    short = runner.invoke(cli, ["user", "add", "carol", "--password-stdin", *data], input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    scripted = runner.invoke(cli, ["user", "add", "dora", "--password-stdin", *data],
                             input=PASSWORD + "\n")
    assert scripted.exit_code == 0, scripted.output

    listed = run_cli("user", "list", *data)        # the real console command, in a subprocess
    assert listed.returncode == 0, listed.stderr
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["bob", "dora"]
    assert "last login never" in listed.stdout

    changed = runner.invoke(cli, ["user", "passwd", "bob", "--password-stdin", *data],
                            input="another long password\n")
    assert changed.exit_code == 0, changed.output
    with Accounts.of(settings) as accounts:
        assert accounts.authenticate("bob", "another long password")
        assert not accounts.authenticate("bob", PASSWORD)

    removed = runner.invoke(cli, ["user", "remove", "bob", *data])
    assert removed.exit_code == 0, removed.output
    gone = runner.invoke(cli, ["user", "remove", "bob", *data])
    assert gone.exit_code == 1 and "no user 'bob'" in gone.output
    with Accounts.of(settings) as accounts:
        assert [a.name for a in accounts.all_accounts()] == ["dora"]
    if DataDir.of(settings).shared_database:
        assert not (settings.data_dir / "staff.sqlite").exists(), "the accounts are the database's"
    else:
        mode = stat.S_IMODE((settings.data_dir / "staff.sqlite").stat().st_mode)
        assert mode == 0o600, "the password hashes are readable by the owner only"


# ---- the guard: login, CSRF, no state change on GET ---------------------------------------------

def test_every_staff_route_sends_anonymous_visitors_to_the_login(app: Flask, client: FlaskClient) -> None:
    rules = [r for r in staff_rules(app) if r.endpoint != "staff.login"]
    assert {"/staff/", "/staff/jobs", "/staff/logout"} <= {r.rule for r in rules}
    token = token_of(client.get("/staff/login"))        # an anonymous session with a valid token
    for rule in rules:
        for method in methods_of(rule):
            for data in ({}, {"csrf_token": token, "kind": "crawl", "site": "iom"}):
                response = client.open(url_of(rule), method=method, data=data)
                assert response.status_code == 302, (method, rule.rule)
                assert response.headers["Location"].endswith("/staff/login"), (method, rule.rule)
    assert jobs(app.extensions["pressroom_settings"]) == []


def test_every_post_without_the_csrf_token_is_refused_even_logged_in(app: Flask,
                                                                     client: FlaskClient) -> None:
    assert log_in(client).status_code == 303
    posts = [r for r in staff_rules(app) if "POST" in methods_of(r)]
    assert {"staff.login", "staff.logout", "staff.queue_job"} <= {r.endpoint for r in posts}
    for rule in posts:
        for token in (None, "", "forged-token"):
            data = {"kind": "rebuild", "name": "alice", "password": PASSWORD}
            if token is not None:
                data["csrf_token"] = token
            response = client.post(url_of(rule), data=data)
            assert response.status_code == 400, (rule.rule, token)
            assert translate("csrf_failed", "en") in soup(response).get_text()
    assert jobs(app.extensions["pressroom_settings"]) == []
    assert client.get("/staff/").status_code == 200, "the refused logout did not log out"


def test_get_never_changes_state(app: Flask, client: FlaskClient, settings: Settings) -> None:
    log_in(client)
    token = token_of(client.get("/staff/"))
    client.post("/staff/jobs", data={"csrf_token": token, "kind": "reclean"})
    before = snapshot(settings)
    assert any("reclean" in line for line in before) and any("alice" in line for line in before)
    anonymous = app.test_client()
    for rule in staff_rules(app):
        if "GET" in methods_of(rule):
            for visitor in (client, anonymous):
                assert visitor.get(url_of(rule)).status_code in (200, 302), rule.rule
    assert snapshot(settings) == before


# ---- logging in -------------------------------------------------------------------------------

def test_login_works_and_failures_do_not_say_which_part_was_wrong(app: Flask, client: FlaskClient) -> None:
    wrong = log_in(client, password="not the password at all")
    unknown = log_in(client, name="mallory")
    assert wrong.status_code == unknown.status_code == 401
    message = translate("login_failed", "en")
    assert soup(wrong).select_one(".error").get_text(strip=True) == message
    assert soup(unknown).select_one(".error").get_text(strip=True) == message
    assert client.get("/staff/").status_code == 302

    ok = log_in(client)
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/staff/")
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Logged in as alice" in soup(page).get_text()
    with Accounts.of(app.extensions["pressroom_settings"]) as accounts:
        assert accounts.all_accounts()[0].last_login is not None


def test_the_sixth_quick_attempt_gets_429(client: FlaskClient, settings: Settings) -> None:
    assert settings.staff.login_burst == 5.0, "the shipped default allows a burst of five"
    for _ in range(5):
        assert log_in(client, password="wrong password, again").status_code == 401
    refused = log_in(client)                            # even with the right password
    assert refused.status_code == 429
    assert translate("error_429", "en") in soup(refused).get_text()
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get("/staff/").status_code == 302


def test_session_cookie_is_secure_httponly_lax_and_scoped(app: Flask, client: FlaskClient,
                                                          make_settings: Callable[..., Settings]) -> None:
    response = log_in(client)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE + "="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "expires"} <= attributes
    assert "SameSite=Lax" in cookie and "Path=/staff" in cookie
    public = app.test_client().get("/no-such-page")
    assert not any(c.startswith(COOKIE) for c in public.headers.getlist("Set-Cookie"))

    plain = create_app({"TESTING": True}, settings=make_settings(staff__secure_cookies=False))
    cookie = plain.test_client().get("/staff/login").headers["Set-Cookie"]
    assert "Secure" not in cookie and "HttpOnly" in cookie


def test_cookie_from_before_the_login_is_not_a_login(app: Flask, client: FlaskClient) -> None:
    form = client.get("/staff/login")
    before = client.get_cookie(COOKIE, path="/staff")
    assert before is not None
    old_token = token_of(form)
    client.post("/staff/login", data={"name": "alice", "password": PASSWORD, "csrf_token": old_token})
    after = client.get_cookie(COOKIE, path="/staff")
    assert after is not None and after.value != before.value
    assert client.get("/staff/").status_code == 200
    # the token from before the login no longer passes
    assert client.post("/staff/jobs", data={"csrf_token": old_token, "kind": "reclean"}).status_code == 400

    planted = app.test_client()
    planted.set_cookie(COOKIE, before.value, path="/staff")
    assert planted.get("/staff/").status_code == 302


def test_logout_and_password_change_end_the_login_on_the_server(app: Flask, client: FlaskClient) -> None:
    log_in(client)
    copied = client.get_cookie(COOKIE, path="/staff")
    assert copied is not None
    out = client.post("/staff/logout", data={"csrf_token": token_of(client.get("/staff/"))})
    assert out.status_code == 303 and out.headers["Location"].endswith("/staff/login")
    assert "You are logged out." in soup(client.get("/staff/login")).get_text()
    replay = app.test_client()
    replay.set_cookie(COOKIE, copied.value, path="/staff")
    assert replay.get("/staff/").status_code == 302, "a copy of the cookie dies with the logout"

    log_in(client)
    assert client.get("/staff/").status_code == 200
    with Accounts.of(app.extensions["pressroom_settings"]) as accounts:
        accounts.set_password("alice", "a brand new password")
    assert client.get("/staff/").status_code == 302

    log_in(client, password="a brand new password")
    assert client.get("/staff/").status_code == 200
    with Accounts.of(app.extensions["pressroom_settings"]) as accounts:
        accounts.remove("alice")
    assert client.get("/staff/").status_code == 302


def test_secret_key_is_made_once_private_and_shared_by_workers(settings: Settings, app: Flask,
                                                               client: FlaskClient) -> None:
    key_file = settings.data_dir / "secret_key"
    assert not key_file.exists(), "made on first use, not at start"
    log_in(client)
    if DataDir.of(settings).shared_database:   # every web node signs with the database's key
        assert not key_file.exists()
        with Accounts.of(settings) as accounts:
            assert len(accounts.signing_key()) == 32
    else:
        assert len(key_file.read_bytes()) == 32
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    other = create_app({"TESTING": True}, settings=settings).test_client()
    cookie = client.get_cookie(COOKIE, path="/staff")
    assert cookie is not None
    other.set_cookie(COOKIE, cookie.value, path="/staff")
    assert other.get("/staff/").status_code == 200, "a second worker reads the same key"


# ---- the controls -----------------------------------------------------------------------------

def test_a_queued_crawl_is_listed_and_nothing_runs(app: Flask, client: FlaskClient,
                                                   settings: Settings) -> None:
    data_dir: Path = app.config["DATA_DIR"]
    log_in(client)
    page = soup(client.get("/staff/"))
    site = sorted(settings.sites)[0]
    form = page.find("input", attrs={"name": "site", "value": site}).find_parent("form")
    fields = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    response = client.post(form["action"], data=fields)
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/")

    [job] = jobs(settings)
    assert (job.kind, job.site, job.requested_by, job.state) == ("crawl", site, "alice", "queued")
    assert job.started_at is None
    # no crawl ran: the data dir holds only the staff database, the queue, the cookie key and
    # the rate limits' buckets (each SQLite file with its WAL files and migration lock)
    stores = {"staff.sqlite", "jobs.sqlite", "ratelimits.db"}
    allowed = {f"{name}{suffix}" for name in stores for suffix in ("", "-wal", "-shm")}
    allowed |= {f".{name}.migrate-lock" for name in stores} | {"secret_key"}
    assert {p.name for p in data_dir.iterdir()} <= allowed

    shown = soup(client.get("/staff/"))
    assert "queued; the scheduler runs it" in shown.select_one(".flashes").get_text()
    row = shown.select_one("table.jobs tbody tr")
    assert row is not None and "alice" in row.get_text() and site in row.get_text()
    assert "queued" in row.select_one(".state").get_text()


def test_reclean_and_rebuild_are_queued_and_bad_jobs_refused(app: Flask, client: FlaskClient) -> None:
    log_in(client)
    token = token_of(client.get("/staff/"))
    for kind in ("reclean", "rebuild"):
        assert client.post("/staff/jobs", data={"csrf_token": token, "kind": kind,
                                                "site": "ignored"}).status_code == 303
    for bad in ({"kind": "crawl", "site": "no-such-site"}, {"kind": "crawl"},
                {"kind": "index"}, {"kind": "rm -rf"}):
        assert client.post("/staff/jobs", data={"csrf_token": token, **bad}).status_code == 400, bad
    queued = jobs(app.extensions["pressroom_settings"])
    assert [(j.kind, j.site, j.requested_by) for j in queued] == [("rebuild", None, "alice"),
                                                                    ("reclean", None, "alice")]


# ---- templates ---------------------------------------------------------------------------------

def test_every_field_has_a_label_and_no_inline_script_or_style(client: FlaskClient) -> None:
    for page in (client.get("/staff/login"), (log_in(client), client.get("/staff/"))[1]):
        html = soup(page)
        for field in html.select("input:not([type=hidden]), select, textarea"):
            assert html.select_one(f"label[for={field['id']}]") is not None, field
        assert not html.select("script:not([src]), style, [style]")
        assert not any(a.startswith("on") for tag in html.find_all(True) for a in tag.attrs)


def test_staff_strings_exist_in_every_language() -> None:
    sources = [*(WEBAPP / "templates").glob("*staff*.html"), WEBAPP / "staff.py"]
    keys = set()
    for source in sources:
        keys |= set(re.findall(r"""(?:\bt|translate)\(['"]([a-z_0-9]+)['"]\s*[,)]""", source.read_text()))
    keys |= {f"kind_{k}" for k in ("crawl", "reclean", "rebuild", "index")}
    keys |= {f"state_{s}" for s in ("queued", "running", "done", "failed")}
    assert {"staff_login", "csrf_failed", "job_queued"} <= keys
    for key in keys:
        assert key in STRINGS and set(LANGUAGES) <= set(STRINGS[key]), key
