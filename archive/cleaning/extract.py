"""Title, main region and body text of a page: page rules where they match, else generic.

The generic body comes from trafilatura (precision-favoured); both paths end in the same
paragraph clean-up, which also splits press contacts off the end of the body.
"""

from __future__ import annotations

import copy
import html
import logging
import re
from urllib.parse import urlsplit

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
# what joins a title to its site's name: " | ", " - ", " — ", " :: ", " » ", "：", "｜"...
TITLE_SEPARATOR = re.compile(r"(\s+(?:[|–—·•»/~]|::|-{1,2})\s+|\s*[：｜]\s*)")
ARTICLE_HEADLINE = ("article header h1, main header h1, [role=main] header h1, .entry-header h1, "
                    ".post-header h1, .article-header h1, .story-header h1")
TITLE_META = ("og:title", "twitter:title", "dc.title")
SITE_META = ("og:site_name", "application-name", "apple-mobile-web-app-title", "al:android:app_name",
             "al:ios:app_name")
SITE_TYPES = {"WebSite", "Organization", "NewsMediaOrganization"}
SITE_WORDS = 4  # a title part longer than this is the site's name only when it is the whole name
HOST_WORDS = {"www", "m", "amp", "mobile", "web", "news", "com", "org", "net", "gov", "edu", "ac", "co",
              "int"}


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
    """Return the title and the headline element: page rule, else the page's own title.

    The page's own title is its metadata title (og:title, twitter:title, JSON-LD headline,
    then the main <h1>, then <title>), as trafilatura and most extractors read it, with the
    site's name taken off its ends. The element is the main <h1>: it locates the article.
    """
    element = select(page, rule.title if rule else None)
    if element is not None and text_of(element):
        return text_of(element), element
    headline = main_headline(page)
    forms = title_forms(page, headline)
    sites = site_names(page)
    site_keys = {_key(site) for site in sites}
    cleaned = [strip_site(form, sites) for form in forms]
    cleaned = [shared_core(form, cleaned) if _key(form) not in site_keys else "" for form in cleaned]
    title = next((form for form in cleaned if form), "")
    if headline is not None and _key(text_of(headline)) == _key(title):
        title = text_of(headline)  # the same words: keep the typography readers see
    return title, headline


def main_headline(page: Page) -> Tag | None:
    """Return the article's <h1>: the first outside menus, asides, the page's header and footer,
    else the first in an article's own header (`article > header > h1`, `.entry-header h1`)."""
    for h1 in page.soup.find_all("h1"):
        if isinstance(h1, Tag) and not in_side_region(h1) and len(text_of(h1)) > 3:
            return h1
    for h1 in page.soup.select(ARTICLE_HEADLINE):
        if len(text_of(h1)) > 3 and h1.find_parent(["nav", "aside", "footer"]) is None:
            return h1
    return None


def title_forms(page: Page, headline: Tag | None) -> list[str]:
    """Return the page's titles, preferred first: metadata, headline, then <title>."""
    forms = [page.meta.get(key, "") for key in TITLE_META]
    forms.append(page.jsonld_value("headline") or "")
    forms.append(text_of(headline) if headline is not None else "")
    title = page.soup.find("title")
    forms.append(text_of(title) if isinstance(title, Tag) else "")
    return [squash(html.unescape(form)) if "&" in form else squash(form) for form in forms]


def site_names(page: Page) -> list[str]:
    """Return the names the site goes by: its metadata, JSON-LD publisher, host name labels."""
    names = [page.meta.get(key, "") for key in SITE_META]
    for obj in page.jsonld:
        publisher = obj.get("publisher")
        for item in publisher if isinstance(publisher, list) else [publisher]:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.append(item["name"])
        kinds = obj.get("@type")
        if {kinds} & SITE_TYPES if isinstance(kinds, str) else False:
            names.append(str(obj.get("name") or ""))
    host = (urlsplit(page.url).hostname or "").lower()
    labels = host.split(".")
    names += [host, ".".join(labels[-2:])]
    names += [label for label in labels[:-1] if len(label) > 1 and label not in HOST_WORDS]
    return [name for name in dict.fromkeys(squash(n) for n in names) if _key(name)]


def publisher_name(page: Page) -> str | None:
    """Return the name the page declares for its publisher (og:site_name, JSON-LD), if any.

    Only what the page says: a host name is no organisation's name.
    """
    names = [page.meta.get("og:site_name", "")]
    for obj in page.jsonld:
        publisher = obj.get("publisher")
        for item in publisher if isinstance(publisher, list) else [publisher]:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.append(item["name"])
    names.append(page.meta.get("application-name", ""))
    return next((squash(html.unescape(n)) for n in names if _key(n)), None)


def strip_site(title: str, sites: list[str]) -> str:
    """Take the site's name (and what is joined to it) off either end of a title.

    A part after a separator stays unless it names the site: "Floods hit Dhaka - the toll
    rises" keeps its second half.

    >>> strip_site("Mulher é esfaqueada no Sul do Piauí | G1", ["G1"])
    'Mulher é esfaqueada no Sul do Piauí'
    >>> strip_site("Gates on Russia | CNN Politics", ["CNN", "cnn.com"])
    'Gates on Russia'
    >>> strip_site("北朝鮮が声明 ：日本経済新聞", ["日本経済新聞 電子版"])
    '北朝鮮が声明'
    >>> strip_site("Cabană vândută - Graiul - Cotidian independent", ["Graiul - Cotidian independent"])
    'Cabană vândută'
    >>> strip_site("Floods hit Dhaka - the toll rises - Daily Star", ["thedailystar.net", "thedailystar"])
    'Floods hit Dhaka - the toll rises'
    """
    parts = TITLE_SEPARATOR.split(title)
    keys = [_key(site) for site in sites]
    # pieces 0, 2, 4... are text, 1, 3... the separators between them; a site's name may
    # itself hold a separator ("Graiul Maramureșului - Cotidian independent")
    for cut in range(1, len(parts) - 1, 2):
        if _key("".join(parts[cut + 1:])) in keys:
            parts = parts[:cut]
            break
    for cut in range(len(parts) - 2, 0, -2):
        if _key("".join(parts[:cut])) in keys:
            parts = parts[cut + 1:]
            break
    while len(parts) > 2 and _names_site(parts[-1], keys):
        parts = parts[:-2]
    while len(parts) > 2 and _names_site(parts[0], keys):
        parts = parts[2:]
    return "".join(parts).strip()


def shared_core(title: str, forms: list[str]) -> str:
    """Drop a label ("Opinion | ...") that one title form adds to what another says alone.

    >>> shared_core("Opinion | What the Fed could learn", ["What the Fed could learn"])
    'What the Fed could learn'
    >>> shared_core("News | Floods hit Dhaka", ["News"])
    'News | Floods hit Dhaka'
    """
    parts = TITLE_SEPARATOR.split(title)
    others = {_key(form) for form in forms if form and form != title}
    for start in range(0, len(parts), 2):
        for end in range(len(parts), start, -2):
            core = "".join(parts[start:end]).strip()
            # the label is the smaller half: "News | Floods hit Dhaka" never becomes "News"
            if (start, end) != (0, len(parts)) and len(core) > len(title) / 2 and _key(core) in others:
                return core
    return title


def _names_site(part: str, keys: list[str]) -> bool:
    """Tell whether a title part is the site's name ("CNN Politics" for CNN, "Corriere.it")."""
    key = _key(part)
    if not key:
        return True
    if len(part.split()) > SITE_WORDS:
        return key in keys
    return any(site and (key.startswith(site) or key.endswith(site) or (len(key) >= 4 and key in site))
               for site in keys)


def _key(text: str) -> str:
    """Fold a name for comparison: letters and digits only.

    >>> _key("Sott.net") == _key("SOTT net")
    True
    """
    return "".join(c for c in fold(text) if c.isalnum())


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
