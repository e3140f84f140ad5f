"""Memento (RFC 7089) for archived originals: TimeMap, TimeGate, Memento-Datetime and Link.

One release captured four times at known seconds (tests/capture_history.py): every kind of
capture is a memento at a known datetime.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive.release import release_id
from tests.capture_history import BODIES, HISTORY, URL, record_history
from tests.catalogue_rows import catalogue_of
from webapp import create_app


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("memento") / "data"
    record_history(data)
    return data


@pytest.fixture
def app(data_dir: Path) -> Flask:
    return create_app({"DATA_DIR": str(data_dir), "TESTING": True, "PAGE_BURST": 1000.0})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


RID = release_id(URL)


def http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


def links(value: str) -> list[tuple[str, dict[str, str]]]:
    """Parse a Link header or a link-format body into (target, {param: value})."""
    found = []
    for match in re.finditer(r'<([^>]*)>((?:\s*;\s*[\w-]+="[^"]*")*)', value):
        params = dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(2)))
        found.append((match.group(1), params))
    return found


def by_rel(parsed: list[tuple[str, dict[str, str]]], rel: str) -> list[tuple[str, dict[str, str]]]:
    return [(url, p) for url, p in parsed if rel in p.get("rel", "").split()]


def test_the_capture_history_is_what_the_crawler_recorded(data_dir: Path) -> None:
    catalogue = catalogue_of(data_dir, read_only=True)
    captures = catalogue.release_captures(RID)
    assert [datetime.fromisoformat(c.captured) for c in captures] == [w for w, _ in HISTORY]
    assert [c.version for c in captures] == [1, 1, 2, 2]


def test_timemap_lists_every_capture_with_its_datetime(client: FlaskClient) -> None:
    response = client.get(f"/archive/{RID}/timemap")
    assert response.status_code == 200
    assert response.mimetype == "application/link-format"
    parsed = links(response.get_data(as_text=True))
    assert by_rel(parsed, "original") == [(URL, {"rel": "original"})]
    [(self_url, self_params)] = by_rel(parsed, "self")
    assert self_url.endswith(f"/archive/{RID}/timemap")
    assert self_params["type"] == "application/link-format"
    assert self_params["from"] == http_date(HISTORY[0][0])
    assert self_params["until"] == http_date(HISTORY[-1][0])
    assert len(by_rel(parsed, "timegate")) == 1
    mementos = by_rel(parsed, "memento")
    assert [p["datetime"] for _, p in mementos] == [http_date(w) for w, _ in HISTORY]
    assert by_rel(parsed, "first") == mementos[:1] and by_rel(parsed, "last") == mementos[-1:]
    for (url, params), body in zip(mementos, BODIES, strict=True):
        memento = client.get(url)
        assert memento.status_code == 200, url
        assert memento.headers["Memento-Datetime"] == params["datetime"]
        assert memento.get_data(as_text=True) == body       # a revisit shows what it repeated
        assert memento.headers["Content-Security-Policy"].startswith("sandbox;")


def test_timemap_by_original_url_is_the_same(client: FlaskClient) -> None:
    by_id = client.get(f"/archive/{RID}/timemap").get_data(as_text=True)
    by_url = client.get(f"/timemap/link/{URL}")
    assert by_url.status_code == 200 and by_url.get_data(as_text=True) == by_id
    assert client.get("/timemap/link/https://news.example.org/never-captured").status_code == 404


@pytest.mark.parametrize(("asked", "expected"), [
    (datetime(2001, 1, 1, tzinfo=UTC), 0),                  # before the first: the first
    (datetime(2024, 4, 5, 12, 0, tzinfo=UTC), 1),           # nearest is the 304 re-crawl
    (datetime(2024, 4, 20, tzinfo=UTC), 2),                 # between, nearer the change
    (datetime(2024, 5, 31, tzinfo=UTC), 3),
    (datetime(2031, 1, 1, tzinfo=UTC), 3),                  # after the last: the last
    (HISTORY[2][0], 2),                                     # exactly a capture
])
def test_timegate_sends_to_the_closest_memento(client: FlaskClient, asked: datetime,
                                               expected: int) -> None:
    for path in (f"/archive/{RID}/timegate", f"/timegate/{URL}"):
        response = client.get(path, headers={"Accept-Datetime": http_date(asked)})
        assert response.status_code == 302, path
        assert "accept-datetime" in response.headers["Vary"].lower()
        parsed = links(response.headers["Link"])
        assert by_rel(parsed, "original")[0][0] == URL
        assert by_rel(parsed, "timemap")[0][1]["type"] == "application/link-format"
        memento = client.get(response.headers["Location"])
        assert memento.headers["Memento-Datetime"] == http_date(HISTORY[expected][0])


def test_timegate_without_accept_datetime_gives_the_latest_and_refuses_a_bad_date(
        client: FlaskClient) -> None:
    latest = client.get(f"/archive/{RID}/timegate")
    assert latest.status_code == 302
    assert client.get(latest.headers["Location"]).headers["Memento-Datetime"] == \
        http_date(HISTORY[-1][0])
    assert client.get(f"/archive/{RID}/timegate",
                      headers={"Accept-Datetime": "last Tuesday"}).status_code == 400
    assert client.get("/archive/r-0000000000000000/timegate").status_code == 404


def test_each_memento_links_to_original_timegate_timemap_and_neighbours(client: FlaskClient) -> None:
    mementos = by_rel(links(client.get(f"/archive/{RID}/timemap").get_data(as_text=True)), "memento")
    urls = [url for url, _ in mementos]
    first = client.get(f"/archive/{RID}/raw?v=1")           # the version's own view is a memento too
    assert first.headers["Memento-Datetime"] == http_date(HISTORY[0][0])
    parsed = links(first.headers["Link"])
    assert by_rel(parsed, "original")[0][0] == URL
    assert by_rel(parsed, "timegate")[0][0].endswith(f"/archive/{RID}/timegate")
    assert by_rel(parsed, "timemap")[0][0].endswith(f"/archive/{RID}/timemap")
    assert [u for u, _ in by_rel(parsed, "next")] == [urls[1]]
    assert [u for u, _ in by_rel(parsed, "last")] == [urls[3]]
    assert by_rel(parsed, "prev") == [] and by_rel(parsed, "first") == []
    middle = links(client.get(urls[2]).headers["Link"])
    assert [u for u, _ in by_rel(middle, "prev")] == [urls[1]]
    assert [u for u, _ in by_rel(middle, "next")] == [urls[3]]
    assert [u for u, _ in by_rel(middle, "first")] == [urls[0]]
    assert by_rel(middle, "next")[0][1]["datetime"] == http_date(HISTORY[3][0])
    assert client.get(f"/archive/{RID}/20240401100001/raw").status_code == 404
