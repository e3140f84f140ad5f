"""Check that the catalogue and the WARC files agree: every row points at a readable record."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from archive.catalogue import Catalogue
from archive.warcstore import OPEN_SUFFIX, WarcStore, iter_records

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


def verify_archive(catalogue: Catalogue, store: WarcStore) -> VerifyReport:
    """Read every WARC record and check every catalogue row against them."""
    report = VerifyReport()
    places: dict[str, dict[int, int]] = defaultdict(dict)
    for path in sorted(store.directory.iterdir()):
        if not (path.name.endswith(".warc.gz") or path.name.endswith(".warc.gz" + OPEN_SUFFIX)):
            continue
        report.files += 1
        name = path.name.removesuffix(OPEN_SUFFIX)
        try:
            for offset, length, record in iter_records(path):
                places[name][offset] = length
                report.records += 1
                checker = getattr(record, "digest_checker", None)
                if checker is not None and checker.passed is False:
                    report.problems.append(f"{name}@{offset}: digest mismatch")
        except Exception as exc:  # warcio raises several types for a damaged file
            if path.name.endswith(OPEN_SUFFIX):
                logger.info("%s has a torn tail (a crawl was killed): %s", path.name, exc)
            else:
                report.problems.append(f"{path.name}: unreadable after {len(places[name])} records: {exc}")
    for ref in catalogue.record_refs():
        report.rows += 1
        length = places.get(ref.file, {}).get(ref.offset)
        if length is None:
            report.problems.append(f"catalogue points at {ref.file}@{ref.offset}: no record there")
        elif length != ref.length:
            report.problems.append(f"catalogue row for {ref.file}@{ref.offset} says {ref.length} "
                                   f"bytes, the record has {length}")
    return report
