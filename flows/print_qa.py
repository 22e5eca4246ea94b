"""Print QA: an independent re-check of one print batch folder.

Trusts nothing the renderer said: checksums, page count and order, each page's text
against the manifest (right household, nobody else's), QR codes against application
ids, masked numbers, and every printed number against the ledger's active number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, task

from flows.common import TASK_DEFAULTS, guarded
from ledger import open_ledger
from pipeline.stages.bookkeeping import QaLedger
from qa import check_batch


def _check(batch_dir: str, ledger_url: str | None, plan_path: str | None, full_qr: bool,
           qr_sample_size: int, seed: int) -> dict[str, Any]:
    plan = None
    if plan_path and Path(plan_path).exists():
        batch_id = Path(batch_dir).name
        plan = pl.scan_parquet(plan_path).filter(pl.col("batch_id") == batch_id).collect()
    ledger = open_ledger(ledger_url, operator="print-qa") if ledger_url else None
    try:
        report = check_batch(Path(batch_dir), ledger=QaLedger(ledger) if ledger else None,
                             plan=plan, full_qr=full_qr,
                             qr_sample_size=qr_sample_size, seed=seed)
    finally:  # one ledger per batch: its SQLite page cache goes with it
        if ledger is not None:
            ledger.close()
    return {
        "batch_dir": str(batch_dir),
        "verdict": report.get("verdict"),
        "failed_checks": sorted(
            name for name, check in report.get("checks", {}).items()
            if isinstance(check, dict) and check.get("verdict") == "fail"
        ),
    }


@task(name="check-batch", **TASK_DEFAULTS)
def check_one(batch_dir: str, ledger_url: str | None, plan_path: str | None, full_qr: bool,
              qr_sample_size: int, seed: int) -> dict[str, Any]:
    return guarded("qa")(_check)(batch_dir, ledger_url, plan_path, full_qr, qr_sample_size, seed)


@flow(name="print-qa", persist_result=False)
def print_qa(batch_dirs: list[str], ledger_url: str | None = None, plan_path: str | None = None,
             full_qr: bool = False, qr_sample_size: int = 50, seed: int = 0) -> list[dict[str, Any]]:
    """QA each batch folder; qa.json lands in every folder."""
    return [check_one(b, ledger_url, plan_path, full_qr, qr_sample_size, seed) for b in batch_dirs]
