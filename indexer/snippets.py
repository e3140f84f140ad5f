"""Highlighted snippets: the passage of a release where the query's words are densest.

Whoosh's highlighter runs the whole analyzer over every word of the body, a couple of
milliseconds a release. Here each word is folded (cached) and only those that contain the
beginning of a query stem are analysed to confirm the match; the best window of at most
SNIPPET_CHARS characters (most distinct query terms, then most matches) is cut at word
boundaries. The text is HTML-escaped and the only markup is <mark>.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from indexer.analysis import MARKS, _fold

SNIPPET_CHARS = 240
CONTEXT = 60
MARK = re.compile(f"[{MARKS}]")


def snippet(text: str, terms: Iterable[str], analyzer: Any, max_chars: int = SNIPPET_CHARS) -> str:
    """Return the best marked passage of `text` for the analysed `terms` ("" if none match).

    >>> from indexer.analysis import language_analyzer
    >>> snippet("Rescue at sea: 40 migrants <rescued> off the coast.", {"rescu"},
    ...         language_analyzer("en"))
    '<mark>Rescue</mark> at sea: 40 migrants &lt;<mark>rescued</mark>&gt; off the coast.'
    """
    spans = _matches(text, frozenset(terms), analyzer)
    if not spans:
        return ""
    start, end = _best_window(spans, max_chars)
    start, end = _widen(text, start, end, max_chars)
    inside = [(s, e) for s, e, _ in spans if s >= start and e <= end]
    parts = ["…" if start > 0 else ""]
    cursor = start
    for s, e in inside:
        parts.append(html.escape(text[cursor:s], quote=False))
        parts.append(f"<mark>{html.escape(text[s:e], quote=False)}</mark>")
        cursor = e
    parts.append(html.escape(text[cursor:end], quote=False))
    parts.append("…" if end < len(text) else "")
    return "".join(parts).strip()


def _matches(text: str, terms: frozenset[str], analyzer: Any) -> list[tuple[int, int, str]]:
    """Return (start, end, term) of every word of `text` whose analysed form is a query term."""
    probes = _probes(terms)
    if probes is None:
        return []
    found: list[tuple[int, int, str]] = []
    last = -1
    for hit in probes.finditer(text):
        if hit.start() < last:
            continue
        start, end = _word_around(text, hit.start(), hit.end())
        last = end
        for token in analyzer(text[start:end]):
            if token.text in terms:
                found.append((start, end, token.text))
                break
    return found


def _word_around(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span to the whole token around it (letters and digits, inner apostrophes)."""
    def inner(at: int) -> bool:
        char = text[at]
        return (char.isalnum() or MARK.match(char) is not None
                or (char in "'’" and 0 < at < len(text) - 1
                    and text[at - 1].isalnum() and text[at + 1].isalnum()))

    while start > 0 and inner(start - 1):
        start -= 1
    while end < len(text) and inner(end):
        end += 1
    return start, end


@lru_cache(maxsize=1024)
def _probes(terms: frozenset[str]) -> re.Pattern[str] | None:
    """A pattern found in the raw text of every word that is analysed to one of `terms`.

    A stem is its word's folded beginning, but for its last letter (happi <- happy); Arabic
    stems lose clitics on both sides, so the pattern may match anywhere in the word. Each
    folded letter matches its accented and Arabic variants, case-insensitively.
    """
    heads = sorted({t if len(t) <= 3 else t[:-1] for t in terms if t}, key=len, reverse=True)
    if not heads:
        return None
    return re.compile("|".join(_raw_pattern(h) for h in heads), re.IGNORECASE)


def _raw_pattern(folded: str) -> str:
    """A pattern for the raw spellings of a folded string (accents, case, ligatures, marks)."""
    parts = []
    index = 0
    while index < len(folded):
        pair = folded[index:index + 2]
        if pair in LIGATURES:
            parts.append(f"(?:{LIGATURES[pair]}|{_letter(pair[0])}{_letter(pair[1])})")
            index += 2
            continue
        char = folded[index]
        if "\u0600" <= char <= "\u06ff" and index:
            parts.append(ARABIC_MARKS)        # diacritics and tatweel between letters
        parts.append(_letter(char))
        index += 1
    return "".join(parts)


def _letter(char: str) -> str:
    return VARIANTS.get(char, re.escape(char))


def _variants() -> dict[str, str]:
    """Map each folded letter to a character class of the letters that fold to it."""
    groups: dict[str, set[str]] = {}
    for code in (*range(0x41, 0x250), *range(0x600, 0x700)):
        char = chr(code)
        folded = _fold(char)
        if len(folded) == 1 and folded != char.lower():
            groups.setdefault(folded, {folded}).add(char)
    return {folded: "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"
            for folded, chars in groups.items()}


ARABIC_MARKS = "[\u064b-\u065f\u0670\u0640]*"
LIGATURES = {"oe": "œ", "ae": "æ"}
VARIANTS = _variants()


def _best_window(spans: list[tuple[int, int, str]], max_chars: int) -> tuple[int, int]:
    """Choose the run of matches within max_chars with the most distinct terms, then matches."""
    best = (0, 0, 0, 0)   # distinct terms, matches, start, end
    for first, (start, _, _) in enumerate(spans):
        distinct: set[str] = set()
        count = 0
        end = start
        for _, e, term in spans[first:]:
            if e - start > max_chars:
                break
            distinct.add(term)
            count += 1
            end = e
        if (len(distinct), count) > best[:2]:
            best = (len(distinct), count, start, end)
    return best[2], best[3]


def _widen(text: str, start: int, end: int, max_chars: int) -> tuple[int, int]:
    """Add context around the matches, up to max_chars in all, cut at word boundaries."""
    room = max(0, max_chars - (end - start))
    before = min(CONTEXT, room // 2) if end - start < max_chars else 0
    new_start = max(0, start - before)
    new_end = min(len(text), end + (room - (start - new_start)))
    if new_start > 0:
        space = text.find(" ", new_start, start)
        new_start = space + 1 if space != -1 else start
    if new_end < len(text):
        space = text.rfind(" ", end, new_end)
        new_end = space if space != -1 else end
    return new_start, new_end
