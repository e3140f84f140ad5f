"""One run at a time: an exclusive lock file that the kernel releases when its holder dies.

The lock is an flock, which belongs to the open file description: a process forked while the
lock is held (an indexing worker, say) would share it, and keep the lock alive after its parent
was killed, blocking every later run. So a forked child closes its copy at once, leaving the
parent's lock alone; exec'd children never get it (Python opens files close-on-exec).
"""

from __future__ import annotations

import fcntl
import os
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO

from archive.errors import CrawlLocked
from archive.layout import DataDir

# the locks this process holds, for the fork hook below (a fork hook is process-wide by nature)
_HELD: weakref.WeakSet[RunLock] = weakref.WeakSet()


class RunLock:
    """An flock on DATA_DIR/NAME.lock, holding the owner's pid and start time for messages."""

    def __init__(self, directory: Path, name: str) -> None:
        self.path = DataDir(directory).lock(name)
        self.name = name
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise CrawlLocked naming the process that holds it."""
        fh = self.path.open("a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise CrawlLocked(f"another {self.name} is running ({holder}); "
                              f"it holds {self.path}") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        self._fh = fh
        _HELD.add(self)

    def release(self) -> None:
        """Release the lock."""
        _HELD.discard(self)
        if self._fh is not None:
            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def forget(self) -> None:
        """In a forked child: close the inherited descriptor, leaving the parent's lock held.

        An unlock here would release the parent's lock too (one open file description).
        """
        _HELD.discard(self)
        if self._fh is not None:
            self._fh.close()  # the last write was flushed in acquire: nothing to write here
            self._fh = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _forget_held_locks() -> None:
    for lock in list(_HELD):
        lock.forget()


os.register_at_fork(after_in_child=_forget_held_locks)
