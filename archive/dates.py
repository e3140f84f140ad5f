"""Publication and update dates: machine-readable first, then the visible date, then the URL.

Only the page's main region is read, never an aside: a sidebar teaser's date is another
release's date.
"""

from __future__ import annotations

import logging
import re
import warnings
from datetime import date

from bs4 import Tag

from archive.page import Page, in_side_region, text_of
from archive.textnorm import fold

logger = logging.getLogger(__name__)

PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished",
                  "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date", "date",
                  "pubdate", "publishdate", "sailthru.date", "parsely-pub-date")
MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified",
                 "last-modified")
ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
WORD = r"[^\W\d_]{3,12}\.?"
CANDIDATES = re.compile(
    rf"\b\d{{1,2}}(?:er|º|st|nd|rd|th)?\s+(?:de\s+)?{WORD}\s+(?:de\s+|del\s+)?\d{{4}}\b"
    rf"|\b{WORD}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{4}\b")
URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|$|[^\d])")
EARLIEST = date(1990, 1, 1)
DATE_LANGUAGES = frozenset({"en", "fr", "es", "ar", "pt", "it", "de", "ru", "zh", "tr", "fa", "uk"})
MAX_DATE_CANDIDATES = 400  # elements looked at for a visible date: bounded on huge pages
# Levantine and Iraqi month names, as the Standard Arabic ones dateparser knows (longest first)
LEVANTINE_MONTHS = (("كانون الثاني", "يناير"), ("كانون الأول", "ديسمبر"), ("تشرين الأول", "أكتوبر"),
                    ("تشرين الثاني", "نوفمبر"), ("شباط", "فبراير"), ("آذار", "مارس"),
                    ("نيسان", "أبريل"), ("أيار", "مايو"), ("حزيران", "يونيو"), ("تموز", "يوليو"),
                    ("آب", "أغسطس"), ("أيلول", "سبتمبر"))


def iso_date(value: str | None) -> str | None:
    """Return YYYY-MM-DD from an ISO 8601 date or datetime, or None.

    >>> iso_date("2017-11-23T10:00:00+00:00")
    '2017-11-23'
    >>> iso_date("23/11/2017") is None
    True
    """
    if not value:
        return None
    match = ISO.search(value.translate(ARABIC_DIGITS))
    if not match:
        return None
    try:
        return date(*map(int, match.groups())).isoformat()
    except ValueError:
        return None


def parse_visible(text: str, language: str | None) -> str | None:
    """Parse a date as people write it, in the page's language.

    >>> parse_visible("Posted: Monday, 30 June 2014 - 10:00", "en")
    '2014-06-30'
    >>> parse_visible("12 de marzo de 2024", "es")
    '2024-03-12'
    >>> parse_visible("Publié le : mardi 17 mai 2011", "fr")
    '2011-05-17'
    >>> parse_visible("١٢ مارس ٢٠٢٤", "ar")
    '2024-03-12'
    """
    import dateparser

    text = text.translate(ARABIC_DIGITS)
    for levantine, standard in LEVANTINE_MONTHS:
        text = text.replace(levantine, standard)
    languages = [language] if language in DATE_LANGUAGES else None
    settings = {"REQUIRE_PARTS": ["day", "month", "year"], "PREFER_DAY_OF_MONTH": "first",
                "DATE_ORDER": "DMY", "RETURN_AS_TIMEZONE_AWARE": False}
    for match in CANDIDATES.finditer(text):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dateparser warns about pytz internals
            parsed = dateparser.parse(match.group(0), languages=languages, settings=settings)
        if parsed is not None and _plausible(parsed.date()):
            return str(parsed.date().isoformat())
    return None


def _plausible(day: date) -> bool:
    return EARLIEST <= day <= date.today().replace(year=date.today().year + 1)


def published_date(page: Page, region: Tag, language: str | None,
                   rule_element: Tag | None = None, title: Tag | None = None) -> tuple[str | None, str]:
    """Return (YYYY-MM-DD or None, where it was found)."""
    if rule_element is not None:
        found = _from_element(rule_element, language)
        if found:
            return found, "page-rule"
    for element in region.select("time[datetime], [itemprop=datePublished], [property*='dc:date'], "
                                 "[property*='datePublished']"):
        if not in_side_region(element) or element is region:
            found = iso_date(_attribute(element))
            if found:
                return found, "markup"
    for key in PUBLISHED_META:
        found = iso_date(page.meta.get(key))
        if found:
            return found, "meta"
    found = iso_date(page.jsonld_value("datePublished") or page.jsonld_value("dateCreated"))
    if found:
        return found, "json-ld"
    found = _visible(region, language, title)
    if found:
        return found, "text"
    match = URL_DATE.search(page.url)
    if match:
        try:
            return date(*map(int, match.groups())).isoformat(), "url"
        except ValueError:
            pass
    return None, "none"


def updated_date(page: Page, region: Tag, language: str | None, published: str | None,
                 update_words: list[str]) -> str | None:
    """Return the date the page says it was updated, when later than the publication."""
    found = None
    for key in MODIFIED_META:
        found = found or iso_date(page.meta.get(key))
    found = found or iso_date(page.jsonld_value("dateModified"))
    if not found and update_words:
        words = "|".join(re.escape(fold(w)) for w in update_words)
        for element in region.find_all(string=re.compile("|".join(map(re.escape, update_words)), re.I)):
            parent = element.parent
            if isinstance(parent, Tag) and not in_side_region(parent):
                text = text_of(parent)
                if re.search(rf"(^|\W)({words})\W", fold(text)):
                    found = parse_visible(text, language)
                    if found:
                        break
    if found and published and found > published:
        return found
    return None


def _attribute(element: Tag) -> str:
    for name in ("datetime", "content"):
        value = element.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return text_of(element)


def _from_element(element: Tag, language: str | None) -> str | None:
    return iso_date(_attribute(element)) or parse_visible(text_of(element), language)


def _visible(region: Tag, language: str | None, title: Tag | None = None) -> str | None:
    """Find the first visible date in the main region, outside asides and teasers.

    With the title's element known, only its own header block and what follows the title
    are read: a column of teasers placed before the article carries other releases' dates.
    """
    tags = ["span", "div", "p", "time", "small", "em", "strong", "li"]
    if title is not None and title in region.descendants:
        header = title.parent if isinstance(title.parent, Tag) and title.parent is not region else None
        near = header.find_all(tags, limit=50) if header is not None else []
        after = title.find_all_next(tags, limit=MAX_DATE_CANDIDATES)
        candidates = [*near, *(e for e in after if region in e.parents)]
    else:
        candidates = region.find_all(tags, limit=MAX_DATE_CANDIDATES)
    for element in candidates:
        if element.find(["p", "div", "li"]) is not None or in_side_region(element):
            continue
        text = text_of(element)
        if 6 <= len(text) <= 120 and re.search(r"\d{4}", text.translate(ARABIC_DIGITS)):
            found = parse_visible(text, language)
            if found:
                return found
    return None
