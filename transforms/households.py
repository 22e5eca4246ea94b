"""Household → envelope planning: one envelope per household, addressed to the head (世帯主).

The print plan is one row per member, household and envelope columns repeated, in bulk-mail
order (docs/architecture.md "Print plan"). Pure polars, no I/O, no My Number.

Decisions (the contract left these open):

- **A household without exactly one head raises** :class:`~core.errors.InputError`
  (field ``is_head``) naming the count and the first input ``row`` — never the household id
  or a name. Osaka 2015 lost 1,977 people because such households were silently dropped; the
  register check quarantines them first, so reaching this error is a pipeline bug. Duplicate
  resident codes and null household ids raise the same way.
- **Envelope address = the head's address.** Members keep their own ``postal_code``,
  ``address`` and ``address_extra`` (their card shows their own registered address); the
  head's are copied to ``envelope_postal_code``, ``envelope_address`` and
  ``envelope_address_extra`` and the plan is sorted by those. The head is always
  ``member_seq`` 1, so "the first row of an envelope" is the head and its address.
- The input ``my_number`` column (move-ins) is dropped: the plan holds no My Number.
- **Manual handling** (:func:`mark_manual`): a member with a character no font draws is
  ``is_manual`` (sent separately). If the **head** is manual, the whole household is manual
  (``manual_reason`` = ``head_manual``): the address sheet must print the head's name and a
  blank box is never allowed, so the household's envelope is prepared by hand.
  Such fully manual envelopes keep their ``envelope_seq`` but get no batch
  (see :mod:`transforms.batching`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import cast

import polars as pl

from core.errors import InputError

HEAD_RELATIONSHIP = "世帯主"
REQUIRED_COLUMNS = ("resident_code", "household_id", "date_of_birth", "postal_code", "address")
_APPLICATION_ID = re.compile(r"[0-9]{23}")
_REGISTERED_MAIL = re.compile(r"[0-9]{11}")


@dataclass(frozen=True)
class PlanParams:
    """Parameters of an envelope plan.

    first_envelope_seq: number of the first envelope (daily runs continue a sequence).
    issue_date: date printed on the cards as the date of issue (null column when None).
    """

    first_envelope_seq: int = 1
    issue_date: date | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.first_envelope_seq < 2**32:
            raise InputError("first_envelope_seq must be between 1 and 2**32-1",
                             field="first_envelope_seq")


def _require_columns(residents: pl.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in residents.columns]
    if "is_head" not in residents.columns and "relationship" not in residents.columns:
        missing.append("is_head")
    if missing:
        raise InputError("required column missing", field=",".join(missing))


def _first_row(frame: pl.DataFrame) -> int | None:
    """1-based input row of the first offending record, for the message (no values)."""
    if "row" in frame.columns and frame.height:
        # "row" is the UInt32 input row number: its min is an int (polars types it broadly)
        return int(cast("int", frame["row"].min()))
    return None


def _with_is_head(residents: pl.DataFrame) -> pl.DataFrame:
    if "is_head" in residents.columns:
        return residents.with_columns(pl.col("is_head").fill_null(False))
    return residents.with_columns(
        is_head=(pl.col("relationship").str.strip_chars() == HEAD_RELATIONSHIP).fill_null(False))


def check_households(residents: pl.DataFrame) -> None:
    """Raise InputError unless every resident is unique and every household has one head.

    Why raise, not drop: a household that vanishes from the plan is a household that is not
    printed and nobody notices (Osaka 2015).
    """
    _require_columns(residents)
    frame = _with_is_head(residents)
    null_hh = frame.filter(pl.col("household_id").is_null())
    if null_hh.height:
        raise InputError(f"{null_hh.height} residents without a household id",
                         row=_first_row(null_hh), field="household_id")
    dup = frame.filter(pl.col("resident_code").is_duplicated())
    if dup.height:
        raise InputError(f"{dup.height} rows share a resident code", row=_first_row(dup),
                         field="resident_code")
    heads = frame.group_by("household_id").agg(heads=pl.col("is_head").sum())
    bad = heads.filter(pl.col("heads") != 1)
    if bad.height:
        bad_rows = frame.join(bad.select("household_id"), on="household_id", how="semi")
        raise InputError(
            f"{bad.height} households ({bad_rows.height} residents) do not have exactly one "
            "head of household (世帯主); quarantine them before planning",
            row=_first_row(bad_rows), field="is_head")


def plan_envelopes(residents: pl.DataFrame, params: PlanParams = PlanParams()) -> pl.DataFrame:
    """Plan one envelope per household, one row per member, in bulk-mail order.

    Steps: check heads and uniqueness (raise, never drop); copy the head's address to the
    envelope columns (m:1 join); sort by envelope postcode, address, extra, household, head
    first, date of birth, resident code; number envelopes (run ids over the sorted
    households) and members; add empty id columns filled later by the assign_* functions.
    """
    check_households(residents)
    frame = _with_is_head(residents)
    if "address_extra" not in frame.columns:
        frame = frame.with_columns(address_extra=pl.lit(None, dtype=pl.Utf8))
    frame = frame.drop([c for c in ("my_number",) if c in frame.columns])
    envelope_address = frame.filter(pl.col("is_head")).select(
        "household_id",
        envelope_postal_code=pl.col("postal_code"),
        envelope_address=pl.col("address"),
        envelope_address_extra=pl.col("address_extra"),
    )
    frame = frame.join(envelope_address, on="household_id", how="left", validate="m:1")
    frame = frame.sort(
        ["envelope_postal_code", "envelope_address", "envelope_address_extra", "household_id",
         "is_head", "date_of_birth", "resident_code"],
        descending=[False, False, False, False, True, False, False],
        nulls_last=[False, False, False, False, False, True, False],
    )  # resident_code is unique, so the order is total: no need to maintain input order
    row = pl.int_range(pl.len(), dtype=pl.UInt32)
    is_start = (pl.col("household_id") != pl.col("household_id").shift(1)).fill_null(True)
    run_start = pl.when(is_start).then(row).forward_fill()
    return frame.with_columns(
        envelope_seq=(pl.col("household_id").rle_id() + params.first_envelope_seq)
        .cast(pl.UInt32),
        member_seq=(row - run_start + 1).cast(pl.UInt16),  # households are contiguous runs
        issue_date=pl.lit(params.issue_date, dtype=pl.Date),
        is_manual=pl.lit(False),
        manual_reason=pl.lit(None, dtype=pl.Utf8),
        application_id=pl.lit(None, dtype=pl.Utf8),
        registered_mail_number=pl.lit(None, dtype=pl.Utf8),
    )


def mark_manual(plan: pl.DataFrame, undrawable: pl.DataFrame) -> pl.DataFrame:
    """Set ``is_manual`` for members with a character no font draws, and ``manual_reason``.

    ``undrawable`` has ``resident_code`` (and e.g. ``codepoints``; only the code is used).
    A manual head makes the whole household manual: the address sheet names the head, and a
    name is never printed with a blank box.
    """
    codes = undrawable.select(pl.col("resident_code").cast(pl.Utf8)).unique()["resident_code"]
    own = pl.col("resident_code").is_in(codes.implode())
    manual_heads = plan.filter(own & (pl.col("member_seq") == 1))["envelope_seq"]
    head_manual = pl.col("envelope_seq").is_in(manual_heads.implode())
    return plan.with_columns(
        is_manual=own | head_manual,
        manual_reason=pl.when(own).then(pl.lit("undrawable"))
        .when(head_manual).then(pl.lit("head_manual"))
        .otherwise(pl.lit(None, dtype=pl.Utf8)),
    )


def _check_ids(values: list[str], pattern: re.Pattern[str], field: str) -> None:
    bad = [i for i, v in enumerate(values, 1) if not isinstance(v, str) or not pattern.fullmatch(v)]
    if bad:
        raise InputError(f"{len(bad)} malformed values", row=bad[0], field=field)
    if len(set(values)) != len(values):
        raise InputError("values are not unique", field=field)


def _printed(plan: pl.DataFrame) -> pl.Expr:
    return ~pl.col("is_manual") if "is_manual" in plan.columns else pl.lit(True)


def assign_application_ids(plan: pl.DataFrame, ids: list[str]) -> pl.DataFrame:
    """Fill ``application_id`` (23 digits, unique), in plan order.

    ``ids`` has one id per member row, or one per printed (non-manual) member, in which case
    manual members get null (their form is prepared by hand).
    """
    _check_ids(ids, _APPLICATION_ID, "application_id")
    printed = _printed(plan)
    n_printed = plan.select(printed.sum()).item()
    if len(ids) == plan.height:
        return plan.with_columns(application_id=pl.Series(ids, dtype=pl.Utf8))
    if len(ids) == n_printed:
        return _fill_where(plan, printed, "application_id", ids)
    raise InputError(f"got {len(ids)} ids for {plan.height} members ({n_printed} printed)",
                     field="application_id")


def _fill_where(frame: pl.DataFrame, where: pl.Expr, column: str, values: list[str]) -> pl.DataFrame:
    """Put ``values`` into ``column`` on the rows where ``where`` holds, in order; null elsewhere."""
    indexed = frame.drop(column, strict=False).with_row_index("_i")
    filled = indexed.filter(where).select("_i").with_columns(
        pl.Series(column, values, dtype=pl.Utf8))
    return (indexed.join(filled, on="_i", how="left", validate="1:1", maintain_order="left")
            .drop("_i"))


def envelopes(plan: pl.DataFrame) -> pl.DataFrame:
    """One row per envelope: ``envelope_seq``, ``household_id``, ``is_printed`` (≥1 member prints)."""
    return (plan.group_by("envelope_seq", maintain_order=True)
            .agg(pl.col("household_id").first(), is_printed=_printed(plan).any())
            .sort("envelope_seq"))


def assign_registered_mail_numbers(plan: pl.DataFrame, numbers: list[str]) -> pl.DataFrame:
    """Fill ``registered_mail_number`` (11 digits, unique), one per envelope in envelope order.

    ``numbers`` has one number per envelope, or one per printed envelope (fully manual
    envelopes then get null: they are numbered when prepared by hand).
    """
    _check_ids(numbers, _REGISTERED_MAIL, "registered_mail_number")
    env = envelopes(plan)
    if len(numbers) == env.height:
        env = env.with_columns(registered_mail_number=pl.Series(numbers, dtype=pl.Utf8))
    elif len(numbers) == int(env["is_printed"].sum()):
        env = _fill_where(env, pl.col("is_printed"), "registered_mail_number", numbers)
    else:
        raise InputError(f"got {len(numbers)} numbers for {env.height} envelopes",
                         field="registered_mail_number")
    return plan.drop("registered_mail_number", strict=False).join(
        env.select("envelope_seq", "registered_mail_number"), on="envelope_seq", how="left",
        validate="m:1", maintain_order="left")
