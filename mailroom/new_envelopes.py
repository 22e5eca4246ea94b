"""New envelopes for old notices: re-send a held envelope, reprint spoiled sheets."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from core.errors import ConfigError, InputError, LedgerError
from layouts.fonts import undrawable_characters
from ledger import LedgerHandle, notices, runs
from ledger.notices import MANUAL_BATCH
from pipeline.files import (
    read_json,
    write_json_atomic,
    write_parquet_atomic,
)
from pipeline.options import RunOptions
from pipeline.stages.batches import stage_qa, stage_render
from pipeline.stages.bookkeeping import run_ledger
from pipeline.stages.plan import record_plan
from pipeline.stages.print_plan import build_plan, print_settings
from transforms.daily import choose_addressees
from transforms.identifiers.application_id import new_application_ids
from transforms.notices import from_records, notice_rows


def _small_run(opts: RunOptions, ledger: LedgerHandle, kind: str, subject: str) -> str:
    run_dir = opts.run_dir.make()
    if run_dir.state_path.exists():
        raise ConfigError(f"{run_dir.root} already holds a run: use a new --out folder")
    digest = hashlib.sha256(f"{kind}:{subject}:{uuid.uuid4().hex}".encode()).hexdigest()
    run_id = runs.start(ledger, kind, digest, {"subject": subject})
    write_json_atomic(run_dir.state_path, {"run_id": run_id, "kind": kind, "input_sha256": digest,
                                           "resumed": False, "ledger_url": opts.ledger.url})
    return run_id


def _print_small(opts: RunOptions, ledger: LedgerHandle, run_id: str, plan: pl.DataFrame) -> dict[str, Any]:
    """Render and QA the batches of a small plan with the run's own stages; close the run."""
    write_parquet_atomic(plan, opts.run_dir.plan_path)
    results = [(stage_render(opts, batch_id), stage_qa(opts, batch_id))
               for batch_id in plan.get_column("batch_id").drop_nulls().unique().sort().to_list()]
    ok = all(qa["verdict"] == "pass" for _, qa in results)
    counts = {"batches": len(results), "envelopes": sum(r["envelopes"] for r, _ in results),
              "pages": sum(r["pages"] for r, _ in results), "qa": "pass" if ok else "fail"}
    runs.finish(ledger, run_id, "succeeded" if ok else "partial", counts)
    write_json_atomic(opts.run_dir.report_json, {"run_id": run_id, **counts,
                                                 "batch_ids": [r["batch_id"] for r, _ in results]})
    return {**counts, "run_id": run_id, "out": str(opts.run_dir.root)}


def resend(opts: RunOptions, number: str, *, postal_code: str | None = None,
           address: str | None = None) -> dict[str, Any]:
    """A held envelope goes out again: a one-envelope batch for the same members and numbers,
    a new registered-mail number, the old envelope's notices ``re_sent``; QA'd like any batch."""
    if (postal_code is None) != (address is None):
        raise InputError("give both --postal-code and --address, or neither", field="address")
    if postal_code is not None and not (len(postal_code) == 7 and postal_code.isascii()
                                        and postal_code.isdigit()):
        raise InputError("--postal-code is 7 digits without a hyphen", field="postal_code")
    with run_ledger(opts) as ledger:
        held = notices.by_mail_numbers(ledger, [number]).filter(pl.col("status") == "held")
        if held.height == 0:
            already = notices.by_mail_numbers(ledger, [number]).filter(pl.col("status") == "re_sent")
            if already.height:
                return {"action": "resend", "envelopes": 1, "notices_changed": 0,
                        "notices_already": already.height, "notices_refused": 0}
            raise LedgerError("re-send refused: the envelope is not held (record its return first)")
        codes = held.get_column("resident_code").to_list()
        records = from_records(notices.records_of(ledger, codes))
        if records.height != len(codes):
            raise LedgerError("re-send refused: the ledger keeps no printable record for "
                              f"{len(codes) - records.height} member(s)")
        if postal_code is not None:
            records = records.with_columns(pl.lit(postal_code).alias("postal_code"),
                                           pl.lit(address).alias("address"),
                                           pl.lit(None, dtype=pl.Utf8).alias("address_extra"))
        run_id = _small_run(opts, ledger, "resend", "one held envelope")
        plan, _ = build_plan(choose_addressees(records),
                             partial(undrawable_characters, fontset=print_settings(opts).fonts()),
                             ledger, opts, application_ids=new_application_ids)
        t = notices.transition(ledger, [number], "re_sent", "re-sent in a new envelope", run_id=run_id)
        record_plan(ledger, run_id, plan)
        new_numbers = plan.get_column("registered_mail_number").drop_nulls().unique().to_list()
        return {**_print_small(opts, ledger, run_id, plan), "action": "resend",
                "notices_changed": t.changed, "new_registered_mail_numbers": new_numbers}


def reprint(opts: RunOptions, batch_dir: Path, envelope_seqs: Sequence[int]) -> dict[str, Any]:
    """Spoiled sheets reprinted identically (same registered-mail numbers and ids) into a new
    batch folder; the old pages' notices are voided and the new ones QA'd like any batch."""
    plan_path = batch_dir.resolve().parent.parent / "work" / "plan.parquet"
    if not plan_path.exists():
        raise InputError("the batch's run folder has no work/plan.parquet", file=str(plan_path))
    batch_id = batch_dir.name
    rows = pl.read_parquet(plan_path).filter(
        (pl.col("batch_id") == batch_id) & pl.col("envelope_seq").is_in(list(envelope_seqs)))
    found = set(rows.get_column("envelope_seq").to_list())
    if missing := sorted(set(envelope_seqs) - found):
        raise InputError(f"{len(missing)} envelope(s) are not in batch {batch_id}",
                         field="envelopes")
    with run_ledger(opts) as ledger:
        state = plan_path.parent / "state.json"
        source_run = read_json(state).get("run_id") if state.exists() else None
        numbers = rows.get_column("registered_mail_number").unique().to_list()
        current = notices.by_mail_numbers(ledger, numbers)
        # only this batch's own printed pages can be spoiled (a reprint is reprinted from its folder)
        printed = current.filter((pl.col("status") == "printed") & (pl.col("batch_id") == batch_id)
                                 & (pl.col("run_id") == source_run))
        if printed.get_column("registered_mail_number").n_unique() != len(numbers):
            raise LedgerError("reprint refused: every envelope must be printed and not yet mailed")
        run_id = _small_run(opts, ledger, "reprint", f"{len(numbers)} envelope(s) of batch {batch_id}")
        notices.transition(ledger, numbers, "voided", f"sheets of batch {batch_id} reprinted",
                                 run_id=run_id, void_reason="reprinted")
        plan = rows.with_columns(pl.lit(1, dtype=pl.UInt32).alias("batch_no"),
                                 pl.lit("B00001").alias("batch_id"))
        notices.record(ledger, run_id, notice_rows(plan.filter(~pl.col("is_manual")), MANUAL_BATCH))
        return {**_print_small(opts, ledger, run_id, plan), "action": "reprint",
                "notices_voided": printed.height}

