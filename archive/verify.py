"""Check that the catalogue and the WARC files agree: every row points at a readable record.

Every gzip member of every WARC file is read to its end: a damaged member, one cut short or bytes
that are no gzip member at all are problems, named by file and offset. Only the last member of
an `.open` file may be cut short: that is the torn tail of a killed crawl, which the next crawl
trims.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from archive.catalogue import Catalogue
from archive.warcstore import OPEN_SUFFIX, MemberError, WarcStore, gzip_members, iter_records

logger = logging.getLogger(__name__)


@dataclass
class VerifyReport:
    """What `verify_archive` found."""

    files: int = 0
    records: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def check_file(path: Path, report: VerifyReport, places: dict[int, int]) -> None:
    """Read one WARC file whole: its gzip members, then its records and their digests."""
    name = path.name.removesuffix(OPEN_SUFFIX)
    try:
        for _ in gzip_members(path):
            pass
    except MemberError as exc:
        size = path.stat().st_size
        torn_tail = (path.name.endswith(OPEN_SUFFIX) and exc.reason == "gzip member cut short")
        if torn_tail:
            logger.info("%s has a torn tail of %d bytes at byte %d (a crawl was killed)",
                        path.name, size - exc.offset, exc.offset)
        else:
            report.problems.append(f"{path.name}@{exc.offset}: {exc.reason}")
            _read_records(path, name, report, places, quiet=True)
            return
    _read_records(path, name, report, places, quiet=False)


def _read_records(path: Path, name: str, report: VerifyReport, places: dict[int, int],
                  quiet: bool) -> None:
    try:
        for offset, length, record in iter_records(path):
            places[offset] = length
            report.records += 1
            checker = getattr(record, "digest_checker", None)
            if checker is not None and checker.passed is False:
                report.problems.append(f"{name}@{offset}: digest mismatch")
    except Exception as exc:  # warcio raises several types for a damaged file
        if not quiet and not path.name.endswith(OPEN_SUFFIX):
            report.problems.append(f"{path.name}: unreadable after {len(places)} records: {exc}")


def verify_archive(catalogue: Catalogue, store: WarcStore) -> VerifyReport:
    """Read every WARC file to its end and check every catalogue row against its records."""
    report = VerifyReport()
    places: dict[str, dict[int, int]] = defaultdict(dict)
    for path in sorted(store.directory.iterdir()):
        if not (path.name.endswith(".warc.gz") or path.name.endswith(".warc.gz" + OPEN_SUFFIX)):
            continue
        report.files += 1
        check_file(path, report, places[path.name.removesuffix(OPEN_SUFFIX)])
    for ref in catalogue.record_refs():
        report.rows += 1
        length = places.get(ref.file, {}).get(ref.offset)
        if length is None:
            report.problems.append(f"catalogue points at {ref.file}@{ref.offset}: no record there")
        elif length != ref.length:
            report.problems.append(f"catalogue row for {ref.file}@{ref.offset} says {ref.length} "
                                   f"bytes, the record has {length}")
    return report
