"""The interface in a real headless browser: Debian's chromium driven by Playwright.

Search, toggle two facets, open a release, switch to Arabic (right to left), open the archived
original and find that its scripts did not run; the XSS corpus raises no dialog anywhere.
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PressroomServer
from tests.webapp_fixtures import build_archive

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Iterator[str]:
    data = tmp_path_factory.mktemp("browser") / "data"
    build_archive(data)
    # the production server, as `pressroom serve` runs it
    served = PressroomServer(data, env={"PRESSROOM_WEB_SEARCH_BURST": "1000"})
    yield served.url
    served.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.dialogs = []
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_search_toggle_two_facets_and_open_a_release(page: Any, server: str) -> None:
    page.goto(server + "/?lang=en")
    page.fill("#q", "migrants")
    page.keyboard.press("Enter")
    page.wait_for_selector("li.hit")
    assert page.locator("li.hit").count() == 2
    shot(page, "search")
    page.check(".facet-value:has-text('Libya') input")
    page.wait_for_url("**country=LY**")
    page.check(".facet-value:has-text('Français') input")
    page.wait_for_url("**language=fr**")
    assert "country=LY" in page.url and page.locator("li.hit").count() == 1
    shot(page, "two-facets")
    page.click("li.hit h3 a")
    page.wait_for_selector("article.release h1")
    assert page.inner_text("article.release h1").startswith("Les garde-côtes secourent")
    assert page.locator("dl.dates dt", has_text="Published").count() == 1
    shot(page, "release")


def test_arabic_interface_is_right_to_left(page: Any, server: str) -> None:
    page.goto(server + "/?lang=en&q=Libya")
    page.click(".ui-languages a[lang=ar]")
    page.wait_for_selector("html[dir=rtl]")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    box = page.locator("aside.facets").bounding_box()
    results = page.locator("section.results").bounding_box()
    assert box["x"] > results["x"], "in Arabic the facets sit on the right"
    shot(page, "arabic")


def test_archived_original_scripts_do_not_run(page: Any, server: str) -> None:
    page.goto(server + "/api/search?q=flood")
    rid = page.evaluate("JSON.parse(document.body.innerText).results[0].id")
    page.goto(f"{server}/release/{rid}/original?lang=en")
    frame_element = page.wait_for_selector("iframe.archived")
    frame = frame_element.content_frame()
    frame.wait_for_load_state()
    assert "Flood relief" in frame.content()
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert "xss-from-original" not in page.title()
    assert "Archived capture of" in page.inner_text(".banner")
    shot(page, "archived-original")


def test_xss_corpus_raises_no_dialog(page: Any, server: str) -> None:
    page.goto(server + "/api/search?q=flood")
    rid = page.evaluate("JSON.parse(document.body.innerText).results[0].id")
    for path in ("/?q=flood", "/?q=relief&sort=date", f"/release/{rid}", f"/release/{rid}/original",
                 "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/?q=%22%3E%3Csvg%20onload%3Dalert(1)%3E",
                 "/nope%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"):
        page.goto(server + path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(200)
    assert page.dialogs == []
    shot(page, "xss")


def test_keyboard_reaches_the_search_box_and_results(page: Any, server: str) -> None:
    page.goto(server + "/?lang=en&q=migrants")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.tagName")
    assert focused in ("A", "INPUT", "BUTTON")


def test_usable_on_a_phone(browser: Any, server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.goto(server + "/?lang=en&q=migrants")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    shot(phone, "phone")
    context.close()


@pytest.mark.parametrize(("ui", "viewport", "all_words", "some_words"), [
    ("en", {"width": 1280, "height": 900}, "with all the words", "more with some of the words"),
    ("ar", {"width": 390, "height": 844}, "تحتوي على كل الكلمات", "أخرى تحتوي على بعض الكلمات"),
])
def test_results_say_which_have_all_the_words_and_which_query_was_answered(
        browser: Any, server: str, ui: str, viewport: dict[str, int], all_words: str,
        some_words: str) -> None:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{server}/?lang={ui}&q=rescue+boats")
    heading = page.inner_text("#results-heading")
    assert all_words in heading and some_words in heading
    assert page.locator(".relaxed-heading").is_visible()
    # the release with both words is listed first, the one with "boats" alone after the heading
    assert page.locator("ol.hits:not(.relaxed) li.hit").count() == 1
    assert page.locator("ol.hits.relaxed li.hit").count() >= 1
    shot(page, f"relaxed-{ui}")
    page.goto(f"{server}/?lang={ui}&q=Albergus")
    assert page.locator(".corrected a").inner_text() == "Albergues"
    assert page.locator("li.hit").count() >= 1
    shot(page, f"corrected-{ui}")
    context.close()
