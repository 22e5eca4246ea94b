"""Keys bound to the ledger, and a hash-chained audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

- ``ledger_keys``: every key the ledger has issued under, with a key check value and which
  one is current (one at most: a partial unique index). Key ids already in
  ``issued_numbers`` are registered with no check value (bound on their first use); the
  one used last becomes current.
- ``audit_log.prev_hash`` / ``entry_hash``: the hash chain (``ledger.chain``); existing
  entries are chained here, in audit_id order, with the append-only trigger lifted for
  this one statement and put back.
- triggers: a registered key is never deleted.
"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from ledger.chain import GENESIS, entry_hash
from ledger.schema import KEY_TRIGGERS, drop_key_triggers_for

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.create_table(
        "ledger_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("check_value", sa.String(64)),
        sa.Column("is_demo", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("key_created", sa.String(64), nullable=False),
        sa.Column("registered_at", Ts, nullable=False),
        sa.Column("registered_by", sa.String(128), nullable=False),
        sa.Column("retired_at", Ts),
        sa.Column("retired_by", sa.String(128)),
        sa.PrimaryKeyConstraint("key_id", name="pk_ledger_keys"),
        sa.CheckConstraint("status IN ('current', 'retired')", name="ck_ledger_keys_status"),
    )
    op.create_index("uq_ledger_keys_one_current", "ledger_keys", ["status"], unique=True,
                    sqlite_where=sa.text("status = 'current'"),
                    postgresql_where=sa.text("status = 'current'"))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64)))
    op.add_column("audit_log", sa.Column("entry_hash", sa.String(64)))

    _register_existing_keys(bind)
    _chain_existing_entries(bind, dialect)
    for ddl in KEY_TRIGGERS[dialect]:
        op.execute(ddl)


def _register_existing_keys(bind: sa.engine.Connection) -> None:
    rows = bind.execute(sa.text(
        "SELECT key_id, MAX(number_id) AS last FROM issued_numbers WHERE key_id IS NOT NULL "
        "GROUP BY key_id ORDER BY last")).all()
    now = datetime.now(UTC)
    for i, row in enumerate(rows):
        bind.execute(sa.text(
            "INSERT INTO ledger_keys (key_id, check_value, is_demo, status, key_created, "
            "registered_at, registered_by) VALUES (:k, NULL, :d, :s, '', :t, 'migration 0002')"),
            {"k": row.key_id, "d": False, "s": "current" if i == len(rows) - 1 else "retired",
             "t": now})


def _chain_existing_entries(bind: sa.engine.Connection, dialect: str) -> None:
    entries = bind.execute(sa.text(
        "SELECT audit_id, at, who, action, subject, run_id, why FROM audit_log "
        "ORDER BY audit_id")).all()
    if not entries:
        return
    if dialect == "sqlite":
        bind.execute(sa.text("DROP TRIGGER IF EXISTS audit_log_no_update"))
    else:
        bind.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    prev = GENESIS
    for e in entries:
        at = e.at if isinstance(e.at, datetime) else datetime.fromisoformat(str(e.at))
        h = entry_hash(prev, at, e.who, e.action, e.subject, e.run_id, e.why)
        bind.execute(sa.text("UPDATE audit_log SET prev_hash = :p, entry_hash = :h "
                             "WHERE audit_id = :i"), {"p": prev, "h": h, "i": e.audit_id})
        prev = h
    if dialect == "sqlite":
        bind.execute(sa.text(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"))
    else:
        bind.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def downgrade() -> None:
    for ddl in drop_key_triggers_for(op.get_bind().dialect.name):
        op.execute(ddl)
    op.drop_index("uq_ledger_keys_one_current", table_name="ledger_keys")
    op.drop_table("ledger_keys")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("entry_hash")
        batch.drop_column("prev_hash")
