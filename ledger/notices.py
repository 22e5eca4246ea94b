"""Notices: one per issued number and envelope, followed from the plan to the holder's hands.

A notice is the card of one active number in one envelope (``registered_mail_number``). It
starts ``planned``; QA passing its batch makes it ``printed``; the post-office hand-over makes
it ``mailed``; then ``delivered``, or ``returned`` → ``held`` → ``handed_over`` | ``re_sent``
| ``destroyed``. A notice whose batch failed QA, whose run ended without printing it, whose
number was revoked before mailing, or whose sheets were reprinted is ``voided``, and the
number goes back to planning (docs/domain.md#registered-mail-lifecycle).

The database enforces the transitions (a trigger checks each (old, new) pair against
``notice_transitions``) and writes the history itself (who, when, why); this module only asks
for changes. Results are counts and registered-mail numbers, never a My Number.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.errors import LedgerError

from . import staging
from .frames import require_columns
from .handle import LedgerHandle, WriteContext
from .schema import (
    NOTICE_STATUSES,
    NOTICE_TRANSITIONS,
    issued_numbers,
    notices,
    resident_records,
    runs,
)

N = notices.c
I = issued_numbers.c  # noqa: E741
#: the batch id of envelopes made by hand (they are in no print batch)
MANUAL_BATCH = "MANUAL"
NOTICE_COLUMNS = ("resident_code", "household_id", "batch_id", "envelope_seq",
                  "registered_mail_number", "is_manual")
PENDING_SCHEMA: staging.FrameSchema = {"number_id": pl.Int64, "resident_code": pl.Utf8, "record": pl.Utf8}
NOTICE_SCHEMA: staging.FrameSchema = {"notice_id": pl.Int64, "resident_code": pl.Utf8, "household_id": pl.Utf8,
                 "run_id": pl.Utf8, "batch_id": pl.Utf8, "envelope_seq": pl.Int64,
                 "registered_mail_number": pl.Utf8, "is_manual": pl.Boolean, "status": pl.Utf8,
                 "void_reason": pl.Utf8, "updated_at": pl.Datetime("us", "UTC"),
                 "number_status": pl.Utf8}


@dataclass(frozen=True)
class Transition:
    """What a status change did: notices changed, already there (idempotent), refused."""

    changed: int
    already: int
    refused: int
    unknown: int = 0


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# --- the printable record of a resident ---------------------------------------------------
def save_records(handle: LedgerHandle, run_id: str, records: pl.DataFrame) -> int:
    """Keep (replace) each resident's printable record: ``resident_code`` and ``record`` (JSON).

    A later run prints from it when the resident's notice could not be printed by the run
    that had the register row (failed QA, exhausted range, a number changed by ``reissue``).
    """
    frame = require_columns(records, ("resident_code", "record"), "save_records").select(
        pl.col("resident_code").cast(pl.Utf8), pl.col("record").cast(pl.Utf8))
    if frame.height == 0:
        return 0
    stage = staging.stage_table("ledger_stage_records", {
        "resident_code": sa.String(11), "record": sa.Text})
    r = resident_records.c
    with handle.write("resident_records") as w:
        conn, now = w.conn, w.now()
        staging.create_and_load(conn, stage, frame.unique(subset=["resident_code"], keep="last"))
        conn.execute(sa.delete(resident_records).where(
            r.resident_code.in_(sa.select(stage.c.resident_code))))
        conn.execute(sa.insert(resident_records).from_select(
            ["resident_code", "record", "run_id", "updated_at"],
            sa.select(stage.c.resident_code, stage.c.record, sa.literal(run_id, sa.String),
                      sa.literal(now, r.updated_at.type))))
        staging.drop(conn, stage)
    return frame.height


def _needs_notice() -> sa.ColumnElement[bool]:
    """Active numbers this municipality issued (a kept move-in number came with its card)."""
    return sa.and_(I.status == "active", issued_numbers.c.key_id.is_not(None))


#: states whose notice no longer stands for its number (a new notice may be planned)
NOT_LIVE = ("voided", "re_sent")


def _live(number_id: Any) -> sa.Exists:
    return sa.exists().where(N.number_id == number_id, N.status.notin_(NOT_LIVE))


def pending(handle: LedgerHandle, *, with_records: bool = True) -> pl.DataFrame:
    """Active numbers without a live notice, with the resident's record when one is kept:
    [number_id, resident_code, record] — what the next run must plan. ``with_records=False``
    leaves ``record`` null (fetch only the records a run lacks with ``records_of``)."""
    r = resident_records.c
    record = r.record if with_records else sa.null().label("record")
    query = (sa.select(I.number_id, I.resident_code, record)
             .where(_needs_notice(), ~_live(I.number_id)).order_by(I.resident_code))
    if with_records:
        query = query.select_from(issued_numbers.outerjoin(
            resident_records, r.resident_code == I.resident_code))
    with handle.read() as conn:
        return staging.fetch_frame(conn, query, PENDING_SCHEMA)


# --- planning -----------------------------------------------------------------------------
#: PostgreSQL advisory lock id held while a run plans notices
_PG_PLANNING_LOCK = 0x6D796E6F74  # "mynot"


@contextmanager
def planning_lock(handle: LedgerHandle) -> Iterator[None]:
    """One planner at a time per ledger, from reading the pending numbers to recording the
    notices: a PostgreSQL session advisory lock, or an flock beside the SQLite file. Released
    when the process dies, so a killed run never blocks the next."""
    if handle.dialect == "postgresql":
        with handle.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _PG_PLANNING_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_PLANNING_LOCK})
                conn.commit()
        return
    database = handle.engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.planning.lock", "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def void_unprinted(handle: LedgerHandle, run_id: str) -> int:
    """Void printed-by-nobody notices of runs that have ended: their numbers go back to planning.

    A run that ended (succeeded, failed, partial) without printing a planned notice never
    will (its batch failed QA, was deleted or never rendered). Hand-made envelopes are
    excluded: they stay planned until made. Runs still ``running`` may be resumed.
    """
    ended = sa.select(runs.c.run_id).where(runs.c.status != "running", runs.c.run_id != run_id)
    where = sa.and_(N.status == "planned", ~N.is_manual, N.run_id.in_(ended))
    return _update_alone(handle, where, "voided", "run ended without printing this notice",
                         run_id, void_reason="not_printed")


def record(handle: LedgerHandle, run_id: str, frame: pl.DataFrame) -> int:
    """Record one planned notice per member of this run's plan (idempotent on resume).

    ``frame``: resident_code, household_id, batch_id (``MANUAL`` for hand-made envelopes),
    envelope_seq, registered_mail_number, is_manual. Each resident's active number gets the
    notice; a number with a live notice of another run is refused (nothing written).
    """
    frame = require_columns(frame, NOTICE_COLUMNS, "record_notices").select(
        pl.col("resident_code").cast(pl.Utf8), pl.col("household_id").cast(pl.Utf8),
        pl.col("batch_id").cast(pl.Utf8).fill_null(MANUAL_BATCH), pl.col("envelope_seq").cast(pl.Int64),
        pl.col("registered_mail_number").cast(pl.Utf8), pl.col("is_manual").cast(pl.Boolean))
    if frame.height == 0:
        return 0
    if frame.get_column("registered_mail_number").null_count():
        raise LedgerError("record_notices: every notice needs a registered-mail number")
    stage = staging.stage_table("ledger_stage_notices", {
        "resident_code": sa.String(11), "household_id": sa.String(64), "batch_id": sa.String(32),
        "envelope_seq": sa.Integer, "registered_mail_number": sa.String(11),
        "is_manual": sa.Boolean})
    s = stage.c
    with handle.write("notices") as w:
        conn, now = w.conn, w.now()
        staging.create_and_load(conn, stage, frame)
        mine = sa.exists().where(N.number_id == I.number_id, N.run_id == run_id,
                                 N.status.notin_(NOT_LIVE))
        before = staging.count(conn, sa.select(N.notice_id).where(N.run_id == run_id))
        conn.execute(sa.insert(notices).from_select(
            ["number_id", "resident_code", "household_id", "run_id", "batch_id", "envelope_seq",
             "registered_mail_number", "is_manual", "status", "created_at", "updated_at",
             "updated_by", "updated_why"],
            sa.select(I.number_id, s.resident_code, s.household_id, sa.literal(run_id, sa.String),
                      s.batch_id, s.envelope_seq, s.registered_mail_number, s.is_manual,
                      sa.literal("planned"), sa.literal(now, N.created_at.type),
                      sa.literal(now, N.updated_at.type),
                      sa.literal(w.operator, sa.String), sa.literal("planned", sa.Text))
            .join(issued_numbers, sa.and_(I.resident_code == s.resident_code, I.status == "active"))
            .where(~mine)))
        # (psycopg reports no rowcount for INSERT ... SELECT into a table with triggers)
        inserted = staging.count(conn, sa.select(N.notice_id).where(N.run_id == run_id)) - before
        staging.drop(conn, stage)
        w.audit("plan_notices", f"{inserted} notice(s) planned", "", run_id)
    return inserted


# --- status changes -----------------------------------------------------------------------
def _update(w: WriteContext, where: sa.ColumnElement[bool], to_status: str, why: str,
            run_id: str | None, *, void_reason: str | None = None) -> int:
    """One set-based status change; the trigger refuses any row whose change is not allowed."""
    values: dict[str, Any] = {"status": to_status, "updated_at": w.now(),
                              "updated_by": w.operator, "updated_why": why or to_status}
    if void_reason is not None:
        values["void_reason"] = void_reason
    changed = int(w.conn.execute(sa.update(notices).where(where).values(**values)).rowcount or 0)
    if changed:
        w.audit(f"notice_{to_status}", f"{changed} notice(s) -> {to_status}", why, run_id)
    return changed


def _update_alone(handle: LedgerHandle, where: sa.ColumnElement[bool], to_status: str, why: str,
                  run_id: str | None, *, void_reason: str | None = None) -> int:
    """``_update`` in its own transaction; a refusal by the database is one clear error."""
    try:
        with handle.write("notices") as w:
            return _update(w, where, to_status, why, run_id, void_reason=void_reason)
    except sa.exc.DBAPIError:
        raise LedgerError(f"the ledger refused a notice status change to {to_status}; "
                          "nothing was written") from None


def mark_batch(handle: LedgerHandle, run_id: str, batch_id: str, to_status: str, why: str,
               *, void_reason: str | None = None) -> int:
    """Move the planned notices of one batch of one run to ``printed`` or ``voided``."""
    where = sa.and_(N.run_id == run_id, N.batch_id == batch_id, N.status == "planned")
    return _update_alone(handle, where, to_status, why, run_id, void_reason=void_reason)


def transition(handle: LedgerHandle, numbers: Sequence[str], to_status: str, why: str, *,
               run_id: str | None = None, void_reason: str | None = None,
               via: str | None = None) -> Transition:
    """Move the live notices of the given envelopes to ``to_status``; idempotent.

    Notices already in ``to_status`` count as ``already``; those from which the change is
    not allowed count as ``refused`` and are left alone; registered-mail numbers with no
    notice count as ``unknown``. ``via`` passes through an intermediate state in the same
    transaction (returned → held).
    """
    if to_status not in NOTICE_STATUSES:
        raise LedgerError(f"notice status must be one of {', '.join(NOTICE_STATUSES)}")
    wanted = sorted(set(numbers))
    if not wanted:
        return Transition(0, 0, 0)
    steps = [via, to_status] if via else [to_status]
    stage = staging.stage_table("ledger_stage_rmn", {"registered_mail_number": sa.String(11)})
    try:
        with handle.write("notices") as w:
            conn = w.conn
            staging.create_and_load(conn, stage, pl.DataFrame(
                {"registered_mail_number": wanted}, schema={"registered_mail_number": pl.Utf8}))
            mine = N.registered_mail_number.in_(sa.select(stage.c.registered_mail_number))
            # the live notices of these envelopes (a re-sent envelope's old notices stay re_sent)
            known = {r for (r,) in conn.execute(sa.select(N.registered_mail_number).where(mine)
                                                 .distinct())}
            already = staging.count(conn, sa.select(N.notice_id).where(mine, N.status == to_status))
            live_before = staging.count(conn, sa.select(N.notice_id).where(
                mine, N.status.notin_(NOT_LIVE)))
            changed = 0
            for i, step in enumerate(steps):
                sources = [a for a, b in NOTICE_TRANSITIONS if b == step]
                n = _update(w, sa.and_(mine, N.status.in_(sources)), step, why, run_id,
                            void_reason=void_reason)
                if i == len(steps) - 1:
                    changed = n
            staging.drop(conn, stage)
    except sa.exc.DBAPIError:
        raise LedgerError(f"the ledger refused a notice status change to {to_status}; "
                          "nothing was written") from None
    live_already = already if to_status not in NOT_LIVE else 0
    refused = max(0, live_before - changed - live_already)
    return Transition(changed=changed, already=already, refused=refused,
                      unknown=len(wanted) - len(known))


def void_revoked(w: WriteContext, number_id: int, run_id: str | None) -> int:
    """Void the unmailed notices of a number just revoked (inside reissue's transaction).

    A printed envelope holding the revoked card must be pulled as a whole: the other
    members' printed notices in it are voided too (``envelope_pulled``), so the next run
    prints all of them again in a new envelope."""
    envelopes = sa.select(N.registered_mail_number).where(
        N.number_id == number_id, N.status == "printed").scalar_subquery()
    pulled = _update(w, sa.and_(N.status == "printed", N.number_id != number_id,
                                     N.registered_mail_number.in_(envelopes)),
                     "voided", "envelope pulled: it holds a revoked number's card", run_id,
                     void_reason="envelope_pulled")
    printed = _update(w, sa.and_(N.number_id == number_id, N.status == "printed"), "voided",
                      "number revoked: pull the printed envelope", run_id,
                      void_reason="number_revoked")
    return pulled + printed + _update(
        w, sa.and_(N.number_id == number_id, N.status == "planned"), "voided",
        "number revoked", run_id, void_reason="revoked_unprinted")


# --- read-outs ----------------------------------------------------------------------------
def _notice_query() -> sa.Select[Any]:
    return (sa.select(N.notice_id, N.resident_code, N.household_id, N.run_id, N.batch_id,
                      N.envelope_seq, N.registered_mail_number, N.is_manual, N.status,
                      N.void_reason, N.updated_at, I.status.label("number_status"))
            .join(issued_numbers, I.number_id == N.number_id))


def _fetch(conn: Connection, query: sa.Select[Any]) -> pl.DataFrame:
    rows = [tuple(_utc(v) for v in row) for row in conn.execute(query).all()]
    return pl.DataFrame(rows, schema=NOTICE_SCHEMA, orient="row")


def by_mail_numbers(handle: LedgerHandle, numbers: Iterable[str]) -> pl.DataFrame:
    """Every notice (any status) of the given envelopes, newest first."""
    wanted = sorted(set(numbers))
    with handle.read() as conn:
        return _fetch(conn, _notice_query().where(N.registered_mail_number.in_(wanted))
                      .order_by(N.notice_id.desc()))


def of_run(handle: LedgerHandle, run_id: str) -> pl.DataFrame:
    """Every notice a run planned."""
    with handle.read() as conn:
        return _fetch(conn, _notice_query().where(N.run_id == run_id).order_by(N.notice_id))


def all_notices(handle: LedgerHandle, statuses: Sequence[str] | None = None) -> pl.DataFrame:
    query = _notice_query()
    if statuses is not None:
        query = query.where(N.status.in_(list(statuses)))
    with handle.read() as conn:
        return _fetch(conn, query.order_by(N.notice_id))


def without_live_notice_count() -> sa.Select[Any]:
    """How many active numbers have no live notice: one index lookup per number
    (``ix_notices_number_id``, migration 0005), never a scan of the notices per number."""
    return sa.select(sa.func.count()).select_from(issued_numbers).where(_needs_notice(), ~_live(I.number_id))


def counts(handle: LedgerHandle) -> dict[str, Any]:
    """Notices by status, and the funnel issued → printed → mailed → delivered/held/destroyed."""
    with handle.read() as conn:
        by_status = {s: int(n) for s, n in conn.execute(
            sa.select(N.status, sa.func.count()).group_by(N.status)).all()}
        issued = int(conn.execute(sa.select(sa.func.count()).select_from(issued_numbers)
                                  .where(_needs_notice())).scalar_one())
        pending_n = int(conn.execute(without_live_notice_count()).scalar_one())
    return {"by_status": {s: by_status.get(s, 0) for s in NOTICE_STATUSES},
            "active_numbers_needing_notice": issued, "without_live_notice": pending_n,
            "funnel": funnel(issued, by_status)}


def funnel(issued: int, by_status: dict[str, int]) -> dict[str, int]:
    """Cumulative stages: a notice that was mailed was also printed, and so on."""
    get = by_status.get
    after_mail = sum(get(s, 0) for s in ("delivered", "returned", "held", "handed_over",
                                         "re_sent", "destroyed"))
    mailed = get("mailed", 0) + after_mail
    return {"issued": issued, "printed": get("printed", 0) + mailed, "mailed": mailed,
            "delivered": get("delivered", 0) + get("handed_over", 0),
            "held": get("held", 0) + get("returned", 0), "re_sent": get("re_sent", 0),
            "destroyed": get("destroyed", 0)}


def records_of(handle: LedgerHandle, resident_codes: Sequence[str] | pl.Series) -> pl.DataFrame:
    """The kept printable records of these residents: [resident_code, record]."""
    r = resident_records.c
    codes = pl.Series("resident_code", resident_codes, dtype=pl.Utf8).unique().to_frame()
    schema = {"resident_code": pl.Utf8, "record": pl.Utf8}
    if codes.height == 0:
        return pl.DataFrame(schema=schema)
    stage = staging.stage_table("ledger_stage_record_codes", {"resident_code": sa.String(11)})
    with handle.read() as conn:
        staging.create_and_load(conn, stage, codes)
        out = staging.fetch_frame(conn, sa.select(r.resident_code, r.record).join(
            stage, stage.c.resident_code == r.resident_code).order_by(r.resident_code), schema)
        staging.drop(conn, stage)
    return out


def unprinted(handle: LedgerHandle) -> pl.DataFrame:
    """Active numbers without a printed notice: none live, or only a planned one.
    [resident_code, notice_status (null: none), run_id, registered_mail_number]."""
    live = sa.and_(N.number_id == I.number_id, N.status.notin_(("voided", "re_sent")))
    query = (sa.select(I.resident_code, N.status, N.run_id, N.registered_mail_number)
             .select_from(issued_numbers.outerjoin(notices, live))
             .where(_needs_notice(), sa.or_(N.status.is_(None), N.status == "planned"))
             .order_by(I.resident_code))
    with handle.read() as conn:
        return staging.fetch_frame(conn, query, {"resident_code": pl.Utf8, "notice_status": pl.Utf8,
                                              "run_id": pl.Utf8, "registered_mail_number": pl.Utf8})
