"""Ledger tables (SQLAlchemy 2 Core): the schema the migrations build and the code queries.

The rules the law cares about live here, in the database, so they hold even when someone
bypasses this program: a My Number is UNIQUE across every row ever written (revoked rows
stay forever: deleting them is refused by a trigger), a resident has at most one active
number (a partial unique index, which SQLite and PostgreSQL both enforce), and the audit
log is append-only (triggers refuse UPDATE and DELETE).

``migrations/versions/0001_initial.py`` creates exactly these tables; a test compares the
two with alembic's autogenerate so they cannot drift apart.
"""

from __future__ import annotations

import sqlalchemy as sa

#: the alembic revision this code was written for (the head of migrations/versions)
SCHEMA_HEAD = "0007"

NUMBER_STATUSES = ("active", "revoked")
#: why a number row exists: a short code (first_issue, move_in, number_change, or the event
#: that caused it, e.g. birth); the operator's free-text reason goes to the audit log instead
ISSUE_REASONS = ("first_issue", "move_in", "number_change")
REASON_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
RUN_STATUSES = ("running", "succeeded", "failed", "partial")
#: the life of one notice (one issued number's card in one envelope), docs/domain.md#registered-mail-lifecycle
NOTICE_STATUSES = ("planned", "printed", "mailed", "delivered", "returned", "held", "handed_over",
                   "re_sent", "destroyed", "voided")
#: (from, to) pairs the database accepts; every other change of status is refused by a trigger
NOTICE_TRANSITIONS = (
    ("planned", "printed"), ("planned", "voided"),
    ("printed", "mailed"), ("printed", "voided"),
    ("mailed", "delivered"), ("mailed", "returned"),
    ("returned", "held"),
    ("held", "handed_over"), ("held", "re_sent"), ("held", "destroyed"),
)
#: states a notice never leaves
NOTICE_TERMINAL = ("delivered", "handed_over", "re_sent", "destroyed", "voided")

#: surrogate keys: 64-bit on PostgreSQL, the rowid alias on SQLite
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("input_sha256", sa.String(64), nullable=False),
    sa.Column("params", sa.Text, nullable=False),  # JSON; never personal data
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("counts", sa.Text),  # JSON
    sa.Column("operator", sa.String(128), nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp),
    sa.CheckConstraint(_in("status", RUN_STATUSES), name="status"),
    sa.Index(None, "kind", "input_sha256"),
)

issued_numbers = sa.Table(
    "issued_numbers",
    metadata,
    sa.Column("number_id", Id, primary_key=True, autoincrement=True),
    sa.Column("my_number", sa.String(12), nullable=False),
    sa.Column("resident_code", sa.String(11), nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("key_id", sa.String(128)),  # NULL for numbers issued elsewhere (move-ins)
    sa.Column("issued_at", Timestamp, nullable=False),
    sa.Column("revoked_at", Timestamp),
    sa.Column("revoked_run_id", sa.String(64), sa.ForeignKey("runs.run_id")),
    sa.UniqueConstraint("my_number"),
    sa.CheckConstraint(_in("status", NUMBER_STATUSES), name="status"),
    sa.CheckConstraint("length(my_number) = 12", name="my_number_length"),
    sa.CheckConstraint("length(resident_code) = 11", name="resident_code_length"),
    sa.CheckConstraint("generation >= 0", name="generation"),
    sa.CheckConstraint(
        "(status = 'active' AND revoked_at IS NULL) OR (status = 'revoked' AND revoked_at IS NOT NULL)",
        name="revoked_at",
    ),
    sa.Index(None, "resident_code", "generation"),
    sa.Index(
        "uq_issued_numbers_one_active_per_resident",
        "resident_code",
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    ),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("event_id", Id, primary_key=True, autoincrement=True),
    sa.Column("resident_code", sa.String(11), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("event_date", sa.Date, nullable=False),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.UniqueConstraint("resident_code", "event", "event_date"),
)

#: one envelope: household, batch, sequence, registered-mail number; its status is derived
#: from its notices (ledger.mailings.status_of, migration 0007 dropped the stored one)
mailings = sa.Table(
    "mailings",
    metadata,
    sa.Column("mailing_id", Id, primary_key=True, autoincrement=True),
    sa.Column("household_id", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.String(32), nullable=False),
    sa.Column("envelope_seq", sa.Integer, nullable=False),
    sa.Column("registered_mail_number", sa.String(11), nullable=False),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    # batch ids restart in every run (B00001, ...): an envelope is (run, batch, sequence)
    sa.UniqueConstraint("run_id", "batch_id", "envelope_seq"),
    sa.UniqueConstraint("registered_mail_number"),
    sa.Index(None, "household_id"),
)

#: sender-printed 簡易書留 ranges handed out by the post office (10-digit bodies, inclusive)
mail_number_ranges = sa.Table(
    "mail_number_ranges",
    metadata,
    sa.Column("range_id", Id, primary_key=True, autoincrement=True),
    sa.Column("first_body", sa.BigInteger, nullable=False),
    sa.Column("last_body", sa.BigInteger, nullable=False),
    sa.Column("next_body", sa.BigInteger, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.CheckConstraint("first_body <= last_body", name="bounds"),
    sa.CheckConstraint("next_body BETWEEN first_body AND last_body + 1", name="next"),
)

#: every registered-mail number ever handed out: the primary key makes reuse impossible
registered_mail_numbers = sa.Table(
    "registered_mail_numbers",
    metadata,
    sa.Column("registered_mail_number", sa.String(11), primary_key=True),
    sa.Column("range_id", Id, sa.ForeignKey("mail_number_ranges.range_id"), nullable=False),
    sa.Column("allocated_at", Timestamp, nullable=False),
)

#: one notice per issued number and envelope: the card's way to its holder, state by state
notices = sa.Table(
    "notices",
    metadata,
    sa.Column("notice_id", Id, primary_key=True, autoincrement=True),
    sa.Column("number_id", Id, sa.ForeignKey("issued_numbers.number_id"), nullable=False),
    sa.Column("resident_code", sa.String(11), nullable=False),
    sa.Column("household_id", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("batch_id", sa.String(32), nullable=False),  # "MANUAL" for hand-made envelopes
    sa.Column("envelope_seq", sa.Integer, nullable=False),
    sa.Column("registered_mail_number", sa.String(11), nullable=False),
    sa.Column("is_manual", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("void_reason", sa.String(32)),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
    sa.Column("updated_why", sa.Text, nullable=False),
    sa.CheckConstraint(_in("status", NOTICE_STATUSES), name="status"),
    sa.CheckConstraint("length(registered_mail_number) = 11", name="registered_mail_number"),
    sa.Index(None, "registered_mail_number"),
    # QA marks a batch by all three: with (run_id, batch_id) alone SQLite chose (status)
    # and walked every planned notice (migration 0006)
    sa.Index(None, "run_id", "batch_id", "status"),
    sa.Index(None, "status"),
    sa.Index(None, "number_id"),  # every query can use it, unlike the partial one (migration 0005)
    sa.Index(
        "uq_notices_one_live_per_number",
        "number_id",
        unique=True,
        sqlite_where=sa.text("status NOT IN ('voided', 're_sent')"),
        postgresql_where=sa.text("status NOT IN ('voided', 're_sent')"),
    ),
)

#: every status a notice went through, written by the database itself (a trigger)
notice_history = sa.Table(
    "notice_history",
    metadata,
    sa.Column("history_id", Id, primary_key=True, autoincrement=True),
    sa.Column("notice_id", Id, sa.ForeignKey("notices.notice_id"), nullable=False),
    sa.Column("from_status", sa.String(16)),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("who", sa.String(128), nullable=False),
    sa.Column("why", sa.Text, nullable=False),
    sa.Index(None, "notice_id"),
)

#: the allowed (from, to) pairs, read by the transition trigger (filled by the migration)
notice_transitions = sa.Table(
    "notice_transitions",
    metadata,
    sa.Column("from_status", sa.String(16), primary_key=True),
    sa.Column("to_status", sa.String(16), primary_key=True),
)

#: what a card needs to be printed for a resident (names, address, household), kept so a
#: later run can print a notice an earlier run could not: JSON of the canonical columns
resident_records = sa.Table(
    "resident_records",
    metadata,
    sa.Column("resident_code", sa.String(11), primary_key=True),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("audit_id", Id, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("who", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id")),
    sa.Column("why", sa.Text, nullable=False),
    # tamper evidence (migration 0002): entry_hash = SHA-256(prev_hash + the entry's fields),
    # so a changed, inserted or deleted entry breaks the chain (ledger.integrity)
    sa.Column("prev_hash", sa.String(64)),
    sa.Column("entry_hash", sa.String(64)),
)

KEY_STATUSES = ("current", "retired")

#: every key the ledger has issued under (migration 0002): a number's key_id must be one of
#: these, and an issuing run must hold the current one (its check value must match)
ledger_keys = sa.Table(
    "ledger_keys",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    # a key check value (core.keys.key_check_value): proves a loaded key is this key, reveals nothing
    # of it; NULL only for key ids found in a ledger written before 0002 (bound on first use)
    sa.Column("check_value", sa.String(64)),
    sa.Column("is_demo", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("key_created", sa.String(64), nullable=False),  # as the key file says
    sa.Column("registered_at", Timestamp, nullable=False),
    sa.Column("registered_by", sa.String(128), nullable=False),
    sa.Column("retired_at", Timestamp),
    sa.Column("retired_by", sa.String(128)),
    sa.CheckConstraint(_in("status", KEY_STATUSES), name="status"),
    sa.Index(
        "uq_ledger_keys_one_current",
        "status",
        unique=True,
        sqlite_where=sa.text("status = 'current'"),
        postgresql_where=sa.text("status = 'current'"),
    ),
)


# --- triggers: the same rules on both databases ------------------------------------------
_FROZEN_COLUMNS = "my_number, resident_code, generation, reason, run_id, key_id, issued_at"

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER issued_numbers_no_delete BEFORE DELETE ON issued_numbers "
    "BEGIN SELECT RAISE(ABORT, 'issued numbers are never deleted'); END",
    f"CREATE TRIGGER issued_numbers_frozen BEFORE UPDATE OF {_FROZEN_COLUMNS} ON issued_numbers "
    "BEGIN SELECT RAISE(ABORT, 'an issued number is never changed, only revoked'); END",
    "CREATE TRIGGER issued_numbers_stay_revoked BEFORE UPDATE OF status ON issued_numbers "
    "WHEN OLD.status = 'revoked' "
    "BEGIN SELECT RAISE(ABORT, 'a revoked number stays revoked'); END",
)
SQLITE_TRIGGER_NAMES = (
    "audit_log_no_update", "audit_log_no_delete", "issued_numbers_no_delete",
    "issued_numbers_frozen", "issued_numbers_stay_revoked",
)

POSTGRESQL_TRIGGERS = (
    "CREATE FUNCTION ledger_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'ledger: % on % refused (%)', TG_OP, TG_TABLE_NAME, TG_ARGV[0]; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse('append-only')",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse('append-only')",
    "CREATE TRIGGER issued_numbers_no_delete BEFORE DELETE ON issued_numbers "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse('never deleted')",
    "CREATE TRIGGER issued_numbers_no_truncate BEFORE TRUNCATE ON issued_numbers "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse('never deleted')",
    f"CREATE TRIGGER issued_numbers_frozen BEFORE UPDATE OF {_FROZEN_COLUMNS} ON issued_numbers "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse('never changed, only revoked')",
    "CREATE TRIGGER issued_numbers_stay_revoked BEFORE UPDATE OF status ON issued_numbers "
    "FOR EACH ROW WHEN (OLD.status = 'revoked') EXECUTE FUNCTION ledger_refuse('stays revoked')",
)
POSTGRESQL_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS issued_numbers_no_delete ON issued_numbers",
    "DROP TRIGGER IF EXISTS issued_numbers_no_truncate ON issued_numbers",
    "DROP TRIGGER IF EXISTS issued_numbers_frozen ON issued_numbers",
    "DROP TRIGGER IF EXISTS issued_numbers_stay_revoked ON issued_numbers",
    "DROP FUNCTION IF EXISTS ledger_refuse()",
)


#: a key the ledger has issued under is never forgotten (migration 0002)
KEY_TRIGGERS = {
    "sqlite": (
        "CREATE TRIGGER ledger_keys_no_delete BEFORE DELETE ON ledger_keys "
        "BEGIN SELECT RAISE(ABORT, 'a ledger key is never deleted'); END",
    ),
    "postgresql": (
        "CREATE TRIGGER ledger_keys_no_delete BEFORE DELETE ON ledger_keys "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse('never deleted')",
        "CREATE TRIGGER ledger_keys_no_truncate BEFORE TRUNCATE ON ledger_keys "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse('never deleted')",
    ),
}


def drop_key_triggers_for(dialect_name: str) -> tuple[str, ...]:
    """DDL that removes the key triggers (downgrade of 0002)."""
    if dialect_name == "sqlite":
        return ("DROP TRIGGER IF EXISTS ledger_keys_no_delete",)
    return ("DROP TRIGGER IF EXISTS ledger_keys_no_delete ON ledger_keys",
            "DROP TRIGGER IF EXISTS ledger_keys_no_truncate ON ledger_keys")


def expected_trigger_names(dialect_name: str) -> frozenset[str]:
    """Every protective trigger a ledger at this schema has (``ledger verify`` checks them)."""
    names = [ddl.split()[2] for ddl in (*triggers_for(dialect_name), *KEY_TRIGGERS[dialect_name])
             if ddl.startswith("CREATE TRIGGER")]
    return frozenset(names)


def triggers_for(dialect_name: str) -> tuple[str, ...]:
    """DDL of the protective triggers for one database."""
    if dialect_name == "sqlite":
        return SQLITE_TRIGGERS
    if dialect_name == "postgresql":
        return POSTGRESQL_TRIGGERS
    raise ValueError(f"unsupported database dialect {dialect_name!r}")


def drop_triggers_for(dialect_name: str) -> tuple[str, ...]:
    """DDL that removes the triggers (downgrade, and scratch databases in tests)."""
    if dialect_name == "sqlite":
        return tuple(f"DROP TRIGGER IF EXISTS {n}" for n in SQLITE_TRIGGER_NAMES)
    return POSTGRESQL_DROP_TRIGGERS

#: one row while a run holds the ledger (migration 0003): on SQLite the row with its lease
#: is the lock; on PostgreSQL a session advisory lock is, and the row says who holds it
run_locks = sa.Table(
    "run_locks",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("run_name", sa.String(200), nullable=False),
    sa.Column("operator", sa.String(128), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("out_dir", sa.Text, nullable=False),
    sa.Column("since", Timestamp, nullable=False),
    sa.Column("lease_until", Timestamp, nullable=False),
)

def register_field_limits() -> dict[str, int]:
    """Register field → the size (characters) of the ledger column that stores it.

    The one place the register check learns what the database will hold
    (docs/domain.md#register-input-limits): PostgreSQL refuses a longer value mid-stage
    (VARCHAR), SQLite would silently keep it. Read from the tables above, so a column
    resized in a migration moves the check with it.
    """
    stored = {
        "resident_code": issued_numbers.c.resident_code,
        "my_number": issued_numbers.c.my_number,
        "household_id": mailings.c.household_id,
    }
    out: dict[str, int] = {}
    for field, column in stored.items():
        length = getattr(column.type, "length", None)
        if isinstance(length, int):
            out[field] = length
    return out

# --- notices: transitions and history enforced by the database (migration 0004) ------------
_NOTICE_FROZEN = ("number_id, resident_code, household_id, run_id, batch_id, envelope_seq, "
                  "registered_mail_number, is_manual, created_at")
_NOTICE_HISTORY_COLUMNS = "notice_id, from_status, to_status, at, who, why"

NOTICE_SQLITE_TRIGGERS = (
    "CREATE TRIGGER notices_start_planned BEFORE INSERT ON notices WHEN NEW.status <> 'planned' "
    "BEGIN SELECT RAISE(ABORT, 'a notice starts planned'); END",
    "CREATE TRIGGER notices_transition BEFORE UPDATE OF status ON notices "
    "WHEN NOT EXISTS (SELECT 1 FROM notice_transitions t "
    "WHERE t.from_status = OLD.status AND t.to_status = NEW.status) "
    "BEGIN SELECT RAISE(ABORT, 'notice status change refused by notice_transitions'); END",
    f"CREATE TRIGGER notices_frozen BEFORE UPDATE OF {_NOTICE_FROZEN} ON notices "
    "BEGIN SELECT RAISE(ABORT, 'a notice is never re-pointed'); END",
    "CREATE TRIGGER notices_no_delete BEFORE DELETE ON notices "
    "BEGIN SELECT RAISE(ABORT, 'notices are never deleted'); END",
    f"CREATE TRIGGER notices_log_insert AFTER INSERT ON notices "
    f"BEGIN INSERT INTO notice_history ({_NOTICE_HISTORY_COLUMNS}) VALUES "
    "(NEW.notice_id, NULL, NEW.status, NEW.updated_at, NEW.updated_by, NEW.updated_why); END",
    f"CREATE TRIGGER notices_log_update AFTER UPDATE OF status ON notices "
    f"BEGIN INSERT INTO notice_history ({_NOTICE_HISTORY_COLUMNS}) VALUES "
    "(NEW.notice_id, OLD.status, NEW.status, NEW.updated_at, NEW.updated_by, NEW.updated_why); END",
    "CREATE TRIGGER notice_history_no_update BEFORE UPDATE ON notice_history "
    "BEGIN SELECT RAISE(ABORT, 'notice_history is append-only'); END",
    "CREATE TRIGGER notice_history_no_delete BEFORE DELETE ON notice_history "
    "BEGIN SELECT RAISE(ABORT, 'notice_history is append-only'); END",
    "CREATE TRIGGER notice_transitions_no_insert BEFORE INSERT ON notice_transitions "
    "BEGIN SELECT RAISE(ABORT, 'notice_transitions is fixed by migrations'); END",
    "CREATE TRIGGER notice_transitions_no_update BEFORE UPDATE ON notice_transitions "
    "BEGIN SELECT RAISE(ABORT, 'notice_transitions is fixed by migrations'); END",
    "CREATE TRIGGER notice_transitions_no_delete BEFORE DELETE ON notice_transitions "
    "BEGIN SELECT RAISE(ABORT, 'notice_transitions is fixed by migrations'); END",
)
NOTICE_SQLITE_TRIGGER_NAMES = (
    "notices_start_planned", "notices_transition", "notices_frozen", "notices_no_delete",
    "notices_log_insert", "notices_log_update", "notice_history_no_update",
    "notice_history_no_delete", "notice_transitions_no_insert", "notice_transitions_no_update",
    "notice_transitions_no_delete",
)

NOTICE_POSTGRESQL_TRIGGERS = (
    "CREATE FUNCTION notice_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN IF NOT EXISTS (SELECT 1 FROM notice_transitions t "
    "WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN "
    "RAISE EXCEPTION 'ledger: notice status % -> % refused by notice_transitions', "
    "OLD.status, NEW.status; END IF; RETURN NEW; END $$",
    "CREATE FUNCTION notice_log() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN INSERT INTO notice_history ({_NOTICE_HISTORY_COLUMNS}) VALUES (NEW.notice_id, "
    "CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, NEW.updated_at, "
    "NEW.updated_by, NEW.updated_why); RETURN NULL; END $$",
    "CREATE TRIGGER notices_start_planned BEFORE INSERT ON notices FOR EACH ROW "
    "WHEN (NEW.status <> 'planned') EXECUTE FUNCTION ledger_refuse('a notice starts planned')",
    "CREATE TRIGGER notices_transition BEFORE UPDATE OF status ON notices FOR EACH ROW "
    "EXECUTE FUNCTION notice_check_transition()",
    f"CREATE TRIGGER notices_frozen BEFORE UPDATE OF {_NOTICE_FROZEN} ON notices "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse('never re-pointed')",
    "CREATE TRIGGER notices_no_delete BEFORE DELETE ON notices "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse('never deleted')",
    "CREATE TRIGGER notices_no_truncate BEFORE TRUNCATE ON notices "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse('never deleted')",
    "CREATE TRIGGER notices_log_insert AFTER INSERT ON notices "
    "FOR EACH ROW EXECUTE FUNCTION notice_log()",
    "CREATE TRIGGER notices_log_update AFTER UPDATE OF status ON notices "
    "FOR EACH ROW EXECUTE FUNCTION notice_log()",
    "CREATE TRIGGER notice_history_append_only BEFORE UPDATE OR DELETE ON notice_history "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse('append-only')",
    "CREATE TRIGGER notice_history_no_truncate BEFORE TRUNCATE ON notice_history "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse('append-only')",
    "CREATE TRIGGER notice_transitions_fixed BEFORE INSERT OR UPDATE OR DELETE ON notice_transitions "
    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse('fixed by migrations')",
    "CREATE TRIGGER notice_transitions_no_truncate BEFORE TRUNCATE ON notice_transitions "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse('fixed by migrations')",
)
NOTICE_POSTGRESQL_DROP = (
    *(f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in (
        ("notices_start_planned", "notices"), ("notices_transition", "notices"),
        ("notices_frozen", "notices"), ("notices_no_delete", "notices"),
        ("notices_no_truncate", "notices"), ("notices_log_insert", "notices"),
        ("notices_log_update", "notices"), ("notice_history_append_only", "notice_history"),
        ("notice_history_no_truncate", "notice_history"),
        ("notice_transitions_fixed", "notice_transitions"),
        ("notice_transitions_no_truncate", "notice_transitions"))),
    "DROP FUNCTION IF EXISTS notice_check_transition()",
    "DROP FUNCTION IF EXISTS notice_log()",
)


def notice_triggers_for(dialect_name: str) -> tuple[str, ...]:
    """DDL of the notice triggers (transitions checked, history written, nothing deleted)."""
    if dialect_name == "sqlite":
        return NOTICE_SQLITE_TRIGGERS
    if dialect_name == "postgresql":
        return NOTICE_POSTGRESQL_TRIGGERS
    raise ValueError(f"unsupported database dialect {dialect_name!r}")


def drop_notice_triggers_for(dialect_name: str) -> tuple[str, ...]:
    if dialect_name == "sqlite":
        return tuple(f"DROP TRIGGER IF EXISTS {n}" for n in NOTICE_SQLITE_TRIGGER_NAMES)
    return NOTICE_POSTGRESQL_DROP
