"""Learn a site's navigation from its plain-text page dumps and cut it out of a release.

A dump is the visible text of one web page saved one line per block. The lines a site repeats
on many of its pages (menu, breadcrumbs, cookie banner, footer) are boilerplate, learned from
the corpus rather than from a hand list; what is left is the release: a title and paragraphs.
Everything here is pure: text in, data out.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

SHORT_WORDS = 6
"""A line of at most this many words and no sentence punctuation may be a menu item."""

KEEP_WORDS = 25
"""A line of this many words is prose: it is never removed, however often it recurs."""

TITLE_WORDS = 30
"""A title has at most this many words."""

_PUNCTUATION = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "ʼ": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"', "‹": '"', "›": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-",
})
# French typography puts a (narrow, no-break) space inside guillemets and before ? ! : ; -
# one page has it, the next does not, so the comparison key drops it.
_FRENCH_SPACE = re.compile(r"(?<=[«‹]) | (?=[»›?!:;])")
_SENTENCE_PUNCT = re.compile(r"[.!;…](?=\s|$)")
_SENTENCE_END = re.compile(r"[.!…][\"'»”’)\]]*$")


def _alternatives(words: str) -> str:
    """Return a regex alternation of whitespace-separated words, longest first; `_` is a space."""
    return "|".join(sorted(words.split(), key=len, reverse=True)).replace("_", r"\s")


_MONTHS = _alternatives("""
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    janvier février fevrier mars avril mai juin juillet août aout septembre octobre novembre
    décembre decembre janv févr fevr avr juil déc
    enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre
    diciembre ene abr ago dic
    يناير فبراير مارس أبريل إبريل ابريل مايو يونيو يوليو أغسطس اغسطس سبتمبر أكتوبر اكتوبر
    نوفمبر ديسمبر جانفي فيفري أفريل ماي جوان جويلية أوت شباط آذار نيسان أيار حزيران تموز آب
    أيلول كانون_الثاني كانون_الأول تشرين_الأول تشرين_الثاني
""")
_WEEKDAYS = _alternatives("""
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur fri sat sun
    lundi mardi mercredi jeudi vendredi samedi dimanche
    lunes martes miércoles miercoles jueves viernes sábado sabado domingo
    الاثنين الإثنين الثلاثاء الأربعاء الاربعاء الخميس الجمعة السبت الأحد الاحد
""")
_MONTH = rf"(?:{_MONTHS})\.?(?:\s?/\s?(?:{_MONTHS}))?"
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|º|°)?"
_DATE = re.compile(rf"""
    (?:[^\W\d][^:\d]{{0,40}}:\s?                                  # a label: "posted:", "fecha :"
      | (?:posted|published|updated|publié|publiée|mis\sà\sjour|publicado|actualizado|نشر|بتاريخ)\s
    )?
    (?:(?:on|le|el|the|في)\s)?
    (?:(?:يوم\s)?(?:{_WEEKDAYS})\.?\s?[,،]?\s)?                   # "Monday, ", "lundi ", "الاثنين، "
    (?:(?:the|le|el)\s)?
    (?: {_DAY}\s(?:de\s|of\s)?{_MONTH}[,،]?\s(?:de\s|del\s)?\d{{4}}  # 30 June 2014, 12 de marzo de 2024
      | {_MONTH}\s{_DAY}[,،]?\s\d{{4}}                               # June 30, 2014
      | {_MONTH}\s(?:de\s|del\s)?\d{{4}}                             # juin 2013
      | \d{{1,2}}[./-]\d{{1,2}}[./-](?:\d{{4}}|\d{{2}})                 # 30/06/2014
      | \d{{4}}-\d{{2}}-\d{{2}}                                        # 2014-06-30
    )
    (?:\s?(?:[-|,،]|at|à|a\slas)?\s?\d{{1,2}}[:h]\d{{2}}(?:\s?[ap]\.?m\.?)?(?:\s[a-z]{{3,4}})?)?  # a time
    \.?
""", re.VERBOSE)


def normalise_line(line: str) -> str:
    """Return the key under which a line is compared across pages.

    >>> normalise_line("  Qui  sommes\u00a0nous ")
    'qui sommes nous'
    >>> normalise_line("Conditions d’utilisation") == normalise_line("conditions d'utilisation")
    True
    >>> normalise_line("« Restez informé »"), normalise_line("Qui sommes-nous ?")
    ('"restez informé"', 'qui sommes-nous?')
    """
    text = " ".join(unicodedata.normalize("NFC", line).split())
    return _FRENCH_SPACE.sub("", text).translate(_PUNCTUATION).casefold()


def split_lines(text: str) -> list[str]:
    r"""Return the non-empty lines of a dump, stripped, without BOM, NUL bytes or carriage returns.

    >>> split_lines("\ufeffAccueil\r\n\r\n  Actualités \x00\r\n \t\n")
    ['Accueil', 'Actualités']
    """
    text = text.replace("\ufeff", "").replace("\x00", "")
    return [line.strip() for line in text.splitlines() if line.strip()]


def count_words(line: str) -> int:
    """Return the number of words in a line; lone punctuation such as « or – is no word.

    >>> count_words("Yémen : des migrants bloqués à Aden – © OIM")
    7
    """
    return sum(1 for token in line.split() if any(char.isalnum() for char in token))


def looks_like_date(line: str) -> bool:
    """Return whether a line holds only a date, in English, French, Spanish or Arabic.

    >>> looks_like_date("Posted: Monday, 30 June 2014"), looks_like_date("12 mars 2013")
    (True, True)
    >>> looks_like_date("12 de marzo de 2024"), looks_like_date("١١ يونيو ٢٠١٣")
    (True, True)
    >>> looks_like_date("Le 12 mars 2013, l'OIM a ouvert un bureau à Tripoli.")
    False
    """
    text = " ".join(unicodedata.normalize("NFC", line).split()).casefold()
    return len(text) <= 80 and _DATE.fullmatch(text) is not None


@dataclass(frozen=True)
class Boilerplate:
    """The lines (normalised) that a site repeats on many pages, learned from `pages` dumps."""

    lines: frozenset[str]
    pages: int

    def is_boilerplate(self, line: str) -> bool:
        """Return whether a line, once normalised, is one of the site's recurring lines."""
        return normalise_line(line) in self.lines


@dataclass
class TextRelease:
    """A release cut out of a text dump."""

    title: str
    paragraphs: list[str]


def learn_boilerplate(pages: Iterable[list[str]], min_share: float = 0.3, min_pages: int = 3) -> Boilerplate:
    """Learn the lines found on at least max(min_pages, min_share * page count) distinct pages.

    >>> menu = ["Accueil", "Actualités"]
    >>> model = learn_boilerplate([menu + ["Un"], menu + ["Deux"], menu + ["Trois"]])
    >>> sorted(model.lines), model.pages
    (['accueil', 'actualités'], 3)
    >>> learn_boilerplate([menu, menu]).lines
    frozenset()
    """
    if not 0.0 <= min_share <= 1.0:
        raise ValueError(f"min_share must be between 0 and 1, got {min_share}")
    if min_pages < 1:
        raise ValueError(f"min_pages must be at least 1, got {min_pages}")
    seen: Counter[str] = Counter()
    count = 0
    for page in pages:
        count += 1
        seen.update({key for key in map(normalise_line, page) if key})
    if count < min_pages:
        return Boilerplate(lines=frozenset(), pages=count)
    # 0.3 * 10 is 3.0000000000000004 in floating point, and 3 pages out of 10 must do
    threshold = max(min_pages, math.ceil(min_share * count - 1e-9))
    return Boilerplate(lines=frozenset(key for key, n in seen.items() if n >= threshold), pages=count)


def strip_boilerplate(lines: list[str], model: Boilerplate) -> list[str]:
    """Remove boilerplate lines and the short lines wedged between them at the page's two ends.

    A short line (a menu item unique to this page) goes when boilerplate sits on both sides of
    it in the leading or trailing block of boilerplate and short lines; the plausible title is
    kept even there, and no line of KEEP_WORDS words or more is ever removed.

    >>> model = Boilerplate(frozenset({"accueil", "actualités", "contact"}), pages=3)
    >>> strip_boilerplate(["Accueil", "Rapport", "Actualités", "Un titre", "Texte.", "Contact"], model)
    ['Un titre', 'Texte.']
    """
    boiler = [model.is_boilerplate(line) and count_words(line) < KEEP_WORDS for line in lines]
    keep = [not flag for flag in boiler]
    title = _title_index(lines, boiler)
    solid = [i for i, line in enumerate(lines) if not boiler[i] and not _is_short(line)]
    head = range(solid[0] if solid else len(lines))
    tail = range(solid[-1] + 1 if solid else 0, len(lines))
    for block in (head, tail):
        marks = [i for i in block if boiler[i]]
        for i in range(marks[0] + 1, marks[-1]) if marks else ():
            if not boiler[i] and i != title:
                keep[i] = False
    return [line for line, kept in zip(lines, keep, strict=True) if kept]


def release_from_dump(lines: list[str], model: Boilerplate) -> TextRelease:
    """Cut the navigation out of a dump and return the release's title and paragraphs.

    The title is the first line left that is neither a date nor a label; the paragraphs are the
    lines after it, less dates, repeats of the title and short trailing lines. Raises ValueError
    when nothing, no title or no paragraph is left.

    >>> model = Boilerplate(frozenset({"accueil", "contact"}), pages=3)
    >>> release_from_dump(["Accueil", "Titre", "12 mars 2013", "Texte.", "Libye", "Contact"], model)
    TextRelease(title='Titre', paragraphs=['Texte.'])
    """
    content = strip_boilerplate(lines, model)
    if not content:
        raise ValueError(f"nothing left after removing boilerplate from a dump of {len(lines)} lines")
    start = next((i for i, line in enumerate(content) if not looks_like_date(line) and not _is_label(line)),
                 None)
    if start is None:
        raise ValueError("no title: every line left after removing boilerplate is a date or a label")
    title = content[start]
    if count_words(title) >= TITLE_WORDS or title.endswith("."):
        raise ValueError(f"no title: the first line left after removing boilerplate is prose: {title[:60]!r}")
    key = normalise_line(title)
    paragraphs = [line for line in content[start + 1:]
                  if not looks_like_date(line) and normalise_line(line) != key]
    while paragraphs and _is_short(paragraphs[-1]):
        paragraphs.pop()
    if not paragraphs:
        raise ValueError(f"no paragraphs left after the title {title!r}")
    return TextRelease(title=title, paragraphs=paragraphs)


def _is_short(line: str) -> bool:
    """Return whether a line could be a menu item: few words and no sentence punctuation.

    A question mark does not count: menus ask questions ("Qui sommes-nous ?").

    >>> _is_short("Où travaillons-nous ?"), _is_short("Tél. : +41 22 717 9111")
    (True, False)
    """
    return count_words(line) <= SHORT_WORDS and not _SENTENCE_PUNCT.search(line)


def _is_label(line: str) -> bool:
    """Return whether a line only labels what follows ("Publié le :") or holds no word.

    >>> _is_label("Date de publication :"), _is_label("* * *"), _is_label("Libye")
    (True, True, False)
    """
    return line.rstrip().endswith(":") or count_words(line) == 0


def _title_index(lines: list[str], boiler: list[bool]) -> int | None:
    """Return the index of the plausible title: the longest line before the first paragraph."""
    best, best_words = None, 0
    for i, line in enumerate(lines):
        if boiler[i] or looks_like_date(line):
            continue
        words = count_words(line)
        if words > TITLE_WORDS or (words > SHORT_WORDS and _SENTENCE_END.search(line)):
            break
        if words > best_words:
            best, best_words = i, words
    return best
