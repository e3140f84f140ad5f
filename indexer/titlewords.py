"""The words of the releases' titles, as people write them, for "did you mean" suggestions.

Written beside the index at every build and update (TITLE_WORDS.json: folded word -> the
first spelling seen), so that a searcher loads a file instead of reading every stored
release. Suggestions compare a misspelt word only with the known words that start with the
same letter, which keeps a suggestion to milliseconds at 100,000 releases.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

from archive.cleaning.textnorm import fold

FILE = "TITLE_WORDS.json"
WORD = re.compile(r"[^\W\d_]{3,}")


def title_words(titles: Iterable[str]) -> dict[str, str]:
    """Map each folded title word (3+ letters) to its first spelling.

    >>> title_words(["Sécurité au Sahel", "securite"])
    {'securite': 'Sécurité', 'sahel': 'Sahel'}
    """
    words: dict[str, str] = {}
    for title in titles:
        for word in WORD.findall(title):
            words.setdefault(fold(word), word)
    return words


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
    """Closest known title word for each word of a query."""

    def __init__(self, words: dict[str, str]) -> None:
        self.words = words
        self.by_initial: dict[str, list[str]] = {}
        for key in words:
            self.by_initial.setdefault(key[:1], []).append(key)

    def correct(self, word: str) -> str | None:
        """Return the known spelling closest to `word`, or None when nothing is close.

        >>> Speller({"migrants": "migrants", "libya": "Libya"}).correct("migrnts")
        'migrants'
        """
        key = fold(word)
        if key in self.words:
            return None
        close = difflib.get_close_matches(key, self.by_initial.get(key[:1], []), n=1, cutoff=0.75)
        return self.words[close[0]] if close else None
