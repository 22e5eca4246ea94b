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

from flows.common import IO_RETRIES, TASK_DEFAULTS, StageTimer, guarded, task_runner_for
from pipeline import bulk
from pipeline.options import RunOptions
from pipeline.progress import progress
from pipeline.report import exit_code, bulk_report, publish_report


@task(name="check-register", **TASK_DEFAULTS)
def check_register(opts: RunOptions, register_path: str) -> dict[str, Any]:
    return guarded("check")(bulk.stage_check)(opts, register_path, "register")


@task(name="start-run", **TASK_DEFAULTS, **IO_RETRIES)
def start_run(opts: RunOptions, register_path: str) -> dict[str, Any]:
    return guarded("start")(bulk.stage_start)(opts, register_path, "bulk")


@task(name="issue-numbers", **TASK_DEFAULTS)
def issue_numbers(opts: RunOptions, run_id: str, register_path: str) -> dict[str, Any]:
    return guarded("issue")(bulk.stage_issue)(opts, run_id, register_path)


@task(name="plan-envelopes", **TASK_DEFAULTS)
def plan_envelopes(opts: RunOptions, run_id: str) -> dict[str, Any]:
    return guarded("plan")(bulk.stage_plan)(opts, run_id)


@task(name="render-batch", **TASK_DEFAULTS, retries=1)
def render_batch(opts: RunOptions, batch_id: str) -> dict[str, Any]:
    return guarded("render")(bulk.stage_render)(opts, batch_id)


@task(name="qa-batch", **TASK_DEFAULTS, retries=1)
def qa_batch(opts: RunOptions, batch_id: str) -> dict[str, Any]:
    return guarded("qa")(bulk.stage_qa)(opts, batch_id)


@task(name="report-and-finish", **TASK_DEFAULTS, **IO_RETRIES)
def report_and_finish(opts: RunOptions, report: dict[str, Any]) -> None:
    """Write report.json/html and the artifact, then close the ledger run with its counts."""
    publish_report(opts.run_dir, report, kind=report["kind"])
    status = "succeeded" if exit_code(report) == 0 else "partial"
    guarded("finish")(bulk.stage_finish)(opts, report["run_id"], status, report["counts_for_ledger"])


def render_and_check(opts: RunOptions, batch_ids: list[str]) -> tuple[list[dict], list[dict]]:
    """Render every batch in parallel and QA each as soon as it is rendered."""
    renders = [render_batch.submit(opts, b) for b in batch_ids]
    checks = [qa_batch.submit(opts, b, wait_for=[r]) for b, r in zip(batch_ids, renders)]
    rendered, checked = [], []
    with progress(2 * len(batch_ids), "render + QA batches") as advance:
        for future in renders:  # a failed render raises its own error here, not QA's
            rendered.append(future.result())
            advance()
        for future in checks:
            checked.append(future.result())
            advance()
    return rendered, checked


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
    report_and_finish(opts, report)
    return report


def run_bulk(register_path: str, opts: RunOptions) -> dict[str, Any]:
    """Run the flow with the task runner the options ask for (CLI and tests call this)."""
    return bulk_issuance.with_options(task_runner=task_runner_for(opts))(register_path, opts)
