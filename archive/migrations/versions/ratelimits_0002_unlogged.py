"""Rate limits: on PostgreSQL the buckets skip the write-ahead log.

Revision ID: ratelimits_0002
Revises: ratelimits_0001
Buckets are worth no durability (a crash forgets some budgets, as a restart of a single
server always did); without WAL a take costs no log write and no replication traffic. SQLite
keeps the same effect with synchronous=OFF on the file.
"""

from __future__ import annotations

from alembic import op

revision = "ratelimits_0002"
down_revision = "ratelimits_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE buckets SET UNLOGGED")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE buckets SET LOGGED")
