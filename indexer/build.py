"""Build the index from the archive's releases: incremental by default, or a full rebuild aside.

Only this module writes the index, one writer at a time (the `index` run lock and Whoosh's own
lock). A rebuild fills a new folder and swaps the `index` symlink to it atomically, so that
searches see the old index or the new one, never half of either. Its worker processes die
with it, however it ends (a worker left behind would wait for work forever).
"""

from __future__ import annotations

import ctypes
import logging
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from whoosh import index as whoosh_index
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.writing import SegmentWriter

from archive.catalogue import Catalogue
from archive.layout import DataDir
from archive.lock import RunLock
from archive.release import Release
from archive.warcstore import fsync_dir
from indexer import changes, titlewords
from indexer.analysis import LANGUAGES
from indexer.changes import families
from indexer.errors import IndexerError, IndexVersionError
from indexer.interface import IndexStats
from indexer.schema import build_schema, check_version, index_path, live_directory, write_version

logger = logging.getLogger(__name__)

KEEP_OLD_INDEXES = 1  # folders kept after a swap, for searchers that still have them open
OLD_INDEX_GRACE = 600.0  # seconds a replaced folder is kept whatever its rank
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WORKER_STOP_GRACE = 5.0  # seconds a terminated worker has to go before it is killed
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
MAX_CHANGES = 2000  # changed documents an update_changes applies, or a fifth of the releases


def document(release: Release, family: str) -> dict[str, Any]:
    """Map a release to the index's fields."""
    language = release.language if release.language in LANGUAGES else "en"
    published = release.published or ""
    fields: dict[str, Any] = {
        "id": release.id, "family": family, "url": release.url,
        "title": release.title, "body": release.body,
        "published": published or None, "version": release.version,
        "captured": release.captured, "date_source": release.date_source,
        "content_hash": release.content_hash,
        "countries": release.countries, "themes": release.themes,
        "projects": release.projects, "lang": release.language,
        "country": ",".join(release.countries),
        "theme": ",".join(release.themes),
        "project": ",".join(p.get("acronym", "") for p in release.projects if p.get("acronym")),
        "language": release.language,
        "year": published[:4],
        "site": release.site,
        "pubdate": int(published.replace("-", "")) if published else 0,
        f"title_{language}": release.title,
        f"body_{language}": release.body,
    }
    return fields


def build_from_releases(releases: Iterable[Release], index_dir: Path, procs: int = 2,
                        single_analyzer: bool = False, memory_mb: int = 1024) -> int:
    """Create a new index in `index_dir` (which must not hold one) from releases."""
    listed = list(releases)
    family_of = families(listed)
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(index_dir), build_schema(single_analyzer))
    # compound=False: a compound segment is copied into memory by every searcher that opens it
    # (Whoosh reads its parts through BytesIO), about 1 GB per thread at 100,000 releases
    with _StopSignalsHeld() as stop:
        writer = (_ParallelWriter(ix, procs=procs, multisegment=True, limitmb=memory_mb,
                                  compound=False) if procs > 1
                  else ix.writer(limitmb=memory_mb, compound=False))
        try:
            for release in listed:
                stop.check()
                writer.add_document(**document(release, family_of[release.id]))
            writer.commit()
        except BaseException:
            if not writer.is_closed:
                writer.cancel()  # stops the workers, which would wait for work forever
            raise
    indexed = whoosh_index.open_dir(str(index_dir)).doc_count()
    if indexed != len(listed):  # a worker that died (out of memory, say) loses its documents
        raise IndexerError(f"the new index in {index_dir} holds {indexed} of {len(listed)} "
                           "releases (a worker process failed); the live index is unchanged")
    titlewords.write(index_dir, titlewords.title_words(titlewords.release_texts(listed)))
    write_version(index_dir)
    return len(listed)


class _StopSignalsHeld:
    """Hold SIGINT and SIGTERM while an index is built; `check` handles them at a safe point.

    Handled anywhere, their KeyboardInterrupt can land inside a fork (CPython drops it in an
    at-fork hook, or leaves logging's lock taken) or just after a queue took its lock: the
    rebuild would then hang at exit. Only the main thread sets handlers, and only it gets them.
    """

    def __enter__(self) -> _StopSignalsHeld:
        self.caught: list[int] = []
        self.previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            self.previous = {signum: signal.signal(signum, self._catch) for signum in STOP_SIGNALS}
        return self

    def _catch(self, signum: int, frame: Any) -> None:
        self.caught.append(signum)

    def check(self) -> None:
        """Handle a stop signal that came since the last check, as it would have been then."""
        while self.caught:
            signum = self.caught.pop(0)
            handler = self.previous[signum]
            if callable(handler):
                handler(signum, None)  # the CLI's: KeyboardInterrupt
            elif handler != signal.SIG_IGN:  # the default action: end the process
                self._restore()
                signal.raise_signal(signum)

    def _restore(self) -> None:
        previous, self.previous = self.previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._restore()
        if kind is None and self.caught:  # one that came during the commit: handled now
            signal.raise_signal(self.caught[0])


class _Worker(SubWriterTask):  # type: ignore[misc]
    """A Whoosh sub-writer process that dies with the indexing process."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.parent = os.getpid()

    def run(self) -> None:
        """Index the batches of documents that the parent hands out, until it says stop."""
        die_with_parent(self.parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops its workers
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not KeyboardInterrupt as in the CLI
        super().run()


class _WatchedQueue:
    """The workers' job queue, whose put gives up once a worker has died rather than wait
    forever for room (a worker killed for lack of memory would hang the rebuild, lock held)."""

    def __init__(self, jobs: Any, tasks: list[_Worker]) -> None:
        self.jobs = jobs
        self.tasks = tasks

    def put(self, item: Any) -> None:
        """Queue a job (or the stop signal) for the workers."""
        while True:
            try:
                self.jobs.put(item, timeout=1.0)
                return
            except queue.Full:
                failed = [t.exitcode for t in self.tasks if t.exitcode not in (None, 0)]
                if failed:
                    raise IndexerError(f"a worker process of the rebuild ended early (exit "
                                       f"code {failed[0]}): its documents are lost") from None

    def get(self) -> Any:
        """Take the next job (in a worker)."""
        return self.jobs.get()


class _ParallelWriter(MpWriter):  # type: ignore[misc]
    """Whoosh's multi-process writer, with workers that die with it and stop when it cancels."""

    jobqueue: Any
    tasks: list[_Worker]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Whoosh's queue is made before any worker: they all get the watched one
        self.jobqueue = _WatchedQueue(self.jobqueue, self.tasks)

    def _new_task(self) -> _Worker:
        task = _Worker(self.storage, self.indexname, self.jobqueue, self.resultqueue,
                       self.subargs, self.multisegment)
        self.tasks.append(task)
        task.start()
        return task

    def cancel(self) -> None:
        """Stop the workers, then drop what was written (Whoosh's cancel leaves them waiting
        for work, and the interpreter waits for them at exit: a stopped rebuild would hang)."""
        try:
            started = [task for task in self.tasks if task.pid is not None]
            for task in started:
                task.terminate()
            for task in started:
                task.join(WORKER_STOP_GRACE)
                if task.is_alive():
                    task.kill()
                    task.join()
        finally:
            SegmentWriter.cancel(self)  # not MpWriter's: it only flags the parent's copies


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when `parent` dies (Linux); exit now if it has died.

    The signal comes when the thread that forked this process ends, which for the indexer is
    the main thread of `pressroom index`.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            logger.warning("worker %d cannot ask to die with its parent: %s", os.getpid(),
                           os.strerror(ctypes.get_errno()))
    if os.getppid() != parent:  # the parent died before prctl: no signal will come
        os._exit(1)


def rebuild(data_dir: Path, procs: int = 2, memory_mb: int = 1024,
            catalogue_url: str | None = None) -> IndexStats:
    """Build a fresh index from the catalogue beside the live one, then swap it in atomically."""
    started = time.monotonic()
    with RunLock(data_dir, "index"):
        _remove_stale_builds(data_dir)
        # a fresh, unique folder: never the live one, even for two rebuilds in one second
        target = Path(tempfile.mkdtemp(prefix=f"index-{time.strftime('%Y%m%d%H%M%S')}-",
                                       dir=data_dir))
        try:
            url = catalogue_url or DataDir(data_dir).catalogue_url
            catalogue = Catalogue(url)
            try:   # the rows before the releases: the record is never ahead of the index
                rows = changes.change_rows(catalogue.db)
                pairs = list(changes.latest_releases(catalogue.db))
            finally:
                catalogue.close()
            releases = [release for _, release in pairs]
            count = build_from_releases(releases, target, procs, memory_mb=memory_mb)
            _record(target, changes.identity(url), rows, pairs, families(releases))
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)  # a kill leaves it to the next run
            raise
        _swap(data_dir, target)
    return IndexStats(added=count, seconds=time.monotonic() - started, rebuilt=True)


def update(data_dir: Path, procs: int = 2, memory_mb: int = 1024,
           catalogue_url: str | None = None) -> IndexStats:
    """Apply what changed in the archive since the last run: add, update and delete releases
    (every release compared with the index)."""
    return _update(data_dir, procs, memory_mb, catalogue_url, only_changes=False)


def update_changes(data_dir: Path, procs: int = 2, memory_mb: int = 1024,
                   catalogue_url: str | None = None) -> IndexStats:
    """Apply the cleaning results written since the last update, reading only their releases
    (indexer/changes.py); the full compare when the index has no record of what it saw, or
    when much changed."""
    return _update(data_dir, procs, memory_mb, catalogue_url, only_changes=True)


def _update(data_dir: Path, procs: int, memory_mb: int, catalogue_url: str | None,
            only_changes: bool) -> IndexStats:
    link = index_path(data_dir)
    if not link.exists():
        return rebuild(data_dir, procs, memory_mb, catalogue_url)
    try:
        check_version(live_directory(data_dir))
    except IndexVersionError as exc:
        # a new Pressroom with another schema: the index is derived, so build it anew (aside,
        # swapped in at the end) rather than fail every scheduled run until someone notices
        logger.warning("%s: rebuilding it now", exc)
        return rebuild(data_dir, procs, memory_mb, catalogue_url)
    started = time.monotonic()
    url = catalogue_url or DataDir(data_dir).catalogue_url
    with RunLock(data_dir, "index"):
        _remove_stale_builds(data_dir)
        directory = live_directory(data_dir)
        check_version(directory)
        catalogue = Catalogue(url)
        try:
            seen = changes.read(directory, changes.identity(url)) if only_changes else None
            stats = _apply_changes(directory, catalogue, seen, memory_mb) if seen else None
            if stats is None:
                stats = _compare_all(directory, catalogue, changes.identity(url), memory_mb)
        finally:
            catalogue.close()
    stats.seconds = time.monotonic() - started
    return stats


def _compare_all(directory: Path, catalogue: Catalogue, name: str, memory_mb: int) -> IndexStats:
    """Compare every release of the catalogue with the index; apply the differences."""
    stats = IndexStats()
    ix = whoosh_index.open_dir(str(directory))
    with ix.searcher() as searcher:
        indexed = {fields["id"]: (fields.get("content_hash"), fields.get("family"))
                   for fields in searcher.all_stored_fields()}
    rows = changes.change_rows(catalogue.db)   # before the releases: the record is never ahead
    pairs = list(changes.latest_releases(catalogue.db))
    releases = [release for _, release in pairs]
    family_of = families(releases)
    writer = ix.writer(limitmb=memory_mb, compound=False)
    try:
        for release in releases:
            seen = indexed.pop(release.id, None)
            family = family_of[release.id]
            if seen == (release.content_hash, family):
                stats.unchanged += 1
                continue
            writer.update_document(**document(release, family))
            if seen is None:
                stats.added += 1
            else:
                stats.updated += 1
        for gone in indexed:
            writer.delete_by_term("id", gone)
            stats.deleted += 1
    except BaseException:
        writer.cancel()
        raise
    if stats.added or stats.updated or stats.deleted:
        writer.commit(optimize=False)
    else:
        writer.cancel()
    if stats.added or stats.updated or stats.deleted or titlewords.read(directory) is None:
        titlewords.write(directory, titlewords.title_words(titlewords.release_texts(releases)))
    _record(directory, name, rows, pairs, family_of)
    return stats


def _record(directory: Path, name: str, rows: dict[changes.Row, int],
            pairs: list[tuple[int, Release]], family_of: dict[str, str]) -> None:
    """Write beside the index the catalogue rows and releases it now reflects."""
    entries = {release.id: changes.Entry.of(doc, release, family_of[release.id])
               for doc, release in pairs}
    if len(entries) == len(pairs):
        changes.write(directory, changes.Seen(name, rows, entries))
    else:  # two documents with one release id: only the full compare handles them
        changes.forget(directory)


def _apply_changes(directory: Path, catalogue: Catalogue, seen: changes.Seen,
                   memory_mb: int) -> IndexStats | None:
    """Apply the releases of the documents whose rows changed since `seen`; None when the
    full compare should decide instead (many changes, or a case the record cannot settle)."""
    rows = changes.change_rows(catalogue.db)
    touched = seen.changed_documents(rows)
    if len(touched) > max(MAX_CHANGES, len(seen.releases) // 5):
        return None
    plan = changes.plan(seen, touched, list(changes.latest_releases(catalogue.db, touched)))
    if plan is None:
        return None
    # a release whose family alone changed (a translation came or went) is read now
    more = {plan.entries[rid].document for rid in plan.write if rid not in plan.fresh}
    for _, release in changes.latest_releases(catalogue.db, more):
        plan.fresh.setdefault(release.id, release)
    if any(rid not in plan.fresh for rid in plan.write):
        return None   # changed meanwhile: the full compare settles it
    if plan.write or plan.gone:
        ix = whoosh_index.open_dir(str(directory))
        writer = ix.writer(limitmb=memory_mb, compound=False)
        try:
            for rid in plan.write:
                writer.update_document(**document(plan.fresh[rid], plan.entries[rid].family))
            for rid in plan.gone:
                writer.delete_by_term("id", rid)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(optimize=False)
        # words are only added here (a word of a deleted text stays until a full compare)
        words = {**(titlewords.read(directory) or {}), **titlewords.title_words(
            titlewords.release_texts(plan.fresh[rid] for rid in plan.write))}
        titlewords.write(directory, dict(sorted(words.items())))
    changes.write(directory, changes.Seen(seen.catalogue, rows, plan.entries))
    return plan.stats


@dataclass(frozen=True)
class WhooshWriter:
    """The interface's IndexWriter: update() and rebuild() of one data directory's index."""

    data_dir: Path
    procs: int = 2
    memory_mb: int = 1024
    catalogue_url: str | None = None  # None: the SQLite catalogue of data_dir

    def update(self) -> IndexStats:
        """Apply what changed in the archive since the last run; rebuild if there is no index."""
        return update(self.data_dir, self.procs, self.memory_mb, self.catalogue_url)

    def update_changes(self) -> IndexStats:
        """Apply only the catalogue rows written since the last update (a search node's
        follower); the full compare when there is no record of them."""
        return update_changes(self.data_dir, self.procs, self.memory_mb, self.catalogue_url)

    def rebuild(self) -> IndexStats:
        """Build a fresh index from the catalogue beside the live one, then swap it in."""
        return rebuild(self.data_dir, self.procs, self.memory_mb, self.catalogue_url)


def _swap(data_dir: Path, target: Path) -> None:
    """Point data_dir/index at `target` atomically (a symlink replaced by rename)."""
    link = index_path(data_dir)
    if link.exists() and not link.is_symlink():
        # an index folder from an older layout: move it aside so the link can take its name
        link.rename(data_dir / f"index-old-{int(time.time())}")
    temp = data_dir / f".index-link-{os.getpid()}"
    if temp.is_symlink():
        temp.unlink()
    os.symlink(target.name, temp)
    os.replace(temp, link)
    fsync_dir(data_dir)
    _remove_old_indexes(data_dir, keep=target)


def _remove_old_indexes(data_dir: Path, keep: Path) -> None:
    """Delete replaced index folders, except the newest ones and any replaced only recently:
    a searcher may still be reading them."""
    old = sorted((p for p in data_dir.glob("index-*") if p.is_dir() and p != keep),
                 key=lambda p: p.stat().st_mtime)
    now = time.time()
    for path in old[:-KEEP_OLD_INDEXES] if KEEP_OLD_INDEXES else old:
        if now - path.stat().st_mtime > OLD_INDEX_GRACE:
            shutil.rmtree(path, ignore_errors=True)


def _remove_stale_builds(data_dir: Path) -> None:
    """Delete index folders that a killed rebuild left behind (never the live one)."""
    live = live_directory(data_dir) if index_path(data_dir).exists() else None
    for path in data_dir.glob("index-*"):
        if path.is_dir() and path != live and not (path / "PRESSROOM_SCHEMA").exists():
            shutil.rmtree(path, ignore_errors=True)
