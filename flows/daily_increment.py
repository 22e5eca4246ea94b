"""Daily increment: one events file (births, move-ins, changes) for one day.

events → check (quarantine) → classify against the ledger and apply (issue, keep,
reissue, record) → plan envelopes for new cards → render and QA → report.
Running the same file twice adds nothing and prints nothing new.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.common import IO_RETRIES, TASK_DEFAULTS, StageTimer, call_flow, guarded, outcome
from flows.printing import render_and_check, report_and_finish
from pipeline.options import RunOptions
from pipeline.report import daily_report
from pipeline.results import CheckResult, LedgerStageResult, PlanResult, StartResult
from pipeline.stages.apply_events import stage_apply
from pipeline.stages.bookkeeping import stage_start
from pipeline.stages.check import stage_check
from pipeline.stages.plan import stage_plan


@task(name="check-events", **TASK_DEFAULTS)
def check_events(opts: RunOptions, events_path: str) -> CheckResult:
    return guarded("check")(stage_check)(opts, events_path, "events")


@task(name="start-daily-run", **TASK_DEFAULTS, **IO_RETRIES)
def start_run(opts: RunOptions, events_path: str) -> StartResult:
    return guarded("start")(stage_start)(opts, events_path, "daily")


@task(name="apply-events", **TASK_DEFAULTS)
def apply_events(opts: RunOptions, events_path: str, run_id: str) -> LedgerStageResult:
    return guarded("apply")(stage_apply)(opts, events_path, run_id)


@task(name="plan-daily-envelopes", **TASK_DEFAULTS)
def plan_envelopes(opts: RunOptions, run_id: str) -> PlanResult:
    return guarded("plan")(stage_plan)(opts, run_id)


@flow(name="daily-increment", persist_result=False, validate_parameters=True)
def daily_increment(events_path: str, opts: RunOptions) -> dict[str, Any]:
    """Apply one day's events to the ledger and print the new cards."""
    timer = StageTimer()
    with timer("check"):
        checked = check_events(opts, events_path)
    with timer("start"):
        state = start_run(opts, events_path)
    run_id = state["run_id"]
    with timer("apply"):
        applied = apply_events(opts, events_path, run_id)
    with timer("plan"):
        plan = plan_envelopes(opts, run_id)
    with timer("render_qa"):
        rendered, checked_batches = render_and_check(opts, plan["batch_ids"])
    report = daily_report(state, checked, applied, plan, rendered, checked_batches, timer.timings, opts)
    report = report_and_finish(opts, report)
    return outcome(report)  # type: ignore[no-any-return]


def run_daily(events_path: str, opts: RunOptions, run_name: str | None = None) -> dict[str, Any]:
    """Run the flow with the task runner the options ask for (CLI and tests call this)."""
    return call_flow(daily_increment, opts, run_name, events_path, opts)
