"""Exceptions raised by the indexer; the CLI and the web app turn them into messages."""

from archive.errors import ArchiveError


class IndexerError(ArchiveError):
    """Base class of the indexer's errors."""


class IndexMissing(IndexerError):
    """No index has been built in this data directory yet."""

    status = 503


class IndexVersionError(IndexerError):
    """The index was built with another schema version: rebuild it."""

    status = 503


class QueryError(IndexerError):
    """A query is outside the bounds or malformed; the message says what to change."""

    status = 400


class SearchTimeout(QueryError):
    """A search ran past its time limit."""
