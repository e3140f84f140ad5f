"""Feeds and exports of any search: Atom, CSV and JSON Lines (streamed), OpenSearch."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from flask import Response, current_app, g, request, stream_with_context, url_for

from archive.export import CSV_COLUMNS, ColumnError, columns_from, csv_lines
from indexer.interface import Hit
from webapp import catalogue, searcher, security
from webapp.links import set_url
from webapp.pages import _http_error, bp, request_from, run_search
from webapp.security import escape_json, plain_data

# characters XML 1.0 does not allow: one in a feed and readers reject the whole document
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

FEED_SIZE = 20
EXPORT_FIELDS = ("id", "url", "title", "published", "language", "countries", "themes", "projects")
WEB_CSV_COLUMNS = (*CSV_COLUMNS, "permalink")


def xml_text(text: str) -> str:
    r"""Text escaped for XML, without the characters XML 1.0 forbids (controls, U+FFFE...).

    >>> xml_text("a\x01b & <c>\ufffe")
    'ab &amp; &lt;c&gt;'
    """
    return escape(NOT_XML.sub("", text))


def xml_attr(text: str) -> str:
    """An XML attribute value, quoted, without the characters XML 1.0 forbids."""
    return quoteattr(NOT_XML.sub("", text))


@bp.route("/feed.atom")
def feed() -> Response:
    """An Atom feed of a search, newest first: follow "Libya + counter-trafficking"."""
    security.limit(current_app, "search")
    search = request_from(request.args, g.ui, page_size=FEED_SIZE)
    search.sort, search.page = "date", 1
    result = run_search(search)
    page_url = set_url(url_for("pages.search_page", _external=True), request.args, page=None)
    title = f"Pressroom: {search.q}" if search.q else "Pressroom: newest releases"
    updated = max((_day(h) for h in result.results), default="") or "1970-01-01"
    entries = "".join(_entry(hit) for hit in result.results)
    body = (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{xml_text(title)}</title><id>{xml_text(request.url)}</id>"
            f"<link rel=\"self\" href={xml_attr(request.url)}/>"
            f"<link rel=\"alternate\" type=\"text/html\" href={xml_attr(page_url)}/>"
            f"<updated>{xml_text(updated)}T00:00:00Z</updated><generator>Pressroom</generator>{entries}</feed>")
    return Response(body, content_type="application/atom+xml; charset=utf-8")


def _entry(hit: Hit) -> str:
    link = url_for("pages.release_page", rid=hit.id, _external=True)
    day = xml_text(_day(hit) or "1970-01-01")
    # no date found on the page: the capture date stands for <updated>, and no <published>
    published = f"<published>{day}T00:00:00Z</published>" if hit.published else ""
    categories = "".join(f"<category term={xml_attr(t)}/>" for t in [*hit.countries, *hit.themes])
    return (f"<entry><title>{xml_text(hit.title)}</title><id>{xml_text(link)}</id>"
            f"<link href={xml_attr(link)}/><link rel=\"via\" href={xml_attr(hit.url)}/>"
            f"<updated>{day}T00:00:00Z</updated>{published}"
            f"{categories}<summary>{xml_text(hit.snippet_text())}</summary></entry>")


def _day(hit: Hit) -> str:
    """The day a release counts from in a feed: its publication date, else its capture."""
    return hit.published or (hit.captured or "")[:10]


@bp.route("/export.<fmt>")
def export(fmt: str) -> Response:
    """Every result of a search as CSV or JSON Lines, streamed (no cap held in memory).

    CSV takes `columns=` (comma-separated release fields and `permalink`); by default every
    field a spreadsheet reader needs, body, dateline and updated date included.
    """
    if fmt not in ("csv", "jsonl"):
        raise _http_error(400, "export formats are csv and jsonl")
    columns: list[str] = []
    if fmt == "csv":
        try:
            columns = columns_from(request.args.get("columns"), default=WEB_CSV_COLUMNS)
        except ColumnError as exc:
            raise _http_error(400, f"columns: {exc}") from None
    security.limit(current_app, "export")
    search = request_from(request.args, g.ui)
    hits = searcher(current_app).iter_hits(search)
    first = next(hits, None)
    rows = _chain(first, hits)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        body, ctype = csv_lines((_full_record(h) for h in rows), columns), "text/csv; charset=utf-8"
    else:
        body, ctype = (escape_json(json.dumps(_record(h), ensure_ascii=False)) + "\n" for h in rows), \
            "application/x-ndjson; charset=utf-8"
    response = Response(stream_with_context(body), content_type=ctype)
    response.headers["Content-Disposition"] = f'attachment; filename="pressroom-{stamp}.{fmt}"'
    return response


def _chain(first: Hit | None, rest: Iterator[Hit]) -> Iterator[Hit]:
    if first is not None:
        yield first
        yield from rest


def _record(hit: Hit) -> dict[str, object]:
    fields: dict[str, object] = plain_data({k: getattr(hit, k) for k in EXPORT_FIELDS})
    return fields | {"permalink": url_for("pages.release_page", rid=hit.id, _external=True)}


def _full_record(hit: Hit) -> dict[str, Any]:
    """A result with the rest of its release from the catalogue (dateline, updated, body...)."""
    versions = catalogue(current_app).release_versions(hit.id)
    stored: dict[str, Any] = versions[-1].release.to_json() if versions else {}
    plain: dict[str, Any] = plain_data(stored)
    return plain | _record(hit)


@bp.route("/opensearch.xml")
def opensearch() -> Response:
    """The OpenSearch description, so browsers can add Pressroom as a search engine."""
    template = url_for("pages.search_page", _external=True) + "?q={searchTerms}"
    body = ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">'
            "<ShortName>Pressroom</ShortName><Description>Search the archive of news releases"
            "</Description><InputEncoding>UTF-8</InputEncoding>"
            f"<Url type=\"text/html\" template={xml_attr(template)}/>"
            f"<Url type=\"application/atom+xml\" template="
            f"{xml_attr(url_for('pages.feed', _external=True) + '?q={searchTerms}')}/>"
            "</OpenSearchDescription>")
    return Response(body, content_type="application/opensearchdescription+xml; charset=utf-8")
