"""The citation Copy buttons in a real browser (issue 12): with scripts they copy the citation's
text to the clipboard and say so; without scripts there is no button, and the citation is plain
text a reader can select. The server and browser are test_browser.py's fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PressroomServer
from tests.test_browser import ARTIFACTS, browser  # noqa: F401  (the shared chromium fixture)
from tests.webapp_fixtures import build_archive


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
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
            page.wait_for_function("document.querySelector('.copy-status').textContent !== ''")
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
