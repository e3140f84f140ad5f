"""Catalogue: a change sequence on cleaning results, the worker of each run, requisites' order.

Revision ID: catalogue_0002
Revises: catalogue_0001
Search nodes follow `cleaned.seq` to keep their own index current (`pressroom index
--follow`); every write of a cleaning result takes the next number. On PostgreSQL the numbers
come from a sequence (cleaners on several machines), on SQLite from MAX + 1 inside the write
transaction (one writer at a time).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "catalogue_0002"
down_revision = "catalogue_0001"
branch_labels = None
depends_on = None


def _has_column(table: str, column: str) -> bool:
    return column in {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if not _has_column("cleaned", "seq"):  # a migration killed half-way on SQLite is re-run
        op.add_column("cleaned", sa.Column("seq", sa.BigInteger))
    if not _has_column("runs", "worker"):
        op.add_column("runs", sa.Column("worker", sa.Text))
    if not _has_column("page_requisites", "position"):  # the order a page names them in
        op.add_column("page_requisites", sa.Column("position", sa.Integer))
    if postgresql:
        op.execute("CREATE SEQUENCE IF NOT EXISTS cleaned_seq")
        op.execute("UPDATE cleaned SET seq = nextval('cleaned_seq') WHERE seq IS NULL")
    else:
        op.execute("UPDATE cleaned SET seq = rowid WHERE seq IS NULL")
        op.execute("UPDATE page_requisites SET position = rowid WHERE position IS NULL")
    op.create_index("cleaned_seq", "cleaned", ["seq"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("cleaned_seq", "cleaned")
    op.drop_column("page_requisites", "position")
    op.drop_column("runs", "worker")
    op.drop_column("cleaned", "seq")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS cleaned_seq")
