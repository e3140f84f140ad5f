"""Turn one captured page into a release: pure, HTML in and data out, no I/O.

`clean_release` raises NotARelease (with the reason) for pages that are not releases:
listings, menus, tag pages, error pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bs4 import Tag

from archive.capture.links import decode_html
from archive.capture.urls import absolute_url
from archive.cleaning.contacts import (
    block_lines,
    find_contacts_block,
    parse_contacts,
    region_emails,
    reveal_cfemails,
)
from archive.cleaning.countries import office_country, read_lead, release_countries
from archive.cleaning.dates import published_date, updated_date
from archive.cleaning.extract import (
    generic_paragraphs,
    main_region,
    pick_rules,
    rule_paragraphs,
    select,
    tidy_paragraphs,
    word_count,
)
from archive.cleaning.language import release_language
from archive.cleaning.page import MAX_HTML_BYTES, Page, in_side_region, parse, text_of
from archive.cleaning.projects import release_projects
from archive.cleaning.textdump import looks_like_date
from archive.cleaning.textnorm import fold, plain_text, strip_control_refs
from archive.cleaning.themes import release_themes
from archive.cleaning.title import find_title, publisher_name
from archive.cleaning.vocab import PageRules, Vocabulary
from archive.errors import ArchiveError
from archive.release import Contact, Release, release_id

MIN_WORDS = 50
LISTING_TEASERS = 4   # linked headings in the main region that make a page a listing
NOT_ARTICLE_TYPES = {"website", "profile", "video.other", "music.song", "product", "book"}
ARTICLE_TYPES = {"Article", "NewsArticle", "Report", "BlogPosting", "PressRelease"}
LISTING_TYPES = {"CollectionPage", "SearchResultsPage", "ProfilePage"}
# dates that are the article's own (a headline's date), not htmldate's whole-page guess or the URL
OWN_DATE_SOURCES = {"page-rule", "markup", "meta", "json-ld", "text"}
LONG_TEXT = 500       # words: a body this long is an article's, whatever og:type says
ARTICLE_MARKUP = re.compile(r"schema\.org/(NewsArticle|Article|BlogPosting|Report|PressRelease)$")
HOME_PATH = re.compile(r"^/?(?:[a-z]{2}(?:[-_][a-z]{2})?/?)?$", re.I)  # /, /fr, /en-gb/
ASIDE_ROLES = ("navigation", "complementary", "contentinfo", "banner")
TAG_PATHS = {"country": re.compile(r"/(country|countries|pays|pais|paises)/", re.I),
             "theme": re.compile(r"/(topics?|themes?|thematiques?|temas?|subjects?)/", re.I)}


class NotARelease(ArchiveError):
    """The page is not a release (listing, menu page, tag page...)."""


@dataclass(frozen=True)
class Capture:
    """One captured version of a document, as the cleaner needs it."""

    url: str                # the document's canonical URL
    site: str
    body: bytes | str
    content_type: str | None = "text/html"
    captured: str | None = None
    version: int = 1


def clean_release(capture: Capture, vocab: Vocabulary,
                  site_rules: list[PageRules] | None = None) -> Release:
    """Clean a captured page into a release, or raise NotARelease saying why."""
    release, problem = clean_page(capture, vocab, site_rules)
    if problem:
        raise NotARelease(problem)
    return release


def clean_page(capture: Capture, vocab: Vocabulary, site_rules: list[PageRules] | None = None
               ) -> tuple[Release, str | None]:
    """Clean any page as far as it goes; return it with why it is not a release (or None)."""
    page = parse(page_markup(capture), capture.content_type, capture.url)
    if "cfemail" in page.html or "email-protection" in page.html:
        reveal_cfemails(page.soup)
        page.html = str(page.soup)  # the generic extractor reads the revealed addresses too
    rule = pick_rules(page, [*(site_rules or []), *vocab.rules])
    title, title_element = find_title(page, rule)
    title = plain_text(title)
    region = main_region(page, title_element)
    body_element = select(page, rule.body if rule else None)
    raw = rule_paragraphs(body_element, rule.exclude) if body_element is not None and rule else []
    if word_count(raw) < MIN_WORDS:
        # a second, balanced reading only for a page that says it is an article: it costs a
        # whole extraction, and most short pages are listings and menus
        raw = generic_paragraphs(page, MIN_WORDS if _declares_article(page) else 0)
    text = "\n".join(raw)
    language = release_language(page.html_lang, capture.url, page.meta, f"{title}\n{text}",
                                vocab.phrase_list("language.related"))
    paragraphs, contact_lines = tidy_paragraphs(raw, vocab.phrase_list("contacts.openers"))
    headline = text_of(title_element) if title_element is not None else title
    paragraphs = drop_heading(drop_heading(paragraphs, title), headline)  # metadata title, h1
    published, date_source = published_date(page, region, language,
                                            select(page, rule.date if rule else None),
                                            title_element, vocab.phrase_list("dates.updated"))
    country_tags, theme_tags = _tags(page, region, rule)
    release = build_release(
        capture, vocab, title=title, paragraphs=paragraphs, language=language,
        published=published, country_tags=[label for label, _ in country_tags],
        theme_tags=theme_tags, contacts=_contacts(page, region, rule, contact_lines, vocab),
        updated=updated_date(page, region, language, published,
                             vocab.phrase_list("dates.updated", language)),
        translations=_translations(page, language),
        date_source=date_source if published else None, site_name=publisher_name(page))
    return release, _release_problem(page, title, title_element, paragraphs, release.date_source,
                                     region)


def page_markup(capture: Capture) -> str:
    """Decode a captured page without the control characters that would empty its text."""
    body = capture.body
    if not isinstance(body, str):
        body = decode_html(body[:MAX_HTML_BYTES], capture.content_type)[1]
    return strip_control_refs(body)


def build_release(capture: Capture, vocab: Vocabulary, *, title: str, paragraphs: list[str],
                  language: str, published: str | None, country_tags: list[str],
                  theme_tags: list[tuple[str, str]], contacts: list[Contact],
                  updated: str | None = None, translations: list[dict[str, str]] | None = None,
                  date_source: str | None = None, site_name: str | None = None) -> Release:
    """Derive a release's metadata from its cleaned title and paragraphs (HTML and text alike)."""
    title = plain_text(title)
    paragraphs = [plain_text(p) for p in paragraphs]
    contacts = [Contact(*(plain_text(v) if v else v for v in (c.name, c.office, c.email, c.phone)))
                for c in contacts]
    body = "\n\n".join(paragraphs)
    lead = read_lead(paragraphs[0] if paragraphs else "", vocab)
    return Release(
        id=release_id(capture.url), url=capture.url, site=capture.site,
        site_name=plain_text(site_name) if site_name else None, language=language,
        title=title, published=published, date_source=date_source, body=body, updated=updated,
        captured=capture.captured, dateline=lead.dateline,
        countries=release_countries(vocab, tags=country_tags, lead=lead,
                                    office=office_country(capture.url, vocab), title=title,
                                    paragraphs=paragraphs),
        projects=release_projects(vocab, title, paragraphs, language),
        themes=release_themes(vocab, theme_tags, title, body, language),
        donors=_donors(body, vocab, language),
        contacts=contacts,
        translations=translations or [],
        version=capture.version,
    )


def drop_heading(paragraphs: list[str], title: str) -> list[str]:
    """Drop the title and date lines that a generic extractor may return before the text.

    >>> drop_heading(["Floods hit Dhaka", "2 May 2024", "Dhaka – Teams ..."], "Floods hit Dhaka")
    ['Dhaka – Teams ...']
    """
    folded_title = fold(title)
    start = 0
    while start < min(3, len(paragraphs)):
        line = paragraphs[start]
        if fold(line) == folded_title or (len(line) < 80 and looks_like_date(line)):
            start += 1
        else:
            break
    return paragraphs[start:]


def _release_problem(page: Page, title: str, headline: Tag | None, paragraphs: list[str],
                     date_source: str | None, region: Tag) -> str | None:
    """Say why a page is not a release, or None: weigh what the page is against what it says.

    A page rule's date, og:type article or a JSON-LD article type declare a release. Without
    them, a home page or a page of linked headlines is a listing; og:type website is evidence
    that the page is not an article, outweighed by a date of its own, article markup around its
    headline or a long text. No date found is no reason: the release's date is then unknown.
    """
    if not title:
        return "no title"
    words = word_count(paragraphs)
    if words < MIN_WORDS:
        return f"too little text ({words} words)"
    og_type = page.meta.get("og:type", "").lower()
    listing = page.jsonld_types() & LISTING_TYPES
    if listing and not page.jsonld_types() & ARTICLE_TYPES and date_source != "page-rule":
        return f"a listing (JSON-LD {sorted(listing)[0]})"
    # a page rule matches a template, and a newsroom's home and listing pages often share it:
    # the rule declares a release only where it found the release's own date
    if date_source == "page-rule" or _declares_article(page):
        return None
    url = urlsplit(page.url)
    if HOME_PATH.match(url.path) and not url.query:
        return "a home page"
    teasers = _linked_headings(region, in_side_region)
    if teasers >= LISTING_TEASERS:
        return f"a listing ({teasers} linked headings)"
    if date_source in OWN_DATE_SOURCES:
        return None
    if og_type in NOT_ARTICLE_TYPES and words < LONG_TEXT and not _article_markup(headline):
        return f"not an article (og:type {og_type}, no date of its own)"
    teasers = _linked_headings(region, _in_aside)
    if teasers >= LISTING_TEASERS:  # teaser blocks too, when the page has no date of its own
        return f"a listing ({teasers} linked headings, no date of its own)"
    return None


def _declares_article(page: Page) -> bool:
    """Tell whether the page's metadata says it is an article (og:type, JSON-LD type).

    A JSON-LD listing type (a tag or archive page) outweighs an og:type article, which many
    themes put on every page.
    """
    types = page.jsonld_types()
    if types & ARTICLE_TYPES:
        return True
    return page.meta.get("og:type", "").lower() == "article" and not types & LISTING_TYPES


def _linked_headings(region: Tag, skip: Callable[[Tag], bool]) -> int:
    """Count the headings that link elsewhere in a region (not those `skip` says to leave)."""
    found = 0
    for a in region.select("h2 a[href], h3 a[href], h4 a[href], a[href] h2, a[href] h3, a[href] h4"):
        link = a if a.name == "a" else a.find_parent("a") or a
        if not skip(a) and not str(link.get("href", "")).startswith("#"):
            found += 1
    return found


def _in_aside(tag: Tag) -> bool:
    """Tell whether an element sits in an aside, a menu or a footer (teaser blocks do not count)."""
    for node in [tag, *tag.parents]:
        if node.name in ("aside", "nav", "footer") or node.get("role") in ASIDE_ROLES:
            return True
    return False


def _article_markup(headline: Tag | None) -> bool:
    """Tell whether the headline sits in an <article> or an element typed as a schema.org article."""
    if headline is None:
        return False
    for node in [headline, *headline.parents]:
        itemtype = node.get("itemtype")
        if node.name == "article" or (isinstance(itemtype, str) and ARTICLE_MARKUP.search(itemtype)):
            return True
    return False


def _tags(page: Page, region: Tag, rule: PageRules | None
          ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return (country tags, theme tags) as (label, href): rule selectors, else tag links."""
    found: dict[str, list[tuple[str, str]]] = {"country": [], "theme": []}
    for kind, selector in (("country", rule.countries if rule else None),
                           ("theme", rule.themes if rule else None)):
        if selector:
            try:
                found[kind] = [(text_of(a), str(a.get("href", ""))) for a in page.soup.select(selector)]
            except Exception:
                found[kind] = []
    for kind, pattern in TAG_PATHS.items():
        if found[kind]:
            continue
        for link in region.find_all("a", href=pattern):
            if not in_side_region(link) and link.find_parent("p") is None:
                found[kind].append((text_of(link), str(link.get("href", ""))))
    return found["country"], found["theme"]


def _contacts(page: Page, region: Tag, rule: PageRules | None, lines: list[str],
              vocab: Vocabulary) -> list[Contact]:
    block = select(page, rule.contacts if rule else None)
    if block is None and not lines:
        # no rule for this template: a block named after contacts (class="contacts")
        block = find_contacts_block(page.soup.body or page.soup)
    if block is not None:
        lines = [line for line in map(plain_text, block_lines(block)) if line.strip()] or lines
    contacts = parse_contacts(lines, vocab.phrase_list("contacts.openers"))
    known = {c.email for c in contacts if c.email}
    for email in region_emails(region):
        if email not in known:
            contacts.append(Contact(email=email))
    return contacts


def _translations(page: Page, language: str) -> list[dict[str, str]]:
    own = page.url.rstrip("/")
    found = []
    for lang, href in page.alternates.items():
        url = absolute_url(page.url, href)
        code = lang.split("-")[0]
        if url is None or any(c in url for c in '<>"\' ') or not re.fullmatch(r"[a-z]{2,3}", code):
            continue  # only plain http(s) links to a language
        if url.rstrip("/") != own and code != language:
            found.append({"language": code, "url": url})
    return found


def _donors(body: str, vocab: Vocabulary, language: str) -> list[str]:
    donors: list[str] = []
    for phrase in vocab.phrase_list("donors.phrases", language):
        pattern = rf"{re.escape(phrase)}\s+(?:the\s+|l[ae]\s+|l'|l’|el\s+|los\s+|les\s+)?" \
                  r"([A-Z\u0600-\u06ff][^,.;:()«»\"]{2,70})"
        for match in re.finditer(pattern, body, re.I):
            name = re.split(r"\s+(?:to|for|in|and|pour|afin|dans|et|para|en|y|a fin|لـ|في)\s+",
                            match.group(1))[0].strip()
            if name and name[0].isupper() and fold(name) not in (fold(d) for d in donors):
                donors.append(name)
    return donors[:5]
