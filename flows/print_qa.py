"""Print QA: an independent re-check of print batch folders (``mynumber qa``), one task each.

Trusts nothing the renderer said: checksums, page count and order, each page's text
against the manifest (right household, nobody else's), QR codes against application
ids, masked numbers, and every printed number against the ledger's active number
(the stage is ``pipeline.stages.batches.stage_qa_folder``).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.common import TASK_DEFAULTS, guarded
from pipeline.stages.batches import stage_qa_folder


@task(name="check-batch", **TASK_DEFAULTS)
def check_one(batch_dir: str, ledger_url: str | None, plan_path: str | None, full_qr: bool,
              qr_sample_size: int, seed: int) -> dict[str, Any]:
    return guarded("qa")(stage_qa_folder)(batch_dir, ledger_url, plan_path, full_qr, qr_sample_size, seed)


@flow(name="print-qa", persist_result=False)
def print_qa(batch_dirs: list[str], ledger_url: str | None = None, plan_path: str | None = None,
             full_qr: bool = False, qr_sample_size: int = 50, seed: int = 0) -> list[dict[str, Any]]:
    """QA each batch folder; qa.json lands in every folder."""
    return [check_one(b, ledger_url, plan_path, full_qr, qr_sample_size, seed) for b in batch_dirs]
