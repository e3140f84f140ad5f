"""Dates, their provenance and the release decision on the generic path (issue 10).

Small hand-written pages, each a class of real newsroom pages: WordPress posts whose date sits
in the article's own <header>, German and CJK visible dates, update lines and photo captions,
pages dated only in metadata that htmldate reads, pages with no date at all, og:type website
articles, listings, and Chinese, Japanese and Arabic word counts.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup, Tag

from archive.cleaning.clean import Capture, clean_page
from archive.cleaning.dates import DATE_SOURCES, library_date, parse_visible
from archive.cleaning.extract import word_count
from archive.cleaning.page import in_side_region
from archive.cleaning.vocab import Vocabulary, load_vocabulary
from archive.release import Release

URL = "https://news.example.org/news/boats-for-fishing-families"
TEXT = [
    "Forty fishing families in the coastal town received new boats, nets and safety equipment this "
    "week, the alliance said on Tuesday.",
    "Many of the families lost their boats during the floods of last winter and looked for day work in "
    "the port instead of going to sea.",
    "Each crew followed a two-week course on navigation, first aid and the safe handling of catches "
    "before going back to sea.",
    "Over the next twelve months the support will extend to two more towns along the coast, and a cold "
    "store will open near the market.",
]
BODY = "".join(f"<p>{p}</p>" for p in TEXT)
TITLE = "Boats for fishing families"


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    vocab = load_vocabulary()
    vocab.rules = []  # the generic path
    return vocab


def clean(html: str, vocab: Vocabulary, url: str = URL) -> tuple[Release, str | None]:
    return clean_page(Capture(url=url, site="test", body=html), vocab)


def page(article: str, *, head: str = "", lang: str = "en", before: str = "", after: str = "") -> str:
    return (f'<html lang="{lang}"><head><title>{TITLE}</title>{head}</head><body>'
            f'<header class="site-header"><nav><a href="/">Home</a></nav></header>{before}'
            f"{article}{after}<footer>© 2021 Harbour Relief Alliance</footer></body></html>")


# ------------------------------------------------------------------- the article's own header

WORDPRESS = ('<article class="post"><header class="entry-header"><h1 class="entry-title">{title}</h1>'
             '<div class="entry-meta"><time class="entry-date published" datetime="2019-05-02T09:00:00">'
             '2 May 2019</time><time class="updated" datetime="2019-06-10T09:00:00">10 June 2019</time>'
             '</div></header><div class="entry-content">{body}'
             '<blockquote class="embedded-post"><p>An earlier post</p>'
             '<time datetime="2017-01-20">20 January 2017</time></blockquote></div></article>')


def test_date_in_the_articles_own_header_beats_an_embedded_post(vocab: Vocabulary) -> None:
    release, problem = clean(page(WORDPRESS.format(title=TITLE, body=BODY)), vocab)
    assert problem is None
    assert (release.published, release.date_source) == ("2019-05-02", "markup")


@pytest.mark.parametrize(("markup", "side"), [
    ('<body><article><header class="entry-header"><time id="t">x</time></header></article></body>', False),
    ('<body><main><header><time id="t">x</time></header></main></body>', False),
    ('<body><div class="post"><div class="post-header"><time id="t">x</time></div></div></body>', False),
    ('<body><header class="site-header"><time id="t">x</time></header></body>', True),
    ('<body><div class="page-header"><time id="t">x</time></div></body>', True),
    ('<body><article><header role="banner"><time id="t">x</time></header></article></body>', True),
    ('<body><article><aside><time id="t">x</time></aside></article></body>', True),
], ids=["article-header", "main-header", "post-header", "site-header", "page-header-div", "banner",
        "aside"])
def test_a_header_is_chrome_unless_it_is_the_articles(markup: str, side: bool) -> None:
    element = BeautifulSoup(markup, "lxml").find(id="t")
    assert isinstance(element, Tag)
    assert in_side_region(element) is side


# ------------------------------------------------------------------- visible dates

@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("Samstag, 19. Juli 2014", "de", "2014-07-19"),
    ("Veröffentlicht am 1. März 2020, 10:15 Uhr", "de", "2020-03-01"),
    ("19. Juli 2014", None, "2014-07-19"),
    ("sabato 19 luglio 2014", "it", "2014-07-19"),
    ("2018年6月19日 11:02", "ja", "2018-06-19"),
    ("2020.07.07 15:24", "ko", "2020-07-07"),
    ("2020년 7월 7일", "ko", "2020-07-07"),
    ("2018/6/18", "zh", "2018-06-18"),
    ("2018年13月40日", "ja", None),
])
def test_parse_visible_in_more_languages(text: str, lang: str | None, expected: str | None) -> None:
    assert parse_visible(text, lang) == expected


def test_german_page_with_a_visible_date(vocab: Vocabulary) -> None:
    text = "".join(f"<p>{p}</p>" for p in [
        "Vierzig Fischerfamilien in der Küstenstadt haben in dieser Woche neue Boote, Netze und "
        "Sicherheitsausrüstung erhalten, teilte die Allianz am Dienstag mit.",
        "Viele der Familien hatten ihre Boote während der Überschwemmungen im vergangenen Winter "
        "verloren und suchten im Hafen nach Tagesarbeit, statt aufs Meer zu fahren.",
        "Jede Besatzung hat einen zweiwöchigen Kurs in Navigation und Erster Hilfe besucht, bevor sie "
        "wieder aufs Meer hinausfuhr."])
    article = (f'<article><h1>Boote für Fischerfamilien</h1><p class="date">Samstag, 19. Juli 2014</p>'
               f"{text}</article>")
    release, problem = clean(page(article, lang="de"), vocab)
    assert (release.published, release.date_source, problem) == ("2014-07-19", "text", None)


@pytest.mark.parametrize("top", [
    "<p>Updated: 1 March 2021</p><p>Published 3 February 2021</p>",
    '<figure><img src="/boat.jpg" alt=""><figcaption><span>The harbour at dawn, 2 March 2019'
    "</span></figcaption></figure><p>Published 3 February 2021</p>",
    '<ul><li><h4><a href="/news/other">Another story</a> <span>(18/6/2018)</span></h4></li></ul>'
    "<p>Published 3 February 2021</p>",
], ids=["update-line", "photo-caption", "linked-teaser"])
def test_visible_date_is_the_publication_not_an_update_caption_or_teaser(top: str, vocab: Vocabulary
                                                                        ) -> None:
    release, _ = clean(page(f"<article><h1>{TITLE}</h1>{top}{BODY}</article>"), vocab)
    assert (release.published, release.date_source) == ("2021-02-03", "text")


# ------------------------------------------------------------------- htmldate, provenance

def test_htmldate_finds_a_date_our_rules_do_not_read(vocab: Vocabulary) -> None:
    head = '<meta name="citation_publication_date" content="2019/07/30">'
    release, problem = clean(page(f"<article><h1>{TITLE}</h1>{BODY}</article>", head=head), vocab)
    assert (release.published, release.date_source, problem) == ("2019-07-30", "htmldate", None)


def test_htmldate_never_reads_a_sidebar_before_the_article(vocab: Vocabulary) -> None:
    sidebar = ('<aside class="region-sidebar"><ul><li><span class="date">2 March 2022</span> '
               '<a href="/news/other">Another story</a></li></ul></aside>')
    release, _ = clean(page(f"<article><h1>{TITLE}</h1>{BODY}</article>", before=sidebar), vocab)
    assert release.published is None


def test_a_copyright_year_is_not_a_publication_day(vocab: Vocabulary) -> None:
    html = page(f"<article><h1>{TITLE}</h1>{BODY}<p>© 2021 Harbour Relief Alliance</p></article>")
    assert library_date(html) is None
    release, _ = clean(html, vocab)
    assert (release.published, release.date_source) == (None, None)


@pytest.mark.parametrize(("head", "top", "url", "source"), [
    ('<meta property="article:published_time" content="2021-02-03T10:00:00Z">', "", URL, "meta"),
    ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2021-02-03"}'
     "</script>", "", URL, "json-ld"),
    ("", '<p><time datetime="2021-02-03">3 Feb</time></p>', URL, "markup"),
    ("", "<p>Published 3 February 2021</p>", URL, "text"),
    ("", "", "https://news.example.org/2021/02/03/boats", "url"),
])
def test_the_release_says_where_its_date_came_from(head: str, top: str, url: str, source: str,
                                                    vocab: Vocabulary) -> None:
    release, _ = clean(page(f"<article><h1>{TITLE}</h1>{top}{BODY}</article>", head=head), vocab, url)
    assert (release.published, release.date_source) == ("2021-02-03", source)
    assert source in DATE_SOURCES
    again = Release.from_json(release.to_json())
    assert again.date_source == source


def test_a_release_stored_before_date_source_reads_back() -> None:
    old = {"id": "r-1", "url": URL, "site": "test", "language": "en", "title": TITLE,
           "published": "2021-02-03", "body": "Text."}
    release = Release.from_json(old)
    assert release.date_source is None
    assert release.to_json()["date_source"] is None


# ------------------------------------------------------------------- the release decision

def test_no_date_found_is_a_release_whose_date_is_unknown(vocab: Vocabulary) -> None:
    release, problem = clean(page(f"<article><h1>{TITLE}</h1>{BODY}</article>"), vocab)
    assert problem is None
    assert (release.published, release.date_source) == (None, None)


WEBSITE = '<meta property="og:type" content="website">'


def test_og_type_website_with_a_date_of_its_own_is_a_release(vocab: Vocabulary) -> None:
    html = page(f"<main><h1>{TITLE}</h1><p>Published 3 February 2021</p>{BODY}</main>", head=WEBSITE)
    release, problem = clean(html, vocab)
    assert (problem, release.published) == (None, "2021-02-03")


def test_og_type_website_with_article_markup_is_a_release(vocab: Vocabulary) -> None:
    release, problem = clean(page(f"<article><h1>{TITLE}</h1>{BODY}</article>", head=WEBSITE), vocab)
    assert (problem, release.published) == (None, None)


def test_og_type_website_with_a_long_text_is_a_release(vocab: Vocabulary) -> None:
    long_body = BODY * 6
    release, problem = clean(page(f"<main><h1>{TITLE}</h1>{long_body}</main>", head=WEBSITE), vocab)
    assert (problem, release.published) == (None, None)


def test_og_type_website_without_other_evidence_is_not_an_article(vocab: Vocabulary) -> None:
    _, problem = clean(page(f"<main><h1>Who we are</h1>{BODY}</main>", head=WEBSITE), vocab)
    assert problem == "not an article (og:type website, no date of its own)"


TEASER = ('<div class="views-row"><article class="teaser"><div class="teaser__date">{day} May 2023</div>'
          '<h3 class="teaser__title"><a href="/news/story-{day}">Story {day} from the coast</a></h3>'
          '<p class="teaser__summary">{text}</p></article></div>')


def test_a_listing_of_teaser_blocks_is_not_a_release(vocab: Vocabulary) -> None:
    teasers = "".join(TEASER.format(day=day, text=TEXT[day % 4]) for day in range(1, 7))
    html = page(f'<main><h1>News</h1><div class="intro">{BODY}</div>{teasers}</main>')
    release, problem = clean(html, vocab, url="https://news.example.org/news")
    assert problem == "a listing (6 linked headings, no date of its own)"
    assert release.published is None  # the teasers' dates are other releases' dates


def test_a_home_page_is_not_a_release(vocab: Vocabulary) -> None:
    html = page(f"<main><h1>{TITLE}</h1>{BODY}</main>")
    for url in ("https://news.example.org/", "https://news.example.org/fr/"):
        assert clean(html, vocab, url=url)[1] == "a home page"
    assert clean(html, vocab, url="https://news.example.org/?p=123")[1] is None


# ------------------------------------------------------------------- word counts

def test_word_counts_for_chinese_japanese_and_arabic() -> None:
    assert word_count(["北朝鮮が声明を発表した"]) == 5          # two characters a word
    assert word_count(["قالَ مُحَمَّدٌ إنّ المنظمةَ"]) == 4     # vowel marks do not split words
    assert word_count(["Forty fishing families, 5 000 boats — and nets."]) == 8


def test_japanese_article_is_not_too_short(vocab: Vocabulary) -> None:
    sentences = ["漁業を営む四十の家族が今週、新しい船と網と安全装備を受け取ったと同盟が火曜日に発表した。",
                 "多くの家族は昨年の冬の洪水で船を失い、海に出る代わりに港で日雇いの仕事を探していた。",
                 "各乗組員は航海と応急手当と漁獲物の安全な取り扱いについて二週間の講習を受けた。"]
    text = "".join(f"<p>{s}</p>" for s in sentences)
    release, problem = clean(page(f"<article><h1>漁業家族に新しい船</h1>{text}</article>", lang="ja"), vocab)
    assert problem is None
    assert len(release.paragraphs) == 3
