"""An index on notices(number_id) that every query can use.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

"Which active numbers have no live notice" (the funnel at the end of every run, the
planning of pending notices, `reconcile`) looks up each number's notices. The only index on
``number_id`` was the partial unique one (one live notice per number), and SQLite uses a
partial index only when the query repeats its WHERE with the same constants, which a query
with bound parameters never does: each of 715,000 numbers scanned the whole notices table
(quadratic; the funnel of a Nerima-size run did not finish in minutes). Measured in
bench/bulk.py; the plan is checked in tests/ledger/test_notices_index.py.
"""
from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notices_number_id", "notices", ["number_id"])


def downgrade() -> None:
    op.drop_index("ix_notices_number_id", table_name="notices")
