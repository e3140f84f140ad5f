"""The built-in scheduler: crawl each site (then update the index) on its schedule, run staff jobs.

One job at a time, each a `pressroom` command in a child process (pressroom/runner.py), so a crashing run
cannot take the scheduler down and two runs never overlap. A slot that comes due while a run
is going is not doubled: when the run ends, the missed slots of a site collapse into one
pending run and one "overran its slot" line is logged. Between slots the job queue
(pressroom/jobqueue.py) is polled every `schedule.poll` seconds, and a queued job runs after
each scheduled run. Each slot is delayed by a random jitter of up to `schedule.jitter`
seconds, and of less than half the gap to the next slot, so jitter never skips a slot.

DATA_DIR/schedule.json, rewritten atomically at every event and heartbeat, tells
`pressroom status` what the scheduler is doing. Its fields (times are ISO 8601 in UTC):

- `pid`: the scheduler's process id; `started`: when it started;
- `heartbeat`: its last sign of life, at most `poll` seconds old while it runs (`poll` is
  stored too, so that a reader can tell a live scheduler from a dead one);
- `state`: "idle", "running" or "stopped" (it exited cleanly);
- `current`: null, or the step being run: `label` ("site iom", "job 12"), `what` ("crawl",
  "index", "reclean", "rebuild"), `since`;
- `sites`: per site key: `schedule` (the expression), `next` (next slot, without jitter),
  `next_start` (that slot plus its jitter), `running_since` (null unless its run is going
  now), and of its last finished crawl-then-index run: `last_start`, `last_end`, `last_exit`
  (0, the first failed step's exit code, negative for a signal, null when the scheduler
  stopped before the first step) and `last_trigger` ("schedule", "once" or "job N"); the
  `last_*` fields are kept across restarts;
- `recent`: the latest steps, oldest first (at most RECENT_STEPS): `label`, `what`, `start`,
  `end`, `exit`.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.errors import SettingsError
from archive.layout import DataDir
from archive.settings import Settings
from pressroom.cronexpr import Schedule, site_schedules
from pressroom.jobqueue import Job, JobQueue
from pressroom.runner import CommandResult, command_args, run_command

logger = logging.getLogger(__name__)

RECENT_STEPS = 50
GRACE_SECONDS = 30.0
MAX_COUNTED_SLOTS = 10000

Clock = Callable[[], datetime.datetime]
Runner = Callable[[list[str]], CommandResult]


def utcnow() -> datetime.datetime:
    """Return the current time, aware, in UTC."""
    return datetime.datetime.now(datetime.UTC)


def iso(moment: datetime.datetime | None) -> str | None:
    """Format a time for schedule.json (milliseconds: runs of a fast schedule stay apart)."""
    return None if moment is None else moment.isoformat(timespec="milliseconds")


def next_runs(settings: Settings, now: datetime.datetime) -> dict[str, datetime.datetime]:
    """Return each site's next scheduled start after `now` (UTC, without jitter)."""
    return {key: schedule.next_after(now) for key, schedule in site_schedules(settings).items()}


def read_state(data_dir: Path) -> dict[str, Any]:
    """Return the content of DATA_DIR/schedule.json, or {} when there is none (or it is unreadable)."""
    try:
        state = json.loads(DataDir(Path(data_dir)).schedule_state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(data_dir: Path, state: dict[str, Any]) -> None:
    """Replace DATA_DIR/schedule.json atomically: readers see the old file or the new one."""
    path = DataDir(Path(data_dir)).schedule_state
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def check_settings(settings: Settings) -> None:
    """Refuse [schedule] values the loop cannot work with, in one line naming the key."""
    for name, value, least in (("poll", settings.schedule.poll, 0.01),
                               ("jitter", settings.schedule.jitter, 0.0)):
        if value < least:
            origin = settings.sources.get(f"schedule.{name}", "settings")
            raise SettingsError(f"{origin}: schedule.{name} must be at least {least}, not {value}")


@dataclass
class Slot:
    """A site's next scheduled run."""

    key: str
    schedule: Schedule
    due: datetime.datetime          # the slot, without jitter
    fire_at: datetime.datetime      # the slot plus its jitter


class Scheduler:
    """Run the sites' schedules and the job queue on one data directory, one step at a time.

    The caller holds the data directory's "schedule" lock, or the database's scheduler lock
    (pressroom/schedule_lock.py): `still_active` then tells, at each heartbeat, whether it
    still does; when it does not, the scheduler stops and sets `lost_lock`. `clock`, `runner`
    and `stop` may be replaced in unit tests.
    """

    def __init__(self, settings: Settings, sites: list[str] | None = None,
                 config_file: str | None = None, runner: Runner | None = None,
                 clock: Clock = utcnow, stop: threading.Event | None = None,
                 rng: random.Random | None = None, grace: float = GRACE_SECONDS,
                 still_active: Callable[[], bool] | None = None) -> None:
        check_settings(settings)
        self.settings = settings
        self.data_dir = settings.data_dir
        self.config_file = config_file
        schedules = site_schedules(settings)
        self.schedules = {k: s for k, s in schedules.items() if not sites or k in sites}
        self.stop = stop or threading.Event()
        self.clock = clock
        self.rng = rng or random.Random()
        self.runner = runner or self._run_child
        self.grace = grace
        self.still_active = still_active
        self.lost_lock = False
        self.queue = JobQueue.of(settings)
        abandoned = self.queue.abandon_running()
        if abandoned:
            logger.warning("%d job(s) left running by a scheduler that died are marked failed",
                           abandoned)
        self.slots: dict[str, Slot] = {}
        self.pending: list[str] = []
        self.jobs_turn = False
        self.state = self._initial_state()

    # -- the loop -------------------------------------------------------------------------------
    def run_forever(self) -> None:
        """Run until `stop` is set: due sites and queued jobs in turn, else wait for the next."""
        now = self.clock()
        for key, schedule in self.schedules.items():
            self.slots[key] = self._slot(key, schedule, schedule.next_after(now))
        logger.info("scheduler started (pid %s): %s", os.getpid(), ", ".join(
            f"{k} {s.expr!r} next {iso(self.slots[k].fire_at)}" for k, s in self.schedules.items())
            or "no sites")
        try:
            while not self.stop.is_set():
                self._collect_due(self.clock(), running=None)
                if not self._work():
                    self._idle()
        finally:
            self.close()

    def run_once(self) -> bool:
        """Run every site now, then the queued jobs; return whether every run succeeded."""
        ok = True
        try:
            for key in self.schedules:
                if self.stop.is_set():
                    break
                ok = self._run_site(key, "once") and ok
            while not self.stop.is_set():
                job = self.queue.claim(os.getpid())
                if job is None:
                    break
                ok = self._run_job(job) and ok
        finally:
            self.close()
        return ok and not self.stop.is_set()

    def close(self) -> None:
        """Record that the scheduler stopped and close the job queue."""
        self.state.update(state="stopped", current=None, heartbeat=iso(self.clock()))
        self._save()
        self.queue.close()
        logger.info("scheduler stopped")

    def _work(self) -> bool:
        """Run a queued job or the next pending site; return False when there was nothing to do.

        After each scheduled run a queued job gets its turn, so that sites whose runs outlast
        their slots cannot keep the staff's jobs waiting for ever.
        """
        job = self.queue.claim(os.getpid()) if self.jobs_turn or not self.pending else None
        self.jobs_turn = False
        started = self.clock()
        if job is not None:
            self._run_job(job)
            self._collect_due(self.clock(), running=f"job {job.id} started {iso(started)}")
            return True
        if not self.pending:
            return False
        key = self.pending.pop(0)
        self._run_site(key, "schedule")
        self._collect_due(self.clock(), running=f"the run of {key} started {iso(started)}")
        self.jobs_turn = True
        return True

    def _idle(self) -> None:
        now = self.clock()
        self._heartbeat()
        wait = self.settings.schedule.poll
        if self.slots:
            first = min(slot.fire_at for slot in self.slots.values())
            wait = min(wait, (first - now).total_seconds())
        self.stop.wait(max(wait, 0.01))

    # -- slots ----------------------------------------------------------------------------------
    def _slot(self, key: str, schedule: Schedule, due: datetime.datetime) -> Slot:
        """Place a slot; its jitter stays under half the gap to the next slot, so none is skipped."""
        gap = (schedule.next_after(due) - due).total_seconds()
        jitter = self.rng.uniform(0, min(self.settings.schedule.jitter, gap / 2))
        slot = Slot(key, schedule, due, due + datetime.timedelta(seconds=jitter))
        self._site_state(key).update(schedule=schedule.expr, next=iso(due),
                                     next_start=iso(slot.fire_at))
        return slot

    def _collect_due(self, now: datetime.datetime, running: str | None) -> None:
        """Make every site whose slot has come make one pending run, however many slots passed."""
        for key, slot in list(self.slots.items()):
            if slot.fire_at > now:
                continue
            missed, due = 0, slot.due
            while missed < MAX_COUNTED_SLOTS:
                due = slot.schedule.next_after(due)
                if due > now:
                    break
                missed += 1
            else:
                due = slot.schedule.next_after(now)
            if running is not None or missed or key in self.pending:
                came = 1 + missed + (key in self.pending)
                logger.warning("site %s: overran its slot: %d slot(s) from %s came due while %s; "
                               "they make one run", key, came, iso(slot.due),
                               running or "the scheduler was not running")
            if key not in self.pending:
                self.pending.append(key)
            self.slots[key] = self._slot(key, slot.schedule, due)

    # -- runs -----------------------------------------------------------------------------------
    def _run_site(self, key: str, trigger: str) -> bool:
        """Crawl one site, then update the index if the crawl succeeded and the settings ask so."""
        steps = [("crawl", ["crawl", "--site", key])]
        if self.settings.schedule.index_after_crawl:
            steps.append(("index", ["index"]))
        site = self._site_state(key)
        results = self._run_steps(f"site {key}", steps, site)
        self._site_ended(site, trigger, results)
        self._save()
        return all(r.ok for r in results)

    def _site_ended(self, site: dict[str, Any], trigger: str, results: list[CommandResult]) -> None:
        site.update(last_start=site.pop("running_since", None), last_end=iso(self.clock()),
                    last_exit=_exit_of(results), last_trigger=trigger, running_since=None)

    def _run_job(self, job: Job) -> bool:
        """Run a queued job as its commands and record how it ended."""
        label = f"job {job.id}"
        logger.info("%s: %s%s asked by %s", label, job.kind, f" of {job.site}" if job.site else "",
                    job.requested_by or "someone")
        if job.kind == "crawl" and job.site not in self.settings.sites:
            message = f"no such site {job.site!r} in the settings"
            logger.error("%s: failed: %s", label, message)
            self.queue.finish(job.id, False, message)
            return False
        site = self._site_state(job.site) if job.kind == "crawl" and job.site else None
        results = self._run_steps(label, job_steps(job, self.settings.schedule.index_after_crawl),
                                  site)
        if site is not None:
            self._site_ended(site, label, results)
        ok = bool(results) and all(r.ok for r in results)
        self.queue.finish(job.id, ok, _job_message(job, results))
        self._save()
        return ok

    def _run_steps(self, label: str, steps: list[tuple[str, list[str]]],
                   site: dict[str, Any] | None = None) -> list[CommandResult]:
        """Run steps in order until one fails or a stop is asked for; a site's run starts when
        its first step does (one clock reading for both)."""
        results: list[CommandResult] = []
        for what, args in steps:
            if self.stop.is_set():
                break
            start = self.clock()
            if site is not None and not results:
                site["running_since"] = iso(start)
            self.state.update(state="running", current={"label": label, "what": what,
                                                        "since": iso(start)})
            self._save()
            logger.info("%s: %s started", label, what)
            result = self.runner(command_args(args, self.data_dir, self.config_file))
            results.append(result)
            self._record_step(label, what, start, result)
            if not result.ok:
                break
        self.state.update(state="idle", current=None)
        return results

    def _record_step(self, label: str, what: str, start: datetime.datetime,
                     result: CommandResult) -> None:
        recent = self.state.setdefault("recent", [])
        recent.append({"label": label, "what": what, "start": iso(start),
                       "end": iso(self.clock()), "exit": result.exit_code})
        del recent[:-RECENT_STEPS]
        if result.ok:
            logger.info("%s: %s ok in %.1f s", label, what, result.seconds)
        elif result.stopped:
            logger.warning("%s: %s stopped by the scheduler's shutdown after %.1f s (exit %s)",
                           label, what, result.seconds, result.exit_code)
        else:
            logger.error("%s: %s failed with exit %s in %.1f s: %s", label, what, result.exit_code,
                         result.seconds, " | ".join(result.stderr_tail[-3:])[-600:] or "no output")

    def _run_child(self, argv: list[str]) -> CommandResult:
        return run_command(argv, self.stop, self.grace, tick=self._heartbeat,
                           tick_every=self.settings.schedule.poll)

    # -- schedule.json --------------------------------------------------------------------------
    def _initial_state(self) -> dict[str, Any]:
        old = read_state(self.data_dir)
        old_sites = old.get("sites") if isinstance(old.get("sites"), dict) else {}
        now = iso(self.clock())
        return {"pid": os.getpid(), "started": now, "heartbeat": now,
                "poll": self.settings.schedule.poll, "state": "idle", "current": None,
                "sites": {k: dict(v) for k, v in (old_sites or {}).items()
                          if k in self.settings.sites and isinstance(v, dict)},
                "recent": list(old.get("recent") or [])[-RECENT_STEPS:]}

    def _site_state(self, key: str) -> dict[str, Any]:
        sites: dict[str, dict[str, Any]] = self.state["sites"]
        return sites.setdefault(key, {})

    def _heartbeat(self) -> None:
        if self.still_active is not None and not self.lost_lock and not self.still_active():
            self.lost_lock = True
            logger.error("the scheduler lock is lost (its database connection dropped): "
                         "stopping, another scheduler may be active now")
            self.stop.set()
        self.state["heartbeat"] = iso(self.clock())
        self._save()

    def _save(self) -> None:
        try:
            write_state(self.data_dir, self.state)
        except OSError as exc:  # a full disk must not stop the runs themselves
            logger.error("cannot write %s: %s", DataDir(Path(self.data_dir)).schedule_state, exc)


def job_steps(job: Job, index_after_crawl: bool) -> list[tuple[str, list[str]]]:
    """Return the commands that carry out a queued job, in order."""
    if job.kind == "crawl":
        steps = [("crawl", ["crawl", "--site", str(job.site)])]
        return steps + ([("index", ["index"])] if index_after_crawl else [])
    if job.kind == "reclean":
        return [("reclean", ["reclean"]), ("index", ["index"])]
    if job.kind == "rebuild":
        return [("rebuild", ["index", "--rebuild"])]
    return [("index", ["index"])]


def _exit_of(results: list[CommandResult]) -> int | None:
    failed = [r for r in results if not r.ok]
    if failed:
        return failed[0].exit_code
    return 0 if results else None


def _job_message(job: Job, results: list[CommandResult]) -> str:
    """Sum up a job for the staff pages in one short line."""
    if not results:
        return "stopped before it started: the scheduler was shut down"
    done = ", ".join(f"{what} ok ({r.seconds:.1f} s)"
                     for (what, _), r in zip(job_steps(job, True), results, strict=False) if r.ok)
    last = results[-1]
    if last.ok:
        return done
    what = job_steps(job, True)[len(results) - 1][0]
    if last.stopped:
        failure = f"{what} stopped: the scheduler was shut down"
    else:
        failure = f"{what} failed (exit {last.exit_code}): {last.reason(200) or 'no output'}"
    return f"{done}; {failure}" if done else failure
