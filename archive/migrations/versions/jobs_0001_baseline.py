"""Jobs baseline: work that staff queue for the scheduler.

Revision ID: jobs_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "jobs_0001"
down_revision = None
branch_labels = ("jobs",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs", sa.Column("id", sa.Integer, primary_key=True), sa.Column("kind", sa.Text, nullable=False),
        sa.Column("site", sa.Text), sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_at", sa.Text, nullable=False), sa.Column("state", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text), sa.Column("finished_at", sa.Text), sa.Column("pid", sa.Integer),
        sa.Column("message", sa.Text, nullable=False, server_default=""), if_not_exists=True)
    op.create_index("jobs_state", "jobs", ["state", "id"], if_not_exists=True)


def downgrade() -> None:
    op.drop_table("jobs")
