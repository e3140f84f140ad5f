"""URLs for facet toggles, sorting and pagers, built in Python; templates only print them."""

from __future__ import annotations

from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from indexer.interface import FACETS

SEARCH_PARAMS = ("q", *FACETS, "from", "to", "sort", "page", "collapse", "lang")


def search_args(args: MultiDict[str, str]) -> MultiDict[str, str]:
    """Keep only the parameters that make up a search state."""
    kept: MultiDict[str, str] = MultiDict()
    for key in SEARCH_PARAMS:
        for value in args.getlist(key):
            if value != "":
                kept.add(key, value)
    return kept


def with_args(path: str, args: MultiDict[str, str]) -> str:
    """Join a path and parameters into a URL."""
    query = urlencode(list(args.items(multi=True)))
    return f"{path}?{query}" if query else path


def toggle_url(path: str, args: MultiDict[str, str], facet: str, value: str) -> str:
    """The URL with a facet value added (or removed if present), back on page 1."""
    new = search_args(args)
    values = new.getlist(facet)
    new.setlist(facet, [v for v in values if v != value] if value in values else [*values, value])
    new.pop("page", None)
    return with_args(path, new)


def set_url(path: str, args: MultiDict[str, str], **changes: str | None) -> str:
    """The URL with some single-valued parameters set (None removes them)."""
    new = search_args(args)
    for key, value in changes.items():
        new.pop(key, None)
        if value not in (None, ""):
            new[key] = str(value)
    return with_args(path, new)
