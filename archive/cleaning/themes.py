"""Themes: the page's own topic tags when it has them, else weighted terms from config/themes.toml.

The classifier explains itself: `theme_scores` returns each theme's score and the terms behind it.
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from archive.cleaning.textnorm import fold
from archive.cleaning.vocab import Vocabulary

TITLE_BOOST = 3.0
SECOND_MIN = 1.5
SECOND_RELATIVE = 0.3
THIRD_RELATIVE = 0.7
MAX_THEMES = 3


def tagged_themes(vocab: Vocabulary, tags: list[tuple[str, str]]) -> list[str]:
    """Map topic tags (label, link) to theme ids: by the link's last segment, then by label."""
    found: list[str] = []
    for label, href in tags:
        slug = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1] if href else ""
        theme = slug if slug in vocab.themes else None
        if theme is None:
            key = fold(label)
            theme = next((t.id for t in vocab.themes.values() if key in t.tags), None)
        if theme and theme not in found:
            found.append(theme)
    return found


def theme_scores(vocab: Vocabulary, title: str, body: str,
                 language: str) -> dict[str, tuple[float, list[str]]]:
    """Score every theme on a text: weighted term counts, title boosted, damped by length."""
    folded_title, folded_body = fold(title), fold(body)
    length = max(1, len(folded_body.split()))
    damp = math.sqrt(400 / max(400, length))
    scores: dict[str, tuple[float, list[str]]] = {}
    for theme in vocab.themes.values():
        total, why = 0.0, []
        for term in theme.terms.get(language) or theme.terms.get("en", []):
            if term.anchor not in folded_body and term.anchor not in folded_title:
                continue
            hits = len(term.pattern.findall(folded_body)) + TITLE_BOOST * len(
                term.pattern.findall(folded_title))
            if hits:
                total += term.weight * math.log1p(hits) * 1.5
                why.append(term.value)
        if total:
            scores[theme.id] = (total * damp, why)
    return scores


def release_themes(vocab: Vocabulary, tags: list[tuple[str, str]], title: str, body: str,
                   language: str) -> list[str]:
    """Return 1-3 theme ids: the page's tags, or the classifier's main themes."""
    tagged = tagged_themes(vocab, tags)
    if tagged:
        return tagged[:MAX_THEMES]
    scores = theme_scores(vocab, title, body, language)
    if not scores:
        return []
    ranked = [(theme, score) for theme, (score, _) in
              sorted(scores.items(), key=lambda item: -item[1][0])]
    top = ranked[0][1]
    # a release has one main theme and usually a second; a third must be nearly as strong
    chosen = [ranked[0][0]]
    if len(ranked) > 1 and ranked[1][1] >= max(SECOND_MIN, SECOND_RELATIVE * top):
        chosen.append(ranked[1][0])
        if len(ranked) > 2 and ranked[2][1] >= THIRD_RELATIVE * top:
            chosen.append(ranked[2][0])
    return chosen


def slug_of(text: str) -> str:
    """Make a lower-case hyphenated slug of a label.

    >>> slug_of("Return & Reintegration")
    'return-reintegration'
    """
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
