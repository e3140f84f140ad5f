"""Boilerplate learned from six dumps of one site, and the releases cut out of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.cleaning.textdump import (
    KEEP_WORDS,
    SHORT_WORDS,
    Boilerplate,
    count_words,
    learn_boilerplate,
    looks_like_date,
    normalise_line,
    release_from_dump,
    split_lines,
    strip_boilerplate,
)

DUMPS = Path(__file__).parent / "fixtures" / "textdumps"
SEED = "seed-release-fr.txt"
SEED_TITLE = ("L'OIM aide le gouvernement libyen à établir un groupe de travail sur la politique "
              "de gestion des migrations")

MENU = [
    "Passer au contenu principal", "Organisation internationale pour les migrations", "Qui sommes nous",
    "Structure", "Nos dirigeants", "Notre travail", "Où travaillons-nous", "Données et recherche",
    "Centre des médias", "Actualités", "Agir", "Faire un don", "Carrières", "Rechercher", "Français",
    "Accueil", "Communiqués de presse",
    "L'organisation, ses États Membres, ses bureaux régionaux et ses bureaux de pays dans le monde entier.",
    "Plus de 170 pays et plus de 590 bureaux et sous-bureaux à travers le monde.",
]
FOOTER = [
    "Étiquettes", "Partager cette page", "Facebook", "Twitter", "LinkedIn", "Courriel", "Restez informé",
    "Abonnez-vous à notre lettre d'information pour recevoir chaque semaine les dernières nouvelles "
    "de l'OIM.",
    "Adresse électronique", "S'abonner", "17 route des Morillons", "CP 17", "1211 Genève 19, Suisse",
    "Tél. : +41 22 717 9111", "Contactez-nous", "Politique de confidentialité", "Conditions d'utilisation",
    "Plan du site", "© 2024 Organisation internationale pour les migrations (OIM). Tous droits réservés.",
    "Ce site utilise des cookies pour améliorer votre expérience de navigation et mesurer son audience.",
    "Accepter", "Paramètres des cookies",
]
# file: (title, date line, number of paragraphs)
EXPECTED = {
    SEED: (SEED_TITLE, "11 juin 2013", 6),
    "tunisie-retours-fr.txt": (
        "L'OIM aide des migrants ouest-africains bloqués en Tunisie à rentrer chez eux et à reprendre "
        "une activité", "Mardi 24 septembre 2013", 6),
    "yemen-aden-fr.txt": ("Yémen : des migrants bloqués à Aden", "28 mai 2015", 6),
    "niger-agadez-fr.txt": (
        "Niger : l'OIM ouvre à Agadez un nouveau centre d'accueil et de transit pour les migrants",
        "Lundi, 30 juin 2014", 6),
    "haiti-camps-fr.txt": (
        "Haïti : plus de 10 000 familles déplacées quittent les camps grâce à un programme de "
        "subventions au loyer", "Publié le 4 mars 2014", 5),
    "mediterranee-arrivees-fr.txt": (
        "Méditerranée : les arrivées par la mer dépassent 350 000 personnes en 2016, selon l'OIM",
        "Date de publication : 2 décembre 2016", 6),
}
# lines written differently from the other files, which must still match them
VARIANTS = {
    "tunisie-retours-fr.txt": [
        "Qui sommes  nous", "S’abonner", "Conditions d’utilisation",
        "L’organisation, ses États Membres, ses bureaux régionaux et ses bureaux de pays dans le monde "
        "entier.",
    ],
    "yemen-aden-fr.txt": ["Données\tet recherche", "Où travaillons-nous"],
    "niger-agadez-fr.txt": [
        "Plus de 170\u00a0pays et plus de 590 bureaux et sous-bureaux à travers le monde.",
        "Tél.\u202f: +41 22 717 9111", "Conditions d’utilisation",
    ],
    "haiti-camps-fr.txt": [
        "©  2024 Organisation internationale pour les migrations (OIM).  Tous droits réservés.",
    ],
    "mediterranee-arrivees-fr.txt": ["Restez  informé"],
}


def read_dump(name: str) -> list[str]:
    # bytes, not read_text(): universal newlines would hide the \r that split_lines must handle
    return split_lines((DUMPS / name).read_bytes().decode("utf-8"))


def release_part(lines: list[str]) -> tuple[str, list[str]]:
    """Return a fixture's title and body, found by the markers the fixture README describes."""
    share = lines.index("Partager")
    return lines[share - 1], lines[share + 1:lines.index("Étiquettes")]


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[str]]:
    return {name: read_dump(name) for name in EXPECTED}


@pytest.fixture(scope="module")
def model(corpus: dict[str, list[str]]) -> Boilerplate:
    return learn_boilerplate(corpus.values())


def test_fixtures_are_the_six_dumps() -> None:
    assert sorted(path.name for path in DUMPS.glob("*.txt")) == sorted(EXPECTED)


def test_learns_menu_and_footer_lines(model: Boilerplate) -> None:
    assert model.pages == 6
    missing = [line for line in MENU + FOOTER if not model.is_boilerplate(line)]
    assert missing == []


def test_learns_no_release_line(corpus: dict[str, list[str]], model: Boilerplate) -> None:
    for name, lines in corpus.items():
        title, body = release_part(lines)
        assert len(body) >= 5, name
        learned = [line for line in [title, *body] if model.is_boilerplate(line)]
        assert learned == [], name


def test_tags_and_unique_menu_items_are_not_learned(model: Boilerplate) -> None:
    # each is on one or two pages: too few for boilerplate, so stripping them is the run rule's job
    for line in ["Libye", "Gestion des migrations", "Rapport mondial 2015", "Photo : © OIM 2014"]:
        assert not model.is_boilerplate(line)


def test_seed_release(corpus: dict[str, list[str]], model: Boilerplate) -> None:
    release = release_from_dump(corpus[SEED], model)
    assert release.title == SEED_TITLE
    assert len(release.paragraphs) == 6
    assert release.paragraphs[0].startswith("Libye - Dans le cadre de son projet en cours financé par")
    assert "(START), l'OIM en Libye a organisé un atelier" in release.paragraphs[0]
    assert release.paragraphs[-1].startswith("Pour plus d'informations, veuillez contacter")
    assert release.paragraphs[-1].endswith("presse.libye@example.org")
    kept = [release.title, *release.paragraphs]
    for line in ["Qui sommes nous", "Structure", "Notre travail", "Accueil", "Partager", "11 juin 2013",
                 "Libye", "Restez informé", "Politique de confidentialité", "Accepter"]:
        assert line not in kept
    assert [line for line in kept if model.is_boilerplate(line)] == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_release(name: str, corpus: dict[str, list[str]], model: Boilerplate) -> None:
    title, date, count = EXPECTED[name]
    lines = corpus[name]
    release = release_from_dump(lines, model)
    assert release.title == title == release_part(lines)[0]
    body = release_part(lines)[1]
    assert date in body
    assert release.paragraphs == [line for line in body if line != date][:count]
    assert all(count_words(paragraph) > SHORT_WORDS for paragraph in release.paragraphs)


def test_strip_removes_a_menu_item_unique_to_the_page_but_keeps_a_short_title(
        corpus: dict[str, list[str]], model: Boilerplate) -> None:
    lines = corpus["yemen-aden-fr.txt"]
    kept = strip_boilerplate(lines, model)
    # the title sits between two boilerplate lines, just like the menu item
    title = lines.index("Yémen : des migrants bloqués à Aden")
    assert model.is_boilerplate(lines[title - 1]) and model.is_boilerplate(lines[title + 1])
    assert "Rapport mondial 2015" in lines and "Rapport mondial 2015" not in kept
    assert kept[0] == "Yémen : des migrants bloqués à Aden"
    assert kept[1] == "28 mai 2015"
    assert kept[-1].startswith("Pour plus d'informations")
    for tag in ["Yémen", "Urgences", "Corne de l'Afrique"]:
        assert tag in lines and tag not in kept


def test_short_trailing_line_is_kept_by_strip_but_not_a_paragraph(
        corpus: dict[str, list[str]], model: Boilerplate) -> None:
    lines = corpus["niger-agadez-fr.txt"]
    assert strip_boilerplate(lines, model)[-1] == "Photo : © OIM 2014"
    assert release_from_dump(lines, model).paragraphs[-1].startswith("Pour plus d'informations")


@pytest.mark.parametrize(("name", "variant"), [(n, v) for n, vs in VARIANTS.items() for v in vs])
def test_variant_lines_still_match(
        name: str, variant: str, corpus: dict[str, list[str]], model: Boilerplate) -> None:
    assert variant.strip() in corpus[name], "the fixture no longer holds this variant"
    assert model.is_boilerplate(variant)
    assert variant.strip() not in strip_boilerplate(corpus[name], model)


@pytest.mark.parametrize(("a", "b"), [
    ("Qui sommes nous", "  qui\tsommes\u00a0 NOUS  "),
    ("Conditions d'utilisation", "Conditions d’utilisation"),
    ("L'OIM", "L‘OIM"),
    ('« Restez informé »', '"Restez informé"'),
    ("«Restez informé»", "« Restez informé »"),
    ("Qui sommes-nous ?", "Qui sommes-nous\u202f?"),
    ("Accueil – Actualités", "Accueil - Actualités"),
    ("Données et recherche", "Donne\u0301es et recherche"),  # decomposed accent
])
def test_normalise_line_folds_whitespace_quotes_and_case(a: str, b: str) -> None:
    assert normalise_line(a) == normalise_line(b)


def test_normalise_line_keeps_different_lines_apart() -> None:
    assert normalise_line("Qui sommes nous") != normalise_line("Qui sommes-nous")
    assert normalise_line("Actualités") != normalise_line("Actualites")


def test_split_lines_handles_bom_crlf_and_nul(corpus: dict[str, list[str]]) -> None:
    assert (DUMPS / "haiti-camps-fr.txt").read_bytes().startswith(b"\xef\xbb\xbfPasser")
    lines = corpus["haiti-camps-fr.txt"]
    assert lines[0] == "Passer au contenu principal"
    assert not any("\r" in line or "\ufeff" in line for line in lines)
    assert lines[:20] == read_dump(SEED)[:20]  # the same menu as in a file with LF endings
    assert split_lines("\ufeffA\x00ccueil\r\n\r\n\t \r\nTitre\rTexte\n") == ["Accueil", "Titre", "Texte"]
    assert split_lines("") == []


def test_nothing_learned_from_two_pages(corpus: dict[str, list[str]]) -> None:
    two = learn_boilerplate(list(corpus.values())[:2])
    assert two.lines == frozenset() and two.pages == 2
    assert learn_boilerplate(corpus.values(), min_pages=7).lines == frozenset()
    # with nothing learned nothing is stripped
    assert strip_boilerplate(corpus[SEED], two) == corpus[SEED]


def test_threshold_counts_distinct_pages() -> None:
    pages = [[f"page {i}"] for i in range(10)]
    for page in pages[:3]:
        page.append("trois")
    pages[0].extend(["une seule"] * 5)
    for page in pages[:2]:
        page.append("deux")
    model = learn_boilerplate(pages)
    # 0.3 * 10 pages is 3.0000000000000004 in floating point: 3 pages must still be enough
    assert model.lines == frozenset({"trois"})
    assert learn_boilerplate(pages, min_share=0.5).lines == frozenset()
    assert learn_boilerplate(pages, min_share=0.2, min_pages=2).lines == frozenset({"trois", "deux"})


@pytest.mark.parametrize("kwargs", [{"min_share": 1.5}, {"min_share": -0.1}, {"min_pages": 0}])
def test_learn_rejects_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        learn_boilerplate([["a"]] * 3, **kwargs)


def test_only_boilerplate_raises(corpus: dict[str, list[str]], model: Boilerplate) -> None:
    lines = corpus[SEED]
    navigation = [line for line in lines if model.is_boilerplate(line)]
    assert strip_boilerplate(navigation, model) == []
    with pytest.raises(ValueError, match="nothing left after removing boilerplate"):
        release_from_dump(navigation, model)
    # the real page without its release: only a tag is left (kept as a plausible title), no paragraph
    title, body = release_part(lines)
    chrome = [line for line in lines if line != title and line not in body]
    assert strip_boilerplate(chrome, model) == ["Gestion des migrations"]
    with pytest.raises(ValueError, match="no paragraphs left after the title"):
        release_from_dump(chrome, model)
    with pytest.raises(ValueError, match="nothing left"):
        release_from_dump([], model)


def test_release_without_title_or_paragraphs_raises(model: Boilerplate) -> None:
    prose = "Cette phrase est un paragraphe et non un titre, car elle se termine par un point."
    with pytest.raises(ValueError, match="no title"):
        release_from_dump(["Accueil", prose, "Restez informé"], model)
    with pytest.raises(ValueError, match="no title"):
        release_from_dump(["11 juin 2013", "Date de publication :"], model)
    with pytest.raises(ValueError, match="no paragraphs"):
        release_from_dump(["Un titre de communiqué", "11 juin 2013", "Libye"], model)


def test_release_skips_dates_and_a_repeated_title() -> None:
    empty = Boilerplate(frozenset(), pages=0)
    text = "L'OIM ouvre un bureau à Tripoli pour aider les migrants en détention."
    release = release_from_dump(["Publié le 4 mars 2014", "Un bureau à Tripoli", "Un bureau à Tripoli",
                                 "12 mars 2013", text, "Fin"], empty)
    assert release.title == "Un bureau à Tripoli"
    assert release.paragraphs == [text]


@pytest.mark.parametrize("line", [
    "11 juin 2013", "Mardi 24 septembre 2013", "Lundi, 30 juin 2014", "Publié le 4 mars 2014",
    "Date de publication : 2 décembre 2016", "1er août 2015", "24 sept. 2013", "juin 2013",
    "Posted: Monday, 30 June 2014", "June 30, 2014", "30th June 2014", "Jun. 30, 2014 10:30 am",
    "12 de marzo de 2024", "lunes, 12 de marzo del 2024", "Publicado el 3 de abril de 2019",
    "١١ يونيو ٢٠١٣", "الاثنين، 30 يونيو 2014", "11 حزيران 2013", "11 كانون الثاني 2013",
    "30/06/2014", "2014-06-30",
])
def test_looks_like_date(line: str) -> None:
    assert looks_like_date(line)


@pytest.mark.parametrize("line", [
    "Structure", "Mars", "2013", "Rapport mondial 2015", "Genève, 2 décembre 2016",
    "Le 12 mars 2013, l'OIM a ouvert un bureau à Tripoli.", "Marzo de lluvias",
    "Posted: Monday, 30 June 2014 by the press office of IOM Libya",
])
def test_looks_like_date_rejects(line: str) -> None:
    assert not looks_like_date(line)


WORDS = ["Accueil", "actualités", "Qui", "sommes", "nous", "l’OIM", "migrants.", "«", "–", "Libye", "2013",
         "aide;", "?", "juin"]
LINE = st.integers(0, 35).flatmap(
    lambda n: st.lists(st.sampled_from(WORDS), min_size=n, max_size=n).map(" ".join))


@st.composite
def dump_and_model(draw: st.DrawFn) -> tuple[list[str], Boilerplate]:
    lines = draw(st.lists(LINE, max_size=30))
    flags = draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines)))
    extra = draw(st.lists(LINE, max_size=3))
    learned = {normalise_line(line) for line, flag in zip(lines, flags, strict=True) if flag}
    return lines, Boilerplate(frozenset(learned | {normalise_line(line) for line in extra}), pages=3)


@settings(database=None)
@given(dump_and_model())
def test_strip_keeps_order_and_long_lines(case: tuple[list[str], Boilerplate]) -> None:
    lines, model = case
    kept = strip_boilerplate(lines, model)
    remaining = iter(lines)
    assert all(any(line == candidate for candidate in remaining) for line in kept), "reordered"
    long_lines = [line for line in lines if count_words(line) >= KEEP_WORDS]
    assert [line for line in kept if count_words(line) >= KEEP_WORDS] == long_lines
    # what goes is boilerplate or a short line, never anything else
    survivors = iter(kept)
    pending = next(survivors, None)
    for line in lines:
        if line == pending:
            pending = next(survivors, None)
        else:
            assert model.is_boilerplate(line) or count_words(line) <= SHORT_WORDS


def test_a_dump_without_a_date_is_a_release_with_the_date_unknown(
        corpus: dict[str, list[str]], model: Boilerplate) -> None:
    from archive.cleaning.clean import Capture
    from archive.cleaning.clean_text import clean_text_dump
    from archive.cleaning.vocab import load_vocabulary

    vocab = load_vocabulary()
    dated = Capture(url="http://127.0.0.1/seed", site="t", body="\n".join(corpus[SEED]),
                    content_type="text/plain")
    release, problem = clean_text_dump(dated, model, vocab)
    assert (problem, release.published, release.date_source) == (None, "2013-06-11", "text")
    undated = Capture(url="http://127.0.0.1/seed", site="t", content_type="text/plain",
                      body="\n".join(line for line in corpus[SEED] if line != "11 juin 2013"))
    release, problem = clean_text_dump(undated, model, vocab)
    assert (problem, release.published, release.date_source) == (None, None, None)
    assert release.title == SEED_TITLE
