"""`pressroom serve`: the web app behind gunicorn, read-only, one process per core.

Python runs one thread at a time per process, so a single process uses one core; gunicorn's
worker processes use them all. Each worker is a gevent one (webapp/worker.py): a connection
waiting on a slow or idle client costs a greenlet, not one of a few threads, under deadlines
for headers and for each socket read or write. Each worker builds its own app, searchers and
caches after the fork.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any

import click

from archive.cli_common import common_options, settings_from
from archive.errors import ArchiveError
from archive.settings import Settings


class PressroomServer:
    """A gunicorn application that serves create_app(settings) in every worker."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        from gunicorn.app.base import BaseApplication

        outer = self
        self.settings = settings
        self.options = options

        class Application(BaseApplication):  # type: ignore[misc]
            settings = outer.settings        # for the worker's timeouts

            def load_config(self) -> None:
                for key, value in outer.options.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                from webapp import create_app

                return create_app(settings=outer.settings)

        self.application = Application()

    def run(self) -> None:
        """Serve until SIGTERM or Ctrl-C."""
        self.application.run()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True,
              help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=min(2, os.cpu_count() or 1),
              show_default="2, or 1 on a one-core machine",
              help="Worker processes: one per core serves the most searches.")
@common_options
def serve(host: str, port: int, workers: int, config_file: str | None, data_dir: str | None,
          log_level: str | None) -> None:
    """Serve the search pages, the API and the feeds. Reads the index; never writes it."""
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    metrics_dir = None
    if workers > 1:
        # before prometheus_client is first imported: workers then share their search metrics
        metrics_dir = tempfile.mkdtemp(prefix="pressroom-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    from webapp import create_app

    try:
        create_app(settings=settings)      # fail here, with one line, rather than in every worker
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
    web = settings.web
    options = {
        "bind": f"{host}:{port}", "workers": workers,
        "worker_class": "webapp.worker.PressroomWorker", "worker_connections": web.max_connections,
        # keep-alive on, though its seconds go unused: the worker bounds each request's headers,
        # and a kept-alive connection's wait for its next request, by web.header_timeout
        "keepalive": 5, "timeout": 60, "graceful_timeout": 20,
        "limit_request_line": 8190, "limit_request_fields": 100,
        "loglevel": level if level in ("debug", "info", "warning", "error") else "warning",
        "accesslog": None, "proc_name": "pressroom", "control_socket_disable": True,
    }
    click.echo(f"Pressroom on http://{host}:{port}/ ({workers} workers x {web.max_connections} "
               f"connections, data in {settings.data_dir})", err=True)
    options["post_worker_init"] = _warm
    if metrics_dir:
        options["child_exit"] = _worker_exited
    try:
        PressroomServer(settings, options).run()
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _warm(worker: Any) -> None:
    """Load the index's per-generation data before the worker takes its first request."""
    from indexer.errors import IndexerError
    from webapp import searcher

    try:
        searcher(worker.wsgi).warm()
    except IndexerError as exc:       # no index yet: pages say so; nothing to warm
        worker.log.warning("not warmed: %s", exc)


def _worker_exited(server: Any, worker: Any) -> None:
    """Let the shared metrics forget a worker's live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
