"""Server-rendered SVG charts of the archive's coverage: releases per month, stacked by language.

Inline SVG with presentation attributes only (the CSP allows no inline style or script). Every
month between the first and the last gets a group, so a month without releases shows as a zero
mark rather than a gap; each group carries a <title> with its figures for pointer and screen
reader users, and the page prints the same figures as a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = {"en": "#1f5f8b", "fr": "#b5325b", "es": "#b86e00", "ar": "#00795a"}
OTHER_COLOURS = ("#6a4c93", "#4d4d4d", "#8c564b", "#17607d")
ZERO_COLOUR = "#9a9a9a"
AXIS_COLOUR = "#555555"
FONT = 'font-family="sans-serif" font-size="11" fill="#333333"'


@dataclass(frozen=True)
class ChartText:
    """The words of a chart, already in the visitor's language."""

    title: str
    desc: str
    x_label: str = ""
    y_label: str = ""
    month_title: str = "{month}: {n}"     # tooltip of a month; {month} and {n}
    languages: dict[str, str] | None = None   # language code -> name, for the legend


def colour(language: str, order: int = 0) -> str:
    """Return the fill colour of a language's bars.

    >>> colour("fr"), colour("xx", 1)
    ('#b5325b', '#4d4d4d')
    """
    return PALETTE.get(language, OTHER_COLOURS[order % len(OTHER_COLOURS)])


def nice_ceiling(value: int) -> int:
    """Round a maximum up to an even number, or to a multiple of half a power of ten (an axis's top).

    >>> [nice_ceiling(v) for v in (0, 1, 3, 7, 12, 48, 51, 180)]
    [1, 1, 4, 8, 15, 50, 55, 200]
    """
    if value <= 1:
        return 1
    if value <= 10:
        return value + value % 2
    step = int(10 ** (len(str(value)) - 1)) // 2
    return -(-value // step) * step


def coverage_chart(months: list[str], series: dict[str, list[int]], text: ChartText,
                   chart_id: str, width: int = 720, height: int = 260) -> Markup:
    """Render a stacked bar chart of releases per month and language, with axes and a legend."""
    left, right, top, bottom = 44, 10, 10, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for values in series.values()) for i in range(len(months))]
    top_value = nice_ceiling(max(totals, default=0))
    step = plot_w / max(1, len(months))
    gap = step * 0.2 if step >= 4 else 0.0
    base = top + plot_h
    parts = [_open(chart_id, width, height, text)]
    for tick in sorted({0, top_value // 2, top_value}):
        y = base - plot_h * tick / top_value
        parts.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     f'stroke="#dddddd" stroke-width="1"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{tick}</text>')
    parts.append('<g class="bars">')
    for i, month in enumerate(months):
        x = left + i * step + gap / 2
        parts.append(f'<g class="month" data-month="{escape(month)}" data-count="{totals[i]}">'
                     f'<title>{escape(text.month_title.format(month=month, n=totals[i]))}</title>')
        if totals[i] == 0:
            parts.append(f'<rect class="zero" x="{x:.2f}" y="{base - 2:.1f}" '
                         f'width="{max(step - gap, 1):.2f}" height="2" fill="{ZERO_COLOUR}"/>')
        y = base
        for order, (language, values) in enumerate(series.items()):
            if values[i]:
                h = plot_h * values[i] / top_value
                y -= h
                parts.append(f'<rect class="bar" data-language="{escape(language)}" '
                             f'data-count="{values[i]}" x="{x:.2f}" y="{y:.2f}" '
                             f'width="{max(step - gap, 1):.2f}" height="{h:.2f}" '
                             f'fill="{colour(language, order)}"/>')
        parts.append("</g>")
    parts.append("</g>")
    parts.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" '
                 f'stroke="{AXIS_COLOUR}" stroke-width="1"/>')
    parts += _month_labels(months, left, step, base)
    parts += _legend(series, text, left, height - 10)
    if text.y_label:
        parts.append(f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" {FONT} '
                     f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">{escape(text.y_label)}</text>')
    if text.x_label:
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{base + 30}" text-anchor="middle" '
                     f'{FONT}>{escape(text.x_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def mini_chart(months: list[str], totals: list[int], text: ChartText, chart_id: str,
               width: int = 240, height: int = 40) -> Markup:
    """Render a small bar chart of releases per month (all languages together), without axes."""
    top_value = max(max(totals, default=0), 1)
    step = width / max(1, len(months))
    parts = [_open(chart_id, width, height, text)]
    for i, (month, n) in enumerate(zip(months, totals, strict=True)):
        x = i * step
        h = max((height - 2) * n / top_value, 1.0) if n else 1.0
        fill = PALETTE["en"] if n else ZERO_COLOUR
        parts.append(f'<rect class="month" data-month="{escape(month)}" data-count="{n}" '
                     f'x="{x:.2f}" y="{height - h:.2f}" width="{max(step * 0.85, 0.5):.2f}" '
                     f'height="{h:.2f}" fill="{fill}"><title>'
                     f'{escape(text.month_title.format(month=month, n=n))}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(chart_id: str, width: int, height: int, text: ChartText) -> str:
    cid = escape(chart_id)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="coverage-chart" id="{cid}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'direction="ltr" aria-labelledby="{cid}-title {cid}-desc">'
            f'<title id="{cid}-title">{escape(text.title)}</title>'
            f'<desc id="{cid}-desc">{escape(text.desc)}</desc>')


def _month_labels(months: list[str], left: int, step: float, base: float) -> list[str]:
    """Label January of each year (every month when few), thinned so labels never overlap."""
    if len(months) <= 12:
        wanted = list(range(len(months)))
    else:
        wanted = [i for i, m in enumerate(months) if m.endswith("-01")] or [0]
    every = max(1, -(-len(wanted) * 44 // max(1, int(step * len(months)))))
    labels = []
    for i in wanted[::every]:
        x = left + (i + 0.5) * step
        label = months[i] if len(months) <= 12 else months[i][:4]
        labels.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" '
                      f'stroke="{AXIS_COLOUR}"/><text x="{x:.1f}" y="{base + 16}" '
                      f'text-anchor="middle" {FONT}>{escape(label)}</text>')
    return labels


def _legend(series: dict[str, list[int]], text: ChartText, left: int, y: float) -> list[str]:
    names = text.languages or {}
    parts, x = [], float(left)
    for order, language in enumerate(series):
        name = names.get(language, language)
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" '
                     f'fill="{colour(language, order)}"/><text x="{x + 14:.1f}" y="{y:.1f}" '
                     f'{FONT}>{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts
