"""Archived originals as Mementos (RFC 7089): the bytes of each capture, a TimeGate, a TimeMap.

A release's original resource (URI-R) is the page it was published at; each capture of it in
the archive is a memento (URI-M), a version's first capture and every re-crawl that found it
unchanged alike. The TimeGate (URI-G) picks the capture closest to a client's Accept-Datetime
and the TimeMap (URI-T) lists them all. TimeGates and TimeMaps answer by release id and, as
Memento clients expect, by original URL (`/timegate/<URL>`, `/timemap/link/<URL>`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from flask import Response, abort, current_app, request, url_for
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.http import http_date, parse_date

from archive.catalogue import CaptureRow
from archive.payload import decoded_pieces, open_record
from archive.release import ReleaseVersion, release_id
from webapp import catalogue, security, warc_store
from webapp.pages import _chosen_version, bp

LINK_FORMAT = "application/link-format"


def stamp(captured: str) -> str:
    """Turn a capture time into the 14-digit timestamp of a memento's URI.

    >>> stamp("2013-06-11T09:30:05+00:00")
    '20130611093005'
    """
    return _when(captured).strftime("%Y%m%d%H%M%S")


def closest(captures: list[CaptureRow], wanted: datetime) -> CaptureRow:
    """Pick the capture nearest to a datetime (the earlier one on a tie)."""
    return min(captures, key=lambda c: (abs((_when(c.captured) - wanted).total_seconds()),
                                        _when(c.captured)))


def _when(captured: str) -> datetime:
    when = datetime.fromisoformat(captured)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _captures(rid: str) -> list[CaptureRow]:
    captures: dict[str, CaptureRow] = {}
    for capture in catalogue(current_app).release_captures(rid):
        # a memento's URI holds its second: of two captures in one second, the first stands
        captures.setdefault(stamp(capture.captured), capture)
    if not captures:
        abort(404)
    return list(captures.values())


def _original(rid: str) -> str:
    versions = catalogue(current_app).release_versions(rid)
    if not versions:
        abort(404)
    return versions[-1].release.url


def _memento_url(rid: str, capture: CaptureRow) -> str:
    return url_for("pages.memento", rid=rid, ts=stamp(capture.captured), _external=True)


def _link(url: str, rel: str, **params: str) -> str:
    return f'<{url}>; rel="{rel}"' + "".join(f'; {k}="{v}"' for k, v in params.items())


def _neighbours(captures: list[CaptureRow], index: int) -> list[tuple[str, CaptureRow]]:
    """The first, last, previous and next mementos of one capture, as (rel, capture)."""
    rels: dict[int, list[str]] = {}
    for at, rel in ((0, "first"), (len(captures) - 1, "last"), (index - 1, "prev"),
                    (index + 1, "next")):
        if 0 <= at < len(captures) and at != index:
            rels.setdefault(at, []).append(rel)
    return [(" ".join([*rel, "memento"]), captures[at]) for at, rel in sorted(rels.items())]


def add_memento_headers(response: Response, rid: str, original: str, captured: str) -> None:
    """Give an archived original its Memento-Datetime and its Link to the other Memento resources."""
    captures = _captures(rid)
    index = next((i for i, c in enumerate(captures) if c.captured == captured), 0)
    links = [_link(original, "original"),
             _link(url_for("pages.timegate", rid=rid, _external=True), "timegate"),
             _link(url_for("pages.timemap", rid=rid, _external=True), "timemap", type=LINK_FORMAT)]
    links += [_link(_memento_url(rid, c), rel, datetime=http_date(_when(c.captured)))
              for rel, c in _neighbours(captures, index)]
    response.headers["Memento-Datetime"] = http_date(_when(captured))
    response.headers["Link"] = ", ".join(links)


@bp.route("/archive/<rid>/raw")
def original_raw(rid: str) -> Response:
    """The archived bytes of a version (?v=N, the latest by default), a memento of its capture."""
    security.limit(current_app, "page")
    chosen = _chosen_version(rid)[1]
    response = archived_response(chosen)
    add_memento_headers(response, rid, chosen.release.url, chosen.archived.captured)
    return response


@bp.route("/archive/<rid>/<int:ts>/raw")
def memento(rid: str, ts: int) -> Response:
    """The memento captured at a 14-digit UTC timestamp: a version's bytes as that capture found them."""
    security.limit(current_app, "page")
    captures = _captures(rid)
    capture = next((c for c in captures if stamp(c.captured) == f"{ts:014d}"), None)
    if capture is None:
        abort(404)
    versions = catalogue(current_app).release_versions(rid)
    chosen = next(v for v in versions if v.number == capture.version)
    response = archived_response(chosen)
    add_memento_headers(response, rid, chosen.release.url, capture.captured)
    return response


@bp.route("/archive/<rid>/timegate")
def timegate(rid: str) -> Response:
    """Send to the capture closest to Accept-Datetime (the latest without it): 302, varied on it."""
    security.limit(current_app, "page")
    captures = _captures(rid)
    asked = request.headers.get("Accept-Datetime")
    if asked is None:
        chosen = captures[-1]
    else:
        wanted = parse_date(asked)
        if wanted is None:
            error = BadRequest()
            error.pressroom_message = (  # type: ignore[attr-defined]
                "Accept-Datetime must be an HTTP date, such as 'Tue, 11 Jun 2013 09:30:00 GMT'.")
            raise error
        chosen = closest(captures, wanted)
    response = Response(status=302)
    response.headers["Location"] = _memento_url(rid, chosen)
    response.headers["Vary"] = "accept-datetime"
    response.headers["Link"] = ", ".join([
        _link(_original(rid), "original"),
        _link(url_for("pages.timemap", rid=rid, _external=True), "timemap", type=LINK_FORMAT)])
    return response


@bp.route("/archive/<rid>/timemap")
def timemap(rid: str) -> Response:
    """Every capture of a release's original, in link format (RFC 6690), oldest first."""
    security.limit(current_app, "page")
    captures = _captures(rid)
    first, last = http_date(_when(captures[0].captured)), http_date(_when(captures[-1].captured))
    links = [_link(_original(rid), "original"),
             _link(url_for("pages.timemap", rid=rid, _external=True), "self", type=LINK_FORMAT,
                   **{"from": first, "until": last}),
             _link(url_for("pages.timegate", rid=rid, _external=True), "timegate")]
    for index, capture in enumerate(captures):
        rel = " ".join([*(["first"] if index == 0 else []),
                        *(["last"] if index == len(captures) - 1 else []), "memento"])
        links.append(_link(_memento_url(rid, capture), rel,
                           datetime=http_date(_when(capture.captured))))
    return Response(",\n".join(links) + "\n", content_type=LINK_FORMAT)


@bp.route("/timegate/<path:url>", merge_slashes=False)
def timegate_by_url(url: str) -> Response:
    """The TimeGate of an original URL (`/timegate/https://...`), as Memento clients ask it."""
    return timegate(release_id(_asked_url(url)))


@bp.route("/timemap/link/<path:url>", merge_slashes=False)
def timemap_by_url(url: str) -> Response:
    """The TimeMap of an original URL (`/timemap/link/https://...`)."""
    return timemap(release_id(_asked_url(url)))


def _asked_url(url: str) -> str:
    """The original URL from the path, with the query string the router split off."""
    query = request.query_string.decode("utf-8", "replace")
    return f"{url}?{query}" if query else url


def archived_response(chosen: ReleaseVersion) -> Response:
    """The archived bytes, sandboxed: no scripts, no same-origin, no sniffing; 413 past the cap.

    A compressed capture is decoded as it streams out, never whole in memory: a first pass
    counts its decoded size (a few kilobytes of gzip can stand for gigabytes), a second sends it.
    """
    offset = chosen.archived.ref.offset
    path = warc_store(current_app).path_of(chosen.archived.ref.file)
    cap: int = current_app.config["RAW_MAX_BYTES"]
    size = 0
    with open_record(path, offset) as record:
        headers = list(record.http_headers.headers) if record.http_headers else []
        for chunk in decoded_pieces(record, headers):
            size += len(chunk)
            if size > cap:
                error = RequestEntityTooLarge()
                error.pressroom_message = (  # type: ignore[attr-defined]
                    f"This archived original is larger than {cap:,} bytes once decompressed "
                    "(web.raw_max_bytes), so it is not shown here; the release's text is.")
                raise error
    content_type = next((v for k, v in headers if k.lower() == "content-type"),
                        chosen.archived.content_type)
    response = Response(_archived_chunks(path, offset, headers), content_type=content_type)
    response.content_length = size
    response.headers["Content-Security-Policy"] = security.ARCHIVED_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _archived_chunks(path: Path, offset: int, headers: list[tuple[str, str]]) -> Iterator[bytes]:
    with open_record(path, offset) as record:
        yield from decoded_pieces(record, headers)
