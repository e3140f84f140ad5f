"""Status, coverage and metrics on a real archive: the sample site crawled, cleaned and indexed,
plus a planted undated release and a run still going. Expected figures come from the catalogue
itself (SQL over the fetch log, the releases as the archive yields them), never hard-coded."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from archive.capture.importer import import_paths
from archive.copy import copy_catalogue
from archive.database import Database, sqlite_url
from archive.layout import DataDir, open_archive
from archive.release import Contact, Release, release_id
from archive.settings import Settings
from archive.status import gather_status, months_between
from archive.status_sql import in_text_order
from indexer.build import rebuild
from indexer.status import index_status
from pressroom.status import cached_report
from tests.catalogue_rows import archive_settings, catalogue_of, catalogue_url, rows
from tests.conftest import crawl_sample_site, run_cli
from webapp import create_app
from webapp.i18n import translate

PLANTED_URL = "https://planted.example.org/news/undated-<script>alert('xss')</script>"
DROPPED_URL = "https://planted.example.org/news/dropped-page"
DROPPED_REASON = "a listing (7 <b>linked</b> headings)"
PLANTED_SITE = "planted"
LIVE_SITE = "live-site"


def plant(data: Path) -> None:
    """Add a release with no date, no country and a doubtful contact, a page cleaning dropped,
    and a run still going with three fetches."""
    settings = archive_settings(data)
    page = data.parent / "undated.html"
    page.write_text("<html><body><p>An undated page</p></body></html>", encoding="utf-8")
    with open_archive(settings) as (catalogue, store):
        import_paths([page], catalogue, store, PLANTED_SITE, PLANTED_URL, [])
        row = next(r for r in catalogue.versions_to_clean() if r.site == PLANTED_SITE)
        release = Release(id=release_id(row.document_url), url=PLANTED_URL, site=PLANTED_SITE,
                          language="en", title="An undated release", published=None,
                          body="Text that a page rule found, without any date.",
                          contacts=[Contact(email="press@planted.example.org")])  # no name: doubtful
        with catalogue.transaction():
            catalogue.save_cleaned(row, release, None)
        dropped = data.parent / "dropped.html"
        dropped.write_text("<html><body><h2><a href='/a'>A story</a></h2></body></html>", encoding="utf-8")
        import_paths([dropped], catalogue, store, PLANTED_SITE, DROPPED_URL, [])
        row = next(r for r in catalogue.versions_to_clean() if r.site == PLANTED_SITE)
        with catalogue.transaction():
            catalogue.save_cleaned(row, None, DROPPED_REASON)
        run_id, _ = catalogue.start_run(LIVE_SITE, os.getpid())
        with catalogue.transaction():
            for url, outcome, status, reason in (("https://live.example.org/a", "new", 200, None),
                                                 ("https://live.example.org/b", "failed", 404, "http-404"),
                                                 ("https://live.example.org/c", "failed", None, "timeout")):
                catalogue.log_fetch(run_id, url, outcome, http_status=status, reason=reason)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Path:
    data = tmp_path_factory.mktemp("status") / "data"
    crawl_sample_site(data)
    plant(data)
    rebuild(data, procs=1, catalogue_url=catalogue_url(data))
    return data


@pytest.fixture(scope="module")
def settings(data_dir: Path) -> Settings:
    return archive_settings(data_dir)


@pytest.fixture(scope="module")
def app(data_dir: Path) -> Flask:
    return create_app({"DATA_DIR": str(data_dir), "TESTING": True, "SEARCH_BURST": 1000.0})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def db(data_dir: Path) -> Iterator[Database]:
    catalogue = catalogue_of(data_dir, read_only=True)
    try:
        yield catalogue.db
    finally:
        catalogue.close()


def latest_releases(data_dir: Path) -> list[dict[str, Any]]:
    catalogue = catalogue_of(data_dir, read_only=True)
    try:
        return [r.to_json() for r in catalogue.releases()]
    finally:
        catalogue.close()


def expected_months(data_dir: Path) -> Counter[str]:
    return Counter(r["published"][:7] for r in latest_releases(data_dir) if r.get("published"))


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "lxml")


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for s in family.samples}


# -- archive and index status ------------------------------------------------------------------
def test_run_counts_and_fetch_counters_equal_the_catalogue(settings: Settings,
                                                          db: Database) -> None:
    status = gather_status(settings)
    sites = {s.key: s for s in status.sites}
    for site, runs in db.execute("SELECT site, COUNT(*) FROM runs GROUP BY site"):
        assert sites[site].run_count == runs
    crawled = db.execute("SELECT site FROM runs WHERE site LIKE '127.0.0.1-%'").fetchone()[0]
    for run in sites[crawled].runs + sites[LIVE_SITE].runs:
        by_outcome = dict(db.execute("SELECT outcome, COUNT(*) FROM fetches WHERE run_id = :id"
                                     " GROUP BY outcome", {"id": run.id}).all())
        answered = db.scalar("SELECT COUNT(*) FROM fetches WHERE run_id = :id AND http_status IS NOT"
                             " NULL", {"id": run.id})
        reasons = dict(db.execute("SELECT reason, COUNT(*) FROM fetches WHERE run_id = :id AND"
                                  " outcome = 'failed' GROUP BY reason", {"id": run.id}).all())
        assert run.fetched == answered > 0
        assert (run.new, run.changed, run.unchanged) == tuple(
            by_outcome.get(k, 0) for k in ("new", "changed", "unchanged"))
        assert run.failed == reasons
    live = sites[LIVE_SITE].runs[0]
    assert live.live and live.state == "running" and live.failed == {"http-404": 1, "timeout": 1}
    assert sites[crawled].runs[0].skipped_robots > 0 and not sites[crawled].runs[0].live


def test_coverage_months_sum_to_the_releases(settings: Settings, data_dir: Path) -> None:
    status = gather_status(settings)
    releases = latest_releases(data_dir)
    months, series = status.coverage.series()
    by_month = expected_months(data_dir)
    assert months == months_between(min(by_month), max(by_month))
    assert [sum(v[i] for v in series.values()) for i in range(len(months))] == \
        [by_month.get(m, 0) for m in months]
    assert 0 in [by_month.get(m, 0) for m in months]  # gaps are there, and shown as zero
    by_language = Counter(r["language"] for r in releases if r.get("published"))
    assert {lang: sum(v) for lang, v in series.items()} == by_language
    undated = sum(1 for r in releases if not r.get("published"))
    assert undated == 1 and status.coverage.undated == {PLANTED_SITE: 1}
    assert status.coverage.total() + undated == status.releases == len(releases)


def test_planted_extraction_problem_is_listed(settings: Settings, data_dir: Path) -> None:
    status = gather_status(settings)
    releases = latest_releases(data_dir)
    assert status.problem_counts["no-date"] == sum(1 for r in releases if not r.get("published"))
    assert status.problem_counts["no-country"] == sum(1 for r in releases if not r.get("countries"))
    assert status.problem_counts["no-body"] == sum(1 for r in releases if not r["body"].strip())
    listed = {(p.kind, p.site, p.url) for p in status.problems}
    assert ("no-date", PLANTED_SITE, PLANTED_URL) in listed
    assert ("no-country", PLANTED_SITE, PLANTED_URL) in listed


def dropped_pages(db: Database) -> list[tuple[str, str, str, str]]:
    """(site, url, latest reason, captured) of every document none of whose versions is a release."""
    rows = db.execute("SELECT c.document_id, c.version, c.site, c.is_release, c.reason, d.url, v.captured"
                      " FROM cleaned c JOIN documents d ON d.id = c.document_id JOIN versions v"
                      " ON v.document_id = c.document_id AND v.version = c.version").fetchall()
    by_document: dict[int, list[Any]] = {}
    for row in rows:
        by_document.setdefault(row[0], []).append(row)
    dropped = []
    for versions in by_document.values():
        if not any(v[3] for v in versions):
            latest = max(versions, key=lambda v: v[1])
            dropped.append((latest[2], latest[5], latest[4], latest[6]))
    return dropped


def kind_of(reason: str) -> str:
    return "error" if reason.startswith("error:") else reason.split(" (")[0]


def test_rejections_by_site_and_reason_equal_the_catalogue(settings: Settings,
                                                           db: Database) -> None:
    status = gather_status(settings, rejected_limit=5)
    dropped = dropped_pages(db)
    expected: dict[str, Counter[str]] = {}
    for site, _, reason, _ in dropped:
        expected.setdefault(site, Counter())[kind_of(reason)] += 1
    assert status.rejection_counts == {site: dict(kinds) for site, kinds in expected.items()}
    crawled = next(site for site in expected if site.startswith("127.0.0.1-"))
    assert {"not an article", "too little text"} <= set(expected[crawled])  # the sample's traps
    for site in expected:
        listed = [r for r in status.rejected if r.site == site]
        assert len(listed) == min(5, sum(expected[site].values()))
        assert [r.captured for r in listed] == sorted((r.captured for r in listed), reverse=True)
        newest = max(c for s, _, _, c in dropped if s == site)
        assert listed[0].captured == newest
        assert all((r.site, r.url, r.reason, r.captured) in dropped and r.kind == kind_of(r.reason)
                   for r in listed)
    assert (PLANTED_SITE, DROPPED_URL, DROPPED_REASON, "a listing") in {
        (r.site, r.url, r.reason, r.kind) for r in status.rejected}
    assert PLANTED_URL not in {r.url for r in status.rejected}  # a release is not a rejection


def test_index_status_reads_the_index_and_says_when_there_is_none(data_dir: Path,
                                                                 tmp_path: Path) -> None:
    found = index_status(data_dir)
    assert found.exists and found.current and found.documents == len(latest_releases(data_dir))
    assert found.bytes > 0 and found.last_commit is not None
    missing = index_status(tmp_path)
    assert not missing.exists and not missing.current and "no index yet" in (missing.problem or "")


def test_the_catalogue_size_is_its_files_or_its_tables(settings: Settings) -> None:
    status = gather_status(settings)
    here = DataDir.of(settings)
    if here.shared_database:  # the catalogue's tables and indexes; the other stores' are not counted
        tables = rows(settings, "SELECT COALESCE(SUM(pg_total_relation_size(relname::regclass)), 0)"
                                " FROM pg_stat_user_tables WHERE relname IN ('documents', 'versions',"
                                " 'fetches', 'cleaned')")[0][0]
        assert status.catalogue_bytes > tables > 0
    else:
        files = [here.catalogue, here.catalogue.with_name(here.catalogue.name + "-wal")]
        assert status.catalogue_bytes == sum(f.stat().st_size for f in files if f.exists()) > 0


def test_the_same_archive_has_the_same_status_on_sqlite_and_postgresql(
        settings: Settings, data_dir: Path, tmp_path: Path, postgres_cluster: Any) -> None:
    """The report's SQL is written twice, in each engine's dialect: both must say the same."""
    from tests.postgres import database_name

    here = DataDir.of(settings)
    if here.shared_database:  # the PostgreSQL pass: the copy goes to a SQLite file
        other = archive_settings(tmp_path / "copy", archive__database="",
                                 archive__warc_dir=str(here.warc))
    else:
        other = archive_settings(tmp_path / "copy", archive__database=postgres_cluster.new_database(),
                                 archive__warc_dir=str(here.warc))
    try:
        assert copy_catalogue(here.catalogue_url, DataDir.of(other).catalogue_url).copied > 100
        now = datetime.now(UTC)
        reports = [gather_status(s, now, problem_limit=3, rejected_limit=2).to_json()
                   for s in (settings, other)]
    finally:
        if DataDir.of(other).shared_database:
            postgres_cluster.drop_database(database_name(DataDir.of(other).catalogue_url))
    for report in reports:
        report["archive"]["catalogue_bytes"] = 0  # a SQLite file's size; nothing on PostgreSQL
    assert reports[0] == reports[1]
    assert json.dumps(reports[0]) == json.dumps(reports[1])  # in the same order, too
    report = reports[0]
    # the comparison covers every part of the report, each with something in it
    assert report["archive"]["releases"] > 10 and report["coverage"]["undated"] == {PLANTED_SITE: 1}
    assert report["problems"]["counts"]["no-date"] and report["problems"]["counts"]["no-country"]
    assert len(report["problems"]["listed"]) >= 2
    assert report["rejections"]["counts"][PLANTED_SITE] == {"a listing": 1}
    assert {r["state"] for s in report["sites"] for r in s["runs"]} >= {"done", "running"}
    assert any(r["failed"] for s in report["sites"] for r in s["runs"])
    assert report["doubtful_contacts"]["count"] > 0


def test_text_is_ordered_by_code_point_on_both_engines(tmp_path: Path, postgres_cluster: Any) -> None:
    """A PostgreSQL database made with a language's collation sorts "apple" before "Zebra" and
    ignores punctuation; the report's lists keep SQLite's order, by code point."""
    from tests.postgres import database_name

    words = ["Zebra", "apple", "a-c", "ab", "Ab", "a c"]
    query = "SELECT x FROM words ORDER BY {order}"
    sqlite = Database(sqlite_url(tmp_path / "words.sqlite"))
    sqlite.execute("CREATE TABLE words (x TEXT)")
    sqlite.execute("INSERT INTO words VALUES (:x)", [{"x": w} for w in words])
    url = postgres_cluster.new_database()
    postgresql = Database(url)
    try:
        postgresql.execute('CREATE TABLE words (x TEXT COLLATE "en-US-x-icu")')  # as en_US would
        postgresql.execute("INSERT INTO words VALUES (:x)", [{"x": w} for w in words])
        by_code_point = sorted(words)
        assert [r[0] for r in sqlite.execute(query.format(order=in_text_order(sqlite, "x")))] == \
            by_code_point
        assert [r[0] for r in postgresql.execute(query.format(order=in_text_order(postgresql, "x")))
                ] == by_code_point
        assert [r[0] for r in postgresql.execute(query.format(order="x"))] != by_code_point
    finally:
        postgresql.close()
        sqlite.close()
        postgres_cluster.drop_database(database_name(url))


# -- the command -------------------------------------------------------------------------------
def test_status_command_json_shape(data_dir: Path, db: Database) -> None:
    result = run_cli("status", "--json", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= {"generated", "sites", "archive", "problems", "coverage", "index"}
    assert report["index"]["documents"] == len(latest_releases(data_dir))
    assert report["archive"]["releases"] == len(latest_releases(data_dir))
    warc = DataDir(data_dir).warc
    assert report["archive"]["warc_bytes"] == sum(p.stat().st_size for p in warc.iterdir())
    runs = {r["id"]: r for s in report["sites"] for r in s["runs"]}
    for run_id, new in db.execute("SELECT run_id, COUNT(*) FROM fetches WHERE outcome = 'new'"
                                  " GROUP BY run_id"):
        assert runs[run_id]["new"] == new
    assert {"id", "state", "started", "seconds", "fetched", "failed"} <= set(next(iter(runs.values())))
    assert all(s["next_run"] is None or isinstance(s["next_run"], str) for s in report["sites"])
    assert PLANTED_URL in {p["url"] for p in report["problems"]["listed"]}
    rejections = report["rejections"]
    assert rejections["counts"][PLANTED_SITE] == {"a listing": 1}
    assert {"site": PLANTED_SITE, "url": DROPPED_URL, "reason": DROPPED_REASON, "kind": "a listing"
            }.items() <= next(r for r in rejections["listed"] if r["url"] == DROPPED_URL).items()
    crawled = next(s for s in rejections["counts"] if s.startswith("127.0.0.1-"))
    assert sum(rejections["counts"][crawled].values()) == \
        sum(1 for site, *_ in dropped_pages(db) if site == crawled)


def test_status_command_text_and_an_empty_data_dir(data_dir: Path, tmp_path: Path,
                                                  second_database: str) -> None:
    result = run_cli("status", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert f"no-date: {PLANTED_SITE} {PLANTED_URL}" in result.stdout
    assert f"not kept as releases, {PLANTED_SITE}: a listing 1" in result.stdout
    assert f"  {DROPPED_REASON}: {DROPPED_URL}" in result.stdout
    assert "index: " in result.stdout and "no index yet" not in result.stdout
    empty = run_cli("status", "--data-dir", str(tmp_path / "nothing"),
                    env={"PRESSROOM_ARCHIVE_DATABASE": second_database})  # an empty one
    assert empty.returncode == 0, empty.stderr
    assert "no index yet" in empty.stdout and "no catalogue yet" in empty.stdout
    assert not (tmp_path / "nothing" / "catalogue.sqlite").exists()  # read-only: created nothing


# -- the web pages -----------------------------------------------------------------------------
def test_status_page_chart_table_runs_and_problems(client: FlaskClient, data_dir: Path,
                                                  db: Database) -> None:
    response = client.get("/status")
    assert response.status_code == 200
    page = soup(response)
    by_month = expected_months(data_dir)
    months = months_between(min(by_month), max(by_month))
    svg = page.select_one("svg.coverage-chart#coverage-chart")
    assert svg is not None and svg.find("title").get_text() and svg.find("desc").get_text()
    groups = svg.select("g.month")
    assert [g["data-month"] for g in groups] == months
    assert [int(g["data-count"]) for g in groups] == [by_month.get(m, 0) for m in months]
    for group in groups:
        bars = sum(int(r["data-count"]) for r in group.select("rect.bar"))
        assert bars == int(group["data-count"])
        assert (group.select_one("rect.zero") is not None) == (bars == 0)
    rows = page.select("table.coverage-table tbody tr")
    assert {r["data-month"]: int(r.select_one("td.total").get_text()) for r in rows} == \
        {m: by_month.get(m, 0) for m in months}
    run_rows = {int(r["data-run"]): r for r in page.select("table.runs tbody tr")}
    for run_id, fetched in db.execute("SELECT run_id, COUNT(*) FROM fetches WHERE http_status IS"
                                      " NOT NULL GROUP BY run_id"):
        cell = run_rows[run_id].select_one('td[data-field="fetched"]')
        assert int(cell.get_text()) == fetched
    no_date = page.select_one('.problem-kind[data-kind="no-date"]')
    assert PLANTED_URL in [a.get_text() for a in no_date.select("a")]
    assert "<script>alert('xss')" not in response.get_data(as_text=True)
    assert page.select_one(".status-index [data-field=documents]").get_text() == \
        str(len(latest_releases(data_dir)))


def test_status_page_lists_the_pages_not_kept_as_releases(client: FlaskClient,
                                                         db: Database) -> None:
    response = client.get("/status")
    page = soup(response)
    dropped = dropped_pages(db)
    sections = {s["data-site"]: s for s in page.select(".status-rejected .rejected-site")}
    assert set(sections) == {site for site, *_ in dropped}
    for site, section in sections.items():
        counts = Counter(kind_of(reason) for s, _, reason, _ in dropped if s == site)
        rows = {r["data-kind"]: int(r.select_one("td").get_text()) for r in section.select("tbody tr")}
        assert rows == dict(counts)
        assert int(section.select_one("h3 .count").get_text()) == sum(counts.values())
    planted = sections[PLANTED_SITE]
    item = planted.select_one("ul.rejected li")
    assert item["data-kind"] == "a listing" and item.a.get_text() == DROPPED_URL
    assert item.select_one(".reason").get_text() == "A listing of other pages"
    assert DROPPED_REASON in item.get_text()
    assert "<b>linked</b>" not in response.get_data(as_text=True)  # reasons are escaped
    french = soup(client.get("/status?lang=fr")).select_one('.rejected-site[data-site="planted"]')
    assert french.select_one('tr[data-kind="a listing"] th').get_text() == "Une liste d'autres pages"


def test_release_page_says_where_the_date_came_from_or_that_it_is_unknown(
        client: FlaskClient, data_dir: Path) -> None:
    planted = next(r for r in latest_releases(data_dir) if r["url"] == PLANTED_URL)
    undated = soup(client.get(f"/release/{planted['id']}"))
    cell = undated.select_one('dd[data-field="published"]')
    assert cell.select_one(".date-unknown").get_text() == "Date unknown"
    captured = undated.select_one("dl.dates time:not([datetime=''])")
    # the capture time, as the page writes it for the interface language
    assert captured is not None and captured.get_text() in cell.get_text()
    assert undated.select_one('dd[data-field="date_source"]') is None
    dated = next(r for r in latest_releases(data_dir) if r.get("date_source"))
    page = soup(client.get(f"/release/{dated['id']}?lang=fr"))
    assert page.select_one('dd[data-field="published"] time')["datetime"] == dated["published"]
    source = page.select_one('dd[data-field="date_source"]')
    assert source["data-source"] == dated["date_source"]
    assert source.get_text() == translate(f"date_source_{dated['date_source']}", "fr") != \
        f"date_source_{dated['date_source']}"


def test_search_result_without_a_date_says_date_unknown(client: FlaskClient) -> None:
    page = soup(client.get("/?q=undated"))
    hit = next(h for h in page.select("li.hit") if "An undated release" in h.get_text())
    assert hit.select_one(".date-unknown").get_text() == "Date unknown"
    assert hit.select_one("time") is None


def test_status_page_site_choice_and_language(client: FlaskClient, db: Database) -> None:
    site = db.execute("SELECT site FROM runs WHERE site LIKE '127.0.0.1-%'").fetchone()[0]
    page = soup(client.get("/status"))
    links = {a.get_text(): a["href"] for a in page.select(".site-choice a")}
    assert site in links and PLANTED_SITE not in links  # the planted site has no dated release
    chosen = soup(client.get(links[site]))
    assert chosen.select_one(".site-choice a[aria-current]").get_text() == site
    french = soup(client.get("/status?lang=fr"))
    assert french.find("h1").get_text() == "État de l'archive"
    assert french.html["lang"] == "fr"


def test_search_page_shows_the_compact_coverage(client: FlaskClient, data_dir: Path) -> None:
    page = soup(client.get("/"))
    mini = page.select_one(".coverage-mini")
    assert mini is not None
    assert mini.select_one("a")["href"].startswith("/status")
    by_month = expected_months(data_dir)
    bars = mini.select("svg rect.month")
    assert len(bars) == len(months_between(min(by_month), max(by_month)))
    assert sum(int(b["data-count"]) for b in bars) == sum(by_month.values())
    assert str(len(latest_releases(data_dir))) in mini.get_text()


def test_status_pages_without_an_archive(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": str(tmp_path / "empty"), "TESTING": True})
    client = app.test_client()
    page = soup(client.get("/status"))
    assert page.select_one(".no-index") is not None
    samples = scrape(client)
    assert samples[("pressroom_index_current", ())] == 0
    assert samples[("pressroom_index_documents", ())] == 0


# -- metrics -----------------------------------------------------------------------------------
def test_metrics_equal_the_catalogue_and_index(client: FlaskClient, data_dir: Path,
                                               db: Database) -> None:
    samples = scrape(client)
    for site, state, n in db.execute("SELECT site, state, COUNT(*) FROM runs GROUP BY site, state"):
        assert samples[("pressroom_crawl_runs", (("site", site), ("state", state)))] == n
    logged = db.execute("SELECT r.site, f.outcome, COUNT(*) FROM fetches f JOIN runs r"
                        " ON r.id = f.run_id WHERE f.outcome IN ('new', 'changed', 'unchanged',"
                        " 'redirect', 'failed') GROUP BY r.site, f.outcome").fetchall()
    assert logged
    for site, outcome, n in logged:
        assert samples[("pressroom_pages_fetched_total", (("outcome", outcome), ("site", site)))] == n
    for site, reason, n in db.execute("SELECT r.site, f.reason, COUNT(*) FROM fetches f JOIN runs r"
                                      " ON r.id = f.run_id WHERE f.outcome = 'failed'"
                                      " GROUP BY r.site, f.reason"):
        assert samples[("pressroom_crawl_failures_total", (("reason", reason), ("site", site)))] == n
    assert samples[("pressroom_index_documents", ())] == len(latest_releases(data_dir))
    assert samples[("pressroom_index_bytes", ())] == index_status(data_dir).bytes > 0
    warc = sum(p.stat().st_size for p in DataDir(data_dir).warc.iterdir())
    assert samples[("pressroom_archive_bytes", (("part", "warc"),))] == warc
    assert samples[("pressroom_extraction_problems", (("kind", "no-date"),))] == 1


def test_search_latency_histogram_counts_searches(client: FlaskClient) -> None:
    def count(endpoint: str) -> float:
        return scrape(client).get(("pressroom_search_seconds_count", (("endpoint", endpoint),)), 0.0)

    before_api, before_page = count("api.search"), count("pages.search_page")
    assert client.get("/api/search?q=migrants").status_code == 200
    assert client.get("/api/search?q=libya").status_code == 200
    assert client.get("/?q=migrants").status_code == 200
    assert count("api.search") == before_api + 2
    assert count("pages.search_page") == before_page + 1
    client.get("/status")
    assert count("api.search") == before_api + 2  # other routes are not searches


def test_report_is_cached_briefly(app: Flask, data_dir: Path) -> None:
    assert cached_report(app) is cached_report(app)
    fresh = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "STATUS_CACHE_SECONDS": 0})
    with fresh.app_context():
        assert cached_report(fresh) is not cached_report(fresh)


def test_scheduler_state_from_schedule_json(make_settings: Any) -> None:
    schedule = pytest.importorskip("pressroom.schedule", reason="pressroom/schedule.py not there yet")
    from datetime import UTC, datetime, timedelta

    settings = make_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    assert gather_status(settings).scheduler is None
    now = datetime.now(UTC)
    state = {"pid": 4321, "state": "idle", "poll": 5.0, "heartbeat": now.isoformat()}
    schedule.write_state(settings.data_dir, state)
    found = gather_status(settings, now + timedelta(seconds=3)).scheduler
    assert found is not None and found.alive and found.pid == 4321
    assert not gather_status(settings, now + timedelta(minutes=5)).scheduler.alive  # type: ignore[union-attr]
    schedule.write_state(settings.data_dir, {**state, "state": "stopped"})
    assert not gather_status(settings, now).scheduler.alive  # type: ignore[union-attr]
    app = create_app({"DATA_DIR": str(settings.data_dir), "TESTING": True})
    assert soup(app.test_client().get("/status")).select_one("p.scheduler")["data-alive"] == "no"


def test_an_unreadable_catalogue_gives_503_without_naming_it(
        make_settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings()
    catalogue = catalogue_of(settings)
    catalogue.db.execute("ALTER TABLE cleaned RENAME TO cleaned_elsewhere")
    catalogue.close()
    app = create_app({"DATA_DIR": str(settings.data_dir), "TESTING": True})
    response = app.test_client().get("/status")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "cleaned" not in body and "sqlite" not in body.lower() and "postgresql" not in body
    assert "cannot read the catalogue" in caplog.text  # said to the operator, in the log
