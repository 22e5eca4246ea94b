"""Envelopes and their 簡易書留 tracking numbers: allocation, the envelope row, its status.

An envelope (``mailings``) is only its row: household, batch, sequence and registered-mail
number. Its life is that of the notices (cards) in it (``ledger.notices``): its status is
derived from them (``status_of``), in the notices' one vocabulary, never stored twice.

Tracking numbers come from sender-printed ranges the post office assigns. Each allocation
moves a range's cursor and inserts every number it hands out into a table whose primary key
is the number, inside one serialised transaction: two processes can never get the same
number, and a number is never handed out again, even if a range is entered twice.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import sqlalchemy as sa

from core.errors import ConfigError, LedgerError
from transforms.identifiers.registered_mail import from_serials

from . import staging
from .frames import check_digits, require_columns
from .handle import LedgerHandle, WriteContext
from .numbers import CommitResult
from .schema import (
    NOTICE_STATUSES,
    mail_number_ranges,
    mailings,
    notices,
    registered_mail_numbers,
)

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


def add_range(handle: LedgerHandle, first_body: int | str, last_body: int | str) -> int:
    """Register a range; refuses one overlapping a range already known."""
    first, last = int(first_body), int(last_body)
    check_range(first, last)
    with handle.write("mail_number_ranges") as w:
        return _add_range(w, first, last, w.now())


def _add_range(w: WriteContext, first: int, last: int, now: datetime) -> int:
    conn = w.conn
    overlap = conn.execute(sa.select(sa.func.count()).where(
        R.c.first_body <= last, R.c.last_body >= first)).scalar_one()
    if overlap:
        raise ConfigError("this registered-mail range overlaps a range already in the ledger")
    range_id = conn.execute(sa.insert(R).values(
        first_body=first, last_body=last, next_body=first, created_at=now)
        .returning(R.c.range_id)).scalar_one()
    w.audit("add_mail_range", f"range {range_id}: {last - first + 1} numbers", "", None)
    return int(range_id)


def allocate(handle: LedgerHandle, n: int, run_id: str | None = None, *,
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
    with handle.write("mail_number_ranges") as w:
        conn, now = w.conn, w.now()
        if configured_range:
            first, last = parse_range(configured_range)
            known = conn.execute(sa.select(sa.func.count()).select_from(R).where(
                R.c.first_body == first, R.c.last_body == last)).scalar_one()
            if not known:
                _add_range(w, first, last, now)
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
            staging.load(conn, registered_mail_numbers, frame)
        except sa.exc.IntegrityError:
            raise LedgerError("a registered-mail number in this range was handed out before; "
                              "nothing allocated") from None
        w.audit("allocate_mail_numbers", f"{n} registered-mail number(s)", "", run_id)
    return numbers.to_list()


MAILING_COLUMNS = ("household_id", "batch_id", "envelope_seq", "registered_mail_number")


def record(handle: LedgerHandle, run_id: str, frame: pl.DataFrame) -> CommitResult:
    """Insert this run's envelopes not yet recorded; the same rows again add nothing.

    Envelopes are identified by (run, batch_id, envelope_seq) because batch ids restart in
    every run. An envelope already recorded with another household or tracking number, or
    a tracking number already on another envelope (of any run), refuses the whole set.
    """
    frame = require_columns(frame, MAILING_COLUMNS, "record_mailings").with_columns(
        pl.col("household_id").cast(pl.Utf8), pl.col("batch_id").cast(pl.Utf8),
        pl.col("envelope_seq").cast(pl.Int64), pl.col("registered_mail_number").cast(pl.Utf8))
    check_digits(frame, "registered_mail_number", 11, "record_mailings")
    dups = frame.select(pl.struct("batch_id", "envelope_seq").is_duplicated().sum()
                        + pl.col("registered_mail_number").is_duplicated().sum()).item()
    if dups:
        raise LedgerError(f"record_mailings: {dups} row(s) repeat an envelope or tracking number")
    stage = staging.stage_table("ledger_stage_mailings", {
        "household_id": sa.String(64), "batch_id": sa.String(32), "envelope_seq": sa.Integer,
        "registered_mail_number": sa.String(11)})
    s, m = stage.c, mailings.c
    with handle.write("mailings") as w:
        conn = w.conn
        staging.create_and_load(conn, stage, frame)
        same_env = sa.and_(m.run_id == run_id, m.batch_id == s.batch_id,
                           m.envelope_seq == s.envelope_seq)
        same_num = m.registered_mail_number == s.registered_mail_number
        present = staging.count(conn, sa.select(s.batch_id).join(
            mailings, sa.and_(same_env, same_num, m.household_id == s.household_id)))
        clash = staging.count(conn, sa.select(s.batch_id).join(mailings, sa.or_(same_env, same_num)))
        if clash != present:
            raise LedgerError(f"record_mailings refused, nothing written: {clash - present} "
                              "envelope(s) or tracking number(s) already recorded differently")
        conn.execute(sa.insert(mailings).from_select(
            ["household_id", "batch_id", "envelope_seq", "registered_mail_number", "run_id",
             "created_at"],
            sa.select(s.household_id, s.batch_id, s.envelope_seq, s.registered_mail_number,
                      sa.literal(run_id), sa.literal(w.now(), m.created_at.type))
            .where(~sa.exists().where(same_env))))
        inserted = frame.height - present
        staging.drop(conn, stage)
        w.audit("record_mailings", f"{inserted} envelope(s) recorded, {present} already present",
                "", run_id)
    return CommitResult(inserted=inserted, already_present=present)


# --- the envelope's status, derived from its notices ------------------------------------
#: an envelope with no notice at all (recorded before notices existed, migration 0004)
NO_NOTICE = "no_notice"
#: the lifecycle order of a card; an envelope is where its least advanced live card is
_LIVE_ORDER = tuple(s for s in NOTICE_STATUSES if s != "voided")
#: every status an envelope can show: the notices' vocabulary, plus ``no_notice``
ENVELOPE_STATUSES = (*NOTICE_STATUSES, NO_NOTICE)


def status_of() -> sa.Subquery:
    """[mailing_id, registered_mail_number, status]: each envelope's status from its notices.

    The least advanced of its notices that are not voided (the cards of one envelope move
    together, so they agree unless one was pulled); ``voided`` when every notice is;
    ``no_notice`` when it has none."""
    n = notices.c
    rank = sa.case(*((n.status == s, i) for i, s in enumerate(_LIVE_ORDER)), else_=None)
    per = (sa.select(n.registered_mail_number, sa.func.min(rank).label("rank"),
                     sa.func.count().label("cards"))
           .group_by(n.registered_mail_number).subquery("per_envelope"))
    status = sa.case((per.c.cards.is_(None), NO_NOTICE), (per.c.rank.is_(None), "voided"),
                     *((per.c.rank == i, s) for i, s in enumerate(_LIVE_ORDER)),
                     else_=NO_NOTICE)
    m = mailings.c
    return (sa.select(m.mailing_id, m.registered_mail_number, status.label("status"))
            .select_from(mailings.outerjoin(
                per, per.c.registered_mail_number == m.registered_mail_number))
            .subquery("envelope_status"))


def status_counts(conn: sa.Connection) -> dict[str, int]:
    """Envelopes by derived status (counts only), in lifecycle order."""
    derived = status_of()
    got = {str(st): int(k) for st, k in conn.execute(
        sa.select(derived.c.status, sa.func.count()).group_by(derived.c.status)).all()}
    return {st: got[st] for st in ENVELOPE_STATUSES if st in got}
