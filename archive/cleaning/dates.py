"""Publication and update dates: machine-readable first, then the visible date, then the URL.

Only the page's main region is read, never an aside: a sidebar teaser's date is another
release's date.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable
from datetime import date

import lxml.html
from bs4 import Tag
from lxml.html import HtmlElement

from archive.cleaning.page import CONTENT_ROLES, CONTENT_TAGS, Page, in_side_region, prune_side, text_of
from archive.cleaning.textnorm import fold

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
    rf"\b\d{{1,2}}(?:er|º|st|nd|rd|th|\.)?\s+(?:de\s+)?{WORD}\s+(?:de\s+|del\s+)?\d{{4}}\b"
    rf"|\b{WORD}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{4}\b")
# year first, as Chinese, Japanese and Korean pages (and ISO-minded ones) write it: no ambiguity
YEAR_FIRST = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年|년|[./-])\s*(\d{1,2})\s*(?:月|월|[./-])\s*"
                        r"(\d{1,2})(?!\d)")
TEASER_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
CAPTION = re.compile(r"caption|credit", re.I)
URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|$|[^\d])")
EARLIEST = date(1990, 1, 1)
MARKUP_DATES = ("time[datetime], [itemprop=datePublished], [property*='dc:date'], "
                "[property*='datePublished']")
MODIFIED_CLASS = re.compile(r"updated|modified|dateModified", re.I)
# where a publication date may come from, tried in this order (measured on bench/real_pages:
# the article's own markup, metadata and dated byline, then htmldate's search of the whole page)
PUBLISHED_ORDER = ("page-rule", "markup", "meta", "json-ld", "text", "htmldate", "url")
DATE_SOURCES = frozenset(PUBLISHED_ORDER)
DATE_LANGUAGES = frozenset({"en", "fr", "es", "ar", "pt", "it", "de", "nl", "ru", "zh", "tr", "fa",
                            "uk", "pl", "ro", "hu", "id", "sv", "da", "cs", "el", "sq", "ja", "ko"})
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
    return _day(ISO.search(value.translate(ARABIC_DIGITS)))


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
    >>> parse_visible("Samstag, 19. Juli 2014", "de")
    '2014-07-19'
    >>> parse_visible("2018年6月19日 11:02", "ja")
    '2018-06-19'
    """
    import dateparser

    text = text.translate(ARABIC_DIGITS)
    for match in YEAR_FIRST.finditer(text):
        try:
            day = date(*map(int, match.groups()))
        except ValueError:
            continue
        if _plausible(day):
            return day.isoformat()
    for levantine, standard in LEVANTINE_MONTHS:
        text = text.replace(levantine, standard)
    languages = [language] if language in DATE_LANGUAGES else None
    settings = {"REQUIRE_PARTS": ["day", "month", "year"], "PREFER_DAY_OF_MONTH": "first",
                "DATE_ORDER": "DMY", "RETURN_AS_TIMEZONE_AWARE": False}
    for match in CANDIDATES.finditer(text):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dateparser warns about pytz internals
            try:
                parsed = dateparser.parse(match.group(0), languages=languages, settings=settings)
            except ValueError:  # a language dateparser does not know: let it detect one
                parsed = dateparser.parse(match.group(0), settings=settings)
        if parsed is not None and _plausible(parsed.date()):
            return str(parsed.date().isoformat())
    return None


def _plausible(day: date) -> bool:
    return EARLIEST <= day <= date.today().replace(year=date.today().year + 1)


def published_date(page: Page, region: Tag, language: str | None,
                   rule_element: Tag | None = None, title: Tag | None = None,
                   update_words: list[str] | None = None) -> tuple[str | None, str]:
    """Return (YYYY-MM-DD or None, the source that gave it: one of DATE_SOURCES, or "none")."""
    sources = date_sources(page, region, language, rule_element, title, update_words)
    for source in PUBLISHED_ORDER:
        found = sources[source]()
        if found:
            return found, source
    return None, "none"


def date_sources(page: Page, region: Tag, language: str | None, rule_element: Tag | None = None,
                 title: Tag | None = None, update_words: list[str] | None = None
                 ) -> dict[str, Callable[[], str | None]]:
    """Return each source of a publication date as a function, to be called in any order."""
    return {
        "page-rule": lambda: _from_element(rule_element, language) if rule_element is not None else None,
        "markup": lambda: _markup(region),
        "meta": lambda: next(filter(None, (iso_date(page.meta.get(k)) for k in PUBLISHED_META)), None),
        "json-ld": lambda: iso_date(page.jsonld_value("datePublished")
                                    or page.jsonld_value("dateCreated")),
        "text": lambda: _visible(region, language, title, update_words),
        "htmldate": lambda: library_date(article_document(page, region, title)),
        "url": lambda: url_date(page.url),
    }


def article_document(page: Page, region: Tag, title: Tag | None = None) -> HtmlElement:
    """Return what htmldate may read, as an lxml tree: the page's <head> and its main region
    without asides, menus and teasers, from the title's header block on when the title is known
    (a sidebar or a column of teasers carries other releases' dates)."""
    head = page.soup.find("head")
    tree = lxml.html.document_fromstring(f"<html>{head or ''}<body>{_from_title(region, title)}"
                                         "</body></html>")
    in_content = any(node.name in CONTENT_TAGS or node.get("role") in CONTENT_ROLES
                     for node in [region, *region.parents] if isinstance(node, Tag))
    body = tree.find("body")
    prune_side(body if body is not None else tree, in_content)
    return tree


def _from_title(region: Tag, title: Tag | None) -> str:
    """The region's markup from the title's header block on (all of it without a title)."""
    if title is None or not any(node is region for node in title.parents):
        return str(region)
    start = title.parent if isinstance(title.parent, Tag) and title.parent is not region else title
    parts = [str(start)]
    for node in [start, *start.parents]:
        if node is region:
            break
        parts.extend(str(sibling) for sibling in node.next_siblings)
    return "".join(parts)


def library_date(document: str | HtmlElement) -> str | None:
    """Return htmldate's publication day (original date, extensive search), or None.

    The first of January is taken for what htmldate answers when it found a year only.

    >>> library_date('<html><head><meta property="article:published_time" '
    ...              'content="2021-02-03T10:00:00Z"></head><body><p>x</p></body></html>')
    '2021-02-03'
    """
    from htmldate import find_date

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = find_date(document, extensive_search=True, original_date=True,
                              min_date=EARLIEST.isoformat())
    except Exception as exc:  # a library failure on one page is a miss, not a crash
        logger.debug("htmldate failed: %s", exc)
        return None
    found = iso_date(found)
    # htmldate answers 1 January when all it found is a year (a copyright line, a lone year):
    # a year is not a publication day
    return None if found is None or found.endswith("-01-01") else found


def url_date(url: str) -> str | None:
    """Return the date in a URL path such as /2019/07/15/slug, or None.

    >>> url_date("https://news.example.org/2019/07/15/boats")
    '2019-07-15'
    >>> url_date("https://news.example.org/2019/13/45/boats") is None
    True
    """
    return _day(URL_DATE.search(url))


def _day(match: re.Match[str] | None) -> str | None:
    """Return YYYY-MM-DD from a (year, month, day) match, or None when it is no real day."""
    if not match:
        return None
    try:
        return date(*map(int, match.groups())).isoformat()
    except ValueError:
        return None


def _markup(region: Tag) -> str | None:
    """The first machine-readable publication date of the article (its own header included)."""
    for element in region.select(MARKUP_DATES):
        if element is region or not in_side_region(element):
            names = " ".join([*(element.get("class") or []), str(element.get("itemprop") or "")])
            if MODIFIED_CLASS.search(names):
                continue  # an "updated" time next to the published one
            found = iso_date(_attribute(element))
            if found:
                return found
    return None


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


def _visible(region: Tag, language: str | None, title: Tag | None = None,
             update_words: list[str] | None = None) -> str | None:
    """Find the first visible date in the main region, outside asides, teasers and captions.

    With the title's element known, only its own header block and what follows the title
    are read: a column of teasers placed before the article carries other releases' dates.
    A line that says it is an update ("Updated: ...") is not the publication date; a photo
    caption's date is the photo's.
    """
    tags = ["span", "div", "p", "time", "small", "em", "strong", "li"]
    if title is not None and title in region.descendants:
        header = title.parent if isinstance(title.parent, Tag) and title.parent is not region else None
        near = header.find_all(tags, limit=50) if header is not None else []
        after = title.find_all_next(tags, limit=MAX_DATE_CANDIDATES)
        candidates = [*near, *(e for e in after if region in e.parents)]
    else:
        candidates = region.find_all(tags, limit=MAX_DATE_CANDIDATES)
    updates = _words_pattern(update_words or [])
    for element in candidates:
        if element.find(["p", "div", "li"]) is not None or in_side_region(element) \
                or _in_caption(element, region):
            continue
        text = text_of(element)
        if 6 <= len(text) <= 120 and re.search(r"\d{4}", text.translate(ARABIC_DIGITS)):
            if (updates is not None and updates.search(fold(text))) or _teaser_line(element, region):
                continue  # an update line, or a linked teaser "Other story (18/6/2018)"
            found = parse_visible(text, language)
            if found:
                return found
    return None


def _words_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    return re.compile(rf"(^|\W)({'|'.join(re.escape(fold(p)) for p in phrases)})(\W|$)")


def _teaser_line(element: Tag, region: Tag) -> bool:
    """Tell whether an element is, holds or sits in a linked heading, or is a list item mostly
    linked: another story's teaser."""
    if any(h.find("a", href=True) is not None for h in element.find_all(TEASER_HEADINGS)):
        return True
    for node in [element, *element.parents]:
        if node is region or node.name in ("body", "html"):
            return False
        if node.name in TEASER_HEADINGS and node.find("a", href=True) is not None:
            return True
        if node is element or node.name == "li":
            linked = sum(len(text_of(a)) for a in node.find_all("a"))
            if linked * 2 > len(text_of(node)):
                return True
    return False


def _in_caption(element: Tag, region: Tag) -> bool:
    """Tell whether an element is (in) a photo caption or credit, below the region."""
    for node in [element, *element.parents]:
        if node is region or node.name in ("body", "html"):
            return False
        if node.name in ("figure", "figcaption", "caption") or CAPTION.search(
                " ".join(node.get("class") or [])):
            return True
    return False
