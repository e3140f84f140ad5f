"""Citations of a release (APA 7, Chicago) and its machine-readable metadata (JSON-LD, citation_*).

A press release is cited as its organisation's work: the organisation is author and publisher.
The references follow what the Citation Style Language styles `apa` (7th edition, type
"webpage", genre "Press release") and `chicago-notes-bibliography` (type "article") make of the
same metadata; tests/test_citation.py checks them against citeproc-py. They are written in the
interface language where the style allows: month names (babel), the CSL locale's terms ("n.d.",
"Retrieved ... from") and quotation marks. The release's own title is never translated, and it
is title-cased for Chicago only when the release is in English, as CSL does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_date

from archive.release import Release
from archive.settings import netloc

# per interface language, from the CSL locale files (locales-en-US, -fr-FR, -es-ES, -ar):
# no-date term, "accessed" (Chicago), "retrieved ... from" (APA), quotation marks and whether
# punctuation goes inside them, the genre, and babel patterns for the long date and APA's date
TERMS: dict[str, dict[str, Any]] = {
    "en": {"nd": "n.d.", "accessed": "Accessed {date}", "retrieved": "Retrieved {date}, from {url}",
           "quotes": ("“", "”"), "punct_in_quote": True, "genre": "Press release",
           "long": "MMMM d, y", "apa": "y, MMMM d"},
    "fr": {"nd": "s.\u00a0d.", "accessed": "Consulté le {date}",
           "retrieved": "Consulté {date}, à l'adresse {url}",
           "quotes": ("«\u00a0", "\u00a0»"), "punct_in_quote": False, "genre": "Communiqué de presse",
           "long": "d MMMM y", "apa": "y, d MMMM"},
    "es": {"nd": "s.\u00a0f.", "accessed": "Accedido {date}", "retrieved": "Recuperado {date}, de {url}",
           "quotes": ("«", "»"), "punct_in_quote": False, "genre": "Comunicado de prensa",
           "long": "d 'de' MMMM 'de' y", "apa": "y, d 'de' MMMM"},
    "ar": {"nd": "د.ت", "accessed": "تاريخ الوصول {date}", "retrieved": "استرجع في {date}, من {url}",
           "quotes": ('"', '"'), "punct_in_quote": False, "genre": "بيان صحفي",
           "long": "d MMMM، y", "apa": "y, d MMMM"},
}
# CSL's title case leaves these lower case inside a title
STOP_WORDS = frozenset(["a", "an", "and", "as", "at", "but", "by", "down", "for", "from", "in", "into",
                        "nor", "of", "on", "onto", "or", "over", "so", "the", "till", "to", "up", "via",
                        "with", "yet"])
HOST_LIKE = re.compile(r"^[\w.-]+\.[a-z]{2,}(:\d+)?$|^[\d.]+(:\d+)?$|^\[[\d:a-f]+\](:\d+)?$", re.I)


@dataclass(frozen=True)
class Cited:
    """What a reference needs: who, what, when, where, and when it was retrieved."""

    organisation: str
    title: str
    language: str            # the release's language (title case is English-only)
    url: str
    published: str | None    # YYYY-MM-DD
    accessed: str | None     # when the cited copy was captured (ISO date or timestamp)


def organisation(release: Release, configured: str | None) -> str:
    """Name the organisation that published a release: the configured site name, else the
    name the page declares (og:site_name), else the host name without port or "www." (never a
    host:port). A configured name that is only the site's host does not count as a name.

    >>> r = Release(id="r-1", url="http://127.0.0.1:8080/n/t", site="x", language="en", title="T",
    ...             published=None, body="")
    >>> organisation(r, "127.0.0.1:8080")
    '127.0.0.1'
    >>> r.site_name = "IOM"
    >>> organisation(r, None), organisation(r, "IOM newsroom")
    ('IOM', 'IOM newsroom')
    """
    for name in (configured, release.site_name):
        if name and name.strip() and not HOST_LIKE.match(name.strip()) and name != netloc(release.url):
            return name.strip()
    host = urlsplit(release.url).hostname or release.site
    return host.removeprefix("www.")


def cited(release: Release, configured: str | None, accessed: str | None) -> Cited:
    """Gather what the references of a release say."""
    return Cited(organisation(release, configured), release.title, release.language or "",
                 release.url, release.published, accessed)


def _terms(ui: str) -> dict[str, Any]:
    return TERMS.get(ui, TERMS["en"])


def _date(iso: str, pattern: str, ui: str) -> str:
    return format_date(date.fromisoformat(iso[:10]), pattern, locale=ui if ui in TERMS else "en")


def _end(text: str, mark: str = ".") -> str:
    """End a part with a mark unless it already ends with one (CSL collapses "?." and "..")."""
    return text if text[-1:] in ".?!" else text + mark


def title_case(title: str) -> str:
    """Title-case an English title as CSL does: lower-case words capitalised, stop words kept.

    >>> title_case("Migrants rescued off Libya: the toll rises in the UN's count")
    "Migrants Rescued Off Libya: The Toll Rises in the UN's Count"
    """
    out, previous = [], ":"
    for word in title.split(" "):
        if word.islower() and (word not in STOP_WORDS or previous in (":", ".")):
            word = word[0].upper() + word[1:]
        out.append(word)
        previous = word[-1:] or previous
    return " ".join(out)


def apa(cite: Cited, ui: str) -> str:
    """APA 7 reference of a press release, in the interface language.

    >>> c = Cited("IOM", "Migrants rescued", "en", "https://x.org/n/t", "2013-06-11", None)
    >>> apa(c, "en")
    'IOM. (2013, June 11). Migrants rescued [Press release]. https://x.org/n/t'
    >>> apa(c, "fr")
    'IOM. (2013, 11 juin). Migrants rescued [Communiqué de presse]. https://x.org/n/t'
    """
    terms = _terms(ui)
    when = _date(cite.published, terms["apa"], ui) if cite.published else terms["nd"]
    head = f"{_end(cite.organisation)} ({when}). {cite.title} [{terms['genre']}]."
    if cite.published or not cite.accessed:
        return f"{head} {cite.url}"
    retrieved: str = terms["retrieved"].format(date=_date(cite.accessed, terms["long"], ui), url=cite.url)
    return f"{head} {retrieved}"


def chicago(cite: Cited, ui: str) -> str:
    """Chicago (notes and bibliography) entry of a press release, in the interface language.

    >>> c = Cited("IOM", "Migrants rescued off Libya", "en", "https://x.org/n/t", "2013-06-11", None)
    >>> chicago(c, "en")
    'IOM. “Migrants Rescued Off Libya.” Press release. June 11, 2013. https://x.org/n/t.'
    """
    terms = _terms(ui)
    title = title_case(cite.title) if cite.language.split("-")[0] == "en" else cite.title
    opening, closing = terms["quotes"]
    # en-US puts the period inside the quotation marks; the other locales after them
    inside = terms["punct_in_quote"]
    quoted = f"{opening}{_end(title)}{closing}" if inside else f"{opening}{title}{closing}."
    parts = [_end(cite.organisation), quoted, _end(terms["genre"])]
    if cite.published:
        parts.append(_end(_date(cite.published, terms["long"], ui)))
    else:
        parts.append(_end(terms["nd"]))
        if cite.accessed:
            parts.append(_end(terms["accessed"].format(date=_date(cite.accessed, terms["long"], ui))))
    parts.append(_end(cite.url))
    return " ".join(parts)


def json_ld(release: Release, org: str, permalink: str) -> dict[str, Any]:
    """schema.org NewsArticle metadata."""
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "headline": release.title, "inLanguage": release.language,
        "datePublished": release.published, "url": release.url,
        "author": {"@type": "Organization", "name": org},
        "publisher": {"@type": "Organization", "name": org},
        "archivedAt": permalink,
        "contentLocation": [{"@type": "Country", "identifier": c} for c in release.countries],
        "keywords": release.themes,
    }
    if release.updated:
        data["dateModified"] = release.updated
    if release.dateline:
        data["locationCreated"] = {"@type": "Place", "name": release.dateline}
    return data


def citation_meta(release: Release, org: str, permalink: str) -> list[tuple[str, str]]:
    """citation_* meta tags (Highwire Press), read by reference managers such as Zotero."""
    tags = [("citation_title", release.title), ("citation_author", org),
            ("citation_publisher", org),
            ("citation_public_url", permalink), ("citation_language", release.language or "")]
    if release.published:
        tags.append(("citation_publication_date", release.published.replace("-", "/")))
    tags.append(("citation_fulltext_html_url", release.url))
    return [(k, v) for k, v in tags if v]
