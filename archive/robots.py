"""robots.txt rules per host, with RFC 9309's status rules.

2xx: parse the file. 4xx: no rules, everything allowed. 5xx or no answer: the whole host is
disallowed for this run. Redirects are followed by the crawler before the body gets here.
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

    def allowed(self, url: str) -> bool:
        """Tell whether the agent may fetch `url`."""
        if self.status == "unreachable":
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
    """Build the rules from a robots.txt answer; status None means no answer at all."""
    if status is None or status >= 500:
        return RobotsRules("unreachable", agent=agent, max_crawl_delay=max_crawl_delay)
    if 400 <= status < 500:
        return RobotsRules("absent", agent=agent, max_crawl_delay=max_crawl_delay)
    if not 200 <= status < 300:
        return RobotsRules("unreachable", agent=agent, max_crawl_delay=max_crawl_delay)
    text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
    return RobotsRules("parsed", Protego.parse(text), agent=agent, max_crawl_delay=max_crawl_delay)
