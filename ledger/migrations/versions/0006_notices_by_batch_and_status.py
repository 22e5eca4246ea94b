"""The index on notices(run_id, batch_id) gains ``status``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

QA marks a batch's notices with ``WHERE run_id = ? AND batch_id = ? AND status = 'planned'``.
With only (run_id, batch_id) and (status) to choose from, SQLite (no statistics) took the
``status`` index and walked every planned notice of the ledger: at the start of a
Nerima-size run that is 715,000 rows for each batch of ~6,000 (0.35 s of each 6 s QA stage,
measured with py-spy in bench/bulk.py). On (run_id, batch_id, status) the three equalities
meet in one index; it also serves every query on (run_id, batch_id) alone, which the old
index did. The plan is checked in tests/ledger/test_notices.py.
"""
from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notices_run_id_batch_id_status", "notices", ["run_id", "batch_id", "status"])
    op.drop_index("ix_notices_run_id_batch_id", table_name="notices")


def downgrade() -> None:
    op.create_index("ix_notices_run_id_batch_id", "notices", ["run_id", "batch_id"])
    op.drop_index("ix_notices_run_id_batch_id_status", table_name="notices")
