"""Simple-registered-mail number (簡易書留 引受番号): 11 digits, printed ``XXX-XX-XXXXX-X``.

Source: reverse-engineered, not official (Japan Post publishes no specification). The last
digit is the first 10 digits, read as one number, mod 7. A leading digit of 3-4 marks
簡易書留; digits 4-5 of 60-99 mark a sender-printed bulk range, from which the ledger
allocates numbers with `from_serial` / `from_serials`.

>>> from_serial(3606000001)
'36060000012'
>>> format('36060000012')
'360-60-00001-2'
>>> validate('360-60-00001-2')
'36060000012'
>>> is_valid('36060000013')
False
"""

from __future__ import annotations

import numpy as np
import polars as pl

from core.errors import InvalidLength
from transforms.identifiers import (
    ascii_matrix_to_series,
    boolean_series,
    check_digits_only,
    check_with_digit,
    clean,
    digit_matrix,
    passes,
    uint_to_digits,
)

NAME = "registered-mail number"
LENGTH = 11
BODY_LENGTH = 10
SERIAL_LIMIT = 10 ** BODY_LENGTH
#: printed grouping: 3-2-5-1
GROUPS = (3, 2, 5, 1)


def compact(number: str) -> str:
    """Remove ASCII spaces and hyphens and surrounding whitespace."""
    return clean(number)


def calc_check_digit(number: str) -> str:
    """The check digit of the first 10 digits: their value mod 7."""
    body = check_digits_only(clean(number, ""), BODY_LENGTH, f"{NAME} body")
    return str(int(body) % 7)


def validate(number: str) -> str:
    """Check length, then ASCII digits, then the check digit; return the compact form."""
    return check_with_digit(compact(number), LENGTH, NAME, calc_check_digit)


def is_valid(number: object) -> bool:
    """True when ``number`` is a valid registered-mail number."""
    return passes(validate, number)


def format(number: str) -> str:
    """``XXX-XX-XXXXX-X`` (needs 11 ASCII digits; the checksum is not checked)."""
    number = check_digits_only(compact(number), LENGTH, NAME)
    parts, start = [], 0
    for size in GROUPS:
        parts.append(number[start:start + size])
        start += size
    return "-".join(parts)


def from_serial(first10: int) -> str:
    """The full 11-digit number whose first 10 digits are ``first10`` (0 ≤ first10 < 10**10)."""
    if isinstance(first10, bool) or not isinstance(first10, (int, np.integer)):
        raise TypeError(f"expected int, got {type(first10).__name__}")
    first10 = int(first10)
    if not 0 <= first10 < SERIAL_LIMIT:
        raise InvalidLength(f"{NAME}: a serial must be 0 ≤ serial < 10**{BODY_LENGTH}")
    return f"{first10:0{BODY_LENGTH}d}{first10 % 7}"


# --- vectorised ---------------------------------------------------------------------------
def from_serials(first10: object, name: str = "registered_mail_number") -> pl.Series:
    """Vectorised `from_serial`: integers (numpy, polars, a range, a list) → String Series."""
    values = first10.to_numpy() if isinstance(first10, pl.Series) else np.asarray(first10)
    if values.size and not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"expected integers, got dtype {values.dtype}")
    values = values.reshape(-1)
    if values.size and (values.min() < 0 or values.max() >= SERIAL_LIMIT):
        raise InvalidLength(f"{NAME}: a serial must be 0 ≤ serial < 10**{BODY_LENGTH}")
    serials = values.astype(np.uint64)
    digits = np.empty((serials.shape[0], LENGTH), dtype=np.uint8)
    digits[:, :BODY_LENGTH] = uint_to_digits(serials, BODY_LENGTH)
    digits[:, BODY_LENGTH] = serials % np.uint64(7)
    return ascii_matrix_to_series(digits + np.uint8(48), name)


def is_valid_array(values: object) -> np.ndarray:
    """Numpy booleans: which values are valid numbers (compact form; null → False)."""
    digits, ok = digit_matrix(values, LENGTH)
    if digits.shape[0]:
        serials = (digits[:, :BODY_LENGTH].astype(np.uint64)
                   @ (np.uint64(10) ** np.arange(BODY_LENGTH - 1, -1, -1, dtype=np.uint64)))
        ok &= (serials % np.uint64(7)).astype(np.uint8) == digits[:, BODY_LENGTH]
    return ok


def is_valid_series(values: object) -> pl.Series:
    """A Boolean Series: which values are valid numbers (null → False)."""
    return boolean_series(values, is_valid_array(values))
