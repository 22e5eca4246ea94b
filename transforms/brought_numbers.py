"""Register rows that already carry a My Number: what becomes of them (pure).

A resident keeps their number for life (番号法 art. 7): a bulk register may hold residents
who moved in with a number, or an export that already lists numbers. Such a row must
never get a new number. It goes through the move-in rules of the daily run
(``transforms.daily.classify_events``): the number is kept when nobody else holds it,
counted as already issued when the ledger already has it for this resident, and
quarantined when it belongs to someone else, was revoked, or differs from the resident's
active number. The numbers themselves come from the check stage's private output
(``pipeline.stages.check``) or, for ``check --key``, from the checked register in memory.

A brought number equal to the number this run derives for another resident is held, and
so is that other resident (``COLLISION_REASON``): the keyed permutation never maps two
resident codes to one number, so the brought number is wrong or someone else's, and
neither row may go on until a person has looked (docs/domain.md#register-input-limits).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from transforms.daily import classify_events
from transforms.ledger_facts import EVENT_SCHEMA, LedgerFacts

#: quarantine rows: which row, which field, why (readers, the check and the stages alike)
QUARANTINE_SCHEMA = pl.Schema({"row": pl.UInt32, "field": pl.Utf8, "reason": pl.Utf8})
EMPTY_DERIVED = pl.DataFrame(schema={"resident_code": pl.Utf8, "my_number": pl.Utf8})
#: the rule and reason of both rows of a brought/derived collision (field: reason)
COLLISION_REASON = ("my_number: number_collision: the number brought by one resident equals the number"
                    " derived for another")
#: the reason of a deriving row whose number the ledger or a brought number already holds
COLLISION_HELD = ("number_collision: the number derived for this resident is already held by"
                  " another resident (a brought number is wrong)")


@dataclass(frozen=True)
class BroughtSettlement:
    """What becomes of the rows that bring a number (``settle_brought_numbers``)."""

    outcomes: pl.DataFrame   # row, resident_code, outcome (kept/already_issued/quarantined), is_reused
    rejected: pl.DataFrame   # row (UInt32), field, reason: the bringing rows held
    collided: pl.Series      # resident codes of ``derived`` whose number a brought number equals
    to_record: pl.DataFrame  # resident_code, my_number: kept numbers the ledger does not have yet


def held_by_others(foreign: pl.DataFrame, fresh: pl.DataFrame) -> pl.Series:
    """Resident codes whose derived number (``fresh``: resident_code, my_number) the ledger
    holds for someone else, active or revoked (``foreign``: ``LedgerFacts.foreign``):
    committing it would fail the whole set."""
    clash = fresh.select("resident_code", "my_number").join(
        foreign.select("my_number", pl.col("resident_code").alias("_owner")), on="my_number", how="inner",
    ).filter(pl.col("_owner") != pl.col("resident_code"))
    return clash.get_column("resident_code").unique()


def settle_brought_numbers(
    run_id: str, issue_day: dt.date, bringing: pl.DataFrame, brought_numbers: pl.DataFrame,
    facts: LedgerFacts, derived: pl.DataFrame = EMPTY_DERIVED,
) -> BroughtSettlement:
    """Decide what becomes of the rows that bring a number.

    ``bringing``: [row, resident_code] of those rows; ``brought_numbers``: [resident_code,
    my_number] (in memory only); ``derived``: [resident_code, my_number] this run is about to
    commit for other residents; ``facts``: the ledger's active numbers and the owners of the
    brought numbers. The caller records ``BroughtSettlement.to_record`` (bulk) or only
    reports the holds (``check --key``).
    """
    brought = bringing.select("row", "resident_code").join(
        brought_numbers.select("resident_code", "my_number"), on="resident_code", how="inner",
        validate="1:1",
    ).with_columns(pl.lit("move_in").alias("event"), pl.lit(issue_day).alias("event_date"))
    clash = derived.join(brought.select("my_number", pl.col("resident_code").alias("_by")),
                         on="my_number", how="inner").filter(pl.col("resident_code") != pl.col("_by"))
    collided = brought.filter(pl.col("my_number").is_in(clash.get_column("my_number").implode()))
    brought = brought.filter(~pl.col("my_number").is_in(clash.get_column("my_number").implode()))
    active = facts.active.join(brought.select("resident_code"), on="resident_code", how="semi")
    classified = classify_events(
        brought.select("row", "resident_code", "event", "event_date", "my_number"),
        active.select("resident_code", "run_id"), facts.owners, pl.DataFrame(schema=EVENT_SCHEMA), run_id,
    ).join(active.select("resident_code", pl.col("run_id").alias("_run")), on="resident_code", how="left")
    kept = classified.filter(pl.col("action") == "keep")
    already = (pl.col("_run").is_not_null() & (pl.col("_run") != run_id)).fill_null(False)
    new = kept.filter(~already & pl.col("_run").is_null())
    outcomes = classified.select(
        "row", "resident_code",
        pl.when(pl.col("action") == "quarantine").then(pl.lit("quarantined"))
        .when(already).then(pl.lit("already_issued"))
        .otherwise(pl.lit("kept")).alias("outcome"),
        (pl.col("_run") == run_id).fill_null(False).alias("is_reused"),
    )
    collided_outcomes = collided.select(
        "row", "resident_code", pl.lit("quarantined").alias("outcome"), pl.lit(False).alias("is_reused"))
    outcomes = pl.concat([outcomes, collided_outcomes.cast(outcomes.schema)])
    reasons = pl.concat([
        classified.filter(pl.col("action") == "quarantine").select("row", "reason"),
        collided.select("row", pl.lit(COLLISION_REASON).alias("reason")),
    ])
    return BroughtSettlement(
        outcomes=outcomes,
        rejected=split_reasons(reasons),
        collided=clash.get_column("resident_code").unique(),
        to_record=new.select("resident_code", "my_number"),
    )


def split_reasons(reasons: pl.DataFrame) -> pl.DataFrame:
    """[row, "field: rule: text"] → quarantine rows [row (UInt32), field, "rule: text"].

    Split at the first ": " only (``splitn``): ``split_exact`` splits at every one and kept
    only the rule, dropping the text that says why.
    """
    parts = pl.col("reason").str.splitn(": ", 2)
    return reasons.select(
        pl.col("row").cast(pl.UInt32),
        parts.struct.field("field_0").alias("field"),
        parts.struct.field("field_1").alias("reason"),
    )
