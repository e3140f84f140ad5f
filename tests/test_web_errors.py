"""Domain errors carry their HTTP status and one handler answers them: a bad page number is 400
everywhere, a missing index 503 with what to run, a damaged archive 500 without its paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.catalogue_rows import DATABASE_VARIABLE, copy_archive, execute
from tests.webapp_fixtures import build_archive
from webapp import create_app

LIFTED = {"SEARCH_BURST": 1000.0, "EXPORT_BURST": 1000.0, "PAGE_BURST": 1000.0, "TESTING": True}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("errors") / "data"
    build_archive(data)
    return data


def client_for(data_dir: Path) -> FlaskClient:
    return create_app({"DATA_DIR": str(data_dir), **LIFTED}).test_client()


@pytest.mark.parametrize("path", ["/", "/api/search", "/feed.atom", "/export.csv", "/export.jsonl"])
@pytest.mark.parametrize("page", ["abc", "", "1.5"])
def test_a_page_that_is_not_a_number_is_400_everywhere(data_dir: Path, path: str, page: str) -> None:
    response = client_for(data_dir).get(f"{path}?q=migrants&page={page}")
    assert response.status_code == 400
    assert "page must be a number" in response.get_data(as_text=True)


def test_no_index_is_503_saying_what_to_run(tmp_path: Path) -> None:
    client = client_for(tmp_path / "empty")
    for path in ("/?q=migrants", "/api/search?q=migrants", "/feed.atom?q=x", "/export.csv?q=x"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "pressroom index" in response.get_data(as_text=True), path


def test_a_damaged_archive_is_500_without_its_paths(data_dir: Path, tmp_path: Path, second_database: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "data"
    copy_archive(data_dir, copy, second_database)
    monkeypatch.setenv(DATABASE_VARIABLE, second_database)
    execute(copy, "UPDATE versions SET warc_file = 'gone.warc.gz'")
    client = client_for(copy)
    (hit,) = client.get("/api/search?q=Albergues").get_json()["results"]
    response = client.get(f"/archive/{hit['id']}/raw")
    assert response.status_code == 500
    assert "gone.warc.gz" not in response.get_data(as_text=True)
    assert str(copy) not in response.get_data(as_text=True)
