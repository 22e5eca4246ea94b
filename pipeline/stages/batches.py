"""One print batch: rendered (skipped when its files verify), then QA'd independently."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl

from core.heap import frozen_heap
from layouts.batch import write_batch
from ledger import notices, open_ledger
from pipeline.faults import crash_point, damage_point
from pipeline.files import read_json
from pipeline.options import RunOptions
from pipeline.results import QAResult, RenderResult
from pipeline.stages.bookkeeping import QaLedger, run_ledger
from pipeline.stages.plan import batch_rows
from pipeline.stages.print_plan import print_settings, render_numbers
from qa import check_batch


def stage_render(opts: RunOptions, batch_id: str) -> RenderResult:
    """Render one print batch (skipped when its files exist and verify)."""
    run_dir, rows = opts.run_dir, batch_rows(opts, batch_id)
    t0 = time.perf_counter()
    with run_ledger(opts) as ledger:
        numbers = render_numbers(ledger, rows)
    with frozen_heap():
        result = write_batch(run_dir.batch_dir(batch_id), rows, numbers, print_settings(opts))
    if not result.skipped:
        crash_point("mid_render")
        damage_point(run_dir.batch_dir(batch_id))
    return {
        "batch_id": batch_id,
        "pages": result.pages,
        "envelopes": result.envelopes,
        "reused": result.skipped,
        "render_s": time.perf_counter() - t0,
    }


def stage_qa(opts: RunOptions, batch_id: str) -> QAResult:
    """Independent re-check of one batch against its manifest, the plan and the ledger."""
    run_dir, rows = opts.run_dir, batch_rows(opts, batch_id)
    t0 = time.perf_counter()
    # closed when done: a worker checks ~90 batches, and each ledger's SQLite connection
    # holds its page cache (~120 MB after QA's queries) until it is closed
    with run_ledger(opts) as ledger:
        with frozen_heap():
            report = check_batch(
                run_dir.batch_dir(batch_id), ledger=QaLedger(ledger), plan=rows, full_qr=opts.qa.full_qr,
                qr_sample_size=opts.qa.qr_sample_size, seed=opts.qa.seed,
            )
        run_id = read_json(run_dir.state_path)["run_id"]
        if report.get("verdict") == "pass":
            notices.mark_batch(ledger, run_id, batch_id, "printed", f"batch {batch_id} passed QA")
        else:  # these cards are never mailed: their numbers go back to planning
            notices.mark_batch(ledger, run_id, batch_id, "voided", f"batch {batch_id} failed QA",
                               void_reason="qa_failed")
    return {
        "batch_id": batch_id,
        "verdict": str(report.get("verdict")),
        "failed_checks": failed_checks(report),
        "qa_s": time.perf_counter() - t0,
    }


def stage_qa_folder(batch_dir: str, ledger_url: str | None, plan_path: str | None, full_qr: bool,
                    qr_sample_size: int, seed: int) -> dict[str, Any]:
    """``mynumber qa``: re-check a batch folder on its own (outside a run), writing its qa.json.

    The plan and the ledger are optional: without them those checks are skipped. Nothing is
    marked in the ledger (a run's QA stage does that).
    """
    plan = None
    if plan_path and Path(plan_path).exists():
        batch_id = Path(batch_dir).name
        plan = pl.scan_parquet(plan_path).filter(pl.col("batch_id") == batch_id).collect()
    ledger = open_ledger(ledger_url, operator="print-qa") if ledger_url else None
    try:
        report = check_batch(Path(batch_dir), ledger=QaLedger(ledger) if ledger else None, plan=plan, full_qr=full_qr,
                             qr_sample_size=qr_sample_size, seed=seed)
    finally:  # one ledger per batch: its SQLite page cache goes with it
        if ledger is not None:
            ledger.close()
    return {"batch_dir": str(batch_dir), "verdict": report.get("verdict"),
            "failed_checks": failed_checks(report)}


def failed_checks(report: dict[str, Any]) -> list[str]:
    """The names of a QA report's failed checks, sorted."""
    return sorted(name for name, check in report.get("checks", {}).items()
                  if isinstance(check, dict) and check.get("verdict") == "fail")
