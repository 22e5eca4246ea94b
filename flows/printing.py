"""Tasks every run ends with, whatever issued the numbers: render and QA the batches, report.

The issuance flow (``flows.issuance``) ends every run, bulk or daily, with these.
"""

from __future__ import annotations

from typing import Any

from prefect import task

from flows.common import IO_RETRIES, TASK_DEFAULTS, guarded
from pipeline.options import RunOptions
from pipeline.progress import progress
from pipeline.report import exit_code, publish_report, with_notices
from pipeline.results import QAResult, RenderResult
from pipeline.stages.batches import stage_qa, stage_render
from pipeline.stages.bookkeeping import stage_finish, stage_funnel, stage_notices


@task(name="render-batch", **TASK_DEFAULTS, retries=1)
def render_batch(opts: RunOptions, batch_id: str) -> RenderResult:
    return guarded("render")(stage_render)(opts, batch_id)


@task(name="qa-batch", **TASK_DEFAULTS, retries=1)
def qa_batch(opts: RunOptions, batch_id: str) -> QAResult:
    return guarded("qa")(stage_qa)(opts, batch_id)


@task(name="report-and-finish", **TASK_DEFAULTS, **IO_RETRIES)
def report_and_finish(opts: RunOptions, report: dict[str, Any]) -> dict[str, Any]:
    """Reconcile the run's notices, write report.json/html and the artifact, then close the
    ledger run with its counts; returns the report with its notice reconciliation."""
    notices = guarded("notices")(stage_notices)(opts, report["run_id"])
    report = with_notices(report, notices, guarded("funnel")(stage_funnel)(opts))
    publish_report(opts.run_dir, report, kind=report["kind"])
    status = "succeeded" if exit_code(report) == 0 else "partial"
    guarded("finish")(stage_finish)(opts, report["run_id"], status, report["counts_for_ledger"])
    return report


def render_and_check(opts: RunOptions,
                     batch_ids: list[str]) -> tuple[list[RenderResult], list[QAResult]]:
    """Render every batch in parallel and QA each as soon as it is rendered."""
    renders = [render_batch.submit(opts, b) for b in batch_ids]
    # return_state=False is the default; spelled out, it selects Task.submit's overload with wait_for
    checks = [qa_batch.submit(opts, b, return_state=False, wait_for=[r])
              for b, r in zip(batch_ids, renders, strict=True)]
    rendered: list[RenderResult] = []
    checked: list[QAResult] = []
    with progress(2 * len(batch_ids), "render + QA batches") as advance:
        for render in renders:  # a failed render raises its own error here, not QA's
            rendered.append(render.result())
            advance()
        for check in checks:
            checked.append(check.result())
            advance()
    return rendered, checked
