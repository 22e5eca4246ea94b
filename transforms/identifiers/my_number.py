"""My Number (個人番号, individual number): 12 digits, an 11-digit body and a check digit.

Legal source: 行政手続における特定の個人を識別するための番号の利用等に関する法律 art. 2 and
its 施行令 art. 8; the check digit is set by 総務省令第85号 (2014) art. 5. Number the 11 body
digits from the right, P1 … P11, with weights Qn = n + 1 (n ≤ 6) and n − 5 (n ≥ 7), i.e.
6,5,4,3,2,7,6,5,4,3,2 from the left; r = Σ Pn·Qn mod 11; the check digit is 0 when r ≤ 1,
else 11 − r. A passing check digit proves nothing about whether a number was issued.

>>> validate('1234 5678 9018')
'123456789018'
>>> my_number_check_digit('02345678901')
3
>>> format('983205673214')
'9832 0567 3214'
>>> mask('123456789018')
'********9018'
>>> validate('123456789010')
Traceback (most recent call last):
  ...
core.errors.InvalidChecksum: My Number: the check digit does not match
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import polars as pl

from transforms.identifiers import (
    ascii_matrix_to_series,
    boolean_series,
    check_digits_only,
    check_with_digit,
    clean,
    digit_matrix,
    passes,
    require_str,
    valid_by_check_digits,
    weighted_sum,
)

NAME = "My Number"
LENGTH = 12
BODY_LENGTH = 11
#: weights of the 11 body digits, left to right
WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
#: the 8 characters that replace all but the last 4 digits in `mask`
MASK_PREFIX = "*" * 8


def _cd_from_remainder(r: int) -> int:
    return 0 if r <= 1 else 11 - r


def compact(number: str) -> str:
    """Remove ASCII spaces and hyphens and surrounding whitespace."""
    return clean(number)


def my_number_check_digit(body: str) -> int:
    """The check digit (0-9) of an 11-digit body given as a string of ASCII digits."""
    body = check_digits_only(require_str(body), BODY_LENGTH, f"{NAME} body")
    return _cd_from_remainder(weighted_sum(body, WEIGHTS) % 11)


def calc_check_digit(number: str) -> str:
    """The check digit, as a one-character string, of an 11-digit body."""
    return str(my_number_check_digit(number))


def validate(number: str) -> str:
    """Check length, then ASCII digits, then the check digit; return the compact form."""
    return check_with_digit(compact(number), LENGTH, NAME, calc_check_digit)


def is_valid(number: object) -> bool:
    """True when ``number`` is a valid My Number (any wrong type or value is just False)."""
    return passes(validate, number)


#: the name issue 2 asks for
is_valid_my_number = is_valid


def format(number: str) -> str:
    """``NNNN NNNN NNNN`` (needs 12 ASCII digits; the checksum is not checked)."""
    number = check_digits_only(compact(number), LENGTH, NAME)
    return " ".join((number[0:4], number[4:8], number[8:12]))


def mask(number: str) -> str:
    """``********9012``: all but the last four digits hidden (needs 12 ASCII digits)."""
    number = check_digits_only(compact(number), LENGTH, NAME)
    return MASK_PREFIX + number[-4:]


# --- vectorised ---------------------------------------------------------------------------
_CD_OF_SUM = np.array([_cd_from_remainder(s % 11) for s in range(11 * 9 * 7 + 1)],
                      dtype=np.uint8)


def calc_check_digits(bodies: np.ndarray) -> np.ndarray:
    """Check digits (``uint8``) of an (N, 11) matrix of body digit values 0-9."""
    bodies = np.asarray(bodies)
    if bodies.ndim != 2 or bodies.shape[1] != BODY_LENGTH:
        raise ValueError(f"expected an (N, {BODY_LENGTH}) digit matrix")
    sums = bodies.astype(np.int32) @ np.asarray(WEIGHTS, dtype=np.int32)
    return _CD_OF_SUM[sums]


@lru_cache(maxsize=1)
def _group_tables() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8],
                             npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Weighted sums mod 11 of the 3-, 4- and 4-digit groups of a body, and sum → digit."""
    def table(weights: tuple[int, ...]) -> npt.NDArray[np.uint8]:
        width = len(weights)
        values = np.arange(10 ** width, dtype=np.int64)
        total = np.zeros(10 ** width, dtype=np.int64)
        for k, w in enumerate(weights):
            total += w * ((values // 10 ** (width - 1 - k)) % 10)
        return (total % 11).astype(np.uint8)

    cd = np.array([_cd_from_remainder(s % 11) for s in range(31)], dtype=np.uint8)
    return table(WEIGHTS[0:3]), table(WEIGHTS[3:7]), table(WEIGHTS[7:11]), cd


def check_digits_of_ints(bodies: npt.NDArray[np.unsignedinteger[Any]]) -> npt.NDArray[np.uint8]:
    """Check digits (``uint8``) of bodies given as unsigned integers < 10**11, by lookup in
    three small tables (one per 3/4/4-digit group) and one table from their sum."""
    t_a, t_b, t_c, cd = _group_tables()
    x = np.asarray(bodies, dtype=np.uint64)
    a = x // np.uint64(10 ** 8)
    rest = x - a * np.uint64(10 ** 8)
    b = rest // np.uint64(10 ** 4)
    c = rest - b * np.uint64(10 ** 4)
    total = t_a[a].astype(np.uint8)
    total += t_b[b]
    total += t_c[c]
    # numpy's stubs type indexing by an integer array as Any: a uint8 lookup gives uint8
    return cast("npt.NDArray[np.uint8]", cd[total])


def is_valid_array(values: object) -> np.ndarray:
    """Numpy booleans: which values are valid My Numbers (compact form; null → False)."""
    return valid_by_check_digits(values, LENGTH, calc_check_digits)


def is_valid_series(values: object) -> pl.Series:
    """A Boolean Series: which values are valid My Numbers (compact form; null → False)."""
    return boolean_series(values, is_valid_array(values))


def _reformat_series(values: object,
                     fmt: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]) -> pl.Series:
    digits, ok = digit_matrix(values, LENGTH)
    name = values.name if isinstance(values, pl.Series) else ""
    return ascii_matrix_to_series(fmt(digits + np.uint8(48)), name, ok) if len(ok) else \
        pl.Series(name, [], dtype=pl.String)


def format_series(values: object) -> pl.Series:
    """``NNNN NNNN NNNN`` for each value of 12 ASCII digits; null for anything else."""
    def fmt(ascii_digits: np.ndarray) -> np.ndarray:
        out = np.full((ascii_digits.shape[0], 14), ord(" "), dtype=np.uint8)
        out[:, 0:4], out[:, 5:9], out[:, 10:14] = (ascii_digits[:, 0:4], ascii_digits[:, 4:8],
                                                   ascii_digits[:, 8:12])
        return out
    return _reformat_series(values, fmt)


def mask_series(values: object) -> pl.Series:
    """``********9012`` for each value of 12 ASCII digits; null for anything else."""
    def fmt(ascii_digits: np.ndarray) -> np.ndarray:
        out = np.full((ascii_digits.shape[0], 12), ord("*"), dtype=np.uint8)
        out[:, 8:12] = ascii_digits[:, 8:12]
        return out
    return _reformat_series(values, fmt)
