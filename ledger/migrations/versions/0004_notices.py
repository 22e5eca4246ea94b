"""Notices: one per issued number and envelope, with a status history the database enforces.

Creates ``notices`` (the card's way to its holder), ``notice_history`` (written by a trigger,
append-only), ``notice_transitions`` (the allowed status changes, filled here and then frozen
by triggers) and ``resident_records`` (what a later run needs to print a card an earlier run
could not). Mirrors ledger.schema; tests compare the two.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger.schema import NOTICE_TRANSITIONS, drop_notice_triggers_for, notice_triggers_for

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Ts = sa.DateTime(timezone=True)
STATUSES = ("planned", "printed", "mailed", "delivered", "returned", "held", "handed_over",
            "re_sent", "destroyed", "voided")


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("notice_id", Id, autoincrement=True, nullable=False),
        sa.Column("number_id", Id, nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("household_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("envelope_seq", sa.Integer, nullable=False),
        sa.Column("registered_mail_number", sa.String(11), nullable=False),
        sa.Column("is_manual", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("void_reason", sa.String(32)),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_why", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("notice_id", name="pk_notices"),
        sa.ForeignKeyConstraint(["number_id"], ["issued_numbers.number_id"],
                                name="fk_notices_number_id_issued_numbers"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_notices_run_id_runs"),
        sa.CheckConstraint("status IN (" + ", ".join(repr(s) for s in STATUSES) + ")",
                           name="ck_notices_status"),
        sa.CheckConstraint("length(registered_mail_number) = 11",
                           name="ck_notices_registered_mail_number"),
    )
    op.create_index("ix_notices_registered_mail_number", "notices", ["registered_mail_number"])
    op.create_index("ix_notices_run_id_batch_id", "notices", ["run_id", "batch_id"])
    op.create_index("ix_notices_status", "notices", ["status"])
    op.create_index("uq_notices_one_live_per_number", "notices", ["number_id"], unique=True,
                    sqlite_where=sa.text("status NOT IN ('voided', 're_sent')"),
                    postgresql_where=sa.text("status NOT IN ('voided', 're_sent')"))

    op.create_table(
        "notice_history",
        sa.Column("history_id", Id, autoincrement=True, nullable=False),
        sa.Column("notice_id", Id, nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("at", Ts, nullable=False),
        sa.Column("who", sa.String(128), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("history_id", name="pk_notice_history"),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.notice_id"],
                                name="fk_notice_history_notice_id_notices"),
    )
    op.create_index("ix_notice_history_notice_id", "notice_history", ["notice_id"])

    transitions = op.create_table(
        "notice_transitions",
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("from_status", "to_status", name="pk_notice_transitions"),
    )
    op.bulk_insert(transitions, [{"from_status": a, "to_status": b} for a, b in NOTICE_TRANSITIONS])

    op.create_table(
        "resident_records",
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        sa.PrimaryKeyConstraint("resident_code", name="pk_resident_records"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_resident_records_run_id_runs"),
    )

    for ddl in notice_triggers_for(op.get_bind().dialect.name):
        op.execute(ddl)


def downgrade() -> None:
    for ddl in drop_notice_triggers_for(op.get_bind().dialect.name):
        op.execute(ddl)
    for table in ("resident_records", "notice_transitions", "notice_history", "notices"):
        op.drop_table(table)
