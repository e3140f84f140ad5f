"""The web app's fixture archive with a second version of one release and a named site.

Version 2 of the English Libya release says "124" where version 1 said "120", and "fourth"
where it said "third": what a journalist must see highlighted.
"""

from __future__ import annotations

from pathlib import Path

from archive.capture.importer import import_paths
from archive.cleaning.releases import clean_versions
from archive.layout import open_archive
from archive.settings import Settings
from indexer.build import update
from tests.catalogue_rows import archive_settings, catalogue_url
from tests.webapp_fixtures import build_archive, pages

BASE = "https://news.example.org"
CHANGED = "/news/libya-rescue"
SITE_NAME = "Example Relief Agency"


def look_settings(data_dir: Path) -> Settings:
    """Settings naming the fixture's site, with an accent colour and a logo."""
    folder = data_dir.parent
    (folder / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
                                     '<rect width="10" height="10" fill="#7a1f5c"/></svg>', encoding="utf-8")
    config = folder / "look.toml"
    config.write_text(f'[identity]\nname = "Example Press Archive"\nlogo = "{folder / "logo.svg"}"\n'
                      f'accent = "#7a1f5c"\n\n[sites.example]\nname = "{SITE_NAME}"\n'
                      f'start_urls = ["{BASE}/"]\nsitemaps = []\nallow = []\ndeny = []\n'
                      'languages = ["en", "fr", "es"]\n', encoding="utf-8")
    return archive_settings(data_dir, config)


def build_versioned_archive(data_dir: Path) -> Settings:
    """The fixture archive, then a second version of one release, indexed."""
    build_archive(data_dir, BASE)
    settings = look_settings(data_dir)
    _name, html = pages(BASE)[CHANGED]
    changed = data_dir.parent / "v2.html"
    html = html.replace("The rescue is the third this month.", "The rescue is the fourth this month.")
    changed.write_text(html.replace("rescued 120 migrants", "rescued 124 migrants"), encoding="utf-8")
    with open_archive(settings) as (catalogue, store):
        import_paths([changed], catalogue, store, "example", BASE + CHANGED, [])
        clean_versions(catalogue, store, settings)
    update(data_dir, catalogue_url=catalogue_url(settings))
    return settings
