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
