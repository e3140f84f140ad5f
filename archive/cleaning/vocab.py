"""The cleaner's vocabularies, read from config/: countries, themes, projects, phrases, page rules.

Loaded once per command and passed explicitly. A malformed entry stops with one line naming
the file and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soupsieve
from babel import Locale

from archive.cleaning.textnorm import fold
from archive.errors import SettingsError
from archive.settings import defaults_dir, read_toml

LANGUAGES = ("en", "fr", "es", "ar")
THEMES = ("migration-governance", "counter-trafficking", "smuggling", "labour-migration",
          "border-management", "migration-health", "displacement-tracking", "emergency-response",
          "return-reintegration", "migrant-protection", "missing-migrants", "climate-environment",
          "resettlement", "diaspora-development", "transition-recovery")
ARABIC_PREFIX = "(?:و|ف|ب|ل|ك)?(?:ال)?"


@dataclass(frozen=True)
class PageRules:
    """CSS selectors for one page template."""

    name: str
    match: str
    title: str | None = None
    date: str | None = None
    body: str | None = None
    contacts: str | None = None
    countries: str | None = None
    themes: str | None = None
    exclude: tuple[str, ...] = ()


@dataclass
class Term:
    """One entry of a term list, compiled for searching folded text."""

    pattern: re.Pattern[str]
    value: str
    weight: float = 1.0
    anchor: str = ""  # a folded piece any match must contain: a cheap pre-check

    def __post_init__(self) -> None:
        if not self.anchor:
            self.anchor = fold(self.value).rstrip("*").split(" ")[0]


@dataclass
class Theme:
    """A theme: its labels per language, tag labels and weighted terms per language."""

    id: str
    labels: dict[str, str]
    tags: set[str]
    terms: dict[str, list[Term]]


@dataclass
class Project:
    """A known project (or, when `kind` is set, a known thing that is not a project)."""

    acronym: str
    name: str
    aliases: list[str] = field(default_factory=list)
    kind: str | None = None


@dataclass
class Vocabulary:
    """Everything the cleaner looks words up in."""

    places: dict[str, tuple[str, str]]     # folded phrase -> (ISO code, name|demonym|city)
    ambiguous: set[str]                    # folded names that are also common words
    themes: dict[str, Theme]
    projects: list[Project]
    not_projects: list[Project]
    phrases: dict[str, dict[str, list[str]]]   # section.key -> language -> phrases
    rules: list[PageRules]

    def phrase_list(self, key: str, language: str | None = None) -> list[str]:
        """Return the phrases of `key` ("contacts.openers") for one language or all of them."""
        table = self.phrases.get(key, {})
        if language is not None and language in table:
            return table[language]
        return [p for values in table.values() for p in values]

    def country_code(self, name: str, kinds: tuple[str, ...] = ("name", "demonym")) -> str | None:
        """Return the ISO code of a country name, alias or demonym in any language."""
        key = fold(name).strip(" .,:;-–—'\"")
        for candidate in (key, *_arabic_stems(key)):
            found = self.places.get(candidate)
            if found and found[1] in kinds:
                return found[0]
        return None

    def place_code(self, name: str) -> str | None:
        """Return the ISO code of a country or of a city (a dateline) in any language."""
        return self.country_code(name, ("name", "demonym", "city"))

    def mentions(self, text: str) -> list[tuple[str, str, int]]:
        """Find country names, demonyms and cities in a text: (ISO code, kind, word index)."""
        tokens = fold(text).replace("'", " ").split()
        tokens = [t.strip(".,;:!?()[]{}\"«»“”-–—/") for t in tokens]
        found: list[tuple[str, str, int]] = []
        i = 0
        while i < len(tokens):
            for size in range(min(MAX_PLACE_WORDS, len(tokens) - i), 0, -1):
                phrase = " ".join(tokens[i:i + size])
                hit = next((self.places[c] for c in (phrase, *_arabic_stems(phrase))
                            if c in self.places), None)
                if hit:
                    found.append((hit[0], hit[1], i))
                    i += size
                    break
            else:
                i += 1
        return found

    def theme_label(self, theme: str, language: str) -> str:
        """Return a theme's label in a language (English when missing)."""
        labels = self.themes[theme].labels
        return labels.get(language) or labels.get("en") or theme


MAX_PLACE_WORDS = 5


def _arabic_stems(phrase: str) -> list[str]:
    """Return a folded Arabic phrase without its clitic prefixes (و ف ب ل ك, then ال)."""
    if not phrase or not ("\u0600" <= phrase[0] <= "\u06ff"):
        return []
    stems = []
    word = phrase
    if word[0] in "وفبلك" and len(word) > 3:
        word = word[1:]
        stems.append(word)
    if word.startswith("ال") and len(word) > 4:
        stems.append(word[2:])
    elif word.startswith("ل") and len(word) > 4:  # لل = ل + ال
        stems.append(word[1:])
    return stems


def term_pattern(text: str, language: str | None = None) -> re.Pattern[str]:
    """Compile a term for folded text: word boundaries, trailing * for any ending.

    >>> bool(term_pattern("traffick*").search("victims of trafficking here"))
    True
    >>> bool(term_pattern("ليبيا", "ar").search(fold("في وليبيا اليوم")))
    True
    """
    folded = fold(text)
    star = folded.endswith("*")
    body = re.escape(folded.rstrip("*")).replace(r"\ ", r"\s+")
    tail = r"\w*" if star else ""
    prefix = ARABIC_PREFIX if language == "ar" or re.search("[\u0600-\u06ff]", folded) else ""
    return re.compile(rf"(?<![\w]){prefix}{body}{tail}(?![\w])")


def load_vocabulary(config_dir: Path | None = None,
                    extra_rules: list[tuple[str, dict[str, Any]]] | None = None) -> Vocabulary:
    """Read the vocabularies of a config folder (the shipped defaults unless named)."""
    config_dir = config_dir or defaults_dir()
    cleaning = _read(config_dir / "cleaning.toml")
    phrases = {f"{section}.{key}": {lang: list(v) for lang, v in value.items()}
               for section, table in cleaning.items() for key, value in table.items()}
    places, ambiguous = _countries(config_dir / "countries.toml")
    themes = _themes(config_dir / "themes.toml")
    projects, not_projects = _projects(config_dir / "projects.toml")
    rules = [page_rules_from(name, table, f"sites.{name}.page_rules") for name, table in (extra_rules or [])]
    rules += [page_rules_from(name, table, str(config_dir / "page_rules.toml"))
              for name, table in _read(config_dir / "page_rules.toml").items()]
    return Vocabulary(places, ambiguous, themes, projects, not_projects, phrases, rules)


def _read(path: Path) -> dict[str, Any]:
    return read_toml(path, "vocabulary")


def _countries(path: Path) -> tuple[dict[str, tuple[str, str]], set[str]]:
    places: dict[str, tuple[str, str]] = {}
    for lang in LANGUAGES:
        for code, name in Locale.parse(lang).territories.items():
            if len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "ZZ", "QO"):
                places.setdefault(_place_key(name), (code, "name"))
    extra = _read(path)
    for kind, field_name in (("name", "aliases"), ("demonym", "demonyms"), ("city", "cities")):
        for code, table in extra.items():
            if not (len(code) == 2 and code.isupper()):
                continue
            if not isinstance(table, dict):
                raise SettingsError(f"{path}: [{code}] must be a table")
            for lang, values in (table.get(field_name) or {}).items():
                for value in _strings(values, path, f"{code}.{field_name}.{lang}"):
                    places.setdefault(_place_key(value), (code, kind))
    ambiguous = {_place_key(w) for w in (extra.get("ambiguous", {}) or {}).get("words", [])}
    return places, ambiguous


def _place_key(name: str) -> str:
    return " ".join(t.strip(".,;:!?()[]{}\"«»“”-–—/") for t in fold(name).replace("'", " ").split())


def _strings(values: Any, path: Path, key: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SettingsError(f"{path}: {key} must be a list of strings")
    return [v for v in values if v.strip()]


def _themes(path: Path) -> dict[str, Theme]:
    raw = _read(path)
    themes: dict[str, Theme] = {}
    for theme in THEMES:
        table = raw.get(theme)
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: theme {theme!r} is missing")
        labels = dict(table.get("labels") or {})
        tags = {fold(label) for label in labels.values()}
        for lang, values in (table.get("tags") or {}).items():
            tags.update(fold(v) for v in _strings(values, path, f"{theme}.tags.{lang}"))
        terms: dict[str, list[Term]] = {}
        for lang, entries in (table.get("terms") or {}).items():
            if not isinstance(entries, dict):
                raise SettingsError(f"{path}: {theme}.terms.{lang} must be a table of weights")
            terms[lang] = []
            for term, weight in entries.items():
                if not isinstance(weight, int | float):
                    raise SettingsError(f"{path}: {theme}.terms.{lang}.{term} must be a number")
                terms[lang].append(Term(term_pattern(term, lang), term, float(weight)))
        themes[theme] = Theme(theme, labels, tags, terms)
    unknown = set(raw) - set(THEMES)
    if unknown:
        raise SettingsError(f"{path}: unknown theme {sorted(unknown)[0]!r}")
    return themes


def _projects(path: Path) -> tuple[list[Project], list[Project]]:
    raw = _read(path)
    found: dict[str, list[Project]] = {"project": [], "not_project": []}
    for key in found:
        for i, entry in enumerate(raw.get(key, [])):
            if not isinstance(entry, dict) or not isinstance(entry.get("acronym", ""), str):
                raise SettingsError(f"{path}: {key}[{i}] must have an acronym and a name")
            aliases = _strings(entry.get("aliases", []), path, f"{key}[{i}].aliases")
            found[key].append(Project(entry.get("acronym", ""), str(entry.get("name", "")),
                                      aliases, entry.get("kind")))
    return found["project"], found["not_project"]


def page_rules_from(name: str, table: Any, origin: str) -> PageRules:
    """Build a rule set from a config table; a bad one stops with the file and key."""
    if not isinstance(table, dict) or not isinstance(table.get("match"), str):
        raise SettingsError(f"{origin}: page rules {name!r} need a 'match' selector")
    known = {f for f in PageRules.__dataclass_fields__ if f != "name"}
    unknown = set(table) - known
    if unknown:
        raise SettingsError(f"{origin}: unknown page-rule key '{name}.{sorted(unknown)[0]}'")
    values = dict(table)
    values["exclude"] = tuple(values.get("exclude", ()))
    for key, value in values.items():
        for selector in value if key == "exclude" else (value,):
            _check_selector(selector, f"{origin}: page rules '{name}.{key}'")
    return PageRules(name=name, **values)


def _check_selector(selector: Any, where: str) -> None:
    """Compile a CSS selector once at load: a bad one is a settings error naming its key."""
    if selector is None:
        return
    if not isinstance(selector, str) or not selector.strip():
        raise SettingsError(f"{where} must be a CSS selector (text), not {selector!r}")
    try:
        soupsieve.compile(selector)   # soupsieve caches it: the cleaner's use costs no compile
    except soupsieve.SelectorSyntaxError as exc:
        reason = str(exc).splitlines()[0]
        raise SettingsError(f"{where}: bad CSS selector {selector!r}: {reason}") from None
