"""The status page, the metrics endpoint, and the search-latency observation of the app.

/status shows the cached report in full: sites with their last and next runs, the index, the
archive's size, extraction problems, the pages not kept as releases and the coverage chart.
/metrics serves the Prometheus text format. Both read a report at most a few seconds old, so
they cannot be used to load the server.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any, cast

from babel.dates import format_date
from flask import Blueprint, Flask, Response, current_app, g, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from archive.errors import ArchiveError, NoArchive
from archive.status import PROBLEM_KINDS
from pressroom.status import Report, cached_report, human_bytes
from webapp import metrics, security
from webapp.coverage_svg import ChartText, coverage_chart, mini_chart
from webapp.i18n import NAMES, STRINGS, translate

bp = Blueprint("status", __name__)
SEARCH_ENDPOINTS = ("pages.search_page", "api.search")


@bp.record_once
def _install_metrics(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    metrics.install(app, lambda: cached_report(app))


@bp.before_app_request
def _start_search_timer() -> None:
    if request.endpoint in SEARCH_ENDPOINTS:
        g.search_started = time.perf_counter()


@bp.after_app_request
def _observe_search(response: Response) -> Response:
    started = g.pop("search_started", None)
    if started is not None and response.status_code not in (304, 429) and request.endpoint:
        metrics.observe_search(current_app, request.endpoint, time.perf_counter() - started)
    return response


@bp.route("/metrics")
def metrics_page() -> Response:
    """Metrics in the Prometheus text format."""
    registry: CollectorRegistry = current_app.extensions["pressroom_metrics"]
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = Response(encoder(registry), content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/status")
def status_page() -> Any:
    """The archive's status in full: runs, index, size, extraction problems and coverage."""
    security.limit(current_app, "page")
    try:
        report = cached_report(current_app)
    except ArchiveError as exc:
        if not isinstance(exc, NoArchive):  # its words may name the database: logged, not shown
            current_app.logger.error("status unavailable: %s", exc)
        error: Exception = _unavailable(str(exc) if isinstance(exc, NoArchive) else None)
        raise error from None
    ui = g.ui
    with_releases = [s.key for s in report.archive.sites if report.archive.coverage.total(s.key)]
    chosen = request.args.get("site")
    site = chosen if chosen in with_releases else None
    coverage = coverage_view(report, site, ui, chart_id="coverage-chart")
    return render_template(
        "status.html", report=report, archive=report.archive, index=report.index,
        kinds=PROBLEM_KINDS, human_bytes=human_bytes, coverage=coverage, site=site,
        problems={k: [p for p in report.archive.problems if p.kind == k] for k in PROBLEM_KINDS},
        rejections=rejections_view(report, ui),
        site_urls=[(None, translate("all_sites", ui), url_for("status.status_page", lang=ui))] +
                  [(key, key, url_for("status.status_page", site=key, lang=ui)) for key in with_releases],
        ui_urls={lang: url_for("status.status_page", site=site, lang=lang)
                 for lang in ("en", "fr", "es", "ar")})


def rejections_view(report: Report, ui: str) -> list[dict[str, Any]]:
    """Per site: pages not kept as releases, counted by reason, and the latest with their reason."""
    archive = report.archive
    view = []
    for site, kinds in archive.rejection_counts.items():
        listed = [{"url": r.url, "reason": r.reason, "kind": r.kind, "label": reason_label(r.kind, ui),
                   "captured": r.captured} for r in archive.rejected if r.site == site]
        view.append({"site": site, "total": sum(kinds.values()), "listed": listed,
                     "kinds": [{"kind": k, "label": reason_label(k, ui), "n": n} for k, n in kinds.items()]})
    return view


def reason_label(kind: str, ui: str) -> str:
    """Name a kind of rejection in the interface language (a reason we do not know, as it is)."""
    key = "rejected_" + kind.replace(" ", "-")
    return translate(key, ui) if key in STRINGS else kind


def _unavailable(message: str | None) -> Exception:
    from werkzeug.exceptions import ServiceUnavailable

    error = ServiceUnavailable()
    if message:
        error.pressroom_message = message  # type: ignore[attr-defined]
    return error


def month_name(month: str, ui: str) -> str:
    """Name a month (YYYY-MM) in the interface language, e.g. 'March 2024'."""
    return format_date(date(int(month[:4]), int(month[5:7]), 1), "LLLL y", locale=ui)


def coverage_view(report: Report, site: str | None, ui: str, chart_id: str) -> dict[str, Any]:
    """The coverage of one site (or all): months, counts by language, the chart and its words."""
    coverage = report.archive.coverage
    months, series = coverage.series(site)
    total = coverage.total(site)
    undated = coverage.undated.get(site, 0) if site else sum(coverage.undated.values())
    first, last = (month_name(months[0], ui), month_name(months[-1], ui)) if months else ("", "")
    text = ChartText(
        title=translate("coverage_chart_title", ui, site=site or translate("all_sites", ui)),
        desc=translate("coverage_chart_desc", ui, n=total, start=first, end=last),
        x_label=translate("status_month", ui), y_label=translate("releases_axis", ui),
        month_title=translate("month_count", ui, month="{month}", n="{n}"),
        languages=NAMES)
    rows = [{"month": m, "counts": [series[lang][i] for lang in series],
             "total": sum(series[lang][i] for lang in series)} for i, m in enumerate(months)]
    return {"months": months, "series": series, "total": total, "undated": undated,
            "first": first, "last": last, "rows": rows, "languages": list(series),
            "language_names": NAMES,
            "chart": coverage_chart(months, series, text, chart_id) if months else None}


@bp.app_context_processor
def _coverage_helper() -> dict[str, Any]:
    return {"coverage_mini": coverage_mini}


def coverage_mini() -> dict[str, Any] | None:
    """The compact coverage of the search page (None when there is no archive to describe)."""
    try:
        report = cached_report(current_app)
    except ArchiveError:
        return None
    ui = getattr(g, "ui", "en")
    months, series = report.archive.coverage.series()
    if not months:
        return None
    totals = [sum(values[i] for values in series.values()) for i in range(len(months))]
    first, last = month_name(months[0], ui), month_name(months[-1], ui)
    summary = translate("coverage_summary", ui, n=report.archive.releases, start=first, end=last)
    text = ChartText(title=translate("coverage", ui), desc=summary,
                     month_title=translate("month_count", ui, month="{month}", n="{n}"))
    return {"summary": summary, "chart": mini_chart(months, totals, text, "coverage-mini"),
            "url": url_for("status.status_page", lang=ui)}
