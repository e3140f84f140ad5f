"""The JSON API: search (the shape of `pressroom search --json`), releases, its OpenAPI description."""

from __future__ import annotations

import re
import shlex
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, abort, current_app, g, jsonify, render_template, request, url_for

from archive.errors import ArchiveError
from indexer.interface import MAX_PAGE, MAX_PAGE_SIZE, SearchRequest
from webapp import catalogue, security
from webapp.i18n import LANGUAGES
from webapp.pages import _http_error, clean_snippet, request_from, run_search

bp = Blueprint("api", __name__, url_prefix="/api")

FILTER_PARAMS: list[dict[str, Any]] = [
    {"name": name, "in": "query", "required": False, "explode": True,
     "schema": {"type": "array", "items": {"type": "string"}}, "description": text,
     **({"example": [example]} if example else {})}
    for name, text, example in (
        ("country", "ISO 3166-1 alpha-2 code; repeat for any of several", "LY"),
        ("theme", "theme id; repeat for any of several", ""),
        ("project", "project acronym; repeat for any of several", ""),
        ("language", "release language (en, fr, es, ar); repeat for several", ""),
        ("year", "year of publication; repeat for several", ""),
        ("site", "site key; repeat for several", ""))]
SEARCH_PARAMS: list[dict[str, Any]] = [
    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500},
     "description": 'words, "phrases", AND/OR/NOT, -word, field:value, word*', "example": "migrants Libya"},
    *FILTER_PARAMS,
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "published on or after this day (YYYY-MM-DD)", "example": "2015-01-01"},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "published on or before this day (YYYY-MM-DD)"},
    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["relevance", "date"]},
     "description": "relevance (the default) or newest first", "example": "date"},
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
     "description": "page of results, from 1"},
    {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
     "description": "results per page (10 by default)"},
    {"name": "collapse", "in": "query", "schema": {"type": "string", "enum": ["1"]},
     "description": "one result per translation family"},
    {"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGUAGES)},
     "description": "language of the facet labels and messages"}]
RELEASE_PARAMS: list[dict[str, Any]] = [
    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
     "description": "the release's id, as in search results"},
    {"name": "v", "in": "query", "schema": {"type": "integer", "minimum": 1},
     "description": "a version number (the latest by default)"}]
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def check_arguments(parameters: list[dict[str, Any]]) -> None:
    """Answer 400, naming the parameter, when a query argument breaks its OpenAPI description.

    The API's one check: what the description promises to refuse is refused, here, before
    any search (the search still refuses what it alone can judge, such as query syntax).
    """
    for parameter in parameters:
        if parameter["in"] != "query":
            continue
        schema = parameter["schema"]
        for value in request.args.getlist(parameter["name"]):
            problem = _violation(schema.get("items", schema), value)
            if problem:
                raise _http_error(400, f"{parameter['name']} {problem}")


def _violation(schema: dict[str, Any], value: str) -> str | None:
    """What is wrong with a value for a parameter's schema (the words follow its name), or None."""
    if schema["type"] == "integer":
        if not re.fullmatch(r"-?[0-9]{1,9}", value):
            return "must be a number"
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and int(value) < low) or (high is not None and int(value) > high):
            return f"must be from {low}" + (f" to {high}" if high is not None else "")
        return None
    if "enum" in schema and value not in schema["enum"]:
        return f"must be one of {', '.join(schema['enum'])}"
    if len(value) > schema.get("maxLength", len(value)):
        return f"must be at most {schema['maxLength']} characters long"
    if schema.get("format") == "date" and not (DATE.fullmatch(value) and _is_day(value)):
        return "must be a date (YYYY-MM-DD)"
    return None


def _is_day(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@bp.route("/search")
def search() -> Any:
    """Search; the same parameters as the search page."""
    security.limit(current_app, "search")
    check_arguments(SEARCH_PARAMS)
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
    check_arguments(RELEASE_PARAMS)
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


def description() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API (its servers from the request or web.base_url)."""
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

    def answer(text: str) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"schema": error}}}

    common = {"304": {"description": "not modified since the ETag or date the client sent"},
              "400": answer("a parameter or the query is not valid: the message says which"),
              "429": answer("rate limited: retry after the Retry-After header's seconds")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Pressroom API", "version": "1",
                 "description": "Search and retrieve archived news releases."},
        "servers": [{"url": request.root_url.rstrip("/")}],
        "paths": {
            "/api/search": {"get": {
                "summary": "Search releases", "operationId": "search", "parameters": SEARCH_PARAMS,
                "responses": {
                    "200": {"description": "results", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {
                            "total": {"type": "integer", "description": "total_all + relaxed"},
                            "total_all": {"type": "integer",
                                          "description": "releases with all the words, listed first"},
                            "relaxed": {"type": "integer", "description":
                                        "more releases with some of the words, listed after them"},
                            "corrected": {"type": "string", "description":
                                          "the spelling-corrected query answered, when nothing "
                                          "matched as typed"},
                            "notes": {"type": "array", "items": {"type": "string"}, "description":
                                      "how filter values were read (country:Lybia as LY)"},
                            "page": {"type": "integer"},
                            "results": {"type": "array", "items": hit},
                            "facets": {"type": "object", "additionalProperties": {
                                "type": "array", "items": facet_value}}}}}}},
                    **common,
                    "503": answer("no index yet, or one of another version: the message says what to run"),
                }}},
            "/api/releases/{id}": {"get": {
                "summary": "A release", "operationId": "release", "parameters": RELEASE_PARAMS,
                "responses": {"200": {"description": "the release (latest version by default)",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              **common,
                              "404": answer("no such release, or no such version of it")}}},
        }}


@bp.route("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(description())


@bp.route("/")
def docs() -> Any:
    """The API described for people: each operation, its parameters and a curl example."""
    spec = description()
    server = spec["servers"][0]["url"]
    operations = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            operations.append({
                "method": method.upper(), "path": path, "id": operation["operationId"],
                "summary": operation["summary"], "parameters": operation["parameters"],
                "responses": sorted(operation["responses"].items()),
                "curl": _curl(server, path, operation["parameters"])})
    return render_template("api.html", operations=operations,
                           openapi_url=url_for("api.openapi", _external=True))


def _curl(server: str, path: str, parameters: list[dict[str, Any]]) -> str:
    """A curl command for an operation, with the description's examples as its arguments."""
    query = []
    for parameter in parameters:
        example = parameter.get("example")
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", quote(_example_id(), safe=""))
        elif example is not None:
            values = example if isinstance(example, list) else [example]
            query += [(parameter["name"], str(v)) for v in values]
    url = server + path + ("?" + urlencode(query) if query else "")
    return f"curl --compressed {shlex.quote(url)}"


def _example_id() -> str:
    """The newest release's id, so that the example works; a placeholder before the first index."""
    try:
        newest = run_search(SearchRequest(sort="date", page_size=1, snippets=False))
    except ArchiveError:
        return "RELEASE_ID"
    return newest.results[0].id if newest.results else "RELEASE_ID"
