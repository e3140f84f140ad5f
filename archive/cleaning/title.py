"""A page's title on the generic path: the page rule's, else the page's own title without its
site's name.

The page's own title is chosen among its metadata titles, headline and <title>; the site's
name (and labels such as sections) are taken off its ends, in any script.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from bs4 import Tag

from archive.cleaning.extract import select
from archive.cleaning.page import Page, in_side_region, text_of
from archive.cleaning.textnorm import fold, squash
from archive.cleaning.vocab import PageRules

# Chinese, Japanese and Korean script: titles there join the site's name without spaces
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\uac00-\ud7af"
# what joins a title to its site's name: " | ", " - ", " — ", " :: ", " » ", " « ", " ー ", "——", "：",
# "｜", and next to CJK script "-", "_", "|" without spaces ("需求-新华网", "标题_新浪网")
TITLE_SEPARATOR = re.compile(
    r"(\s+(?:[|–—―·•«»/~ー]|::|-{1,2})\s+|\s*(?:[：｜]|[—―]{2})\s*"
    rf"|(?<=[{CJK}])[-_|–—―]\s*|\s*[-_|–—―](?=[{CJK}]))")
# a label joined by a colon ("Analysis: ...") is dropped only where another title form lacks it
LABEL_SEPARATOR = re.compile(rf"({TITLE_SEPARATOR.pattern[1:-1]}|\s*:\s+)")
# a bracketed part at an end of a title: "【速報】...", "...【日経】", "...（朝日新聞デジタル）"
BRACKET_HEAD = re.compile(r"^\s*(【[^【】]{1,40}】)(\s*)")
BRACKET_TAIL = re.compile(r"(\s*)(【[^【】]{1,40}】|（[^（）]{1,40}）|\([^()]{1,40}\))\s*$")
ARTICLE_HEADLINE = ("article header h1, main header h1, [role=main] header h1, .entry-header h1, "
                    ".post-header h1, .article-header h1, .story-header h1")
TITLE_META = ("og:title", "twitter:title", "dc.title")
SITE_META = ("og:site_name", "application-name", "apple-mobile-web-app-title", "al:android:app_name",
             "al:ios:app_name", "twitter:site")
SITE_TYPES = {"WebSite", "Organization", "NewsMediaOrganization"}
SITE_WORDS = 4   # a title part longer than this is the site's name only when it is the whole name
SITE_CHARS = 40  # (or than this, for scripts written without spaces)
HOST_WORDS = {"www", "m", "amp", "mobile", "web", "news", "com", "org", "net", "gov", "edu", "ac", "co",
              "int"}
# the sections and keywords a page declares for itself: a title part that is one is a label
SECTION_META, SECTION_JSONLD = ("article:section",), ("articleSection",)
KEYWORD_META, KEYWORD_JSONLD = ("keywords", "news_keywords"), ("keywords",)
LABEL_LIST = re.compile(r"[,;，、；]")


def find_title(page: Page, rule: PageRules | None) -> tuple[str, Tag | None]:
    """Return the title and the headline element: page rule, else the page's own title.

    The page's own title is its metadata title (og:title, twitter:title, JSON-LD headline,
    then the main <h1>, then <title>), as trafilatura and most extractors read it, with the
    site's name and the page's own section or keyword labels taken off its ends, and a label
    that another form lacks ("Analysis: ...") dropped. The element is the main <h1>: it
    locates the article.
    """
    element = select(page, rule.title if rule else None)
    if element is not None and text_of(element):
        return text_of(element), element
    headline = main_headline(page)
    forms = title_forms(page, headline)
    sites, sections, keywords = site_names(page), page_sections(page), page_keywords(page)
    site_keys = {_key(site) for site in sites}
    cleaned = [strip_site(form, sites, sections, keywords) for form in forms]
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
    names = [page.meta.get(key, "").lstrip("@") for key in SITE_META]
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


def page_sections(page: Page) -> list[str]:
    """Return the sections the page says it is in: its metadata, JSON-LD, breadcrumb.

    A breadcrumb's last item is left out: it is often the page's own title.
    """
    values: list[object] = [page.meta.get(key, "") for key in SECTION_META]
    for obj in page.jsonld:
        values += [obj.get(key) for key in SECTION_JSONLD]
        if obj.get("@type") == "BreadcrumbList" and isinstance(obj.get("itemListElement"), list):
            for item in obj["itemListElement"][:-1]:
                inner = item.get("item") if isinstance(item, dict) else None
                values.append(item.get("name") if isinstance(item, dict) else None)
                values.append(inner.get("name") if isinstance(inner, dict) else None)
    return _labels(values)


def page_keywords(page: Page) -> list[str]:
    """Return the keywords the page declares (meta keywords, news_keywords, JSON-LD)."""
    values: list[object] = [page.meta.get(key, "") for key in KEYWORD_META]
    values += [obj.get(key) for obj in page.jsonld for key in KEYWORD_JSONLD]
    return _labels(values)


def _labels(values: list[object]) -> list[str]:
    """Split metadata values (strings, lists of strings) into short labels, once each."""
    texts = [text for value in values
             for text in (value if isinstance(value, list) else [value]) if isinstance(text, str)]
    labels = (squash(label) for text in texts for label in LABEL_LIST.split(html.unescape(text)))
    return [label for label in dict.fromkeys(labels) if _key(label) and len(label.split()) <= SITE_WORDS]


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


def strip_site(title: str, sites: list[str], sections: list[str] | None = None,
               keywords: list[str] | None = None) -> str:
    """Take the site's name (and what is joined to it) off either end of a title, and the
    labels the page declares: a section at either end, a keyword at the end.

    A part after a separator stays unless it names the site or is a label: "Floods hit Dhaka
    - the toll rises" keeps its second half, and "Atkins diet - lose 10 kg" its topic.

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
    >>> strip_site("Floods hit Dhaka - Bangladesh News - Daily Star", ["dailystar"], [], ["bangladesh news"])
    'Floods hit Dhaka'
    >>> strip_site("Opinion | Floods hit Dhaka", [], ["Opinion"])
    'Floods hit Dhaka'
    >>> strip_site("短缺药品保供稳价-新华网", ["新华网"])
    '短缺药品保供稳价'
    """
    parts = title_parts(title, TITLE_SEPARATOR)
    keys = [_key(site) for site in sites]
    heads = {_key(label) for label in sections or []}
    tails = heads | {_key(label) for label in keywords or []}
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
    while len(parts) > 2 and (_names_site(parts[-1], keys) or _key(parts[-1]) in tails):
        parts = parts[:-2]
    while len(parts) > 2 and (_names_site(parts[0], keys) or _key(parts[0]) in heads):
        parts = parts[2:]
    return "".join(parts).strip()


def title_parts(title: str, separator: re.Pattern[str]) -> list[str]:
    """Split a title into its parts (even places) and what joins them (odd places); a bracketed
    label at either end is a part of its own.

    >>> title_parts("【速報】北朝鮮が声明（共同）", TITLE_SEPARATOR)
    ['【速報】', '', '北朝鮮が声明', '', '（共同）']
    >>> title_parts("Floods hit Dhaka (update)", TITLE_SEPARATOR)
    ['Floods hit Dhaka', ' ', '(update)']
    """
    parts = separator.split(title)
    head = BRACKET_HEAD.match(parts[0])
    if head and head.end() < len(parts[0]):
        parts[:1] = [head.group(1), head.group(2), parts[0][head.end():]]
    tail = BRACKET_TAIL.search(parts[-1])
    if tail and tail.start() > 0:
        parts[-1:] = [parts[-1][:tail.start()], tail.group(1), tail.group(2)]
    return parts


def shared_core(title: str, forms: list[str]) -> str:
    """Drop a label ("Opinion | ...") that one title form adds to what another says alone.

    >>> shared_core("Opinion | What the Fed could learn", ["What the Fed could learn"])
    'What the Fed could learn'
    >>> shared_core("News | Floods hit Dhaka", ["News"])
    'News | Floods hit Dhaka'
    >>> shared_core("Analysis: What the Fed could learn", ["What the Fed could learn"])
    'What the Fed could learn'
    """
    parts = title_parts(title, LABEL_SEPARATOR)
    others = {_key(form) for form in forms if form and form != title}
    for start in range(0, len(parts), 2):
        for end in range(len(parts), start, -2):
            core = "".join(parts[start:end]).strip()
            # the label is the smaller half: "News | Floods hit Dhaka" never becomes "News"
            if (start, end) != (0, len(parts)) and len(core) > len(title) / 2 and _key(core) in others:
                return core
    return title


def _names_site(part: str, keys: list[str]) -> bool:
    """Tell whether a title part is the site's name ("CNN Politics" for CNN, "Corriere.it",
    "ハーパーズ バザー（Harper's BAZAAR）公式" for Harper's BAZAAR)."""
    key = _key(part)
    if not key:
        return True
    if len(part.split()) > SITE_WORDS or len(part) > SITE_CHARS:
        return key in keys
    return any(site and (key.startswith(site) or key.endswith(site) or (len(key) >= 4 and key in site)
                         or (len(site) >= 4 and site in key)) for site in keys)


def _key(text: str) -> str:
    """Fold a name for comparison: letters and digits only.

    >>> _key("Sott.net") == _key("SOTT net")
    True
    """
    return "".join(c for c in fold(text) if c.isalnum())
