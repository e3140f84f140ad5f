"""The project or programme a release reports on, known to the vocabulary or not.

A known project counts when named in the title or lead, or twice. An unknown one must look like
a project: a capitalised name holding a project word ("Initiative", "projet", "programa") or
introduced as one ("intitulé « ... »"), with an acronym in brackets or, paragraphs later,
alone. Tools, organisations and schemes listed as not_project never count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from archive.cleaning.textnorm import fold
from archive.cleaning.vocab import Project, Vocabulary

ACRONYM = r"[A-Z][A-Za-z0-9]*(?:[-‑][A-Z][A-Za-z0-9]*)*(?:\s[A-Z]{2,5})?"
LINKERS = (r"of|for|and|the|in|on|to|at|de|des|du|la|le|les|et|pour|en|y|del|el|los|las|para|"
           r"à|au|aux|con|d'|l'|d’|l’")
NAMED = re.compile(
    rf"(?P<name>(?:[«\"“]\s*[^»\"”]{{8,220}}?\s*[»\"”])|"
    rf"(?:[A-Z][\w'’-]+(?:\s+(?:(?:{LINKERS})\s+)*[A-Z][\w'’-]+){{1,14}}))"
    rf"\s*\((?P<acronym>{ACRONYM})\)")
TITLE_CASE = re.compile(rf"\b([A-Z][\w'’-]+(?:\s+(?:(?:{LINKERS})\s+)*[A-Z][\w'’-]+){{1,10}})")
ARTICLE = re.compile(r"^(?:The|Le|La|Les|L['’]|El|Los|Las|Un|Une|A|An)\s*", re.I)


MAX_TEXT = 40_000  # characters read for projects: a release is a few thousand


@dataclass(frozen=True)
class Found:
    """A project named in a release, with how prominently."""

    acronym: str
    name: str
    mentions: int
    early: bool


def release_projects(vocab: Vocabulary, title: str, paragraphs: list[str],
                     language: str) -> list[dict[str, str]]:
    """Return the projects a release reports on as [{"acronym", "name"}]."""
    early_text = " ".join([title, *paragraphs[:2]])
    full_text = " ".join([title, *paragraphs])[:MAX_TEXT]
    found: dict[str, Found] = {}
    folded_full, folded_early = fold(full_text), fold(early_text)
    for project in vocab.projects:
        count = _count_known(project, full_text, folded_full)
        if count:
            early = _count_known(project, early_text, folded_early) > 0
            found[project.acronym] = Found(project.acronym, project.name, count, early)
    for acronym, name in _named(full_text, vocab, language):
        if acronym in found or _excluded(vocab, acronym, name):
            continue
        count = len(re.findall(rf"(?<![\w-]){re.escape(acronym)}(?![\w-])", full_text))
        early = acronym in early_text or name in early_text
        found[acronym] = Found(acronym, name, count, early)
    chosen = [f for f in found.values() if f.early or f.mentions >= 2]
    chosen.sort(key=lambda f: (not f.early, -f.mentions))
    return [{"acronym": f.acronym, "name": f.name} for f in chosen[:2]]


def _count_known(project: Project, text: str, folded: str) -> int:
    count = len(re.findall(rf"(?<![\w-]){re.escape(project.acronym)}(?![\w-])", text)) \
        if project.acronym and project.acronym in text else 0
    for name in [project.name, *project.aliases]:
        if name and fold(name) in folded:
            count += 1
    return count


def _named(text: str, vocab: Vocabulary, language: str) -> list[tuple[str, str]]:
    """Find "Name (ACRONYM)" pairs that look like projects, and names whose initials recur."""
    keywords = [fold(k) for k in vocab.phrase_list("projects.keywords")]
    introducers = [fold(k) for k in vocab.phrase_list("projects.introducers", language)]
    pairs: list[tuple[str, str]] = []
    sentence_case = _sentence_case(tuple(vocab.phrase_list("projects.keywords")))
    for match in [*NAMED.finditer(text), *sentence_case.finditer(text)]:
        name = ARTICLE.sub("", match.group("name").strip(" «»\"“”"))
        acronym = match.group("acronym")
        before = fold(text[max(0, match.start() - 40):match.start()])
        looks_like_project = (_has_keyword(name, keywords) or match.group("name")[0] in "«\"“"
                              or any(before.rstrip(" ,").endswith(i) for i in introducers))
        pair = (acronym, " ".join(name.split()))
        if looks_like_project and pair not in pairs:
            pairs.append(pair)
    for match in TITLE_CASE.finditer(text):
        name = ARTICLE.sub("", match.group(1))
        if not _has_keyword(name, keywords):
            continue
        initials = "".join(w[0] for w in name.split() if w[0].isupper())
        if len(initials) >= 2 and re.search(rf"(?<![\w-]){initials}(?![\w-])", text):
            pairs.append((initials, name))
    return pairs


@lru_cache(maxsize=8)
def _sentence_case(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """Names in sentence case, as French and Spanish write them, starting with a project word:
    "Programme d'appui aux pêcheurs artisans (PAPA)"."""
    words = "|".join(re.escape(k[:1].upper() + k[1:]) for k in keywords if k.isalpha())
    return re.compile(rf"\b(?P<name>(?:{words})\b[^().;:«»]{{3,160}}?)\s*\((?P<acronym>{ACRONYM})\)")


def _has_keyword(name: str, keywords: list[str]) -> bool:
    folded = fold(name)
    return any(re.search(rf"(?<!\w){re.escape(k)}(?!\w)", folded) for k in keywords)


def _excluded(vocab: Vocabulary, acronym: str, name: str) -> bool:
    folded = fold(name)
    for other in vocab.not_projects:
        if other.acronym and other.acronym == acronym:
            return True
        if other.name and fold(other.name) in folded:
            return True
    return False
