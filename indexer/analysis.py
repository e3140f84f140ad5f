"""Text analysis per language: tokens, elision, case and accent folding, stop words, stemming.

Folding comes before stemming, so that an unaccented query ("securite") and the accented
text ("sécurité") meet on the same stem. Arabic gets letter normalisation (hamza and alef
forms, taa marbuta, alef maqsura, tatweel, diacritics) and a light prefix/suffix stemmer.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.lang import stopwords_for_language

from archive.cleaning.textnorm import fold
from indexer.interface import LANGUAGES as LANGUAGES

# combining marks (Arabic harakat, Quranic marks, decomposed Latin accents) stay inside a word:
# they are not word characters to the regex engine, and folding removes them afterwards
MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
WORD_PART = rf"[^\W_]+(?:[{MARKS}]+[^\W_]*)*"
TOKEN = rf"{WORD_PART}(?:['’]{WORD_PART})*"
ELIDED = {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}
ARABIC_STOPWORDS = frozenset(fold(w) for w in (
    "في", "من", "على", "إلى", "الى", "عن", "مع", "هذا", "هذه", "ذلك", "التي", "الذي", "الذين",
    "أن", "إن", "ان", "كان", "كانت", "قد", "لا", "ما", "لم", "لن", "و", "أو", "او", "ثم", "كما",
    "بين", "حيث", "عند", "بعد", "قبل", "كل", "هو", "هي", "هم", "وقد", "أي", "اي", "غير", "تم"))
ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و")
ARABIC_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "يه", "ه", "ي")


class FoldFilter(Filter):  # type: ignore[misc]
    """Fold case, accents and Arabic letter variants (cached: vocabularies are Zipfian)."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for token in tokens:
            token.text = _fold(token.text)
            yield token


class ElisionFilter(Filter):  # type: ignore[misc]
    """Drop elided articles: l'OIM -> oim, d'oeuvre -> oeuvre, qu'il -> il."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for token in tokens:
            head, sep, tail = token.text.partition("'")
            if sep and head in ELIDED and tail:
                token.text = tail
            elif sep:
                token.text = token.text.replace("'", "")
            yield token


class ArabicStemFilter(Filter):  # type: ignore[misc]
    """Light stemming of Arabic (after Larkey's light10): strip clitic prefixes and suffixes."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for token in tokens:
            token.text = arabic_light_stem(token.text)
            yield token


@lru_cache(maxsize=200_000)
def _fold(text: str) -> str:
    return fold(text).replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")


@lru_cache(maxsize=200_000)
def arabic_light_stem(word: str) -> str:
    """Strip one clitic prefix and suffixes from a folded Arabic word, keeping 2+ letters.

    >>> arabic_light_stem(fold("والمهاجرين")) == fold("مهاجر")
    True
    >>> arabic_light_stem(fold("نازحين")) == arabic_light_stem(fold("النازحون"))
    True
    """
    if not word or not "\u0600" <= word[0] <= "\u06ff":
        return word
    for prefix in ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix):]
            break
    for suffix in ARABIC_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return word


def fold_token(word: str) -> str:
    """Fold a word as the analyzers fold a token before stop words and stems.

    >>> fold_token("L'Égypte"), fold_token("De")
    ('egypte', 'de')
    """
    token = _fold(word.lower())
    head, sep, tail = token.partition("'")
    return tail if sep and head in ELIDED and tail else token.replace("'", "")


def stopwords(language: str) -> frozenset[str]:
    """Return the folded stop words of a language."""
    if language == "ar":
        return ARABIC_STOPWORDS
    return frozenset(_fold(w) for w in stopwords_for_language(language))


@lru_cache(maxsize=1)
def proper_nouns() -> frozenset[str]:
    """Return the folded one-word names of countries, cities and projects of the vocabulary.

    They are not stemmed: French stems "Mali" to "mal", and "NOT Mali" would then drop every
    release that says "mal".
    """
    from archive.cleaning.vocab import load_vocabulary

    vocab = load_vocabulary()
    names = {place for place, (_code, kind) in vocab.places.items()
             if kind in ("name", "city") and " " not in place and place not in vocab.ambiguous}
    names.update(_fold(p.acronym.lower()) for p in vocab.projects if p.acronym)
    return frozenset(name for name in names if name and not "\u0600" <= name[0] <= "\u06ff")


def language_analyzer(language: str) -> Any:
    """Return the analyzer of one language's title and body fields (names not stemmed)."""
    chain = RegexTokenizer(TOKEN) | LowercaseFilter() | FoldFilter() | ElisionFilter()
    # renumber: phrases match across removed stop words ("migration de main-d'oeuvre")
    chain = chain | StopFilter(stoplist=stopwords(language), minsize=1, renumber=True)
    if language == "ar":
        return chain | ArabicStemFilter()
    return chain | StemFilter(lang=language, ignore=proper_nouns(), cachesize=100_000)


def plain_analyzer() -> Any:
    """Return the single analyzer of the baseline index: tokens, case and accents only."""
    return RegexTokenizer(TOKEN) | LowercaseFilter() | FoldFilter() | ElisionFilter()
