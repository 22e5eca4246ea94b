"""Read-outs of the ledger: counts (no numbers), the parquet export, and the GX proof.

The export is the only read-out that carries full numbers, so it is audited: who wrote how
many rows to which file, and when.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from core.private import open_private, private_dir

from . import mailings, migrate
from .handle import LedgerHandle
from .schema import audit_log, events, issued_numbers, registered_mail_numbers, runs
from .staging import FrameSchema

EXPORT_SCHEMA: FrameSchema = {
    "resident_code": pl.Utf8, "my_number": pl.Utf8, "generation": pl.Int64, "status": pl.Utf8,
    "reason": pl.Utf8, "issued_at": pl.Datetime("us", "UTC"), "run_id": pl.Utf8,
}


def _grouped(conn: sa.Connection, *cols: sa.ColumnElement[Any]) -> Sequence[sa.Row[*tuple[Any, ...]]]:
    return conn.execute(sa.select(*cols, sa.func.count()).group_by(*cols).order_by(*cols)).all()


def stats(handle: LedgerHandle) -> dict[str, Any]:
    """Counts by status and reason, runs by status, envelopes by their notices' status
    (``mailings.status_of``): never a value."""
    i = issued_numbers.c
    with handle.read() as conn:
        by_status: dict[str, dict[str, int]] = {}
        for status, reason, n in _grouped(conn, i.status, i.reason):
            by_status.setdefault(status, {})[reason] = int(n)
        return {
            "schema_revision": migrate.current_revision(conn),
            "numbers_total": sum(sum(r.values()) for r in by_status.values()),
            "numbers": by_status,
            "runs": {s: int(n) for s, n in _grouped(conn, runs.c.status)},
            "events": {e: int(n) for e, n in _grouped(conn, events.c.event)},
            "mailings": mailings.status_counts(conn),
            "registered_mail_numbers_allocated": int(conn.execute(
                sa.select(sa.func.count()).select_from(registered_mail_numbers)).scalar_one()),
            "audit_entries": int(conn.execute(
                sa.select(sa.func.count()).select_from(audit_log)).scalar_one()),
        }


def recent_audit(handle: LedgerHandle, limit: int = 30) -> list[dict[str, Any]]:
    """The newest audit entries, newest first."""
    a = audit_log.c
    with handle.read() as conn:
        rows = conn.execute(sa.select(a.at, a.who, a.action, a.subject, a.run_id, a.why)
                            .order_by(a.audit_id.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def export(handle: LedgerHandle, path: str | Path, reason: str = "") -> int:
    """Every number row (active and revoked) to parquet, oldest first; audited."""
    i = issued_numbers.c
    query = sa.select(i.resident_code, i.my_number, i.generation, i.status, i.reason, i.issued_at,
                      i.run_id).order_by(i.number_id)
    path = Path(path)
    with handle.read() as conn:
        rows = conn.execute(query).all()
    frame = pl.DataFrame(rows, schema={**EXPORT_SCHEMA, "issued_at": pl.Datetime("us")},
                         orient="row", strict=False) if rows else pl.DataFrame(
        schema={**EXPORT_SCHEMA, "issued_at": pl.Datetime("us")})
    frame = frame.with_columns(_as_utc(frame["issued_at"]))
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = open_private(tmp)  # 0600 from creation: every full number is in it
    with os.fdopen(fd, "wb") as fh:
        frame.write_parquet(fh)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    with handle.write() as w:
        w.audit("export", f"{frame.height} number row(s) to {path.name}",
                      f"{reason}; parquet at {path}" if reason else f"parquet at {path}", None)
    return frame.height


def _as_utc(col: pl.Series) -> pl.Series:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: make both aware UTC."""
    if getattr(col.dtype, "time_zone", None):
        return col.dt.convert_time_zone("UTC")
    return col.dt.replace_time_zone("UTC")
