"""Citation Copy buttons and the feed preview in a real browser (issue 12). With scripts the
buttons copy the citation's
text to the clipboard and say so; without scripts there is no button, and the citation is plain
text a reader can select. The server and browser are test_browser.py's fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import PressroomServer
from tests.test_browser import ARTIFACTS, browser  # noqa: F401  (the shared chromium fixture)
from tests.webapp_fixtures import build_archive


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Iterator[str]:
    data = tmp_path_factory.mktemp("browser-cite") / "data"
    build_archive(data)
    served = PressroomServer(data, env={"PRESSROOM_WEB_SEARCH_BURST": "1000"})
    yield served.url
    served.stop()


def open_release(context: Any, server: str, lang: str = "en") -> Any:
    page = context.new_page()
    page.goto(f"{server}/?lang={lang}&q=Libya")
    page.click("li.hit h3 a")
    page.wait_for_selector("#cite-apa")
    return page


def test_copy_puts_each_citation_on_the_clipboard(browser: Any, server: str) -> None:  # noqa: F811
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = open_release(context, server)
        for style in ("apa", "chicago"):
            button = page.locator(f"button.copy[data-target=cite-{style}]")
            assert button.is_visible()
            button.click()
            expect(page.locator(".copy-status")).not_to_have_text("")
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied == page.inner_text(f"#cite-{style}") and "Press release" in copied
        assert page.inner_text(".copy-status") == "Copied"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "citation-copy.png"), full_page=True)
    finally:
        context.close()


def test_without_scripts_citations_are_selectable_text_and_no_button_shows(
        browser: Any, server: str) -> None:  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{server}/?lang=fr&q=Libya")
        page.click("li.hit h3 a")
        page.wait_for_selector("#cite-apa")
        assert page.locator("button.copy").first.is_hidden()
        assert page.locator("button.copy:visible").count() == 0
        text = page.inner_text("#cite-chicago")
        assert "Communiqué de presse" in text and "mars 2024" in text
        page.click("#cite-chicago", click_count=3)   # a reader's triple click selects it
        assert page.evaluate("getSelection().toString().trim()") in text
        assert page.evaluate("getSelection().toString().trim()")
        assert page.locator("#cite-chicago").evaluate("e => getComputedStyle(e).userSelect") != "none"
    finally:
        context.close()


def test_the_feed_link_opens_a_page_that_says_how_to_follow_it(browser: Any, server: str) -> None:  # noqa: F811
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(f"{server}/?q=Libya&lang=en")
        page.click("p.tools a:has-text('feed')")
        page.wait_for_selector("h1")
        assert "feed reader" in page.inner_text("main")
        address = page.get_attribute("#feed-address", "value")
        assert address is not None and "/feed.atom?q=Libya" in address
        assert page.locator("ol.feed-entries li").count() == 2
        page.click("button.copy[data-target=feed-address]")
        expect(page.locator(".copy-status")).not_to_have_text("")
        assert page.evaluate("navigator.clipboard.readText()") == address
        feed = page.request.get(address)   # the address is the feed itself, for a reader
        assert feed.headers["content-type"].startswith("application/atom+xml")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "feed-follow.png"), full_page=True)
    finally:
        context.close()
