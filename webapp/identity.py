"""The organisation's restrained identity ([identity] in the settings): accent colour and logo.

Served as files rather than inline, so that the pages' CSP (style-src 'self') stays strict.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app

from archive.settings import LOGO_TYPES, IdentitySettings
from webapp.pages import bp


def _identity() -> IdentitySettings:
    return current_app.extensions["pressroom_settings"].identity  # type: ignore[no-any-return]


@bp.route("/identity.css")
def identity_css() -> Response:
    """The accent colour as a CSS variable (checked as a colour when the settings load)."""
    accent = _identity().accent
    response = Response(f":root {{ --accent: {accent}; }}\n", content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/identity/logo")
def identity_logo() -> Response:
    """The configured logo file (404 when none is configured or the file is missing)."""
    logo = _identity().logo
    path = Path(logo)
    if not logo or not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), content_type=LOGO_TYPES[path.suffix.lower()])
    response.headers["Cache-Control"] = "public, max-age=3600"
    if path.suffix.lower() == ".svg":   # an SVG is a document: no scripts from it
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
