"""Pressroom web app and command line: reads the index and the archive, never writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g, request

from archive.catalogue import Catalogue
from archive.cleaning.vocab import load_vocabulary
from archive.layout import DataDir, open_catalogue
from archive.settings import Settings, load_settings
from archive.warcstore import WarcStore
from indexer.interface import SearchIndex, open_index
from webapp import caching, security
from webapp.i18n import LANGUAGES, NAMES, RTL, choose_language, translate
from webapp.names import Names


def create_app(test_config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the app for a data directory (from the settings chain unless given)."""
    app = Flask(__name__)
    app.json = security.SafeJSONProvider(app)
    data_dir = (test_config or {}).get("DATA_DIR")
    settings = settings or load_settings(overrides={"data_dir": str(data_dir) if data_dir else None})
    app.config.update(
        MAX_CONTENT_LENGTH=64 * 1024,      # no route takes a body; refuse big ones early
        SEARCH_RATE=settings.web.search_rate, SEARCH_BURST=settings.web.search_burst,
        EXPORT_RATE=settings.web.export_rate, EXPORT_BURST=settings.web.export_burst,
        PAGE_RATE=settings.web.page_rate, PAGE_BURST=settings.web.page_burst,
        RAW_MAX_BYTES=settings.web.raw_max_bytes,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.config["DATA_DIR"] = Path(settings.data_dir)
    app.extensions["pressroom_settings"] = settings
    app.extensions["pressroom_searcher"] = None
    security.install(app)

    from webapp.api import bp as api_bp
    from webapp.meta import bp as meta_bp
    from webapp.pages import bp as pages_bp
    from webapp.staff import bp as staff_bp
    from webapp.status import bp as status_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(status_bp)
    app.register_blueprint(meta_bp)
    security.check_base_path(app)

    @app.before_request
    def language() -> None:
        g.ui = choose_language(request)

    @app.after_request
    def remember_language(response: Any) -> Any:
        chosen = request.args.get("lang")
        if chosen in LANGUAGES:
            response.set_cookie("lang", chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    caching.install(app)     # after the language is chosen: validators depend on it

    @app.teardown_appcontext
    def close_catalogue(_: BaseException | None) -> None:
        catalogue = g.pop("catalogue", None)
        if catalogue is not None:
            catalogue.close()

    @app.template_filter("safe_url")
    def safe_url(url: str) -> str:
        """Only http(s) URLs become links; anything else (javascript:, data:) becomes '#'."""
        return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) else "#"

    @app.context_processor
    def helpers() -> dict[str, Any]:
        ui = getattr(g, "ui", "en")
        return {"t": lambda key, **values: translate(key, ui, **values), "ui": ui,
                "rtl": ui in RTL, "languages": NAMES, "names": names(app),
                "identity": settings.identity}

    return app


def names(app: Flask) -> Names:
    """What a person reads for the codes of this request's pages, in its interface language."""
    if "names" not in g:
        vocab = app.extensions.get("pressroom_vocab")
        if vocab is None:
            vocab = app.extensions["pressroom_vocab"] = load_vocabulary()
        g.names = Names(getattr(g, "ui", "en"), app.extensions["pressroom_settings"], vocab)
    return g.names  # type: ignore[no-any-return]


def searcher(app: Flask) -> SearchIndex:
    """The app's index, opened once per process (safe to share between threads)."""
    found: SearchIndex | None = app.extensions.get("pressroom_searcher")
    if found is None:
        found = open_index(app.config["DATA_DIR"])
        app.extensions["pressroom_searcher"] = found
    return found


def catalogue(app: Flask) -> Catalogue:
    """A read-only catalogue connection for the current request."""
    if "catalogue" not in g:
        g.catalogue = open_catalogue(app.extensions["pressroom_settings"], read_only=True)
    return g.catalogue  # type: ignore[no-any-return]


def warc_store(app: Flask) -> WarcStore:
    """The archive's WARC files, for reading archived originals."""
    settings: Settings = app.extensions["pressroom_settings"]
    return WarcStore(DataDir.of(settings).warc, settings.archive.warc_prefix,
                     settings.archive.warc_max_bytes, settings.crawl.max_body_bytes)
