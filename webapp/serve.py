"""`pressroom serve`: the web app behind a production WSGI server (waitress), read-only."""

from __future__ import annotations

import logging

import click

from archive.cli_common import common_options, settings_from
from archive.errors import ArchiveError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on.")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Worker threads (each keeps its own index searcher).")
@common_options
def serve(host: str, port: int, threads: int, config_file: str | None, data_dir: str | None,
          log_level: str | None) -> None:
    """Serve the search pages, the API and the feeds. Reads the index; never writes it."""
    import waitress

    from webapp import create_app

    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    try:
        app = create_app(settings=settings)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    logging.getLogger("waitress").setLevel(logging.WARNING)
    click.echo(f"Pressroom on http://{host}:{port}/ (data in {settings.data_dir})", err=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="Pressroom",
                   max_request_body_size=64 * 1024, clear_untrusted_proxy_headers=True)
