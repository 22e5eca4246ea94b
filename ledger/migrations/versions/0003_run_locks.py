"""Run lock: one bulk or daily run at a time per ledger.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01

One row per ledger (name 'ledger') while a run holds it: who, which run, since when, from
which host and process, and a lease the holder's heartbeat extends. On SQLite the row is
the lock; on PostgreSQL a session advisory lock is the lock and the row says who holds it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "run_locks",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("run_name", sa.String(200), nullable=False),
        sa.Column("operator", sa.String(128), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("out_dir", sa.Text, nullable=False),
        sa.Column("since", Ts, nullable=False),
        sa.Column("lease_until", Ts, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_run_locks"),
    )


def downgrade() -> None:
    op.drop_table("run_locks")
