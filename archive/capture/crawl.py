"""The crawl loop: a polite, resumable, incremental walk over one site.

One request at a time per host, `delay` (or robots.txt Crawl-delay) apart; the frontier lives in
the catalogue so that a killed run resumes where it stopped; every response goes on record.
"""

from __future__ import annotations

import hashlib
import heapq
import ipaddress
import itertools
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from archive.capture.fetch import RETRYABLE_STATUS, Fetcher, Response, retry_after_seconds
from archive.capture.fetch_requisites import RequisiteFetcher
from archive.capture.leases import LeaseLost
from archive.capture.links import PageLinks, parse_page
from archive.capture.netguard import AddressPolicy, is_public
from archive.capture.record import CrawlStats, Recorder
from archive.capture.robots import RobotsRules, rules_from_response
from archive.capture.sitemaps import Sitemap, SitemapTooLarge, parse_sitemap
from archive.capture.urls import BadURL, absolute_url, canonical_url, path_key, split_url, trap_reason
from archive.catalogue import Catalogue, FrontierItem, UrlState, Version
from archive.errors import FetchError, RefusedURL
from archive.settings import Settings, SiteConfig, netloc
from archive.warcstore import RecordRef, WarcStore

logger = logging.getLogger(__name__)

Event = Callable[[str, CrawlStats, int], None]
# called before each request with (host, delay): waits for the host's turn among workers, or
# raises LeaseLost when this worker no longer holds the host (archive.capture.leases)
Gate = Callable[[str, float], None]
NOT_RETRYABLE = {"bad-scheme", "forbidden-address", "off-site", "bad-encoding"}


@dataclass
class Host:
    """Politeness state of one host."""

    next_ready: float = 0.0
    robots: RobotsRules | None = None
    pages: int = 0
    queue: list[tuple[float, int, int, FrontierItem]] = field(default_factory=list)

    @property
    def postponed(self) -> bool:
        """Tell whether this host is left for the next run (its robots.txt asked us to wait)."""
        return self.robots is not None and self.robots.status == "postponed"


class Crawl:
    """One run over one site."""

    def __init__(self, settings: Settings, site: SiteConfig, catalogue: Catalogue,
                 store: WarcStore, policy: AddressPolicy, on_event: Event | None = None,
                 gate: Gate | None = None, worker: str | None = None) -> None:
        self.settings = settings
        self.gate = gate
        self.worker = worker
        self.crawl = settings.crawl
        self.site = site
        self.catalogue = catalogue
        self.store = store
        # a site's requisite_hosts (its CDN) are asked for requisites only, never for pages
        self.requisite_only = (frozenset(site.requisite_hosts) - site.hosts
                               if settings.requisites.enabled else frozenset())
        if self.requisite_only - policy.netlocs:
            policy = AddressPolicy(policy.netlocs | self.requisite_only)
        self.policy = policy
        self.fetcher = Fetcher(settings.crawl, policy)
        self.on_event = on_event or (lambda url, stats, queued: None)
        self.stats = CrawlStats()
        self.hosts: dict[str, Host] = {}
        self.seen: set[str] = set()
        self.not_followed: set[str] = set()  # seen, but not queued: traps, too deep
        self.variants: Counter[str] = Counter()
        self.pending: list[FrontierItem] = []
        self.also_done: list[str] = []
        self._canonical_memo: dict[str, str] = {}
        self._order = itertools.count()
        self.run_id = 0
        self.recorder: Recorder
        self.requisites: RequisiteFetcher | None = None

    # -- the loop ------------------------------------------------------------------------------
    def run(self, max_fetches: int | None = None) -> CrawlStats:
        """Crawl until the frontier is empty (or `max_fetches` is reached); return the counters."""
        self.run_id, resumed = self.catalogue.start_run(self.site.key, os.getpid(), self.worker)
        self.recorder = Recorder(self.catalogue, self.store, self.site.key, self.run_id, self.stats)
        if resumed is not None:
            self._resume()
            logger.info("resuming run %d of %s", resumed, self.site.key)
        else:
            self._seed()
        if self.settings.requisites.enabled:
            self.requisites = RequisiteFetcher(
                self.settings.requisites, self.site, self.catalogue, self.store, self.run_id,
                self.stats, self._fetch, self._robots_allow, self.crawl.max_redirects,
                self._crawled_as_page)
        state = "interrupted"
        try:
            while (item := self._next()) is not None:
                self._process(item)
                if max_fetches is not None and self.stats.fetched >= max_fetches:
                    logger.warning("stopping after %d fetches; the next run resumes", max_fetches)
                    break
            else:
                state = "done"
                if self.stats.postponed:
                    state = "interrupted"  # the next run resumes the postponed hosts' frontier
                    logger.warning("%s: postponed to the next run: %s", self.site.key,
                                   ", ".join(f"{h} ({r})" for h, r in self.stats.postponed.items()))
        except LeaseLost:
            state = "lost"  # the worker that took this site over owns the run's frontier now
            raise
        finally:
            self.store.close()
            self.fetcher.close()
            if state != "lost":
                self.catalogue.finish_run(self.run_id, state, self.stats.as_dict())
        return self.stats

    def _seed(self) -> None:
        items = []
        for url, kind in [*((u, "page") for u in self.site.start_urls),
                          *((u, "sitemap") for u in self.site.sitemaps)]:
            try:
                split_url(url)
            except BadURL as exc:
                self.recorder.failure(url, exc.reason, outcome="refused")
                continue
            items.append(FrontierItem(self._canonical(url) if kind == "page" else url, kind, 0))
        for item in items:
            if item.url not in self.seen:
                self.seen.add(item.url)
                self.pending.append(item)
                self._push(item)
        self._flush()

    def _resume(self) -> None:
        for item, done in self.catalogue.frontier(self.run_id):
            self.seen.add(item.url)
            if item.kind == "page" and urlsplit(item.url).query:
                self.variants[path_key(item.url)] += 1
            if not done:
                self._push(item)

    def _push(self, item: FrontierItem) -> None:
        host = self.hosts.setdefault(netloc(item.url), Host())
        heapq.heappush(host.queue, (item.not_before, item.depth, next(self._order), item))

    def _next(self) -> FrontierItem | None:
        ready = [(max(h.next_ready, h.queue[0][0]), name) for name, h in self.hosts.items()
                 if h.queue and not h.postponed]
        if not ready:
            return None
        when, name = min(ready)
        wait = when - time.time()
        if wait > 0:
            time.sleep(wait)
        return heapq.heappop(self.hosts[name].queue)[3]

    def _process(self, item: FrontierItem) -> None:
        host = self._host(item.url)
        if host.postponed:
            with self.catalogue.transaction():
                self._flush()  # the item stays undone in the frontier: the next run fetches it
            return
        if host.robots is not None and not host.robots.allowed(item.url):
            self.stats.skipped_robots += 1
            logger.info("robots.txt disallows %s", item.url)
            self._finish(item)
            return
        if host.pages >= self.crawl.max_pages_per_host:
            self.stats.skipped["host-budget"] += 1
            self._finish(item)
            return
        if item.kind == "page" and self._unchanged_by_lastmod(item):
            self._finish(item)
            return
        self._fetch_chain(item)
        self._finish(item)

    def _finish(self, item: FrontierItem) -> None:
        with self.catalogue.transaction():
            self._flush()
            for url in [item.url, *self.also_done]:
                self.catalogue.mark_done(self.run_id, url)
        self.also_done = []
        self.on_event(item.url, self.stats, sum(len(h.queue) for h in self.hosts.values()))

    def _flush(self) -> None:
        if self.pending:
            self.catalogue.enqueue(self.run_id, self.pending)
            self.pending = []

    # -- hosts and robots.txt ------------------------------------------------------------------
    def _host(self, url: str) -> Host:
        name = netloc(url)
        host = self.hosts.setdefault(name, Host())
        if host.robots is None:
            scheme = urlsplit(url).scheme
            host.robots = self._load_robots(f"{scheme}://{name}/robots.txt", host)
            if host.postponed:
                return host
            for sitemap in host.robots.sitemaps:
                self._consider(sitemap, 0, "sitemap")
            if not host.robots.sitemaps and not any(netloc(s) == name for s in self.site.sitemaps):
                self._consider(f"{scheme}://{name}/sitemap.xml", 0, "probe")
        return host

    def _load_robots(self, url: str, host: Host) -> RobotsRules:
        agent, cap = self.crawl.robots_agent, self.crawl.max_crawl_delay
        try:
            resp = self._follow(url, {}, hops=self.crawl.max_redirects)
        except RefusedURL as exc:
            self.recorder.failure(url, exc.reason, outcome="refused")
            rules = rules_from_response(None, b"", agent, cap)
        except FetchError as exc:
            self.recorder.failure(url, exc.reason, outcome="robots")
            rules = rules_from_response(None, b"", agent, cap)
        else:
            self.recorder.failure(url, f"robots-{resp.status}", resp, outcome="robots")
            rules = rules_from_response(resp.status, resp.body, agent, cap)
        if rules.status == "unreachable":
            logger.error("robots.txt of %s is unreachable: not crawling this host", netloc(url))
        elif rules.status == "postponed":
            self.stats.postponed[netloc(url)] = f"robots.txt answered {rules.http_status}"
            logger.error("robots.txt of %s answered %s: leaving this host to the next run",
                         netloc(url), rules.http_status)
        host.next_ready = max(host.next_ready, time.time() + self._delay(rules))
        return rules

    def _follow(self, url: str, headers: dict[str, str], hops: int) -> Response:
        """Fetch with retries, following redirects (for robots.txt only); raise FetchError."""
        for _ in range(hops + 1):
            resp = self._fetch(url, headers)
            location = resp.header("Location")
            if not (300 <= resp.status < 400 and location):
                return resp
            target = absolute_url(url, location)
            if target is None:
                raise FetchError("bad-redirect", location)
            self.recorder.redirect(url, resp, target)
            self.policy.check_url(target)
            url = target
        raise FetchError("too-many-redirects", url)

    def _crawled_as_page(self, url: str) -> bool:
        """Tell whether this run takes a URL as a page (queued or done), not as a requisite."""
        try:
            canonical = self._canonical(url)
        except ValueError:
            return False
        return (canonical in self.seen and canonical not in self.not_followed
                and self.site.allowed(canonical))

    def _robots_allow(self, url: str) -> bool:
        """Tell whether robots.txt of the URL's host lets us fetch it (loading it if need be)."""
        host = self._host(url)
        return host.robots is not None and host.robots.allowed(url)

    def _delay(self, robots: RobotsRules | None) -> float:
        return max(self.crawl.delay, robots.crawl_delay if robots else 0.0)

    # -- one request, with retries -------------------------------------------------------------
    def _fetch(self, url: str, headers: dict[str, str]) -> Response:
        host = self.hosts.setdefault(netloc(url), Host())
        for attempt in range(self.crawl.retries + 1):
            wait = host.next_ready - time.time()
            if wait > 0:
                time.sleep(wait)
            self.policy.check_url(url)
            if self.gate is not None:
                self.gate(netloc(url), self._delay(host.robots))
            try:
                resp = self.fetcher.fetch(url, headers)
            except RefusedURL:
                raise
            except FetchError as exc:
                if exc.reason in NOT_RETRYABLE or attempt == self.crawl.retries:
                    raise
                self.recorder.failure(url, exc.reason, outcome="retry")
                host.next_ready = time.time() + self._backoff(attempt)
                self.stats.retries += 1
                continue
            finally:
                host.next_ready = max(host.next_ready, time.time() + self._delay(host.robots))
            self.stats.fetched += 1
            host.pages += 1
            if resp.status not in RETRYABLE_STATUS or attempt == self.crawl.retries:
                return resp
            retry_after = retry_after_seconds(resp.header("Retry-After"))
            if retry_after is not None and retry_after > self.crawl.max_retry_after:
                return resp  # the caller records the failure; asking for hours is a refusal
            self.recorder.failure(url, f"http-{resp.status}", resp, outcome="retry")
            pause = retry_after if retry_after is not None else self._backoff(attempt)
            host.next_ready = max(host.next_ready, time.time() + pause)
            self.stats.retries += 1
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        return float(self.crawl.backoff * (2 ** attempt) * random.uniform(0.75, 1.25))

    # -- a URL and its redirects ---------------------------------------------------------------
    def _fetch_chain(self, item: FrontierItem) -> None:
        url, chain = item.url, [item.url]
        for _ in range(self.crawl.max_redirects + 1):
            state, latest = self.recorder.previous(url)
            headers = {}
            if latest is not None and state is not None and not _lastmod_newer(state, latest):
                if state.etag:
                    headers["If-None-Match"] = state.etag
                if state.last_modified:
                    headers["If-Modified-Since"] = state.last_modified
            try:
                resp = self._fetch(url, headers)
            except RefusedURL as exc:
                self.recorder.failure(url, exc.reason, outcome="refused")
                return
            except FetchError as exc:
                self.recorder.failure(url, exc.reason)
                return
            location = resp.header("Location")
            if not (300 <= resp.status < 400 and resp.status != 304 and location):
                self._handle(item, url, resp)
                return
            target = absolute_url(url, location)
            self.recorder.redirect(url, resp, target or location)
            if target is None:
                self.recorder.failure(url, "bad-redirect")
                return
            if target in chain:
                self.recorder.failure(item.url, "redirect-loop")
                return
            if not self._redirect_allowed(item, target):
                return
            chain.append(target)
            url = target
        self.recorder.failure(item.url, "too-many-redirects")

    def _redirect_allowed(self, item: FrontierItem, target: str) -> bool:
        try:
            self.policy.check_url(target)
            if netloc(target) in self.requisite_only:
                raise RefusedURL("off-site", target)
        except RefusedURL as exc:
            self.recorder.failure(target, exc.reason, outcome="refused")
            return False
        key = self._canonical(target)
        host = self._host(target)
        if host.postponed and key not in self.seen:
            self.seen.add(key)
            self.pending.append(FrontierItem(key, "page", item.depth))  # for the next run
            return False
        if host.robots is not None and not host.robots.allowed(target):
            self.stats.skipped_robots += 1
            return False
        if key in self.seen and key != item.url:
            return False  # the target is (or will be) fetched under its canonical URL
        if key not in self.seen:
            self.seen.add(key)
            self.pending.append(FrontierItem(key, "page", item.depth))
            self.also_done.append(key)
        return True

    def _handle(self, item: FrontierItem, url: str, resp: Response) -> None:
        if resp.status == 304:
            _, latest = self.recorder.previous(url)
            if latest is None:
                self.recorder.failure(url, "unexpected-304", resp)
                return
            self.recorder.not_modified(url, resp, latest)
            self._discover_stored(item, latest.ref, latest.content_type)
            return
        if not 200 <= resp.status < 300:
            # a guessed /sitemap.xml that is not there is no failure of the site
            absent = item.kind == "probe" and 400 <= resp.status < 500
            self.recorder.failure(url, f"http-{resp.status}", resp, "absent" if absent else "failed")
            return
        doc_url, text_hash, links = self._digest(url, resp)
        try:
            sitemap = self._sitemap(item, resp.content_type, resp.body) if links is None else None
        except SitemapTooLarge as exc:
            self.recorder.failure(url, exc.reason, resp)
            return
        _, latest = self.recorder.previous(url, doc_url)
        doc_id, number = self.recorder.capture(url, resp, doc_url, text_hash, latest)
        self._discover(item, links, sitemap)  # first: a linked PDF the crawl takes as a page is no requisite
        if number is not None and links is not None and self.requisites is not None:
            self.requisites.for_page(doc_id, number, url, resp)

    def _digest(self, url: str, resp: Response) -> tuple[str, str, list[str] | None]:
        """Return the document URL, the text hash and (for HTML) the links of a 2xx response."""
        doc_url = self._canonical(url)
        if not resp.is_html:
            return doc_url, hashlib.sha256(resp.body).hexdigest(), None
        page = self._parse_page(resp.body, resp.header("Content-Type"), url)
        if page.canonical and netloc(page.canonical) in self.site.hosts:
            try:
                canonical = self._canonical(page.canonical)
            except ValueError:
                canonical = doc_url  # an ambiguous rel=canonical names nothing
            if urlsplit(canonical).path not in ("", "/") or urlsplit(doc_url).path in ("", "/"):
                doc_url = canonical
        return doc_url, page.text_hash, [*page.links, *([page.canonical] if page.canonical else [])]

    def _parse_page(self, body: bytes, content_type: str | None, url: str) -> PageLinks:
        cap = self.crawl.max_links_per_page
        page = parse_page(body, content_type, url, max_links=cap)
        if page.ignored:
            logger.warning("%s: %s has %d links more than max_links_per_page (%d): ignored",
                           self.site.key, url, page.ignored, cap)
        return page

    def _unchanged_by_lastmod(self, item: FrontierItem) -> bool:
        if not self.crawl.sitemap_lastmod_skip:
            return False
        state, latest = self.recorder.previous(item.url)
        if state is None or latest is None or not state.sitemap_lastmod or not state.last_checked:
            return False
        if _lastmod_newer(state, latest):
            return False
        checked = datetime.fromisoformat(state.last_checked)
        if datetime.now(UTC) - checked > timedelta(days=self.crawl.recheck_days):
            return False
        self.recorder.unchanged_by_lastmod(item.url, latest)
        self._discover_stored(item, latest.ref, latest.content_type)
        return True

    # -- discovery -----------------------------------------------------------------------------
    def _discover_stored(self, item: FrontierItem, ref: RecordRef, content_type: str) -> None:
        headers, body = self.store.read_payload(ref)
        ctype = next((v for k, v in headers if k.lower() == "content-type"), content_type)
        links, sitemap = None, None
        if content_type in ("text/html", "application/xhtml+xml"):
            links = self._parse_page(body, ctype, item.url).links
        else:
            try:
                sitemap = self._sitemap(item, content_type, body)
            except SitemapTooLarge as exc:
                self.recorder.failure(item.url, exc.reason)
                return
        self._discover(item, links, sitemap)

    def _sitemap(self, item: FrontierItem, content_type: str, body: bytes) -> Sitemap | None:
        """Parse a body as a sitemap if it may be one; raise SitemapTooLarge past the size cap."""
        if item.kind not in ("sitemap", "probe") and "xml" not in content_type:
            return None
        try:
            return parse_sitemap(body, self.crawl.max_body_bytes)
        except SitemapTooLarge:
            if item.kind != "page":
                raise
            return None  # a page that merely looks like XML is kept as it is, not read as one
        except ValueError as exc:
            if item.kind != "page":
                logger.warning("sitemap %s: %s", item.url, exc)
            return None

    def _discover(self, item: FrontierItem, links: list[str] | None, sitemap: Sitemap | None) -> None:
        if links is not None:
            for link in links:
                self._consider(link, item.depth + 1, "page")
            return
        if sitemap is not None:
            for child in sitemap.children:
                self._consider(child, item.depth, "sitemap")
            with self.catalogue.transaction():
                for page, lastmod in sitemap.pages:
                    url = self._consider(page, 1, "page", from_sitemap=True)
                    if url and lastmod:
                        self.catalogue.set_sitemap_lastmod(self.site.key, url, lastmod.isoformat())

    def _canonical(self, url: str) -> str:
        # menus and footers repeat the same links on every page: canonicalise each once
        canonical = self._canonical_memo.get(url)
        if canonical is None:
            split_url(url)  # raises BadURL for a URL the HTTP client could read another way
            canonical = canonical_url(url, self.crawl.tracking_params, self.crawl.strip_trailing_slash)
            self._canonical_memo[url] = canonical
        return canonical

    def _consider(self, link: str, depth: int, kind: str, from_sitemap: bool = False) -> str | None:
        """Queue a discovered URL if it is in scope and not a trap; return its canonical form."""
        try:
            url = self._canonical(link)
        except BadURL as exc:
            if link not in self.seen:
                self.seen.add(link)
                self.stats.refused[exc.reason] += 1
                logger.warning("%s: refused %s: %s", self.site.key, link, exc.reason)
            return None
        except ValueError:
            return None
        if url in self.seen:
            return url
        if kind == "page" and not self.site.allowed(url) and url not in self.site.start_urls:
            self._refuse_if_internal(url)
            return None
        if kind != "page" and netloc(url) not in self.site.hosts:
            return None
        reason = trap_reason(url, self.crawl)
        if reason is None and depth > self.crawl.max_depth:
            reason = "max-depth"
        if reason is None and kind == "page" and not from_sitemap and urlsplit(url).query:
            self.variants[path_key(url)] += 1
            if self.variants[path_key(url)] > self.crawl.max_query_variants:
                reason = "query-variants"
        self.seen.add(url)
        if reason is not None:
            self.not_followed.add(url)
            self.stats.skipped[reason] += 1
            logger.debug("not following %s: %s", url, reason)
            return None
        item = FrontierItem(url, kind, depth)
        self.pending.append(item)
        self._push(item)
        return url

    def _refuse_if_internal(self, url: str) -> None:
        """Count and log links to loopback, private or link-local hosts (never fetched)."""
        host = (urlsplit(url).hostname or "").lower()
        try:
            internal = not is_public(ipaddress.ip_address(host))
        except ValueError:
            internal = host == "localhost" or host.endswith(".localhost")
        if internal and netloc(url) not in self.policy.netlocs:
            self.seen.add(url)
            self.stats.refused["forbidden-address"] += 1
            logger.warning("refused %s: internal address outside the configured sites", url)


def _lastmod_newer(state: UrlState, latest: Version) -> bool:
    """Tell whether the sitemap says a page changed after its latest capture."""
    if not state.sitemap_lastmod:
        return False
    return datetime.fromisoformat(state.sitemap_lastmod) > datetime.fromisoformat(latest.captured)
