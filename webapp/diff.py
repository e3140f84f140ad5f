"""What changed between two versions of a release: paragraphs aligned, then words within them.

A journalist must see that "28" became "24" inside an otherwise equal paragraph, not two whole
paragraphs, one struck out and one added.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
SIMILAR = 0.5     # paragraphs at least this alike (difflib ratio) are shown as one, changed


def word_changes(before: str, after: str) -> list[tuple[str, str]]:
    """Split two texts into ('same'|'removed'|'added', text) pieces, word by word.

    >>> word_changes("at least 28 people died", "at least 24 people died")
    [('same', 'at least '), ('removed', '28'), ('added', '24'), ('same', ' people died')]
    """
    a, b = TOKEN.findall(before), TOKEN.findall(after)
    pieces: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            _add(pieces, "same", "".join(a[i1:i2]))
        else:
            _add(pieces, "removed", "".join(a[i1:i2]))
            _add(pieces, "added", "".join(b[j1:j2]))
    return pieces


def _add(pieces: list[tuple[str, str]], kind: str, text: str) -> None:
    if not text:
        return
    if pieces and pieces[-1][0] == kind:
        pieces[-1] = (kind, pieces[-1][1] + text)
    else:
        pieces.append((kind, text))


def paragraph_changes(before: list[str], after: list[str]) -> list[dict[str, Any]]:
    """Align two versions' paragraphs; a changed paragraph carries its word-level pieces."""
    rows: list[dict[str, Any]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [{"kind": "same", "text": p} for p in before[i1:i2]]
            continue
        old, new = before[i1:i2], after[j1:j2]
        while old and new and difflib.SequenceMatcher(a=old[0], b=new[0]).ratio() >= SIMILAR:
            rows.append({"kind": "changed", "pieces": word_changes(old.pop(0), new.pop(0))})
        rows += [{"kind": "removed", "text": p} for p in old]
        rows += [{"kind": "added", "text": p} for p in new]
    return rows
