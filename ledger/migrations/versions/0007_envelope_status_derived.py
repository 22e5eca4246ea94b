"""One envelope life: ``mailings`` keeps only the envelope, its status comes from its notices.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

Before, an envelope had two state machines: each card's ``notices.status`` (enforced by
triggers, with its own history) and ``mailings.status`` (only ever set to ``printed``, in
another vocabulary: ``re-sent``). ``ledger stats`` showed the second, so delivered envelopes
read as printed. Now ``mailings`` is the envelope row (household, batch, sequence,
registered-mail number, run, created_at) and its status is derived from its notices
(``ledger.mailings.status_of``). Dropped: ``mailings.status``, ``mailings.updated_at`` and
``mailing_history``: every change they recorded is also in ``notice_history`` (for envelopes
with notices) and in the audit log (``set_mailing_status`` entries), which stay.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Ts = sa.DateTime(timezone=True)
OLD_STATUSES = ("planned", "printed", "mailed", "returned", "held", "re-sent", "destroyed")


def upgrade() -> None:
    op.drop_index("ix_mailing_history_mailing_id", table_name="mailing_history")
    op.drop_table("mailing_history")
    with op.batch_alter_table("mailings", recreate="auto") as batch:
        if op.get_bind().dialect.name == "sqlite":
            batch.drop_constraint("ck_mailings_status", type_="check")
        batch.drop_column("status")
        batch.drop_column("updated_at")


def downgrade() -> None:
    """Put the columns back: each envelope gets its notices' status where the old
    vocabulary has it, else ``planned``; the history starts empty."""
    with op.batch_alter_table("mailings") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False,
                                   server_default="planned"))
        batch.add_column(sa.Column("updated_at", Ts, nullable=True))
    op.execute("UPDATE mailings SET updated_at = created_at")
    op.execute(
        "UPDATE mailings SET status = (SELECT CASE WHEN min(n.status) = 're_sent' THEN 're-sent' "
        "ELSE min(n.status) END FROM notices n WHERE n.registered_mail_number = "
        "mailings.registered_mail_number AND n.status IN ('printed', 'mailed', 'returned', "
        "'held', 're_sent', 'destroyed')) WHERE EXISTS (SELECT 1 FROM notices n WHERE "
        "n.registered_mail_number = mailings.registered_mail_number AND n.status IN "
        "('printed', 'mailed', 'returned', 'held', 're_sent', 'destroyed'))")
    with op.batch_alter_table("mailings") as batch:
        batch.alter_column("updated_at", existing_type=Ts, nullable=False)
        batch.create_check_constraint(
            "ck_mailings_status",
            "status IN (" + ", ".join(repr(s) for s in OLD_STATUSES) + ")")
    op.create_table(
        "mailing_history",
        sa.Column("history_id", Id, autoincrement=True, nullable=False),
        sa.Column("mailing_id", Id, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("at", Ts, nullable=False),
        sa.PrimaryKeyConstraint("history_id", name="pk_mailing_history"),
        sa.ForeignKeyConstraint(["mailing_id"], ["mailings.mailing_id"],
                                name="fk_mailing_history_mailing_id_mailings"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"],
                                name="fk_mailing_history_run_id_runs"),
    )
    op.create_index("ix_mailing_history_mailing_id", "mailing_history", ["mailing_id"])
