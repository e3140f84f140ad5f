"""Fetch the requisites of a captured page politely, within the run's budget, each payload once.

Every request goes through the crawl's own fetch (per-host delay, retries, address guard, size
cap) after a robots.txt check; only the site's hosts and its `requisite_hosts` are asked. A URL
is fetched at most once per run; a URL known from an earlier run is asked with a conditional
GET. A payload already stored (same payload digest, any URL of the site) is written as a revisit
record, not stored again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from archive.capture.fetch import Response
from archive.capture.record import CrawlStats, payload_digest, validators
from archive.capture.requisites import Requisite, page_requisites, stylesheet_requisites
from archive.capture.urls import absolute_url
from archive.catalogue import Catalogue
from archive.errors import FetchError, RefusedURL
from archive.requisite_rows import RequisiteRows, StoredRequisite
from archive.settings import RequisiteSettings, SiteConfig, netloc
from archive.warcstore import (
    IDENTICAL_PROFILE,
    NOT_MODIFIED_PROFILE,
    RecordRef,
    UnreadableRecord,
    WarcStore,
)

logger = logging.getLogger(__name__)

MAX_PER_PAGE = 1000  # requisites linked to one page, nested stylesheets' included


@dataclass
class Outcome:
    """What became of one requisite URL in this run."""

    status: str                      # archived, page, off-site, robots, over-budget, failed
    stored: StoredRequisite | None = None
    nested: list[Requisite] = field(default_factory=list)


class RequisiteFetcher:
    """Fetch and record page requisites for one run of one site."""

    def __init__(self, settings: RequisiteSettings, site: SiteConfig, catalogue: Catalogue,
                 store: WarcStore, run_id: int, stats: CrawlStats,
                 fetch: Callable[[str, dict[str, str]], Response], allows: Callable[[str], bool],
                 max_redirects: int, is_page: Callable[[str], bool]) -> None:
        self.settings = settings
        self.site = site
        self.catalogue = catalogue
        self.rows = RequisiteRows(catalogue)
        self.store = store
        self.run_id = run_id
        self.stats = stats
        self.fetch = fetch
        self.allows = allows
        self.max_redirects = max_redirects
        self.is_page = is_page
        self.hosts = site.hosts | frozenset(site.requisite_hosts)
        self.done: dict[str, Outcome] = {}
        self.requests = 0
        self.bytes = 0

    def for_page(self, document_id: int, version: int, url: str, resp: Response) -> None:
        """Fetch (or reuse) every requisite a page version names and link them to it."""
        types = set(self.settings.types)
        queue = [r for r in page_requisites(resp.body, resp.header("Content-Type"), url)
                 if r.kind in types]
        linked: dict[str, tuple[str, Outcome]] = {}
        while queue and len(linked) < MAX_PER_PAGE:
            requisite = queue.pop(0)
            if requisite.url in linked:
                continue
            outcome = self.done.get(requisite.url) or self._get(requisite)
            linked[requisite.url] = (requisite.kind, outcome)
            queue.extend(n for n in outcome.nested if n.kind in types and n.url not in linked)
        with self.catalogue.transaction():
            for link_url, (kind, outcome) in linked.items():
                self.rows.link(document_id, version, link_url, kind, outcome.status,
                               outcome.stored.id if outcome.stored else None)

    def _get(self, requisite: Requisite) -> Outcome:
        outcome = self._decide(requisite)
        if outcome.status != "over-budget":  # a later page may find room in no budget either
            self.done[requisite.url] = outcome
        if outcome.status not in ("archived", "page"):
            self.stats.requisites_skipped[outcome.status] += 1
        return outcome

    def _decide(self, requisite: Requisite) -> Outcome:
        if netloc(requisite.url) not in self.hosts:
            return Outcome("off-site")
        if self.is_page(requisite.url):
            return Outcome("page")  # captured as a document of its own, with its versions
        if self._over_budget():
            return Outcome("over-budget")
        if not self.allows(requisite.url):
            return Outcome("robots")
        state = self.rows.url_state(requisite.url)
        known = self.rows.get(state.requisite_id) if state and state.requisite_id else None
        headers = {}
        if known is not None and state is not None:
            if state.etag:
                headers["If-None-Match"] = state.etag
            if state.last_modified:
                headers["If-Modified-Since"] = state.last_modified
        try:
            resp = self._follow(requisite.url, headers)
        except (FetchError, RefusedURL) as exc:
            self._log(requisite.url, "requisite-failed", None, exc.reason, None)
            return Outcome("failed")
        if resp is None:
            return Outcome("robots")
        if resp.status == 304 and known is not None:
            try:
                ref = self.store.write_revisit(resp, self.store.read_original(known.ref),
                                               NOT_MODIFIED_PROFILE)
            except UnreadableRecord as exc:  # nothing to replay the 304 with: a failed requisite
                self._log(requisite.url, "requisite-failed", resp.status, str(exc)[:200], None)
                return Outcome("failed")
            stored = known
        elif 200 <= resp.status < 300:
            stored, ref = self._store(requisite, resp)
        else:
            ref = self.store.write_exchange(resp)
            self._log(resp.url, "requisite-failed", resp.status, f"http-{resp.status}", ref)
            return Outcome("failed")
        with self.catalogue.transaction():
            self.rows.set_url(requisite.url, stored.id, **validators(resp))
        if ref != stored.ref:
            self.stats.requisite_revisits += 1
            self._log(resp.url, "requisite-unchanged", resp.status, "revisit", ref)
        return Outcome("archived", stored, self._nested(requisite, stored))

    def _store(self, requisite: Requisite, resp: Response) -> tuple[StoredRequisite, RecordRef]:
        """Write a 2xx requisite: a response record for new bytes, else a revisit of the stored ones."""
        same = self.rows.by_digest(self.site.key, payload_digest(resp.raw_body))
        if same is not None:
            try:
                ref = self.store.write_revisit(resp, self.store.read_original(same.ref),
                                               IDENTICAL_PROFILE)
                return same, ref
            except UnreadableRecord as exc:
                # a revisit of a damaged record would replay nothing: store these bytes whole
                logger.warning("%s: %s: writing it whole", resp.url, exc)
        ref = self.store.write_exchange(resp)
        captured = resp.fetched_at.isoformat(timespec="seconds")
        with self.catalogue.transaction():
            new_id = self.rows.add(self.site.key, resp.url, requisite.kind, resp.status,
                                   resp.content_type, ref, resp.truncated, self.run_id, captured)
            self.catalogue.log_fetch(self.run_id, resp.url, "requisite", http_status=resp.status,
                                     ref=ref)
        self.stats.requisites += 1
        logger.info("%s: requisite %s (%s, %d bytes)", self.site.key, resp.url, requisite.kind,
                    len(resp.raw_body))
        return StoredRequisite(new_id, resp.url, requisite.kind, captured, resp.status,
                               resp.content_type, ref), ref

    def _follow(self, url: str, headers: dict[str, str]) -> Response | None:
        """Fetch with the crawl's politeness, following redirects on allowed hosts; None: robots."""
        for _ in range(self.max_redirects + 1):
            resp = self._counted(url, headers)
            location = resp.header("Location")
            if not (300 <= resp.status < 400 and resp.status != 304 and location):
                return resp
            target = absolute_url(url, location)
            ref = self.store.write_exchange(resp)
            self._log(url, "requisite-redirect", resp.status, None, ref)
            if target is None or netloc(target) not in self.hosts:
                raise RefusedURL("off-site", location)
            if self._over_budget():
                raise FetchError("over-budget", target)
            if not self.allows(target):
                return None
            url, headers = target, {}
        raise FetchError("too-many-redirects", url)

    def _counted(self, url: str, headers: dict[str, str]) -> Response:
        resp = self.fetch(url, headers)
        self.requests += 1
        self.bytes += len(resp.raw_body)
        self.stats.requisite_requests += 1
        self.stats.requisite_bytes += len(resp.raw_body)
        return resp

    def _over_budget(self) -> bool:
        return self.requests >= self.settings.max_count or self.bytes >= self.settings.max_bytes

    def _nested(self, requisite: Requisite, stored: StoredRequisite) -> list[Requisite]:
        """What a stored stylesheet imports and uses (read back from the archive)."""
        if requisite.kind != "stylesheet" and stored.content_type != "text/css":
            return []
        if stored.content_type not in ("text/css", "text/plain", ""):
            return []
        _, body = self.store.read_payload(stored.ref)
        return stylesheet_requisites(body, stored.url)

    def _log(self, url: str, outcome: str, status: int | None, reason: str | None,
             ref: RecordRef | None) -> None:
        with self.catalogue.transaction():
            self.catalogue.log_fetch(self.run_id, url, outcome, http_status=status, reason=reason,
                                     ref=ref)
        if outcome == "requisite-failed":
            logger.warning("%s: requisite %s not archived: %s", self.site.key, url, reason)

