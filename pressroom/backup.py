"""Back up a data directory while crawls run, and restore a backup into an empty one.

A backup is a folder: every SQLite database of the data directory, each copied through SQLite's
online backup API (one consistent snapshot), then the WARC files, and `manifest.json` with each
file's size and SHA-256. With the catalogue on PostgreSQL the backup has the same form: the
catalogue, staff and jobs tables are copied into SQLite files made by the same migrations, each
store in one REPEATABLE READ snapshot (archive/copy.py), and a restore into a PostgreSQL target
copies them back into its (empty) database.

WARC files are copied after the catalogue: a record is fsynced before the row that points at it
is committed, so every record the snapshot references is on disk by then. A closed WARC file is
copied whole. A file still being written (`.open`) is copied up to the end of the last record
the snapshot references (with the request record of that exchange, written and fsynced before
the row), under its final name: the copy holds no half record. In the backup they are in
`warc/`, wherever [archive] warc_dir kept them; a restore puts them where its settings say.

The backup is written into DIR/.partial and moved into DIR at the end, the manifest last, so a
killed backup leaves `.partial` behind and is never taken for a complete one.

No copy is readable by more people than its source: each file is written private (0600) and
then given its source's mode; `staff.sqlite` (password hashes) never more than 0600, whatever
the umask, in the backup and in a restored data directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import stat
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path, PurePosixPath
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from archive import migrate
from archive.catalogue import Catalogue, now_iso
from archive.copy import copy_store, store_rows
from archive.database import Database, redacted, sqlite_url
from archive.errors import ArchiveError
from archive.layout import PRIVATE_FILES, DataDir, open_archive
from archive.settings import Settings
from archive.verify import VerifyReport, verify_archive
from archive.warcstore import OPEN_SUFFIX, RecordRef, fsync_dir
from indexer.interface import open_writer

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PARTIAL = ".partial"
MANIFEST_FORMAT = 1
CHUNK = 1 << 20
PRIVATE = 0o600
WARC_FOLDER = "warc"  # in a backup, whatever [archive] warc_dir says
# the stores a backup holds, as the SQLite files of a data directory (rate limits are not kept)
STORE_FILES = {"catalogue": "catalogue.sqlite", "staff": "staff.sqlite", "jobs": "jobs.sqlite"}


class BackupError(ArchiveError):
    """A backup cannot be written, checked or restored; the message names the file."""


@dataclass(frozen=True)
class FileEntry:
    """One file of a backup: path relative to the backup (POSIX), size and SHA-256."""

    path: str
    size: int
    sha256: str


@dataclass
class BackupSummary:
    """What a backup or a restore holds."""

    files: list[FileEntry]
    releases: int

    @property
    def bytes(self) -> int:
        """Total size of the files."""
        return sum(f.size for f in self.files)


# -- backup -----------------------------------------------------------------------------------
def backup_archive(source: Path | DataDir, target: Path) -> BackupSummary:
    """Write a consistent snapshot of a data directory (and its shared database, when the
    DataDir names one) into `target` (empty or absent)."""
    paths = source if isinstance(source, DataDir) else DataDir(source)
    data_dir = paths.root
    if paths.shared_database:
        if _store_revision(paths.database, "catalogue") is None:
            raise BackupError(f"no archive in {redacted(paths.database)}: it has no catalogue")
    elif not paths.catalogue.is_file():
        raise BackupError(f"no archive in {data_dir}: {paths.catalogue.name} is missing")
    _check_empty(target, f"{target} is not empty: a backup goes into an empty or new folder")
    if not target.exists():
        target.mkdir(parents=True, mode=stat.S_IMODE(data_dir.stat().st_mode))
    partial = target / PARTIAL
    partial.mkdir(mode=0o700)  # private while it is written; its files take their modes
    (partial / WARC_FOLDER).mkdir(mode=0o700)
    try:
        entries, releases = _write_snapshot(paths, partial)
    except (ArchiveError, OSError):
        shutil.rmtree(partial, ignore_errors=True)  # a failure cleans up; a kill leaves .partial
        raise
    _publish(partial, target)
    return BackupSummary(entries, releases)


def _write_snapshot(paths: DataDir, partial: Path) -> tuple[list[FileEntry], int]:
    """Copy databases, then WARC files, then write the manifest, all into `partial`."""
    if paths.shared_database:
        entries = [_snapshot_store(paths, store, partial) for store in STORE_FILES
                   if _store_revision(paths.database, store) is not None]
    else:
        entries = [_snapshot_db(db, partial) for db in sorted(paths.root.glob("*.sqlite"))]
    snapshot = Catalogue(partial / paths.catalogue.name, read_only=True)
    try:
        last = _last_records(snapshot)
        releases = _count_releases(snapshot)
    finally:
        snapshot.close()
    entries += _copy_warcs(paths.warc, partial, last)
    if paths.warc.is_dir():
        (partial / WARC_FOLDER).chmod(stat.S_IMODE(paths.warc.stat().st_mode))
    manifest = {"format": MANIFEST_FORMAT, "created": now_iso(),
                "source": str(paths.root.resolve()), "pressroom": pressroom_version(),
                "releases": releases, "files": [asdict(e) for e in entries]}
    if paths.shared_database:
        manifest["database"] = redacted(paths.database)
    _write_durably(partial / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode(),
                   copy_mode(partial / STORE_FILES["catalogue"]))  # it says what the archive holds
    return entries, releases


def copy_mode(source: Path, name: str | None = None) -> int:
    """Return the mode of a copy of `source` (named `name`): never wider than the source's,
    at most 0600 for a private file, and never executable."""
    mode = stat.S_IMODE(source.stat().st_mode) & 0o666
    return mode & PRIVATE if (name or source.name) in PRIVATE_FILES else mode


def _create(path: Path) -> int:
    """Create a new file readable by the owner only and return its descriptor."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)


def pressroom_version() -> str:
    """Return the installed pressroom version, or 'unknown'."""
    try:
        return package_version("pressroom")
    except PackageNotFoundError:
        return "unknown"


def _check_empty(folder: Path, message: str) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(message)


def _snapshot_db(source: Path, root: Path) -> FileEntry:
    copy = root / source.name
    os.close(_create(copy))  # SQLite keeps the mode of the file it opens, and its journal too
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(copy)
    try:
        src.backup(dst)  # one step: one read transaction, so one committed state of the source
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: cannot back up the database: {exc}") from exc
    finally:
        dst.close()
        src.close()
    copy.chmod(copy_mode(source))
    return _entry(copy, root)


def _store_revision(url: str, store: str) -> str | None:
    """The store's schema revision in a database, or None when it has none of its tables."""
    db = Database(url, read_only=True, what=store)
    try:
        return migrate.current(db, store)
    finally:
        db.close()


def _snapshot_store(paths: DataDir, store: str, root: Path) -> FileEntry:
    """Copy one store of the shared database into a SQLite file, as the data directory would
    keep it: the same migrations, one snapshot, a self-contained file."""
    copy = root / STORE_FILES[store]
    os.close(_create(copy))  # private from the start: staff password hashes
    try:
        copy_store(paths.database, sqlite_url(copy), store)
        with sqlite3.connect(copy) as db:
            db.execute("PRAGMA journal_mode=DELETE")  # no -wal beside it
        db.close()
    except (ArchiveError, sqlite3.Error) as exc:
        raise BackupError(f"{redacted(paths.database)}: cannot back up the {store}: {exc}") from exc
    finally:
        copy.with_name(f".{copy.name}.migrate-lock").unlink(missing_ok=True)
    mode = stat.S_IMODE(paths.root.stat().st_mode) & 0o666  # as a file of the data directory
    copy.chmod(mode & PRIVATE if copy.name in PRIVATE_FILES else mode)
    return _entry(copy, root)


def _last_records(catalogue: Catalogue) -> dict[str, RecordRef]:
    """Return, for each WARC file the catalogue points into, its last referenced record."""
    last: dict[str, RecordRef] = {}
    for ref in catalogue.record_refs():
        seen = last.get(ref.file)
        if seen is None or ref.offset + ref.length > seen.offset + seen.length:
            last[ref.file] = ref
    return last


def _count_releases(catalogue: Catalogue) -> int:
    return int(catalogue.db.scalar(
        "SELECT COUNT(DISTINCT document_id) FROM cleaned WHERE is_release = 1"))


def _copy_warcs(source: Path, root: Path, last: dict[str, RecordRef]) -> list[FileEntry]:
    """Copy closed WARC files whole and open ones up to the snapshot's last record."""
    found: dict[str, bool] = {}  # final name -> still open when listed
    for path in sorted(source.iterdir()) if source.is_dir() else []:
        if path.name.endswith(".warc.gz"):
            found[path.name] = False  # closed wins if a rename made the listing show both
        elif path.name.endswith(".warc.gz" + OPEN_SUFFIX):
            found.setdefault(path.name.removesuffix(OPEN_SUFFIX), True)
    entries = []
    for name, is_open in sorted(found.items()):
        copy = root / WARC_FOLDER / name
        if not is_open:
            entries.append(_copy_file(source / name, copy, None, root))
        elif name in last:
            entries.append(_copy_open(source / (name + OPEN_SUFFIX), copy, last[name], root))
        else:
            logger.info("%s%s holds nothing the snapshot references: not copied", name, OPEN_SUFFIX)
    for name in sorted(set(last) - set(found)):
        logger.warning("the catalogue points into %s, which is not in %s", name, source)
    return entries


def _copy_open(path: Path, copy: Path, ref: RecordRef, root: Path) -> FileEntry:
    try:
        end = exchange_end(path, ref)
        return _copy_file(path, copy, end, root)
    except FileNotFoundError:  # the crawl closed the file since it was listed
        final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
        return _copy_file(final, copy, exchange_end(final, ref), root)


def exchange_end(path: Path, ref: RecordRef) -> int:
    """Return where the exchange of a record ends: after its request record when one follows."""
    end = ref.offset + ref.length
    with path.open("rb") as fh:
        fh.seek(ref.offset)
        records = ArchiveIterator(fh, check_digests=False)
        try:
            first = next(records)
            record_id = first.rec_headers.get_header("WARC-Record-ID")
            second = next(records)
            if (second.rec_type == "request" and record_id
                    and second.rec_headers.get_header("WARC-Concurrent-To") == record_id):
                second.content_stream().read()
                records.read_to_end(second)
                end = records.get_record_offset() + records.get_record_length()  # absolute
        except StopIteration:
            pass
        except Exception as exc:  # a torn record being written after the exchange: stop before it
            logger.debug("%s: no complete record after byte %d: %s", path.name, end, exc)
    return end


def _copy_file(source: Path, copy: Path, limit: int | None, root: Path) -> FileEntry:
    """Copy a file (its first `limit` bytes when given), fsync it and return its entry."""
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src, open(_create(copy), "wb") as out:
        while limit is None or size < limit:
            chunk = src.read(CHUNK if limit is None else min(CHUNK, limit - size))
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        out.flush()
        os.fchmod(out.fileno(), copy_mode(source, copy.name))
        os.fsync(out.fileno())
    if limit is not None and size < limit:
        raise BackupError(f"{source}: {size} bytes, the catalogue references {limit}")
    return FileEntry(copy.relative_to(root).as_posix(), size, digest.hexdigest())


def _entry(path: Path, root: Path) -> FileEntry:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())
    return FileEntry(path.relative_to(root).as_posix(), path.stat().st_size, sha256_of(path))


def _write_durably(path: Path, data: bytes, mode: int) -> None:
    with open(_create(path), "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fchmod(fh.fileno(), mode)
        os.fsync(fh.fileno())


def _publish(partial: Path, target: Path) -> None:
    """Move the finished backup out of `.partial`, the manifest last."""
    for child in sorted(partial.iterdir()):
        if child.name != MANIFEST:
            os.replace(child, target / child.name)
    fsync_dir(target)
    os.replace(partial / MANIFEST, target / MANIFEST)
    partial.rmdir()
    fsync_dir(target)


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- restore ----------------------------------------------------------------------------------
def read_manifest(backup: Path) -> tuple[dict[str, Any], list[FileEntry]]:
    """Read a complete backup's manifest; refuse an interrupted or foreign folder."""
    if not backup.is_dir():
        raise BackupError(f"{backup}: no such backup folder")
    if (backup / PARTIAL).exists():
        raise BackupError(f"{backup} is an interrupted backup ({PARTIAL} is still there): "
                          "it cannot be restored; take a new backup")
    path = backup / MANIFEST
    if not path.is_file():
        raise BackupError(f"{backup}: no {MANIFEST}, so not a complete pressroom backup")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        entries = [FileEntry(str(f["path"]), int(f["size"]), str(f["sha256"]))
                   for f in manifest["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{path}: unreadable manifest: {exc}") from None
    for entry in entries:
        parts = PurePosixPath(entry.path)
        if parts.is_absolute() or ".." in parts.parts or not parts.parts:
            raise BackupError(f"{path}: file path {entry.path!r} leaves the backup folder")
    return manifest, entries


def check_backup(backup: Path, entries: list[FileEntry]) -> None:
    """Check every file of a backup against its manifest size and SHA-256."""
    for entry in entries:
        path = backup / entry.path
        if not path.is_file():
            raise BackupError(f"{entry.path}: listed in the manifest, missing from {backup}")
        size = path.stat().st_size
        if size != entry.size:
            raise BackupError(f"{entry.path}: {size} bytes, the manifest says {entry.size}")
        if sha256_of(path) != entry.sha256:
            raise BackupError(f"{entry.path}: SHA-256 differs from the manifest "
                              "(the file was changed or damaged)")


def restore_archive(backup: Path, settings: Settings) -> BackupSummary:
    """Check a backup, copy it into the (empty) data directory, or its databases into the
    (empty) shared database the settings name, and verify the result."""
    manifest, entries = read_manifest(backup)
    where = DataDir.of(settings)
    data_dir = settings.data_dir
    _check_empty(data_dir, f"refusing to restore into {data_dir}: it is not empty "
                           "(restore into an empty or new data directory)")
    if where.warc_dir:
        _check_empty(where.warc, f"refusing to restore into {where.warc} ([archive] warc_dir): "
                                 "it is not empty")
    stores = {name: store for store, name in STORE_FILES.items()} if where.shared_database else {}
    for store in stores.values():
        held = store_rows(where.database, store)
        if held:
            raise BackupError(f"refusing to restore into {redacted(where.database)}: its {store} "
                              f"already holds {held} rows (restore into an empty database)")
    check_backup(backup, entries)
    folders: set[Path] = set()
    for entry in entries:
        if entry.path in stores:
            _restore_store(backup / entry.path, where, stores[entry.path])
            continue
        relative = PurePosixPath(entry.path)
        target = (where.warc.joinpath(*relative.parts[1:]) if relative.parts[0] == WARC_FOLDER
                  else data_dir / entry.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = backup / entry.path
        # a backup's own mode, capped: one from an older Pressroom may hold a readable staff.sqlite
        with source.open("rb") as src, open(_create(target), "wb") as out:
            shutil.copyfileobj(src, out, CHUNK)
            out.flush()
            os.fchmod(out.fileno(), copy_mode(source))
            os.fsync(out.fileno())
        folders.add(target.parent)
    for folder in folders:
        fsync_dir(folder)
    report = verify_restored(settings)
    if not report.ok:
        where_to = redacted(where.database) if where.shared_database else str(data_dir)
        raise BackupError(f"the restored archive in {where_to} fails verification "
                          f"({len(report.problems)} problems), first: {report.problems[0]}")
    return BackupSummary(entries, int(manifest.get("releases", 0)))


def _restore_store(source: Path, where: DataDir, store: str) -> None:
    """Copy a backed-up SQLite store into the shared database, through a scratch copy brought
    to this Pressroom's schema (a backup may come from an older one)."""
    where.root.mkdir(parents=True, exist_ok=True)
    scratch = where.root / f".restore-{source.name}"
    try:
        with source.open("rb") as src, open(_create(scratch), "wb") as out:
            shutil.copyfileobj(src, out, CHUNK)
        migrate.upgrade(sqlite_url(scratch), store)
        copy_store(sqlite_url(scratch), where.database, store)
    except ArchiveError as exc:
        raise BackupError(f"{source.name}: cannot restore the {store} into "
                          f"{redacted(where.database)}: {exc}") from exc
    finally:
        for leftover in (scratch, scratch.with_name(f".{scratch.name}.migrate-lock"),
                         *(scratch.with_name(scratch.name + suffix)
                           for suffix in ("-wal", "-shm", "-journal"))):
            leftover.unlink(missing_ok=True)


def verify_restored(settings: Settings) -> VerifyReport:
    """Run `pressroom verify`'s check on a data directory."""
    with open_archive(settings) as (catalogue, store):
        return verify_archive(catalogue, store)


def rebuild_index(settings: Settings) -> str:
    """Rebuild the search index of a restored data directory; say how it went in one line."""
    try:
        stats = open_writer(settings).rebuild()
    except ArchiveError as exc:
        raise BackupError(f"the archive is restored but the index rebuild failed ({exc}); "
                          f"run: pressroom index --rebuild --data-dir {settings.data_dir}") from exc
    return f"index rebuilt: {stats.added} releases in {stats.seconds:.1f} s"
