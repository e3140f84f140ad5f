"""The words of the releases (titles and bodies), as people write them, for spelling correction.

Written beside the index at every build and update (WORDS.json: folded word -> a spelling
seen), so that a searcher loads a file instead of reading every
stored release. A misspelt query word is matched against this list with Whoosh's
Levenshtein-automaton corrector (whoosh.spelling.ListCorrector): up to two edits, same first
letter, the closest words first, then those in most releases (the index's counts).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from whoosh.spelling import ListCorrector

from archive.cleaning.textnorm import fold
from archive.release import Release

FILE = "WORDS.json"
WORD = re.compile(r"[^\W\d_]{3,}")
MAX_EDITS = 2


def title_words(texts: Iterable[str]) -> dict[str, str]:
    """Map each folded word (3+ letters) of the texts to one of its spellings, in folded order.

    Whitespace splitting first and the word pattern only on distinct pieces: a regex pass over
    every body would cost seconds per 10,000 releases.

    >>> title_words(["Sécurité au Sahel", "securite (Sahel)"])
    {'sahel': 'Sahel', 'securite': 'Sécurité'}
    """
    pieces: set[str] = set()
    for text in texts:
        pieces.update(text.split())
    spellings: set[str] = set()
    for piece in pieces:
        spellings.update(WORD.findall(piece))
    words: dict[str, str] = {}
    for spelling in sorted(spellings, reverse=True):   # the last kept: accented, capitalised
        words[fold(spelling)] = spelling
    return dict(sorted(words.items()))


def release_texts(releases: Iterable[Release]) -> Iterable[str]:
    """Yield the title and the body of each release."""
    for release in releases:
        yield release.title
        yield release.body


def write(directory: Path, words: dict[str, str]) -> None:
    """Replace the index folder's word list atomically."""
    temp = directory / f".{FILE}.{os.getpid()}"
    temp.write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
    os.replace(temp, directory / FILE)


def read(directory: Path) -> dict[str, str] | None:
    """Return the index folder's word list, or None when it has none (an older index)."""
    try:
        data = json.loads((directory / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class Speller:
    """Closest known word for each word of a query."""

    def __init__(self, words: dict[str, str]) -> None:
        self.words = words
        self._corrector = ListCorrector(sorted(words))

    def correct(self, word: str, frequency: Callable[[str], int] | None = None) -> str | None:
        """Return the known word closest to `word` in the case it was typed, or None.

        Among equally close words, the one `frequency` (releases holding it) rates highest.

        >>> Speller({"migrants": "migrants", "libya": "Libya"}).correct("migrnts")
        'migrants'
        >>> Speller({"libya": "Libya"}).correct("LYBIA"), Speller({"libya": "Libya"}).correct("lybia")
        ('LIBYA', 'libya')
        """
        key = fold(word)
        if key in self.words or len(key) < 3:
            return None
        close = self._corrector.suggest(key, limit=50, maxdist=MAX_EDITS, prefix=1)
        if not close:
            return None
        rate = frequency or (lambda known: 0)
        best = min(close, key=lambda known: (_edits(key, known), -rate(known), known))
        return _same_case(self.words[best], word)


def _edits(typed: str, known: str) -> int:
    """Levenshtein distance, letters typed in the wrong places counting as one edit.

    >>> _edits("lybia", "libya"), _edits("lybia", "libia"), _edits("capsised", "capsized")
    (1, 1, 1)
    """
    from whoosh.support.levenshtein import distance

    edits = int(distance(typed, known))
    return min(edits, 1) if sorted(typed) == sorted(known) else edits


def _same_case(spelling: str, typed: str) -> str:
    """Write a known spelling in the case of the word typed (accents kept)."""
    if typed.isupper() and len(typed) > 1:
        return spelling.upper()
    if typed[:1].isupper():
        return spelling[:1].upper() + spelling[1:]
    if typed.islower():
        return spelling.lower()
    return spelling
