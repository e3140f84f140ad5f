"""The pages people use: search, a release with its versions and citation, the archived original."""

from __future__ import annotations

import dataclasses
import html
import re
from functools import partial
from typing import Any

import nh3
from flask import Blueprint, Response, abort, current_app, g, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from archive.release import ReleaseVersion, release_id
from indexer.errors import IndexMissing, IndexVersionError, QueryError
from indexer.interface import FACETS, SearchPage, SearchRequest
from webapp import catalogue, names, searcher, security
from webapp.citation import apa, chicago, citation_meta, cited, json_ld, organisation
from webapp.diff import paragraph_changes, word_changes
from webapp.i18n import translate
from webapp.links import search_args, set_url
from webapp.search_view import chip_args, chips, facet_view, year_bars

bp = Blueprint("pages", __name__)


def request_from(args: MultiDict[str, str], ui: str, page_size: int = 10) -> SearchRequest:
    """Build a search from URL parameters (the page, the API, feeds and exports share it)."""
    try:
        page = int(args.get("page", "1"))
    except ValueError:
        raise QueryError("page must be a number") from None
    return SearchRequest(
        q=args.get("q", "").strip(), filters={f: args.getlist(f) for f in FACETS if args.getlist(f)},
        date_from=args.get("from") or None, date_to=args.get("to") or None,
        sort=args.get("sort", "relevance"), page=page, page_size=page_size,
        collapse=args.get("collapse") == "1", ui_language=ui)


def run_search(search: SearchRequest) -> SearchPage:
    """Search (a missing index answers 503 and a bad query 400, through their errors' status)."""
    return searcher(current_app).search(search)


def _http_error(status: int, message: str) -> Exception:
    from werkzeug.exceptions import BadRequest, ServiceUnavailable

    error: Exception = BadRequest() if status == 400 else ServiceUnavailable()
    error.pressroom_message = message  # type: ignore[attr-defined]
    return error


def clean_snippet(snippet: str) -> str:
    """Keep only <mark> from a snippet the index escaped (defence in depth), quotes escaped too."""
    cleaned = nh3.clean(snippet, tags={"mark"}, attributes={}, url_schemes=set())
    parts = re.split(r"(</?mark>)", cleaned)
    return "".join(p if p in ("<mark>", "</mark>") else html.escape(html.unescape(p)) for p in parts)


@bp.route("/")
def search_page() -> Any:
    """The search page: one box, facets, dates, sort, pager; an empty query browses."""
    security.limit(current_app, "search")
    args = request.args
    search = request_from(args, g.ui)
    error = None
    try:
        result = searcher(current_app).search(search)
    except QueryError as exc:       # shown on the page beside the query, not as an error page
        error, result = str(exc), SearchPage(total=0, page=1, results=[], facets={})
    path = url_for("pages.search_page")
    # the releases with all the words come first; those with some of them after, apart
    start = (result.page - 1) * search.page_size
    split = max(0, min(len(result.results), (result.total_all or 0) - start))
    t = partial(translate, language=g.ui)
    shown_names = names(current_app)
    facets = facet_view(path, args, result, shown_names)
    active = chips(path, args, facets, t, shown_names)
    if not result.results and not error:
        for chip in active:     # what each filter costs: the count without it
            chip["without"] = _count(chip_args(chip))
    for hit in result.results:
        hit.snippet = clean_snippet(hit.snippet)
    pages = _pager(path, args, result, search.page_size)
    html = render_template(
        "search.html", result=result, search=search, facets=facets, pages=pages, error=error,
        chips=active, histogram=year_bars(path, args, result, shown_names, t),
        all_hits=result.results[:split], some_hits=result.results[split:],
        some_start=start + split + 1,
        corrected_url=set_url(path, args, q=result.corrected, page=None) if result.corrected else None,
        sort_urls={s: set_url(path, args, sort=s, page=None) for s in ("relevance", "date")},
        clear_url=set_url(path, MultiDict({"lang": g.ui}), q=search.q or None),
        feed_url=set_url(url_for("pages.feed"), args, page=None),
        follow_url=set_url(url_for("pages.follow_page"), args, page=None),
        export_urls={f: set_url(url_for("pages.export", fmt=f), args, page=None) for f in ("csv", "jsonl")},
        ui_urls={lang: set_url(path, args, lang=lang) for lang in ("en", "fr", "es", "ar")},
        hidden=[(k, v) for k, v in search_args(args).items(multi=True)
                if k not in ("q", "page", "from", "to", "sort", *FACETS)])
    return Response(html, status=400 if error else 200)


def _count(args: MultiDict[str, str]) -> int | None:
    """How many releases a search finds (None when it cannot run)."""
    try:
        search = dataclasses.replace(request_from(args, g.ui), page=1, page_size=1, snippets=False)
        return searcher(current_app).search(search).total
    except (QueryError, IndexMissing, IndexVersionError):
        return None


def _pager(path: str, args: MultiDict[str, str], result: SearchPage, size: int) -> dict[str, Any]:
    last = max(1, min(100, -(-result.total // size)))
    return {"current": result.page, "last": last,
            "previous": set_url(path, args, page=str(result.page - 1)) if result.page > 1 else None,
            "next": set_url(path, args, page=str(result.page + 1)) if result.page < last else None}


@bp.route("/release/<rid>")
def release_page(rid: str) -> Any:
    """A release: text, dates, metadata, translations, versions, citation, archived original."""
    security.limit(current_app, "page")
    versions, chosen = _chosen_version(rid)
    release, archived = chosen.release, chosen.archived
    number = release.version
    settings = current_app.extensions["pressroom_settings"]
    site = settings.sites.get(release.site)
    org = organisation(release, site.name if site else None)
    reference = cited(release, site.name if site else None, archived.captured)
    permalink = url_for("pages.release_page", rid=rid, v=number, _external=True)
    translations = []
    for link in release.translations:
        other = release_id(link["url"])
        known = catalogue(current_app).has_release(other)
        translations.append({"language": link["language"], "external": link["url"],
                             "url": url_for("pages.release_page", rid=other) if known else None})
    try:
        related = searcher(current_app).more_like_this(rid, limit=5)
    except (QueryError, IndexMissing, IndexVersionError):
        related = []
    return render_template(
        "release.html", release=release, archived=archived, versions=versions, number=number,
        paragraphs=release.paragraphs,
        translations=translations, related=related, permalink=permalink,
        apa=apa(reference, g.ui), chicago=chicago(reference, g.ui),
        json_ld=json_ld(release, org, permalink), citation_meta=citation_meta(release, org, permalink),
        latest=versions[-1].number, latest_captured=versions[-1].archived.captured)


@bp.route("/release/<rid>/changes")
def changes_page(rid: str) -> Any:
    """What changed between two versions of a release, word by word, with both capture dates."""
    security.limit(current_app, "page")
    versions = {v.number: v for v in catalogue(current_app).release_versions(rid)}
    try:
        old, new = versions[int(request.args["from"])], versions[int(request.args["to"])]
    except (KeyError, ValueError):
        abort(404)
    title = word_changes(old.release.title, new.release.title) \
        if old.release.title != new.release.title else None
    return render_template("changes.html", old=old.release, new=new.release, old_archived=old.archived,
                           new_archived=new.archived, release=new.release, title_pieces=title,
                           rows=paragraph_changes(old.release.paragraphs, new.release.paragraphs))


@bp.route("/release/<rid>/original")
def original_page(rid: str) -> Any:
    """The archived original in a sandboxed frame, under a banner that says what it is."""
    security.limit(current_app, "page")
    chosen = _version(rid)
    return render_template("original.html", release=chosen.release, archived=chosen.archived,
                           raw_url=url_for("pages.original_raw", rid=rid, v=chosen.number),
                           replay_url=url_for("pages.original_replay", rid=rid, v=chosen.number))


def _version(rid: str) -> ReleaseVersion:
    return _chosen_version(rid)[1]


def _chosen_version(rid: str) -> tuple[list[ReleaseVersion], ReleaseVersion]:
    """All versions of a release and the one asked for with ?v= (the latest by default)."""
    versions = catalogue(current_app).release_versions(rid)
    if not versions:
        abort(404)
    try:
        number = int(request.args.get("v", versions[-1].number))
    except ValueError:
        abort(400)
    found = next((v for v in versions if v.number == number), None)
    if found is None:
        abort(404)
    return versions, found


# these register their routes on bp
from webapp import feeds, identity, memento, replay_views  # noqa: E402,F401
