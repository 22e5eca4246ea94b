"""Issued numbers: the bulk commit, move-ins' kept numbers, look-ups, and the reissue.

The bulk commit stages, checks with set-based SQL and inserts in one transaction; it must
stay fast (740,000 rows in seconds) and exactly right: conflicts are counted in one pass over the staged
rows, the insert writes only rows not yet present, and the driver's row count must match
what the checks predicted or the whole transaction is rolled back.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa

from core.errors import AlreadyIssued, InvalidFormat, LedgerError, NotIssued
from transforms.numbering import derive_my_numbers

from . import keys, notices, runs, staging
from .frames import check_number_frame
from .handle import LedgerHandle, WriteContext
from .keys import IssuingKey
from .schema import ISSUE_REASONS, REASON_PATTERN, issued_numbers

I = issued_numbers  # noqa: E741 - short alias keeps the SQL readable
NUMBER_SCHEMA = {"resident_code": pl.Utf8, "my_number": pl.Utf8, "generation": pl.Int64}
#: how many generations reissue tries before giving up (each skip is a collision: ~never)
MAX_REISSUE_ATTEMPTS = 64
#: how numbers are derived (transforms.numbering.derive_my_numbers; tests pass their own)
Derive = Callable[[pl.Series, Any, int], pl.Series]


@dataclass(frozen=True)
class CommitResult:
    """What a commit did: rows written now, rows that were already in the ledger."""

    inserted: int
    already_present: int


@dataclass(frozen=True)
class ReissueResult:
    """A number change, shown only by the last four digits of the old and new numbers."""

    generation: int
    last4_old: str
    last4_new: str


def _sum_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def commit(handle: LedgerHandle, run_id: str, frame: pl.DataFrame, key_id: str | None,
           reason: str = "first_issue") -> CommitResult:
    """Write derived numbers in one transaction; idempotent (a re-run adds nothing).

    AlreadyIssued (with counts, nothing written) when a number belongs to another
    resident or a resident already holds a different active number.
    """
    numbers = check_number_frame(frame, "commit_numbers", with_generation=True)
    return _commit(handle, run_id, numbers, key_id, reason)


def record_existing(handle: LedgerHandle, run_id: str, frame: pl.DataFrame,
                    reason: str = "move_in") -> CommitResult:
    """Record numbers residents already hold (move-ins keep their number for life)."""
    numbers = check_number_frame(frame, "record_existing_numbers", with_generation=False)
    return _commit(handle, run_id, numbers, None, reason)


def _check_reason(reason: str) -> None:
    if not re.match(REASON_PATTERN, reason or ""):
        raise LedgerError("reason must be a short lower-case code such as "
                          f"{', '.join(ISSUE_REASONS)} or an event name")


def _commit(handle: LedgerHandle, run_id: str, numbers: pl.DataFrame, key_id: str | None,
            reason: str) -> CommitResult:
    """Commit a checked frame [resident_code, my_number, generation]."""
    _check_reason(reason)
    stage = staging.stage_table("ledger_stage_numbers", {
        "resident_code": sa.String(11), "my_number": sa.String(12), "generation": sa.Integer})
    s = stage.c
    existing = I.alias("existing")
    is_new = ~sa.exists().where(existing.c.my_number == s.my_number)
    # staged in number order, so the probes into the UNIQUE(my_number) index run in order
    numbers = numbers.sort("my_number")
    with handle.write("issued_numbers") as w:
        conn = w.conn
        runs.require(conn, run_id)
        staging.create_and_load(conn, stage, numbers)
        present, taken = conn.execute(
            sa.select(_sum_if(I.c.resident_code == s.resident_code),
                      _sum_if(I.c.resident_code != s.resident_code))
            .select_from(stage.join(I, I.c.my_number == s.my_number))).one()
        present, taken = int(present), int(taken)
        other_active = 0
        if numbers.height > present + taken:  # only new numbers can meet another active one
            other_active = staging.count(conn, sa.select(s.my_number).join(
                I, sa.and_(I.c.resident_code == s.resident_code, I.c.status == "active"))
                .where(is_new))
        if taken or other_active:
            err = AlreadyIssued(
                f"commit refused, nothing written: {taken} number(s) already belong to "
                f"another resident, {other_active} resident(s) already hold a different "
                "active number")
            err.counts = {"numbers_owned_by_others": taken,  # type: ignore[attr-defined]
                          "residents_with_other_active": other_active}
            raise err
        inserted = conn.execute(
            sa.insert(I).from_select(
                ["my_number", "resident_code", "generation", "status", "reason", "run_id",
                 "key_id", "issued_at"],
                sa.select(s.my_number, s.resident_code, s.generation, sa.literal("active"),
                          sa.literal(reason), sa.literal(run_id), sa.literal(key_id, sa.String),
                          sa.literal(w.now(), I.c.issued_at.type))
                # resident order: both resident indexes then fill sequentially
                .where(is_new).order_by(s.resident_code)),
            execution_options={"preserve_rowcount": True},
        ).rowcount
        if inserted != numbers.height - present:  # pragma: no cover - the checks above
            raise LedgerError("commit refused: counts do not add up; nothing written")
        staging.drop(conn, stage)
        w.audit("commit_numbers", f"{inserted} number(s) written, {present} already present",
                f"{reason}; key {key_id}" if key_id else reason, run_id)
    return CommitResult(inserted=inserted, already_present=present)


def as_series(values: pl.Series | Sequence[str], name: str) -> pl.Series:
    """Codes or numbers as a Utf8 Series of this name."""
    return pl.Series(name, values, dtype=pl.Utf8) if not isinstance(values, pl.Series) else (
        values.cast(pl.Utf8).rename(name))


def active(handle: LedgerHandle, resident_codes: pl.Series | Sequence[str] | None = None
           ) -> pl.DataFrame:
    """Active numbers, of all residents or the given ones: [resident_code, my_number, generation]."""
    query = sa.select(I.c.resident_code, I.c.my_number, I.c.generation).where(
        I.c.status == "active")
    with handle.read() as conn:
        if resident_codes is None:
            return staging.fetch_frame(conn, query.order_by(I.c.resident_code), NUMBER_SCHEMA)
        codes = as_series(resident_codes, "resident_code").unique()
        stage = staging.stage_table("ledger_stage_codes", {"resident_code": sa.String(11)})
        staging.create_and_load(conn, stage, codes.to_frame())
        out = staging.fetch_frame(conn, query.join(
            stage, stage.c.resident_code == I.c.resident_code).order_by(I.c.resident_code),
            NUMBER_SCHEMA)
        staging.drop(conn, stage)
        return out


def owners(handle: LedgerHandle, my_numbers: pl.Series | Sequence[str]) -> pl.DataFrame:
    """Who holds (or held) each given number: [my_number, resident_code, status]."""
    numbers = as_series(my_numbers, "my_number").unique()
    stage = staging.stage_table("ledger_stage_owned", {"my_number": sa.String(12)})
    with handle.read() as conn:
        staging.create_and_load(conn, stage, numbers.to_frame())
        out = staging.fetch_frame(
            conn,
            sa.select(I.c.my_number, I.c.resident_code, I.c.status)
            .join(stage, stage.c.my_number == I.c.my_number).order_by(I.c.my_number),
            {"my_number": pl.Utf8, "resident_code": pl.Utf8, "status": pl.Utf8})
        staging.drop(conn, stage)
        return out


def reissue(handle: LedgerHandle, resident_code: str, reason: str, key: IssuingKey,
            run_id: str | None = None, *, derive: Derive = derive_my_numbers) -> ReissueResult:
    """Change a resident's number: revoke the active one, issue the next free generation.

    The key is bound first (keys.bind: always, a key the ledger would not issue under is
    refused before anything changes). The new number comes from the first generation after
    the highest one the resident ever had whose derived number is in no row of the ledger
    (active or revoked), so no number is ever given twice. One transaction, audited.
    """
    if not reason or not reason.strip():
        raise LedgerError("reissue needs a reason (it goes to the audit log)")
    code = str(resident_code)
    if not re.fullmatch(r"[0-9]{11}", code):
        raise InvalidFormat("reissue: the resident code is not 11 ASCII digits")
    with handle.write("issued_numbers") as w:
        conn = w.conn
        keys.bind(w, key, None)
        held = conn.execute(sa.select(I.c.number_id, I.c.my_number).where(
            I.c.resident_code == code, I.c.status == "active")).first()
        if held is None:
            raise NotIssued("reissue refused: the resident has no active number in the ledger")
        last = conn.execute(sa.select(sa.func.max(I.c.generation)).where(
            I.c.resident_code == code)).scalar_one()
        if run_id is None:
            run_id = runs.start_in(w, "reissue", hashlib.sha256(uuid.uuid4().bytes).hexdigest(), {})
        generation, new = _free_generation(w, code, int(last) + 1, key, derive, run_id,
                                           held.number_id)
        now = w.now()
        conn.execute(sa.update(I).where(I.c.number_id == held.number_id).values(
            status="revoked", revoked_at=now, revoked_run_id=run_id))
        # audit subjects point at ledger rows, so the audit log holds no personal data
        w.audit("revoke_number", f"number row {held.number_id} revoked", reason, run_id)
        # an unmailed card of the revoked number must never be mailed: void it
        notices.void_revoked(w, held.number_id, run_id)
        new_pk = conn.execute(sa.insert(I).values(
            my_number=new, resident_code=code, generation=generation, status="active",
            reason="number_change", run_id=run_id, key_id=key.key_id, issued_at=now)
        ).inserted_primary_key
        if new_pk is None:  # pragma: no cover - a single-row INSERT always reports its key
            raise LedgerError("reissue refused: the database reported no id for the new row")
        w.audit("issue_number", f"number row {new_pk[0]} issued, generation {generation}, "
                f"replacing row {held.number_id}", f"{reason}; key {key.key_id}", run_id)
    return ReissueResult(generation=generation, last4_old=held.my_number[-4:], last4_new=new[-4:])


def _free_generation(w: WriteContext, code: str, start: int, key: IssuingKey, derive: Derive,
                     run_id: str, number_id: int) -> tuple[int, str]:
    """The first generation from ``start`` whose number no ledger row holds."""
    for generation in range(start, start + MAX_REISSUE_ATTEMPTS):
        number = str(derive(pl.Series([code], dtype=pl.Utf8), key.derivation_key, generation)[0])
        taken = w.conn.execute(sa.select(sa.literal(1)).where(I.c.my_number == number)).first()
        if taken is None:
            return generation, number
        w.audit("skip_generation", f"generation {generation} for the holder of number row "
                f"{number_id}: its number is already in the ledger", "numbers are never reused",
                run_id)
    raise LedgerError(f"reissue found no free number in {MAX_REISSUE_ATTEMPTS} generations")
