"""Feeds and exports of any search: Atom, CSV and JSON Lines (streamed), OpenSearch."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from flask import Response, current_app, g, render_template, request, stream_with_context, url_for
from werkzeug.datastructures import MultiDict

from archive.export import CSV_COLUMNS, ColumnError, columns_from, csv_lines, with_names
from archive.release import Release
from indexer.interface import Hit
from webapp import catalogue, names, searcher, security
from webapp.citation import organisation
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
    """An Atom feed of a search, newest first: follow "Libya + counter-trafficking".

    Ids do not depend on the Host header a request came with. With web.base_url set, an
    entry's id is its release page's URL there (without ?v=) and the feed's id is the feed's
    URL with its search parameters in a fixed order. Without it, ids are name-based UUIDs
    (RFC 9562, version 5) of the release id, and of the search parameters for the feed: the
    same on every host and for ever. Browsers show the feed through feed.xsl: what it is,
    its address and how to follow it.
    """
    security.limit(current_app, "search")
    search = request_from(request.args, g.ui, page_size=FEED_SIZE)
    search.sort, search.page = "date", 1
    result = run_search(search)
    page_url = set_url(url_for("pages.search_page", _external=True), request.args, page=None)
    title = f"Pressroom: {search.q}" if search.q else "Pressroom: newest releases"
    entries = [_entry(hit) for hit in result.results]
    updated = max((when for when, _ in entries), default="1970-01-01T00:00:00Z")
    style = url_for("pages.feed_style", lang=g.ui)
    body = (f'<?xml version="1.0" encoding="utf-8"?>\n'
            f'<?xml-stylesheet type="text/xsl" href={xml_attr(style)}?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={xml_attr(g.ui)}>'
            f"<title>{xml_text(title)}</title><id>{xml_text(_feed_id())}</id>"
            f"<link rel=\"self\" type=\"application/atom+xml\" href={xml_attr(request.url)}/>"
            f"<link rel=\"alternate\" type=\"text/html\" href={xml_attr(page_url)}/>"
            f"<updated>{updated}</updated><generator>Pressroom</generator>"
            f"{''.join(text for _, text in entries)}</feed>")
    return Response(body, content_type="application/atom+xml; charset=utf-8")


def _base_url() -> str:
    settings = current_app.extensions["pressroom_settings"]
    return str(settings.web.base_url or "")


def _feed_id() -> str:
    """The feed's id: its search parameters in a fixed order, less those that do not change
    what it holds (page, sort: a feed is always the newest first; lang: its labels only)."""
    args = sorted((k, v) for k, values in request.args.lists() for v in values
                  if k not in ("page", "sort", "lang") and v)
    if _base_url():
        return set_url(url_for("pages.feed", _external=True), MultiDict(args))
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "pressroom:feed?" + urlencode(args)))


def _entry_id(rid: str) -> str:
    if _base_url():
        return url_for("pages.release_page", rid=rid, _external=True)
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"pressroom:release:{rid}"))


def _entry(hit: Hit) -> tuple[str, str]:
    """An entry of the feed, and its <updated> time (the date of the release's last version)."""
    versions = catalogue(current_app).release_versions(hit.id)
    release = versions[-1].release if versions else None
    org = _organisation(release) if release else None
    when = _timestamp(last_changed(hit, [(v.release.updated, v.archived.captured) for v in versions]))
    link = url_for("pages.release_page", rid=hit.id, _external=True)
    published = f"<published>{_timestamp(hit.published)}</published>" if hit.published else ""
    author = f"<author><name>{xml_text(org)}</name></author>" if org else ""
    named = names(current_app)
    labels = [(c, named.country(c)) for c in hit.countries] + [(t, named.theme(t)) for t in hit.themes]
    categories = "".join(f"<category term={xml_attr(term)} label={xml_attr(label)}/>"
                         for term, label in labels)
    return when, (
        f"<entry xml:lang={xml_attr(hit.language)}><title>{xml_text(hit.title)}</title>"
        f"<id>{xml_text(_entry_id(hit.id))}</id>"
        f"<link rel=\"alternate\" type=\"text/html\" href={xml_attr(link)}/>"
        f"<link rel=\"via\" href={xml_attr(hit.url)}/>"
        f"<updated>{when}</updated>{published}{author}"
        f"{categories}<summary>{xml_text(hit.snippet_text())}</summary></entry>")


def _organisation(release: Release) -> str:
    site = current_app.extensions["pressroom_settings"].sites.get(release.site)
    return organisation(release, site.name if site else None)


def last_changed(hit: Hit, versions: list[tuple[str | None, str]]) -> str:
    """When a release last changed: its update date, or the capture of a later version, else
    its publication date (else its capture, when no date was found on the page).

    >>> h = Hit(id="r", url="u", title="t", published="2024-03-12", language="en", countries=[],
    ...         themes=[], projects=[], snippet="", captured="2024-03-12T09:00:00Z")
    >>> last_changed(h, [(None, "2024-03-12T09:00:00Z")])
    '2024-03-12'
    >>> last_changed(h, [(None, "2024-03-12T09:00:00Z"), ("2024-03-14", "2024-03-15T06:00:00Z")])
    '2024-03-15T06:00:00Z'
    """
    moments = [hit.published or (hit.captured or "1970-01-01")[:10]]
    moments += [updated for updated, _ in versions if updated]
    moments += [captured for _, captured in versions[1:]]
    return max(moments, key=_timestamp)


def _timestamp(moment: str) -> str:
    """An RFC 3339 time for Atom: a day becomes its midnight UTC."""
    return f"{moment[:10]}T00:00:00Z" if len(moment) <= 10 else moment


@bp.route("/feed")
def follow_page() -> Any:
    """A page for people who open a feed link: the feed's address, how to follow it, its latest
    entries. Browsers no longer all apply feed.xsl (Chromium dropped XSLT), so the search page
    links here, and feed readers find the feed itself through this page's <link>."""
    security.limit(current_app, "search")
    search = request_from(request.args, g.ui, page_size=FEED_SIZE)
    search.sort, search.page = "date", 1
    result = run_search(search)
    return render_template(
        "follow.html", search=search, hits=result.results,
        feed_url=set_url(url_for("pages.feed", _external=True), request.args, page=None),
        search_url=set_url(url_for("pages.search_page"), request.args, page=None))


@bp.route("/feed.xsl")
def feed_style() -> Response:
    """The stylesheet that shows a feed to a browser: what a feed is and how to follow it."""
    body = render_template("feed.xsl")
    response = Response(body, content_type="text/xsl; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


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
    return with_names(plain | _record(hit), names(current_app).vocab, g.ui)


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
