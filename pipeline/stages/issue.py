"""The bulk-only stage: derive, prove and commit numbers for a whole register.

Numbers are derived, not drawn, so a re-derivation after a crash is identical, and the
ledger commit is idempotent. The stages bulk shares with daily are ``pipeline.stages``.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from core.errors import LedgerError
from core.keys import open_key
from expectations.issued import check_issued_numbers
from ledger import Ledger
from ledger.queries import issued_runs
from pipeline.faults import crash_point
from pipeline.files import (
    write_csv_atomic,
    write_parquet_atomic,
)
from pipeline.options import RunOptions
from pipeline.results import LedgerStageResult
from pipeline.stages.bookkeeping import open_ledger
from pipeline.stages.brought_numbers import (
    COLLISION_HELD,
    EMPTY_DERIVED,
    held_by_others,
    settle_brought_numbers,
)
from pipeline.stages.check import discard_brought_numbers, read_brought_numbers
from pipeline.stages.register_check import QUARANTINE_SCHEMA
from transforms.numbering import derive_my_numbers

if TYPE_CHECKING:
    from core.hsm import TokenKey
    from core.keys import KeyMaterial

EMPTY_REJECTED = pl.DataFrame(schema=QUARANTINE_SCHEMA)


@dataclass(frozen=True)
class IssueDecision:
    """What a bulk run does with each accepted row, decided before it writes anything."""

    outcomes: pl.DataFrame     # row, resident_code, outcome, is_reused
    rejected: pl.DataFrame     # row (UInt32), field, reason: rows the key or the ledger hold
    fresh: pl.DataFrame        # resident_code, my_number, generation: numbers to commit
    to_record: pl.DataFrame    # resident_code, my_number: brought numbers to record as kept
    timings: dict[str, float]


def decide_issue(accepted: pl.DataFrame, brought_numbers: pl.DataFrame, ledger: Ledger,
                 key: KeyMaterial | TokenKey, run_id: str, issue_day: dt.date) -> IssueDecision:
    """Derive numbers and decide every row, reading the ledger only.

    ``accepted``: [row, resident_code, has_my_number] of the rows the check accepted;
    ``brought_numbers``: [resident_code, my_number] of the rows that bring one. Shared by
    ``stage_issue``, which then writes, and ``check --key`` (``pipeline.stages.foresee``), which
    only reports the holds, so that the two cannot disagree.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    bringing = accepted.filter(pl.col("has_my_number")).select("row", "resident_code")
    deriving = accepted.filter(~pl.col("has_my_number")).select("row", "resident_code")
    existing = issued_runs(ledger, deriving.get_column("resident_code")).select("resident_code", "run_id")
    outcomes = (
        deriving.join(existing, on="resident_code", how="left", validate="1:1")
        .with_columns(
            pl.when(pl.col("run_id").is_null()).then(pl.lit("issued"))
            .when(pl.col("run_id") == run_id).then(pl.lit("issued"))
            .otherwise(pl.lit("already_issued")).alias("outcome"),
            (pl.col("run_id") == run_id).fill_null(False).alias("is_reused"),
        )
        .select("row", "resident_code", "outcome", "is_reused")
    )
    todo = outcomes.filter((pl.col("outcome") == "issued") & ~pl.col("is_reused"))
    timings["lookup_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    numbers = derive_my_numbers(todo.get_column("resident_code"), key.derivation_key, 0)
    fresh = todo.select("resident_code").with_columns(
        numbers.alias("my_number"), pl.lit(0, dtype=pl.Int32).alias("generation")
    )
    timings["derive_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rejected: list[pl.DataFrame] = [EMPTY_REJECTED]
    to_record = EMPTY_DERIVED
    held = held_by_others(ledger, fresh, key.key_id)
    if bringing.height:
        settled = settle_brought_numbers(run_id, issue_day, bringing, brought_numbers, ledger,
                                         derived=fresh.select("resident_code", "my_number"))
        outcomes = pl.concat([outcomes, settled.outcomes.cast(outcomes.schema)])
        rejected.append(settled.rejected)
        held = pl.concat([held, settled.collided]).unique()
        to_record = settled.to_record
    if held.len():
        hit = pl.col("resident_code").is_in(held.implode()) & (pl.col("outcome") == "issued") \
            & ~pl.col("is_reused")
        rejected.append(outcomes.filter(hit).select(
            pl.col("row").cast(pl.UInt32), pl.lit("my_number").alias("field"), pl.lit(COLLISION_HELD).alias("reason")))
        outcomes = outcomes.with_columns(pl.when(hit).then(pl.lit("quarantined")).otherwise(pl.col("outcome"))
                                         .alias("outcome"))
        fresh = fresh.filter(~pl.col("resident_code").is_in(held.implode()))
    timings["collisions_s"] = time.perf_counter() - t0
    return IssueDecision(outcomes=outcomes.sort("row"), rejected=pl.concat(rejected), fresh=fresh,
                         to_record=to_record, timings=timings)


def stage_issue(opts: RunOptions, run_id: str) -> LedgerStageResult:
    """Derive numbers for residents without one, prove them unique (GX), commit them.

    Residents who already hold an active number from another run are skipped with a
    reason; numbers this run committed before a crash are counted as reused. Rows that
    bring a number of their own keep it (``pipeline.stages.brought_numbers``). A derived number that the
    ledger already holds for another resident, or that another row of the register brings,
    quarantines the rows involved (never the whole run: docs/domain.md#register-input-limits).
    """
    with open_ledger(opts) as ledger:   # closed: its SQLite page cache goes with it
        return _issue(opts, run_id, ledger)


def _issue(opts: RunOptions, run_id: str, ledger: Ledger) -> LedgerStageResult:
    """:func:`stage_issue` with its ledger."""
    run_dir = opts.run_dir
    accepted = pl.read_parquet(run_dir.accepted_path)
    if "has_my_number" not in accepted.columns:
        accepted = accepted.with_columns(pl.lit(False).alias("has_my_number"))
    key = open_key(opts.key)
    ledger.bind_key(key, run_id)  # a resumed run with another key is refused here too
    brought = read_brought_numbers(run_dir).select("resident_code", "my_number")  # the check stage's
    decision = decide_issue(accepted, brought, ledger, key, run_id, opts.print.issue_day)
    del brought
    timings = dict(decision.timings)
    crash_point("after_derive")
    if decision.to_record.height:
        ledger.record_existing_numbers(run_id, decision.to_record, reason="existing")
    fresh, outcomes = decision.fresh, decision.outcomes
    rejected = [decision.rejected] if decision.rejected.height else []

    t0 = time.perf_counter()
    proof = check_issued_numbers(fresh, out_dir=run_dir.check_dir)
    timings["prove_s"] = time.perf_counter() - t0
    if not proof["success"]:
        raise LedgerError(
            "the issued-number suite failed before commit "
            f"(rules: {', '.join(proof.get('failed_rules', [])) or 'see check/issued_results.json'})"
        )

    t0 = time.perf_counter()
    committed = ledger.commit_numbers(run_id, fresh, key.key_id, reason="first_issue")
    timings["commit_s"] = time.perf_counter() - t0
    crash_point("after_commit")
    del fresh, decision
    if rejected:
        quarantine = pl.read_csv(run_dir.quarantine_path, schema_overrides={"row": pl.UInt32},
                                 infer_schema=False).cast({"row": pl.UInt32})
        write_csv_atomic(pl.concat([quarantine, *rejected]).unique().sort("row", "field", "reason"),
                         run_dir.quarantine_path)
    write_parquet_atomic(outcomes, run_dir.outcomes_path)
    discard_brought_numbers(run_dir)  # kept or held: the ledger and the quarantine say which
    counts = outcomes.group_by("outcome").len().to_dicts()
    return {
        "outcomes": {r["outcome"]: r["len"] for r in counts},
        "reused": int(outcomes.get_column("is_reused").sum()),
        "committed": committed.inserted,
        "already_present": committed.already_present,
        "key_id": key.key_id,
        "is_demo_key": key.is_demo,
        "timings": timings,
    }
