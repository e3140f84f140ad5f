"""What the search page shows besides the results: facets with names and checkboxes, the
active filters as removable chips, what each filter costs when nothing matches, and the
results-over-time histogram of the current search (server-rendered SVG, no script).

URLs are built here, templates only print them (datasette's facets.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from indexer.interface import FACETS, SearchPage
from webapp.links import search_args, set_url, toggle_url
from webapp.names import Names

FACET_FIRST = 5      # values shown before "show more"
FACET_MORE = 40      # values behind "show more", at most
MAX_CHIPS = 12


def facet_view(path: str, args: MultiDict[str, str], result: SearchPage, names: Names
               ) -> list[dict[str, Any]]:
    """Each facet's values with a person's name for each, chosen ones first, then the rest."""
    view = []
    for facet in FACETS:
        chosen = args.getlist(facet)
        values = {v["value"]: v for v in result.facets.get(facet, [])}
        ordered = [values.get(c) or {"value": c, "label": c, "count": 0} for c in dict.fromkeys(chosen)]
        ordered += [v for v in values.values() if v["value"] not in chosen]
        shown = [{**v, "label": facet_label(facet, v["value"], v.get("label"), names),
                  "selected": v["value"] in chosen, "url": toggle_url(path, args, facet, v["value"])}
                 for v in ordered[:FACET_FIRST + FACET_MORE]]
        if shown:
            first = max(FACET_FIRST, len(set(chosen)))
            view.append({"name": facet, "values": shown[:first], "more": shown[first:]})
    return view


def facet_label(facet: str, value: str, label: str | None, names: Names) -> str:
    """Name a facet value: languages in themselves, sites as configured, the rest as indexed."""
    if facet == "language":
        return names.language(value)
    if facet == "site":
        return names.site(value)
    if facet == "country" and (not label or label == value):
        return names.country(value)
    if facet == "theme" and (not label or label == value):
        return names.theme(value)
    return label or value


def chips(path: str, args: MultiDict[str, str], facets: list[dict[str, Any]],
          t: Callable[..., str], names: Names) -> list[dict[str, Any]]:
    """The active filters, each with the URL that removes it (facet values, then dates)."""
    labels = {(f["name"], v["value"]): v["label"] for f in facets for v in [*f["values"], *f["more"]]}
    found: list[dict[str, Any]] = []
    for facet in FACETS:
        for value in dict.fromkeys(args.getlist(facet)):
            label = labels.get((facet, value)) or facet_label(facet, value, None, names)
            found.append({"facet": facet, "name": t("facet_" + facet), "label": label,
                          "url": toggle_url(path, args, facet, value)})
    for key, word in (("from", "from"), ("to", "to")):
        if args.get(key):
            found.append({"facet": key, "name": t(word), "label": names.date(args[key]),
                          "url": set_url(path, args, **{key: None, "page": None})})
    return found[:MAX_CHIPS]


def chip_args(chip: dict[str, Any]) -> MultiDict[str, str]:
    """The search's parameters once a chip's filter is removed (read back from its URL)."""
    return search_args(MultiDict(parse_qsl(urlsplit(chip["url"]).query)))


def year_bars(path: str, args: MultiDict[str, str], result: SearchPage, names: Names,
              t: Callable[..., str]) -> Markup | None:
    """An SVG histogram of the matches per year (from the year facet), each bar a filter link."""
    counts = {int(v["value"]): int(v["count"]) for v in result.facets.get("year", [])
              if str(v["value"]).isdigit()}
    if len(counts) < 2:
        return None
    years = list(range(min(counts), max(counts) + 1))
    top = max(counts.values())
    width, height, gap = 640, 72, 2
    bar = width / len(years)
    chosen = set(args.getlist("year"))
    parts = [f'<svg class="histogram" viewBox="0 0 {width} {height + 16}" role="img" '
             f'aria-labelledby="histogram-title" direction="ltr">',
             f'<title id="histogram-title">{escape(t("histogram_title"))}</title>']
    for i, year in enumerate(years):
        n = counts.get(year, 0)
        h = max(1.0, height * n / top) if n else 0.0
        x = i * bar
        label = escape(f"{year}: {names.count('releases', n)}")
        kind = "bar" if (not chosen or str(year) in chosen) else "bar other"
        rect = (f'<rect class="{kind}" x="{x + gap / 2:.1f}" y="{height - h:.1f}" '
                f'width="{bar - gap:.1f}" height="{h:.1f}"><title>{label}</title></rect>')
        # a transparent full-height target, so that short bars are easy to hit
        target = (f'<rect x="{x:.1f}" y="0" width="{bar:.1f}" height="{height}" '
                  f'fill="transparent"><title>{label}</title></rect>')
        if n:
            url = escape(toggle_url(path, args, "year", str(year)))
            parts.append(f'<a href="{url}" aria-label="{label}">{target}{rect}</a>')
        else:
            parts.append(rect)
    for year in (years[0], years[-1]):
        anchor = "start" if year == years[0] else "end"
        x = 0 if year == years[0] else width
        parts.append(f'<text x="{x}" y="{height + 13}" text-anchor="{anchor}" font-size="12" '
                     f'fill="#4a5560">{year}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
