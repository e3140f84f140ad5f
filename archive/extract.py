"""Title, main region and body text of a page: page rules where they match, else generic.

The generic body comes from trafilatura (precision-favoured); both paths end in the same
paragraph clean-up, which also splits press contacts off the end of the body.
"""

from __future__ import annotations

import copy
import logging
import re

import trafilatura
from bs4 import Tag

from archive.page import Page, in_side_region, text_of
from archive.textnorm import fold, plain_text, squash, words
from archive.vocab import PageRules

logger = logging.getLogger(__name__)

BLOCKS = ["p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "td", "dd"]
MAIN_HINT = re.compile(r"(^|[\s_-])(content|main|article|node|post|entry|story|body)([\s_-]|$)", re.I)
DEBRIS = re.compile(r"(alt|src|href|class|style)=(&quot;|\"|')|&lt;/?[a-z]+|</?(img|a|div|span)\b", re.I)
CONTACT_DETAIL = re.compile(r"@|\+\d|\b(tel|tél|phone|email|e-mail|courriel|correo|هاتف)\b", re.I)
TITLE_SPLIT = re.compile(r"\s+[|–—·•]\s+|\s+-\s+")


def pick_rules(page: Page, rules: list[PageRules]) -> PageRules | None:
    """Return the first rule set whose `match` selector finds something on the page."""
    for rule in rules:
        try:
            if page.soup.select_one(rule.match) is not None:
                return rule
        except Exception as exc:  # soupsieve raises its own error types for a bad selector
            logger.warning("page rules %s: bad selector %r: %s", rule.name, rule.match, exc)
    return None


def select(page: Page, selector: str | None) -> Tag | None:
    """Return the first element matching a rule selector, or None (also for a bad selector)."""
    if not selector:
        return None
    try:
        found = page.soup.select_one(selector)
    except Exception:  # a broken selector in config must not stop the cleaning
        return None
    return found if isinstance(found, Tag) else None


def find_title(page: Page, rule: PageRules | None) -> tuple[str, Tag | None]:
    """Return the title and its element: page rule, main <h1>, og:title, then <title>."""
    element = select(page, rule.title if rule else None)
    if element is not None and text_of(element):
        return text_of(element), element
    for h1 in page.soup.find_all("h1"):
        if isinstance(h1, Tag) and not in_side_region(h1) and len(text_of(h1)) > 3:
            return text_of(h1), h1
    og = page.meta.get("og:title") or page.meta.get("twitter:title")
    if og:
        return squash(og), None
    title = page.soup.find("title")
    if isinstance(title, Tag):
        parts = TITLE_SPLIT.split(text_of(title))
        return max(parts, key=len) if parts else "", None
    return "", None


def main_region(page: Page, title: Tag | None) -> Tag:
    """Return the element that holds the release: the article or main region of its title."""
    if title is not None:
        for node in title.parents:
            if not isinstance(node, Tag) or node.name in ("body", "html"):
                break
            role = node.get("role")
            if node.name in ("article", "main") or role == "main":
                return node
        for node in title.parents:
            if isinstance(node, Tag) and node.name not in ("body", "html"):
                classes = " ".join(node.get("class") or []) + " " + str(node.get("id") or "")
                if MAIN_HINT.search(classes) and len(text_of(node)) > 400:
                    return node
    for candidate in page.soup.select("article, main, [role=main]"):
        if isinstance(candidate, Tag) and not in_side_region(candidate):
            return candidate
    body = page.soup.find("body")
    return body if isinstance(body, Tag) else page.soup


def rule_paragraphs(element: Tag, exclude: tuple[str, ...]) -> list[str]:
    """Read the paragraphs of a body element chosen by a page rule (the page is left intact)."""
    element = copy.copy(element)
    for selector in exclude:
        try:
            for junk in element.select(selector):
                junk.decompose()
        except Exception:
            logger.debug("bad exclude selector %r", selector)
    blocks = [b for b in element.find_all(BLOCKS) if b.find(BLOCKS) is None]
    if blocks:
        return [text_of(b) for b in blocks]
    return [squash(p) for p in element.get_text("\n").split("\n\n")]


def generic_paragraphs(page: Page) -> list[str]:
    """Read the body with trafilatura, favouring precision (no menus, teasers or footers)."""
    text = trafilatura.extract(page.html, url=page.url, favor_precision=True, include_tables=True,
                               include_comments=False, include_images=False, deduplicate=False)
    return (text or "").split("\n")


def tidy_paragraphs(paragraphs: list[str], contact_openers: list[str]
                    ) -> tuple[list[str], list[str]]:
    """Keep text only, fold white space, drop markup debris, split off the press contacts.

    Returns (body paragraphs, contact paragraphs).

    >>> tidy_paragraphs(["Tripoli - Text\\nwrapped.", "For more information, contact A, a@b.org"],
    ...                 ["For more information"])
    (['Tripoli - Text wrapped.'], ['For more information, contact A, a@b.org'])
    """
    openers = [fold(o) for o in contact_openers]
    cleaned = [p for p in (squash(plain_text(raw)) for raw in paragraphs) if p and not DEBRIS.search(p)]
    for index, paragraph in enumerate(cleaned):
        at = _contact_start(fold(paragraph), openers)
        # an opener starts the contacts only when contact details follow it closely;
        # "For more information on the programme, ..." inside an article stays body text
        if at is not None and CONTACT_DETAIL.search(" ".join(cleaned[index:index + 3])[at:]):
            body = [*cleaned[:index], *([paragraph[:at].rstrip()] if at > 0 else [])]
            return body, [paragraph[at:], *cleaned[index + 1:]]
    return cleaned, []


def _contact_start(folded: str, openers: list[str]) -> int | None:
    """Where contact details start in a paragraph (fold keeps offsets for Latin text)."""
    best = None
    for opener in openers:
        index = folded.find(opener)
        if index == 0 or (index > 0 and folded[index - 2:index] in (". ", ": ")):
            best = index if best is None else min(best, index)
    return best


def word_count(paragraphs: list[str]) -> int:
    """Count the words of a list of paragraphs."""
    return sum(len(words(p)) for p in paragraphs)
