"""Command-line commands of the indexer: index, search (through the interface, as any caller)."""

from __future__ import annotations

import json

import click

from archive.cli_common import common_options, lower_priority, settings_from
from archive.errors import ArchiveError
from indexer.interface import SearchPage, SearchRequest, follow_index, open_index, open_writer


@click.command()
@click.option("--rebuild", "full", is_flag=True,
              help="Build a fresh index aside and swap it in atomically.")
@click.option("--procs", type=click.IntRange(1, 8),
              help="Processes used by a rebuild  [default: index.procs, 2].")
@click.option("--follow", is_flag=True,
              help="Keep going: update the index whenever the catalogue's change sequence "
                   "moves, until SIGTERM or Ctrl-C (a search node's own index).")
@click.option("--interval", type=click.FloatRange(0.1), default=5.0, show_default=True,
              help="Seconds between two looks at the catalogue, with --follow.")
@common_options
def index(full: bool, procs: int | None, follow: bool, interval: float,
          config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """Bring the search index up to date with the archive's releases.

    Applies what changed since the last run (one writer at a time). With --rebuild, builds a
    new index beside the live one and swaps it in, so searches never see a half-built index;
    needed after a schema change. With --follow, stays running and applies each change of the
    catalogue (shared on PostgreSQL: each search node follows it into its own data dir); a
    stop waits for the update under way, and a database outage is waited out.
    """
    if full and follow:
        raise click.UsageError("--rebuild and --follow do not go together: rebuild first, "
                               "then follow")
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    try:
        lower_priority(settings.index.nice)
        if follow:
            follow_index(settings, interval, procs=procs)
            return
        writer = open_writer(settings, procs=procs)
        stats = writer.rebuild() if full else writer.update()
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(stats.summary())


@click.command()
@click.argument("query", nargs=-1)
@click.option("--country", multiple=True, help="ISO country code (repeatable: any of them).")
@click.option("--theme", multiple=True, help="Theme id (repeatable).")
@click.option("--project", multiple=True, help="Project acronym (repeatable).")
@click.option("--language", help="Search releases in this language only (en, fr, es, ar).")
@click.option("--year", multiple=True, help="Year of publication (repeatable).")
@click.option("--site", multiple=True, help="Site key (repeatable).")
@click.option("--from", "date_from", help="Published on or after (YYYY-MM-DD).")
@click.option("--to", "date_to", help="Published on or before (YYYY-MM-DD).")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Results per page.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--collapse", is_flag=True, help="One result per translation family.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@common_options
def search(query: tuple[str, ...], country: tuple[str, ...], theme: tuple[str, ...],
           project: tuple[str, ...], language: str | None, year: tuple[str, ...],
           site: tuple[str, ...], date_from: str | None, date_to: str | None, sort: str,
           limit: int, page: int, collapse: bool, as_json: bool, config_file: str | None,
           data_dir: str | None, log_level: str | None) -> None:
    """Search the releases: words, "phrases", AND/OR/NOT, -word, field:value, word*.

    An empty QUERY with filters browses the newest releases.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    filters = {k: list(v) for k, v in (("country", country), ("theme", theme),
                                        ("project", project), ("year", year), ("site", site)) if v}
    request = SearchRequest(q=" ".join(query), language=language, filters=filters,
                            date_from=date_from, date_to=date_to, sort=sort, page=page,
                            page_size=limit, collapse=collapse)
    try:
        result = open_index(settings).search(request)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    for line in summary(request.q, result):
        click.echo(line)
    for number, hit in enumerate(result.results, start=(page - 1) * limit + 1):
        mark = "~" if number > (result.total_all or 0) else " "
        click.echo(f"{number:3d}.{mark}{hit.published or '----------'} [{hit.language}] {hit.title}")
        click.echo(f"     {hit.url}")
    for facet, values in result.facets.items():
        shown = ", ".join(f"{v['label']} {v['count']}" for v in values[:8])
        if shown:
            click.echo(f"  {facet}: {shown}")


def summary(query: str, result: SearchPage) -> list[str]:
    """Say what a search did, as the search page says it: the query answered, the count of
    releases with all the words, then those with some of them."""
    lines = [f"{note}" for note in result.notes]
    if result.corrected:
        lines.append(f"nothing found for {query!r}: showing results for {result.corrected!r}")
    unit = "release" if result.total_all == 1 else "releases"
    counted = f"{result.total_all} {unit}"
    if result.relaxed:
        counted += (f" with all the words, then {result.relaxed} more with some of the words "
                    "(marked ~)")
    lines.append(f"{counted}, page {result.page}, {result.took_ms:.0f} ms")
    return lines
