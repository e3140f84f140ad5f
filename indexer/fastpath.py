"""Where a search leaves the fast path: Whoosh internals it reads are not there.

postings.py and facets.py read a few private attributes of Whoosh 3's codec (block arrays,
length and number columns) to load a term or a column in one call. When they are missing
(another codec, or a Whoosh that changed them) each falls back to Whoosh's public API, which
answers the same, one document at a time. That must not pass unnoticed: the fallback logs a
warning once per process and kind, and the tests make it fail (tests/test_search_seam.py).
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import metadata

logger = logging.getLogger(__name__)


@cache
def fall_back(what: str) -> None:
    """Record that `what` is read the slow way (logged once per process)."""
    try:
        version = metadata.version("whoosh3")
    except metadata.PackageNotFoundError:
        version = "unknown"
    logger.warning("%s: the fast path cannot read this Whoosh's internals (whoosh3 %s); "
                   "searches answer the same, slower", what, version)
