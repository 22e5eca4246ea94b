"""Card application-form id (個人番号カード交付申請書ID, 申請書ID): 23 digits, opaque.

Source: its structure is not public (docs/domain.md#application-id). Ours are random: 23 uniformly random
digits, from the operating system's CSPRNG (`secrets`) unless a seeded numpy Generator is
given (tests, reproducible samples), unique within one call, and never derived from a My
Number or any other personal data (no function here takes one). There is no check digit.

>>> validate('0123 4567 8901 2345 6789 012')
'01234567890123456789012'
>>> format('01234567890123456789012')
'0123 4567 8901 2345 6789 012'
>>> ids = new_application_ids(3, np.random.default_rng(7))
>>> len(ids), len(set(ids)), all(len(i) == 23 and i.isdigit() for i in ids)
(3, 3, True)
"""

from __future__ import annotations

import secrets

import numpy as np
import polars as pl

from transforms.identifiers import (
    ascii_matrix_to_series,
    boolean_series,
    check_digits_only,
    clean,
    digit_matrix,
    passes,
)

NAME = "application id"
LENGTH = 23
#: printed grouping: groups of four digits
GROUP = 4


def compact(number: str) -> str:
    """Remove ASCII spaces and hyphens and surrounding whitespace."""
    return clean(number)


def calc_check_digit(number: str) -> None:
    """Application ids have no check digit: always None (kept for the common interface)."""
    check_digits_only(clean(number, ""), LENGTH, NAME)
    return None


def validate(number: str) -> str:
    """Check length, then ASCII digits (there is no checksum); return the compact form."""
    return check_digits_only(compact(number), LENGTH, NAME)


def is_valid(number: object) -> bool:
    """True when ``number`` is 23 ASCII digits (after removing spaces and hyphens)."""
    return passes(validate, number)


def format(number: str) -> str:
    """Groups of four digits separated by spaces: ``NNNN NNNN NNNN NNNN NNNN NNN``."""
    number = validate(number)
    return " ".join(number[i:i + GROUP] for i in range(0, LENGTH, GROUP))


# --- generation ---------------------------------------------------------------------------
def _random_digits(n: int, rng: np.random.Generator | None) -> np.ndarray:
    """An (n, 23) matrix of uniformly random digit values."""
    if rng is not None:
        return rng.integers(0, 10, size=(n, LENGTH), dtype=np.uint8)
    need = n * LENGTH
    out = np.empty(0, dtype=np.uint8)
    while out.size < need:  # rejection sampling: bytes 0..249 map uniformly onto 0..9
        raw = np.frombuffer(secrets.token_bytes(int((need - out.size) * 1.05) + 64),
                            dtype=np.uint8)
        out = np.concatenate([out, raw[raw < 250] % np.uint8(10)])
    return out[:need].reshape(n, LENGTH)


def new_application_id_matrix(n: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """(n, 23) ASCII bytes of n distinct random ids (see `new_application_ids`)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"expected int, got {type(n).__name__}")
    if n < 0:
        raise ValueError("n must be >= 0")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    digits = _random_digits(int(n), rng) + np.uint8(48)
    while True:  # duplicates are astronomically rare (n² / 2·10²³), but never allowed
        rows = digits.view(f"S{LENGTH}").reshape(-1)
        _, first = np.unique(rows, return_index=True)
        if first.size == rows.size:
            return digits
        dup = np.ones(rows.size, dtype=bool)
        dup[first] = False
        digits[dup] = _random_digits(int(dup.sum()), rng) + np.uint8(48)


def new_application_ids(n: int, rng: np.random.Generator | None = None) -> list[str]:
    """``n`` distinct random 23-digit ids, as strings.

    ``rng=None`` draws from `secrets` (production); a numpy ``Generator`` makes the ids
    reproducible (tests, samples). Unique within the call; uniqueness across calls is the
    ledger's job (the chance of a repeat is about n² / 2·10²³).
    """
    raw = new_application_id_matrix(n, rng).tobytes().decode("ascii")
    return [raw[i:i + LENGTH] for i in range(0, len(raw), LENGTH)]


def new_application_id_series(n: int, rng: np.random.Generator | None = None,
                              name: str = "application_id") -> pl.Series:
    """Like `new_application_ids`, as a polars String Series (built from Arrow buffers)."""
    return ascii_matrix_to_series(new_application_id_matrix(n, rng), name)


def is_valid_array(values: object) -> np.ndarray:
    """Numpy booleans: which values are 23 ASCII digits (compact form; null → False)."""
    return digit_matrix(values, LENGTH)[1]


def is_valid_series(values: object) -> pl.Series:
    """A Boolean Series: which values are well-formed ids (null → False)."""
    return boolean_series(values, is_valid_array(values))
