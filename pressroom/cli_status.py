"""The `status` command: last and next runs, index freshness, archive size, extraction problems."""

from __future__ import annotations

import json

import click

from archive.capture.pass_status import read_crawl_pass
from archive.cli_common import settings_from
from archive.errors import ArchiveError
from pressroom.status import gather_report, text_report


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--problems", type=click.IntRange(0, 10_000), default=5, show_default=True,
              help="How many releases of each extraction problem to list.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="User settings file layered over config/pressroom.toml (env PRESSROOM_CONFIG).")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="Folder of the archive and index (setting data_dir, env PRESSROOM_DATA_DIR).")
def status(as_json: bool, problems: int, config_file: str | None, data_dir: str | None) -> None:
    """Report on the archive: per site the last runs and the next one, the index's freshness,
    the archive's size and the releases whose extraction missed a date, body or country."""
    settings = settings_from(config_file, {"data_dir": data_dir})
    try:
        report = gather_report(settings, problem_limit=problems)
        crawl_pass = read_crawl_pass(settings) if report.archive.exists else None
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({**report.to_json(),
                               "crawl_pass": crawl_pass.to_json() if crawl_pass else None},
                              indent=2, ensure_ascii=False))
    else:
        lines = text_report(report, problems)
        click.echo("\n".join(lines[:1] + (crawl_pass.lines() if crawl_pass else []) + lines[1:]))
