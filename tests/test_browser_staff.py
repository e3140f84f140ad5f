"""The staff pages in a real headless browser: log in, queue a crawl, see it listed.

The session cookie keeps its production flags (Secure, HttpOnly, SameSite=Lax): browsers accept a
Secure cookie from http://127.0.0.1. The screenshot goes to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from archive.settings import Settings
from pressroom.jobqueue import JobQueue
from tests.conftest import PressroomServer
from tests.test_browser import ARGS, CHROMIUM, shot
from webapp.accounts import Accounts

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff_server(make_settings: Callable[..., Settings]) -> Iterator[tuple[str, Settings]]:
    settings = make_settings()
    assert settings.staff.secure_cookies
    with Accounts.of(settings) as accounts:
        accounts.add("alice", PASSWORD)
    served = PressroomServer(settings.data_dir)
    yield served.url, settings
    served.stop()


@pytest.fixture
def page() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        opened = context.new_page()
        opened.errors = []
        opened.on("console", lambda message: message.type == "error"
                  and "Content Security Policy" in message.text and opened.errors.append(message.text))
        opened.on("response", lambda response: response.status >= 400
                  and not response.url.endswith("/favicon.ico") and opened.errors.append(response.url))
        yield opened
        context.close()
        browser.close()


def test_log_in_queue_a_crawl_and_see_it_listed(page: Any, staff_server: tuple[str, Settings]) -> None:
    server, settings = staff_server
    site = sorted(settings.sites.values(), key=lambda s: s.key)[0]

    page.goto(server + "/staff/?lang=en")
    page.wait_for_url("**/staff/login")
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("text=Logged in as alice")

    page.get_by_role("button", name=f"Crawl {site.name}").first.click()
    page.wait_for_selector(".flashes")
    assert "queued; the scheduler runs it" in page.inner_text(".flashes")
    row = page.locator("table.jobs tbody tr").first
    assert site.key in row.inner_text() and "alice" in row.inner_text()
    assert row.locator(".state").inner_text() == "queued"
    assert page.errors == [], "no CSP violation, no missing resource"
    shot(page, "staff-dashboard")

    queue = JobQueue.of(settings)
    try:
        [job] = queue.recent()
    finally:
        queue.close()
    assert (job.kind, job.site, job.requested_by, job.state) == ("crawl", site.key, "alice", "queued")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/staff/login")
    page.goto(server + "/staff/")
    page.wait_for_url("**/staff/login")
