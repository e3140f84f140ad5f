"""A small pool of Whoosh searchers, shared by the threads (or greenlets) of a process."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

IDLE_SEARCHERS = 4        # open Whoosh searchers a process keeps between searches


class SearcherPool:
    """Whoosh searchers shared by the threads (or gevent's greenlets) of a process.

    Each search borrows one and gives it back: at most `max_idle` stay open between searches,
    all of the latest commit seen. Thread-local searchers would not do: under gevent a
    thread-local is per connection, and each connection would keep a searcher's files open.
    """

    def __init__(self, open_searcher: Callable[[Path], Any], max_idle: int = IDLE_SEARCHERS) -> None:
        self._open_searcher = open_searcher
        self._max_idle = max_idle
        self._idle: list[Any] = []                           # the last given back at the end
        self._generations: dict[int, tuple[str, Any]] = {}   # id(open searcher) -> what it reads
        self._latest: tuple[str, Any] | None = None
        self._lock = threading.Lock()
        self._closed = False

    @contextlib.contextmanager
    def lease(self, directory: Path) -> Iterator[Any]:
        """Lend a searcher of the latest commit in `directory` until the block ends."""
        searcher = self._take(directory)
        try:
            yield searcher
        finally:
            self._give_back(searcher)

    def generation(self, searcher: Any) -> tuple[str, Any]:
        """Return the index folder and commit that a lent searcher reads."""
        return self._generations[id(searcher)]

    def close(self) -> None:
        """Close the idle searchers now, and each lent one when it comes back."""
        with self._lock:
            self._closed = True
        self._drop_idle()

    def _take(self, directory: Path) -> Any:
        with self._lock:
            searcher = self._idle.pop() if self._idle else None
        if searcher is not None:
            if self.generation(searcher)[0] == str(directory) and _up_to_date(searcher):
                return searcher
            # a commit or a rebuild landed: the idle searchers are all of the same, older one
            self._discard(searcher)
            self._drop_idle()
        # a new searcher rather than Searcher.refresh(), which fails on multi-segment readers
        searcher = self._open_searcher(directory)
        reader = searcher.reader()
        read = (str(directory), reader.generation() if hasattr(reader, "generation") else id(reader))
        with self._lock:
            self._generations[id(searcher)] = self._latest = read
        return searcher

    def _give_back(self, searcher: Any) -> None:
        with self._lock:
            keep = (not self._closed and len(self._idle) < self._max_idle
                    and self._generations[id(searcher)] == self._latest)
            if keep:
                self._idle.append(searcher)
        if not keep:
            self._discard(searcher)

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for searcher in idle:
            self._discard(searcher)

    def _discard(self, searcher: Any) -> None:
        with self._lock:
            del self._generations[id(searcher)]
        _close_quietly(searcher)


def _up_to_date(searcher: Any) -> bool:
    try:
        return bool(searcher.up_to_date())
    except Exception:  # the folder went away under an old searcher
        return False


def _close_quietly(searcher: Any) -> None:
    with contextlib.suppress(Exception):  # already closed, or its folder removed by a rebuild
        searcher.close()
