"""The language of a release: what the page declares, checked against what its text is."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

from archive.textnorm import fold, words

ARABIC_LETTER = re.compile("[\u0600-\u06ff]")
URL_PREFIX = re.compile(r"^/(?:[\w-]+/)*?(en|fr|es|ar)(?:/|$)")


def text_language(text: str, stopwords: dict[str, list[str]]) -> tuple[str | None, float]:
    """Guess a text's language from its function words; return (language, share of the best).

    >>> sw = {"en": ["the", "and", "of"], "fr": ["le", "et", "des"]}
    >>> text_language("The rights of migrants and the law of the sea and of the land", sw)
    ('en', 1.0)
    """
    sample = text[:5000]
    letters = [c for c in sample if c.isalpha()]
    if letters and sum(1 for c in letters if ARABIC_LETTER.match(c)) / len(letters) > 0.5:
        return ("ar", 1.0) if "ar" in stopwords else (None, 0.0)
    sets = {lang: {fold(w) for w in values} for lang, values in stopwords.items() if lang != "ar"}
    counts: Counter[str] = Counter()
    for word in words(sample):
        key = fold(word)
        for lang, known in sets.items():
            if key in known:
                counts[lang] += 1
    total = sum(counts.values())
    if total < 5:
        return None, 0.0
    lang, best = counts.most_common(1)[0]
    return lang, best / total


def declared_language(html_lang: str | None, url: str, meta: dict[str, str]) -> str | None:
    """Return the language the page declares: <html lang>, then og:locale, then the URL prefix.

    >>> declared_language(None, "https://example.org/fr/news/x", {})
    'fr'
    >>> declared_language("es-ES", "https://example.org/news/x", {})
    'es'
    """
    if html_lang:
        return html_lang.replace("_", "-").split("-")[0].lower()
    for key in ("og:locale", "content-language", "language", "dc.language"):
        value = meta.get(key)
        if value:
            return value.replace("_", "-").split("-")[0].lower()
    match = URL_PREFIX.match(urlsplit(url).path)
    return match.group(1) if match else None


def release_language(html_lang: str | None, url: str, meta: dict[str, str], text: str,
                     stopwords: dict[str, list[str]]) -> str:
    """Return the ISO 639-1 language: the declared one unless the text clearly says otherwise."""
    declared = declared_language(html_lang, url, meta)
    guessed, share = text_language(text, stopwords)
    if guessed and guessed != declared and (share >= 0.6 or declared is None):
        return guessed
    return declared or guessed or "und"
