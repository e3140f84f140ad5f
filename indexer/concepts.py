"""Query words that name a facet value: a country (in any language), a theme, a project.

"Senegal" then also finds the Arabic and French releases tagged SN, and "reintegration"
those about return and reintegration that never use the word.
"""

from __future__ import annotations

from archive.cleaning.textnorm import fold
from archive.cleaning.vocab import Vocabulary
from indexer.analysis import LANGUAGES, stopwords

MIN_THEME_WORD = 5
MAX_NGRAM = 3


class Concepts:
    """Look up the facet values that query words name."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        stop = set().union(*(stopwords(lang) for lang in LANGUAGES))
        owners: dict[str, set[str]] = {}
        for theme in vocab.themes.values():
            labels = [*theme.labels.values(), *theme.tags]
            for label in labels:
                for word in fold(label).replace("-", " ").split():
                    if len(word) >= MIN_THEME_WORD and word not in stop:
                        owners.setdefault(word, set()).add(theme.id)
        # a word shared by several themes ("migration") names none of them
        self.theme_words = {w: next(iter(ids)) for w, ids in owners.items() if len(ids) == 1}
        self.projects = {p.acronym for p in vocab.projects if p.acronym}

    def lookup(self, phrase: str) -> list[tuple[str, str]]:
        """Return the (facet, value) pairs a word or short phrase names."""
        found: list[tuple[str, str]] = []
        code = self.vocab.country_code(phrase, ("name", "demonym"))
        if code and fold(phrase) not in self.vocab.ambiguous:
            found.append(("country", code))
        theme = self.theme_words.get(fold(phrase))
        if theme:
            found.append(("theme", theme))
        if phrase in self.projects:
            found.append(("project", phrase))
        return found

    def split(self, words: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
        """Group words into units: the longest n-grams that name something, else single words.

        >>> from archive.cleaning.vocab import load_vocabulary
        >>> [unit for unit, _ in Concepts(load_vocabulary()).split(["South", "Sudan", "floods"])]
        ['South Sudan', 'floods']
        """
        units: list[tuple[str, list[tuple[str, str]]]] = []
        i = 0
        while i < len(words):
            for size in range(min(MAX_NGRAM, len(words) - i), 0, -1):
                phrase = " ".join(words[i:i + size])
                named = self.lookup(phrase)
                if named or size == 1:
                    units.append((phrase, named))
                    i += size
                    break
        return units
