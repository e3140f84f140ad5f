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
from typing import Any

from indexer.analysis import TOKEN, _fold

SNIPPET_CHARS = 240
CONTEXT = 60
WORD = re.compile(TOKEN)


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
    for match in WORD.finditer(text):
        word = match.group()
        if not probes.search(_fold(word.lower())):
            continue
        for token in analyzer(word):
            if token.text in terms:
                found.append((match.start(), match.end(), token.text))
                break
    return found


def _probes(terms: frozenset[str]) -> re.Pattern[str] | None:
    """A pattern that every folded word analysed to one of `terms` contains.

    A stem is its word's folded beginning, but for its last letter (happi <- happy); Arabic
    stems lose clitics on both sides, so the pattern searches anywhere in the word.
    """
    heads = sorted({t if len(t) <= 3 else t[:-1] for t in terms if t}, key=len, reverse=True)
    if not heads:
        return None
    return re.compile("|".join(re.escape(h) for h in heads))


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
