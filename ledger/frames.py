"""Checks on frames before they reach the ledger: shape, format, check digits, duplicates.

The database refuses duplicates by itself; these checks exist so that a bad frame fails
with a message that counts the problem (never quoting a value) before anything is staged.
"""

from __future__ import annotations

import polars as pl

from core.errors import AlreadyIssued, InvalidChecksum, InvalidFormat, LedgerError
from transforms.identifiers.my_number import WEIGHTS as MY_NUMBER_WEIGHTS


def my_number_check_digit_ok(numbers: pl.Expr) -> pl.Expr:
    """Vectorised: True where a 12-digit string carries the statutory check digit."""
    total = pl.sum_horizontal(
        numbers.str.slice(i, 1).cast(pl.Int32, strict=False) * w
        for i, w in enumerate(MY_NUMBER_WEIGHTS)
    )
    r = total % 11
    expected = pl.when(r <= 1).then(0).otherwise(11 - r)
    return numbers.str.slice(11, 1).cast(pl.Int32, strict=False) == expected


def require_columns(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> pl.DataFrame:
    """The frame restricted to the columns a ledger call needs (LedgerError when absent)."""
    if isinstance(frame, pl.DataFrame) is False:
        try:
            frame = pl.from_pandas(frame)
        except Exception:
            raise TypeError(f"{what}: expected a polars DataFrame") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LedgerError(f"{what}: frame lacks column(s) {', '.join(missing)}")
    return frame.select(columns)


def _count(frame: pl.DataFrame, predicate: pl.Expr) -> int:
    return int(frame.select(predicate.sum()).item() or 0)


def check_digits(frame: pl.DataFrame, column: str, width: int, what: str) -> None:
    """Every value is exactly ``width`` ASCII digits (InvalidFormat with a count otherwise)."""
    bad = _count(frame, ~pl.col(column).fill_null("").str.contains(f"^[0-9]{{{width}}}$"))
    if bad:
        raise InvalidFormat(f"{what}: {bad} row(s) have a {column} that is not {width} ASCII digits")


def check_number_frame(frame: pl.DataFrame, what: str, *, with_generation: bool) -> pl.DataFrame:
    """Validate a frame of (resident_code, my_number[, generation]) for a commit.

    Returns it with Utf8 codes and an Int64 generation. Raises InvalidFormat,
    InvalidChecksum, or AlreadyIssued when the frame itself holds a number or a resident
    twice (a collision inside one derived set is as serious as one against the ledger).
    """
    cols = ("resident_code", "my_number", "generation") if with_generation else (
        "resident_code", "my_number")
    frame = require_columns(frame, cols, what).with_columns(
        pl.col("resident_code").cast(pl.Utf8), pl.col("my_number").cast(pl.Utf8)
    )
    if not with_generation:
        frame = frame.with_columns(pl.lit(0, dtype=pl.Int64).alias("generation"))
    else:
        frame = frame.with_columns(pl.col("generation").cast(pl.Int64, strict=False))
        bad = _count(frame, pl.col("generation").is_null() | (pl.col("generation") < 0))
        if bad:
            raise InvalidFormat(f"{what}: {bad} row(s) have no valid generation (integer >= 0)")
    check_digits(frame, "resident_code", 11, what)
    check_digits(frame, "my_number", 12, what)
    bad = _count(frame, ~my_number_check_digit_ok(pl.col("my_number")))
    if bad:
        raise InvalidChecksum(f"{what}: {bad} row(s) have a my_number with a wrong check digit")
    dup_numbers = _count(frame, pl.col("my_number").is_duplicated())
    dup_residents = _count(frame, pl.col("resident_code").is_duplicated())
    if dup_numbers or dup_residents:
        err = AlreadyIssued(
            f"{what}: the set itself repeats numbers or residents "
            f"({dup_numbers} row(s) share a my_number, {dup_residents} row(s) share a "
            "resident_code); nothing was written"
        )
        err.counts = {"duplicate_numbers_in_set": dup_numbers,  # type: ignore[attr-defined]
                      "duplicate_residents_in_set": dup_residents}
        raise err
    return frame
