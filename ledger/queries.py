"""Read-only questions the daily and resumed runs ask the ledger, answered in staging.

- ``issued_runs``: which residents hold an active number, and which run issued it —
  how a resumed run recognises its own work and tells it apart from earlier runs'.
- ``known_events``: which events are already recorded — how a daily file counts once.

Both stage the asked-for keys in a temporary table and join, so a question about
740,000 residents is one round trip, not 740,000. Neither returns a My Number.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from . import staging
from .handle import LedgerHandle
from .schema import events, issued_numbers

ISSUED_RUN_SCHEMA = {"resident_code": pl.Utf8, "run_id": pl.Utf8, "generation": pl.Int64}
EVENT_SCHEMA = {"resident_code": pl.Utf8, "event": pl.Utf8, "event_date": pl.Date}


def issued_runs(handle: LedgerHandle, resident_codes: pl.Series) -> pl.DataFrame:
    """[resident_code, run_id, generation] of each given resident's active number."""
    codes = pl.Series("resident_code", resident_codes, dtype=pl.Utf8).drop_nulls().unique().to_frame()
    if codes.height == 0:
        return pl.DataFrame(schema=ISSUED_RUN_SCHEMA)
    stage = staging.stage_table("ledger_stage_issued_runs", {"resident_code": sa.String(11)})
    inum = issued_numbers.c
    query = (
        sa.select(inum.resident_code, inum.run_id, inum.generation)
        .join(stage, stage.c.resident_code == inum.resident_code)
        .where(inum.status == "active")
    )
    with handle.read() as conn:
        staging.create_and_load(conn, stage, codes)
        out = staging.fetch_frame(conn, query, ISSUED_RUN_SCHEMA)
        staging.drop(conn, stage)
    return out


def known_events(handle: LedgerHandle, frame: pl.DataFrame) -> pl.DataFrame:
    """The subset of (resident_code, event, event_date) already recorded by any run."""
    keys = frame.select(
        pl.col("resident_code").cast(pl.Utf8), pl.col("event").cast(pl.Utf8), pl.col("event_date")
    ).drop_nulls().unique()
    if keys.height == 0:
        return pl.DataFrame(schema=EVENT_SCHEMA)
    stage = staging.stage_table("ledger_stage_known_events", {
        "resident_code": sa.String(11), "event": sa.String(32), "event_date": sa.Date})
    ev, st = events.c, stage.c
    query = sa.select(st.resident_code, st.event, st.event_date).where(
        sa.exists().where(ev.resident_code == st.resident_code, ev.event == st.event,
                          ev.event_date == st.event_date)
    )
    with handle.read() as conn:
        staging.create_and_load(conn, stage, keys)
        out = staging.fetch_frame(conn, query, EVENT_SCHEMA)
        staging.drop(conn, stage)
    return out


def resident_history(handle: LedgerHandle, resident_codes: pl.Series) -> tuple[pl.Series, pl.DataFrame]:
    """(codes holding or having held any number, every recorded event of the given residents).

    What a daily run needs to refuse events that contradict the ledger: a move-out or death
    of a resident never known, an event after a recorded death or move-out.
    """
    codes = pl.Series("resident_code", resident_codes, dtype=pl.Utf8).drop_nulls().unique().to_frame()
    if codes.height == 0:
        return pl.Series("resident_code", [], dtype=pl.Utf8), pl.DataFrame(schema=EVENT_SCHEMA)
    stage = staging.stage_table("ledger_stage_history", {"resident_code": sa.String(11)})
    inum, ev = issued_numbers.c, events.c
    numbered = sa.select(stage.c.resident_code).where(
        sa.exists().where(inum.resident_code == stage.c.resident_code))
    recorded = sa.select(ev.resident_code, ev.event, ev.event_date).join(
        stage, stage.c.resident_code == ev.resident_code)
    with handle.read() as conn:
        staging.create_and_load(conn, stage, codes)
        known = staging.fetch_frame(conn, numbered, {"resident_code": pl.Utf8})
        history = staging.fetch_frame(conn, recorded, EVENT_SCHEMA)
        staging.drop(conn, stage)
    return known.get_column("resident_code"), history


def numbers_not_derived_by(handle: LedgerHandle, key_id: str) -> pl.DataFrame:
    """[my_number, resident_code] of every number, active or revoked, that is not a first
    (generation 0) number derived with ``key_id``: numbers brought by move-ins, reissued
    numbers and numbers of other keys.

    Only these can equal a number the key derives now for another resident (the keyed
    permutation never maps two resident codes to one number), so this small set, not the
    whole ledger, is what a run compares its fresh numbers with.
    """
    inum = issued_numbers.c
    query = sa.select(inum.my_number, inum.resident_code).where(
        sa.or_(inum.key_id.is_(None), inum.key_id != key_id, inum.generation != 0))
    with handle.read() as conn:
        return staging.fetch_frame(conn, query, {"my_number": pl.Utf8, "resident_code": pl.Utf8})
