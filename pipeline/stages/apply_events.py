"""The daily run's ledger step: read what the ledger knows, decide each event, apply it.

Checking, planning, rendering and QA are the stages every run shares; this module adds what
is specific to events. The decisions are pure (``transforms.event_decisions``); numbers
brought by move-ins come from the check stage's private output (``pipeline.stages.check``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import polars as pl

from core.keys import open_key
from ledger import LedgerHandle, keys, numbers
from ledger import events as ledger_events
from ledger.queries import issued_runs, known_events, numbers_not_derived_by, resident_history
from pipeline.files import write_csv_atomic, write_parquet_atomic
from pipeline.options import RunOptions
from pipeline.results import LedgerStageResult
from pipeline.stages.bookkeeping import run_ledger
from pipeline.stages.check import brought_numbers_dropped, read_brought_numbers
from transforms.brought_numbers import split_reasons
from transforms.daily import OUTCOME_OF_ACTION
from transforms.event_decisions import EVENT_KEY, EventParams, decide_events
from transforms.ledger_facts import LedgerFacts
from transforms.numbering import derive_my_numbers

if TYPE_CHECKING:
    pass

def read_facts(ledger: LedgerHandle, events: pl.DataFrame, key_id: str) -> LedgerFacts:
    """Everything the event decisions need from the ledger, read before deciding."""
    codes = events.get_column("resident_code")
    known_codes, history = resident_history(ledger, codes)
    return LedgerFacts(
        active=issued_runs(ledger, codes),
        owners=numbers.owners(ledger, events.get_column("my_number").drop_nulls()),
        foreign=numbers_not_derived_by(ledger, key_id),
        known=known_events(ledger, events.select(*EVENT_KEY)),
        known_codes=known_codes, history=history,
    )


def stage_apply(opts: RunOptions, run_id: str) -> LedgerStageResult:
    """Classify each accepted event against the ledger and apply it (idempotently)."""
    with brought_numbers_dropped(opts.run_dir), run_ledger(opts) as ledger:  # ledger closed after
        return _apply(opts, run_id, ledger)


def _apply(opts: RunOptions, run_id: str, ledger: LedgerHandle) -> LedgerStageResult:
    """:func:`stage_apply` with its ledger."""
    run_dir = opts.run_dir
    # the check stage's output: accepted events, and the numbers move-ins bring (kept private)
    accepted = pl.read_parquet(run_dir.accepted_path)
    brought = read_brought_numbers(run_dir).select(pl.col("row").cast(accepted.schema["row"]), "my_number")
    events = accepted.join(brought, on="row", how="left", validate="1:1")
    key = open_key(opts.key)
    keys.bind_key(ledger, key, run_id)
    t0 = time.perf_counter()
    classified = decide_events(events, read_facts(ledger, events, key.key_id),
                               EventParams(run_id, key.derivation_key))
    timings = {"classify_s": time.perf_counter() - t0}

    t0 = time.perf_counter()
    todo = classified.filter(~pl.col("is_reused"))
    for event, group in todo.filter(pl.col("action") == "issue").group_by("event"):
        fresh = group.select("resident_code").with_columns(
            derive_my_numbers(group.get_column("resident_code"), key.derivation_key, 0).alias("my_number"),
            pl.lit(0, dtype=pl.Int32).alias("generation"),
        )
        numbers.commit(ledger, run_id, fresh, key.key_id, reason=str(event[0]))
    kept = todo.filter(pl.col("action") == "keep").select("resident_code", "my_number")
    if kept.height:
        numbers.record_existing(ledger, run_id, kept, reason="move_in")
    for code in todo.filter(pl.col("action") == "reissue").get_column("resident_code").to_list():
        numbers.reissue(ledger, code, reason="number_change", key=key, run_id=run_id)
    applied = classified.filter(pl.col("action").is_in(["issue", "keep", "reissue", "record"]))
    ledger_events.record(ledger, run_id, applied.select(*EVENT_KEY))
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
    counts = outcomes.group_by("outcome").len()
    return {
        "outcomes": {r["outcome"]: r["len"] for r in counts.to_dicts()},
        "reused": int(outcomes.get_column("is_reused").sum()),
        "key_id": key.key_id,
        "is_demo_key": key.is_demo,
        "timings": timings,
    }
