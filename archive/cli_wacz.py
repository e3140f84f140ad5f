"""`pressroom wacz`: package releases with every capture as a WACZ file, for others to replay and verify."""

from __future__ import annotations

from pathlib import Path

import click

from archive.catalogue import Catalogue
from archive.cli_common import common_options, settings_from
from archive.errors import ArchiveError
from archive.layout import DataDir
from archive.wacz import choose_releases, write_wacz
from archive.warcstore import WarcStore


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--release", "release_ids", multiple=True, metavar="ID",
              help="A release id (repeatable); default: every release that the filters keep.")
@click.option("--site", help="Only this site's releases (as pressroom export --site).")
@click.option("--title", default="Pressroom releases", show_default=True,
              help="Title of the package (datapackage.json, pages list).")
@common_options
def wacz(out: Path, release_ids: tuple[str, ...], site: str | None, title: str,
         config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """Write the chosen releases to OUT (a .wacz file): every capture of every version.

    The package (Web Archive Collection Zipped 1.1.1) holds one WARC file with exactly those
    captures, the requisites they are shown with (stylesheets, images, fonts, documents) and
    their requests, copied byte for byte; its CDXJ index; a page per version
    (pages/pages.jsonl: URL, capture time, title, text); datapackage.json with the sha256 of
    every file. replayweb.page and pywb open it, `wacz validate` checks it. Reads the archive
    only; safe beside a crawl.
    """
    settings = settings_from(config_file, {"data_dir": data_dir, "log_level": log_level})
    if release_ids and site:
        raise click.UsageError("give --release IDs or --site, not both")
    paths = DataDir(settings.data_dir)
    if not paths.catalogue.exists():
        raise click.ClickException(f"no archive in {settings.data_dir}: run pressroom crawl first")
    catalogue = Catalogue(paths.catalogue, read_only=True)
    store = WarcStore(paths.warc, settings.archive.warc_prefix, settings.archive.warc_max_bytes,
                      settings.crawl.max_body_bytes)
    try:
        chosen = choose_releases(catalogue, release_ids, site)
        what = (f"releases {', '.join(chosen)}" if release_ids else
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
