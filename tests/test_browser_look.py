"""Issue 12's look in Chromium: checkboxes and chips, the empty page, the phone's filter
toggle, 44 px targets, the histogram, versions and the Arabic pages (desktop, 390x844, Arabic).
Screenshots go to tests/artifacts/look-*.png (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PressroomServer
from tests.look_fixtures import CHANGED, build_versioned_archive
from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Iterator[str]:
    data = tmp_path_factory.mktemp("look-browser") / "data"
    build_versioned_archive(data)
    served = PressroomServer(data, env={
        "PRESSROOM_WEB_SEARCH_BURST": "1000", "PRESSROOM_WEB_PAGE_BURST": "1000",
        "PRESSROOM_CONFIG": str(data.parent / "look.toml")})
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


def open_page(browser: Any, viewport: dict[str, int], mobile: bool = False) -> Any:
    context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return page


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"look-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def rid_of(page: Any, server: str, path: str) -> str:
    page.goto(server + "/api/search?size=50")
    found = page.evaluate("JSON.parse(document.body.innerText).results")
    return next(str(r["id"]) for r in found if str(r["url"]).endswith(path))


def test_desktop_checkbox_chip_and_histogram(browser: Any, server: str) -> None:
    page = open_page(browser, DESKTOP)
    page.goto(server + "/?lang=en&q=migrants")
    assert page.locator(".filters-toggle .facet").first.is_visible()   # open beside the results
    page.check(".facet-value:has-text('Libya') input")
    page.wait_for_url("**country=LY**")
    assert "q=migrants" in page.url
    chip = page.locator("nav.chips a.chip")
    assert chip.count() == 1 and "Libya" in chip.inner_text()
    assert page.locator(".facet-value:has-text('Libya') input").is_checked()
    shot(page, "desktop-chip")
    chip.click()
    page.wait_for_load_state()
    assert "country=" not in page.url and page.locator("nav.chips").count() == 0
    page.goto(server + "/?lang=en")
    bars = page.locator("svg.histogram rect.bar")
    assert bars.count() == 3 and page.locator("svg.histogram").is_visible()
    page.locator("svg.histogram a").last.click()
    page.wait_for_url("**year=2024**")
    assert page.locator("li.hit").count() == 2
    shot(page, "desktop-histogram")
    assert page.dialogs == []
    page.context.close()


def test_empty_page_offers_one_click_removal(browser: Any, server: str) -> None:
    page = open_page(browser, DESKTOP)
    page.goto(server + "/?lang=en&q=migrants&country=GT")
    empty = page.locator(".empty")
    assert "Guatemala" in empty.inner_text() and "2 releases" in empty.inner_text()
    shot(page, "empty")
    empty.locator("a").first.click()
    page.wait_for_selector("li.hit")
    assert page.locator("li.hit").count() == 2
    page.context.close()


@pytest.mark.parametrize("ui", ["en", "ar"])
def test_phone_filters_are_a_toggle_at_the_top_with_touch_sized_targets(
        browser: Any, server: str, ui: str) -> None:
    page = open_page(browser, PHONE, mobile=True)
    page.goto(f"{server}/?lang={ui}&q=migrants&language=fr")
    shot(page, f"phone-{ui}-closed")
    toggle = page.locator(".filters-toggle > summary")
    box = toggle.bounding_box()
    heading = page.locator("#results-heading").bounding_box()
    assert box is not None and heading is not None
    assert box["y"] + box["height"] < heading["y"], "the filters come before the results"
    assert box["y"] + box["height"] < PHONE["height"], "the filters on the first screen"
    assert box["height"] >= 44
    assert not page.locator(".facet").first.is_visible()          # closed: the results come first
    hit = page.locator("li.hit").first.bounding_box()
    assert hit is not None and hit["y"] < PHONE["height"], "a result on the first screen"
    chip = page.locator("nav.chips a.chip").bounding_box()
    assert chip is not None and chip["height"] >= 44
    toggle.click()
    label = page.locator(".facet-value").first
    assert label.is_visible() and label.bounding_box()["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, f"phone-{ui}-open")
    page.context.close()


def test_arabic_release_names_dates_and_isolated_latin(browser: Any, server: str) -> None:
    page = open_page(browser, PHONE, mobile=True)
    rid = rid_of(page, server, "/fr/news/libye-sauvetage")
    page.goto(f"{server}/release/{rid}?lang=ar")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.inner_text('dd[data-field="published"]') == "12 مارس 2024"
    assert page.inner_text('dd[data-field="countries"]') == "ليبيا"
    # the French title reads left to right inside the right-to-left page
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).direction") == "ltr"
    email = page.locator(".contacts a[href^=mailto]")
    assert email.evaluate("e => getComputedStyle(e).direction") == "ltr"
    shot(page, "arabic-release")
    page.context.close()


@pytest.mark.parametrize(("ui", "viewport"), [("en", DESKTOP), ("ar", PHONE)])
def test_old_version_banner_and_word_changes(browser: Any, server: str, ui: str,
                                             viewport: dict[str, int]) -> None:
    page = open_page(browser, viewport, mobile=viewport is PHONE)
    rid = rid_of(page, server, CHANGED)
    page.goto(f"{server}/?lang={ui}&q=migrants")
    assert page.locator("li.hit .badge.updated").count() == 1
    page.goto(f"{server}/release/{rid}?v=1&lang={ui}")
    banner = page.locator(".banner.old-version")
    assert banner.is_visible()
    shot(page, f"old-version-{ui}")
    banner.locator("a").last.click()
    page.wait_for_selector(".diff")
    assert [page.locator(".diff p.changed del").nth(i).inner_text() for i in range(2)] == ["120", "third"]
    assert [page.locator(".diff p.changed ins").nth(i).inner_text() for i in range(2)] == ["124", "fourth"]
    assert page.locator(".versions-compared time").count() == 2
    shot(page, f"changes-{ui}")
    page.goto(f"{server}/release/{rid}?v=1&lang={ui}")
    banner.locator("a").first.click()
    page.wait_for_selector("article.release")
    assert page.locator(".banner.old-version").count() == 0
    page.context.close()


def test_status_lists_doubtful_contacts(browser: Any, server: str) -> None:
    page = open_page(browser, DESKTOP)
    page.goto(server + "/status?lang=en")
    row = page.locator("table.doubtful-contacts tbody tr")
    assert row.count() == 1 and "no name" in row.inner_text()
    page.locator(".status-contacts").screenshot(path=str(ARTIFACTS / "look-status-contacts.png"))
    page.context.close()
