"""What has not reached its holder: counts by status and age, stuck and revoked envelopes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from core.clock import Clock
from ledger import notices
from mailroom.dates import held_since_before
from pipeline.options import RunOptions
from pipeline.stages.bookkeeping import run_ledger

#: how long a notice may stay in a state before reconciliation calls it stuck (days)
DEADLINES = {"planned": 3, "printed": 7, "mailed": 21, "returned": 3}


#: how long reconcile lists an envelope voided by a number change (to check it was pulled)
PULL_WINDOW_DAYS = 14


def status(opts: RunOptions, clock: Clock) -> dict[str, Any]:
    """Counts by status and age (days in the state), overdue holds, and the funnel."""
    now = clock.now()
    with run_ledger(opts) as ledger:
        every = notices.all_notices(ledger)
        counts = notices.counts(ledger)
    ages: dict[str, dict[str, int]] = {}
    if every.height:
        days = every.with_columns(((pl.lit(now) - pl.col("updated_at")).dt.total_days()).alias("d"))
        bucket = (pl.when(pl.col("d") < 7).then(pl.lit("<7d")).when(pl.col("d") < 30)
                  .then(pl.lit("7-29d")).when(pl.col("d") < 90).then(pl.lit("30-89d"))
                  .otherwise(pl.lit(">=90d")))
        for row in days.group_by("status", bucket.alias("age")).len().iter_rows(named=True):
            ages.setdefault(row["status"], {})[row["age"]] = row["len"]
    limit = held_since_before(clock, opts.mail.retention_months)
    overdue = every.filter((pl.col("status") == "held") & (pl.col("updated_at") < limit))
    return {"by_status": counts["by_status"], "by_age": ages, "funnel": counts["funnel"],
            "overdue_holds": overdue.get_column("registered_mail_number").n_unique(),
            "retention_months": opts.mail.retention_months,
            "active_numbers_without_live_notice": counts["without_live_notice"]}


def reconcile(opts: RunOptions, clock: Clock) -> dict[str, Any]:
    """Active numbers without a printed notice, notices stuck past their deadline, and
    envelopes printed (or out) for numbers revoked since (pull them from the mail).

    Lists name envelopes by registered-mail number and residents by row count only."""
    now = clock.now()
    with run_ledger(opts) as ledger:
        unprinted = notices.unprinted(ledger)
        every = notices.all_notices(ledger)
    stuck = []
    for state, days in DEADLINES.items():
        late = every.filter((pl.col("status") == state)
                            & (pl.col("updated_at") < now - dt.timedelta(days=days)))
        for rmn in late.get_column("registered_mail_number").unique().sort().to_list():
            stuck.append({"registered_mail_number": rmn, "status": state, "deadline_days": days})
    limit = held_since_before(clock, opts.mail.retention_months)
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
