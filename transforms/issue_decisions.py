"""What a bulk run does with each accepted register row (pure: polars in, polars out).

Numbers are derived, not drawn, so a re-derivation after a crash is identical. Deciding
needs what the ledger knows (``transforms.ledger_facts.LedgerFacts``, read by the stage
first) and never writes: ``pipeline.stages.issue.stage_issue`` writes what was decided, and
``check --key`` (``pipeline.stages.foresee``) only reports the holds, so the two cannot
disagree.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import polars as pl

from core.keys import BlockCipher
from transforms.brought_numbers import (
    COLLISION_HELD,
    EMPTY_DERIVED,
    QUARANTINE_SCHEMA,
    held_by_others,
    settle_brought_numbers,
)
from transforms.ledger_facts import LedgerFacts
from transforms.numbering import derive_my_numbers


@dataclass(frozen=True)
class IssueParams:
    """The run a decision is for: its id (a number it committed is reused), its issue day
    (the event date of a brought number) and the key's derivation material."""

    run_id: str
    issue_day: dt.date
    derivation_key: bytes | BlockCipher = field(repr=False)


@dataclass(frozen=True)
class IssueDecision:
    """What a bulk run does with each accepted row, decided before it writes anything."""

    outcomes: pl.DataFrame     # row, resident_code, outcome, is_reused
    rejected: pl.DataFrame     # row (UInt32), field, reason: rows the key or the ledger hold
    fresh: pl.DataFrame        # resident_code, my_number, generation: numbers to commit
    to_record: pl.DataFrame    # resident_code, my_number: brought numbers to record as kept
    timings: dict[str, float]


def decide_issue(accepted: pl.DataFrame, brought_numbers: pl.DataFrame, facts: LedgerFacts,
                 params: IssueParams) -> IssueDecision:
    """Derive numbers and decide every row.

    ``accepted``: [row, resident_code, has_my_number] of the rows the check accepted;
    ``brought_numbers``: [resident_code, my_number] of the rows that bring one; ``facts``:
    the active numbers of these residents, the owners of the brought numbers and the
    numbers the key did not derive.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    bringing = accepted.filter(pl.col("has_my_number")).select("row", "resident_code")
    deriving = accepted.filter(~pl.col("has_my_number")).select("row", "resident_code")
    existing = facts.active.join(deriving.select("resident_code"), on="resident_code", how="semi")
    outcomes = (
        deriving.join(existing.select("resident_code", "run_id"), on="resident_code", how="left",
                      validate="1:1")
        .with_columns(
            pl.when(pl.col("run_id").is_null()).then(pl.lit("issued"))
            .when(pl.col("run_id") == params.run_id).then(pl.lit("issued"))
            .otherwise(pl.lit("already_issued")).alias("outcome"),
            (pl.col("run_id") == params.run_id).fill_null(False).alias("is_reused"),
        )
        .select("row", "resident_code", "outcome", "is_reused")
    )
    todo = outcomes.filter((pl.col("outcome") == "issued") & ~pl.col("is_reused"))
    timings["lookup_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    numbers = derive_my_numbers(todo.get_column("resident_code"), params.derivation_key, 0)
    fresh = todo.select("resident_code").with_columns(
        numbers.alias("my_number"), pl.lit(0, dtype=pl.Int32).alias("generation")
    )
    timings["derive_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rejected: list[pl.DataFrame] = [pl.DataFrame(schema=QUARANTINE_SCHEMA)]
    to_record = EMPTY_DERIVED
    held = held_by_others(facts.foreign, fresh)
    if bringing.height:
        settled = settle_brought_numbers(params.run_id, params.issue_day, bringing, brought_numbers,
                                         facts, derived=fresh.select("resident_code", "my_number"))
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
