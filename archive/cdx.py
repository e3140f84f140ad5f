"""A CDXJ index of the archive's WARC files: what replay tools (pywb, replayweb.page) load.

cdxj-indexer (Webrecorder's, the indexer of pywb and py-wacz) writes the lines, so that they are
exactly what those tools expect: a SURT key, a 14-digit timestamp, then JSON with the URL,
media type, status, payload digest and the record's file, offset and length; sorted.

Revisits written before WARC 1.1 revisits kept the original's head (`old_style_revisit`) carry
the 304 of the conditional GET, and replay tools serve a revisit's head: such a revisit would
replay as an empty 304. Their lines are left out, as Internet Archive's CDX-Writer leaves 304s
out, so that a replay at that time finds the nearest capture of the page instead. The WARC
records themselves are kept as they are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cdxj_indexer.main import CDXJIndexer

from archive.warcstore import OPEN_SUFFIX

logger = logging.getLogger(__name__)


@dataclass
class CdxStats:
    """What one index run read and left out."""

    files: int = 0
    lines: int = 0
    old_revisits: int = 0


def old_style_revisit(record: Any) -> bool:
    """Tell whether a record is a revisit whose HTTP head is a 304: it replays as an empty 304."""
    if record.rec_type != "revisit" or record.http_headers is None:
        return False
    return str(record.http_headers.get_statuscode()) == "304"


class _Indexer(CDXJIndexer):  # type: ignore[misc]
    """cdxj-indexer with the count of lines written and of old-style revisits left out."""

    def __init__(self, output: Any, inputs: list[str], stats: CdxStats) -> None:
        super().__init__(output, inputs, sort=True)
        self.stats = stats

    def filter_record(self, record: Any) -> bool:
        if not super().filter_record(record):
            return False
        if old_style_revisit(record):
            self.stats.old_revisits += 1
            return False
        self.stats.lines += 1
        return True


def warc_files(directory: Path) -> list[Path]:
    """Return the closed WARC files of a folder, oldest first (an `.open` file is still growing)."""
    return sorted(p for p in directory.glob("*.warc.gz") if not p.name.endswith(OPEN_SUFFIX))


def write_cdxj(directory: Path, out: TextIO) -> CdxStats:
    """Write the sorted CDXJ index of every closed WARC file of `directory` to `out`."""
    stats = CdxStats()
    files = warc_files(directory)
    stats.files = len(files)
    if files:
        _Indexer(out, [str(p) for p in files], stats).process_all()
    if stats.old_revisits:
        logger.info("left out %d revisits that hold a 304 head (written before WARC 1.1 "
                    "revisits): a replay there shows the nearest capture", stats.old_revisits)
    return stats
