"""The language of a release: what the page declares, checked against what its text is.

The text's language comes from py3langid (langid.py's Naive Bayes model over byte n-grams,
shipped inside the package: no download). A declaration (<html lang>, og:locale,
Content-Language, a /xx/ URL segment) is kept unless the text clearly says otherwise: the
identifier is at least CLEAR sure on at least CLEAR_BYTES bytes of letters (UTF-8: a Chinese
character counts three, a Latin letter one, as the identifier's byte n-grams see them).
Measured on 18,000 windows of 6 to 130 characters cut from the sample site's releases, the
article-extraction benchmark's pages and bench/real_pages: no wrong guess reached 0.6 past
18 bytes of letters, except Indonesian read as Malay, a pair that `related` groups keep apart.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from urllib.parse import urlsplit

from babel import Locale
from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

CLEAR = 0.95          # identifier probability that lets the text overrule a declaration
CLEAR_BYTES = 100     # bytes of letters the text needs before it can overrule one
LIKELY = 0.5          # probability a guess needs to stand alone or to pick among declarations
SAMPLE = 4000         # characters read: more changes no decision and costs time
# the identifier's regional and script variants, folded into their ISO 639-1 language
VARIANTS = {"ary": "ar", "arz": "ar", "wuu": "zh", "yue": "zh", "uzs": "uz"}
# retired ISO 639-1 codes that pages still declare
RETIRED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
URL_LANGUAGE = re.compile(r"[a-zA-Z]{2}(?:[-_][a-zA-Z]{2,4})?")
REPLACEMENT = "\ufffd"  # a page decoded with the wrong charset is full of these
META_KEYS = ("og:locale", "content-language", "language", "dc.language", "dcterms.language")


@cache
def _identifier() -> LanguageIdentifier:
    """Load the identifier's model once per process (about a second, on first use)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@cache
def iso_languages() -> frozenset[str]:
    """Return the ISO 639-1 codes (two letters) that babel knows."""
    return frozenset(code for code in Locale("en").languages if isinstance(code, str) and len(code) == 2)


def language_code(value: str | None) -> str | None:
    """Return the ISO 639-1 code of a language tag, or None when it names no known language.

    >>> [language_code(v) for v in ("pt-BR", "en_US", "ZH-Hans", "iw", "xx", "English", None)]
    ['pt', 'en', 'zh', 'he', None, None, None]
    """
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    code = RETIRED.get(code, code)
    return code if code in iso_languages() else None


def text_language(text: str) -> tuple[str | None, float]:
    """Identify the language of a text: (ISO 639-1 code or None, probability).

    >>> text_language("Die Regierung hat am Samstag beschlossen, dass die Renten steigen.")[0]
    'de'
    >>> text_language("")
    (None, 0.0)
    """
    sample = text[:SAMPLE]
    if not any(c.isalpha() for c in sample):
        return None, 0.0
    totals: defaultdict[str, float] = defaultdict(float)
    for label, probability in _identifier().rank(sample):
        totals[VARIANTS.get(label, label)] += probability
    best = max(totals, key=lambda label: totals[label])
    return (best, totals[best]) if best in iso_languages() else (None, 0.0)


def declared_languages(html_lang: str | None, url: str, meta: dict[str, str]) -> list[str]:
    """Return the languages the page declares, strongest first: <html lang>, meta tags, URL.

    >>> declared_languages("ur", "https://example.pk/news/1", {"og:locale": "en_US"})
    ['ur', 'en']
    >>> declared_languages(None, "https://example.org/pt-br/noticias/x", {})
    ['pt']
    """
    found = [language_code(html_lang), *(language_code(meta.get(key)) for key in META_KEYS)]
    found.append(url_language(url))
    return list(dict.fromkeys(code for code in found if code))


def url_language(url: str) -> str | None:
    """Return the language of a /xx/ or /xx-yy/ segment among the first three of a URL path.

    Only languages the identifier knows count, so that the text can confirm them: /co/ (a
    country office, not Corsican) and /tv/ are not languages here.

    >>> url_language("https://example.org/co/libya/ar/news/x")
    'ar'
    >>> url_language("https://example.org/news/2024/story") is None
    True
    """
    for segment in urlsplit(url).path.split("/")[1:4]:
        if URL_LANGUAGE.fullmatch(segment):
            code = segment[:2].lower()
            if code in identifiable_languages():
                return code
    return None


@cache
def identifiable_languages() -> frozenset[str]:
    """Return the ISO 639-1 codes the identifier can tell."""
    labels = _identifier().labels
    return frozenset(VARIANTS.get(label, label) for label in labels) & iso_languages()


def release_language(html_lang: str | None, url: str, meta: dict[str, str], text: str,
                     related: list[str] | None = None) -> str:
    """Return the ISO 639-1 language: the declared one unless the text clearly says otherwise.

    `related` lists groups of languages the identifier confuses ("id ms"): a declared language
    is not overruled by another of its group. "und" when nothing is known.

    >>> german = ("Die Bundesregierung hat am Samstag beschlossen, dass die Renten im kommenden "
    ...           "Jahr um drei Prozent steigen werden. Die Opposition kritisiert den Plan.")
    >>> release_language("en", "https://example.org/x", {}, german)
    'de'
    >>> release_language("en", "https://example.org/x", {}, german[:60])  # too short to overrule
    'en'
    >>> release_language("ms", "https://example.my/x", {}, "Pemerintah Indonesia mengumumkan "
    ...     "hari ini bahwa harga bahan bakar akan naik mulai bulan depan.", ["id ms"])
    'ms'
    """
    declared = declared_languages(html_lang, url, meta)
    guessed, probability = text_language(text)
    if guessed is None or probability < LIKELY or _misdecoded(text):
        return declared[0] if declared else "und"
    if not declared or guessed in declared or declared == [url_language(url)]:
        return guessed  # agreement, or nothing stronger than a URL segment to disagree with
    groups = [set(group.split()) for group in related or []]
    if any(guessed in group and declared[0] in group for group in groups):
        return declared[0]
    letters = sum(len(c.encode()) for c in text[:SAMPLE] if c.isalpha())
    return guessed if probability >= CLEAR and letters >= CLEAR_BYTES else declared[0]


def _misdecoded(text: str) -> bool:
    """Tell whether a text decoded with the wrong charset (it says nothing of its language)."""
    sample = text[:SAMPLE]
    return sample.count(REPLACEMENT) > 0.01 * max(1, len(sample))
