"""Rate limits baseline: one token bucket per client and route class.

Revision ID: ratelimits_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ratelimits_0001"
down_revision = None
branch_labels = ("ratelimits",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "buckets", sa.Column("key", sa.Text, primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False), sa.Column("updated", sa.Float, nullable=False),
        sa.Column("full_at", sa.Float, nullable=False), sa.Column("allowed", sa.Integer, nullable=False),
        sqlite_with_rowid=False, if_not_exists=True)
    op.create_index("buckets_full_at", "buckets", ["full_at"], if_not_exists=True)


def downgrade() -> None:
    op.drop_table("buckets")
