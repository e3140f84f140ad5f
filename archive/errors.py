"""Exceptions raised by the archive package; the CLI turns them into one-line messages."""


class ArchiveError(Exception):
    """Base class for every error the archive package raises on purpose.

    `status` is the HTTP status of a web reply to it (as pywb's WbException carries its own):
    the web app's one error handler answers with it, so views need not catch domain errors.
    """

    status = 500


class SettingsError(ArchiveError):
    """A setting is unknown, of the wrong type or unusable; the message names key and file."""


class CrawlLocked(ArchiveError):
    """Another crawl holds the lock on this data directory."""


class FetchError(ArchiveError):
    """A fetch failed; `reason` is a short machine-readable cause such as 'timeout'."""

    def __init__(self, reason: str, detail: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


class RefusedURL(FetchError):
    """A request was refused before it was sent: off-site host or forbidden address."""


class CatalogueError(ArchiveError):
    """The catalogue is unreadable or inconsistent with the WARC files."""


class NoArchive(CatalogueError):
    """A command that reads the archive found none: nothing was crawled or imported yet."""

    status = 503
