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
