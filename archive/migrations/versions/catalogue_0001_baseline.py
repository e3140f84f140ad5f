"""Catalogue baseline: the schema every SQLite catalogue had before migrations were kept.

Revision ID: catalogue_0001
Revises:
Tables are created only where missing, so an older SQLite catalogue is adopted as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "catalogue_0001"
down_revision = None
branch_labels = ("catalogue",)
depends_on = None

TEXT, INT, BIG, REAL = sa.Text, sa.Integer, sa.BigInteger, sa.Float


def upgrade() -> None:
    new = {"if_not_exists": True}
    op.create_table("meta", sa.Column("key", TEXT, primary_key=True),
                    sa.Column("value", TEXT, nullable=False), **new)
    op.create_table(
        "runs", sa.Column("id", INT, primary_key=True), sa.Column("site", TEXT, nullable=False),
        sa.Column("started", TEXT, nullable=False), sa.Column("finished", TEXT),
        sa.Column("state", TEXT, nullable=False), sa.Column("resumed_from", INT),
        sa.Column("pid", INT), sa.Column("stats", TEXT), **new)
    op.create_table(
        "documents", sa.Column("id", INT, primary_key=True), sa.Column("site", TEXT, nullable=False),
        sa.Column("url", TEXT, nullable=False, unique=True),
        sa.Column("first_captured", TEXT, nullable=False),
        sa.Column("last_captured", TEXT, nullable=False),
        sa.Column("latest_version", INT, nullable=False), **new)
    op.create_table(
        "versions", sa.Column("id", INT, primary_key=True),
        sa.Column("document_id", INT, sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("version", INT, nullable=False), sa.Column("captured", TEXT, nullable=False),
        sa.Column("url", TEXT, nullable=False), sa.Column("status", INT, nullable=False),
        sa.Column("content_type", TEXT, nullable=False), sa.Column("text_hash", TEXT, nullable=False),
        sa.Column("payload_digest", TEXT), sa.Column("warc_file", TEXT, nullable=False),
        sa.Column("warc_offset", BIG, nullable=False), sa.Column("warc_length", BIG, nullable=False),
        sa.Column("truncated", TEXT), sa.Column("run_id", INT),
        sa.UniqueConstraint("document_id", "version"), **new)
    op.create_table(
        "urls", sa.Column("url", TEXT, primary_key=True), sa.Column("site", TEXT, nullable=False),
        sa.Column("document_id", INT, sa.ForeignKey("documents.id")),
        sa.Column("outcome", TEXT, nullable=False), sa.Column("http_status", INT),
        sa.Column("reason", TEXT), sa.Column("etag", TEXT), sa.Column("last_modified", TEXT),
        sa.Column("sitemap_lastmod", TEXT), sa.Column("last_checked", TEXT),
        sa.Column("redirect_to", TEXT), **new)
    op.create_table(
        "fetches", sa.Column("id", INT, primary_key=True), sa.Column("run_id", INT, nullable=False),
        sa.Column("url", TEXT, nullable=False), sa.Column("fetched_at", TEXT, nullable=False),
        sa.Column("http_status", INT), sa.Column("outcome", TEXT, nullable=False),
        sa.Column("reason", TEXT), sa.Column("warc_file", TEXT), sa.Column("warc_offset", BIG),
        sa.Column("warc_length", BIG), sa.Column("document_id", INT), sa.Column("version", INT),
        **new)
    op.create_index("fetches_run", "fetches", ["run_id"], if_not_exists=True)
    op.create_table(
        "cleaned",
        sa.Column("document_id", INT, sa.ForeignKey("documents.id"), primary_key=True),
        sa.Column("version", INT, primary_key=True), sa.Column("release_id", TEXT),
        sa.Column("site", TEXT, nullable=False), sa.Column("is_release", INT, nullable=False),
        sa.Column("reason", TEXT), sa.Column("release", TEXT),
        sa.Column("cleaned_at", TEXT, nullable=False), **new)
    op.create_index("cleaned_release", "cleaned", ["is_release", "release_id"], if_not_exists=True)
    op.create_table(
        "requisites", sa.Column("id", INT, primary_key=True), sa.Column("site", TEXT, nullable=False),
        sa.Column("url", TEXT, nullable=False), sa.Column("kind", TEXT, nullable=False),
        sa.Column("captured", TEXT, nullable=False), sa.Column("status", INT, nullable=False),
        sa.Column("content_type", TEXT, nullable=False), sa.Column("payload_digest", TEXT),
        sa.Column("warc_file", TEXT, nullable=False), sa.Column("warc_offset", BIG, nullable=False),
        sa.Column("warc_length", BIG, nullable=False), sa.Column("truncated", TEXT),
        sa.Column("run_id", INT), **new)
    op.create_index("requisites_digest", "requisites", ["payload_digest"], if_not_exists=True)
    op.create_table(
        "requisite_urls", sa.Column("url", TEXT, primary_key=True),
        sa.Column("requisite_id", INT, sa.ForeignKey("requisites.id")), sa.Column("etag", TEXT),
        sa.Column("last_modified", TEXT), sa.Column("last_checked", TEXT, nullable=False), **new)
    op.create_table(
        "page_requisites",
        sa.Column("document_id", INT, sa.ForeignKey("documents.id"), primary_key=True),
        sa.Column("version", INT, primary_key=True), sa.Column("url", TEXT, primary_key=True),
        sa.Column("kind", TEXT, nullable=False),
        sa.Column("requisite_id", INT, sa.ForeignKey("requisites.id")),
        sa.Column("outcome", TEXT, nullable=False), **new)
    op.create_table(
        "frontier", sa.Column("run_id", INT, primary_key=True), sa.Column("url", TEXT, primary_key=True),
        sa.Column("kind", TEXT, nullable=False), sa.Column("depth", INT, nullable=False),
        sa.Column("not_before", REAL, nullable=False, server_default="0"),
        sa.Column("attempts", INT, nullable=False, server_default="0"),
        sa.Column("done", INT, nullable=False, server_default="0"), **new)


def downgrade() -> None:
    for table in ("frontier", "page_requisites", "requisite_urls", "requisites", "cleaned",
                  "fetches", "urls", "versions", "documents", "runs", "meta"):
        op.drop_table(table)
