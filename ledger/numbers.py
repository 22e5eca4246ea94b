"""The bulk commit of numbers: stage, check with set-based SQL, insert, all in one transaction.

Kept apart from the Ledger class because this is the path that must stay fast (740,000
rows in seconds) and exactly right: conflicts are counted in one pass over the staged
rows, the insert writes only rows not yet present, and the driver's row count must match
what the checks predicted or the whole transaction is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
import sqlalchemy as sa

from core.errors import AlreadyIssued, LedgerError

from . import bulk
from .engine import write_transaction
from .schema import issued_numbers

if TYPE_CHECKING:
    from .store import Ledger

I = issued_numbers  # noqa: E741 - short alias keeps the SQL readable


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


def commit_frame(ledger: Ledger, run_id: str, numbers: pl.DataFrame, key_id: str | None,
                 reason: str) -> CommitResult:
    """Commit a checked frame [resident_code, my_number, generation]; see Ledger.commit_numbers."""
    from .store import utcnow

    stage = bulk.stage_table("ledger_stage_numbers", {
        "resident_code": sa.String(11), "my_number": sa.String(12), "generation": sa.Integer})
    s = stage.c
    existing = I.alias("existing")
    is_new = ~sa.exists().where(existing.c.my_number == s.my_number)
    # staged in number order, so the probes into the UNIQUE(my_number) index run in order
    numbers = numbers.sort("my_number")
    with write_transaction(ledger.engine, "issued_numbers") as conn:
        ledger._require_run(conn, run_id)
        bulk.create_and_load(conn, stage, numbers)
        present, taken = conn.execute(
            sa.select(_sum_if(I.c.resident_code == s.resident_code),
                      _sum_if(I.c.resident_code != s.resident_code))
            .select_from(stage.join(I, I.c.my_number == s.my_number))).one()
        present, taken = int(present), int(taken)
        other_active = 0
        if numbers.height > present + taken:  # only new numbers can meet another active one
            other_active = bulk.count(conn, sa.select(s.my_number).join(
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
                          sa.literal(utcnow(), I.c.issued_at.type))
                # resident order: both resident indexes then fill sequentially
                .where(is_new).order_by(s.resident_code)),
            execution_options={"preserve_rowcount": True},
        ).rowcount
        if inserted != numbers.height - present:  # pragma: no cover - the checks above
            raise LedgerError("commit refused: counts do not add up; nothing written")
        bulk.drop(conn, stage)
        ledger._audit(conn, "commit_numbers",
                      f"{inserted} number(s) written, {present} already present",
                      f"{reason}; key {key_id}" if key_id else reason, run_id)
    return CommitResult(inserted=inserted, already_present=present)
