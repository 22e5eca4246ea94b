"""The ledger's uniqueness proof: a GX suite run by GX's SQL datasource on the ledger itself.

It does not trust the ledger code: the database computes the flags (12 digits, check digit)
in a query, and GX counts duplicates with its own SQL. Results are SUMMARY with no partial
lists and are reduced further to counts per rule, so no number or resident code can leak
into a result file.

>>> sorted(RULES)[:2]
['my_number_12_digits', 'my_number_check_digit']
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError
from expectations.gx import RESULT_FORMAT, load_suite, outcome_of, write_outcome

if TYPE_CHECKING:  # GX is imported lazily (expectations.gx)
    from great_expectations.data_context.data_context.ephemeral_data_context import EphemeralDataContext

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

SUITE_PATH = Path(__file__).with_name("ledger_suite.json")
RULES = tuple(e["meta"]["rule"] for e in json.loads(SUITE_PATH.read_text("utf-8"))["expectations"])
#: My Number check-digit weights over the 11 body digits, left to right
WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def ledger_query(dialect: str, table: str = "issued_numbers") -> str:
    """SQL giving one row per ledger row with the flag columns the suite checks."""
    if dialect == "postgresql":
        digits = "my_number ~ '^[0-9]{12}$'"
    elif dialect == "sqlite":
        digits = "length(my_number) = 12 AND my_number NOT GLOB '*[^0-9]*'"
    else:
        raise ConfigError(f"ledger suite: unsupported database {dialect!r}")
    weighted = " + ".join(
        f"CAST(substr(my_number, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(WEIGHTS))
    return (
        "SELECT my_number, resident_code, status, digits_ok, "
        "CASE WHEN digits_ok = 1 AND (CASE WHEN r <= 1 THEN 0 ELSE 11 - r END) = "
        "CAST(substr(my_number, 12, 1) AS INTEGER) THEN 1 ELSE 0 END AS check_digit_ok, "
        "active_resident FROM ("
        "SELECT my_number, resident_code, status, "
        f"CASE WHEN my_number IS NOT NULL AND {digits} THEN 1 ELSE 0 END AS digits_ok, "
        # x - 11 * (x / 11): integer modulo in both databases, with no '%' for drivers to escape
        f"CASE WHEN my_number IS NOT NULL AND {digits} THEN ({weighted}) - 11 * (({weighted}) / 11)"
        " END AS r, "
        "CASE WHEN status = 'active' THEN resident_code END AS active_resident "
        f"FROM {table}) AS flagged"
    )


def _context() -> EphemeralDataContext:
    """The shared ephemeral GX context, with GX's own logging kept quiet."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    from expectations.gx import ephemeral_context

    return ephemeral_context()


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of the GX proof: per-rule unexpected counts, never a value."""

    success: bool
    rows: int
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def failed_rules(self) -> list[str]:
        return [name for name, r in self.rules.items() if not r["success"]]


def run_ledger_suite(url: str, *, table: str = "issued_numbers",
                     result_path: str | Path | None = None) -> VerifyResult:
    """Validate the ledger table at ``url`` through GX's SQL datasource.

    ``result_path``: also write the counts-only outcome as JSON there.
    """
    from sqlalchemy.engine import make_url

    dialect = make_url(url).get_backend_name()
    suite = load_suite(SUITE_PATH, expected_count=len(RULES))
    context = _context()
    with warnings.catch_warnings():  # "a more specific datasource may be more appropriate":
        warnings.simplefilter("ignore")  # the generic one serves both databases alike
        source = context.data_sources.add_sql(name="ledger", connection_string=url)
    asset = source.add_query_asset(name="issued_numbers", query=ledger_query(dialect, table))
    batch = asset.add_batch_definition_whole_table("all").get_batch()
    result = batch.validate(suite, result_format=RESULT_FORMAT)
    outcome = outcome_of(result, suite.name)
    if result_path is not None:
        write_outcome(outcome, result_path)
    rows = max((o.element_count for o in outcome.outcomes), default=0)
    return VerifyResult(
        success=outcome.success,
        rows=rows,
        rules={o.rule: {"success": o.success, "unexpected_count": o.unexpected_count,
                        "missing_count": o.missing_count, "element_count": o.element_count}
               for o in outcome.outcomes},
        summary=outcome.to_dict(),
    )
