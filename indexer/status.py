"""How fresh the search index is: documents, last commit, size on disk, schema version.

Read-only: opens the live index folder for reading, never a writer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index

from indexer.interface import IndexStatus
from indexer.schema import SCHEMA_VERSION, VERSION_FILE, index_path, live_directory

__all__ = ["IndexStatus", "index_status"]


def index_status(data_dir: Path) -> IndexStatus:
    """Describe the live index of a data directory (or an index folder) without changing it."""
    if index_path(data_dir).exists():
        directory = live_directory(data_dir)
    elif whoosh_index.exists_in(str(data_dir)):
        directory = data_dir        # an index folder itself (benchmarks, baselines)
    else:
        return IndexStatus(exists=False, expected_schema=SCHEMA_VERSION,
                           problem="no index yet: run `pressroom index`")
    if not whoosh_index.exists_in(str(directory)):
        return IndexStatus(exists=False, expected_schema=SCHEMA_VERSION, folder=directory.name,
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
    return IndexStatus(exists=True, expected_schema=SCHEMA_VERSION, documents=documents,
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
