"""Least privilege on PostgreSQL: four group roles, each able to do its job and no more
(docs/domain.md#safeguards).

``mynumber ledger grant`` (run by the ledger's owner) creates them with a prefix (role
names are cluster-wide; default ``mynumber_``) and grants on the ledger's schema. Login
accounts are then made members (``GRANT mynumber_print TO alice``):

==================  ==========================================================================
``<p>issuer``       issue, reissue, record events and mailings, bind and rotate keys: SELECT,
                    INSERT, UPDATE on the ledger tables (the triggers still refuse DELETE and
                    edits of issued numbers); INSERT and SELECT on the audit log
``<p>print``        read what printing needs (numbers, runs, mailings), mark a batch's notices
                    printed (UPDATE notices; the envelope's status follows from them), append
                    audit entries; nothing else
``<p>qa``           masked numbers only, through the view ``issued_numbers_masked`` (last 4
                    digits and a keyed hash), and ``number_hash(text)`` to compare a number
                    read off a page; mailings and runs
``<p>auditor``      the audit log, runs, keys (ids and check values) and the counts view
                    ``ledger_number_counts``; never a number
==================  ==========================================================================

The keyed hash: Debian's PostgreSQL ships pgcrypto, but creating an extension needs rights
an ordinary ledger owner may not have, so the hash is SHA-256 (built in since PostgreSQL 11)
over a per-ledger random salt and the number. The salt lives in ``ledger_salt``, which no
role can read; the view and ``number_hash`` run as the owner (the view by PostgreSQL's
rules, the function as SECURITY DEFINER). A hash alone cannot be reversed without the salt;
``number_hash`` answers one number at a time through the database, where it is logged.
"""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa

from core.errors import LedgerError

from .handle import LedgerHandle

ROLE_PREFIX = "mynumber_"
ROLES = ("issuer", "print", "qa", "auditor")
_PREFIX = re.compile(r"[a-z][a-z0-9_]{0,40}")

LEDGER_TABLES = ("runs", "issued_numbers", "events", "mailings",
                 "mail_number_ranges", "registered_mail_numbers", "ledger_keys",
                 # notices (migration 0004; history rows are written by triggers as the caller)
                 # and the run lock (0003)
                 "notices", "notice_history", "resident_records", "run_locks")


def _statements(p: str, schema: str) -> list[str]:
    issuer, prn, qa, auditor = (f"{p}{r}" for r in ROLES)
    everyone = f"{issuer}, {prn}, {qa}, {auditor}"
    tables = ", ".join(LEDGER_TABLES)
    return [
        # the salt of the keyed hash: readable by no role (owner only)
        "CREATE TABLE IF NOT EXISTS ledger_salt (salt text NOT NULL, "
        "one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row))",
        f"REVOKE ALL ON ledger_salt FROM PUBLIC, {everyone}",
        "CREATE OR REPLACE VIEW issued_numbers_masked AS SELECT n.number_id, n.resident_code, "
        "n.generation, n.status, n.reason, n.run_id, n.key_id, n.issued_at, n.revoked_at, "
        "right(n.my_number, 4) AS last4, "
        "encode(sha256(convert_to(s.salt || n.my_number, 'UTF8')), 'hex') AS number_hash "
        "FROM issued_numbers n CROSS JOIN ledger_salt s",
        "CREATE OR REPLACE VIEW ledger_number_counts AS SELECT status, reason, key_id, "
        "count(*) AS numbers FROM issued_numbers GROUP BY status, reason, key_id",
        f"CREATE OR REPLACE FUNCTION number_hash(candidate text) RETURNS text LANGUAGE sql "
        f"STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$ "
        "SELECT encode(sha256(convert_to(salt || candidate, 'UTF8')), 'hex') FROM ledger_salt $$",
        "REVOKE ALL ON FUNCTION number_hash(text) FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {schema} TO {everyone}",
        f"GRANT SELECT ON alembic_version TO {everyone}",
        # issuer
        f"GRANT SELECT, INSERT, UPDATE ON {tables} TO {issuer}",
        f"GRANT SELECT, INSERT ON audit_log TO {issuer}",
        f"GRANT SELECT ON notice_transitions TO {issuer}, {prn}",  # read by the status trigger
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {issuer}",
        # print: read numbers to print them, mark envelopes printed, append audit entries
        f"GRANT SELECT ON runs, issued_numbers, mailings, "
        f"registered_mail_numbers, mail_number_ranges TO {prn}",
        f"GRANT SELECT, UPDATE ON notices TO {prn}",  # a batch that passed QA: notices printed
        f"GRANT INSERT ON notice_history, audit_log TO {prn}",
        f"GRANT SELECT (audit_id, entry_hash) ON audit_log TO {prn}",  # to chain its entries
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {prn}",
        # qa: masked numbers only
        f"GRANT SELECT ON issued_numbers_masked, mailings, runs TO {qa}",
        f"GRANT EXECUTE ON FUNCTION number_hash(text) TO {qa}",
        # auditor: the audit log and statistics, no numbers
        f"GRANT SELECT ON audit_log, runs, ledger_keys, ledger_number_counts, notice_history "
        f"TO {auditor}",
        # staging tables of bulk reads and writes are TEMPORARY (ledger.staging)
        f"GRANT TEMPORARY ON DATABASE \"{{database}}\" TO {issuer}, {prn}",
    ]


def grant_roles(ledger: LedgerHandle, prefix: str = ROLE_PREFIX) -> list[str]:
    """Create the four roles (when missing) and grant them their rights on this ledger's
    schema; idempotent. Returns the role names. PostgreSQL only; audited."""
    if ledger.engine.dialect.name != "postgresql":
        raise LedgerError("database roles need a PostgreSQL ledger (a SQLite ledger is one "
                          "file: protect it with file permissions, which are 0600)")
    if not _PREFIX.fullmatch(prefix):
        raise LedgerError("role prefix: lower-case letters, digits and _ (e.g. mynumber_)")
    names = [f"{prefix}{r}" for r in ROLES]
    with ledger.write() as w:
        conn = w.conn
        # role and database ACL changes collide when two run at once ("tuple concurrently
        # updated"): one grant at a time per database
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(1836674932, 0)")
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema or ""):
            raise LedgerError("the ledger's schema name must be a plain lower-case identifier")
        existing = {r[0] for r in conn.execute(
            sa.text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"), {"names": names})}
        for name in names:
            if name not in existing:
                conn.exec_driver_sql(f"CREATE ROLE {name} NOLOGIN")
        for ddl in _statements(prefix, schema):
            conn.exec_driver_sql(ddl.replace("{database}", database.replace('"', '""')))
        if conn.exec_driver_sql("SELECT count(*) FROM ledger_salt").scalar_one() == 0:
            conn.execute(sa.text("INSERT INTO ledger_salt (salt) VALUES (:s)"),
                         {"s": secrets.token_hex(32)})
        w.audit("grant_roles", f"roles {', '.join(names)} granted on the ledger",
                      "least privilege", None)
    return names
