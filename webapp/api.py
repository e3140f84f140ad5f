"""The JSON API: search (the shape of `pressroom search --json`), releases, its OpenAPI description."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request, url_for

from webapp import catalogue, security
from webapp.pages import clean_snippet, request_from, run_search

bp = Blueprint("api", __name__, url_prefix="/api")

FILTER_PARAMS = [
    {"name": name, "in": "query", "required": False, "explode": True,
     "schema": {"type": "array", "items": {"type": "string"}}, "description": text}
    for name, text in (("country", "ISO 3166-1 alpha-2 code; repeat for any of several"),
                       ("theme", "theme id; repeat for any of several"),
                       ("project", "project acronym; repeat for any of several"),
                       ("language", "release language (en, fr, es, ar); repeat for several"),
                       ("year", "year of publication; repeat for several"),
                       ("site", "site key; repeat for several"))]


@bp.route("/search")
def search() -> Any:
    """Search; the same parameters as the search page."""
    security.limit(current_app, "search")
    try:
        size = int(request.args.get("size", "10"))
    except ValueError:
        size = 0
    result = run_search(request_from(request.args, g.ui, page_size=size))
    data = result.to_json()
    data["results"] = security.plain_data(data["results"])     # titles are text, not markup
    for item in data["results"]:
        item["snippet"] = clean_snippet(item["snippet"])
        item["permalink"] = url_for("pages.release_page", rid=item["id"], _external=True)
    return jsonify(data)


@bp.route("/releases/<rid>")
def release(rid: str) -> Any:
    """A release as JSON (latest version, or ?v=N), with the list of its versions."""
    security.limit(current_app, "page")
    versions = catalogue(current_app).release_versions(rid)
    if not versions:
        abort(404)
    wanted = request.args.get("v")
    chosen = versions[-1] if wanted is None else next(
        (v for v in versions if str(v.number) == wanted), None)
    if chosen is None:
        abort(404)
    data = security.plain_data(chosen.release.to_json())
    data["versions"] = [{"version": v.number, "captured": v.archived.captured,
                         "url": url_for("api.release", rid=rid, v=v.number, _external=True)}
                        for v in versions]
    data["archived_original"] = url_for("pages.original_page", rid=rid, v=chosen.number,
                                        _external=True)
    data["timemap"] = url_for("pages.timemap", rid=rid, _external=True)
    return jsonify(data)


@bp.route("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description of this API."""
    hit = {"type": "object", "properties": {k: {"type": t} for k, t in (
        ("id", "string"), ("url", "string"), ("title", "string"), ("published", "string"),
        ("date_source", "string"), ("captured", "string"),
        ("language", "string"), ("countries", "array"), ("themes", "array"),
        ("projects", "array"), ("snippet", "string"), ("permalink", "string"))}}
    facet_value = {"type": "object", "properties": {"value": {"type": "string"},
                                                    "label": {"type": "string"},
                                                    "count": {"type": "integer"}}}
    error = {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "status": {"type": "integer"}, "message": {"type": "string"}}}}}
    return jsonify({
        "openapi": "3.1.0",
        "info": {"title": "Pressroom API", "version": "1",
                 "description": "Search and retrieve archived news releases."},
        "servers": [{"url": request.root_url.rstrip("/")}],
        "paths": {
            "/api/search": {"get": {
                "summary": "Search releases", "operationId": "search",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500},
                     "description": 'words, "phrases", AND/OR/NOT, -word, field:value, word*'},
                    *FILTER_PARAMS,
                    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "sort", "in": "query",
                     "schema": {"type": "string", "enum": ["relevance", "date"]}},
                    {"name": "page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "size", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "collapse", "in": "query", "schema": {"type": "string", "enum": ["1"]},
                     "description": "one result per translation family"},
                    {"name": "lang", "in": "query",
                     "schema": {"type": "string", "enum": ["en", "fr", "es", "ar"]},
                     "description": "language of the facet labels"}],
                "responses": {
                    "200": {"description": "results", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {
                            "total": {"type": "integer"}, "page": {"type": "integer"},
                            "results": {"type": "array", "items": hit},
                            "facets": {"type": "object", "additionalProperties": {
                                "type": "array", "items": facet_value}}}}}}},
                    "400": {"description": "bad query", "content": {"application/json": {"schema": error}}},
                    "429": {"description": "rate limited", "content": {"application/json": {"schema": error}}},
                    "503": {"description": "no index yet", "content": {"application/json": {"schema": error}}},
                }}},
            "/api/releases/{id}": {"get": {
                "summary": "A release", "operationId": "release",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                               {"name": "v", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the release (latest version by default)",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              "404": {"description": "no such release",
                                      "content": {"application/json": {"schema": error}}}}}},
            **MEMENTO_PATHS,
        }})


RID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "release id"}
URL = {"name": "url", "in": "path", "required": True, "schema": {"type": "string"},
       "description": "the original URL the release was published at, as it is (https://...)"}
ACCEPT_DATETIME = {"name": "Accept-Datetime", "in": "header", "schema": {"type": "string"},
                   "description": "an HTTP date (RFC 7089); without it, the latest capture"}
MEMENTO_HEADERS = {"Memento-Datetime": {"schema": {"type": "string"}, "description": "when it was captured"},
                   "Link": {"schema": {"type": "string"}, "description": "original, timegate, timemap, first/last/prev/next memento"}}
TIMEGATE = {"summary": "Memento TimeGate (RFC 7089): the capture closest to Accept-Datetime",
            "responses": {"302": {"description": "Location: the chosen memento; Vary: accept-datetime; Link: original, timemap"},
                          "400": {"description": "Accept-Datetime is not an HTTP date"},
                          "404": {"description": "no such release"}}}
TIMEMAP = {"summary": "Memento TimeMap: every capture of the release's original, versions and re-crawls",
           "responses": {"200": {"description": "links with rel original, self, timegate, memento (with datetime)",
                                 "content": {"application/link-format": {"schema": {"type": "string"}}}},
                         "404": {"description": "no such release"}}}
MEMENTO_PATHS = {
    "/archive/{id}/raw": {"get": {
        "summary": "The archived original of a version (a memento of its capture), sandboxed",
        "parameters": [RID, {"name": "v", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "the bytes as captured", "headers": MEMENTO_HEADERS},
                      "404": {"description": "no such release or version"}}}},
    "/archive/{id}/{timestamp}/raw": {"get": {
        "summary": "The memento captured at a 14-digit UTC timestamp (YYYYMMDDhhmmss), sandboxed",
        "parameters": [RID, {"name": "timestamp", "in": "path", "required": True,
                             "schema": {"type": "string", "pattern": "^[0-9]{14}$"}}],
        "responses": {"200": {"description": "the bytes as captured", "headers": MEMENTO_HEADERS},
                      "404": {"description": "no capture at that time"}}}},
    "/archive/{id}/timegate": {"get": {**TIMEGATE, "parameters": [RID, ACCEPT_DATETIME]}},
    "/archive/{id}/timemap": {"get": {**TIMEMAP, "parameters": [RID]}},
    "/timegate/{url}": {"get": {**TIMEGATE, "parameters": [URL, ACCEPT_DATETIME]}},
    "/timemap/link/{url}": {"get": {**TIMEMAP, "parameters": [URL]}},
}
