"""Releases as CSV for spreadsheets: the columns, their cells, and formula neutralising.

One writer for `pressroom export --format csv` and the web app's /export.csv, so that both
open the same way in Excel (UTF-8 with a byte order mark) and neither lets a cell run as a
formula. JSON Lines stays the lossless export; CSV flattens lists into "; "-separated text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from babel import Locale, UnknownLocaleError

from archive.cleaning.vocab import Vocabulary
from archive.errors import ArchiveError
from archive.release import FIELDS

# Excel reads a CSV file as UTF-8 only when it starts with a byte order mark
BOM = "\ufeff"
# what a spreadsheet takes for the start of a formula (OWASP "CSV injection"); tab and carriage
# return too, as some spreadsheets drop them before looking
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# the default columns: every field but the lossless-only ones (content hash, translations)
CSV_COLUMNS = ("id", "url", "site", "site_name", "language", "language_name", "title",
               "published", "date_source", "updated", "captured", "dateline", "countries",
               "country_names", "projects", "themes", "theme_names", "donors", "contacts", "body",
               "version")
# what a person reads beside the codes: filled by `with_names` in the reader's language
NAME_COLUMNS = ("language_name", "country_names", "theme_names")


class ColumnError(ArchiveError):
    """A column asked for that the export does not have."""


def spreadsheet_safe(text: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula: prefix it with a quote.

    >>> spreadsheet_safe("=HYPERLINK(\\"http://x\\")"), spreadsheet_safe("-2 dead"), spreadsheet_safe("Libya")
    ('\\'=HYPERLINK("http://x")', "'-2 dead", 'Libya')
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    """Flatten a release field into the text of one cell (lists joined with "; "), made safe.

    >>> cell([{"acronym": "DTM", "name": "Displacement Tracking Matrix"}, {"name": "Other"}])
    'DTM; Other'
    >>> cell([{"name": "Ana Ruiz", "office": None, "email": "a@x.org", "phone": "+41 22"}])
    'Ana Ruiz, a@x.org, +41 22'
    >>> cell(None), cell(3)
    ('', '3')
    """
    if value is None:
        return ""
    if isinstance(value, list):
        return spreadsheet_safe("; ".join(_item(v) for v in value))
    return spreadsheet_safe(str(value))


def _item(value: Any) -> str:
    if not isinstance(value, Mapping):
        return str(value)
    if "acronym" in value or ("name" in value and "email" not in value):   # a project
        return str(value.get("acronym") or value.get("name") or "")
    if "language" in value:                                              # a translation
        return f"{value['language']}: {value.get('url', '')}"
    return ", ".join(str(v) for v in value.values() if v)               # a contact


def with_names(record: Mapping[str, Any], vocab: Vocabulary, language: str = "en") -> dict[str, Any]:
    """Add the names of a record's codes in `language`: its language in itself ("Français"),
    countries as CLDR names, themes as the vocabulary's labels.

    >>> from archive.cleaning.vocab import load_vocabulary
    >>> named = with_names({"language": "fr", "countries": ["LY", "XK"]}, load_vocabulary(), "es")
    >>> named["language_name"], named["country_names"]
    ('Français', ['Libia', 'Kosovo'])
    """
    locale = _locale(language)
    code = str(record.get("language") or "")
    try:
        own_name = Locale.parse(code).get_display_name(code) if code else None
    except (UnknownLocaleError, ValueError, TypeError):
        own_name = None
    countries = [str(locale.territories.get(c, c)) for c in record.get("countries") or []]
    themes = [vocab.theme_label(t, language) if t in vocab.themes else t
              for t in record.get("themes") or []]
    return {**record, "language_name": (own_name[:1].upper() + own_name[1:]) if own_name else
            record.get("language"), "country_names": countries, "theme_names": themes}


def _locale(code: str) -> Locale:
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def columns_from(spec: str | None, known: Sequence[str] = (*FIELDS, *NAME_COLUMNS, "permalink"),
                 default: Sequence[str] = CSV_COLUMNS) -> list[str]:
    """Read a comma-separated column list ("id,title,body"); empty means the default set.

    >>> columns_from("title, body")
    ['title', 'body']
    >>> columns_from("title,colour")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    archive.export.ColumnError: unknown column 'colour': the columns are id, url, site, ...
    """
    if not spec or not spec.strip():
        return list(default)
    wanted = [c.strip() for c in spec.split(",") if c.strip()]
    for name in wanted:
        if name not in known:
            raise ColumnError(f"unknown column {name!r}: the columns are {', '.join(known)}")
    return list(dict.fromkeys(wanted))


def csv_lines(records: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> Iterator[str]:
    """Yield a CSV document piece by piece: the BOM and header, then one row per record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(columns)
    for record in records:
        writer.writerow([cell(record.get(name)) for name in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
