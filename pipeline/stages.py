"""Stages shared by bulk and daily runs, as plain functions of (options, run id, batch id).

Each stage reads its inputs from the run folder or the ledger and writes its outputs
there, and returns a small dict of counts, timings and paths: the only things Prefect
sees. Every stage can be re-run after a crash and gives the same result:

- the print plan: written once per run id (atomically); a resumed run reads it back,
  so application ids and registered-mail numbers do not change;
- batches: a batch folder that verifies against its SHA256SUMS is not rendered again.

The bulk-only stage (deriving numbers for a register) is ``pipeline.bulk``; the daily-only
one (applying events) is ``pipeline.daily``.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any, cast

import polars as pl

from core.heap import frozen_heap
from core.keys import open_key
from layouts.batch import write_batch
from layouts.fonts import undrawable_characters
from ledger import Ledger
from ledger.notices import MANUAL_BATCH
from pipeline.faults import crash_point, damage_point
from pipeline.files import (
    read_json,
    sha256_file,
    write_csv_atomic,
    write_json_atomic,
    write_parquet_atomic,
)
from pipeline.options import RunOptions
from pipeline.printing import build_plan, print_settings, render_numbers
from pipeline.register_check import check_register_file
from pipeline.results import CheckResult, PlanResult, QAResult, RenderResult, StartResult
from qa import check_batch
from transforms.daily import choose_addressees
from transforms.identifiers.application_id import new_application_ids
from transforms.notices import (
    as_records,
    card_residents,
    from_records,
    manual_manifest,
    notice_rows,
    to_records,
)

#: outcomes that get a card printed
PRINTED_OUTCOMES = ("issued", "reissued")
#: runs that derive numbers: their key must be the ledger's current key (ledger.keys)
ISSUING_KINDS = ("bulk", "daily")
#: outcomes of residents the ledger knew already: their register row refreshes the record
#: a pending notice is printed from (a fixed register after a failed run)
KNOWN_OUTCOMES = ("already_issued", "already_processed")
#: columns of the register kept in the work folder (never an existing My Number)
WORK_COLUMNS_DROP = ("my_number",)


def open_ledger(opts: RunOptions) -> Ledger:
    """The run's ledger; its schema is checked (and created or upgraded) on first use."""
    return Ledger(opts.ledger.url, operator=opts.ledger.operator)


def stage_start(opts: RunOptions, register_path: str, kind: str = "bulk") -> StartResult:
    """Hash the input and open a ledger run, resuming an unfinished one for the same input."""
    with open_ledger(opts) as ledger:   # closed: its SQLite page cache goes with it
        return _start(opts, register_path, kind, ledger)


def _start(opts: RunOptions, register_path: str, kind: str, ledger: Ledger) -> StartResult:
    """:func:`stage_start` with its ledger."""
    run_dir = opts.run_dir.make()
    input_sha256 = sha256_file(Path(register_path))
    if kind in ISSUING_KINDS:
        # before the run is recorded: another key, or DEMO/production mixed, changes nothing
        ledger.bind_key(open_key(opts.key))
    previous = ledger.find_run(kind, input_sha256)
    # resume only a run that wrote into this same folder (a run elsewhere is not ours)
    if previous and previous.get("status") == "running" and _same_out(previous, opts):
        run_id, resumed = previous["run_id"], True
    else:
        run_id = ledger.start_run(kind, input_sha256, _safe_params(opts))
        resumed = False
    state = StartResult(run_id=run_id, kind=kind, input_sha256=input_sha256, resumed=resumed,
                        ledger_url=opts.ledger.url)  # no password: it never enters RunOptions
    write_json_atomic(run_dir.state_path, state)
    return state


def stage_check(opts: RunOptions, register_path: str, kind: str = "register") -> CheckResult:
    """Ingest and validate the register; keep accepted rows (minus numbers) for later stages."""
    run_dir = opts.run_dir.make()
    result = check_register_file(
        Path(register_path), encoding=opts.check.encoding, resident_code_rule=opts.check.resident_code_rule,
        kind=kind, out_dir=run_dir.check_dir, today=opts.print.issue_day,
    )
    accepted = result.accepted
    if "my_number" in accepted.columns:
        accepted = accepted.with_columns(pl.col("my_number").is_not_null().alias("has_my_number"))
    accepted = accepted.drop([c for c in WORK_COLUMNS_DROP if c in accepted.columns])
    write_parquet_atomic(accepted, run_dir.accepted_path)
    write_csv_atomic(result.quarantine.sort("row"), run_dir.quarantine_path)
    crash_point("after_check")
    report = result.report
    return {
        "input_rows": report["input_rows"],
        "accepted": accepted.height,
        "quarantined": report["outcomes"].get("quarantined", 0),
        "rules": report.get("rules", {}),
    }


def stage_plan(opts: RunOptions, run_id: str) -> PlanResult:
    """Plan an envelope for every active number whose notice is not printed yet (once per run id).

    Reconciliation is the plan: whichever run issued a number, if no live notice carries
    it (never planned, or voided because its batch failed QA or its run ended unprinted),
    this run plans it, from the register row when this run has one, else from the record
    the ledger kept. Members are grouped by household; when the head of household is not
    among them the eldest is the addressee (``transforms.daily.choose_addressees``).
    """
    with open_ledger(opts) as ledger:   # closed: its SQLite page cache goes with it
        return _plan(opts, run_id, ledger)


def _plan(opts: RunOptions, run_id: str, ledger: Ledger) -> PlanResult:
    """:func:`stage_plan` with its ledger."""
    run_dir = opts.run_dir
    plan_meta = run_dir.work_dir / "plan.json"
    if run_dir.plan_path.exists() and plan_meta.exists() and read_json(plan_meta).get("run_id") == run_id:
        # resumed: the same envelopes, ids and registered-mail numbers as before the crash
        plan = pl.read_parquet(run_dir.plan_path)
        ledger.record_mailings(run_id, _envelopes(plan))
        ledger.record_notices(run_id, notice_rows(plan, MANUAL_BATCH))
        return cast(PlanResult, {**read_json(plan_meta), "reused": True})  # written by this stage
    with ledger.planning_lock():  # two runs never plan the same pending number
        accepted = pl.read_parquet(run_dir.accepted_path)
        outcomes = pl.read_parquet(run_dir.outcomes_path)
        current = card_residents(accepted, outcomes, (*PRINTED_OUTCOMES, *KNOWN_OUTCOMES))
        ledger.save_resident_records(run_id, to_records(current))
        voided = ledger.void_unprinted_notices(run_id)
        pending = ledger.pending_notices(with_records=False).select("resident_code")
        # this run's rows as they are; only the others come from the records the ledger kept
        here = current.join(pending, on="resident_code", how="semi")
        elsewhere = from_records(ledger.resident_records(
            pending.join(here, on="resident_code", how="anti").get_column("resident_code")))
        without_record = pending.height - here.height - elsewhere.height
        residents = pl.concat([as_records(here), elsewhere])
        if "row" in accepted.columns:
            residents = residents.join(accepted.select("resident_code", "row"), on="resident_code",
                                       how="left")
        plan, manual = build_plan(
            choose_addressees(residents), partial(undrawable_characters, fontset=print_settings(opts).fonts()),
            ledger, opts, application_ids=new_application_ids,
            first_batch_no=_next_batch_no(run_dir.batches_dir),
        )
        manual_envelopes = manual_manifest(plan)
        printed_envelopes = _envelopes(plan).height
        meta = PlanResult(
            run_id=run_id,
            batch_ids=plan.get_column("batch_id").drop_nulls().unique(maintain_order=True).to_list(),
            households=plan.get_column("household_id").n_unique(),
            envelopes=printed_envelopes + manual_envelopes.height,
            envelopes_printed=printed_envelopes,
            envelopes_manual=manual_envelopes.height,
            members=plan.height,
            manual_handling=manual.get_column("resident_code").n_unique() if manual.height else 0,
            notices_planned=plan.height,
            # cards of numbers an earlier run issued (its batch failed, its range ran out, ...)
            notices_from_earlier_runs=plan.join(
                outcomes.filter(pl.col("outcome").is_in(PRINTED_OUTCOMES)).select("resident_code"),
                on="resident_code", how="anti").height,
            notices_voided_before_planning=voided,
            numbers_without_record=without_record,
            reused=False,
        )
        write_csv_atomic(manual, run_dir.manual_path)
        write_csv_atomic(manual_envelopes, run_dir.manual_manifest_path)
        write_parquet_atomic(plan, run_dir.plan_path)
        write_json_atomic(plan_meta, {k: v for k, v in meta.items() if k != "reused"})
        crash_point("after_plan")
        ledger.record_mailings(run_id, _envelopes(plan))
        ledger.record_notices(run_id, notice_rows(plan, MANUAL_BATCH))
    return meta


def _next_batch_no(batches_dir: Path) -> int:
    """1, or one past the highest batch folder already there: a run folder used again by a
    new run never mixes its batches with an earlier run's (those verify and would be kept)."""
    numbers = [int(p.name[1:]) for p in batches_dir.glob("B[0-9][0-9][0-9][0-9][0-9]")
               if p.is_dir()] if batches_dir.exists() else []
    return max(numbers, default=0) + 1


def stage_notices(opts: RunOptions, run_id: str) -> dict[str, Any]:
    """The notices this run planned, by status: the run is done only when all are printed."""
    from ledger.notices import of_run

    with open_ledger(opts) as ledger:
        mine = of_run(ledger, run_id)
    machine = mine.filter(~pl.col("is_manual"))
    by_status = {r["status"]: r["len"] for r in machine.group_by("status").len().to_dicts()}
    return {
        "planned": machine.height,
        "printed": machine.filter(pl.col("status") != "planned").filter(
            pl.col("status") != "voided").height,
        "voided": by_status.get("voided", 0),
        "by_status": by_status,
        "manual": mine.filter(pl.col("is_manual")).height,
        "all_printed": machine.filter(pl.col("status").is_in(["planned", "voided"])).height == 0,
    }


def stage_render(opts: RunOptions, batch_id: str) -> RenderResult:
    """Render one print batch (skipped when its files exist and verify)."""
    run_dir, rows = opts.run_dir, _batch_rows(opts, batch_id)
    t0 = time.perf_counter()
    with open_ledger(opts) as ledger:
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
    run_dir, rows = opts.run_dir, _batch_rows(opts, batch_id)
    t0 = time.perf_counter()
    # closed when done: a worker checks ~90 batches, and each ledger's SQLite connection
    # holds its page cache (~120 MB after QA's queries) until it is closed
    with open_ledger(opts) as ledger:
        with frozen_heap():
            report = check_batch(
                run_dir.batch_dir(batch_id), ledger=ledger, plan=rows, full_qr=opts.qa.full_qr,
                qr_sample_size=opts.qa.qr_sample_size, seed=opts.qa.seed,
            )
        run_id = read_json(run_dir.state_path)["run_id"]
        if report.get("verdict") == "pass":
            ledger.set_mailing_status("printed", batch_id=batch_id, batch_run_id=run_id)
            ledger.mark_batch_notices(run_id, batch_id, "printed", f"batch {batch_id} passed QA")
        else:  # these cards are never mailed: their numbers go back to planning
            ledger.mark_batch_notices(run_id, batch_id, "voided", f"batch {batch_id} failed QA",
                                      void_reason="qa_failed")
    return {
        "batch_id": batch_id,
        "verdict": str(report.get("verdict")),
        "failed_checks": sorted(
            name for name, check in report.get("checks", {}).items()
            if isinstance(check, dict) and check.get("verdict") == "fail"
        ),
        "qa_s": time.perf_counter() - t0,
    }


def stage_finish(opts: RunOptions, run_id: str, status: str, counts: dict[str, Any]) -> None:
    with open_ledger(opts) as ledger:
        ledger.finish_run(run_id, status, counts)


def _batch_rows(opts: RunOptions, batch_id: str) -> pl.DataFrame:
    """The plan rows of one batch (the plan file is read lazily: only that batch)."""
    return pl.scan_parquet(opts.run_dir.plan_path).filter(pl.col("batch_id") == batch_id).collect()


def _envelopes(plan: pl.DataFrame) -> pl.DataFrame:
    """Printable envelopes, one row each, as the ledger records mailings."""
    return plan.filter(pl.col("batch_id").is_not_null()).select("household_id", "batch_id", "envelope_seq", "registered_mail_number").unique(
        subset=["envelope_seq"], keep="first", maintain_order=True
    )


def _same_out(previous: dict[str, Any], opts: RunOptions) -> bool:
    recorded = previous.get("params", {}).get("out_dir")
    return recorded is None or recorded == str(Path(opts.out_dir).absolute())


def _safe_params(opts: RunOptions) -> dict[str, Any]:
    """Options worth recording with the run: no secrets (the URL has no password)."""
    return {
        "out_dir": str(Path(opts.out_dir).absolute()),
        "workers": opts.runner.workers, "batch_size": opts.print.batch_size,
        "resident_code_rule": opts.check.resident_code_rule, "issue_date": opts.print.issue_date,
        "qr_sample_size": opts.qa.qr_sample_size, "demo": opts.demo,
    }


def stage_funnel(opts: RunOptions) -> dict[str, Any]:
    """The ledger-wide funnel issued → printed → mailed → delivered / held / destroyed."""
    with open_ledger(opts) as ledger:
        return ledger.notice_counts()
