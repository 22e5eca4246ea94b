"""Destruction of held cards after the retention period (never early)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import polars as pl

from core.clock import Clock, japan_today
from core.errors import ConfigError
from ledger import notices
from mailroom.dates import add_months, japan_midnight
from mailroom.scans import summary
from pipeline.files import (
    write_csv_atomic,
)
from pipeline.options import RunOptions
from pipeline.stages.bookkeeping import run_ledger


def destroy(opts: RunOptions, held_before: dt.date, out_dir: Path, clock: Clock) -> dict[str, Any]:
    """Destroy what has been held since before ``held_before``; writes the destruction list.

    ``held_before`` may not be later than today minus the retention period (settings
    ``mail.retention_months``), both in Japan time by ``clock``: a card is never destroyed
    early.
    """
    today = japan_today(clock)
    latest = add_months(today, -opts.mail.retention_months)
    if held_before > latest:
        raise ConfigError(f"--held-before may be {latest.isoformat()} at the latest: cards are "
                          f"held {opts.mail.retention_months} month(s) (mail.retention_months)")
    with run_ledger(opts) as ledger:
        cutoff = japan_midnight(held_before)
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
