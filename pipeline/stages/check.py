"""The check stage: the register or events file checked; accepted rows kept for later stages.

Its outputs are all the later stages read of the input: the accepted rows without any My
Number (work/accepted.parquet, with a ``has_my_number`` flag), the quarantine, and the
numbers rows bring (``brought_numbers_path``: 0600 in a 0700 folder of its own, never in a
Prefect parameter or result). The ledger step reads those numbers from there, not by
re-reading and re-checking the input, and removes the file when it ends, done or failed
(then the ledger and the quarantine say what became of each number); a resumed run checks
the input again first, which writes it again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from core.errors import ConfigError
from core.private import PRIVATE_DIR, private_dir
from pipeline.faults import crash_point
from pipeline.files import (
    write_csv_atomic,
    write_parquet_atomic,
)
from pipeline.options import RunDir, RunOptions
from pipeline.results import CheckResult
from pipeline.stages.register_check import check_register_file

#: columns of the register kept in the work folder (never an existing My Number)
WORK_COLUMNS_DROP = ("my_number",)
#: what the check stage keeps of the numbers rows bring
BROUGHT_SCHEMA = pl.Schema({"row": pl.UInt32, "resident_code": pl.Utf8, "my_number": pl.Utf8})


def stage_check(opts: RunOptions, register_path: str, kind: str = "register") -> CheckResult:
    """Ingest and validate the register; keep accepted rows (minus numbers) for later stages."""
    run_dir = opts.run_dir.make()
    result = check_register_file(
        Path(register_path), encoding=opts.check.encoding, resident_code_rule=opts.check.resident_code_rule,
        kind=kind, out_dir=run_dir.check_dir, today=opts.print.issue_day,
    )
    accepted = result.accepted
    write_brought_numbers(run_dir, brought_numbers(accepted))
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


def brought_numbers(accepted: pl.DataFrame) -> pl.DataFrame:
    """[row, resident_code, my_number] of the accepted rows that bring a number."""
    if "my_number" not in accepted.columns:
        return pl.DataFrame(schema=BROUGHT_SCHEMA)
    return accepted.filter(pl.col("my_number").is_not_null()).select(
        pl.col("row").cast(pl.UInt32), "resident_code", "my_number")


def brought_numbers_path(run_dir: RunDir) -> Path:
    """Where the check stage keeps the numbers rows bring, for the ledger step."""
    return run_dir.work_dir / "private" / "brought_numbers.parquet"


def write_brought_numbers(run_dir: RunDir, brought: pl.DataFrame) -> None:
    """Write the brought numbers 0600 (atomically) into a folder that is exactly 0700: the
    folder is this program's own, so its mode is set even when it exists already."""
    path = brought_numbers_path(run_dir)
    os.chmod(private_dir(path.parent), PRIVATE_DIR)
    write_parquet_atomic(brought, path)


def read_brought_numbers(run_dir: RunDir) -> pl.DataFrame:
    """The numbers the check stage kept: [row, resident_code, my_number]."""
    path = brought_numbers_path(run_dir)
    if not path.exists():
        raise ConfigError(f"{path.parent} holds no brought numbers: the run's check stage did not "
                          "run in this folder (start the run again: it checks the input first)")
    return pl.read_parquet(path)


def discard_brought_numbers(run_dir: RunDir) -> None:
    """Remove the brought numbers: the ledger step is over (done or failed)."""
    brought_numbers_path(run_dir).unlink(missing_ok=True)


@contextmanager
def brought_numbers_dropped(run_dir: RunDir) -> Iterator[None]:
    """Around a ledger step: done or failed, the brought numbers leave the run folder (a
    resumed run checks the input again, which writes them again)."""
    try:
        yield
    finally:
        discard_brought_numbers(run_dir)
