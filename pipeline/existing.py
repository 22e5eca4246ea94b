"""Register rows that already carry a My Number, in a bulk run.

A resident keeps their number for life (番号法 art. 7): a bulk register may hold residents
who moved in with a number, or an export that already lists numbers. Such a row must
never get a new number. It goes through the move-in rules of the daily run
(``transforms.daily.classify_events``): the number is kept when nobody else holds it,
counted as already issued when the ledger already has it for this resident, and
quarantined when it belongs to someone else, was revoked, or differs from the resident's
active number. Numbers are read back from the register only here, in memory; work files
carry a ``has_my_number`` flag instead.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ledger import Ledger
from ledger.queries import issued_runs
from pipeline.options import RunOptions
from pipeline.register_check import check_register_file
from transforms.daily import classify_events

EMPTY_KNOWN = pl.DataFrame(schema={"resident_code": pl.Utf8, "event": pl.Utf8, "event_date": pl.Date})


def settle_brought_numbers(
    opts: RunOptions, run_id: str, register_path: str, rows: pl.DataFrame, ledger: Ledger,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(outcomes [row, resident_code, outcome, is_reused], quarantine [row, field, reason])."""
    checked = check_register_file(
        Path(register_path), encoding=opts.check.encoding, resident_code_rule=opts.check.resident_code_rule,
        kind="register", today=opts.print.issue_day,
    )
    brought = rows.select("row", "resident_code").join(
        checked.accepted.select("resident_code", "my_number"), on="resident_code", how="inner",
        validate="1:1",
    ).with_columns(pl.lit("move_in").alias("event"), pl.lit(opts.print.issue_day).alias("event_date"))
    active = issued_runs(ledger, brought.get_column("resident_code"))
    owners = ledger.number_owners(brought.get_column("my_number"))
    classified = classify_events(
        brought.select("row", "resident_code", "event", "event_date", "my_number"),
        active.select("resident_code", "run_id"), owners, EMPTY_KNOWN, run_id,
    ).join(active.select("resident_code", pl.col("run_id").alias("_run")), on="resident_code", how="left")
    kept = classified.filter(pl.col("action") == "keep")
    already = (pl.col("_run").is_not_null() & (pl.col("_run") != run_id)).fill_null(False)
    new = kept.filter(~already & pl.col("_run").is_null())
    if new.height:
        ledger.record_existing_numbers(run_id, new.select("resident_code", "my_number"), reason="existing")
    outcomes = classified.select(
        "row", "resident_code",
        pl.when(pl.col("action") == "quarantine").then(pl.lit("quarantined"))
        .when(already).then(pl.lit("already_issued"))
        .otherwise(pl.lit("kept")).alias("outcome"),
        (pl.col("_run") == run_id).fill_null(False).alias("is_reused"),
    )
    rejected = classified.filter(pl.col("action") == "quarantine").select(
        pl.col("row").cast(pl.UInt32),
        pl.col("reason").str.split_exact(":", 1).struct.field("field_0").alias("field"),
        pl.col("reason").str.split_exact(": ", 1).struct.field("field_1").alias("reason"),
    )
    return outcomes, rejected
