"""The audit log's hash chain: each entry's hash covers the previous entry's hash.

``entry_hash = SHA-256(prev_hash | at | who | action | subject | run_id | why)`` over a
canonical JSON text, so changing, inserting or deleting an entry anywhere breaks every
later link (``ledger.integrity.check_audit_chain``); cutting entries off the end is caught
by comparing with an exported head (``mynumber ledger audit-head``). The hash is not keyed:
whoever can rewrite the whole table can recompute the chain, which is why the head is
exported and kept elsewhere (docs/architecture.md, Tamper evidence).

Timestamps are hashed as UTC with microseconds, the form both SQLite and PostgreSQL give
back, whatever time zone the session uses.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import audit_log

#: the prev_hash of the first entry
GENESIS = "0" * 64


def canonical_time(at: datetime) -> str:
    """UTC, microseconds, no offset: what SQLite (naive UTC) and PostgreSQL both return."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")


def entry_hash(prev_hash: str, at: datetime, who: str, action: str, subject: str,
               run_id: str | None, why: str) -> str:
    """The hash of one audit entry chained to the one before it."""
    text = json.dumps([prev_hash, canonical_time(at), who, action, subject, run_id, why],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: PostgreSQL transaction-scoped advisory lock serialising audit appends per schema
_PG_AUDIT_LOCK = "SELECT pg_advisory_xact_lock(1836674932, hashtext(current_schema()))"


def append(conn: Connection, *, at: datetime, who: str, action: str, subject: str, why: str,
           run_id: str | None) -> None:
    """Append one entry, chained to the last one, inside the caller's write transaction.

    Writers are serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped
    advisory lock per schema, which needs no privilege beyond INSERT: ledger.roles), so
    two entries never claim the same predecessor."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_AUDIT_LOCK)
    prev = conn.execute(sa.select(audit_log.c.entry_hash)
                        .order_by(audit_log.c.audit_id.desc()).limit(1)).scalar() or GENESIS
    why = why or ""
    conn.execute(sa.insert(audit_log).values(
        at=at, who=who, action=action, subject=subject, run_id=run_id, why=why, prev_hash=prev,
        entry_hash=entry_hash(prev, at, who, action, subject, run_id, why)))
