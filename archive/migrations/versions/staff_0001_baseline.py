"""Staff baseline: accounts and their login sessions.

Revision ID: staff_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "staff_0001"
down_revision = None
branch_labels = ("staff",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users", sa.Column("name", sa.Text, primary_key=True),
        sa.Column("password", sa.Text, nullable=False), sa.Column("created", sa.Text, nullable=False),
        sa.Column("last_login", sa.Text), if_not_exists=True)
    op.create_table(
        "sessions", sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, sa.ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
        sa.Column("created", sa.Text, nullable=False), if_not_exists=True)


def downgrade() -> None:
    op.drop_table("sessions")
    op.drop_table("users")
