"""The issued-number suite: the last check before numbers are committed to the ledger.

Run on a frame ``[resident_code, my_number]`` of freshly derived numbers: every number
present, 12 ASCII digits, a valid check digit, unique; one number per resident. The
results kept (``issued_results.json``) are counts and rule names only: a My Number must
never reach a results file, so the check-digit rule is a polars flag column and GX runs
with the SUMMARY result format without partial lists (expectations.gx).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from expectations import gx as gxrun
from transforms.identifiers import my_number as my_number_id

if TYPE_CHECKING:  # GX is imported lazily (expectations.gx)
    from great_expectations import ExpectationSuite

SUITE_PATH = Path(__file__).with_name("issued_suite.json")
RESULTS_NAME = "issued_results.json"
#: expectations in issued_suite.json (a loaded suite with fewer lost a custom type)
EXPECTED_EXPECTATIONS = 6


def load_issued_suite(path: Path = SUITE_PATH) -> ExpectationSuite:
    """The issued-number suite (custom expectation classes registered first)."""
    gxrun.custom_expectations()
    return gxrun.load_suite(path, expected_count=EXPECTED_EXPECTATIONS)


def issued_check_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The columns GX sees: the two identifiers and the polars check-digit flag."""
    numbers = frame["my_number"].cast(pl.Utf8)
    ok_format = numbers.str.contains(r"^[0-9]{12}$").fill_null(False)
    bad_digit = ok_format & ~my_number_id.is_valid_series(numbers)
    return pl.DataFrame({
        "resident_code": frame["resident_code"].cast(pl.Utf8),
        "my_number": numbers,
        "flag__my_number_check_digit": bad_digit,
    })


def check_issued_numbers(frame: pl.DataFrame, *, out_dir: str | Path | None = None,
                         suite: ExpectationSuite | None = None) -> dict[str, Any]:
    """Validate numbers before the ledger commit.

    Returns ``{"success", "rows", "rules": {rule: unexpected count}, "failed_rules": [...]}``
    and, with ``out_dir``, writes ``issued_results.json`` there (counts only).
    """
    missing = [c for c in ("resident_code", "my_number") if c not in frame.columns]
    if missing:
        raise KeyError(f"issued-number check needs column(s) {missing}")
    suite = suite or load_issued_suite()
    outcome = gxrun.run_suite(issued_check_frame(frame), suite)
    rules = outcome.unexpected_by_rule()
    failed = [o.rule for o in outcome.outcomes if not o.success]
    if out_dir is not None:
        gxrun.write_outcome(outcome, Path(out_dir) / RESULTS_NAME)
    return {"success": outcome.success, "rows": frame.height, "rules": rules, "failed_rules": failed}
