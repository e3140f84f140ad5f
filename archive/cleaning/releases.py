"""The cleaning job: derive releases from archived captures, without fetching anything.

A capture that cannot be read back whole (its WARC file missing, cut short or damaged) is never
cleaned: what it was last cleaned into stays as it is, and it is listed in `CleanStats.unreadable`.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from archive.catalogue import Catalogue, VersionRow
from archive.cleaning.clean import Capture, NotARelease, clean_release
from archive.cleaning.clean_text import clean_text_dump, dump_text
from archive.cleaning.textdump import Boilerplate, learn_boilerplate, split_lines
from archive.cleaning.vocab import PageRules, Vocabulary, load_vocabulary, page_rules_from
from archive.release import Release
from archive.settings import Settings
from archive.warcstore import UnreadableRecord, WarcStore

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)


@dataclass(frozen=True)
class Unreadable:
    """A version whose capture could not be read, so its last cleaning result was kept."""

    url: str
    version: int
    file: str
    offset: int
    reason: str


@dataclass
class CleanStats:
    """What one cleaning pass did."""

    releases: int = 0
    not_releases: Counter[str] = field(default_factory=Counter)
    skipped_types: int = 0
    errors: int = 0
    unreadable: list[Unreadable] = field(default_factory=list)


def site_rules(settings: Settings) -> dict[str, list[PageRules]]:
    """Return each configured site's own page rules (tried before the global ones)."""
    return {key: [page_rules_from(key, site.page_rules, f"sites.{key}.page_rules")]
            for key, site in settings.sites.items() if site.page_rules}


def clean_versions(catalogue: Catalogue, store: WarcStore, settings: Settings,
                   vocab: Vocabulary | None = None, everything: bool = False) -> CleanStats:
    """Clean every version not cleaned yet (or all of them, for `reclean`)."""
    vocab = vocab or load_vocabulary()
    rules = site_rules(settings)
    stats = CleanStats()
    rows = catalogue.versions_to_clean(everything)
    models = text_models(catalogue, store) if any(r.content_type in TEXT_TYPES for r in rows) else {}
    for start in range(0, len(rows), 200):  # commit in batches: a killed reclean keeps what it did
        with catalogue.transaction():
            for row in rows[start:start + 200]:
                _clean_one(catalogue, store, row, vocab, rules.get(row.site, []), stats,
                           models.get(row.site))
    return stats


def text_models(catalogue: Catalogue, store: WarcStore) -> dict[str, Boilerplate]:
    """Learn each site's boilerplate lines from all of its readable archived text dumps."""
    pages: dict[str, list[list[str]]] = {}
    for row in catalogue.versions_to_clean(everything=True):
        if row.content_type in TEXT_TYPES:
            try:
                _, body = store.read_payload(row.ref)
            except UnreadableRecord:
                continue  # reported when the version itself is cleaned
            pages.setdefault(row.site, []).append(split_lines(dump_text(body)))
    return {site: learn_boilerplate(dumps) for site, dumps in pages.items()}


def _clean_one(catalogue: Catalogue, store: WarcStore, row: VersionRow, vocab: Vocabulary,
               rules: list[PageRules], stats: CleanStats, model: Boilerplate | None) -> None:
    if row.content_type not in HTML_TYPES + TEXT_TYPES:
        catalogue.save_cleaned(row, None, f"not HTML ({row.content_type})")
        stats.skipped_types += 1
        return
    try:
        headers, body = store.read_payload(row.ref)
    except UnreadableRecord as exc:
        # keep what this version was last cleaned into: a capture that cannot be read says
        # nothing about the page, and must not turn a release into "not a release"
        logger.warning("cannot read %s version %d, kept as it was: %s", row.document_url,
                     row.version, exc)
        stats.unreadable.append(Unreadable(row.document_url, row.version, row.ref.file,
                                           row.ref.offset, exc.reason))
        return
    if row.content_type in TEXT_TYPES:
        capture = Capture(url=row.document_url, site=row.site, body=body,
                          content_type=row.content_type, captured=row.captured, version=row.version)
        release, problem = clean_text_dump(capture, model or Boilerplate(frozenset(), 0), vocab)
        _save(catalogue, row, release, problem, stats)
        return
    try:
        ctype = next((v for k, v in headers if k.lower() == "content-type"), row.content_type)
        capture = Capture(url=row.document_url, site=row.site, body=body, content_type=ctype,
                          captured=row.captured, version=row.version)
        release = clean_release(capture, vocab, rules)
    except NotARelease as exc:
        catalogue.save_cleaned(row, None, str(exc))
        stats.not_releases[str(exc).split(" (")[0]] += 1
        return
    except Exception as exc:  # one broken page must not stop the others; it is recorded
        logger.error("cleaning %s version %d failed: %s", row.document_url, row.version, exc)
        catalogue.save_cleaned(row, None, f"error: {type(exc).__name__}: {exc}"[:500])
        stats.errors += 1
        return
    _save(catalogue, row, release, None, stats)


def _save(catalogue: Catalogue, row: VersionRow, release: Release, problem: str | None,
          stats: CleanStats) -> None:
    if problem:
        catalogue.save_cleaned(row, None, problem)
        stats.not_releases[problem.split(" (")[0]] += 1
    else:
        catalogue.save_cleaned(row, release, None)
        stats.releases += 1
