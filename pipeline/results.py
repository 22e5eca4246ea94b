"""What each stage returns: small typed records of counts, ids and timings (never personal data).

Bulk and daily share these shapes, so the report builder and the flows read one set of keys.
They are TypedDicts rather than dataclasses because Prefect stores task results as JSON-able
values and the report writes them out as they are.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class StartResult(TypedDict):
    """A ledger run opened or resumed for one input file."""

    run_id: str
    kind: str
    input_sha256: str
    resumed: bool
    ledger_url: str


class CheckResult(TypedDict):
    """The register or events check: rows in, accepted, quarantined, per-rule counts."""

    input_rows: int
    accepted: int
    quarantined: int
    rules: dict[str, int]


class LedgerStageResult(TypedDict):
    """The stage that changes the ledger (bulk: issue; daily: apply events)."""

    outcomes: dict[str, int]
    reused: int  # rows this run had already done before a crash
    key_id: str
    is_demo_key: bool
    timings: dict[str, float]
    committed: NotRequired[int]
    already_present: NotRequired[int]


class PlanResult(TypedDict):
    """The print plan: envelopes and batches of this run (read back when resumed)."""

    run_id: str
    batch_ids: list[str]
    households: int
    envelopes: int  # printed + made by hand
    envelopes_printed: int
    envelopes_manual: int
    members: int
    manual_handling: int
    notices_planned: int
    notices_from_earlier_runs: int  # cards of numbers an earlier run issued but never printed
    notices_voided_before_planning: int
    numbers_without_record: int
    reused: bool


class RenderResult(TypedDict):
    """One rendered batch (reused: its files already verified, nothing was drawn)."""

    batch_id: str
    pages: int
    envelopes: int
    reused: bool
    render_s: float


class QAResult(TypedDict):
    """The in-run QA verdict of one batch, with the names of the checks that failed."""

    batch_id: str
    verdict: str
    failed_checks: list[str]
    qa_s: float
