"""Issuance: the one flow of both runs, bulk (a whole register) and daily (one day's events).

input → check (quarantine) → start (or resume) the ledger run → the ledger step → plan
envelopes and batches → render batches in parallel → QA every batch → report.

The ledger step is all that differs: bulk derives numbers, proves them unique (GX) and
commits them; daily classifies each event against the ledger and applies it (issue, keep,
reissue, record). An :class:`Issuance` record names it, with the run's report and the task
names the Prefect UI has always shown. ``bulk-issuance`` and ``daily-increment`` stay two
Prefect flows (their names and parameters are what the UI, the deployment and operators
know) over this one body.

Tasks receive the run options (paths and sizes) and ids, never residents' data or keys,
and return counts. Started again with the same arguments after a crash, the flow resumes
the unfinished ledger run for the same input and reuses what is already done; running the
same events file twice adds nothing and prints nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prefect import flow, task

from flows.common import IO_RETRIES, TASK_DEFAULTS, StageTimer, call_flow, guarded, outcome
from flows.printing import render_and_check, report_and_finish
from pipeline.options import RunOptions
from pipeline.report import bulk_report, daily_report
from pipeline.results import CheckResult, LedgerStageResult, PlanResult, QAResult, RenderResult, StartResult
from pipeline.stages.apply_events import stage_apply
from pipeline.stages.bookkeeping import stage_start
from pipeline.stages.check import stage_check
from pipeline.stages.issue import stage_issue
from pipeline.stages.plan import stage_plan

#: (opts, run id) → the ledger step's counts (it reads the check stage's output)
LedgerStep = Callable[[RunOptions, str], LedgerStageResult]
#: the run's report from every stage's result
Report = Callable[[StartResult, CheckResult, LedgerStageResult, PlanResult, list[RenderResult],
                   list[QAResult], dict[str, float], RunOptions], dict[str, Any]]


@dataclass(frozen=True)
class TaskNames:
    """What the Prefect UI calls each task of a run (README: "task runs")."""

    check: str
    start: str
    ledger_step: str
    plan: str


@dataclass(frozen=True)
class Issuance:
    """What makes a run bulk or daily: its ledger run kind, input, ledger step and report."""

    kind: str          # the ledger run's kind
    input_kind: str    # what the check stage reads the input as
    step: str          # the ledger step's name in timings and in a failed stage's message
    ledger_step: LedgerStep
    report: Report
    tasks: TaskNames


BULK = Issuance("bulk", "register", "issue", stage_issue, bulk_report,
                TaskNames("check-register", "start-run", "issue-numbers", "plan-envelopes"))
DAILY = Issuance("daily", "events", "apply", stage_apply, daily_report,
                 TaskNames("check-events", "start-daily-run", "apply-events", "plan-daily-envelopes"))
#: by ledger run kind: tasks are given the kind, not the record (it holds functions)
ISSUANCES = {issuance.kind: issuance for issuance in (BULK, DAILY)}


@task(name="check-input", **TASK_DEFAULTS)
def check_input(opts: RunOptions, input_path: str, input_kind: str) -> CheckResult:
    return guarded("check")(stage_check)(opts, input_path, input_kind)


@task(name="start-run", **TASK_DEFAULTS, **IO_RETRIES)
def start_run(opts: RunOptions, input_path: str, kind: str) -> StartResult:
    return guarded("start")(stage_start)(opts, input_path, kind)


@task(name="ledger-step", **TASK_DEFAULTS)
def ledger_step(opts: RunOptions, run_id: str, kind: str) -> LedgerStageResult:
    issuance = ISSUANCES[kind]
    return guarded(issuance.step)(issuance.ledger_step)(opts, run_id)


@task(name="plan-envelopes", **TASK_DEFAULTS)
def plan_envelopes(opts: RunOptions, run_id: str) -> PlanResult:
    return guarded("plan")(stage_plan)(opts, run_id)


def issue_and_print(issuance: Issuance, input_path: str, opts: RunOptions) -> dict[str, Any]:
    """The body of both flows: one run over one input file, from check to report."""
    names, timer = issuance.tasks, StageTimer()
    with timer("check"):
        checked = check_input.with_options(name=names.check)(opts, input_path, issuance.input_kind)
    with timer("start"):
        state = start_run.with_options(name=names.start)(opts, input_path, issuance.kind)
    run_id = state["run_id"]
    with timer(issuance.step):
        stepped = ledger_step.with_options(name=names.ledger_step)(opts, run_id, issuance.kind)
    with timer("plan"):
        plan = plan_envelopes.with_options(name=names.plan)(opts, run_id)
    with timer("render_qa"):
        rendered, checked_batches = render_and_check(opts, plan["batch_ids"])
    report = issuance.report(state, checked, stepped, plan, rendered, checked_batches, timer.timings, opts)
    return report_and_finish(opts, report)


@flow(name="bulk-issuance", persist_result=False, validate_parameters=True)
def bulk_issuance(register_path: str, opts: RunOptions) -> dict[str, Any]:
    """Issue numbers for a whole register and print every household's envelope."""
    return outcome(issue_and_print(BULK, register_path, opts))  # type: ignore[no-any-return]


@flow(name="daily-increment", persist_result=False, validate_parameters=True)
def daily_increment(events_path: str, opts: RunOptions) -> dict[str, Any]:
    """Apply one day's events to the ledger and print the new cards."""
    return outcome(issue_and_print(DAILY, events_path, opts))  # type: ignore[no-any-return]


def run_bulk(register_path: str, opts: RunOptions, run_name: str | None = None) -> dict[str, Any]:
    """Run the bulk flow with the task runner the options ask for (CLI and tests call this)."""
    return call_flow(bulk_issuance, opts, run_name, register_path, opts)


def run_daily(events_path: str, opts: RunOptions, run_name: str | None = None) -> dict[str, Any]:
    """Run the daily flow with the task runner the options ask for (CLI and tests call this)."""
    return call_flow(daily_increment, opts, run_name, events_path, opts)
