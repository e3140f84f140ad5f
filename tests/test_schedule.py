"""The scheduler: schedule expressions, next runs, the loop (fake clock) and `pressroom schedule`."""

from __future__ import annotations

import datetime
import itertools
import json
import os
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
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from archive.database import Database
from archive.errors import SettingsError
from archive.layout import DataDir
from archive.lock import RunLock
from archive.settings import Settings
from pressroom.cronexpr import ScheduleError, parse_schedule, site_schedules
from pressroom.jobqueue import JobQueue
from pressroom.runner import CommandResult
from pressroom.schedule import Scheduler, next_runs, read_state
from tests.conftest import ROOT, run_cli, run_process

UTC = datetime.UTC
FAST_ENV = {"PRESSROOM_CRAWL_DELAY": "0", "PRESSROOM_CRAWL_RETRIES": "0",
            "PRESSROOM_CRAWL_KEEP_ALIVE": "false", "PRESSROOM_LOG_LEVEL": "INFO"}
NEVER = "0 0 1 1 *"          # once a year: never comes due during a test


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- expressions ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("expr", "now", "expected"), [
    ("0 */6 * * *", "2024-01-01T07:05:00", "2024-01-01T12:00:00"),
    ("0 */6 * * *", "2024-01-01T06:00:00", "2024-01-01T12:00:00"),      # strictly after
    ("30 2 * * 1", "2024-01-03T00:00:00", "2024-01-08T02:30:00"),       # next Monday
    ("@daily", "2024-02-28T23:59:59", "2024-02-29T00:00:00"),
    ("@every 30s", "2024-01-01T00:00:10", "2024-01-01T00:00:30"),
    ("@every 10m", "2024-01-01T00:10:00", "2024-01-01T00:20:00"),
    ("@every 6h", "2024-01-01T07:00:00", "2024-01-01T12:00:00"),
    ("@every 1h30m", "2024-01-01T00:00:01", "2024-01-01T01:30:00"),
])
def test_next_after(expr: str, now: str, expected: str) -> None:
    assert parse_schedule(expr).next_after(at(now)) == at(expected)


def test_cron_is_read_in_utc() -> None:
    paris = datetime.timezone(datetime.timedelta(hours=1))
    moment = datetime.datetime(2024, 1, 1, 7, 5, tzinfo=paris)         # 06:05 UTC
    assert parse_schedule("0 */6 * * *").next_after(moment) == at("2024-01-01T12:00:00")


@pytest.mark.parametrize(("expr", "says"), [
    ("every 6 hours", "5 fields"), ("* * * *", "5 fields"), ("0 0 * * * *", "5 fields"),
    ("61 * * * *", "bad minute"), ("0 25 * * *", "bad hour"), ("0 0 30 2 *", "day-of-month"),
    ("@every", "@every 30s"), ("@every 5x", "@every 30s"), ("@every 0s", "at least one second"),
    ("@reboot", "unknown alias"), ("", "5 fields"),
])
def test_bad_expressions_are_refused(expr: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        parse_schedule(expr)


def write_config(path: Path, sites: dict[str, tuple[str, str]], poll: float = 0.2,
                 cron: str = "0 */6 * * *") -> Path:
    """A user settings file: no jitter, a fast poll, sites as key -> (start URL, schedule)."""
    lines = ["[schedule]", f'cron = "{cron}"', "jitter = 0.0", f"poll = {poll}", ""]
    for key, (url, schedule) in sites.items():
        lines += [f"[sites.{key}]", f'name = "{key}"', f'start_urls = ["{url}"]', "sitemaps = []",
                  "allow = []", "deny = []", 'languages = ["en"]', f'schedule = "{schedule}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_bad_site_schedule_names_site_key_and_file(tmp_path: Path,
                                                   make_settings: Callable[..., Settings]) -> None:
    config = write_config(tmp_path / "c.toml", {"a": ("http://127.0.0.1:9/", "@every 1s"),
                                                 "b": ("http://127.0.0.1:9/", "*/5 * * *")})
    with pytest.raises(SettingsError) as caught:
        site_schedules(make_settings(config))
    message = str(caught.value)
    assert "site b" in message and "sites.b.schedule" in message and str(config) in message
    assert "\n" not in message


def test_bad_default_cron_names_schedule_cron(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(SettingsError, match=r"the command line: site iom: schedule.cron = 'nope'"):
        site_schedules(make_settings(schedule__cron="nope"))


def test_bad_expression_stops_the_command_with_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", {"a": ("http://127.0.0.1:9/", "61 * * * *")})
    result = run_cli("schedule", "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 1
    assert "sites.a.schedule" in result.stderr and "bad minute" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_next_runs_uses_each_sites_schedule_or_the_default(
        tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    config = write_config(tmp_path / "c.toml", {"own": ("http://127.0.0.1:9/", "@every 10m"),
                                                "default": ("http://127.0.0.1:9/", "")},
                          cron="15 3 * * *")
    runs = next_runs(make_settings(config), at("2024-06-01T04:01:00"))
    assert runs == {"own": at("2024-06-01T04:10:00"), "default": at("2024-06-02T03:15:00")}


# -- the loop, on a fake clock ---------------------------------------------------------------------
class FakeClock:
    def __init__(self, start: str) -> None:
        self.now = at(start)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


class FakeStop(threading.Event):
    """Waiting moves the fake clock instead of sleeping; optionally stop when the loop goes idle."""

    def __init__(self, clock: FakeClock, stop_when_idle: bool = False) -> None:
        super().__init__()
        self.clock = clock
        self.stop_when_idle = stop_when_idle

    def wait(self, timeout: float | None = None) -> bool:
        if self.stop_when_idle:
            self.set()
        self.clock.advance(timeout or 0)
        return self.is_set()


class FakeRunner:
    """Stands for the child commands: takes `seconds[command]` of fake time, exits `codes`."""

    def __init__(self, clock: FakeClock, stop: threading.Event, seconds: dict[str, float],
                 codes: dict[str, list[int]] | None = None, stop_after: int = 0) -> None:
        self.clock, self.stop, self.seconds = clock, stop, seconds
        self.codes = codes or {}
        self.stop_after = stop_after
        self.calls: list[tuple[datetime.datetime, list[str]]] = []
        self.on_first_call: Callable[[], Any] | None = None

    def __call__(self, argv: list[str]) -> CommandResult:
        args = argv[:argv.index("--data-dir")]
        if self.on_first_call and not self.calls:
            self.on_first_call()
        self.calls.append((self.clock(), args))
        self.clock.advance(self.seconds.get(args[0], 0.1))
        code = self.codes.get(args[0], [0]).pop(0) if self.codes.get(args[0]) else 0
        if self.stop_after and len(self.calls) >= self.stop_after:
            self.stop.set()
        return CommandResult(code, 0.1, [], [f"{args[0]} broke"] if code else [], False)


def fake_scheduler(make_settings: Callable[..., Settings], tmp_path: Path, schedule: str,
                   runner_seconds: dict[str, float], **runner: Any) -> tuple[Scheduler, FakeRunner]:
    config = write_config(tmp_path / "c.toml", {"s": ("http://127.0.0.1:9/", schedule)}, poll=5)
    clock = FakeClock("2024-01-01T00:00:00.500")
    stop = FakeStop(clock, stop_when_idle=runner.pop("stop_when_idle", False))
    fake = FakeRunner(clock, stop, runner_seconds, **runner)
    return Scheduler(make_settings(config), runner=fake, clock=clock, stop=stop), fake


def test_slots_missed_during_a_long_run_collapse_into_one_run(
        tmp_path: Path, make_settings: Callable[..., Settings],
        caplog: pytest.LogCaptureFixture) -> None:
    scheduler, runner = fake_scheduler(make_settings, tmp_path, "@every 1s",
                                       {"crawl": 3.5, "index": 0.2}, stop_after=5)
    scheduler.run_forever()
    started = [(when.isoformat(timespec="milliseconds")[11:23], args[0])
               for when, args in runner.calls]
    # the first slot at 00:00:01; each run lasts 3.7 s, so 3 slots pass during each, and
    # the next run starts at once, alone, instead of three runs queued behind it
    assert started == [("00:00:01.000", "crawl"), ("00:00:04.500", "index"),
                       ("00:00:04.700", "crawl"), ("00:00:08.200", "index"),
                       ("00:00:08.400", "crawl")]
    overran = [r.getMessage() for r in caplog.records if "overran its slot" in r.getMessage()]
    assert len(overran) == 3      # one line per run that overran, not one per missed slot
    assert "3 slot(s) from 2024-01-01T00:00:02.000" in overran[0]


def test_a_failed_run_is_logged_and_the_schedule_goes_on(
        tmp_path: Path, make_settings: Callable[..., Settings],
        caplog: pytest.LogCaptureFixture) -> None:
    scheduler, runner = fake_scheduler(make_settings, tmp_path, "@every 10s", {"crawl": 1},
                                       codes={"crawl": [2, 0]}, stop_after=3)
    scheduler.run_forever()
    assert [args[0] for _, args in runner.calls] == ["crawl", "crawl", "index"]
    assert [when.second for when, _ in runner.calls] == [10, 20, 21]   # the next slot, not a retry
    failed = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert failed == ["site s: crawl failed with exit 2 in 0.1 s: crawl broke"]
    state = read_state(scheduler.data_dir)
    assert state["state"] == "stopped" and state["sites"]["s"]["last_trigger"] == "schedule"
    assert [(step["what"], step["exit"]) for step in state["recent"]] == [
        ("crawl", 2), ("crawl", 0), ("index", 0)]


def test_a_queued_job_gets_its_turn_between_overrunning_runs(
        tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    scheduler, runner = fake_scheduler(make_settings, tmp_path, "@every 1s",
                                       {"crawl": 3.0, "reclean": 1.0}, stop_after=6)
    queue = JobQueue.of(scheduler.settings)
    jobs = []
    runner.on_first_call = lambda: jobs.append(queue.enqueue("reclean", None, "ana"))
    scheduler.run_forever()
    assert [args[0] for _, args in runner.calls] == [
        "crawl", "index", "reclean", "index", "crawl", "index"]
    job = jobs[0]
    assert queue.get(job.id).state == "done"
    queue.close()


def test_unusable_poll_is_a_settings_error(tmp_path: Path,
                                           make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(SettingsError, match=r"the command line: schedule.poll must be at least"):
        Scheduler(make_settings(schedule__poll=0.0))


def test_queued_jobs_run_as_their_commands_and_are_finished(
        tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    scheduler, runner = fake_scheduler(make_settings, tmp_path, NEVER, {},
                                       codes={"reclean": [3]}, stop_when_idle=True)
    queue = JobQueue.of(scheduler.settings)
    jobs = [queue.enqueue("crawl", "s", "ana"), queue.enqueue("reclean", None, "ben"),
            queue.enqueue("rebuild", None, "ana"), queue.enqueue("index", None, "ana"),
            queue.enqueue("crawl", "gone", "ana")]
    scheduler.run_forever()
    assert [args for _, args in runner.calls] == [
        ["crawl", "--site", "s"], ["index"], ["reclean"], ["index", "--rebuild"], ["index"]]
    ended = [queue.get(job.id) for job in jobs]
    assert [job.state for job in ended] == ["done", "failed", "done", "done", "failed"]
    assert ended[0].message.startswith("crawl ok") and "index ok" in ended[0].message
    assert ended[1].message == "reclean failed (exit 3): reclean broke"
    assert "no such site 'gone'" in ended[4].message
    assert read_state(scheduler.data_dir)["sites"]["s"]["last_trigger"] == f"job {jobs[0].id}"
    queue.close()


# -- the real command ------------------------------------------------------------------------------
class Tiny:
    """A three-page newsroom on pytest-httpserver; `slow` seconds are added to one page."""

    def __init__(self, server: HTTPServer, slow: float = 0.0) -> None:
        self.url = f"http://127.0.0.1:{server.port}/"
        self.slow = slow
        self.slow_started = threading.Event()
        server.no_handler_status_code = 404
        server.expect_request("/").respond_with_data(
            '<html><head><title>News</title></head><body><a href="/news/one">One</a>'
            '<a href="/news/two">Two</a></body></html>', content_type="text/html")
        server.expect_request("/news/one").respond_with_handler(self.page)
        server.expect_request("/news/two").respond_with_handler(self.page)

    def page(self, request: Request) -> Response:
        if request.path.endswith("two"):
            self.slow_started.set()
            time.sleep(self.slow)
        title = request.path.rsplit("/", 1)[-1].title()
        text = " ".join(f"Release {title} tells of sentence {n} of a long enough story." for n in range(12))
        return Response(f'<html><head><title>Release {title}</title><meta property='
                        f'"article:published_time" content="2024-05-01"></head><body><article>'
                        f"<h1>Release {title}</h1><p>{text}</p></article></body></html>",
                        content_type="text/html")


class Running:
    """`pressroom schedule` in a subprocess, its log in a file."""

    def __init__(self, tmp_path: Path, config: Path, data: Path, *extra: str,
                 env: dict[str, str] | None = None) -> None:
        self.data = data
        self.log_path = tmp_path / f"schedule-{time.monotonic_ns()}.log"
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pressroom", "schedule", "--config", str(config), "--data-dir",
             str(data), *extra], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log,
            env={**os.environ, **FAST_ENV, **(env or {})})

    def wait_for(self, what: str, check: Callable[[dict[str, Any]], bool], timeout: float = 30
                 ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = read_state(self.data)
            if state and check(state):
                return state
            assert self.proc.poll() is None, f"scheduler exited early:\n{self.text()}"
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.text()}")

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.text():
                return
            assert self.proc.poll() is None, f"scheduler exited early:\n{self.text()}"
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {text!r}:\n{self.text()}")

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=40)

    def text(self) -> str:
        self.log.flush()
        return self.log_path.read_text()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def run(config: Path, data: Path, *extra: str, env: dict[str, str] | None = None) -> Running:
        started.append(Running(tmp_path, config, data, *extra, env=env))
        return started[-1]

    yield run
    for running in started:
        running.close()


def steps(state: dict[str, Any], what: str, exit_code: int | None = None) -> list[dict[str, Any]]:
    return [s for s in state.get("recent", []) if s["what"] == what
            and (exit_code is None or s["exit"] == exit_code)]


def where(data: Path) -> DataDir:
    """The data directory as the commands a test runs see it (the PostgreSQL pass's database)."""
    return DataDir(data, os.environ.get("PRESSROOM_ARCHIVE_DATABASE", ""))


def catalogue_scalar(data: Path, sql: str) -> Any:
    db = Database(where(data).catalogue_url, read_only=True)
    try:
        return db.scalar(sql)
    finally:
        db.close()


def catalogue_runs(data: Path) -> list[tuple[str, str, str | None, str]]:
    db = Database(where(data).catalogue_url, read_only=True)
    try:
        return [tuple(row) for row in
                db.execute("SELECT site, started, finished, state FROM runs ORDER BY id")]
    finally:
        db.close()


def test_schedule_fires_and_runs_crawl_then_index(
        tmp_path: Path, httpserver: HTTPServer, start: Callable[..., Running]) -> None:
    tiny = Tiny(httpserver)
    data = tmp_path / "data"
    config = write_config(tmp_path / "c.toml", {"tiny": (tiny.url, "@every 1s")})
    running = start(config, data)
    state = running.wait_for("a crawl and an index",
                             lambda s: s["sites"].get("tiny", {}).get("last_exit") == 0)
    assert running.terminate() == 0
    crawl, index = steps(state, "crawl", 0)[0], steps(state, "index", 0)[0]
    assert crawl["label"] == "site tiny" and crawl["end"] <= index["start"]
    assert state["sites"]["tiny"]["last_start"] in [c["start"] for c in steps(state, "crawl", 0)]
    assert state["sites"]["tiny"]["last_end"] >= index["end"]
    assert catalogue_runs(data)[0][0] == "tiny" and catalogue_runs(data)[0][3] == "done"
    assert catalogue_scalar(data, "SELECT count(*) FROM cleaned WHERE is_release = 1") == 2
    assert any((data / "index").iterdir())       # `pressroom index` ran on what the crawl kept
    final = read_state(data)
    assert final["state"] == "stopped" and final["pid"] == running.proc.pid
    with RunLock(data, "schedule"):              # released on SIGTERM
        pass


@pytest.mark.slow
def test_slow_runs_never_overlap_and_an_overrun_is_logged_once(
        tmp_path: Path, httpserver: HTTPServer, start: Callable[..., Running]) -> None:
    tiny = Tiny(httpserver, slow=1.5)
    data = tmp_path / "data"
    config = write_config(tmp_path / "c.toml", {"tiny": (tiny.url, "@every 1s")})
    running = start(config, data)
    state = running.wait_for("two runs", lambda s: len(steps(s, "index")) >= 2, timeout=45)
    assert running.terminate() == 0
    recent = read_state(data)["recent"]
    for before, after in itertools.pairwise(recent):
        assert before["end"] <= after["start"], recent
    runs = catalogue_runs(data)
    for before, after in itertools.pairwise(runs):
        assert before[2] is not None and before[2] <= after[1], runs
    crawls = steps(state, "crawl")
    # each run outlasts several 1-second slots: with slots doubled there would be a run per slot
    assert len([r for r in runs if r[3] == "done"]) == len(steps(read_state(data), "crawl", 0))
    seconds = (datetime.datetime.fromisoformat(crawls[-1]["start"])
               - datetime.datetime.fromisoformat(crawls[0]["start"])).total_seconds()
    assert len(crawls) - 1 < seconds / 1.5
    overran = running.text().count("overran its slot")
    assert 1 <= overran <= len(steps(read_state(data), "crawl")), running.text()


def test_sigterm_stops_the_running_crawl_and_exits_0(
        tmp_path: Path, httpserver: HTTPServer, start: Callable[..., Running]) -> None:
    tiny = Tiny(httpserver, slow=3)
    data = tmp_path / "data"
    config = write_config(tmp_path / "c.toml", {"tiny": (tiny.url, "@every 1s")})
    running = start(config, data)
    assert tiny.slow_started.wait(20), running.text()
    began = time.monotonic()
    assert running.terminate() == 0
    assert time.monotonic() - began < 10, running.text()     # well within the 30 s grace
    state = read_state(data)
    assert state["state"] == "stopped" and state["current"] is None
    assert state["recent"][-1]["what"] == "crawl" and state["recent"][-1]["exit"] != 0
    assert "site tiny: crawl stopped by the scheduler's shutdown" in running.text()
    with RunLock(data, "crawl"), RunLock(data, "schedule"):   # the child is gone with its lock
        pass


def test_a_failed_run_does_not_stop_the_scheduler(
        tmp_path: Path, httpserver: HTTPServer, start: Callable[..., Running]) -> None:
    tiny = Tiny(httpserver)
    data = tmp_path / "data"
    data.mkdir()
    config = write_config(tmp_path / "c.toml", {"tiny": (tiny.url, "@every 1s")})
    crawl_lock = RunLock(data, "crawl")
    crawl_lock.acquire()                 # the scheduled crawls fail: "another crawl is running"
    running = start(config, data)
    running.wait_for("a failed crawl", lambda s: s["sites"].get("tiny", {}).get("last_exit") == 1)
    crawl_lock.release()
    state = running.wait_for("a good crawl", lambda s: bool(steps(s, "index", 0)))
    assert running.terminate() == 0
    assert steps(state, "crawl", 1) and steps(state, "crawl", 0)
    assert "site tiny: crawl failed with exit 1" in running.text()
    assert "another crawl is running" in running.text()


@pytest.mark.no_database  # the file lock of SQLite data directories; PostgreSQL's: at the end
def test_sigkilled_scheduler_leaves_no_stuck_lock_and_a_second_one_is_refused(
        tmp_path: Path, start: Callable[..., Running]) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path / "c.toml", {"far": ("http://127.0.0.1:9/", NEVER)})
    first = start(config, data)
    first.wait_for("the first scheduler", lambda s: s["pid"] == first.proc.pid)
    first.proc.kill()
    first.proc.wait()
    second = start(config, data)
    second.wait_for("the second scheduler", lambda s: s["pid"] == second.proc.pid)
    third = run_process("schedule", "--config", str(config), "--data-dir", str(data),
                      env=FAST_ENV, timeout=30)
    assert third.returncode == 1
    assert third.stderr.startswith("Error: a scheduler is already running on this data "
                                   "directory: another schedule is running (pid "
                                   f"{second.proc.pid})"), third.stderr
    assert second.proc.poll() is None
    assert second.terminate() == 0


def test_a_queued_job_is_claimed_run_and_marked_done(
        tmp_path: Path, start: Callable[..., Running]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = write_config(tmp_path / "c.toml", {"far": ("http://127.0.0.1:9/", NEVER)})
    queue = JobQueue(where(data).store_url("jobs"))
    left = queue.enqueue("rebuild", None, "ana")
    queue.claim(pid=999999)                          # as if a dead scheduler had taken it
    job = queue.enqueue("index", None, "ben")
    running = start(config, data)
    running.wait_for("the job", lambda s: bool(steps(s, "index")))
    deadline = time.monotonic() + 10
    while queue.get(job.id).state in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.terminate() == 0
    done = queue.get(job.id)
    assert done.state == "done" and done.message.startswith("index ok"), done
    assert queue.get(left.id).state == "failed"
    assert (data / "index").exists()
    queue.close()


def test_once_runs_every_site_and_exits(
        tmp_path: Path, httpserver: HTTPServer) -> None:
    tiny = Tiny(httpserver)
    data = tmp_path / "data"
    config = write_config(tmp_path / "c.toml", {"tiny": (tiny.url, NEVER)})
    result = run_process("schedule", "--once", "--config", str(config), "--data-dir", str(data),
                       env=FAST_ENV, timeout=60)
    assert result.returncode == 0, result.stderr
    state = json.loads(DataDir(data).schedule_state.read_text())
    assert state["sites"]["tiny"]["last_trigger"] == "once"
    assert [s["what"] for s in state["recent"]] == ["crawl", "index"]
    assert state["state"] == "stopped"


def test_on_postgresql_one_scheduler_is_active_and_another_takes_over_when_it_dies(
        tmp_path: Path, start: Callable[..., Running], postgres_url: str) -> None:
    """Two machines (own data directories, one database): the second stands by, then takes
    over when the first is SIGKILLed, and claims the jobs queued in the database."""
    config = write_config(tmp_path / "c.toml", {"far": ("http://127.0.0.1:9/", NEVER)})
    shared = {"PRESSROOM_ARCHIVE_DATABASE": postgres_url}
    first = start(config, tmp_path / "a", env=shared)
    first.wait_for("the first scheduler", lambda s: s["pid"] == first.proc.pid)
    second = start(config, tmp_path / "b", env=shared)
    host = socket.gethostname()
    second.wait_for_log(f"standing by: scheduler active on {host} pid {first.proc.pid}")
    assert not DataDir(tmp_path / "b").schedule_state.exists(), "a standby runs nothing"
    once = run_process("schedule", "--once", "--config", str(config), "--data-dir",
                       str(tmp_path / "c"), env={**FAST_ENV, **shared}, timeout=30)
    assert once.returncode == 1
    assert f"Error: a scheduler is already active on {host} pid {first.proc.pid}" in once.stderr

    third = start(config, tmp_path / "d", env=shared)
    third.wait_for_log("standing by: scheduler active on")
    assert third.terminate() == 0, "a standby stops cleanly on SIGTERM"

    first.proc.kill()                        # its connection drops: the server frees the lock
    first.proc.wait()
    second.wait_for("the takeover", lambda s: s["pid"] == second.proc.pid, timeout=20)
    assert "taking over: the scheduler lock is free" in second.text()
    queue = JobQueue(postgres_url)
    try:
        job = queue.enqueue("crawl", "gone", "ana")
        deadline = time.monotonic() + 10
        while queue.get(job.id).state == "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert queue.get(job.id).message == "no such site 'gone' in the settings"
    finally:
        queue.close()
    assert second.terminate() == 0


def test_a_scheduler_whose_lock_connection_drops_stops_with_an_error(
        tmp_path: Path, start: Callable[..., Running], postgres_url: str) -> None:
    config = write_config(tmp_path / "c.toml", {"far": ("http://127.0.0.1:9/", NEVER)})
    running = start(config, tmp_path / "a", env={"PRESSROOM_ARCHIVE_DATABASE": postgres_url})
    running.wait_for("the scheduler", lambda s: s["pid"] == running.proc.pid)
    db = Database(postgres_url)
    try:
        ended = db.scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                          "WHERE application_name LIKE 'pressroom schedule %'")
    finally:
        db.close()
    assert ended == 1
    assert running.proc.wait(timeout=20) == 1
    assert "Error: the scheduler lock was lost" in running.text()
