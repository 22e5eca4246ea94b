"""The bulk run's ledger step: read what the ledger knows, decide every row, prove, commit.

The decisions are pure (``transforms.issue_decisions``); numbers rows bring come from the
check stage's private output (``pipeline.stages.check``). Numbers are derived, not drawn,
so a re-derivation after a crash is identical, and the ledger commit is idempotent.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import polars as pl

from core.errors import LedgerError
from core.keys import open_key
from expectations.issued import check_issued_numbers
from ledger import LedgerHandle, keys
from ledger import numbers as ledger_numbers
from ledger.queries import issued_runs, numbers_not_derived_by
from pipeline.faults import crash_point
from pipeline.files import (
    write_csv_atomic,
    write_parquet_atomic,
)
from pipeline.options import RunOptions
from pipeline.results import LedgerStageResult
from pipeline.stages.bookkeeping import run_ledger
from pipeline.stages.check import brought_numbers_dropped, read_brought_numbers
from transforms.issue_decisions import IssueParams, decide_issue
from transforms.ledger_facts import LedgerFacts

if TYPE_CHECKING:
    pass

def read_facts(ledger: LedgerHandle, accepted: pl.DataFrame, brought: pl.DataFrame, key_id: str) -> LedgerFacts:
    """Everything the issue decisions need from the ledger, read before deciding."""
    return LedgerFacts(
        active=issued_runs(ledger, accepted.get_column("resident_code")),
        owners=ledger_numbers.owners(ledger, brought.get_column("my_number")),
        foreign=numbers_not_derived_by(ledger, key_id),
    )


def stage_issue(opts: RunOptions, run_id: str) -> LedgerStageResult:
    """Derive numbers for residents without one, prove them unique (GX), commit them.

    Residents who already hold an active number from another run are skipped with a
    reason; numbers this run committed before a crash are counted as reused. Rows that
    bring a number of their own keep it (``transforms.brought_numbers``). A derived number that the
    ledger already holds for another resident, or that another row of the register brings,
    quarantines the rows involved (never the whole run: docs/domain.md#register-input-limits).
    """
    with brought_numbers_dropped(opts.run_dir), run_ledger(opts) as ledger:  # ledger closed after
        return _issue(opts, run_id, ledger)


def _issue(opts: RunOptions, run_id: str, ledger: LedgerHandle) -> LedgerStageResult:
    """:func:`stage_issue` with its ledger."""
    run_dir = opts.run_dir
    accepted = pl.read_parquet(run_dir.accepted_path)
    if "has_my_number" not in accepted.columns:
        accepted = accepted.with_columns(pl.lit(False).alias("has_my_number"))
    key = open_key(opts.key)
    keys.bind_key(ledger, key, run_id)  # a resumed run with another key is refused here too
    brought = read_brought_numbers(run_dir).select("resident_code", "my_number")  # the check stage's
    decision = decide_issue(accepted, brought, read_facts(ledger, accepted, brought, key.key_id),
                            IssueParams(run_id, opts.print.issue_day, key.derivation_key))
    del brought
    timings = dict(decision.timings)
    crash_point("after_derive")
    if decision.to_record.height:
        ledger_numbers.record_existing(ledger, run_id, decision.to_record, reason="existing")
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
    committed = ledger_numbers.commit(ledger, run_id, fresh, key.key_id, reason="first_issue")
    timings["commit_s"] = time.perf_counter() - t0
    crash_point("after_commit")
    del fresh, decision
    if rejected:
        quarantine = pl.read_csv(run_dir.quarantine_path, schema_overrides={"row": pl.UInt32},
                                 infer_schema=False).cast({"row": pl.UInt32})
        write_csv_atomic(pl.concat([quarantine, *rejected]).unique().sort("row", "field", "reason"),
                         run_dir.quarantine_path)
    write_parquet_atomic(outcomes, run_dir.outcomes_path)
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
