"""Acceptance: the counts a journalist quotes are right.

For every sample-site query, the number of releases with all the words that the search
reports (`total_all`) equals a brute-force count over the exported releases. The brute force
shares only the definition with the search: each word analysed by the release language's
analyzer (indexer/analysis.py: folding, elision, stop words, stems, names unstemmed) must be in
its title or its body; a phrase must be there word after word; a plain query's word, or run
of up to three words, that names a country, a theme or a project also matches the releases
tagged with it; stop words of the languages searched are not words to match; NOT excludes.
It reads the export (`pressroom export --format jsonl`) and the vocabulary, never the index.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.cleaning.textnorm import fold
from archive.cleaning.vocab import load_vocabulary
from indexer.analysis import LANGUAGES, language_analyzer, stopwords
from indexer.interface import SearchRequest, open_index
from tests.conftest import SAMPLE_SITE, crawl_sample_site, run_cli

pytestmark = pytest.mark.acceptance
OPERATORS = {"AND", "OR", "NOT"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, module_database: str
             ) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    data = tmp_path_factory.mktemp("counts") / "data"
    crawl_sample_site(data)
    assert run_cli("index", "--data-dir", str(data)).returncode == 0
    export = run_cli("export", "--format", "jsonl", "--data-dir", str(data))
    assert export.returncode == 0, export.stderr
    yield data, [json.loads(line) for line in export.stdout.splitlines() if line.strip()]


def _tokens(text: str, language: str) -> list[str]:
    return [t.text for t in language_analyzer(language)(text)]


class BruteForce:
    """Count the releases with all the words of a query, one release at a time."""

    def __init__(self, releases: list[dict[str, Any]]) -> None:
        self.releases = releases
        self.vocab = load_vocabulary()
        self.stop = {lang: stopwords(lang) for lang in LANGUAGES}
        self.fields = [self._analysed(r) for r in releases]
        all_stop = set().union(*self.stop.values())
        owners: dict[str, set[str]] = {}
        for theme in self.vocab.themes.values():
            for label in [*theme.labels.values(), *theme.tags]:
                for word in fold(label).replace("-", " ").split():
                    if len(word) >= 5 and word not in all_stop:
                        owners.setdefault(word, set()).add(theme.id)
        self.theme_words = {w: next(iter(ids)) for w, ids in owners.items() if len(ids) == 1}

    @staticmethod
    def _analysed(release: dict[str, Any]) -> dict[str, list[str]]:
        language = release["language"] if release["language"] in LANGUAGES else "en"
        return {"title": _tokens(release["title"], language),
                "body": _tokens(release["body"], language), "language": [language]}

    def count(self, query: dict[str, Any]) -> int:
        return sum(1 for i in range(len(self.releases)) if self._kept(i, query))

    def _kept(self, i: int, query: dict[str, Any]) -> bool:
        release, filters = self.releases[i], query["filters"]
        if query.get("lang") and release["language"] != query["lang"]:
            return False
        tagged = {"country": release["countries"], "theme": release["themes"],
                  "project": [p.get("acronym") for p in release["projects"]],
                  "language": [release["language"]]}
        for facet, wanted in filters.items():
            if facet in tagged and not set(wanted) & set(tagged[facet]):
                return False
        day = release.get("published") or ""
        if "from" in filters and not (day and day >= filters["from"]):
            return False
        if "to" in filters and not (day and day <= filters["to"]):
            return False
        text = query["q"].strip()
        if not text:
            return True
        if re.search(r'["()]|\b(AND|OR|NOT)\b', text):
            return self._boolean(i, text)
        return all(self._unit(i, unit) for unit in self._units(text.split(), query.get("lang")))

    def _names(self, phrase: str) -> list[tuple[str, str]]:
        found = []
        code = self.vocab.country_code(phrase, ("name", "demonym"))
        if code and fold(phrase) not in self.vocab.ambiguous:
            found.append(("country", code))
        if fold(phrase) in self.theme_words:
            found.append(("theme", self.theme_words[fold(phrase)]))
        if phrase in {p.acronym for p in self.vocab.projects}:
            found.append(("project", phrase))
        return found

    def _units(self, words: list[str], lang: str | None) -> list[tuple[str, list[tuple[str, str]]]]:
        units, i = [], 0
        while i < len(words):
            for size in range(min(3, len(words) - i), 0, -1):
                phrase = " ".join(words[i:i + size])
                named = self._names(phrase)
                if named or size == 1:
                    units.append((phrase, named))
                    i += size
                    break
        stop = set().union(*(self.stop[x] for x in ([lang] if lang else LANGUAGES)))
        kept = [(u, n) for u, n in units if n or " " in u
                or fold(u).split("'")[-1] not in stop]
        return kept or units

    def _unit(self, i: int, unit: tuple[str, list[tuple[str, str]]]) -> bool:
        phrase, named = unit
        release = self.releases[i]
        tags = {"country": release["countries"], "theme": release["themes"],
                "project": [p.get("acronym") for p in release["projects"]]}
        if any(value in tags[facet] for facet, value in named):
            return True
        return self._has(i, phrase.split())

    def _has(self, i: int, words: list[str]) -> bool:
        """The words, analysed as the release's language, one after another in a field."""
        fields = self.fields[i]
        wanted = _tokens(" ".join(words), fields["language"][0])
        if not wanted:
            return False
        for name in ("title", "body"):
            tokens = fields[name]
            if len(wanted) == 1 and wanted[0] in tokens:
                return True
            if any(tokens[k:k + len(wanted)] == wanted for k in range(len(tokens))):
                return True
        return False

    def _boolean(self, i: int, text: str) -> bool:
        """Words, "phrases", AND (implicit too) and NOT: what the sample queries use."""
        result, negate = True, False
        for match in re.finditer(r'"([^"]*)"|(\S+)', text):
            phrase, word = match.group(1), match.group(2)
            if word in OPERATORS:
                negate = word == "NOT"
                continue
            found = self._has(i, (phrase or word).split())
            result = result and (found != negate)
            negate = False
        return result


def test_every_sample_query_counts_what_brute_force_counts(
        exported: tuple[Path, list[dict[str, Any]]]) -> None:
    data, releases = exported
    brute = BruteForce(releases)
    index = open_index(data)
    queries = [json.loads(line) for line in
               (SAMPLE_SITE / "queries.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    differences = []
    for query in queries:
        filters = {k: list(v) for k, v in query["filters"].items() if k not in ("from", "to")}
        page = index.search(SearchRequest(q=query["q"], language=query.get("lang"), filters=filters,
                                          date_from=query["filters"].get("from"),
                                          date_to=query["filters"].get("to"), snippets=False))
        expected = brute.count(query)
        if page.total_all != expected or page.corrected:
            differences.append((query["id"], query["q"], page.total_all, expected))
    assert len(queries) == 30
    assert differences == []
