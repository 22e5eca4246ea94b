"""Decide what each daily event does, given what the ledger already knows.

Rules (番号法 art. 7): a birth or a first registration gets a new number; a move-in from
inside Japan keeps the number it brings (a number that belongs to someone else, or was
revoked, is quarantined); a number change (leak) reissues; a move-out or death is
recorded and prints nothing. An event the ledger has already recorded is skipped, so
running the same file twice adds nothing and prints nothing.

``classify_events`` is pure: the ledger lookups are passed in as frames.
``hold_contradictions`` then quarantines events the ledger contradicts
(docs/domain.md#register-input-limits): a move-out or death of a resident the ledger never
knew, and any event dated on or after a recorded death, or after a recorded move-out with
no move-in since (other than that move-in).
"""

from __future__ import annotations

import polars as pl

ISSUE_EVENTS = ("birth", "first_registration")
RECORD_EVENTS = ("move_out", "death")

#: action per event row; ``outcome`` names used in reports
ACTIONS = ("issue", "keep", "reissue", "record", "already_processed", "quarantine")
OUTCOME_OF_ACTION = {
    "issue": "issued", "keep": "kept", "reissue": "reissued", "record": "recorded",
    "already_processed": "already_processed", "quarantine": "quarantined",
}


def classify_events(
    events: pl.DataFrame,
    active: pl.DataFrame,
    owners: pl.DataFrame,
    known: pl.DataFrame,
    run_id: str,
) -> pl.DataFrame:
    """Add ``action``, ``reason`` and ``is_reused`` to each event row.

    events: row, resident_code, event, event_date, my_number (nullable)
    active: resident_code, run_id — residents holding an active number, and the run that issued it
    owners: my_number, resident_code, status — ledger rows holding the brought numbers
    known: resident_code, event, event_date — events recorded by earlier runs
    """
    act = active.select(
        "resident_code", pl.lit(True).alias("_has_active"), pl.col("run_id").alias("_active_run")
    )
    own = owners.select(
        pl.col("my_number"),
        pl.col("resident_code").alias("_owner"),
        pl.col("status").alias("_owner_status"),
    ).unique(subset=["my_number"], keep="first")
    seen = known.select("resident_code", "event", "event_date").unique().with_columns(
        pl.lit(True).alias("_known")
    )
    frame = (
        events.join(act, on="resident_code", how="left", validate="m:1")
        .join(own, on="my_number", how="left", validate="m:1")
        .join(seen, on=["resident_code", "event", "event_date"], how="left", validate="m:1")
    )
    has_active = pl.col("_has_active").fill_null(False)
    from_this_run = (pl.col("_active_run") == run_id).fill_null(False)
    ev = pl.col("event")
    brought = pl.col("my_number")
    action, reason = _rules(ev, has_active, from_this_run, brought)
    return frame.with_columns(
        action.alias("action"), reason.alias("reason"),
        (from_this_run & ev.is_in([*ISSUE_EVENTS, "number_change"])).alias("is_reused"),
    ).drop("_has_active", "_active_run", "_owner", "_owner_status", "_known")


def _rules(ev: pl.Expr, has_active: pl.Expr, from_this_run: pl.Expr,
           brought: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    known = pl.col("_known").fill_null(False)
    owner = pl.col("_owner")
    owner_status = pl.col("_owner_status")
    same_owner = (owner == pl.col("resident_code")).fill_null(False)
    cases: list[tuple[pl.Expr, str, str | None]] = [
        (known, "already_processed", "event already recorded by an earlier run"),
        (ev.is_in(ISSUE_EVENTS) & from_this_run, "issue", None),
        (ev.is_in(ISSUE_EVENTS) & brought.is_not_null(), "quarantine",
         "my_number: a birth or first registration must not carry a number"),
        (ev.is_in(ISSUE_EVENTS) & has_active, "quarantine",
         "resident_code: resident already holds an active number"),
        (ev.is_in(ISSUE_EVENTS), "issue", None),
        ((ev == "move_in") & brought.is_null(), "quarantine",
         "my_number: a move-in must carry the number it already has"),
        ((ev == "move_in") & owner.is_not_null() & ~same_owner, "quarantine",
         "my_number: the number belongs to another resident in the ledger"),
        ((ev == "move_in") & (owner_status == "revoked").fill_null(False), "quarantine",
         "my_number: the number was revoked and can never be used again"),
        ((ev == "move_in") & has_active & ~same_owner, "quarantine",
         "my_number: the resident already holds a different active number"),
        (ev == "move_in", "keep", None),
        ((ev == "number_change") & from_this_run, "reissue", None),
        ((ev == "number_change") & ~has_active, "quarantine",
         "resident_code: no active number to change"),
        (ev == "number_change", "reissue", None),
        (ev.is_in(RECORD_EVENTS), "record", None),
    ]
    action = pl.lit("quarantine")
    reason = pl.lit("event: unknown event type")
    for condition, act, why in reversed(cases):
        action = pl.when(condition).then(pl.lit(act)).otherwise(action)
        reason = pl.when(condition).then(pl.lit(why, dtype=pl.Utf8)).otherwise(reason)
    return action, reason


#: events that end a resident's record here (nothing but a move-in may follow a move-out)
EXIT_EVENTS = ("move_out", "death")


def hold_contradictions(classified: pl.DataFrame, known_codes: pl.Series,
                        history: pl.DataFrame) -> pl.DataFrame:
    """Turn the events the ledger contradicts into quarantine (action, reason).

    classified: rows of ``classify_events`` (row, resident_code, event, event_date, action, reason)
    known_codes: residents holding or having held a number in the ledger
    history: resident_code, event, event_date: every event recorded for these residents
    Events already processed are left alone (a re-run of the same file changes nothing).
    """
    dead = history.filter(pl.col("event") == "death").group_by("resident_code").agg(
        pl.col("event_date").min().alias("_died"))
    last_out = history.filter(pl.col("event") == "move_out").group_by("resident_code").agg(
        pl.col("event_date").max().alias("_out"))
    last_in = history.filter(pl.col("event") == "move_in").group_by("resident_code").agg(
        pl.col("event_date").max().alias("_in"))
    frame = (
        classified.join(dead, on="resident_code", how="left")
        .join(last_out, on="resident_code", how="left")
        .join(last_in, on="resident_code", how="left")
    )
    ev, when = pl.col("event"), pl.col("event_date")
    open_case = pl.col("action") != "already_processed"
    known = pl.col("resident_code").is_in(known_codes.implode())
    still_out = pl.col("_out").is_not_null() & (pl.col("_in").is_null() | (pl.col("_in") < pl.col("_out")))
    cases: list[tuple[pl.Expr, str]] = [
        (ev.is_in(EXIT_EVENTS) & ~known & pl.col("_died").is_null() & pl.col("_out").is_null(),
         "resident_code: event_unknown_resident: a move-out or death of a resident the ledger never knew"),
        (pl.col("_died").is_not_null() & (when >= pl.col("_died")),
         "event_date: event_after_death: the event is dated on or after the resident's recorded death"),
        (still_out & (ev != "move_in") & (when >= pl.col("_out")),
         "event_date: event_after_move_out: the event is dated after the resident's recorded move-out"),
    ]
    action, reason = pl.col("action"), pl.col("reason")
    for condition, why in reversed(cases):
        hit = (open_case & condition).fill_null(False)
        action = pl.when(hit).then(pl.lit("quarantine")).otherwise(action)
        reason = pl.when(hit).then(pl.lit(why)).otherwise(reason)
    return frame.with_columns(action.alias("action"), reason.alias("reason"),
                              (pl.col("is_reused") & (action != "quarantine")).alias("is_reused"),
                              ).drop("_died", "_out", "_in")


def choose_addressees(members: pl.DataFrame) -> pl.DataFrame:
    """Make exactly one member per household the envelope's addressee (``is_head``).

    A daily envelope carries only the members who get a card. When the head of
    household is among them the envelope goes to the head; otherwise (a newborn, a
    reissued child) to the eldest of them, since the head's record is not in the file.
    """
    order = members.with_columns(pl.int_range(pl.len()).alias("_order"))
    first = (
        order.sort(["household_id", "is_head", "date_of_birth", "resident_code"],
                   descending=[False, True, False, False])
        .group_by("household_id", maintain_order=True)
        .first()
        .select("_order")
    )
    return (
        order.with_columns(pl.col("_order").is_in(first.get_column("_order").implode()).alias("is_head"))
        .sort("_order")
        .drop("_order")
    )
