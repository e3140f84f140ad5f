"""Citations of a release (APA, Chicago) and its machine-readable metadata (JSON-LD, citation_*)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from archive.release import Release


def _long_date(iso: str | None) -> str:
    if not iso:
        return "n.d."
    day = date.fromisoformat(iso[:10])
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def publisher(release: Release, site_name: str | None) -> str:
    """The publishing organisation or site, for citations."""
    return site_name or urlsplit(release.url).netloc


def apa(release: Release, site_name: str | None, permalink: str) -> str:
    """APA 7 reference of a press release.

    >>> t = Release(id="r-1", url="https://x.org/n/t", site="x", language="en", title="T",
    ...             published="2013-06-11", body="")
    >>> apa(t, "IOM", "https://p/r")
    'IOM. (2013, June 11). T [Press release]. https://x.org/n/t (archived at https://p/r)'
    """
    org = publisher(release, site_name)
    published = release.published
    when = "n.d."
    if published:
        day = date.fromisoformat(published)
        when = f"{day.year}, {day.strftime('%B')} {day.day}"
    return f"{org}. ({when}). {release.title} [Press release]. {release.url} (archived at {permalink})"


def chicago(release: Release, site_name: str | None, permalink: str, accessed: str | None) -> str:
    """Chicago (notes and bibliography) entry of a press release."""
    org = publisher(release, site_name)
    when = f" {_long_date(accessed)}" if accessed else ""
    archived = f" Archived{when} at {permalink}."
    return (f"{org}. “{release.title}.” Press release, {_long_date(release.published)}. "
            f"{release.url}.{archived}")


def json_ld(release: Release, site_name: str | None, permalink: str) -> dict[str, Any]:
    """schema.org NewsArticle metadata."""
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "headline": release.title, "inLanguage": release.language,
        "datePublished": release.published, "url": release.url,
        "publisher": {"@type": "Organization", "name": publisher(release, site_name)},
        "archivedAt": permalink,
        "contentLocation": [{"@type": "Country", "identifier": c} for c in release.countries],
        "keywords": release.themes,
    }
    if release.updated:
        data["dateModified"] = release.updated
    if release.dateline:
        data["locationCreated"] = {"@type": "Place", "name": release.dateline}
    return data


def citation_meta(release: Release, site_name: str | None, permalink: str) -> list[tuple[str, str]]:
    """citation_* meta tags (Highwire Press), read by reference managers."""
    tags = [("citation_title", release.title),
            ("citation_publisher", publisher(release, site_name)),
            ("citation_public_url", permalink), ("citation_language", release.language or "")]
    if release.published:
        tags.append(("citation_publication_date", release.published.replace("-", "/")))
    tags.append(("citation_fulltext_html_url", release.url))
    return [(k, v) for k, v in tags if v]
