"""Register events (births, move-ins, ...) seen by the ledger, so a daily file counts once.

An event is identified by (resident_code, event, event_date): re-running yesterday's file
finds every event already recorded and returns nothing to process.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from core.errors import InvalidFormat, LedgerError

from . import staging
from .frames import check_digits
from .handle import LedgerHandle
from .schema import events

KEYS = ("resident_code", "event", "event_date")


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """The caller's frame with Utf8 codes and a Date event_date (ISO text is accepted)."""
    if not isinstance(frame, pl.DataFrame):
        frame = pl.from_pandas(frame)
    missing = [c for c in KEYS if c not in frame.columns]
    if missing:
        raise LedgerError(f"record_events: frame lacks column(s) {', '.join(missing)}")
    frame = frame.with_columns(pl.col("resident_code").cast(pl.Utf8), pl.col("event").cast(pl.Utf8))
    if isinstance(frame.schema["event_date"], pl.Datetime):
        frame = frame.with_columns(pl.col("event_date").dt.date())
    elif frame.schema["event_date"] != pl.Date:
        frame = frame.with_columns(
            pl.col("event_date").cast(pl.Utf8).str.to_date("%Y-%m-%d", strict=False))
    bad = int(frame.select(pl.any_horizontal(pl.col(k).is_null() for k in KEYS).sum()).item())
    if bad:
        raise InvalidFormat(f"record_events: {bad} row(s) lack a resident_code, event or date")
    check_digits(frame, "resident_code", 11, "record_events")
    return frame


def record(handle: LedgerHandle, run_id: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Insert events not seen before; return the caller's rows for exactly those events."""
    frame = _normalise(frame)
    keys = frame.select(KEYS).unique()
    stage = staging.stage_table("ledger_stage_events", {
        "resident_code": sa.String(11), "event": sa.String(32), "event_date": sa.Date})
    s = stage.c
    seen = sa.exists().where(events.c.resident_code == s.resident_code,
                             events.c.event == s.event, events.c.event_date == s.event_date)
    with handle.write("events") as w:
        conn = w.conn
        staging.create_and_load(conn, stage, keys)
        new = staging.fetch_frame(conn, sa.select(s.resident_code, s.event, s.event_date).where(~seen),
                               {"resident_code": pl.Utf8, "event": pl.Utf8, "event_date": pl.Date})
        conn.execute(sa.insert(events).from_select(
            ["resident_code", "event", "event_date", "run_id", "recorded_at"],
            sa.select(s.resident_code, s.event, s.event_date, sa.literal(run_id),
                      sa.literal(w.now(), events.c.recorded_at.type)).where(~seen)))
        staging.drop(conn, stage)
        w.audit("record_events",
                      f"{new.height} new event(s), {keys.height - new.height} already recorded",
                      "", run_id)
    return frame.join(new, on=list(KEYS), how="semi", maintain_order="left")
