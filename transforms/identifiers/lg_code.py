"""Local-government code (地方公共団体コード, 団体コード): 6 digits, 5 digits and a check digit.

Legal source: 総務省 全国地方公共団体コード (JIS X 0401 prefecture code + JIS X 0402 city
code, with the check digit of 自治省告示 昭和43年). Weights 6,5,4,3,2 over the first five
digits; check digit = (11 − Σ mod 11) mod 10. Nerima ward is 131202.

>>> calc_check_digit('13120')
'2'
>>> validate('131202')
'131202'
>>> is_valid('131203')
False
"""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.identifiers import (
    boolean_series,
    check_digits_only,
    check_with_digit,
    clean,
    passes,
    valid_by_check_digits,
    weighted_sum,
)

NAME = "local-government code"
LENGTH = 6
BODY_LENGTH = 5
WEIGHTS = (6, 5, 4, 3, 2)
#: Nerima ward, Tokyo
NERIMA = "131202"


def compact(number: str) -> str:
    """Remove ASCII spaces and hyphens and surrounding whitespace."""
    return clean(number)


def calc_check_digit(number: str) -> str:
    """The check digit of a 5-digit body."""
    body = check_digits_only(clean(number, ""), BODY_LENGTH, f"{NAME} body")
    return str((11 - weighted_sum(body, WEIGHTS) % 11) % 10)


def validate(number: str) -> str:
    """Check length, then ASCII digits, then the check digit; return the compact form."""
    return check_with_digit(compact(number), LENGTH, NAME, calc_check_digit)


def is_valid(number: object) -> bool:
    """True when ``number`` is a valid local-government code."""
    return passes(validate, number)


def format(number: str) -> str:
    """The compact 6 digits."""
    return check_digits_only(compact(number), LENGTH, NAME)


def calc_check_digits(bodies: np.ndarray) -> np.ndarray:
    """Check digits (``uint8``) of an (N, 5) matrix of digit values."""
    sums = np.asarray(bodies).astype(np.int32) @ np.asarray(WEIGHTS, dtype=np.int32)
    return ((11 - sums % 11) % 10).astype(np.uint8)


def is_valid_array(values: object) -> np.ndarray:
    """Numpy booleans: which values are valid codes (compact form; null → False)."""
    return valid_by_check_digits(values, LENGTH, calc_check_digits)


def is_valid_series(values: object) -> pl.Series:
    """A Boolean Series: which values are valid codes (null → False)."""
    return boolean_series(values, is_valid_array(values))
