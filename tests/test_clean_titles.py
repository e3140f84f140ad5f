"""Titles on the generic path: the page's metadata title without its site's name, page rules first.

Pages are hand-written in the shapes real newsrooms use (WordPress entry headers, og:title with
" | Site", Japanese "：Site"); bench/real_pages measures the same rules on real pages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.cleaning.clean import Capture, clean_page
from archive.cleaning.title import shared_core, strip_site
from archive.cleaning.vocab import PageRules, Vocabulary, load_vocabulary

URL = "https://www.dailystar.example/2024/03/12/floods-hit-dhaka"
BODY = "".join(f"<p>Paragraph {i} of the story: teams reached the flooded districts by boat and "
               f"handed out water, food and tarpaulins to the families who lost their homes.</p>"
               for i in range(4))
REAL_PAGES = Path(__file__).resolve().parent.parent / "bench" / "real_pages"


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def page(head: str = "", body: str = "", lang: str = "en") -> str:
    return (f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>{head}</head><body>"
            f"{body or '<main><article>' + BODY + '</article></main>'}</body></html>")


def title(html: str, vocab: Vocabulary, url: str = URL, rules: list[PageRules] | None = None) -> str:
    return clean_page(Capture(url=url, site="test", body=html), vocab, rules)[0].title


def test_og_title_loses_the_site_name_of_og_site_name(vocab: Vocabulary) -> None:
    head = ('<meta property="og:site_name" content="The Daily Star">'
            '<meta property="og:title" content="Floods hit Dhaka | The Daily Star">')
    assert title(page(head), vocab) == "Floods hit Dhaka"


def test_site_name_known_from_the_host_alone(vocab: Vocabulary) -> None:
    head = '<meta property="og:title" content="Floods hit Dhaka - DailyStar.example">'
    assert title(page(head), vocab) == "Floods hit Dhaka"
    head = '<meta property="og:title" content="Floods hit Dhaka :: Daily Star Online">'
    assert title(page(head), vocab) == "Floods hit Dhaka"


def test_japanese_full_width_colon_suffix(vocab: Vocabulary) -> None:
    head = ('<meta property="og:site_name" content="日本経済新聞 電子版">'
            '<meta property="og:title" content="米朝首脳直通電話 トランプ戦術の成否：日本経済新聞">')
    assert title(page(head, lang="ja"), vocab, "https://www.nikkei.example/article/1") == (
        "米朝首脳直通電話 トランプ戦術の成否")


def test_real_title_parts_after_a_dash_stay(vocab: Vocabulary) -> None:
    head = "<title>Floods hit Dhaka - the toll rises to 40 - The Daily Star</title>"
    assert title(page(head), vocab) == "Floods hit Dhaka - the toll rises to 40"
    assert strip_site("Lyon - Marseille: the derby - Sport", ["Le Progrès"]) == (
        "Lyon - Marseille: the derby - Sport")


def test_site_name_holding_a_separator_is_taken_off_whole(vocab: Vocabulary) -> None:
    head = ('<meta property="og:site_name" content="Graiul - Cotidian independent al județului">'
            '<meta property="og:title" content="Cabană vândută - Graiul - Cotidian independent al '
            'județului">')
    assert title(page(head, lang="ro"), vocab, "https://www.graiul.example/2022/x") == "Cabană vândută"


def test_headline_in_an_article_header_is_found(vocab: Vocabulary) -> None:
    # WordPress: the headline and its date sit in the article's own <header class="entry-header">
    body = ("<header class='site-header'><p class='site-title'>The Daily Star</p></header>"
            "<main><article><header class='entry-header'><h1 class='entry-title'>Floods hit Dhaka"
            "</h1><time datetime='2024-03-12'>12 March 2024</time></header>"
            f"<div class='entry-content'>{BODY}</div></article></main>")
    assert title(page("<title>The Daily Star</title>", body), vocab) == "Floods hit Dhaka"
    body = body.replace("<main><article>", "<div><div class='post'>").replace(
        "</article></main>", "</div></div>")
    assert title(page("<title>The Daily Star</title>", body), vocab) == "Floods hit Dhaka"


def test_metadata_title_comes_before_a_differing_headline(vocab: Vocabulary) -> None:
    # as trafilatura, Readability and Media Cloud read it: the title the publisher declares
    head = '<meta property="og:title" content="Dhaka floods: 40 dead as rivers burst">'
    body = f"<main><article><h1>Rivers burst their banks in Dhaka</h1>{BODY}</article></main>"
    assert title(page(head, body), vocab) == "Dhaka floods: 40 dead as rivers burst"


def test_label_added_to_the_headline_is_dropped(vocab: Vocabulary) -> None:
    head = '<meta property="og:title" content="Opinion | What the Fed could learn from Canada">'
    body = f"<main><article><h1>What the Fed could learn from Canada</h1>{BODY}</article></main>"
    assert title(page(head, body), vocab) == "What the Fed could learn from Canada"
    assert shared_core("News | Floods hit Dhaka", ["News"]) == "News | Floods hit Dhaka"


def test_same_words_keep_the_headline_typography(vocab: Vocabulary) -> None:
    head = '<meta property="og:title" content="Faker\'s fourth title">'
    body = f"<main><article><h1>Faker’s fourth title</h1>{BODY}</article></main>"
    assert title(page(head, body), vocab) == "Faker’s fourth title"


def test_og_title_that_is_only_the_site_name_is_skipped(vocab: Vocabulary) -> None:
    head = ('<meta property="og:site_name" content="The Daily Star">'
            '<meta property="og:title" content="The Daily Star">')
    body = f"<main><article><h1>Floods hit Dhaka</h1>{BODY}</article></main>"
    assert title(page(head, body), vocab) == "Floods hit Dhaka"


def test_escaped_json_ld_headline_is_read_as_text(vocab: Vocabulary) -> None:
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", '
            '"headline": "Dhaka floods&#58; the toll rises"}</script><title>Home</title>')
    assert title(page(head), vocab) == "Dhaka floods: the toll rises"


def test_page_rule_title_comes_first(vocab: Vocabulary) -> None:
    head = '<meta property="og:title" content="Something else entirely">'
    body = f"<main><article><div class='headline'>Floods hit Dhaka</div>{BODY}</article></main>"
    rule = PageRules(name="test", match="div.headline", title="div.headline")
    assert title(page(head, body), vocab, rules=[rule]) == "Floods hit Dhaka"


def test_section_label_between_title_and_site_is_dropped(vocab: Vocabulary) -> None:
    # "Title - Section - Site": the section is one the page declares (keywords, article:section)
    head = ('<meta name="keywords" content="dhaka news, bangladesh news, weather">'
            '<meta property="og:title" content="Floods hit Dhaka - Bangladesh News - Daily Star">')
    assert title(page(head), vocab) == "Floods hit Dhaka"
    head = ('<meta property="article:section" content="Politique">'
            '<meta property="og:title" content="Politique | Le budget est adopté | Le Quotidien">')
    url = "https://www.lequotidien.example/a/1"
    assert title(page(head, lang="fr"), vocab, url) == "Le budget est adopté"


def test_keyword_before_the_title_is_its_topic_and_stays(vocab: Vocabulary) -> None:
    head = ('<meta name="keywords" content="Паводок в Дакке, Бангладеш">'
            '<meta property="og:title" content="Паводок в Дакке - число жертв растёт">')
    assert title(page(head, lang="ru"), vocab) == "Паводок в Дакке - число жертв растёт"
    head = ('<meta name="keywords" content="Floods">'
            '<meta property="og:title" content="Floods hit Dhaka - the toll rises to 40">')
    assert title(page(head), vocab) == "Floods hit Dhaka - the toll rises to 40"


@pytest.mark.parametrize(("lang", "site", "full", "expected"), [
    ("zh", "新华网", "暴雨袭击达卡 四十人遇难-新华网", "暴雨袭击达卡 四十人遇难"),
    ("zh", "新浪网", "暴雨袭击达卡 四十人遇难_新浪网", "暴雨袭击达卡 四十人遇难"),
    ("zh", "人民网", "暴雨袭击达卡——人民网", "暴雨袭击达卡"),
    ("ja", "デイリースター", "ダッカで洪水、40人死亡 ー デイリースター", "ダッカで洪水、40人死亡"),
    ("ja", "デイリースター", "【デイリースター】ダッカで洪水、40人死亡", "ダッカで洪水、40人死亡"),
    ("ja", "Daily Star", "ダッカで洪水、40人死亡｜デイリー・スター（Daily Star）公式",
     "ダッカで洪水、40人死亡"),
    ("ko", "데일리스타", "다카 홍수로 40명 사망 | 데일리스타", "다카 홍수로 40명 사망"),
    ("ar", "الديلي ستار", "فيضانات في دكا - الديلي ستار", "فيضانات في دكا"),
    ("es", "Diario del Sur", "Inundaciones en Dhaka « Diario del Sur", "Inundaciones en Dhaka"),
    ("fr", "Le Quotidien", "Crues à Dacca : 40 morts – Le Quotidien", "Crues à Dacca : 40 morts"),
])
def test_site_name_comes_off_in_any_script(vocab: Vocabulary, lang: str, site: str, full: str,
                                           expected: str) -> None:
    # only <title> and og:site_name: the site's name is known from the page, not from its host
    head = f'<meta property="og:site_name" content="{site}"><title>{full}</title>'
    assert title(page(head, lang=lang), vocab, "https://www.example.org/2024/03/12/x") == expected


def test_cjk_separators_leave_latin_hyphens_and_unnamed_parts_alone() -> None:
    assert strip_site("C-Voter predicts a win - Times", ["times"]) == "C-Voter predicts a win"
    assert strip_site("新型コロナ-東京で100人", ["デイリースター"]) == "新型コロナ-東京で100人"
    assert strip_site("Floods hit Dhaka (update)", ["dailystar"]) == "Floods hit Dhaka (update)"
    assert strip_site("Floods hit Dhaka (Daily Star)", ["dailystar"]) == "Floods hit Dhaka"


def test_twitter_handle_names_the_site(vocab: Vocabulary) -> None:
    head = ('<meta name="twitter:site" content="@StarPolitics">'
            '<meta property="og:title" content="Floods hit Dhaka | Star Politics">')
    assert title(page(head), vocab) == "Floods hit Dhaka"


def test_label_before_a_colon_is_dropped_where_the_headline_lacks_it(vocab: Vocabulary) -> None:
    head = '<meta property="og:title" content="Analysis: Why Dhaka floods every year">'
    body = f"<main><article><h1>Why Dhaka floods every year</h1>{BODY}</article></main>"
    assert title(page(head, body), vocab) == "Why Dhaka floods every year"
    head = '<meta property="og:title" content="【速報】ダッカで洪水、40人死亡">'
    body = f"<main><article><h1>ダッカで洪水、40人死亡</h1>{BODY}</article></main>"
    assert title(page(head, body, lang="ja"), vocab) == "ダッカで洪水、40人死亡"
    # no other form lacks it: the colon is the headline's own
    head = '<meta property="og:title" content="Dhaka: the toll rises to 40">'
    assert title(page(head), vocab) == "Dhaka: the toll rises to 40"


def test_real_pages_title_and_language_floors() -> None:
    """The generic path on bench/real_pages keeps what this issue gained (title 36/40, language
    39/39 when measured); the floors leave room for one page either way."""
    import sys
    sys.path.insert(0, str(REAL_PAGES.parent))
    from score_real import load_truth, score_pages

    rows = [row for row in load_truth(REAL_PAGES / "truth.jsonl") if row.get("title") or row.get("language")]
    result = score_pages(rows, REAL_PAGES)["by_language"]["all"]
    (titles, n_titles), (languages, n_languages) = result["title"], result["language"]
    print(json.dumps({"title": [titles, n_titles], "language": [languages, n_languages]}))
    assert titles / n_titles >= 0.875
    assert languages / n_languages >= 0.95


# ---- the publisher's name the page declares, kept for citations and feeds (issue 12)


def publisher_of(html: str, vocab: Vocabulary) -> str | None:
    return clean_page(Capture(url=URL, site="test", body=html), vocab)[0].site_name


def test_og_site_name_is_kept_as_the_publisher_name(vocab: Vocabulary) -> None:
    head = ('<meta property="og:site_name" content="Organisation internationale pour les migrations">'
            '<meta property="og:title" content="Floods hit Dhaka">')
    assert publisher_of(page(head), vocab) == "Organisation internationale pour les migrations"


def test_json_ld_publisher_names_the_publisher_when_og_site_name_is_missing(vocab: Vocabulary) -> None:
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Floods hit Dhaka",
          "publisher": {"@type": "Organization", "name": "Daily Star &amp; Co"}}
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    assert publisher_of(page(head), vocab) == "Daily Star & Co"


def test_a_page_that_names_no_publisher_has_none_not_its_host(vocab: Vocabulary) -> None:
    assert publisher_of(page('<meta property="og:title" content="Floods hit Dhaka">'), vocab) is None
