"""The check stage: the register or events file checked; accepted rows kept for later stages."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipeline.faults import crash_point
from pipeline.files import (
    write_csv_atomic,
    write_parquet_atomic,
)
from pipeline.options import RunOptions
from pipeline.results import CheckResult
from pipeline.stages.register_check import check_register_file

#: columns of the register kept in the work folder (never an existing My Number)
WORK_COLUMNS_DROP = ("my_number",)


def stage_check(opts: RunOptions, register_path: str, kind: str = "register") -> CheckResult:
    """Ingest and validate the register; keep accepted rows (minus numbers) for later stages."""
    run_dir = opts.run_dir.make()
    result = check_register_file(
        Path(register_path), encoding=opts.check.encoding, resident_code_rule=opts.check.resident_code_rule,
        kind=kind, out_dir=run_dir.check_dir, today=opts.print.issue_day,
    )
    accepted = result.accepted
    if "my_number" in accepted.columns:
        accepted = accepted.with_columns(pl.col("my_number").is_not_null().alias("has_my_number"))
    accepted = accepted.drop([c for c in WORK_COLUMNS_DROP if c in accepted.columns])
    write_parquet_atomic(accepted, run_dir.accepted_path)
    write_csv_atomic(result.quarantine.sort("row"), run_dir.quarantine_path)
    crash_point("after_check")
    report = result.report
    return {
        "input_rows": report["input_rows"],
        "accepted": accepted.height,
        "quarantined": report["outcomes"].get("quarantined", 0),
        "rules": report.get("rules", {}),
    }
