"""The plan stage: an envelope for every active number whose notice is not printed yet."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import cast

import polars as pl

from layouts.fonts import undrawable_characters
from ledger import LedgerHandle, mailings, notices
from ledger.notices import MANUAL_BATCH
from pipeline.faults import crash_point
from pipeline.files import (
    read_json,
    write_csv_atomic,
    write_json_atomic,
    write_parquet_atomic,
)
from pipeline.options import RunOptions
from pipeline.results import PlanResult
from pipeline.stages.bookkeeping import run_ledger
from pipeline.stages.print_plan import build_plan, print_settings
from transforms import notices as notice_frames  # not ledger.notices: frames, no database
from transforms.daily import choose_addressees
from transforms.identifiers.application_id import new_application_ids

#: outcomes that get a card printed
PRINTED_OUTCOMES = ("issued", "reissued")


#: outcomes of residents the ledger knew already: their register row refreshes the record
#: a pending notice is printed from (a fixed register after a failed run)
KNOWN_OUTCOMES = ("already_issued", "already_processed")


def stage_plan(opts: RunOptions, run_id: str) -> PlanResult:
    """Plan an envelope for every active number whose notice is not printed yet (once per run id).

    Reconciliation is the plan: whichever run issued a number, if no live notice carries
    it (never planned, or voided because its batch failed QA or its run ended unprinted),
    this run plans it, from the register row when this run has one, else from the record
    the ledger kept. Members are grouped by household; when the head of household is not
    among them the eldest is the addressee (``transforms.daily.choose_addressees``).
    """
    with run_ledger(opts) as ledger:   # closed: its SQLite page cache goes with it
        return _plan(opts, run_id, ledger)


def _plan(opts: RunOptions, run_id: str, ledger: LedgerHandle) -> PlanResult:
    """:func:`stage_plan` with its ledger: the ledger first, then the pure plan, then the writes."""
    run_dir = opts.run_dir
    plan_meta = run_dir.work_dir / "plan.json"
    if run_dir.plan_path.exists() and plan_meta.exists() and read_json(plan_meta).get("run_id") == run_id:
        # resumed: the same envelopes, ids and registered-mail numbers as before the crash
        record_plan(ledger, run_id, pl.read_parquet(run_dir.plan_path))
        return cast(PlanResult, {**read_json(plan_meta), "reused": True})  # written by this stage
    with notices.planning_lock(ledger):  # two runs never plan the same pending number
        accepted = pl.read_parquet(run_dir.accepted_path)
        outcomes = pl.read_parquet(run_dir.outcomes_path)
        current = notice_frames.card_residents(accepted, outcomes, (*PRINTED_OUTCOMES, *KNOWN_OUTCOMES))
        pending = _pending_residents(ledger, run_id, current)
        residents = pending.residents
        if "row" in accepted.columns:
            residents = residents.join(accepted.select("resident_code", "row"), on="resident_code",
                                       how="left")
        plan, manual = build_plan(  # pure rules; its one ledger call allocates mail numbers
            choose_addressees(residents), partial(undrawable_characters, fontset=print_settings(opts).fonts()),
            ledger, opts, application_ids=new_application_ids,
            first_batch_no=_next_batch_no(run_dir.batches_dir),
        )
        manual_envelopes = notice_frames.manual_manifest(plan)
        meta = _plan_result(run_id, plan, manual, manual_envelopes, outcomes, pending)
        write_csv_atomic(manual, run_dir.manual_path)
        write_csv_atomic(manual_envelopes, run_dir.manual_manifest_path)
        write_parquet_atomic(plan, run_dir.plan_path)
        write_json_atomic(plan_meta, {k: v for k, v in meta.items() if k != "reused"})
        crash_point("after_plan")
        record_plan(ledger, run_id, plan)
    return meta


@dataclass(frozen=True)
class Pending:
    """Who this run plans a card for, as the ledger has it before planning."""

    residents: pl.DataFrame   # printable records: this run's rows, then records kept earlier
    voided: int               # unprinted notices of ended runs, voided back into planning
    without_record: int       # pending numbers the ledger keeps no printable record for


def _pending_residents(ledger: LedgerHandle, run_id: str, current: pl.DataFrame) -> Pending:
    """The ledger's part before planning: keep this run's records, send ended runs' unprinted
    notices back to planning, then read what is pending and the records of the others."""
    notices.save_records(ledger, run_id, notice_frames.to_records(current))
    voided = notices.void_unprinted(ledger, run_id)
    pending = notices.pending(ledger, with_records=False).select("resident_code")
    # this run's rows as they are; only the others come from the records the ledger kept
    here = current.join(pending, on="resident_code", how="semi")
    elsewhere = notice_frames.from_records(notices.records_of(ledger,
        pending.join(here, on="resident_code", how="anti").get_column("resident_code")))
    return Pending(residents=pl.concat([notice_frames.as_records(here), elsewhere]), voided=voided,
                   without_record=pending.height - here.height - elsewhere.height)


def _plan_result(run_id: str, plan: pl.DataFrame, manual: pl.DataFrame, manual_envelopes: pl.DataFrame,
                 outcomes: pl.DataFrame, pending: Pending) -> PlanResult:
    """The plan stage's counts (what Prefect and the report see)."""
    printed_envelopes = _envelopes(plan).height
    return PlanResult(
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
        notices_voided_before_planning=pending.voided,
        numbers_without_record=pending.without_record,
        reused=False,
    )


def record_plan(ledger: LedgerHandle, run_id: str, plan: pl.DataFrame) -> None:
    """The plan into the ledger: its envelopes and notices (idempotent, so a resume repeats it)."""
    mailings.record(ledger, run_id, _envelopes(plan))
    notices.record(ledger, run_id, notice_frames.notice_rows(plan, MANUAL_BATCH))


def _next_batch_no(batches_dir: Path) -> int:
    """1, or one past the highest batch folder already there: a run folder used again by a
    new run never mixes its batches with an earlier run's (those verify and would be kept)."""
    numbers = [int(p.name[1:]) for p in batches_dir.glob("B[0-9][0-9][0-9][0-9][0-9]")
               if p.is_dir()] if batches_dir.exists() else []
    return max(numbers, default=0) + 1


def _envelopes(plan: pl.DataFrame) -> pl.DataFrame:
    """Printable envelopes, one row each, as the ledger records mailings."""
    return plan.filter(pl.col("batch_id").is_not_null()).select("household_id", "batch_id", "envelope_seq", "registered_mail_number").unique(
        subset=["envelope_seq"], keep="first", maintain_order=True
    )


def batch_rows(opts: RunOptions, batch_id: str) -> pl.DataFrame:
    """The plan rows of one batch (the plan file is read lazily: only that batch)."""
    return pl.scan_parquet(opts.run_dir.plan_path).filter(pl.col("batch_id") == batch_id).collect()
