"""The stage of a daily increment that changes the ledger: classify and apply events.

Checking, planning, rendering and QA are the bulk run's stages (``pipeline.stages.issue``);
this module adds what is specific to events. Existing numbers brought by move-ins are
held in memory only: the accepted-events work file has no ``my_number`` column, so this
stage re-reads the (small) events file to see them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import polars as pl

from core.keys import BlockCipher, open_key
from ledger import Ledger
from ledger.queries import issued_runs, known_events, resident_history
from pipeline.files import write_csv_atomic, write_parquet_atomic
from pipeline.options import RunOptions
from pipeline.results import LedgerStageResult
from pipeline.stages.bookkeeping import open_ledger
from pipeline.stages.brought_numbers import COLLISION_HELD, COLLISION_REASON, held_by_others, split_reasons
from pipeline.stages.check import discard_brought_numbers, read_brought_numbers
from transforms.daily import OUTCOME_OF_ACTION, classify_events, hold_contradictions
from transforms.numbering import derive_my_numbers

if TYPE_CHECKING:
    from core.hsm import TokenKey
    from core.keys import KeyMaterial

EVENT_KEY = ("resident_code", "event", "event_date")


def _hold_collisions(classified: pl.DataFrame, ledger: Ledger, derivation_key: bytes | BlockCipher,
                     key_id: str) -> pl.DataFrame:
    """Hold a birth or first registration whose derived number the ledger or a move-in of this
    file already holds, and that move-in (docs/domain.md#register-input-limits): committing
    either would make the ledger refuse the whole day."""
    issuing = classified.filter((pl.col("action") == "issue") & ~pl.col("is_reused"))
    if issuing.height == 0:
        return classified
    fresh = issuing.select("resident_code").with_columns(
        derive_my_numbers(issuing.get_column("resident_code"), derivation_key, 0).alias("my_number"))
    kept = classified.filter(pl.col("action") == "keep").select("row", "my_number")
    brought_clash = fresh.join(kept, on="my_number", how="inner")
    held_codes = pl.concat([held_by_others(ledger, fresh, key_id), brought_clash.get_column("resident_code")]).unique()
    held_rows = brought_clash.get_column("row")
    issue_hit = pl.col("resident_code").is_in(held_codes.implode()) & (pl.col("action") == "issue")
    keep_hit = pl.col("row").is_in(held_rows.implode()) & (pl.col("action") == "keep")
    return classified.with_columns(
        pl.when(issue_hit | keep_hit).then(pl.lit("quarantine")).otherwise(pl.col("action")).alias("action"),
        pl.when(issue_hit).then(pl.lit("my_number: " + COLLISION_HELD))
        .when(keep_hit).then(pl.lit(COLLISION_REASON)).otherwise(pl.col("reason")).alias("reason"),
    )


def decide_events(events: pl.DataFrame, ledger: Ledger, key: KeyMaterial | TokenKey,
                  run_id: str) -> pl.DataFrame:
    """Each accepted event's action (and reason) against the ledger, reading only.

    Shared by ``stage_apply``, which then applies the actions, and ``check --key``
    (``pipeline.stages.foresee``), which only reports the holds, so that the two cannot disagree.
    """
    codes = events.get_column("resident_code")
    brought = events.get_column("my_number").drop_nulls()
    classified = classify_events(
        events.select("row", *EVENT_KEY, "my_number"),
        issued_runs(ledger, codes),
        ledger.number_owners(brought),
        known_events(ledger, events.select(*EVENT_KEY)),
        run_id,
    )
    # events the ledger contradicts are held, each row alone, never the whole file
    classified = hold_contradictions(classified, *resident_history(ledger, codes))
    return _hold_collisions(classified, ledger, key.derivation_key, key.key_id)


def stage_apply(opts: RunOptions, run_id: str) -> LedgerStageResult:
    """Classify each accepted event against the ledger and apply it (idempotently)."""
    with open_ledger(opts) as ledger:   # closed: its SQLite page cache goes with it
        return _apply(opts, run_id, ledger)


def _apply(opts: RunOptions, run_id: str, ledger: Ledger) -> LedgerStageResult:
    """:func:`stage_apply` with its ledger."""
    run_dir = opts.run_dir
    # the check stage's output: accepted events, and the numbers move-ins bring (kept private)
    accepted = pl.read_parquet(run_dir.accepted_path)
    brought = read_brought_numbers(run_dir).select(pl.col("row").cast(accepted.schema["row"]), "my_number")
    events = accepted.join(brought, on="row", how="left", validate="1:1")
    key = open_key(opts.key)
    ledger.bind_key(key, run_id)
    t0 = time.perf_counter()
    classified = decide_events(events, ledger, key, run_id)
    timings = {"classify_s": time.perf_counter() - t0}

    t0 = time.perf_counter()
    todo = classified.filter(~pl.col("is_reused"))
    for event, group in todo.filter(pl.col("action") == "issue").group_by("event"):
        fresh = group.select("resident_code").with_columns(
            derive_my_numbers(group.get_column("resident_code"), key.derivation_key, 0).alias("my_number"),
            pl.lit(0, dtype=pl.Int32).alias("generation"),
        )
        ledger.commit_numbers(run_id, fresh, key.key_id, reason=str(event[0]))
    kept = todo.filter(pl.col("action") == "keep").select("resident_code", "my_number")
    if kept.height:
        ledger.record_existing_numbers(run_id, kept, reason="move_in")
    for code in todo.filter(pl.col("action") == "reissue").get_column("resident_code").to_list():
        ledger.reissue(code, reason="number_change", key=key, run_id=run_id)
    applied = classified.filter(pl.col("action").is_in(["issue", "keep", "reissue", "record"]))
    ledger.record_events(run_id, applied.select(*EVENT_KEY))
    timings["apply_s"] = time.perf_counter() - t0

    outcomes = classified.select(
        "row", "resident_code", "event",
        pl.col("action").replace_strict(OUTCOME_OF_ACTION).alias("outcome"),
        "reason", "is_reused",
    )
    write_parquet_atomic(outcomes.drop("reason"), run_dir.outcomes_path)
    rejected = split_reasons(outcomes.filter(pl.col("outcome") == "quarantined").select("row", "reason"))
    checked = pl.read_csv(run_dir.quarantine_path, schema_overrides={"row": pl.UInt32}, infer_schema=False)
    quarantine = pl.concat(
        [checked.select("row", "field", "reason").cast({"row": pl.UInt32}),
         rejected.cast({"row": pl.UInt32})]
    ).unique(maintain_order=True).sort("row", maintain_order=True)  # applying twice adds nothing
    write_csv_atomic(quarantine, run_dir.quarantine_path)
    discard_brought_numbers(run_dir)  # kept or held: the ledger and the quarantine say which
    counts = outcomes.group_by("outcome").len()
    return {
        "outcomes": {r["outcome"]: r["len"] for r in counts.to_dicts()},
        "reused": int(outcomes.get_column("is_reused").sum()),
        "key_id": key.key_id,
        "is_demo_key": key.is_demo,
        "timings": timings,
    }
