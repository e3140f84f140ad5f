"""The release language: a real identifier that agrees with, and rarely overrules, a declaration.

Texts are short news paragraphs written for these tests, one per language and script family the
issue names (German, Portuguese, Chinese, Japanese, Russian; Urdu and Persian beside Arabic).
"""

from __future__ import annotations

import pytest

from archive.cleaning.clean import Capture, clean_page
from archive.cleaning.language import language_code, release_language, text_language, url_language
from archive.cleaning.vocab import Vocabulary, load_vocabulary
from archive.release import Release

TEXTS = {
    "de": "Die Stadtverwaltung hat am Samstag bekanntgegeben, dass die Brücke über den Fluss ab "
          "Montag für drei Wochen gesperrt wird. Pendler sollen auf die Buslinien ausweichen, die "
          "in dieser Zeit häufiger fahren.",
    "pt": "A prefeitura anunciou nesta segunda-feira que as aulas nas escolas municipais serão "
          "retomadas na próxima semana. Segundo a secretária de educação, os prédios foram "
          "vistoriados e estão em condições de receber os alunos.",
    "zh": "国家气象局周六发布通知，预计未来三天南方地区将出现强降雨天气，部分河流可能超过警戒水位。"
          "当地政府已经组织人员转移低洼地区的居民，并提醒市民减少外出，注意交通安全。",
    "ja": "気象庁は土曜日、今後三日間にわたって西日本を中心に大雨が続く見込みだと発表しました。"
          "川の増水や土砂災害に警戒するよう呼びかけており、自治体は避難所の準備を進めています。",
    "ru": "Городская администрация в субботу сообщила, что мост через реку будет закрыт на ремонт "
          "с понедельника на три недели. Жителям рекомендуют пользоваться автобусами, которые в это "
          "время будут ходить чаще.",
    "ur": "محکمہ موسمیات نے ہفتے کے روز بتایا کہ آئندہ تین دنوں کے دوران ملک کے جنوبی علاقوں میں "
          "شدید بارش کا امکان ہے۔ مقامی انتظامیہ نے نشیبی علاقوں کے رہائشیوں کو محفوظ مقامات پر منتقل "
          "ہونے کی ہدایت کی ہے۔",
    "fa": "سازمان هواشناسی روز شنبه اعلام کرد که طی سه روز آینده بارش‌های شدیدی در مناطق جنوبی "
          "کشور پیش‌بینی می‌شود. مسئولان محلی از ساکنان مناطق پست خواسته‌اند که به مکان‌های امن "
          "منتقل شوند.",
    "ar": "أعلنت هيئة الأرصاد الجوية يوم السبت أن أمطارا غزيرة ستهطل على المناطق الجنوبية خلال "
          "الأيام الثلاثة المقبلة. ودعت السلطات المحلية سكان المناطق المنخفضة إلى الانتقال إلى "
          "أماكن آمنة.",
    "ko": "기상청은 토요일 앞으로 사흘 동안 남부 지방을 중심으로 많은 비가 내릴 것으로 예상된다고 "
          "밝혔다. 지방자치단체는 저지대 주민들에게 안전한 곳으로 대피할 준비를 하라고 당부했다.",
}


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def page(text: str, lang: str | None, head: str = "") -> str:
    """A generic article page (no page rule matches it) in one language."""
    attribute = f' lang="{lang}"' if lang else ""
    paragraphs = "".join(f"<p>{text}</p>" for _ in range(3))
    return (f"<!DOCTYPE html><html{attribute}><head><meta charset='utf-8'>{head}</head><body>"
            f"<main><article><h1>Headline</h1><time datetime='2024-03-12'>12.03.2024</time>"
            f"{paragraphs}</article></main></body></html>")


def clean(html: str, vocab: Vocabulary, url: str = "https://news.example.org/2024/03/story"
          ) -> Release:
    return clean_page(Capture(url=url, site="test", body=html), vocab)[0]


@pytest.mark.parametrize("language", TEXTS)
def test_text_in_any_language_is_identified(language: str) -> None:
    assert text_language(TEXTS[language])[0] == language


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("pt-BR", "pt", "pt"),   # the old function-word check read Portuguese as Spanish
    ("de", "de", "de"),
    ("zh-Hans", "zh", "zh"),
    ("ja", "ja", "ja"),
    ("ru", "ru", "ru"),
    ("fa", "fa", "fa"),      # Persian and Urdu are not Arabic because they share its script
    ("ar", "ar", "ar"),
    ("ko", "ko", "ko"),
])
def test_declared_language_agreeing_with_the_text_is_kept(lang: str, text: str, expected: str,
                                                          vocab: Vocabulary) -> None:
    assert clean(page(TEXTS[text], lang), vocab).language == expected


def test_declared_languages_are_weighed_by_the_text(vocab: Vocabulary) -> None:
    # <html lang="ur"> with the theme's og:locale left at en_US
    html = page(TEXTS["ur"], "ur", '<meta property="og:locale" content="en_US">')
    assert clean(html, vocab).language == "ur"


@pytest.mark.parametrize("language", ["de", "zh", "ja", "ru", "pt"])
def test_template_default_lang_is_overruled_by_clear_text(language: str, vocab: Vocabulary) -> None:
    # a theme that says lang="en" on every page, whatever the newsroom writes in
    assert clean(page(TEXTS[language], "en"), vocab).language == language


def test_undeclared_page_gets_its_text_language(vocab: Vocabulary) -> None:
    assert clean(page(TEXTS["zh"], None), vocab).language == "zh"


def test_short_text_never_overrules_a_declaration() -> None:
    short = "Contact: Press office, Geneva. Tel +41 22 000 00 00"
    assert release_language("fr", "https://example.org/x", {}, short) == "fr"
    assert release_language("de", "https://example.org/x", {}, "The bridge will reopen.") == "de"


def test_related_languages_keep_the_declaration() -> None:
    indonesian = ("Pemerintah kota mengumumkan pada hari Sabtu bahwa jembatan di atas sungai akan "
                  "ditutup selama tiga minggu mulai Senin. Warga diminta menggunakan bus yang akan "
                  "beroperasi lebih sering selama masa perbaikan.")
    assert text_language(indonesian)[0] == "id"
    assert release_language("ms", "https://example.my/x", {}, indonesian, ["id ms"]) == "ms"


def test_misdecoded_text_is_no_evidence() -> None:
    # Korean bytes read with the wrong charset: replacement characters and stray Hanja
    garbled = TEXTS["ko"].encode("euc-kr").decode("utf-8", errors="replace") * 3
    assert release_language("ko", "https://example.kr/x", {}, garbled) == "ko"


def test_nothing_known_is_und() -> None:
    assert release_language(None, "https://example.org/news/x", {}, "") == "und"
    assert release_language(None, "https://example.org/news/x", {}, "12 345 678") == "und"


def test_identifier_variants_fold_into_iso_639_1() -> None:
    cantonese = ("佢哋今日喺香港開記者會，話會盡快處理呢件事，唔會再拖。"
                 "市民都好關心呢個問題，希望政府快啲有交代。")
    assert text_language(cantonese)[0] == "zh"
    for text in TEXTS.values():
        code, _ = text_language(text)
        assert code is not None and len(code) == 2


@pytest.mark.parametrize(("value", "expected"), [
    ("pt-BR", "pt"), ("en_US", "en"), ("zh-Hant-TW", "zh"), ("iw", "he"), ("in", "id"),
    ("EN", "en"), ("xx", None), ("English", None), ("", None), (None, None),
])
def test_language_code(value: str | None, expected: str | None) -> None:
    assert language_code(value) == expected


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.org/pt-br/noticias/x", "pt"),
    ("https://example.org/de/presse/x", "de"),
    ("https://example.org/co/libya/ar/news/x", "ar"),   # /co/ is a country office, not Corsican
    ("https://example.org/news/2024/x", None),
])
def test_url_language(url: str, expected: str | None) -> None:
    assert url_language(url) == expected
