"""A release's archived original in Chromium, with the network limited to the app.

The sample site's release is crawled (with its requisites) and served by `pressroom serve`;
every request to another host is aborted and counted: the replay must be styled by the
archived stylesheet, show the archived logo, and make no request elsewhere.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.catalogue_rows import rows
from tests.conftest import SAMPLE_SITE, PressroomServer, SampleSite, _start_server, run_process
from tests.test_browser import ARGS, CHROMIUM, shot

RELEASE = "/news/iom-closes-start-programme-north-africa-and-reviews-lessons-learned"


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory, module_database: str
             ) -> Iterator[tuple[str, str]]:
    if not (SAMPLE_SITE / "serve.py").exists():
        pytest.skip(f"acceptance test needs the sample site at {SAMPLE_SITE}, which is absent")
    data = tmp_path_factory.mktemp("replay") / "data"
    site = SampleSite(*_start_server([sys.executable, str(SAMPLE_SITE / "serve.py"), "--port", "0"]))
    try:
        # the release alone (depth 0) and its requisites: seconds, not the whole site
        result = run_process("crawl", site.url.rstrip("/") + RELEASE, "--delay", "0", "--data-dir",
                           str(data), env={"PRESSROOM_CRAWL_KEEP_ALIVE": "false",
                                           "PRESSROOM_CRAWL_MAX_DEPTH": "0"})
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr
    [(rid,)] = rows(data, "SELECT release_id FROM cleaned WHERE is_release = 1")
    [(requisites,)] = rows(data, "SELECT COUNT(*) FROM requisites")
    assert requisites >= 2
    served = PressroomServer(data)
    yield served.url, rid
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


def test_archived_original_is_styled_and_shows_images_from_the_archive_alone(
        browser: Any, archived: tuple[str, str], tmp_path: Path) -> None:
    app, rid = archived
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    elsewhere: list[str] = []
    own: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(app + "/"):
            own.append(url)
            request_route.continue_()
        else:
            elsewhere.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.goto(f"{app}/release/{rid}/original?lang=en")
    frame = page.wait_for_selector("iframe.archived").content_frame()
    frame.wait_for_load_state("load")
    header = frame.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
    assert header == "rgb(0, 51, 160)"  # .site-header{background:#0033a0} of the archived style.css
    widths = frame.evaluate("[...document.images].map(i => i.complete ? i.naturalWidth : -1)")
    assert widths and all(w > 0 for w in widths), widths
    assert any("/file/" in u for u in own)  # the stylesheet and logo came from the app
    shot(page, "archived-original-replay")
    context.close()
    assert elsewhere == []


def test_links_to_unarchived_pages_are_marked(archived: tuple[str, str]) -> None:
    import urllib.request

    app, rid = archived
    with urllib.request.urlopen(f"{app}/archive/{rid}/replay") as reply:
        html = reply.read().decode()
        csp = reply.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp
    assert "data-pressroom-leaves=" in html
    assert "<script" not in html
    assert 'href="http' not in html and 'src="http' not in html
