"""Unit tests of the cleaning stage: hand-written pages (tests/fixtures/pages) and its helpers.

Every page here is in a template that no rule in config/page_rules.toml matches, so what is
tested is the generic path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from archive.cleaning.clean import Capture, NotARelease, clean_page, clean_release
from archive.cleaning.contacts import decode_cfemail, parse_contacts
from archive.cleaning.countries import read_lead, release_countries
from archive.cleaning.dates import parse_visible
from archive.cleaning.extract import tidy_paragraphs
from archive.cleaning.projects import release_projects
from archive.cleaning.themes import release_themes, tagged_themes
from archive.cleaning.vocab import PageRules, Vocabulary, load_vocabulary
from archive.release import Contact, Release

PAGES = Path(__file__).parent / "fixtures" / "pages"
URL = "https://news.example.org/news/boats-for-fishing-families"


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def clean(html: str | bytes, vocab: Vocabulary, url: str = URL) -> tuple[Release, str | None]:
    return clean_page(Capture(url=url, site="test", body=html), vocab)


# ------------------------------------------------------------------------------ fixture pages


@dataclass(frozen=True)
class Expected:
    """What cleaning must make of one fixture page."""

    url: str
    title: str
    published: str
    language: str
    first: str                      # the first body paragraph starts with this
    last: str                       # the last body paragraph starts with this
    chrome: tuple[str, ...]         # menu, sidebar, footer, byline text: never in the body
    countries: list[str]
    projects: list[str]             # acronyms
    emails: set[str]
    dateline: str | None
    translations: list[dict[str, str]]
    updated: str | None = None
    themes: list[str] | None = None  # checked when the page carries topic tags
    contacts_out: tuple[str, ...] = field(default=())  # contact details that must leave the body


PAGES_EXPECTED = {
    "en-wordpress-post.html": Expected(
        url="https://news.harbourrelief.example/2023/05/zuwara-boats/",
        title="Fishing families in Zuwara get new boats and training",
        published="2023-05-09", language="en",
        first="Tripoli – Forty fishing families in the coastal town of Zuwara received new boats",
        last="Over the next twelve months, CLP will extend the support to two more towns",
        chrome=("Who we are", "Donate today", "Coastal communities, safer seas", "Posted on", "Press Office",
                "Posted in", "Tagged", "Recent posts", "Net menders of Sabratha",
                "Previous: A clinic opens", "Registered charity", "[email"),
        countries=["LY"], projects=["CLP"], emails={"amira.benali@harbourrelief.example"},
        dateline="Tripoli",
        translations=[
            {"language": "fr", "url": "https://news.harbourrelief.example/fr/2023/05/zuwara-bateaux/"},
            {"language": "ar", "url": "https://news.harbourrelief.example/ar/2023/05/zuwara-boats-ar/"}],
        contacts_out=("For more information", "Amira Ben Ali", "+41 22 555 01 87"),
    ),
    "en-bare-posted.html": Expected(
        url="https://www.sahelwater.example/news/returned-engineers-train-water-technicians",
        title="Returned engineers train water technicians in Niger",
        published="2014-06-30", language="en",
        first="Niamey - Eleven engineers from the Nigerien diaspora spent three weeks in Niger",
        last="The Sahel Water Trust plans a second round of training next year",
        chrome=("Posted:", "30 June 2014"),
        countries=["NE"], projects=["DSX"], emails=set(), dateline="Niamey", translations=[],
    ),
    "en-jsonld-sidebar-first.html": Expected(
        url="https://www.cedaraid.example/news/clinics-on-wheels",
        title="Clinics on wheels reach refugee families in the Bekaa",
        published="2022-03-08", updated="2022-03-14", language="en",
        first="Geneva – Three mobile clinics run by the Cedar Aid Network began visiting",
        last="The network hopes to add a fourth clinic in the autumn",
        chrome=("Latest news", "Winter kits for families in Arsal", "School buses return to Zahle",
                "2 March 2022", "Newsroom", "8 March 2022", "Updated 14 March 2022", "14 Rue des Alpes",
                "Privacy"),
        countries=["LB"], projects=[],
        emails={"nkaram@cedaraid.example", "tweber@cedaraid.example"},
        dateline="Geneva", translations=[],
        contacts_out=("For more information", "Nadia Karam", "+961 1 555 432", "Tom Weber"),
    ),
    "es-text-date.html": Expected(
        url="https://www.caminoseguro.example/es/noticias/centros-orientacion-san-pedro-sula",
        title="Centros de orientación para personas retornadas abren en San Pedro Sula",
        published="2024-03-12", language="es",
        first="San Pedro Sula – La Red Camino Seguro inauguró esta semana dos centros",
        last="La red prevé abrir un tercer centro en Tegucigalpa antes de fin de año.",
        chrome=("Quiénes somos", "Publicado el", "12 de marzo", "País:", "Temas:", "Retorno y reintegración",
                "Aviso legal", "Suscríbase"),
        countries=["HN"], projects=["SRI"], emails={"lmejia@caminoseguro.example"},
        dateline="San Pedro Sula",
        translations=[{"language": "en",
                       "url": "https://www.caminoseguro.example/en/news/guidance-centres-san-pedro-sula"}],
        themes=["return-reintegration", "counter-trafficking"],
        contacts_out=("Para más información", "Lucía Mejía", "+504 2550 1234"),
    ),
    "ar-rtl-month-name.html": Expected(
        url="https://www.sahilrelief.example/ar/news/aden-fishing-workshops",
        title="ورش لتعليم الصيد الآمن لشباب عدن",
        published="2021-10-03", language="ar",
        first="عدن – أطلقت شبكة الساحل للإغاثة هذا الأسبوع سلسلة من الورش التدريبية",
        last="وتخطط الشبكة لتوسيع البرنامج ليشمل مدينة المكلا",
        chrome=("من نحن", "تبرع", "الأحد", "أكتوبر", "جميع الحقوق محفوظة"),
        countries=["YE"], projects=[], emails={"lhaddad@sahilrelief.example"}, dateline="عدن",
        translations=[{"language": "en", "url": "https://www.sahilrelief.example/en/news/aden-fishing-workshops"}],
        contacts_out=("لمزيد من المعلومات", "ليلى حداد", "+967 2 555 123"),
    ),
    "fr-sidebar-first.html": Expected(
        url="https://www.aidesahel.example/fr/actualites/kits-hiver-syrte",
        title="Libye : des kits d'hiver pour les familles déplacées de Syrte",
        published="2019-12-17", language="fr",
        first="Libye - Aide Sahel Méditerranée a distribué cette semaine des couvertures",
        last="D'autres distributions sont prévues en janvier à Misrata et à Tripoli.",
        chrome=("Accueil", "Faire un don", "Dernières actualités", "Rentrée scolaire à Benghazi",
                "3 décembre 2019", "Publié le", "Mentions légales", "Lettre d'information", "[email"),
        countries=["LY"], projects=[], emails={"presse@aidesahel.example"},
        dateline=None,  # "Libye" names a country, not a place of writing
        translations=[{"language": "en", "url": "https://www.aidesahel.example/en/news/winter-kits-sirte"},
                      {"language": "ar", "url": "https://www.aidesahel.example/ar/news/winter-kits-sirte"}],
        contacts_out=("Pour plus d'informations", "Karim Haddad", "+216 71 555 210"),
    ),
}
NOT_RELEASES = {"listing.html": "https://news.harbourrelief.example/news/",
                "menu.html": "https://www.aidesahel.example/fr/medias"}


@pytest.fixture(scope="module")
def cleaned(vocab: Vocabulary) -> dict[str, tuple[Release, str | None]]:
    return {name: clean((PAGES / name).read_bytes(), vocab, expected.url)
            for name, expected in PAGES_EXPECTED.items()}


def test_every_fixture_page_is_listed_in_the_readme() -> None:
    readme = (PAGES / "README.md").read_text(encoding="utf-8")
    pages = sorted(p.name for p in PAGES.glob("*.html"))
    assert pages == sorted([*PAGES_EXPECTED, *NOT_RELEASES])
    assert all(f"`{name}`" in readme for name in pages)


@pytest.mark.parametrize("name", PAGES_EXPECTED)
def test_fixture_page_is_a_release(name: str, vocab: Vocabulary) -> None:
    capture = Capture(url=PAGES_EXPECTED[name].url, site="test", body=(PAGES / name).read_bytes())
    assert isinstance(clean_release(capture, vocab), Release)


@pytest.mark.parametrize("name", PAGES_EXPECTED)
def test_fixture_title_dates_and_language(name: str, cleaned: dict[str, tuple[Release, str | None]]
                                          ) -> None:
    release, problem = cleaned[name]
    expected = PAGES_EXPECTED[name]
    assert problem is None
    assert release.title == expected.title
    assert release.published == expected.published
    assert release.updated == expected.updated
    assert release.language == expected.language


@pytest.mark.parametrize("name", PAGES_EXPECTED)
def test_fixture_first_and_last_paragraph(name: str, cleaned: dict[str, tuple[Release, str | None]]
                                          ) -> None:
    release, _ = cleaned[name]
    expected = PAGES_EXPECTED[name]
    assert release.paragraphs[0].startswith(expected.first)
    assert release.paragraphs[-1].startswith(expected.last)


@pytest.mark.parametrize("name", PAGES_EXPECTED)
def test_fixture_body_has_no_menu_sidebar_footer_or_contacts(
        name: str, cleaned: dict[str, tuple[Release, str | None]]) -> None:
    release, _ = cleaned[name]
    expected = PAGES_EXPECTED[name]
    leaked = [text for text in (*expected.chrome, *expected.contacts_out, expected.title)
              if text in release.body]
    assert leaked == []


@pytest.mark.parametrize("name", PAGES_EXPECTED)
def test_fixture_countries_projects_and_themes(name: str, cleaned: dict[str, tuple[Release, str | None]]
                                               ) -> None:
    release, _ = cleaned[name]
    expected = PAGES_EXPECTED[name]
    assert release.countries == expected.countries
    assert [p["acronym"] for p in release.projects] == expected.projects
    if expected.themes is not None:
        assert release.themes == expected.themes
    assert len(release.themes) <= 3


@pytest.mark.parametrize("name", PAGES_EXPECTED)
def test_fixture_contact_emails(name: str, cleaned: dict[str, tuple[Release, str | None]]) -> None:
    release, _ = cleaned[name]
    assert {c.email for c in release.contacts if c.email} == PAGES_EXPECTED[name].emails


@pytest.mark.parametrize("name", PAGES_EXPECTED)
def test_fixture_dateline_and_translations(name: str, cleaned: dict[str, tuple[Release, str | None]]
                                           ) -> None:
    release, _ = cleaned[name]
    expected = PAGES_EXPECTED[name]
    assert release.dateline == expected.dateline
    assert release.translations == expected.translations


@pytest.mark.parametrize(("name", "contact"), [
    ("en-jsonld-sidebar-first.html",
     Contact("Nadia Karam", "Cedar Aid Network Beirut", "nkaram@cedaraid.example", "+961 1 555 432")),
    ("en-wordpress-post.html",
     Contact("Amira Ben Ali", "Harbour Relief Alliance", "amira.benali@harbourrelief.example",
             "+41 22 555 01 87")),
    ("fr-sidebar-first.html",
     Contact("Karim Haddad", "bureau de Tunis", "presse@aidesahel.example", "+216 71 555 210")),
    ("es-text-date.html",
     Contact("Lucía Mejía", "Red Camino Seguro", "lmejia@caminoseguro.example", "+504 2550 1234")),
    ("ar-rtl-month-name.html",
     Contact("ليلى حداد", "مكتب عدن", "lhaddad@sahilrelief.example", "+967 2 555 123")),
])
def test_fixture_named_contact(name: str, contact: Contact, cleaned: dict[str, tuple[Release, str | None]]
                               ) -> None:
    release, _ = cleaned[name]
    assert release.contacts[0] == contact


def test_fixture_second_contact_of_a_block(cleaned: dict[str, tuple[Release, str | None]]) -> None:
    release, _ = cleaned["en-jsonld-sidebar-first.html"]
    assert release.contacts[1:] == [
        Contact("Tom Weber", "Cedar Aid Network Geneva", "tweber@cedaraid.example", "+41 22 555 0199")]


@pytest.mark.parametrize("name", NOT_RELEASES)
def test_listing_and_menu_pages_are_not_releases(name: str, vocab: Vocabulary) -> None:
    capture = Capture(url=NOT_RELEASES[name], site="test", body=(PAGES / name).read_bytes())
    with pytest.raises(NotARelease):
        clean_release(capture, vocab)


def test_listing_without_og_type_is_not_a_release(vocab: Vocabulary) -> None:
    html = (PAGES / "listing.html").read_text(encoding="utf-8")
    html = html.replace('<meta property="og:type" content="website">', "")
    assert "og:type" not in html
    with pytest.raises(NotARelease):
        clean_release(Capture(url=NOT_RELEASES["listing.html"], site="test", body=html), vocab)


def test_listing_with_linked_teaser_blocks_is_not_a_release(vocab: Vocabulary) -> None:
    html = (PAGES / "listing.html").read_text(encoding="utf-8")
    html = html.replace('<meta property="og:type" content="website">', "")
    html = re.sub(r'<h2><a href="([^"]+)">([^<]+)</a></h2>', r'<a href="\1"><h2>\2</h2></a>', html)
    assert html.count("</h2></a>") == 6
    with pytest.raises(NotARelease):
        clean_release(Capture(url=NOT_RELEASES["listing.html"], site="test", body=html), vocab)


def test_a_page_rule_matching_a_listing_template_does_not_make_it_a_release(vocab: Vocabulary) -> None:
    """Home and listing pages often share the article template: a rule's match is no verdict."""
    html = (PAGES / "listing.html").read_text(encoding="utf-8")
    html = html.replace('<meta property="og:type" content="website">', "")
    rule = PageRules(name="newsroom", match="body", title="h1", date="time.published")
    with pytest.raises(NotARelease, match="a listing"):
        clean_release(Capture(url=NOT_RELEASES["listing.html"], site="test", body=html), vocab, [rule])


# ------------------------------------------------------------------------------ inline pages

EN = [
    "Forty fishing families in the coastal town received new boats, nets and safety equipment this "
    "week, the alliance said on Tuesday.",
    "Many of the families lost their boats during the floods of last winter and looked for day work in "
    "the port instead of going to sea.",
    "Each crew followed a two-week course on navigation, first aid and the safe handling of catches "
    "before going back to sea.",
    "Over the next twelve months the support will extend to two more towns along the coast, and a cold "
    "store will open near the market.",
]
FR = [
    "Quarante familles de pêcheurs de la ville ont reçu cette semaine des bateaux, des filets et du "
    "matériel de sécurité pour reprendre leur travail.",
    "Beaucoup de ces familles ont perdu leurs bateaux pendant les inondations de l'hiver dernier et "
    "cherchaient du travail dans le port.",
    "Les équipes ont suivi une formation sur la navigation et les premiers secours avant de retourner en "
    "mer avec leurs filets.",
]
ES = [
    "Cuarenta familias de pescadores de la ciudad recibieron esta semana barcos, redes y equipos de "
    "seguridad para volver a trabajar en el mar.",
    "Muchas de estas familias perdieron sus barcos durante las inundaciones del invierno pasado y "
    "buscaban trabajo en el puerto.",
    "Los equipos siguieron una formación sobre navegación y primeros auxilios antes de volver al mar con "
    "sus nuevas redes.",
]
AR = [
    "تسلمت أربعون أسرة من أسر الصيادين في المدينة هذا الأسبوع قوارب جديدة وشباكاً ومعدات للسلامة، "
    "وذلك بعد أن فقدت مصدر رزقها خلال الشتاء الماضي.",
    "وقد فقدت كثير من هذه الأسر قواربها خلال الفيضانات وبحث أفرادها عن عمل يومي في الميناء بدلاً من "
    "الخروج إلى البحر.",
    "وتلقى أفراد الطواقم تدريباً على الملاحة والإسعافات الأولية وطرق حفظ الأسماك قبل العودة إلى البحر "
    "بقواربهم الجديدة.",
]


def page(paragraphs: list[str] = EN, *, title: str = "Boats for fishing families", lang: str | None = "en",
         head: str = "", before: str = "", top: str = "", tail: str = "") -> str:
    """Build a small release page: `top` goes between the title and the text, `tail` after it."""
    html_open = f'<html lang="{lang}">' if lang else "<html>"
    text = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"{html_open}<head><title>{title}</title>{head}</head><body>{before}"
            f"<article><h1>{title}</h1>{top}{text}{tail}</article></body></html>")


@pytest.mark.parametrize("headings", [
    "".join(f'<h2><a href="#s{i}">Part {i}</a></h2><p>{EN[i]}</p>' for i in range(4)),
    '<div class="more-stories"><h3>More stories</h3>'
    + "".join(f'<h3><a href="/news/story-{i}">Story {i} from the coast</a></h3>' for i in range(4))
    + "</div>",
], ids=["anchors", "more-stories"])
def test_release_with_linked_headings_is_not_a_listing(headings: str, vocab: Vocabulary) -> None:
    _, problem = clean(page(top="<p>Published 9 May 2023</p>", tail=headings), vocab)
    assert problem is None


# ------------------------------------------------------------------------------ dates

@pytest.mark.parametrize(("head", "top"), [
    ('<meta property="article:published_time" content="2021-02-03T10:00:00+00:00">',
     "<p>Published 9 May 2023</p>"),
    ("", '<p><time datetime="2021-02-03">9 May 2023</time></p>'),
    ("", '<p><span itemprop="datePublished" content="2021-02-03">9 May 2023</span></p>'),
    ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2021-02-03"}</script>',
     "<p>Published 9 May 2023</p>"),
    ('<script type="application/ld+json">{"@graph": [{"@type": "WebPage"}, '
     '{"@type": "NewsArticle", "datePublished": "2021-02-03T08:00:00Z"}]}</script>',
     "<p>Published 9 May 2023</p>"),
], ids=["meta", "time", "itemprop", "json-ld", "json-ld-graph"])
def test_machine_readable_date_beats_visible_text(head: str, top: str, vocab: Vocabulary) -> None:
    release, _ = clean(page(head=head, top=top), vocab)
    assert release.published == "2021-02-03"


TEASERS = ('<aside class="region-sidebar"><h3>Latest news</h3><ul>'
           '<li><span class="date">2 March 2022</span> <a href="/news/other">Another story</a></li>'
           '<li><span class="date">25 February 2022</span> <a href="/news/older">An older story</a></li>'
           "</ul></aside>")


@pytest.mark.parametrize("where", ["before", "inside"])
def test_sidebar_teaser_date_is_never_taken(where: str, vocab: Vocabulary) -> None:
    html = page(before=TEASERS) if where == "before" else page(top=TEASERS)
    release, problem = clean(html, vocab)
    assert release.published is None
    assert problem is None  # a release whose date is unknown, not a rejection
    release, _ = clean(html, vocab, url="https://news.example.org/2019/07/15/boats")
    assert release.published == "2019-07-15"


def test_teaser_column_inside_main_is_not_read(vocab: Vocabulary) -> None:
    column = ('<div class="col-md-3"><h3>Latest news</h3><ul><li>2 March 2022 '
              '<a href="/news/other">Another story</a></li></ul></div>')
    text = "".join(f"<p>{p}</p>" for p in EN)
    html = (f'<html lang="en"><body><main><div class="row">{column}<div class="col-md-9">'
            f"<h1>Boats for fishing families</h1>{text}</div></div></main></body></html>")
    release, _ = clean(html, vocab, url="https://news.example.org/2019/07/15/boats")
    assert release.published == "2019-07-15"


@pytest.mark.parametrize(("lang", "paragraphs", "line", "expected"), [
    ("en", EN, "Posted: Monday, 30 June 2014 - 10:00", "2014-06-30"),
    ("en", EN, "June 30, 2014", "2014-06-30"),
    ("fr", FR, "Publié le mardi 17 mai 2011", "2011-05-17"),
    ("fr", FR, "1er mars 2019", "2019-03-01"),
    ("es", ES, "Publicado el 12 de marzo de 2024", "2024-03-12"),
    ("ar", AR, "١٢ مارس ٢٠٢٤", "2024-03-12"),
    ("ar", AR, "الأحد 3 أكتوبر 2021", "2021-10-03"),
])
def test_visible_date_in_each_language(lang: str, paragraphs: list[str], line: str, expected: str,
                                       vocab: Vocabulary) -> None:
    release, _ = clean(page(paragraphs, lang=lang, top=f'<div class="date">{line}</div>'), vocab)
    assert release.published == expected
    assert release.language == lang
    assert line not in release.body


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("Posted: Monday, 30 June 2014", "en", "2014-06-30"),
    ("Publié le : mardi 17 mai 2011", "fr", "2011-05-17"),
    ("12 de marzo de 2024", "es", "2024-03-12"),
    ("١٢ مارس ٢٠٢٤", "ar", "2024-03-12"),
    ("On 31 February 2020 nothing happened", "en", None),
    ("30 June 1850", "en", None),  # not plausible for a release
    ("no date here at all", "en", None),
])
def test_parse_visible(text: str, lang: str, expected: str | None) -> None:
    assert parse_visible(text, lang) == expected


@pytest.mark.parametrize(("text", "expected"), [("١٥ أيار ٢٠٢٣", "2023-05-15"),
                                                ("٣ تشرين الأول ٢٠٢١", "2021-10-03")])
def test_parse_visible_levantine_arabic_months(text: str, expected: str) -> None:
    assert parse_visible(text, "ar") == expected


def test_url_date_is_the_last_resort(vocab: Vocabulary) -> None:
    dated_url = "https://news.example.org/2019/07/15/boats"
    release, _ = clean(page(), vocab, url=dated_url)
    assert release.published == "2019-07-15"
    release, _ = clean(page(top="<p>Published 9 May 2023</p>"), vocab, url=dated_url)
    assert release.published == "2023-05-09"
    release, _ = clean(page(), vocab, url="https://news.example.org/2019/13/45/boats")
    assert release.published is None


@pytest.mark.parametrize(("modified", "expected"), [
    ("2021-03-01T09:00:00Z", "2021-03-01"),
    ("2021-02-03T18:00:00Z", None),  # same day
    ("2020-12-24", None),            # earlier: a bad clock, not an update
])
def test_updated_date_only_when_later_than_published(modified: str, expected: str | None,
                                                     vocab: Vocabulary) -> None:
    head = ('<meta property="article:published_time" content="2021-02-03T10:00:00Z">'
            f'<meta property="article:modified_time" content="{modified}">')
    release, _ = clean(page(head=head), vocab)
    assert release.published == "2021-02-03"
    assert release.updated == expected


def test_visible_updated_line(vocab: Vocabulary) -> None:
    release, _ = clean(page(top="<p>Published 3 February 2021</p><p>Updated: 1 March 2021</p>"), vocab)
    assert (release.published, release.updated) == ("2021-02-03", "2021-03-01")
    top = "<p>Publié le 3 février 2021</p><p>Mis à jour le 1 mars 2021</p>"
    release, _ = clean(page(FR, lang="fr", top=top), vocab)
    assert (release.published, release.updated) == ("2021-02-03", "2021-03-01")


# ------------------------------------------------------------------------------ language

@pytest.mark.parametrize(("lang", "paragraphs", "expected"), [
    ("fr", FR, "fr"), ("en-GB", EN, "en"), ("es_ES", ES, "es"), ("ar", AR, "ar"),
])
def test_declared_language_is_kept(lang: str, paragraphs: list[str], expected: str, vocab: Vocabulary
                                   ) -> None:
    release, _ = clean(page(paragraphs, lang=lang), vocab)
    assert release.language == expected


def test_page_declaring_english_whose_text_is_french_is_french(vocab: Vocabulary) -> None:
    release, _ = clean(page(FR, lang="en", top="<p>Publié le 3 février 2021</p>"), vocab)
    assert release.language == "fr"
    assert release.published == "2021-02-03"


def test_url_prefix_is_used_when_nothing_is_declared(vocab: Vocabulary) -> None:
    url = "https://news.example.org/es/noticias/barcos"
    release, _ = clean(page(["Una nota breve."], lang=None, top="<p>12 de marzo de 2024</p>"), vocab, url)
    assert release.language == "es"
    assert release.published == "2024-03-12"
    release, _ = clean(page(ES, lang=None), vocab, url)
    assert release.language == "es"


# ------------------------------------------------------------------------------ countries

def countries(vocab: Vocabulary, title: str, paragraphs: list[str], tags: list[str] | None = None
              ) -> list[str]:
    return release_countries(vocab, tags=tags or [], lead=read_lead(paragraphs[0], vocab), office=None,
                             title=title, paragraphs=paragraphs)


def test_country_named_once_in_passing_is_not_listed(vocab: Vocabulary) -> None:
    last = "The alliance thanked its partners, among them a foundation based in Norway."
    assert countries(vocab, "Boats for fishing families", [*EN, last]) == []
    assert countries(vocab, "Boats for fishing families in Tunisia", [*EN, last]) == ["TN"]


def test_country_in_the_title_is_listed(vocab: Vocabulary) -> None:
    assert countries(vocab, "Boats for fishing families in Tunisia", EN) == ["TN"]


def test_explicit_country_tags_win(vocab: Vocabulary) -> None:
    assert countries(vocab, "Boats for fishing families in Tunisia", EN, tags=["Libya", "Égypte"]) == [
        "LY", "EG"]


def test_geneva_dateline_does_not_add_switzerland_to_a_story_elsewhere(vocab: Vocabulary) -> None:
    paragraphs = ["Geneva – " + EN[0] + " The families live on the coast of Lebanon.",
                  EN[1] + " Lebanon's ports reopened in spring.", *EN[2:]]
    assert countries(vocab, "Boats for fishing families", paragraphs) == ["LB"]


def test_geneva_dateline_alone_adds_no_country(vocab: Vocabulary) -> None:
    assert countries(vocab, "Boats for fishing families", ["Geneva – " + EN[0], *EN[1:]]) == []


@pytest.mark.parametrize(("first", "label", "country", "dateline"), [
    ("Tripoli – Forty families got boats.", "Tripoli", "LY", "Tripoli"),
    ("Libye - Quarante familles ont reçu des bateaux.", "Libye", "LY", None),
    ("Tripoli, Libya – Forty families got boats.", "Tripoli, Libya", "LY", "Tripoli"),
    ("San Pedro Sula – Cuarenta familias recibieron barcos.", "San Pedro Sula", "HN", "San Pedro Sula"),
    ("Forty families - and their boats - went back to sea.", None, None, None),
])
def test_read_lead(first: str, label: str | None, country: str | None, dateline: str | None,
                   vocab: Vocabulary) -> None:
    lead = read_lead(first, vocab)
    assert (lead.label, lead.country, lead.dateline) == (label, country, dateline)


# ------------------------------------------------------------------------------ projects

def projects(vocab: Vocabulary, paragraphs: list[str], title: str = "Boats for fishing families",
             language: str = "en") -> list[dict[str, str]]:
    return release_projects(vocab, title, paragraphs, language)


SRI = {"acronym": "SRI", "name": "Safe Routes Initiative"}


@pytest.mark.parametrize(("first", "language"), [
    ("Tripoli – Forty families received boats this week from the SRI team.", "en"),
    ("Tripoli – Forty families received boats this week under the Safe Routes Initiative.", "en"),
    ("Tripoli – Quarante familles ont reçu des bateaux dans le cadre de l'Initiative Routes sûres.", "fr"),
], ids=["acronym", "name", "alias"])
def test_known_project(first: str, language: str, vocab: Vocabulary) -> None:
    assert projects(vocab, [first, *EN[1:]], language=language) == [SRI]


def test_unknown_programme_with_acronym_is_found(vocab: Vocabulary) -> None:
    first = "Tripoli – Forty families received boats this week from the Coastal Livelihoods Programme (CLP)."
    assert projects(vocab, [first, *EN[1:]]) == [{"acronym": "CLP", "name": "Coastal Livelihoods Programme"}]
    first = "Tripoli – Forty families received boats from the Programme Horizon (PH) this week."
    assert projects(vocab, [first, *EN[1:]]) == [{"acronym": "PH", "name": "Programme Horizon"}]


def test_unknown_programme_with_a_one_letter_word(vocab: Vocabulary) -> None:
    first = "Tripoli – Forty families received boats from the Programme X (PX) this week."
    assert projects(vocab, [first, *EN[1:]]) == [{"acronym": "PX", "name": "Programme X"}]


@pytest.mark.parametrize("organisation", [
    "the World Health Organization (WHO)", "the World Food Programme (WFP)",
    "the International Organization for Migration (IOM)",
])
def test_organisation_in_brackets_is_not_a_project(organisation: str, vocab: Vocabulary) -> None:
    first = f"Tripoli – Health officers trained by {organisation} visited forty fishing families."
    assert projects(vocab, [first, *EN[1:]]) == []


def test_acronym_paragraphs_after_the_full_name(vocab: Vocabulary) -> None:
    paragraphs = ["Tripoli – Forty families got boats this week under the Coastal Fisheries Programme.",
                  *EN[1:], "Next year CFP will reach two more towns along the coast."]
    assert projects(vocab, paragraphs) == [{"acronym": "CFP", "name": "Coastal Fisheries Programme"}]


def test_sentence_initial_the_is_not_part_of_the_name(vocab: Vocabulary) -> None:
    first = "Tripoli – The Programme for Coastal Fisheries (PCF) gave boats to forty families."
    assert projects(vocab, [first, *EN[1:]]) == [
        {"acronym": "PCF", "name": "Programme for Coastal Fisheries"}]


def test_acronym_after_a_sentence_initial_full_name(vocab: Vocabulary) -> None:
    paragraphs = ["Tripoli – The Coastal Fisheries Programme gave boats to forty families this week.",
                  *EN[1:], "Next year CFP will reach two more towns along the coast."]
    assert projects(vocab, paragraphs) == [{"acronym": "CFP", "name": "Coastal Fisheries Programme"}]


def test_french_sentence_case_programme_is_found(vocab: Vocabulary) -> None:
    first = ("Tripoli – Quarante familles ont reçu des bateaux dans le cadre du Programme d'appui aux "
             "pêcheurs artisans (PAPA).")
    assert [p["acronym"] for p in projects(vocab, [first, *FR[1:]], language="fr")] == ["PAPA"]


# ------------------------------------------------------------------------------ themes

@pytest.mark.parametrize(("label", "href", "expected"), [
    ("Whatever the label", "https://news.example.org/topics/counter-trafficking", ["counter-trafficking"]),
    ("Smuggling", "/fr/themes/smuggling/", ["smuggling"]),
    ("Human trafficking", "/tag/ht", ["counter-trafficking"]),
    ("Traite des êtres humains", "/fr/thematiques/traite", ["counter-trafficking"]),
    ("Trata de personas", "/es/temas/trata", ["counter-trafficking"]),
    ("Knitting", "/topics/knitting", []),
])
def test_theme_tags_map_to_ids(label: str, href: str, expected: list[str], vocab: Vocabulary) -> None:
    assert tagged_themes(vocab, [(label, href)]) == expected


def test_theme_tag_links_on_a_page(vocab: Vocabulary) -> None:
    tags = ('<div class="tags"><a href="/topics/labour-migration">Work abroad</a> '
            '<a href="/topics/anything">Counter-trafficking</a></div>')
    release, _ = clean(page(tail=tags), vocab)
    assert release.themes == ["labour-migration", "counter-trafficking"]


def test_text_about_trafficking_gets_counter_trafficking(vocab: Vocabulary) -> None:
    body = ("Police and social workers identified twelve victims of trafficking at a farm this week. "
            "The traffickers had taken their passports and kept them in debt bondage. A national referral "
            "mechanism now sends survivors to shelters.")
    themes = release_themes(vocab, [], "Survivors of human trafficking find safe shelter", body, "en")
    assert themes[0] == "counter-trafficking"


def test_at_most_three_themes(vocab: Vocabulary) -> None:
    tags = [(theme, f"/topics/{theme}") for theme in list(vocab.themes)[:6]]
    assert release_themes(vocab, tags, "t", "b", "en") == list(vocab.themes)[:3]
    text = ("human trafficking, migrant smuggling, border management, labour migration, health screening, "
            "displacement tracking matrix, emergency shelter, return and reintegration, climate change, "
            "resettlement, diaspora investment. ")
    assert 1 <= len(release_themes(vocab, [], text, text * 5, "en")) <= 3


# ------------------------------------------------------------------------------ contacts

def openers(vocab: Vocabulary) -> list[str]:
    return vocab.phrase_list("contacts.openers")


def test_parse_contacts_french_line(vocab: Vocabulary) -> None:
    line = ("Pour plus d'information, veuillez contacter Moussa Garba, OIM Niger, Tél.: +227 20 75 24 18, "
            "Email: mgarba@example.org")
    assert parse_contacts([line], openers(vocab)) == [
        Contact(name="Moussa Garba", office="OIM Niger", email="mgarba@example.org",
                phone="+227 20 75 24 18")]


def test_two_contacts_in_one_block(vocab: Vocabulary) -> None:
    lines = ["For more information, please contact:",
             "Jane Doe, Harbour Office, Tel: +41 22 555 0187, Email: JDoe@Example.org",
             "John Roe, Tripoli Office, Tel: +218 91 555 0101, Email: jroe@example.org"]
    assert parse_contacts(lines, openers(vocab)) == [
        Contact("Jane Doe", "Harbour Office", "jdoe@example.org", "+41 22 555 0187"),
        Contact("John Roe", "Tripoli Office", "jroe@example.org", "+218 91 555 0101")]


def test_two_contacts_on_one_line(vocab: Vocabulary) -> None:
    line = ("For more information, please contact Jane Doe, Harbour Office, Tel: +41 22 555 0187, "
            "Email: jdoe@example.org, or John Roe, Tripoli Office, Tel: +218 91 555 0101, "
            "Email: jroe@example.org")
    assert parse_contacts([line], openers(vocab))[1] == Contact(
        "John Roe", "Tripoli Office", "jroe@example.org", "+218 91 555 0101")


@pytest.mark.parametrize("line", [
    "Media contacts: Jane Doe, Harbour Office, Tel: +41 22 555 0187, Email: jdoe@example.org",
    "For more information: Jane Doe, Harbour Office, Tel: +41 22 555 0187, Email: jdoe@example.org",
    "Para más información, contacte con Jane Doe, Harbour Office, Tel: +41 22 555 0187, "
    "Email: jdoe@example.org",
])
def test_contacts_line_without_a_contact_verb(line: str, vocab: Vocabulary) -> None:
    assert parse_contacts([line], openers(vocab)) == [
        Contact("Jane Doe", "Harbour Office", "jdoe@example.org", "+41 22 555 0187")]


@pytest.mark.parametrize("line", [
    "لمزيد من المعلومات، يرجى الاتصال بـ: ليلى حداد، مكتب عدن، هاتف: +967 2 555 123، البريد الإلكتروني: "
    "lhaddad@example.org",
    "للتواصل: ليلى حداد، مكتب عدن، هاتف: +967 2 555 123، البريد الإلكتروني: lhaddad@example.org",
])
def test_arabic_contacts_line(line: str, vocab: Vocabulary) -> None:
    assert parse_contacts([line], openers(vocab)) == [
        Contact("ليلى حداد", "مكتب عدن", "lhaddad@example.org", "+967 2 555 123")]


@pytest.mark.parametrize(("line", "expected"), [
    ("For more information: contact@harbourrelief.example, Tel: +41 22 555 0187",
     Contact(email="contact@harbourrelief.example", phone="+41 22 555 0187")),
    ("Media contacts: press-contact@harbourrelief.example",
     Contact(email="press-contact@harbourrelief.example")),
])
def test_address_starting_with_contact(line: str, expected: Contact, vocab: Vocabulary) -> None:
    assert parse_contacts([line], openers(vocab)) == [expected]


def test_contact_written_as_a_sentence(vocab: Vocabulary) -> None:
    line = "For more information, contact Jane Doe at jdoe@example.org or +41 22 555 0187."
    assert parse_contacts([line], openers(vocab)) == [
        Contact(name="Jane Doe", email="jdoe@example.org", phone="+41 22 555 0187")]


def test_decode_cfemail() -> None:
    assert decode_cfemail("5a3b3733283b74383f343b36331a323b2838352f28283f36333f3c743f223b372a363f") == (
        "amira.benali@harbourrelief.example")
    assert decode_cfemail("3c4c4e594f4f597c5d5558594f5d5459501259445d514c5059") == "presse@aidesahel.example"
    assert decode_cfemail("zz") is None
    assert decode_cfemail("5a") is None


def test_cloudflare_email_in_body_text_is_revealed(vocab: Vocabulary) -> None:
    cf = ('<a href="/cdn-cgi/l/email-protection" class="__cf_email__" '
          'data-cfemail="3c4c4e594f4f597c5d5558594f5d5459501259445d514c5059">[email&#160;protected]</a>')
    last = f"Readers may send their questions to {cf} until the end of the month, the alliance said."
    release, _ = clean(page([*EN, last]), vocab)
    assert "presse@aidesahel.example" in release.paragraphs[-1]
    assert "[email" not in release.body


# ------------------------------------------------------------------------------ tidy_paragraphs

def test_more_information_in_the_middle_of_an_article_stays(vocab: Vocabulary) -> None:
    paragraphs = [EN[0], "For more information on the programme, visit our website.", EN[1], EN[2]]
    assert tidy_paragraphs(paragraphs, openers(vocab)) == (paragraphs, [])


def test_contacts_at_the_end_leave_the_body(vocab: Vocabulary) -> None:
    contact = "For more information, please contact Jane Doe, Tel: +41 22 555 0187, Email: jdoe@example.org"
    assert tidy_paragraphs([EN[0], EN[1], contact], openers(vocab)) == ([EN[0], EN[1]], [contact])
    run_on = f"{EN[1]} {contact}"
    assert tidy_paragraphs([EN[0], run_on], openers(vocab)) == ([EN[0], EN[1]], [contact])


def test_hard_wrapped_lines_are_joined(vocab: Vocabulary) -> None:
    wrapped = "Forty fishing families in the coastal\n  town received new boats,\nnets and\n\tequipment."
    body, contacts = tidy_paragraphs([wrapped, "  "], openers(vocab))
    assert body == ["Forty fishing families in the coastal town received new boats, nets and equipment."]
    assert contacts == []


# ------------------------------------------------------------------------------ Release JSON

DOCUMENTED_FIELDS = ["id", "url", "site", "site_name", "language", "title", "published", "date_source",
                     "updated", "captured", "dateline", "countries", "projects", "themes", "donors",
                     "contacts", "body", "translations", "content_hash", "version"]


def test_to_json_has_the_documented_field_order(cleaned: dict[str, tuple[Release, str | None]]) -> None:
    release, _ = cleaned["en-jsonld-sidebar-first.html"]
    data = release.to_json()
    assert list(data) == DOCUMENTED_FIELDS
    assert list(json.loads(json.dumps(data))) == DOCUMENTED_FIELDS
    assert data["contacts"][0] == {"name": "Nadia Karam", "office": "Cedar Aid Network Beirut",
                                   "email": "nkaram@cedaraid.example", "phone": "+961 1 555 432"}


@pytest.mark.parametrize("name", PAGES_EXPECTED)
def test_release_round_trips_through_json(name: str, cleaned: dict[str, tuple[Release, str | None]]) -> None:
    release, _ = cleaned[name]
    data = json.loads(json.dumps(release.to_json(), ensure_ascii=False))
    again = Release.from_json(data)
    assert again == release
    assert all(isinstance(c, Contact) for c in again.contacts)
    assert again.to_json() == release.to_json()


def test_a_tag_page_typed_as_a_collection_is_not_a_release_whatever_its_og_type(
        vocab: Vocabulary) -> None:
    """WordPress themes put og:type article on tag pages; their JSON-LD says CollectionPage."""
    teasers = "".join(
        f"<div class='teaser'><a href='/news/{i}'>Story {i}</a><p>Families displaced by the floods "
        f"in the north received shelter kits, water and cash this week in district {i}, the "
        f"agency said in its weekly update.</p></div>" for i in range(8))
    html = ('<html lang="en"><head><title>Archives of floods</title>'
            '<meta property="og:type" content="article">'
            '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
            '{"@type": "CollectionPage", "name": "Archives of floods"}]}</script></head>'
            f"<body><main><h1>Archives of floods</h1>{teasers}</main></body></html>")
    with pytest.raises(NotARelease, match="a listing \\(JSON-LD CollectionPage\\)"):
        clean_release(Capture(url="https://news.example.org/tag/floods/", site="test", body=html),
                      vocab)
