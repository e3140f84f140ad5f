"""Main region and body text of a page: page rules where they match, else generic (the title: title.py).

The generic body comes from trafilatura (precision-favoured); both paths end in the same
paragraph clean-up, which also splits press contacts off the end of the body.
"""

from __future__ import annotations

import copy
import logging
import re

import trafilatura
from bs4 import Tag

from archive.cleaning.page import Page, in_side_region, text_of
from archive.cleaning.textnorm import fold, plain_text, squash, words
from archive.cleaning.vocab import PageRules

logger = logging.getLogger(__name__)

BLOCKS = ["p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "td", "dd"]
MAIN_HINT = re.compile(r"(^|[\s_-])(content|main|article|node|post|entry|story|body)([\s_-]|$)", re.I)
DEBRIS = re.compile(r"(alt|src|href|class|style)=(&quot;|\"|')|&lt;/?[a-z]+|</?(img|a|div|span)\b", re.I)
CONTACT_DETAIL = re.compile(r"@|\+\d|\b(tel|tél|phone|email|e-mail|courriel|correo|هاتف)\b", re.I)
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


def generic_paragraphs(page: Page, retry_below: int = 0) -> list[str]:
    """Read the body with trafilatura, favouring precision (no menus, teasers or footers).

    When precision leaves fewer than `retry_below` words (some templates hide the article from
    it), trafilatura's balanced mode has its say, if what it finds is prose: a menu or a list of
    links stays short.
    """
    paragraphs = _trafilatura(page, favor_precision=True)
    if word_count(paragraphs) < retry_below:
        balanced = _trafilatura(page, favor_precision=False)
        if prose_words(balanced) >= retry_below:
            return balanced
    return paragraphs


def prose_words(paragraphs: list[str], sentence_words: int = 10) -> int:
    """Count the words of paragraphs long enough to be prose, not menu items or link lists.

    >>> prose_words(["Home", "News", "About us", "Teams reached 3,000 families displaced by the "
    ...              "floods in the north of the country this week."])
    16
    """
    counts = (word_count([paragraph]) for paragraph in paragraphs)
    return sum(count for count in counts if count >= sentence_words)


def _trafilatura(page: Page, favor_precision: bool) -> list[str]:
    text = trafilatura.extract(page.html, url=page.url, favor_precision=favor_precision,
                               include_tables=True, include_comments=False, include_images=False,
                               deduplicate=False)
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


# Chinese and Japanese script, written without spaces between words
CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")


def word_count(paragraphs: list[str]) -> int:
    """Count the words of a list of paragraphs: runs of text between spaces that hold a letter
    or digit (an Arabic word with its vowel marks is one word), and, for Chinese and Japanese,
    one word per two characters (their average word length).

    >>> word_count(["L'OIM a aidé 5 000 migrants.", "قالَ مُحَمَّدٌ إنّ", "北朝鮮が声明を発表"])
    13
    """
    total = 0
    for paragraph in paragraphs:
        ideographs = len(CJK.findall(paragraph))
        spaced = CJK.sub(" ", paragraph).split() if ideographs else paragraph.split()
        total += ideographs // 2 + sum(1 for token in spaced if words(token))
    return total
