"""Initial ledger: runs, issued numbers, events, mailings, mail-number ranges, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Written out table by table (not ``metadata.create_all``) so this revision stays what it
was when later revisions change ledger.schema; tests compare the result with the schema.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger.schema import drop_triggers_for, triggers_for

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Ts = sa.DateTime(timezone=True)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("counts", sa.Text),
        sa.Column("operator", sa.String(128), nullable=False),
        sa.Column("started_at", Ts, nullable=False),
        sa.Column("finished_at", Ts),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
        sa.CheckConstraint(_in("status", ("running", "succeeded", "failed", "partial")),
                           name="ck_runs_status"),
    )
    op.create_index("ix_runs_kind_input_sha256", "runs", ["kind", "input_sha256"])

    op.create_table(
        "issued_numbers",
        sa.Column("number_id", Id, autoincrement=True, nullable=False),
        sa.Column("my_number", sa.String(12), nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(128)),
        sa.Column("issued_at", Ts, nullable=False),
        sa.Column("revoked_at", Ts),
        sa.Column("revoked_run_id", sa.String(64)),
        sa.PrimaryKeyConstraint("number_id", name="pk_issued_numbers"),
        sa.UniqueConstraint("my_number", name="uq_issued_numbers_my_number"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_issued_numbers_run_id_runs"),
        sa.ForeignKeyConstraint(["revoked_run_id"], ["runs.run_id"],
                                name="fk_issued_numbers_revoked_run_id_runs"),
        sa.CheckConstraint(_in("status", ("active", "revoked")), name="ck_issued_numbers_status"),
        sa.CheckConstraint("length(my_number) = 12", name="ck_issued_numbers_my_number_length"),
        sa.CheckConstraint("length(resident_code) = 11",
                           name="ck_issued_numbers_resident_code_length"),
        sa.CheckConstraint("generation >= 0", name="ck_issued_numbers_generation"),
        sa.CheckConstraint(
            "(status = 'active' AND revoked_at IS NULL) OR "
            "(status = 'revoked' AND revoked_at IS NOT NULL)",
            name="ck_issued_numbers_revoked_at",
        ),
    )
    op.create_index("ix_issued_numbers_resident_code_generation", "issued_numbers",
                    ["resident_code", "generation"])
    op.create_index(
        "uq_issued_numbers_one_active_per_resident", "issued_numbers", ["resident_code"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )

    op.create_table(
        "events",
        sa.Column("event_id", Id, autoincrement=True, nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("event_date", sa.Date, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("recorded_at", Ts, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_events"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_events_run_id_runs"),
        sa.UniqueConstraint("resident_code", "event", "event_date",
                            name="uq_events_resident_code_event_event_date"),
    )

    op.create_table(
        "mailings",
        sa.Column("mailing_id", Id, autoincrement=True, nullable=False),
        sa.Column("household_id", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("envelope_seq", sa.Integer, nullable=False),
        sa.Column("registered_mail_number", sa.String(11), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        sa.PrimaryKeyConstraint("mailing_id", name="pk_mailings"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_mailings_run_id_runs"),
        sa.UniqueConstraint("run_id", "batch_id", "envelope_seq",
                            name="uq_mailings_run_id_batch_id_envelope_seq"),
        sa.UniqueConstraint("registered_mail_number", name="uq_mailings_registered_mail_number"),
        sa.CheckConstraint(
            _in("status", ("planned", "printed", "mailed", "returned", "held", "re-sent",
                           "destroyed")),
            name="ck_mailings_status",
        ),
    )
    op.create_index("ix_mailings_household_id", "mailings", ["household_id"])

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
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_mailing_history_run_id_runs"),
    )
    op.create_index("ix_mailing_history_mailing_id", "mailing_history", ["mailing_id"])

    op.create_table(
        "mail_number_ranges",
        sa.Column("range_id", Id, autoincrement=True, nullable=False),
        sa.Column("first_body", sa.BigInteger, nullable=False),
        sa.Column("last_body", sa.BigInteger, nullable=False),
        sa.Column("next_body", sa.BigInteger, nullable=False),
        sa.Column("created_at", Ts, nullable=False),
        sa.PrimaryKeyConstraint("range_id", name="pk_mail_number_ranges"),
        sa.CheckConstraint("first_body <= last_body", name="ck_mail_number_ranges_bounds"),
        sa.CheckConstraint("next_body BETWEEN first_body AND last_body + 1",
                           name="ck_mail_number_ranges_next"),
    )

    op.create_table(
        "registered_mail_numbers",
        sa.Column("registered_mail_number", sa.String(11), nullable=False),
        sa.Column("range_id", Id, nullable=False),
        sa.Column("allocated_at", Ts, nullable=False),
        sa.PrimaryKeyConstraint("registered_mail_number", name="pk_registered_mail_numbers"),
        sa.ForeignKeyConstraint(["range_id"], ["mail_number_ranges.range_id"],
                                name="fk_registered_mail_numbers_range_id_mail_number_ranges"),
    )

    op.create_table(
        "audit_log",
        sa.Column("audit_id", Id, autoincrement=True, nullable=False),
        sa.Column("at", Ts, nullable=False),
        sa.Column("who", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("why", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("audit_id", name="pk_audit_log"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_audit_log_run_id_runs"),
    )

    for ddl in triggers_for(op.get_bind().dialect.name):
        op.execute(ddl)


def downgrade() -> None:
    for ddl in drop_triggers_for(op.get_bind().dialect.name):
        op.execute(ddl)
    for table in ("audit_log", "registered_mail_numbers", "mail_number_ranges",
                  "mailing_history", "mailings", "events", "issued_numbers", "runs"):
        op.drop_table(table)
