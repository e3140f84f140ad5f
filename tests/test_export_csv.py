"""CSV exports (issue 12): UTF-8 with a BOM for Excel, dateline, updated and body included, a
column choice, and formula cells neutralised by one function for the web and the CLI alike."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from archive import cli_releases
from archive.release import Release
from tests.catalogue_rows import catalogue_of
from tests.webapp_fixtures import build_archive
from webapp import create_app, feeds

BOM = b"\xef\xbb\xbf"
TRAPS = {"dateline": "=HYPERLINK(\"http://evil.example\",\"Tripoli\")", "updated": "+2024-03-13",
         "donors": ["@SUM(1+1)"], "site_name": "-1 Agency", "body": "\tTabbed start.\n\nRest."}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("csv") / "data"
    build_archive(data)
    catalogue = catalogue_of(data)
    # one release as a hostile page could make it: every text field a would-be formula
    for row in catalogue.versions_to_clean(everything=True):
        text = catalogue.db.scalar("SELECT release FROM cleaned WHERE document_id = :id AND version = :v",
                                   {"id": row.document_id, "v": row.version})
        release = Release.from_json(json.loads(text))
        if release.url.endswith("/es/news/guatemala-albergues"):
            for key, value in TRAPS.items():
                setattr(release, key, value)
            with catalogue.transaction():
                catalogue.save_cleaned(row, release, None)
    catalogue.close()
    return data


@pytest.fixture
def client(data_dir: Path) -> FlaskClient:
    return create_app({"DATA_DIR": str(data_dir), "TESTING": True, "EXPORT_BURST": 1000.0}).test_client()


def rows_of(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(BOM), "Excel needs the byte order mark to read UTF-8"
    return list(csv.DictReader(io.StringIO(data[len(BOM):].decode("utf-8"))))


def test_web_csv_has_a_bom_and_the_dateline_updated_and_body(client: FlaskClient) -> None:
    rows = rows_of(client.get("/export.csv?q=migrants").data)
    assert len(rows) == 2
    assert {"dateline", "updated", "body", "permalink", "site_name"} <= set(rows[0])
    by_language = {row["language"]: row for row in rows}
    assert by_language["en"]["dateline"] == "Tripoli"
    assert by_language["en"]["body"].startswith("Tripoli – Coast guards rescued 120 migrants")
    assert by_language["fr"]["title"] == "Les garde-côtes secourent 120 migrants au large de la Libye"


def test_web_csv_takes_a_column_choice_and_names_the_columns_it_has(client: FlaskClient) -> None:
    response = client.get("/export.csv?q=migrants&columns=title,dateline,permalink")
    assert response.status_code == 200
    rows = rows_of(response.data)
    assert list(rows[0]) == ["title", "dateline", "permalink"]
    wrong = client.get("/export.csv?columns=title,colour")
    assert wrong.status_code == 400
    assert "colour" in wrong.get_data(as_text=True) and "dateline" in wrong.get_data(as_text=True)


def neutralised(row: dict[str, str]) -> None:
    assert row["dateline"] == "'" + TRAPS["dateline"]
    assert row["updated"] == "'+2024-03-13"
    assert row["donors"] == "'@SUM(1+1)"
    assert row["site_name"] == "'-1 Agency"
    assert row["body"].startswith("'\tTabbed start.")


def test_web_and_cli_csv_neutralise_formula_cells_the_same_way(client: FlaskClient, data_dir: Path,
                                                               tmp_path: Path) -> None:
    [web] = [r for r in rows_of(client.get("/export.csv?language=es").data)]
    neutralised(web)
    out = tmp_path / "releases.csv"
    result = CliRunner().invoke(cli_releases.export, ["--format", "csv", "-o", str(out),
                                                      "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    [cli] = [r for r in rows_of(out.read_bytes()) if r["language"] == "es"]
    neutralised(cli)
    assert {k: cli[k] for k in TRAPS} == {k: web[k] for k in TRAPS}
    # one function, not two copies that drift apart
    assert feeds.csv_lines is cli_releases.csv_lines


def test_cli_csv_columns(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "some.csv"
    result = CliRunner().invoke(cli_releases.export, ["--format", "csv", "--columns", "id,dateline,body",
                                                      "-o", str(out), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    rows = rows_of(out.read_bytes())
    assert list(rows[0]) == ["id", "dateline", "body"] and len(rows) == 4
    bad = CliRunner().invoke(cli_releases.export, ["--format", "csv", "--columns", "permalink",
                                                   "--data-dir", str(data_dir)])
    assert bad.exit_code != 0 and "unknown column 'permalink'" in bad.output


def test_csv_names_the_codes_in_the_readers_language(client: FlaskClient, data_dir: Path,
                                                     tmp_path: Path) -> None:
    french = {row["language"]: row for row in rows_of(client.get("/export.csv?q=migrants&lang=fr").data)}
    assert french["en"]["countries"] == "LY" and french["en"]["country_names"] == "Libye"
    assert french["fr"]["language_name"] == "Français" and french["en"]["language_name"] == "English"
    assert french["en"]["theme_names"] and french["en"]["theme_names"] != french["en"]["themes"]
    out = tmp_path / "named.csv"
    result = CliRunner().invoke(cli_releases.export, ["--format", "csv", "--columns",
                                                      "url,country_names,language_name", "-o",
                                                      str(out), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    by_url = {row["url"]: row for row in rows_of(out.read_bytes())}
    libya = next(row for url, row in by_url.items() if url.endswith("/news/libya-rescue"))
    assert libya["country_names"] == "Libya" and libya["language_name"] == "English"
