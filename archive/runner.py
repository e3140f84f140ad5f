"""Run one pressroom command as a child process, so that a crash in it cannot take the caller down.

The child gets its own process group: a stop request reaches it (and anything it started) as
SIGTERM, then SIGKILL after a grace period. Its output goes to temporary files, of which only
the tail is kept: a months-long scheduler must not hold a crawl's whole log in memory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

TAIL_BYTES = 8192
TAIL_LINES = 10
POLL_SECONDS = 0.1


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


def pressroom_argv(args: list[str], data_dir: Path, config_file: str | None) -> list[str]:
    """Build the command line of `pressroom ARGS` on a data directory, with the same interpreter."""
    argv = [sys.executable, "-m", "webapp", *args, "--data-dir", str(Path(data_dir).resolve())]
    if config_file:
        argv += ["--config", str(config_file)]
    return argv


def run_command(argv: list[str], stop: threading.Event, grace: float = 30.0,
                tick: Callable[[], None] | None = None, tick_every: float = 5.0) -> CommandResult:
    """Run `argv` to its end (or until `stop` is set), calling `tick` every `tick_every` seconds."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True)
        except OSError as exc:
            return CommandResult(127, time.monotonic() - started, [], [f"cannot start: {exc}"],
                                 False)
        stopped = False
        last_tick = time.monotonic()
        while proc.poll() is None:
            if stop.wait(POLL_SECONDS):
                stopped = True
                stop_child(proc, grace)
                break
            if tick is not None and time.monotonic() - last_tick >= tick_every:
                tick()
                last_tick = time.monotonic()
        code = proc.wait()
        return CommandResult(code, time.monotonic() - started, tail(out), tail(err), stopped)


def stop_child(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Send SIGTERM to the child's process group; SIGKILL it if it is still there after `grace`."""
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)


def tail(fh: IO[bytes], lines: int = TAIL_LINES) -> list[str]:
    """Return the last non-empty lines written to a file."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - TAIL_BYTES))
    text = fh.read().decode("utf-8", "replace")
    return [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]
