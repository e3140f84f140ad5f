"""Catalogue: crawl passes shared by workers, their tasks (one per site), and host leases.

Revision ID: catalogue_0003
Revises: catalogue_0002
A pass of `pressroom crawl --workers N` is a row of crawl_passes with one crawl_tasks row per
site. A worker takes a task by leasing every host of the site in host_leases (worker, expiry);
a lease that expires (the worker died) lets another worker take the task over. host_leases
also keeps each host's last request time and delay, so that politeness holds across workers.
Times here are seconds since the epoch, by the database's clock when it is PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "catalogue_0003"
down_revision = "catalogue_0002"
branch_labels = None
depends_on = None

TEXT, INT, FLOAT = sa.Text, sa.Integer, sa.Float


def upgrade() -> None:
    new = {"if_not_exists": True}  # a migration killed half-way on SQLite is re-run
    op.create_table(
        "crawl_passes", sa.Column("id", INT, primary_key=True),
        sa.Column("started", TEXT, nullable=False), sa.Column("finished", TEXT),
        sa.Column("state", TEXT, nullable=False), sa.Column("started_by", TEXT), **new)
    op.create_table(
        "crawl_tasks", sa.Column("id", INT, primary_key=True),
        sa.Column("pass_id", INT, sa.ForeignKey("crawl_passes.id"), nullable=False),
        sa.Column("site", TEXT, nullable=False), sa.Column("config", TEXT, nullable=False),
        sa.Column("hosts", TEXT, nullable=False), sa.Column("state", TEXT, nullable=False),
        sa.Column("worker", TEXT), sa.Column("run_id", INT), sa.Column("takeovers", INT,
                                                                      nullable=False,
                                                                      server_default="0"),
        sa.Column("started", TEXT), sa.Column("finished", TEXT), sa.Column("message", TEXT),
        **new)
    op.create_index("crawl_tasks_pass", "crawl_tasks", ["pass_id", "state"], if_not_exists=True)
    op.create_table(
        "host_leases", sa.Column("host", TEXT, primary_key=True), sa.Column("worker", TEXT),
        sa.Column("task_id", INT), sa.Column("expires", FLOAT(53), nullable=False,
                                             server_default="0"),
        sa.Column("last_request", FLOAT(53), nullable=False, server_default="0"),
        sa.Column("delay", FLOAT(53), nullable=False, server_default="0"), **new)


def downgrade() -> None:
    op.drop_table("host_leases")
    op.drop_index("crawl_tasks_pass", "crawl_tasks")
    op.drop_table("crawl_tasks")
    op.drop_table("crawl_passes")
