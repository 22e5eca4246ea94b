"""Runs: each issuing, printing or mail run is a row (kind, input digest, params, counts).

A run id carries its start time and a letters-only suffix, so it never looks like a resident
code or a number. Params and counts are shown to operators: they never hold personal data.
"""

from __future__ import annotations

import json
import secrets
import string
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.errors import LedgerError

from .handle import LedgerHandle, WriteContext
from .schema import RUN_STATUSES, runs


def start(handle: LedgerHandle, kind: str, input_sha256: str, params: dict[str, Any]) -> str:
    """Record the start of a run (audited); returns its id."""
    with handle.write() as w:
        return start_in(w, kind, input_sha256, params)


def start_in(w: WriteContext, kind: str, input_sha256: str, params: dict[str, Any]) -> str:
    """``start`` inside a caller's write transaction."""
    now = w.now()
    suffix = "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))
    run_id = f"run-{now:%Y%m%dT%H%M%S}-{suffix}"
    w.conn.execute(sa.insert(runs).values(
        run_id=run_id, kind=kind, input_sha256=input_sha256,
        params=json.dumps(params, sort_keys=True, default=str), status="running",
        operator=w.operator, started_at=now))
    w.audit("start_run", f"run {run_id} kind {kind}", "", run_id)
    return run_id


def find(handle: LedgerHandle, kind: str, input_sha256: str) -> dict[str, Any] | None:
    """The latest run of this kind over this input (to resume or skip), or None."""
    with handle.read() as conn:
        row = conn.execute(
            sa.select(runs).where(runs.c.kind == kind, runs.c.input_sha256 == input_sha256)
            .order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(1)
        ).mappings().first()
    if row is None:
        return None
    out = dict(row)
    for col in ("started_at", "finished_at"):  # SQLite hands back naive UTC
        if out[col] is not None and out[col].tzinfo is None:
            out[col] = out[col].replace(tzinfo=UTC)
    out["params"] = json.loads(out["params"] or "{}")
    out["counts"] = json.loads(out["counts"]) if out["counts"] else None
    return out


def require(conn: Connection, run_id: str) -> None:
    """Refuse a write naming a run the ledger does not hold."""
    if conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == run_id)).first() is None:
        raise LedgerError(f"no run {run_id} in the ledger (start the run first)")


def finish(handle: LedgerHandle, run_id: str, status: str, counts: dict[str, Any]) -> None:
    """Close a run with its status and counts (audited)."""
    if status not in RUN_STATUSES:
        raise LedgerError(f"run status must be one of {', '.join(RUN_STATUSES)}")
    with handle.write() as w:
        done = w.conn.execute(
            sa.update(runs).where(runs.c.run_id == run_id).values(
                status=status, counts=json.dumps(counts, sort_keys=True, default=str),
                finished_at=w.now())
        ).rowcount
        if done != 1:
            raise LedgerError(f"no run {run_id} in the ledger")
        w.audit("finish_run", f"run {run_id} {status}", "", run_id)
