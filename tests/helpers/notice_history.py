"""The notice status history the database's triggers wrote, as a frame (tests read it to
prove each change was logged; the program itself never reads it back)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa

from ledger import LedgerHandle
from ledger.schema import notice_history

SCHEMA = {"notice_id": pl.Int64, "from_status": pl.Utf8, "to_status": pl.Utf8,
          "at": pl.Datetime("us", "UTC"), "who": pl.Utf8, "why": pl.Utf8}


def _utc(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def history(handle: LedgerHandle, notice_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """notice_id, from_status, to_status, at, who, why, oldest first."""
    h = notice_history.c
    query = sa.select(h.notice_id, h.from_status, h.to_status, h.at, h.who, h.why).order_by(
        h.history_id)
    if notice_ids is not None:
        query = query.where(h.notice_id.in_(list(notice_ids)))
    with handle.read() as conn:
        rows = [tuple(_utc(v) for v in row) for row in conn.execute(query).all()]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")
