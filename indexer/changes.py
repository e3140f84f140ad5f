"""What changed in the catalogue since the index saw it, without reading every release.

Every cleaning write takes a new number of the catalogue's change sequence (`cleaned.seq`).
Beside the index, SEEN.json records the rows the index reflects ((document, version) -> seq)
and, per release, what the next update needs of it without reading it again: its document,
URL, translation links, content hash and family. The rows now, compared with those seen
(integers only, no release text), name the documents whose releases changed, however late
their writes were committed: a row whose number is new, or that is gone. Only those are read.

The record is written after the index commit it describes, from rows read before the releases:
at worst it is older than the index, and the next update applies a change twice (harmless),
never misses one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from archive.database import Database, redacted
from archive.release import Release
from indexer.interface import IndexStats

FILE = "SEEN.json"
FORMAT = 1
BATCH = 500  # document ids per query

Row = tuple[int, int]  # (document id, version)


@dataclass
class Entry:
    """What an update needs of an indexed release without reading it: links for the families,
    the content hash and family to tell a change."""

    document: int
    url: str
    links: list[str]
    content_hash: str
    family: str = ""
    id: str = ""

    @property
    def translations(self) -> list[dict[str, str]]:
        """The translation links, shaped as a Release's."""
        return [{"url": url} for url in self.links]

    @classmethod
    def of(cls, document: int, release: Release, family: str = "") -> Entry:
        """The entry of a release read from the catalogue."""
        links = [link["url"] for link in release.translations if link.get("url")]
        return cls(document, release.url, links, release.content_hash, family, release.id)


@dataclass
class Seen:
    """The catalogue rows an index reflects, and its releases' entries."""

    catalogue: str
    rows: dict[Row, int]
    releases: dict[str, Entry] = field(default_factory=dict)

    def changed_documents(self, now: dict[Row, int]) -> set[int]:
        """The documents with a row written or removed since these rows were read."""
        return ({row[0] for row, seq in now.items() if self.rows.get(row) != seq}
                | {row[0] for row in self.rows.keys() - now.keys()})


class Linked(Protocol):
    """What families() reads of a release: its id, URL and translation links."""

    @property
    def id(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def translations(self) -> list[dict[str, str]]: ...


def families(releases: Sequence[Linked]) -> dict[str, str]:
    """Group releases linked as translations into families; return id -> family id.

    The family id is the smallest release id in the family, so it is stable across builds.
    """
    by_url = {r.url: r.id for r in releases}
    parent = {r.id: r.id for r in releases}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for release in releases:
        for link in release.translations:
            other = by_url.get(link.get("url", ""))
            if other:
                a, b = root(release.id), root(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {rid: root(rid) for rid in parent}


@dataclass
class Plan:
    """What an update applies: the releases to write (read, or still to read) and to delete,
    the entries after it, and its figures."""

    entries: dict[str, Entry]
    fresh: dict[str, Release]
    write: list[str]
    gone: list[str]
    stats: IndexStats


def plan(seen: Seen, touched: set[int], fresh: list[tuple[int, Release]]) -> Plan | None:
    """Work out what the touched documents' releases (`fresh`, read anew; a touched document
    without one no longer has a release) change in the index: added, updated (text or
    family), deleted. None when one release id comes from two documents (the full compare
    decides)."""
    ids = [release.id for _, release in fresh]
    if len(set(ids)) != len(ids):
        return None
    # copies: the families are set on them, and compared with those seen
    entries = {rid: replace(e) for rid, e in seen.releases.items() if e.document not in touched}
    for doc, release in fresh:
        if release.id in entries:
            return None
        entries[release.id] = Entry.of(doc, release)
    family_of = families(list(entries.values()))
    stats, write = IndexStats(), []
    for rid, entry in entries.items():
        entry.family = family_of[rid]
        before = seen.releases.get(rid)
        if before is not None and (before.content_hash, before.family) == (entry.content_hash,
                                                                           entry.family):
            stats.unchanged += 1
            continue
        write.append(rid)
        stats.added += before is None
        stats.updated += before is not None
    gone = [rid for rid in seen.releases if rid not in entries]
    stats.deleted = len(gone)
    return Plan(entries, {release.id: release for _, release in fresh}, write, gone, stats)


def change_rows(db: Database) -> dict[Row, int]:
    """Every cleaning result's (document, version) and change number: integers only."""
    return {(int(r[0]), int(r[1])): int(r[2] or 0)
            for r in db.execute("SELECT document_id, version, seq FROM cleaned")}


def latest_releases(db: Database, documents: Collection[int] | None = None
                    ) -> Iterator[tuple[int, Release]]:
    """Yield (document id, release) for each document's latest release (as
    Catalogue.releases), of every document or of the ones named."""
    query = ("SELECT c.document_id, c.release FROM cleaned c WHERE c.is_release = 1 AND c.version ="
             " (SELECT MAX(c2.version) FROM cleaned c2 WHERE c2.document_id = c.document_id"
             " AND c2.is_release = 1) {only} ORDER BY c.document_id, c.version")
    if documents is None:
        for doc, text in db.execute(query.format(only="")).all():
            yield int(doc), Release.from_json(json.loads(text))
        return
    wanted = sorted(documents)
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start:start + BATCH]
        names = ", ".join(f":d{i}" for i in range(len(batch)))
        rows = db.execute(query.format(only=f"AND c.document_id IN ({names})"),
                          {f"d{i}": doc for i, doc in enumerate(batch)}).all()
        for doc, text in rows:
            yield int(doc), Release.from_json(json.loads(text))


def identity(url: str) -> str:
    """Name a catalogue in the record (no password)."""
    return redacted(url)


def read(directory: Path, catalogue: str) -> Seen | None:
    """The record beside an index, or None when it is missing, unreadable or of another
    catalogue (the full compare then)."""
    try:
        data = json.loads((directory / FILE).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("catalogue") != catalogue:
            return None
        rows = {(int(d), int(v)): int(s) for d, v, s in data["rows"]}
        releases = {rid: Entry(int(e[0]), str(e[1]), list(e[2]), str(e[3]), str(e[4]), rid)
                    for rid, e in data["releases"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return Seen(catalogue, rows, releases)


def write(directory: Path, seen: Seen) -> None:
    """Replace the record beside an index atomically."""
    data = {"format": FORMAT, "catalogue": seen.catalogue,
            "rows": [[d, v, s] for (d, v), s in seen.rows.items()],
            "releases": {rid: [e.document, e.url, e.links, e.content_hash, e.family]
                         for rid, e in seen.releases.items()}}
    temp = directory / f".{FILE}.{os.getpid()}"
    temp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(temp, directory / FILE)


def forget(directory: Path) -> None:
    """Remove the record (the index changed in a way it does not describe)."""
    (directory / FILE).unlink(missing_ok=True)
