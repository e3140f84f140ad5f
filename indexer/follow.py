"""Keep this machine's index current from the catalogue's change sequence (`index --follow`).

A search node has its own index in its own data directory and reads the shared catalogue. It
polls the catalogue's change token (count, sum and maximum of `cleaned.seq`: every cleaning
write changes it, even one that commits after a later one) and runs the index update when the
token moved. The token is read before the update, never after: a write that lands while the
update reads is then either in the update or changes the token again, and is never missed.

A stop (SIGTERM, SIGINT) waits for the update under way to end: the index is never left half
written. A database outage leaves the index as it is, says so once, and the follower retries
until the catalogue answers again. The index stays derived: delete it, and the next poll
rebuilds it from the catalogue.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy

from archive.catalogue import Catalogue
from archive.database import redacted
from archive.errors import ArchiveError, CatalogueError, CrawlLocked, NoArchive
from archive.lock import RunLock
from indexer.interface import IndexWriter, index_version

logger = logging.getLogger(__name__)

# a follower's first update, and every FULL_EVERY-th, compares every release with the index;
# the others read only the releases whose catalogue rows changed. The full compare settles
# what the record of those rows cannot see (a catalogue restored from an older backup, say).
FULL_EVERY = 100
MAX_RETRY = 60.0  # seconds between attempts, at most, while the catalogue is unreachable
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# what an unreachable or restarting database raises: on opening, or on a statement
OUTAGES: tuple[type[BaseException], ...] = (CatalogueError, sqlalchemy.exc.DBAPIError,
                                            sqlalchemy.exc.OperationalError)


@dataclass
class Follower:
    """Poll a catalogue's change token and update one data directory's index when it moves."""

    data_dir: Path
    catalogue_url: str
    writer: IndexWriter
    interval: float = 5.0
    stop: threading.Event = field(default_factory=threading.Event)
    updates: int = 0                    # updates run so far (rebuilds included)
    token: str | None = None            # the change token the live index reflects
    _catalogue: Catalogue | None = None
    _outage_since: float | None = None
    _retry: float = 0.0
    _waiting: bool = False

    def run(self) -> int:
        """Follow until `stop` is set; return the number of updates run."""
        with RunLock(self.data_dir, "follow"):
            logger.info("following %s into the index of %s, every %.1f s",
                        redacted(self.catalogue_url), self.data_dir, self.interval)
            try:
                while not self.stop.is_set():
                    self.stop.wait(self.poll())
            finally:
                self.close()
        logger.info("stopped following after %d update%s", self.updates,
                    "" if self.updates == 1 else "s")
        return self.updates

    def poll(self) -> float:
        """Update the index if the catalogue changed; return the seconds to wait before the next."""
        try:
            token = self._read_token()
            if token == self.token and index_version(self.data_dir) is not None:
                return self.interval
            full = self.updates % FULL_EVERY == 0
            stats = self.writer.update() if full else self.writer.update_changes()
        except NoArchive as exc:            # an empty database: nothing crawled yet
            self._disconnect()
            if not self._waiting:
                logger.info("waiting for a first archive: %s", exc)
            self._waiting = True
            return self.interval
        except OUTAGES as exc:
            return self._outage(exc)
        except CrawlLocked as exc:          # a manual `pressroom index` is running: next time
            logger.info("index busy, next attempt in %.1f s: %s", self.interval, exc)
            return self.interval
        except ArchiveError as exc:         # e.g. a failed rebuild: the live index is unchanged
            logger.error("index update failed, next attempt in %.1f s: %s", self.interval, exc)
            return self.interval
        self._recovered()
        self._waiting = False
        self.token = token
        self.updates += 1
        logger.info("%s (catalogue change %s)", stats.summary(), token)
        return self.interval

    def _read_token(self) -> str:
        if self._catalogue is None:
            self._catalogue = Catalogue(self.catalogue_url, read_only=True)
        return self._catalogue.change_token()

    def _outage(self, exc: BaseException) -> float:
        self._disconnect()   # a dead connection: the next attempt opens a fresh one
        now = time.monotonic()
        self._retry = min(max(self._retry * 2, self.interval, 1.0), MAX_RETRY)
        if self._outage_since is None:
            self._outage_since = now
            logger.warning("catalogue unreachable, the index stays as it is; retrying every "
                           "%.0f s at most: %s", MAX_RETRY, _first_line(exc))
        else:
            logger.debug("catalogue still unreachable: %s", _first_line(exc))
        return self._retry

    def _recovered(self) -> None:
        if self._outage_since is not None:
            logger.warning("catalogue reachable again after %.0f s of outage",
                           time.monotonic() - self._outage_since)
        self._outage_since = None
        self._retry = 0.0

    def close(self) -> None:
        """Close the connection kept between polls."""
        self._disconnect()

    def _disconnect(self) -> None:
        catalogue, self._catalogue = self._catalogue, None
        if catalogue is not None:
            try:
                catalogue.close()
            except OUTAGES:
                logger.debug("closing a dead catalogue connection failed", exc_info=True)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Turn SIGTERM and SIGINT into `stop.set()` for the block (main thread only), so that a
    stop lands between updates."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: Any) -> None:
        if not stop.is_set():
            logger.info("%s received: stopping after the update under way",
                        signal.Signals(signum).name)
        stop.set()

    previous: dict[int, Callable[..., Any] | int | None] = {
        signum: signal.signal(signum, request_stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
