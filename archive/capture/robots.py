"""robots.txt rules per host, with RFC 9309's status rules.

2xx: parse the file. 4xx: no rules, everything allowed. 5xx or no answer: the whole host is
disallowed for this run. 429 (after the crawler's retries): the host is unreachable for now, so
it is postponed, nothing fetched, and left to the next run. Redirects are followed by the
crawler before the body gets here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from protego import Protego

logger = logging.getLogger(__name__)

MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 asks crawlers to parse at least 500 KiB


@dataclass
class RobotsRules:
    """What robots.txt says for one host; `status` explains where the rules came from."""

    status: str
    parser: Protego | None = None
    agent: str = "*"
    max_crawl_delay: float = 30.0
    http_status: int | None = None

    def allowed(self, url: str) -> bool:
        """Tell whether the agent may fetch `url`."""
        if self.status in ("unreachable", "postponed"):
            return False
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, self.agent))

    @property
    def crawl_delay(self) -> float:
        """The host's Crawl-delay in seconds, capped; 0 when it names none."""
        if self.parser is None:
            return 0.0
        delay = self.parser.crawl_delay(self.agent)
        return min(float(delay), self.max_crawl_delay) if delay else 0.0

    @property
    def sitemaps(self) -> list[str]:
        """Sitemap URLs listed in the file."""
        return list(self.parser.sitemaps) if self.parser is not None else []


def rules_from_response(status: int | None, body: bytes, agent: str,
                        max_crawl_delay: float) -> RobotsRules:
    """Build the rules from a robots.txt answer; status None means no answer at all.

    >>> [rules_from_response(s, b"", "*", 30.0).status for s in (None, 404, 429, 503)]
    ['unreachable', 'absent', 'postponed', 'unreachable']
    """
    def rules(state: str, parser: Protego | None = None) -> RobotsRules:
        return RobotsRules(state, parser, agent, max_crawl_delay, status)

    if status == 429:  # "too many requests" is no answer either: never read it as "no rules"
        return rules("postponed")
    if status is None or status >= 500:
        return rules("unreachable")
    if 400 <= status < 500:
        return rules("absent")
    if not 200 <= status < 300:
        return rules("unreachable")
    text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
    return rules("parsed", Protego.parse(text))
