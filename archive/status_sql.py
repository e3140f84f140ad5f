"""The status report's SQL over the JSON the catalogue keeps (a release, a run's counters), in
each engine's own dialect: SQLite's json_extract and GLOB, PostgreSQL's jsonb operators and
regular expressions. Both give the same rows; tests/test_status.py compares the two reports.

The JSON lives in TEXT columns on both engines (the schema is one), so PostgreSQL casts it to
jsonb where it reads it.
"""

from __future__ import annotations

from archive.database import Database

_LATEST_RELEASES = """
WITH latest AS (SELECT document_id, MAX(version) AS version FROM cleaned
                WHERE is_release = 1 GROUP BY document_id)"""

# One pass over the latest release version of each document (as Catalogue.releases() reads
# them): each release's JSON is parsed once into a few small columns (MATERIALIZED, so that the
# counts and the problem lists read those columns rather than parse the JSON again).
_RELEASE_ROWS_SQLITE = _LATEST_RELEASES + """,
j AS (SELECT c.site, c.release_id,
             json_extract(c.release, '$.url', '$.published', '$.language', '$.countries') AS meta,
             length(trim(coalesce(json_extract(c.release, '$.body'), ''))) AS body_length
      FROM cleaned c JOIN latest l ON l.document_id = c.document_id AND l.version = c.version
      WHERE c.is_release = 1),
r AS MATERIALIZED (
      SELECT site, release_id, json_extract(meta, '$[0]') AS url,
             CASE WHEN coalesce(json_extract(meta, '$[1]'), '')
                       GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]*'
                  THEN substr(json_extract(meta, '$[1]'), 1, 7) END AS month,
             coalesce(json_extract(meta, '$[2]'), 'und') AS language,
             body_length = 0 AS no_body,
             coalesce(json_array_length(meta, '$[3]'), 0) = 0 AS no_country
      FROM j)
"""
_RELEASE_ROWS_POSTGRESQL = _LATEST_RELEASES + """,
j AS (SELECT c.site, c.release_id, c.release::jsonb AS doc
      FROM cleaned c JOIN latest l ON l.document_id = c.document_id AND l.version = c.version
      WHERE c.is_release = 1),
r AS MATERIALIZED (
      SELECT site, release_id, doc ->> 'url' AS url,
             CASE WHEN coalesce(doc ->> 'published', '') ~ '^[0-9]{4}-[0-1][0-9]'
                  THEN substr(doc ->> 'published', 1, 7) END AS month,
             coalesce(doc ->> 'language', 'und') AS language,
             length(trim(coalesce(doc ->> 'body', ''))) = 0 AS no_body,
             CASE WHEN jsonb_typeof(doc -> 'countries') = 'array'
                  THEN jsonb_array_length(doc -> 'countries') ELSE 0 END = 0 AS no_country
      FROM j)
"""

# Documents that cleaning dropped: no version of them is a release. The reason is the latest
# version's, its kind the reason without its details ("too little text (12 words)" -> "too
# little text", "error: ..." -> "error").
_DROPPED_ROWS = """
WITH latest AS (SELECT document_id, MAX(version) AS version FROM cleaned GROUP BY document_id),
d AS MATERIALIZED (
      SELECT c.site, c.document_id, c.version, coalesce(c.reason, '') AS reason,
             CASE WHEN coalesce(c.reason, '') LIKE 'error:%' THEN 'error'
                  WHEN {find} > 0 THEN substr(c.reason, 1, {find} - 1)
                  ELSE coalesce(c.reason, '') END AS kind
      FROM cleaned c JOIN latest l ON l.document_id = c.document_id AND l.version = c.version
      WHERE c.is_release = 0 AND NOT EXISTS (
            SELECT 1 FROM cleaned r WHERE r.document_id = c.document_id AND r.is_release = 1))
"""

_CONTACT_ROWS_SQLITE = _LATEST_RELEASES + """
SELECT c.site, c.release_id, json_extract(c.release, '$.url') AS url,
       json_extract(c.release, '$.contacts') AS contacts
FROM cleaned c JOIN latest l ON l.document_id = c.document_id AND l.version = c.version
WHERE c.is_release = 1 AND coalesce(json_array_length(c.release, '$.contacts'), 0) > 0
ORDER BY c.site, url, c.release_id
"""
_CONTACT_ROWS_POSTGRESQL = _LATEST_RELEASES + """
SELECT site, release_id, url, contacts FROM (
  SELECT c.site, c.release_id, c.release::jsonb ->> 'url' AS url,
         c.release::jsonb -> 'contacts' AS contact_list, c.release::jsonb ->> 'contacts' AS contacts
  FROM cleaned c JOIN latest l ON l.document_id = c.document_id AND l.version = c.version
  WHERE c.is_release = 1) released
WHERE jsonb_typeof(contact_list) = 'array' AND jsonb_array_length(contact_list) > 0
ORDER BY site COLLATE "C", url COLLATE "C", release_id COLLATE "C"
"""


def in_text_order(db: Database, *columns: str) -> str:
    """Return an ORDER BY list that sorts text by code point on both engines, as SQLite does:
    PostgreSQL would otherwise sort by the database's collation (en_US ignores punctuation)."""
    return ", ".join(columns if db.sqlite else (f'{column} COLLATE "C"' for column in columns))


def release_rows(db: Database) -> str:
    """Return the WITH clause that makes `r`: site, release_id, url, month (YYYY-MM or NULL),
    language, no_body, no_country, one row per latest release version."""
    return _RELEASE_ROWS_SQLITE if db.sqlite else _RELEASE_ROWS_POSTGRESQL


def dropped_rows(db: Database) -> str:
    """Return the WITH clause that makes `d`: site, document_id, version, reason and kind of
    every document no version of which is a release."""
    find = "instr(c.reason, ' (')" if db.sqlite else "strpos(c.reason, ' (')"
    return _DROPPED_ROWS.format(find=find)


def contact_rows(db: Database) -> str:
    """Return the query of the latest releases with contacts: site, release_id, url and the
    contacts as JSON text, by site and URL."""
    return _CONTACT_ROWS_SQLITE if db.sqlite else _CONTACT_ROWS_POSTGRESQL


def run_counter(db: Database, key: str) -> str:
    """Return the SQL expression of a run's counter `key` from its stats (0 when absent)."""
    if not key.replace("_", "").isalnum():
        raise ValueError(f"not a counter name: {key!r}")
    if db.sqlite:
        return f"coalesce(json_extract(stats, '$.{key}'), 0)"
    return f"coalesce((stats::jsonb ->> '{key}')::numeric, 0)"


def run_breakdowns(db: Database) -> str:
    """Return the query of the runs' failed and refused fetches by reason, summed by site:
    site, 'failed' or 'refused', reason, count."""
    if db.sqlite:
        part = ("SELECT r.site, '{kind}', j.key, SUM(j.value) FROM runs r, json_each(r.stats, "
                "'$.{kind}') j WHERE r.stats IS NOT NULL GROUP BY r.site, j.key")
    else:
        part = ("SELECT r.site, '{kind}', j.key, SUM(j.value::numeric) FROM runs r, jsonb_each_text("
                "CASE WHEN jsonb_typeof(r.stats::jsonb -> '{kind}') = 'object' "
                "THEN r.stats::jsonb -> '{kind}' ELSE '{{}}'::jsonb END) j"
                " WHERE r.stats IS NOT NULL GROUP BY r.site, j.key")
    return " UNION ALL ".join(part.format(kind=kind) for kind in ("failed", "refused"))


# the catalogue's tables; on PostgreSQL the other stores' tables share its database
CATALOGUE_TABLES = ("meta", "runs", "documents", "versions", "urls", "fetches", "cleaned",
                    "requisites", "requisite_urls", "page_requisites", "frontier")


def catalogue_size(db: Database) -> int:
    """Return the size on disk of the catalogue's tables and their indexes in a PostgreSQL
    database (a SQLite catalogue's size is its files')."""
    if db.sqlite:
        raise ValueError("a SQLite catalogue's size is the size of its files")
    found = db.scalar(
        "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname = ANY(:tables)",
        {"tables": list(CATALOGUE_TABLES)})
    return int(found)
