"""One run at a time: an exclusive lock file that the kernel releases when its holder dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import IO

from archive.errors import CrawlLocked


class RunLock:
    """An flock on DATA_DIR/NAME.lock, holding the owner's pid and start time for messages."""

    def __init__(self, directory: Path, name: str) -> None:
        self.path = directory / f"{name}.lock"
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

    def release(self) -> None:
        """Release the lock."""
        if self._fh is not None:
            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
