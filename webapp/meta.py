"""What crawlers and browsers ask of a site: /robots.txt, /sitemap.xml (paged), /favicon.ico."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, request, send_from_directory, url_for

from webapp import catalogue, security
from webapp.feeds import xml_text

bp = Blueprint("meta", __name__)

SITEMAP_URLS = 50_000           # the sitemaps protocol's limit per file
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


@bp.route("/robots.txt")
def robots() -> Response:
    """Crawl rules: release pages through the sitemap; no staff, exports, raw captures or API search.

    Search result pages only when web.robots_allow_search says so: their combinations are endless.
    """
    root = request.script_root
    settings = current_app.extensions["pressroom_settings"]
    rules = ["User-agent: *"]
    rules += [f"Disallow: {root}{path}" for path in (
        "/staff/", "/export.", "/archive/", "/release/*/original", "/api/search", "/metrics")]
    if not settings.web.robots_allow_search:
        rules += [f"Disallow: {root}/?", f"Disallow: {root}/feed.atom"]
    rules += [f"Allow: {root}/", "", f"Sitemap: {url_for('meta.sitemap', _external=True)}", ""]
    return Response("\n".join(rules), content_type="text/plain; charset=utf-8")


@bp.route("/sitemap.xml")
def sitemap() -> Response:
    """Every release's permalink; past the protocol's 50,000 URLs, an index of numbered sitemaps."""
    security.limit(current_app, "page")
    per_file: int = current_app.config.get("SITEMAP_URLS", SITEMAP_URLS)
    count = catalogue(current_app).release_count()
    if count <= per_file:
        return _urlset(0, per_file)
    entries = "".join(
        f"<sitemap><loc>{xml_text(url_for('meta.sitemap_part', number=n, _external=True))}</loc>"
        "</sitemap>" for n in range(1, -(-count // per_file) + 1))
    return _xml(f'<sitemapindex xmlns="{SITEMAP_NS}">{entries}</sitemapindex>')


@bp.route("/sitemap-<int:number>.xml")
def sitemap_part(number: int) -> Response:
    """One numbered sitemap of the index (from 1)."""
    security.limit(current_app, "page")
    per_file: int = current_app.config.get("SITEMAP_URLS", SITEMAP_URLS)
    if number < 1 or (number - 1) * per_file >= catalogue(current_app).release_count():
        abort(404)
    return _urlset((number - 1) * per_file, per_file)


def _urlset(offset: int, limit: int) -> Response:
    rows = catalogue(current_app).release_changes(offset, limit)
    entries = "".join(
        f"<url><loc>{xml_text(url_for('pages.release_page', rid=rid, _external=True))}</loc>"
        f"<lastmod>{xml_text(captured)}</lastmod></url>" for rid, captured in rows)
    return _xml(f'<urlset xmlns="{SITEMAP_NS}">{entries}</urlset>')


def _xml(body: str) -> Response:
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body,
                    content_type="application/xml; charset=utf-8")


@bp.route("/favicon.ico")
def favicon() -> Any:
    """The site's icon, where browsers look for it first."""
    response = send_from_directory(current_app.static_folder or "static", "favicon.ico",
                                   mimetype="image/vnd.microsoft.icon", max_age=7 * 86400)
    return response
