"""How fresh the search index is: documents, last commit, size on disk, schema version.

Read-only: opens the live index folder for reading, never a writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from indexer.schema import SCHEMA_VERSION, VERSION_FILE, index_path, live_directory


@dataclass(frozen=True)
class IndexStatus:
    """The state of a data directory's index; `exists` False means none has been built yet."""

    exists: bool
    documents: int = 0
    last_commit: datetime | None = None
    bytes: int = 0
    schema_version: int | None = None
    expected_schema: int = SCHEMA_VERSION
    folder: str | None = None
    problem: str | None = None

    @property
    def current(self) -> bool:
        """Tell whether the index exists and has the schema this Pressroom needs."""
        return self.exists and self.schema_version == self.expected_schema and not self.problem

    def to_json(self) -> dict[str, Any]:
        """Return the status as JSON-ready data."""
        return {"exists": self.exists, "documents": self.documents,
                "last_commit": self.last_commit.isoformat(timespec="seconds") if self.last_commit
                else None, "bytes": self.bytes, "schema_version": self.schema_version,
                "expected_schema": self.expected_schema, "current": self.current,
                "folder": self.folder, "problem": self.problem}


def index_status(data_dir: Path) -> IndexStatus:
    """Describe the live index of a data directory without changing it."""
    if not index_path(data_dir).exists():
        return IndexStatus(exists=False, problem="no index yet: run `pressroom index`")
    directory = live_directory(data_dir)
    if not whoosh_index.exists_in(str(directory)):
        return IndexStatus(exists=False, folder=directory.name,
                           problem="no index yet: run `pressroom index`")
    try:
        version: int | None = int((directory / VERSION_FILE).read_text().strip())
    except (OSError, ValueError):
        version = None
    files = [p for p in directory.iterdir() if p.is_file()]
    tocs = [p for p in files if p.name.endswith(".toc")]
    last = max((_stat(p)[1] for p in tocs), default=None)
    problem = None
    try:
        ix = whoosh_index.open_dir(str(directory))
        try:
            documents = int(ix.doc_count())
        finally:
            ix.close()
    except Exception as exc:  # whoosh raises many kinds on a damaged folder; report, not crash
        documents, problem = 0, f"cannot open the index: {exc}"
    if problem is None and version != SCHEMA_VERSION:
        problem = (f"schema version {version or 'unknown'}, this Pressroom needs {SCHEMA_VERSION}:"
                   " run `pressroom index --rebuild`")
    return IndexStatus(exists=True, documents=documents,
                       last_commit=datetime.fromtimestamp(last, UTC) if last else None,
                       bytes=sum(_stat(p)[0] for p in files), schema_version=version,
                       folder=directory.name, problem=problem)


def _stat(path: Path) -> tuple[int, float]:
    """Size and modification time of a file, zero if a merge removed it meanwhile."""
    try:
        found = path.stat()
    except OSError:
        return 0, 0.0
    return found.st_size, found.st_mtime
