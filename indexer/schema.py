"""The index schema, its version, and where an index lives in the data directory.

Text goes to one title and one body field per language, each with that language's analyzer,
titles weighing more (resolve.text_fields() names them). The facets, declared in
interface.FACETS, are keyword fields. The schema version is written beside the index; an
index of another version is refused with the command that rebuilds it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from archive.layout import DataDir
from indexer.analysis import LANGUAGES, language_analyzer, plain_analyzer
from indexer.errors import IndexMissing, IndexVersionError
from indexer.interface import FACETS as FACETS
from indexer.resolve import text_fields as text_fields

SCHEMA_VERSION = 4   # 2: Arabic words with harakat are one token; 3: capture date, date source;
#                      4: the word list of titles and bodies (WORDS.json), names not stemmed
VERSION_FILE = "PRESSROOM_SCHEMA"
TITLE_BOOST = 2.5


def build_schema(single_analyzer: bool = False) -> Schema:
    """Return the schema; `single_analyzer` makes the baseline (one plain analyzer for all)."""
    fields: dict[str, Any] = {
        "id": ID(stored=True, unique=True),
        "family": ID(stored=True),
        "url": STORED(),
        "title": STORED(),
        "body": STORED(),
        "published": STORED(),
        "captured": STORED(),
        "date_source": STORED(),
        "pubdate": NUMERIC(int, bits=32, stored=False, sortable=True, signed=False),
        "version": STORED(),
        "content_hash": STORED(),
        "countries": STORED(),
        "themes": STORED(),
        "projects": STORED(),
        "lang": STORED(),
    }
    for facet in FACETS:
        fields[facet] = KEYWORD(commas=True, lowercase=False, scorable=False, stored=False)
    for language in LANGUAGES:
        analyzer = plain_analyzer() if single_analyzer else language_analyzer(language)
        fields[f"title_{language}"] = TEXT(analyzer=analyzer, field_boost=TITLE_BOOST, phrase=True)
        fields[f"body_{language}"] = TEXT(analyzer=analyzer, phrase=True)
    return Schema(**fields)


def index_path(data_dir: Path) -> Path:
    """Return the index path of a data directory (a symlink to the live index folder)."""
    return DataDir(data_dir).index


def write_version(directory: Path) -> None:
    """Record the schema version of a freshly created index."""
    (directory / VERSION_FILE).write_text(f"{SCHEMA_VERSION}\n")


def check_version(directory: Path) -> None:
    """Refuse an index that is missing or of another schema version, saying what to run."""
    if not directory.exists() or not whoosh_index.exists_in(str(directory)):
        raise IndexMissing(f"no index in {directory}: run `pressroom index`")
    try:
        found = int((directory / VERSION_FILE).read_text().strip())
    except (OSError, ValueError):
        found = 0
    if found != SCHEMA_VERSION:
        raise IndexVersionError(
            f"the index in {directory} has schema version {found or 'unknown'}, this Pressroom "
            f"needs {SCHEMA_VERSION}: run `pressroom index --rebuild`")


def live_directory(data_dir: Path) -> Path:
    """Resolve the index symlink to the folder that holds the live index."""
    link = index_path(data_dir)
    return Path(os.path.realpath(link))
