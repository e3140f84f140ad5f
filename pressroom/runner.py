"""Run one pressroom command in a child process, so that a crash in it cannot take the caller down.

The child is a fresh interpreter (multiprocessing's "spawn": no state or threads inherited from
a months-long scheduler) that calls the command's function directly, with the exit code and
messages the command has on the command line. It gets its own process group: a stop request
reaches it (and anything it started, such as index workers) as SIGTERM, then SIGKILL after a
grace period. Its output goes to temporary files, of which only the tail is kept: a scheduler
must not hold a crawl's whole log in memory.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import IO

TAIL_BYTES = 8192
TAIL_LINES = 10
POLL_SECONDS = 0.1
SPAWN = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class CommandResult:
    """How a child command ended."""

    exit_code: int                  # negative: killed by that signal
    seconds: float
    stdout_tail: list[str]
    stderr_tail: list[str]
    stopped: bool                   # ended because a stop was asked for

    @property
    def ok(self) -> bool:
        """Tell whether the command succeeded."""
        return self.exit_code == 0 and not self.stopped

    def reason(self, width: int = 300) -> str:
        """Return the last line of stderr (or stdout), cut to `width` characters."""
        lines = self.stderr_tail or self.stdout_tail
        return lines[-1][:width] if lines else ""


def command_args(args: list[str], data_dir: Path, config_file: str | None) -> list[str]:
    """Build the arguments of `pressroom ARGS` on a data directory (and settings file)."""
    argv = [*args, "--data-dir", str(Path(data_dir).resolve())]
    if config_file:
        argv += ["--config", str(config_file)]
    return argv


def run_command(args: list[str], stop: threading.Event, grace: float = 30.0,
                tick: Callable[[], None] | None = None, tick_every: float = 5.0) -> CommandResult:
    """Run `pressroom ARGS` in a child to its end (or until `stop` is set), calling `tick` every
    `tick_every` seconds."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pressroom-step-") as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        out.touch()
        err.touch()
        proc = SPAWN.Process(target=_child, args=(args, str(out), str(err)), daemon=False)
        try:
            proc.start()
        except OSError as exc:
            return CommandResult(127, time.monotonic() - started, [], [f"cannot start: {exc}"],
                                 False)
        stopped = False
        last_tick = time.monotonic()
        while proc.is_alive():
            if stop.wait(POLL_SECONDS):
                stopped = True
                stop_child(proc, grace)
                break
            if tick is not None and time.monotonic() - last_tick >= tick_every:
                tick()
                last_tick = time.monotonic()
        proc.join()
        code = proc.exitcode if proc.exitcode is not None else 1
        proc.close()
        with out.open("rb") as out_fh, err.open("rb") as err_fh:
            return CommandResult(code, time.monotonic() - started, tail(out_fh), tail(err_fh),
                                 stopped)


def _child(args: list[str], out: str, err: str) -> None:
    """The child's body: its own session, output to the files, then the command itself."""
    os.setsid()
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.dup2(target, fd)
        os.close(target)
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    os.close(stdin)
    from pressroom.cli import main  # the command group imports every layer: only in the child

    sys.argv = ["pressroom", *args]
    main()


def stop_child(proc: BaseProcess, grace: float) -> None:
    """Send SIGTERM to the child's process group; SIGKILL it if it is still there after `grace`."""
    _signal_group(proc, signal.SIGTERM)
    proc.join(grace)
    if proc.is_alive():
        _signal_group(proc, signal.SIGKILL)
        proc.join()


def _signal_group(proc: BaseProcess, signum: int) -> None:
    if proc.pid is None:
        return
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:  # not yet its own group leader, or already gone
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signum)


def tail(fh: IO[bytes], lines: int = TAIL_LINES) -> list[str]:
    """Return the last non-empty lines written to a file."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - TAIL_BYTES))
    text = fh.read().decode("utf-8", "replace")
    return [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]
