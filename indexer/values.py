"""Facet values as people write them: `country:ly`, `country:Libye`, `language=french`.

A value the index holds is taken as it is. Otherwise it is looked up case-insensitively
among the codes, then among the names in the four interface languages (CLDR names from
babel, the vocabulary's aliases, theme labels and tags, project names), then among those
names within a typo (`Lybia`), which the search page then mentions. A value that none of
these reads is refused with the values that are accepted: a filter never empties a search
silently.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from babel import Locale

from archive.cleaning.textnorm import fold
from archive.cleaning.vocab import Vocabulary
from indexer.errors import QueryError
from indexer.interface import LANGUAGES

SHOWN = 25            # accepted values named in a message, at most
CLOSE = 0.8           # difflib ratio for a typo in a name


@dataclass
class FacetValues:
    """Read facet values for one search, against the values one index generation holds."""

    vocab: Vocabulary
    present: dict[str, dict[str, int]]         # facet -> value -> documents (bitset)
    notes: list[str] = field(default_factory=list)

    def resolve(self, facet: str, text: str) -> str:
        """Return the index value `text` stands for; QueryError naming the accepted ones."""
        held = self.present.get(facet, {})
        if text in held:
            return text
        names = self._names(facet)
        key = _key(text)
        if key in names:
            return names[key]
        close = difflib.get_close_matches(key, list(names), n=1, cutoff=CLOSE) if len(key) > 3 else []
        if close:
            value = names[close[0]]
            self.notes.append(f"{facet}:{text} read as {facet}:{value}")
            return value
        raise QueryError(self._refusal(facet, text))

    def resolve_all(self, facet: str, values: Iterable[str]) -> list[str]:
        """Resolve several values of one facet (a filter repeated in a URL)."""
        return [self.resolve(facet, value) for value in values]

    def _names(self, facet: str) -> dict[str, str]:
        """Folded code or name -> index value, for one facet."""
        names: dict[str, str] = {}
        if facet == "country":
            for place, (code, kind) in self.vocab.places.items():
                if kind in ("name", "demonym") and place not in self.vocab.ambiguous:
                    names.setdefault(place, code)
            codes = {code for code, _ in self.vocab.places.values()}
            names.update({code.lower(): code for code in codes})
        elif facet == "language":
            for ui in LANGUAGES:
                for code, name in Locale.parse(ui).languages.items():
                    if len(str(code)) == 2:
                        names.setdefault(_key(str(name)), str(code))
            names.update({str(code): str(code) for code in Locale.parse("en").languages
                          if len(str(code)) == 2})
        elif facet == "theme":
            for theme in self.vocab.themes.values():
                for label in [*theme.labels.values(), *theme.tags]:
                    names.setdefault(_key(label), theme.id)
                names[_key(theme.id)] = theme.id
        elif facet == "project":
            for project in self.vocab.projects:
                if project.acronym:
                    for name in (project.acronym, project.name, *project.aliases):
                        names.setdefault(_key(name), project.acronym)
        for value in self.present.get(facet, {}):
            names.setdefault(_key(value), value)
        return names

    def _refusal(self, facet: str, text: str) -> str:
        held = sorted(self.present.get(facet, {}))
        if facet == "year":
            shown = ", ".join(held[:SHOWN]) or "none yet"
            return f"year {text[:40]!r} is not a year the archive holds: use one of {shown}"
        listed = ", ".join(held[:SHOWN]) + (f" and {len(held) - SHOWN} more" if len(held) > SHOWN else "")
        kind = {"country": "an ISO code or a country name",
                "language": "a language code or name",
                "theme": "a theme id or label"}.get(facet, "one of the values")
        return (f"unknown {facet} {text[:40]!r}: use {kind}; the archive holds "
                f"{listed or 'none yet'}")


def _key(text: str) -> str:
    """Fold a value for lookup: case, accents, and - or _ as spaces.

    >>> _key("Counter-Trafficking"), _key(" Côte d’Ivoire ")
    ('counter trafficking', "cote d'ivoire")
    """
    return re.sub(r"[\s_-]+", " ", fold(text)).strip()
