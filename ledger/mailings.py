"""Envelopes and their 簡易書留 tracking numbers: allocation, recording, status changes.

Tracking numbers come from sender-printed ranges the post office assigns. Each allocation
moves a range's cursor and inserts every number it hands out into a table whose primary key
is the number, inside one serialised transaction: two processes can never get the same
number, and a number is never handed out again, even if a range is entered twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import sqlalchemy as sa

from core.errors import ConfigError, LedgerError
from transforms.identifiers.registered_mail import from_serials

from . import bulk
from .engine import write_transaction
from .frames import check_digits, require_columns
from .numbers import CommitResult
from .schema import MAILING_STATUSES, mail_number_ranges, mailing_history, mailings, registered_mail_numbers

if TYPE_CHECKING:
    from .store import Ledger

R = mail_number_ranges


def check_range(first: int, last: int) -> None:
    """A sender-printed range: 10-digit bodies, 簡易 leading digit 3-4, digits 4-5 in 60-99.

    The layout is reverse-engineered (docs/domain.md#registered-mail-number), so this is the one place to change it.
    """
    for body in (first, last):
        text = f"{body:010d}"
        if not (0 <= body < 10**10 and text[0] in "34" and 60 <= int(text[3:5]) <= 99):
            raise ConfigError("a registered-mail range needs 10-digit bodies starting with 3 or 4 "
                              "whose digits 4-5 are 60-99 (a sender-printed range)")
    if first > last or f"{first:010d}"[:3] != f"{last:010d}"[:3]:
        raise ConfigError("a registered-mail range must run upwards within one 3-digit prefix")


def parse_range(text: str) -> tuple[int, int]:
    """``"FIRST-LAST"`` (10-digit bodies, as in settings ``mail.mail_range``) to two ints."""
    try:
        first, last = (int(part) for part in text.replace(" ", "").split("-"))
    except ValueError:
        raise ConfigError("a registered-mail range is written FIRST-LAST (10-digit bodies)") from None
    check_range(first, last)
    return first, last


def add_range(ledger: Ledger, first_body: int | str, last_body: int | str) -> int:
    """Register a range; refuses one overlapping a range already known."""
    first, last = int(first_body), int(last_body)
    check_range(first, last)
    from .store import utcnow

    with write_transaction(ledger.engine, "mail_number_ranges") as conn:
        return _add_range(ledger, conn, first, last, utcnow())


def _add_range(ledger: Ledger, conn: sa.Connection, first: int, last: int, now: Any) -> int:
    overlap = conn.execute(sa.select(sa.func.count()).where(
        R.c.first_body <= last, R.c.last_body >= first)).scalar_one()
    if overlap:
        raise ConfigError("this registered-mail range overlaps a range already in the ledger")
    range_id = conn.execute(sa.insert(R).values(
        first_body=first, last_body=last, next_body=first, created_at=now)
        .returning(R.c.range_id)).scalar_one()
    ledger._audit(conn, "add_mail_range", f"range {range_id}: {last - first + 1} numbers", "", None)
    return int(range_id)


def allocate(ledger: Ledger, n: int, *, run_id: str | None = None,
             configured_range: str | None = None) -> list[str]:
    """Hand out n numbers in range order; all or nothing (LedgerError when ranges run out).

    ``configured_range`` (settings ``mail.mail_range``, or the demo range in demo runs) is
    added to the ledger first when the ledger does not know it yet. With no range at all the
    run is refused: numbers never come from a range the post office did not assign.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if n == 0:
        return []
    from .store import utcnow

    now = utcnow()
    with write_transaction(ledger.engine, "mail_number_ranges") as conn:
        if configured_range:
            first, last = parse_range(configured_range)
            known = conn.execute(sa.select(sa.func.count()).select_from(R).where(
                R.c.first_body == first, R.c.last_body == last)).scalar_one()
            if not known:
                _add_range(ledger, conn, first, last, now)
        if conn.execute(sa.select(sa.func.count()).select_from(R)).scalar_one() == 0:
            raise ConfigError("no registered-mail (簡易書留) number range is set: register the range "
                              "the post office assigned with `mynumber ledger mail-range FIRST LAST` "
                              "or set mail.mail_range in the settings file")
        open_ranges = conn.execute(
            sa.select(R.c.range_id, R.c.next_body, R.c.last_body)
            .where(R.c.next_body <= R.c.last_body).order_by(R.c.range_id)).all()
        parts, range_ids, left = [], [], n
        for range_id, next_body, last_body in open_ranges:
            take = min(left, int(last_body) - int(next_body) + 1)
            parts.append(np.arange(int(next_body), int(next_body) + take, dtype=np.int64))
            range_ids.append(np.full(take, int(range_id), dtype=np.int64))
            conn.execute(sa.update(R).where(R.c.range_id == range_id).values(
                next_body=int(next_body) + take))
            left -= take
            if left == 0:
                break
        if left:
            raise LedgerError(f"registered-mail ranges exhausted: {n} requested, {n - left} left; "
                              "add a range from the post office")
        numbers = from_serials(np.concatenate(parts))
        frame = pl.DataFrame({"registered_mail_number": numbers,
                              "range_id": np.concatenate(range_ids)}).with_columns(
            pl.lit(now).alias("allocated_at"))
        try:
            bulk.load(conn, registered_mail_numbers, frame)
        except sa.exc.IntegrityError:
            raise LedgerError("a registered-mail number in this range was handed out before; "
                              "nothing allocated") from None
        ledger._audit(conn, "allocate_mail_numbers", f"{n} registered-mail number(s)", "", run_id)
    return numbers.to_list()


MAILING_COLUMNS = ("household_id", "batch_id", "envelope_seq", "registered_mail_number")


def record_mailings(ledger: Ledger, run_id: str, frame: pl.DataFrame) -> CommitResult:
    """Insert this run's envelopes not yet recorded, as 'planned'; the same rows again add nothing.

    Envelopes are identified by (run, batch_id, envelope_seq) because batch ids restart in
    every run. An envelope already recorded with another household or tracking number, or
    a tracking number already on another envelope (of any run), refuses the whole set.
    """
    from .store import utcnow

    frame = require_columns(frame, MAILING_COLUMNS, "record_mailings").with_columns(
        pl.col("household_id").cast(pl.Utf8), pl.col("batch_id").cast(pl.Utf8),
        pl.col("envelope_seq").cast(pl.Int64), pl.col("registered_mail_number").cast(pl.Utf8))
    check_digits(frame, "registered_mail_number", 11, "record_mailings")
    dups = frame.select(pl.struct("batch_id", "envelope_seq").is_duplicated().sum()
                        + pl.col("registered_mail_number").is_duplicated().sum()).item()
    if dups:
        raise LedgerError(f"record_mailings: {dups} row(s) repeat an envelope or tracking number")
    stage = bulk.stage_table("ledger_stage_mailings", {
        "household_id": sa.String(64), "batch_id": sa.String(32), "envelope_seq": sa.Integer,
        "registered_mail_number": sa.String(11)})
    s, m = stage.c, mailings.c
    now = utcnow()
    with write_transaction(ledger.engine, "mailings") as conn:
        bulk.create_and_load(conn, stage, frame)
        same_env = sa.and_(m.run_id == run_id, m.batch_id == s.batch_id,
                           m.envelope_seq == s.envelope_seq)
        same_num = m.registered_mail_number == s.registered_mail_number
        present = bulk.count(conn, sa.select(s.batch_id).join(
            mailings, sa.and_(same_env, same_num, m.household_id == s.household_id)))
        clash = bulk.count(conn, sa.select(s.batch_id).join(mailings, sa.or_(same_env, same_num)))
        if clash != present:
            raise LedgerError(f"record_mailings refused, nothing written: {clash - present} "
                              "envelope(s) or tracking number(s) already recorded differently")
        conn.execute(sa.insert(mailings).from_select(
            ["household_id", "batch_id", "envelope_seq", "registered_mail_number", "status",
             "run_id", "created_at", "updated_at"],
            sa.select(s.household_id, s.batch_id, s.envelope_seq, s.registered_mail_number,
                      sa.literal("planned"), sa.literal(run_id),
                      sa.literal(now, m.created_at.type), sa.literal(now, m.updated_at.type))
            .where(~sa.exists().where(same_env))))
        inserted = frame.height - present
        bulk.drop(conn, stage)
        ledger._audit(conn, "record_mailings",
                      f"{inserted} envelope(s) recorded, {present} already present", "", run_id)
    return CommitResult(inserted=inserted, already_present=present)


def set_mailing_status(ledger: Ledger, status: str, *, registered_mail_numbers: Any = None,
                       batch_id: str | None = None, batch_run_id: str | None = None,
                       run_id: str | None = None, why: str = "") -> int:
    """Set the status of the given envelopes (or a whole batch) and log each change.

    A batch is that of ``batch_run_id``, or else of the newest run that has a batch of
    this name (batch ids restart in every run). ``run_id`` is the run making the change.
    """
    if status not in MAILING_STATUSES:
        raise LedgerError(f"mailing status must be one of {', '.join(MAILING_STATUSES)}")
    if (registered_mail_numbers is None) == (batch_id is None):
        raise LedgerError("set_mailing_status needs either registered_mail_numbers or batch_id")
    from .store import utcnow

    now = utcnow()
    m = mailings.c
    with write_transaction(ledger.engine, "mailings") as conn:
        stage = None
        if batch_id is not None:
            owner = batch_run_id or conn.execute(
                sa.select(m.run_id).where(m.batch_id == batch_id)
                .order_by(m.mailing_id.desc()).limit(1)).scalar()
            where = sa.and_(m.batch_id == batch_id, m.run_id == owner)
            subject = f"batch {batch_id} of run {owner}"
        else:
            numbers = pl.Series("registered_mail_number", registered_mail_numbers, dtype=pl.Utf8)
            stage = bulk.stage_table("ledger_stage_mail_status",
                                     {"registered_mail_number": sa.String(11)})
            bulk.create_and_load(conn, stage, numbers.unique().to_frame())
            where = m.registered_mail_number.in_(sa.select(stage.c.registered_mail_number))
            subject = "envelopes by tracking number"
        changed = conn.execute(sa.update(mailings).where(where).values(
            status=status, updated_at=now)).rowcount
        conn.execute(sa.insert(mailing_history).from_select(
            ["mailing_id", "status", "run_id", "at"],
            sa.select(m.mailing_id, sa.literal(status), sa.literal(run_id, sa.String),
                      sa.literal(now, mailing_history.c.at.type)).where(where)))
        if stage is not None:
            bulk.drop(conn, stage)
        ledger._audit(conn, "set_mailing_status", f"{subject}: {changed} envelope(s) -> {status}",
                      why, run_id)
    return int(changed)
