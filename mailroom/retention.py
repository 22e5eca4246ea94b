"""Destruction of held cards after the retention period (never early)."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import polars as pl

from core.errors import ConfigError
from ledger import notices
from mailroom.scans import summary
from pipeline.files import (
    write_csv_atomic,
)
from pipeline.options import RunOptions
from pipeline.stages.bookkeeping import run_ledger


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
    with run_ledger(opts) as ledger:
        cutoff = dt.datetime.combine(held_before, dt.time(), dt.UTC)
        held = notices.all_notices(ledger, ["held"]).filter(pl.col("updated_at") < cutoff)
        numbers = held.get_column("registered_mail_number").unique().sort().to_list()
        listing = (held.group_by("registered_mail_number").agg(
            pl.col("household_id").first(), pl.len().alias("notices"),
            pl.col("updated_at").min().dt.strftime("%Y-%m-%d").alias("held_since"))
            .sort("registered_mail_number"))
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"destruction-{today.isoformat()}-{uuid.uuid4().hex[:6]}.csv"
        t = notices.transition(ledger, numbers, "destroyed",
                                     f"destroyed after the holding period (held before {held_before})")
    write_csv_atomic(listing.with_columns(pl.lit(opts.ledger.operator).alias("destroyed_by")), path)
    return {**summary("destroy", t, numbers), "list": str(path)}
