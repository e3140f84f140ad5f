"""Text folding shared by the matchers: case, accents, Arabic letter variants, whitespace."""

from __future__ import annotations

import re
import unicodedata

ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي",
                                "ؤ": "و", "ئ": "ي", "\u0640": None})
QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"', "«": '"',
                        "»": '"', "\u00a0": " ", "\u202f": " "})
SPACE = re.compile(r"\s+")
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)


def fold(text: str) -> str:
    """Fold text for matching: lower case, no accents, one Arabic letter per family, one space.

    >>> fold("  Sécurité  Côte d’Ivoire ")
    "securite cote d'ivoire"
    >>> fold("الإمارات") == fold("الامارات")
    True
    """
    text = ARABIC_DIACRITICS.sub("", text.translate(QUOTES)).translate(ARABIC_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c) or _arabic(c))
    return SPACE.sub(" ", unicodedata.normalize("NFC", stripped)).strip()


def _arabic(char: str) -> bool:
    return "\u0600" <= char <= "\u06ff"


def squash(text: str) -> str:
    """Fold runs of white space (hard-wrapped lines too) into single spaces.

    >>> squash("a\\n  b\\tc ")
    'a b c'
    """
    return SPACE.sub(" ", text.replace("\u00a0", " ")).strip()


def words(text: str) -> list[str]:
    """Split text into words (letters and digits, inner apostrophes and hyphens kept).

    >>> words("L'OIM a aidé 5 000 migrants.")
    ["L'OIM", 'a', 'aidé', '5', '000', 'migrants']
    """
    return WORD.findall(text)


# -- text only: no control characters, nothing that reads as markup ---------------------------
NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(
    chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(1, 17))
CONTROLS = re.compile(f"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff{NONCHARACTERS}]")
PAGE_BREAKS = re.compile("[\x0b\x0c]")  # vertical tab and form feed: white space, not nothing
CHAR_REF = re.compile(r"&#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}));?")
UNDEFINED_CP1252 = {0x81, 0x8D, 0x8F, 0x90, 0x9D}  # the C1 references HTML does not map
DECLARATION = re.compile(r"<[!?][^<>]*+>")
# bounded, possessive: a page full of "<a" or quotes must not take quadratic time
TAG = re.compile(r"""</?[a-zA-Z][\w:-]{0,64}+"""
                 r"""(?:[\s/](?:"[^"]{0,500}+"|'[^']{0,500}+'|[^'"<>]){0,2000}+)?>""")
OPEN_TAG = re.compile(r"""</?[a-zA-Z][\w:-]{0,64}+(?=[\s/]|$)((?:[\s/]++[^\s/<>=]{1,64}+\s*+=\s*+"""
                      r"""(?:"[^"]{0,500}+"|'[^']{0,500}+'|[^\s"'<>]{0,500}+)){0,50}+)""")
ESCAPED_TAG = re.compile(r"&(?:lt|#0*60|#x0*3c);/?[a-z!?][^<>&]*?&(?:gt|#0*62|#x0*3e);", re.I)
MARKUP_START = re.compile(r"(?<!<)<++(?=[a-zA-Z/!?])")
SCRIPT_URL = re.compile(r"\b(?:javascript|vbscript)\s*:|\bdata\s*:(?=\S)", re.I)
SPACES = re.compile(r"[ \t]{2,}")
LINE_EDGES = re.compile(r"^[ \t]+|[ \t]+$", re.M)


def strip_controls(text: str) -> str:
    """Remove control characters, lone surrogates and noncharacters; tab and newlines stay.

    >>> strip_controls("Flo\\x1bods\\x0chit\\ufffe Dhaka\\u0085")
    'Floods hit Dhaka'
    """
    return CONTROLS.sub("", PAGE_BREAKS.sub(" ", text))


def strip_control_refs(html: str) -> str:
    """Remove control characters from a page, written as they are or as character references.

    One such character used to empty a page's body: the HTML parsers under the extractor drop
    the text around a character that XML forbids.

    >>> strip_control_refs("<h1>Flo&#x1b;ods &#8;hit&#xFFFE; Dhaka &amp;#1; &#150;</h1>")
    '<h1>Floods hit Dhaka &amp;#1; &#150;</h1>'
    """
    return strip_controls(CHAR_REF.sub(_control_ref, html))


def _control_ref(match: re.Match[str]) -> str:
    hexa, decimal = match.groups()
    code = int(hexa, 16) if hexa else int(decimal)
    if code > 0x10FFFF or code in UNDEFINED_CP1252 or 0xD800 <= code <= 0xDFFF:
        return ""
    if code in (0x0B, 0x0C):
        return " "
    if 0x80 <= code <= 0x9F:  # HTML reads these as Windows-1252 characters: the parser maps them
        return match.group(0)
    return "" if CONTROLS.match(chr(code)) else match.group(0)


def _drop_comments(text: str) -> str:
    parts, position = [], 0
    while (start := text.find("<!--", position)) != -1 and (end := text.find("-->", start + 4)) != -1:
        parts += [text[position:start], " "]
        position = end + 3
    return "".join([*parts, text[position:]]) if parts else text


def plain_text(text: str) -> str:
    """Make a cleaned text field text only: no control characters, nothing that reads as markup.

    Tags, comments and declarations go (escaped ones too), an unfinished tag loses its name and
    attributes, a script URL scheme loses its colon; the words around them stay.

    >>> plain_text("<img src=x onerror=alert(1)>Flood")
    'Flood'
    >>> plain_text('Floods<br>hit <a href="x" title="a>b">Dhaka</a> <!-- x -->today')
    'Floods hit Dhaka today'
    >>> plain_text("&lt;img src=x onerror=alert(1)&gt;Flood <scr<b>ipt>go()</script>")
    'Flood go()'
    >>> plain_text("<svg onload=alert(1) Flood")
    'Flood'
    >>> plain_text("If a <b and 5 < 10, javascript:go() is\\x1b text\\n\\nOn data: 5 people")
    'If a b and 5 < 10, javascript go() is text\\n\\nOn data: 5 people'
    """
    original, text = text, strip_controls(text)
    for _ in range(10):  # removing a tag can join the halves of another: until none is left
        before = text
        text = _drop_comments(text)
        text = DECLARATION.sub(" ", ESCAPED_TAG.sub(" ", text))
        text = TAG.sub(" ", text)
        if text == before:
            break
    # what is left of a tag has no end: drop its name and attributes, or else just its "<"
    text = OPEN_TAG.sub(lambda m: " " if m.group(1) else m.group(0).lstrip("</"), text)
    text = MARKUP_START.sub("", text)
    text = SCRIPT_URL.sub(lambda m: m.group(0)[:-1].rstrip() + " ", text)
    if text == original:
        return text
    return LINE_EDGES.sub("", SPACES.sub(" ", text))
