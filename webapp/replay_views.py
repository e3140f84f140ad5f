"""Replay routes: an archived original rendered from the archive alone, with its requisites.

The page and every requisite are served with a sandboxing CSP that allows requests to this app
only: nothing the archived page names can reach the live web from a reader's browser.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, redirect, url_for

from archive.capture.urls import canonical_url
from archive.release import release_id
from archive.requisite_rows import PageRequisite, RequisiteRows
from archive.settings import Settings
from webapp import catalogue, security, warc_store
from webapp.pages import _version, bp
from webapp.replay import Resolver, rewrite_css, rewrite_page

# no scripts (sandbox without allow-scripts), requests to this app only
REPLAY_CSP = ("sandbox; default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
              "font-src 'self' data:; media-src 'self'; frame-src 'self'; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'self'")
HTML_TYPES = ("text/html", "application/xhtml+xml")


def _requisites(file: str, offset: int) -> list[PageRequisite]:
    return RequisiteRows(catalogue(current_app)).of_capture(file, offset)


def _resolver(rid: str, number: int, requisites: list[PageRequisite]) -> Resolver:
    by_url = {r.url: r.stored.id for r in requisites if r.stored is not None}
    settings: Settings = current_app.extensions["pressroom_settings"]
    cat = catalogue(current_app)

    def resource(url: str) -> str | None:
        found = by_url.get(url.split("#", 1)[0])
        return None if found is None else url_for("pages.replay_file", rid=rid, v=number, f=found)

    def page(url: str) -> str | None:
        try:
            doc_url = canonical_url(url, settings.crawl.tracking_params,
                                    settings.crawl.strip_trailing_slash)
        except ValueError:
            return None
        if cat.has_release(release_id(doc_url)):
            return url_for("pages.original_replay", rid=release_id(doc_url))
        doc_id = cat.document_id(doc_url)
        return None if doc_id is None else url_for("pages.replay_document", doc=doc_id)

    return Resolver(resource, page)


def _reply(body: bytes, content_type: str) -> Response:
    response = Response(body, content_type=content_type)
    response.headers["Content-Security-Policy"] = REPLAY_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"  # fonts load in CORS mode from the sandbox
    return response


def _content_type(headers: list[tuple[str, str]], fallback: str) -> str:
    return next((v for k, v in headers if k.lower() == "content-type"), fallback) or fallback


@bp.route("/archive/<rid>/replay")
def original_replay(rid: str) -> Any:
    """The archived original as published: styled and with its images, from the archive alone."""
    security.limit(current_app, "page")
    chosen = _version(rid)
    archived = chosen.archived
    if archived.content_type not in HTML_TYPES:
        return redirect(url_for("pages.original_raw", rid=rid, v=chosen.number))
    headers, body = warc_store(current_app).read_payload(archived.ref)
    resolver = _resolver(rid, chosen.number, _requisites(archived.ref.file, archived.ref.offset))
    page = rewrite_page(body, _content_type(headers, archived.content_type), archived.fetched_url,
                        resolver)
    return _reply(page, "text/html; charset=utf-8")


@bp.route("/archive/<rid>/file/<int:f>")
def replay_file(rid: str, f: int) -> Any:
    """One stored requisite of a release version (a stylesheet's own references rewritten)."""
    chosen = _version(rid)
    requisites = _requisites(chosen.archived.ref.file, chosen.archived.ref.offset)
    stored = next((r.stored for r in requisites if r.stored is not None and r.stored.id == f), None)
    if stored is None:
        abort(404)
    headers, body = warc_store(current_app).read_payload(stored.ref)
    content_type = _content_type(headers, stored.content_type)
    if content_type.split(";")[0].strip().lower() == "text/css":
        body = rewrite_css(body, stored.url, _resolver(rid, chosen.number, requisites).resource)
        content_type = "text/css; charset=utf-8"
    return _reply(body, content_type)


@bp.route("/archive/document/<int:doc>")
def replay_document(doc: int) -> Any:
    """The latest archived bytes of a linked document that is no release (a PDF, a listing)."""
    security.limit(current_app, "page")
    latest = catalogue(current_app).latest_version(doc)
    if latest is None:
        abort(404)
    headers, body = warc_store(current_app).read_payload(latest.ref)
    response = _reply(body, _content_type(headers, latest.content_type))
    response.headers["Content-Security-Policy"] = security.ARCHIVED_CSP
    return response


