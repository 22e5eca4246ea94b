"""After the printer: the mail-room operations on notices, as plain functions of the options.

Hand-over to the post office, returns, counter hand-over, re-sending, destruction after the
retention period, reprints of spoiled sheets, and the reconciliation that finds what has
not reached its holder (docs/domain.md#registered-mail-lifecycle). Every operation takes
registered-mail numbers (what a scanner reads off the envelope), checks their check digit,
and is idempotent: scanning an envelope twice changes nothing the second time. Re-sends and
reprints make small print batches through the same render and QA stages as a run.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from core.errors import ConfigError, InputError, LedgerError, ValidationError
from layouts.fonts import undrawable_characters
from layouts.handover import Sender, handover_pdf
from ledger import Ledger, notices
from ledger.notices import MANUAL_BATCH, Transition
from pipeline.files import (
    read_json,
    write_bytes_atomic,
    write_csv_atomic,
    write_json_atomic,
    write_parquet_atomic,
)
from pipeline.options import RunOptions
from pipeline.printing import build_plan, print_settings
from pipeline.stages import open_ledger, stage_qa, stage_render
from transforms.daily import choose_addressees
from transforms.identifiers import registered_mail
from transforms.identifiers.application_id import new_application_ids
from transforms.notices import from_records, notice_rows

#: why an envelope came back (docs/domain.md#registered-mail-lifecycle); free text is refused
RETURN_REASONS = ("宛所不明", "あて所に尋ねあたりません", "受取拒否", "受取拒絶", "保管期間経過", "転居先不明",
                  "その他")
#: identity documents shown at the counter (番号法施行規則 art. 1): the kind only, never its number
ID_DOCUMENTS = {
    "mynumber_card": "マイナンバーカード", "drivers_license": "運転免許証",
    "driving_history": "運転経歴証明書", "passport": "旅券",
    "disability_handbook": "身体障害者手帳", "mental_health_handbook": "精神障害者保健福祉手帳",
    "rehabilitation_handbook": "療育手帳", "residence_card": "在留カード",
    "special_permanent_resident": "特別永住者証明書",
    "two_documents": "二点確認 (健康保険証等)", "proxy_with_letter": "代理人 (委任状と代理人の本人確認書類)",
}
#: how long a notice may stay in a state before reconciliation calls it stuck (days)
DEADLINES = {"planned": 3, "printed": 7, "mailed": 21, "returned": 3}
#: how long reconcile lists an envelope voided by a number change (to check it was pulled)
PULL_WINDOW_DAYS = 14


def parse_mail_numbers(values: Iterable[str]) -> list[str]:
    """Registered-mail numbers as typed or scanned (hyphens and spaces allowed), checked.

    The message names the position of a bad entry, not its value.
    """
    out = []
    for i, value in enumerate(values, 1):
        text = value.strip()
        if not text:
            continue
        try:
            out.append(registered_mail.validate(text))
        except ValidationError as exc:
            raise InputError(f"registered-mail number {i}: {exc}", row=i,
                             field="registered_mail_number") from None
    if not out:
        raise InputError("no registered-mail number given", field="registered_mail_number")
    return list(dict.fromkeys(out))


def _result(action: str, t: Transition, numbers: Sequence[str]) -> dict[str, Any]:
    return {"action": action, "envelopes": len(numbers), "notices_changed": t.changed,
            "notices_already": t.already, "notices_refused": t.refused,
            "envelopes_unknown": t.unknown}


# --- hand-over to the post office -----------------------------------------------------------
def handover(opts: RunOptions, batch_dirs: Sequence[Path], out_dir: Path) -> dict[str, Any]:
    """Mark the printed envelopes of these batches mailed and write the hand-over list.

    A batch folder needs a passing qa.json; a ``manual_manifest.csv`` stands for the
    hand-made envelopes of a run (they must have been marked made). The list (CSV and PDF)
    has registered-mail numbers, postcodes and counts, and the sender.
    """
    frames = []
    for path in batch_dirs:
        frames.append(_handover_rows(Path(path)))
    envelopes = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    with open_ledger(opts) as ledger:   # closed when done, as the run stages do
        numbers = envelopes.get_column("registered_mail_number").to_list()
        current = notices.by_mail_numbers(ledger, numbers)
        live = current.filter(~pl.col("status").is_in(notices.NOT_LIVE))
        not_ready = live.filter(pl.col("status") == "planned").get_column(
            "registered_mail_number").unique()
        if not_ready.len():
            raise LedgerError(f"hand-over refused: {not_ready.len()} envelope(s) are not printed "
                              "(QA not passed, or not yet made by hand); nothing was marked")
        void = set(numbers) - set(live.get_column("registered_mail_number").to_list())
        if void:
            raise LedgerError(f"hand-over refused: {len(void)} envelope(s) hold only voided cards "
                              "(QA failed, reprinted, or a number revoked since): pull them from "
                              "the mail (`mynumber reconcile`); nothing was marked")
        t = ledger.notice_transition(numbers, "mailed", "handed over to the post office")
    when = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=9)))
    stamp = when.strftime("%Y%m%dT%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    listing = envelopes.select("registered_mail_number", "postal_code", "batch_id",
                               "envelope_seq", "members").sort("postal_code", "registered_mail_number")
    csv_path, pdf_path = out_dir / f"handover-{stamp}.csv", out_dir / f"handover-{stamp}.pdf"
    write_csv_atomic(listing, csv_path)
    town = opts.municipality
    sender = Sender(town.office_name, town.postal_code, town.address, town.telephone)
    write_bytes_atomic(pdf_path, handover_pdf(
        listing, sender, title="簡易書留 差出票 (引受番号一覧)", when=when.strftime("%Y-%m-%d %H:%M JST"),
        demo=opts.demo, font_dir=opts.print.font_dir))
    return {**_result("handover", t, numbers), "members": int(listing["members"].sum()),
            "csv": str(csv_path), "pdf": str(pdf_path)}


def _handover_rows(path: Path) -> pl.DataFrame:
    cols = ["registered_mail_number", "postal_code", "batch_id", "envelope_seq", "members"]
    if path.is_file() and path.name == "manual_manifest.csv":
        frame = pl.read_csv(path, infer_schema=False)
        return frame.select(pl.col("registered_mail_number"), pl.col("postal_code"),
                            pl.lit(MANUAL_BATCH).alias("batch_id"),
                            pl.col("envelope_seq").cast(pl.Int64), pl.col("members").cast(pl.Int64))
    qa_path = path / "qa.json"
    if not (path / "manifest.parquet").exists():
        raise InputError("not a print batch folder (no manifest.parquet)", file=str(path))
    if not qa_path.exists() or read_json(qa_path).get("verdict") != "pass":
        raise LedgerError(f"hand-over refused: batch {path.name} has not passed QA")
    manifest = pl.read_parquet(path / "manifest.parquet")
    return manifest.filter(pl.col("members") > 0).select(
        pl.col("registered_mail_number").cast(pl.Utf8), pl.col("postal_code").cast(pl.Utf8),
        pl.col("batch_id").cast(pl.Utf8), pl.col("envelope_seq").cast(pl.Int64),
        pl.col("members").cast(pl.Int64)).select(cols)


# --- the envelope's way back ----------------------------------------------------------------
def made_by_hand(opts: RunOptions, numbers: Sequence[str]) -> dict[str, Any]:
    """Hand-made envelopes checked and sealed: their planned notices count as printed."""
    with open_ledger(opts) as ledger:
        current = notices.by_mail_numbers(ledger, numbers)
        if current.filter(~pl.col("is_manual")).height:
            raise LedgerError("only hand-made envelopes (manual manifest) are marked made; "
                              "printed batches become printed by passing QA")
        return _result("made", ledger.notice_transition(numbers, "printed", "made by hand and checked"),
                       numbers)


def delivered(opts: RunOptions, numbers: Sequence[str]) -> dict[str, Any]:
    """Delivered (the post office's tracking or the signed receipt)."""
    with open_ledger(opts) as ledger:
        return _result("delivered", ledger.notice_transition(
            numbers, "delivered", "delivered (tracking)"), numbers)


def mailed_before(opts: RunOptions, before: dt.date) -> list[str]:
    """Envelopes mailed before a date that never came back (the return window has passed)."""
    cutoff = dt.datetime.combine(before, dt.time(), dt.UTC)
    with open_ledger(opts) as ledger:
        mailed = notices.all_notices(ledger, ["mailed"])
    return mailed.filter(pl.col("updated_at") < cutoff).get_column(
        "registered_mail_number").unique().sort().to_list()


def returned(opts: RunOptions, numbers: Sequence[str], reason: str, location: str) -> dict[str, Any]:
    """Came back to the office: recorded with its reason and shelved (held) at ``location``."""
    if reason not in RETURN_REASONS:
        raise InputError(f"--reason must be one of {', '.join(RETURN_REASONS)}", field="reason")
    if not location.strip() or len(location) > 64:
        raise InputError("--location names the shelf (1-64 characters)", field="location")
    with open_ledger(opts) as ledger:
        return _result("returned", ledger.notice_transition(
            numbers, "held", f"returned: {reason}; held at {location.strip()}", via="returned"),
            numbers)


def collect(opts: RunOptions, number: str, id_document: str) -> dict[str, Any]:
    """Handed over at the counter after identity was checked (the kind of document only)."""
    if id_document not in ID_DOCUMENTS:
        raise InputError(f"--id-document must be one of {', '.join(ID_DOCUMENTS)}",
                         field="id_document")
    with open_ledger(opts) as ledger:
        return _result("collect", ledger.notice_transition(
            [number], "handed_over", f"handed over at the counter; identity: {id_document}"),
            [number])


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def destroy(opts: RunOptions, held_before: dt.date, out_dir: Path,
            today: dt.date | None = None) -> dict[str, Any]:
    """Destroy what has been held since before ``held_before``; writes the destruction list.

    ``held_before`` may not be later than today minus the retention period (settings
    ``mail.retention_months``): a card is never destroyed early.
    """
    today = today or dt.date.today()
    latest = add_months(today, -opts.mail.retention_months)
    if held_before > latest:
        raise ConfigError(f"--held-before may be {latest.isoformat()} at the latest: cards are "
                          f"held {opts.mail.retention_months} month(s) (mail.retention_months)")
    with open_ledger(opts) as ledger:
        cutoff = dt.datetime.combine(held_before, dt.time(), dt.UTC)
        held = notices.all_notices(ledger, ["held"]).filter(pl.col("updated_at") < cutoff)
        numbers = held.get_column("registered_mail_number").unique().sort().to_list()
        listing = (held.group_by("registered_mail_number").agg(
            pl.col("household_id").first(), pl.len().alias("notices"),
            pl.col("updated_at").min().dt.strftime("%Y-%m-%d").alias("held_since"))
            .sort("registered_mail_number"))
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"destruction-{today.isoformat()}-{uuid.uuid4().hex[:6]}.csv"
        t = ledger.notice_transition(numbers, "destroyed",
                                     f"destroyed after the holding period (held before {held_before})")
    write_csv_atomic(listing.with_columns(pl.lit(opts.ledger.operator).alias("destroyed_by")), path)
    return {**_result("destroy", t, numbers), "list": str(path)}


# --- new envelopes for old notices: re-send and reprint -------------------------------------
def _small_run(opts: RunOptions, ledger: Ledger, kind: str, subject: str) -> str:
    run_dir = opts.run_dir.make()
    if run_dir.state_path.exists():
        raise ConfigError(f"{run_dir.root} already holds a run: use a new --out folder")
    digest = hashlib.sha256(f"{kind}:{subject}:{uuid.uuid4().hex}".encode()).hexdigest()
    run_id = ledger.start_run(kind, digest, {"subject": subject})
    write_json_atomic(run_dir.state_path, {"run_id": run_id, "kind": kind, "input_sha256": digest,
                                           "resumed": False, "ledger_url": opts.ledger.url})
    return run_id


def _print_small(opts: RunOptions, ledger: Ledger, run_id: str, plan: pl.DataFrame) -> dict[str, Any]:
    """Render and QA the batches of a small plan with the run's own stages; close the run."""
    write_parquet_atomic(plan, opts.run_dir.plan_path)
    results = [(stage_render(opts, batch_id), stage_qa(opts, batch_id))
               for batch_id in plan.get_column("batch_id").drop_nulls().unique().sort().to_list()]
    ok = all(qa["verdict"] == "pass" for _, qa in results)
    counts = {"batches": len(results), "envelopes": sum(r["envelopes"] for r, _ in results),
              "pages": sum(r["pages"] for r, _ in results), "qa": "pass" if ok else "fail"}
    ledger.finish_run(run_id, "succeeded" if ok else "partial", counts)
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
    with open_ledger(opts) as ledger:
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
        t = ledger.notice_transition([number], "re_sent", "re-sent in a new envelope", run_id=run_id)
        ledger.record_mailings(run_id, _envelope_rows(plan))
        ledger.record_notices(run_id, notice_rows(plan, MANUAL_BATCH))
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
    with open_ledger(opts) as ledger:
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
        ledger.notice_transition(numbers, "voided", f"sheets of batch {batch_id} reprinted",
                                 run_id=run_id, void_reason="reprinted")
        plan = rows.with_columns(pl.lit(1, dtype=pl.UInt32).alias("batch_no"),
                                 pl.lit("B00001").alias("batch_id"))
        ledger.record_notices(run_id, notice_rows(plan.filter(~pl.col("is_manual")), MANUAL_BATCH))
        return {**_print_small(opts, ledger, run_id, plan), "action": "reprint",
                "notices_voided": printed.height}


def _envelope_rows(plan: pl.DataFrame) -> pl.DataFrame:
    return plan.filter(pl.col("batch_id").is_not_null()).select(
        "household_id", "batch_id", "envelope_seq", "registered_mail_number").unique(
        subset=["envelope_seq"], keep="first", maintain_order=True)


# --- what has not reached its holder ----------------------------------------------------------
def status(opts: RunOptions, now: dt.datetime | None = None) -> dict[str, Any]:
    """Counts by status and age (days in the state), overdue holds, and the funnel."""
    now = now or dt.datetime.now(dt.UTC)
    with open_ledger(opts) as ledger:
        every = notices.all_notices(ledger)
        counts = ledger.notice_counts()
    ages: dict[str, dict[str, int]] = {}
    if every.height:
        days = every.with_columns(((pl.lit(now) - pl.col("updated_at")).dt.total_days()).alias("d"))
        bucket = (pl.when(pl.col("d") < 7).then(pl.lit("<7d")).when(pl.col("d") < 30)
                  .then(pl.lit("7-29d")).when(pl.col("d") < 90).then(pl.lit("30-89d"))
                  .otherwise(pl.lit(">=90d")))
        for row in days.group_by("status", bucket.alias("age")).len().iter_rows(named=True):
            ages.setdefault(row["status"], {})[row["age"]] = row["len"]
    limit = dt.datetime.combine(add_months(now.date(), -opts.mail.retention_months), dt.time(),
                                dt.UTC)
    overdue = every.filter((pl.col("status") == "held") & (pl.col("updated_at") < limit))
    return {"by_status": counts["by_status"], "by_age": ages, "funnel": counts["funnel"],
            "overdue_holds": overdue.get_column("registered_mail_number").n_unique(),
            "retention_months": opts.mail.retention_months,
            "active_numbers_without_live_notice": counts["without_live_notice"]}


def reconcile(opts: RunOptions, now: dt.datetime | None = None) -> dict[str, Any]:
    """Active numbers without a printed notice, notices stuck past their deadline, and
    envelopes printed (or out) for numbers revoked since (pull them from the mail).

    Lists name envelopes by registered-mail number and residents by row count only."""
    now = now or dt.datetime.now(dt.UTC)
    with open_ledger(opts) as ledger:
        unprinted = notices.unprinted(ledger)
        every = notices.all_notices(ledger)
    stuck = []
    for state, days in DEADLINES.items():
        late = every.filter((pl.col("status") == state)
                            & (pl.col("updated_at") < now - dt.timedelta(days=days)))
        for rmn in late.get_column("registered_mail_number").unique().sort().to_list():
            stuck.append({"registered_mail_number": rmn, "status": state, "deadline_days": days})
    limit = dt.datetime.combine(add_months(now.date(), -opts.mail.retention_months), dt.time(),
                                dt.UTC)
    for rmn in every.filter((pl.col("status") == "held") & (pl.col("updated_at") < limit)) \
            .get_column("registered_mail_number").unique().sort().to_list():
        stuck.append({"registered_mail_number": rmn, "status": "held",
                      "deadline_days": None, "note": "retention period over: destroy"})
    revoked = every.filter(pl.col("number_status") == "revoked")
    # a card of a revoked number still on its way or on the shelf: it must never be handed over
    out_there = revoked.filter(pl.col("status").is_in(["printed", "mailed", "returned", "held"]))
    pull = [{"registered_mail_number": r["registered_mail_number"], "status": r["status"]}
            for r in out_there.unique(subset=["registered_mail_number", "status"])
            .sort("registered_mail_number").iter_rows(named=True)]
    # printed envelopes voided by a number change lately: make sure they were taken out
    recent = every.filter(pl.col("void_reason").is_in(["number_revoked", "envelope_pulled"])
                          & (pl.col("updated_at") >= now - dt.timedelta(days=PULL_WINDOW_DAYS)))
    return {
        "active_without_printed_notice": unprinted.height,
        "without_notice": int(unprinted.get_column("notice_status").null_count()),
        "planned_not_printed": unprinted.filter(pl.col("notice_status") == "planned").height,
        "planned_envelopes": unprinted.get_column("registered_mail_number").drop_nulls()
        .unique().sort().to_list(),
        "stuck": stuck,
        "revoked_numbers_envelopes": pull,
        "recently_pulled_envelopes": recent.get_column("registered_mail_number").unique()
        .sort().to_list(),
        "clean": unprinted.height == 0 and not stuck and not pull,
    }
