"""Put fetched responses on record: WARC first (fsynced), then the catalogue rows that point at it."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from archive.capture.fetch import Response
from archive.catalogue import Catalogue, UrlState, Version
from archive.warcstore import IDENTICAL_PROFILE, NOT_MODIFIED_PROFILE, RecordRef, UnreadableRecord, WarcStore

logger = logging.getLogger(__name__)


@dataclass
class CrawlStats:
    """Counters of one run, for the closing summary and the runs table."""

    fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    not_modified: int = 0
    redirects: int = 0
    retries: int = 0
    skipped_robots: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    postponed: dict[str, str] = field(default_factory=dict)  # host -> why it waits for the next run
    requisites: int = 0             # requisite payloads stored (new bytes)
    requisite_revisits: int = 0     # requisites fetched again whose bytes were already stored
    requisite_requests: int = 0     # requests made for requisites (included in `fetched`)
    requisite_bytes: int = 0        # bytes received for requisites, as transferred
    requisites_skipped: Counter[str] = field(default_factory=Counter)  # outcome -> count

    def as_dict(self) -> dict[str, Any]:
        """Return the counters as plain JSON-ready data."""
        return {k: dict(v) if isinstance(v, Counter) else v for k, v in vars(self).items()}


def payload_digest(body: bytes) -> str:
    """Return a WARC payload digest (sha1, base32) of a body, as warcio writes it.

    >>> payload_digest(b"")
    'sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ'
    """
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def validators(resp: Response) -> dict[str, Any]:
    """Return the ETag and Last-Modified of a response, for the next conditional GET."""
    return {"etag": resp.header("ETag"), "last_modified": resp.header("Last-Modified")}


class Recorder:
    """Write the outcome of each fetch of one run to the WARC store and the catalogue."""

    def __init__(self, catalogue: Catalogue, store: WarcStore, site: str, run_id: int,
                 stats: CrawlStats) -> None:
        self.catalogue = catalogue
        self.store = store
        self.site = site
        self.run_id = run_id
        self.stats = stats

    def failure(self, url: str, reason: str, resp: Response | None = None,
                outcome: str = "failed") -> None:
        """Record a fetch that ended without a capture (error status, network error, refusal)."""
        ref = self.store.write_exchange(resp) if resp is not None else None
        status = resp.status if resp is not None else None
        with self.catalogue.transaction():
            self.catalogue.log_fetch(self.run_id, url, outcome, http_status=status, reason=reason,
                                     ref=ref)
            if outcome != "retry":
                self.catalogue.record_url(url, self.site, outcome, http_status=status,
                                          reason=reason, keep_validators=True)
        if outcome == "failed":
            self.stats.failed[reason] += 1
        elif outcome == "refused":
            self.stats.refused[reason] += 1
        level = logging.WARNING if outcome in ("failed", "refused") else logging.INFO
        logger.log(level, "%s: %s %s: %s", self.site, outcome, url, reason)

    def redirect(self, url: str, resp: Response, target: str) -> None:
        """Record a redirect hop."""
        ref = self.store.write_exchange(resp)
        with self.catalogue.transaction():
            self.catalogue.log_fetch(self.run_id, url, "redirect", http_status=resp.status, ref=ref)
            self.catalogue.record_url(url, self.site, "redirect", http_status=resp.status,
                                      redirect_to=target)
        self.stats.redirects += 1
        logger.info("%s: redirect %s -> %s", self.site, url, target)

    def not_modified(self, url: str, resp: Response, latest: Version) -> None:
        """Record a 304 as a revisit of the latest version that replays as that version."""
        ref = self._revisit(resp, latest, NOT_MODIFIED_PROFILE)
        self._unchanged(url, resp.status, latest, ref_reason="not-modified", ref=ref, resp=resp)
        self.stats.not_modified += 1

    def unchanged_by_lastmod(self, url: str, latest: Version) -> None:
        """Record a page skipped because its sitemap lastmod predates the last capture."""
        self._unchanged(url, None, latest, ref_reason="sitemap-lastmod", ref=None, resp=None)

    def capture(self, url: str, resp: Response, doc_url: str, text_hash: str,
                latest: Version | None) -> tuple[int, int | None]:
        """Record a 2xx response: a new version when its text changed, else an unchanged visit.

        Return the document id and the new version's number (None for an unchanged visit).
        """
        if latest is not None and latest.text_hash == text_hash:
            same_bytes = latest.ref.payload_digest == payload_digest(resp.raw_body)
            ref = self._same_payload(resp, latest) if same_bytes else self.store.write_exchange(resp)
            self._unchanged(url, resp.status, latest, ref_reason="same-text", ref=ref, resp=resp)
            return latest.document_id, None
        ref = self.store.write_exchange(resp)
        with self.catalogue.transaction():
            doc_id, number = self.catalogue.add_version(
                self.site, doc_url, url, resp.status, resp.content_type, text_hash, ref,
                resp.truncated, self.run_id, resp.fetched_at.isoformat(timespec="seconds"))
            outcome = "new" if number == 1 else "changed"
            self.catalogue.log_fetch(self.run_id, url, outcome, http_status=resp.status, ref=ref,
                                     document_id=doc_id, version=number)
            self.catalogue.record_url(url, self.site, outcome, http_status=resp.status,
                                      document_id=doc_id, **validators(resp))
        if number == 1:
            self.stats.new += 1
        else:
            self.stats.changed += 1
        logger.info("%s: %s %s (version %d%s)", self.site, outcome, url, number,
                    f", truncated by {resp.truncated}" if resp.truncated else "")
        return doc_id, number

    def _revisit(self, resp: Response, latest: Version, profile: str) -> RecordRef:
        # the revisit names the original as its record says (URI, date, digest, HTTP head)
        return self.store.write_revisit(resp, self.store.read_original(latest.ref), profile)

    def _same_payload(self, resp: Response, latest: Version) -> RecordRef:
        try:
            return self._revisit(resp, latest, IDENTICAL_PROFILE)
        except UnreadableRecord as exc:
            # a revisit of a damaged record would replay nothing: keep these bytes whole
            logger.warning("%s: %s: writing it whole", resp.url, exc)
            return self.store.write_exchange(resp)

    def _unchanged(self, url: str, status: int | None, latest: Version, ref_reason: str,
                   ref: Any, resp: Response | None) -> None:
        with self.catalogue.transaction():
            self.catalogue.log_fetch(self.run_id, url, "unchanged", http_status=status,
                                     reason=ref_reason, ref=ref, document_id=latest.document_id,
                                     version=latest.version,
                                     # the capture's time, as in its WARC-Date: a memento's datetime
                                     fetched_at=resp.fetched_at.isoformat(timespec="seconds")
                                     if resp is not None else None)
            values = validators(resp) if resp is not None else {}
            self.catalogue.record_url(url, self.site, "unchanged", http_status=status,
                                      document_id=latest.document_id, keep_validators=True,
                                      **values)
            self.catalogue.touch_document(latest.document_id)
        self.stats.unchanged += 1
        logger.info("%s: unchanged %s (%s)", self.site, url, ref_reason)

    def previous(self, url: str, doc_url: str | None = None) -> tuple[UrlState | None, Version | None]:
        """Return what is known of a URL and the latest version of its document."""
        state = self.catalogue.url_state(url)
        doc_id = state.document_id if state and state.document_id else None
        if doc_id is None and doc_url is not None:
            doc_id = self.catalogue.document_id(doc_url)
        return state, (self.catalogue.latest_version(doc_id) if doc_id else None)

