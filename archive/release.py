"""The release: what cleaning makes of one captured version of a news release."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from archive.warcstore import RecordRef

FIELDS = ("id", "url", "site", "site_name", "language", "title", "published", "date_source", "updated",
          "captured", "dateline", "countries", "projects", "themes", "donors", "contacts", "body",
          "translations", "content_hash", "version")


@dataclass
class Contact:
    """A press contact named on the release."""

    name: str | None = None
    office: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass
class Release:
    """One version of a release, with the field names of the JSON export and API."""

    id: str
    url: str
    site: str
    language: str
    title: str
    published: str | None
    body: str
    # where `published` came from (archive.cleaning.dates.DATE_SOURCES); None when no date was
    # found, or for releases cleaned before it was recorded
    date_source: str | None = None
    updated: str | None = None
    captured: str | None = None
    dateline: str | None = None
    countries: list[str] = field(default_factory=list)
    projects: list[dict[str, str]] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    donors: list[str] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    translations: list[dict[str, str]] = field(default_factory=list)
    content_hash: str = ""
    version: int = 1
    # the name the page gives its publisher (og:site_name, JSON-LD publisher): what citations
    # and feeds name when the site's configuration names none; None on releases cleaned before
    site_name: str | None = None

    def __post_init__(self) -> None:
        if not self.content_hash:
            self.content_hash = content_hash(self.title, self.body)

    def to_json(self) -> dict[str, Any]:
        """Return the release as JSON-ready data, fields in their documented order."""
        data = asdict(self)
        return {name: data[name] for name in FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Release:
        """Rebuild a release from `to_json` output."""
        values = {k: v for k, v in data.items() if k in FIELDS}
        values["contacts"] = [Contact(**c) for c in values.get("contacts", [])]
        return cls(**values)

    @property
    def paragraphs(self) -> list[str]:
        """The body's paragraphs."""
        return [p for p in self.body.split("\n\n") if p.strip()]


@dataclass(frozen=True)
class Archived:
    """Where and when the page behind one version of a release was archived."""

    captured: str
    content_type: str
    fetched_url: str
    ref: RecordRef


@dataclass(frozen=True)
class ReleaseVersion:
    """One version of a release as the catalogue keeps it: what cleaning made, and its capture."""

    release: Release
    archived: Archived

    @property
    def number(self) -> int:
        """The version's number, counted from 1 for each document."""
        return self.release.version


def release_id(document_url: str) -> str:
    """Return the stable id of a release: the same for every version of a document.

    >>> release_id("https://www.example.org/news/a")
    'r-1a1909bc18685184'
    """
    return "r-" + hashlib.sha256(document_url.encode("utf-8")).hexdigest()[:16]


def content_hash(title: str, body: str) -> str:
    """Hash what a reader sees of a release: its title and body text."""
    return "sha256:" + hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()
