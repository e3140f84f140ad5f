"""Staff: the key that signs login cookies, kept in the database when it is shared.

Revision ID: staff_0002
Revises: staff_0001
Web nodes behind a load balancer must sign and check the staff cookie with one key, or a login
made on one node is refused by the next. With SQLite the key stays in DATA_DIR/secret_key (the
table exists but is unused); with PostgreSQL the first node to need it stores it here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "staff_0002"
down_revision = "staff_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys", sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False), sa.Column("created", sa.Text, nullable=False),
        if_not_exists=True)


def downgrade() -> None:
    op.drop_table("signing_keys")
