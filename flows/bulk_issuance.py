"""Bulk issuance: the one-time run over the whole register.

register → check (quarantine) → derive → prove unique (GX) → commit to ledger
→ plan envelopes and batches → render batches in parallel → QA every batch → report.

Tasks receive the run options (paths and sizes) and ids, never residents' data or keys,
and return counts. Started again with the same arguments after a crash, the flow resumes
the unfinished ledger run for the same input and reuses what is already done.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.common import IO_RETRIES, TASK_DEFAULTS, StageTimer, call_flow, guarded, outcome
from flows.printing import render_and_check, report_and_finish
from pipeline.options import RunOptions
from pipeline.report import bulk_report
from pipeline.results import CheckResult, LedgerStageResult, PlanResult, StartResult
from pipeline.stages.bookkeeping import stage_start
from pipeline.stages.check import stage_check
from pipeline.stages.issue import stage_issue
from pipeline.stages.plan import stage_plan


@task(name="check-register", **TASK_DEFAULTS)
def check_register(opts: RunOptions, register_path: str) -> CheckResult:
    return guarded("check")(stage_check)(opts, register_path, "register")


@task(name="start-run", **TASK_DEFAULTS, **IO_RETRIES)
def start_run(opts: RunOptions, register_path: str) -> StartResult:
    return guarded("start")(stage_start)(opts, register_path, "bulk")


@task(name="issue-numbers", **TASK_DEFAULTS)
def issue_numbers(opts: RunOptions, run_id: str, register_path: str) -> LedgerStageResult:
    return guarded("issue")(stage_issue)(opts, run_id, register_path)


@task(name="plan-envelopes", **TASK_DEFAULTS)
def plan_envelopes(opts: RunOptions, run_id: str) -> PlanResult:
    return guarded("plan")(stage_plan)(opts, run_id)


@flow(name="bulk-issuance", persist_result=False, validate_parameters=True)
def bulk_issuance(register_path: str, opts: RunOptions) -> dict[str, Any]:
    """Issue numbers for a whole register and print every household's envelope."""
    timer = StageTimer()
    with timer("check"):
        checked = check_register(opts, register_path)
    with timer("start"):
        state = start_run(opts, register_path)
    run_id = state["run_id"]
    with timer("issue"):
        issued = issue_numbers(opts, run_id, register_path)
    with timer("plan"):
        plan = plan_envelopes(opts, run_id)
    with timer("render_qa"):
        rendered, checked_batches = render_and_check(opts, plan["batch_ids"])
    report = bulk_report(state, checked, issued, plan, rendered, checked_batches, timer.timings, opts)
    report = report_and_finish(opts, report)
    return outcome(report)  # type: ignore[no-any-return]


def run_bulk(register_path: str, opts: RunOptions, run_name: str | None = None) -> dict[str, Any]:
    """Run the flow with the task runner the options ask for (CLI and tests call this)."""
    return call_flow(bulk_issuance, opts, run_name, register_path, opts)
