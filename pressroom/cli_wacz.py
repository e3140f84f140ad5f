"""`pressroom wacz`: package releases with every capture as a WACZ file, for others to replay and verify.

It lives above archive/ and indexer/ because releases can be chosen by a search: ids, a site,
or the words and filters of `pressroom search`, answered by the index.
"""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli_common import common_options, settings_from
from archive.errors import ArchiveError
from archive.layout import DataDir, open_catalogue
from archive.settings import Settings
from archive.wacz import choose_releases, write_wacz
from archive.warcstore import WarcStore
from indexer.interface import SearchRequest, open_index


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--release", "release_ids", multiple=True, metavar="ID",
              help="A release id (repeatable); default: every release that the filters keep.")
@click.option("--site", help="Only this site's releases (as pressroom export --site).")
@click.option("--query", "-q", help="Releases that a search with all these words finds "
                                   "(the syntax of pressroom search).")
@click.option("--country", multiple=True, help="With a search: country code or name (repeatable).")
@click.option("--theme", multiple=True, help="With a search: theme (repeatable).")
@click.option("--project", multiple=True, help="With a search: project (repeatable).")
@click.option("--language", help="With a search: releases in this language only.")
@click.option("--year", multiple=True, help="With a search: year of publication (repeatable).")
@click.option("--from", "date_from", help="With a search: published on or after (YYYY-MM-DD).")
@click.option("--to", "date_to", help="With a search: published on or before (YYYY-MM-DD).")
@click.option("--title", default="Pressroom releases", show_default=True,
              help="Title of the package (datapackage.json, pages list).")
@common_options
def wacz(out: Path, release_ids: tuple[str, ...], site: str | None, query: str | None,
         country: tuple[str, ...], theme: tuple[str, ...], project: tuple[str, ...],
         language: str | None, year: tuple[str, ...], date_from: str | None,
         date_to: str | None, title: str, config_file: str | None, data_dir: str | None,
         log_level: str | None) -> None:
    """Write the chosen releases to OUT (a .wacz file): every capture of every version.

    The package (Web Archive Collection Zipped 1.1.1) holds one WARC file with exactly those
    captures, the requisites they are shown with (stylesheets, images, fonts, documents) and
    their requests, copied byte for byte; its CDXJ index; a page per version
    (pages/pages.jsonl: URL, capture time, title, text); datapackage.json with the sha256 of
    every file. replayweb.page and pywb open it, `wacz validate` checks it. Reads the archive
    only; safe beside a crawl.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    filters = {k: list(v) for k, v in (("country", country), ("theme", theme),
                                        ("project", project), ("year", year)) if v}
    searched = bool(query or filters or language or date_from or date_to)
    if sum((bool(release_ids), bool(site), searched)) > 1:
        raise click.UsageError("give --release IDs, --site, or a search (--query and filters), "
                               "one of them")
    if searched:
        request = SearchRequest(q=query or "", language=language, filters=filters,
                                date_from=date_from, date_to=date_to, snippets=False)
        release_ids = tuple(found_by(settings, request))
        if not release_ids:
            raise click.ClickException("the search finds no release: nothing to package")
    paths = DataDir.of(settings)
    try:
        catalogue = open_catalogue(settings, read_only=True)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    store = WarcStore(paths.warc, settings.archive.warc_prefix, settings.archive.warc_max_bytes,
                      settings.crawl.max_body_bytes)
    try:
        chosen = choose_releases(catalogue, release_ids, site)
        what = (f"the {len(chosen)} releases found by {_described(query, filters)}" if searched else
                f"releases {', '.join(chosen)}" if release_ids else
                f"every release of site {site}" if site else "every release")
        stats = write_wacz(catalogue, store, chosen, out, title,
                           f"{what}, with every capture, from the Pressroom archive")
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        catalogue.close()
    click.echo(f"wrote {out}: {stats.releases} releases, {stats.pages} pages (versions), "
               f"{stats.captures} captures, {stats.requisites} requisites, {stats.records} WARC records "
               f"({stats.warc_bytes:,} bytes)")


def found_by(settings: Settings, request: SearchRequest) -> list[str]:
    """The ids of the releases a search finds with all its words (not the relaxed matches)."""
    try:
        index = open_index(settings)
        first = index.search(request)
        wanted = first.total_all if first.total_all is not None else first.total
        ids: list[str] = []
        for hit in index.iter_hits(request):
            if len(ids) >= wanted:
                break
            ids.append(hit.id)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    return ids


def _described(query: str | None, filters: dict[str, list[str]]) -> str:
    parts = [f"{query!r}"] if query else []
    parts += [f"{k}:{','.join(v)}" for k, v in filters.items()]
    return "the search " + " ".join(parts) if parts else "the search"
