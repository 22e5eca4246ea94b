"""Resident code (住民票コード): 11 digits, 10 random digits and a check digit.

Legal source: 住民基本台帳法 art. 7 (xiii) and 30-2; the check digit is set by 総務省告示
第436号 (2002), whose exact text we could not find. The default rule, ``"mod11"``, is an
**assumption**: the My Number rule over the 10 digits (weights 2..7 cycling from the right,
i.e. 5,4,3,2,7,6,5,4,3,2 from the left; r = Σ mod 11; check digit 0 when r ≤ 1, else
11 − r). Rules are pluggable (`register_rule`), and ``"none"`` checks the format only, so
an operator can turn the check off rather than reject real data.

>>> calc_check_digit('1234567890')
'3'
>>> validate('12345678903')
'12345678903'
>>> is_valid('12345678900')
False
>>> is_valid('12345678900', rule='none')
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from core.errors import ConfigError, InvalidChecksum
from transforms.identifiers import (
    boolean_series,
    check_digits_only,
    clean,
    digit_matrix,
    passes,
    weighted_sum,
)

NAME = "resident code"
LENGTH = 11
BODY_LENGTH = 10
DEFAULT_RULE = "mod11"
#: weights of the assumed mod-11 rule, left to right over the 10 body digits
MOD11_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


@dataclass(frozen=True)
class ResidentCodeRule:
    """A check-digit rule: a name, a description for reports, and the two check-digit
    functions (scalar over a 10-digit body string, vectorised over an (N, 10) digit matrix).
    Both are None for a rule that checks the format only."""

    name: str
    description: str
    check_digit: Callable[[str], str] | None = None
    check_digits: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def has_check_digit(self) -> bool:
        return self.check_digit is not None


def _mod11_check_digit(body: str) -> str:
    r = weighted_sum(body, MOD11_WEIGHTS) % 11
    return str(0 if r <= 1 else 11 - r)


_MOD11_CD_OF_SUM = np.array([0 if s % 11 <= 1 else 11 - s % 11 for s in range(9 * 47 + 1)],
                            dtype=np.uint8)


def _mod11_check_digits(bodies: np.ndarray) -> np.ndarray:
    sums = np.asarray(bodies).astype(np.int32) @ np.asarray(MOD11_WEIGHTS, dtype=np.int32)
    return _MOD11_CD_OF_SUM[sums]


_RULES: dict[str, ResidentCodeRule] = {}


def register_rule(rule: ResidentCodeRule, *, replace: bool = False) -> ResidentCodeRule:
    """Make a rule available by name (refuses to replace one unless asked)."""
    if rule.name in _RULES and not replace:
        raise ConfigError(f"resident-code rule {rule.name!r} is already registered")
    if (rule.check_digit is None) != (rule.check_digits is None):
        raise ConfigError("a rule needs both check-digit functions or neither")
    _RULES[rule.name] = rule
    return rule


def rule_names() -> tuple[str, ...]:
    """The names of the registered rules."""
    return tuple(_RULES)


def get_rule(rule: str | ResidentCodeRule = DEFAULT_RULE) -> ResidentCodeRule:
    """The rule of that name (a rule object is returned as is); `ConfigError` if unknown."""
    if isinstance(rule, ResidentCodeRule):
        return rule
    try:
        return _RULES[rule]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown resident-code rule {rule!r}; known: "
                          f"{', '.join(rule_names())}") from None


register_rule(ResidentCodeRule(
    "mod11",
    "assumed: My Number's mod-11 weights over the 10 digits (告示436 text not found)",
    _mod11_check_digit, _mod11_check_digits))
register_rule(ResidentCodeRule("none", "format only: 11 ASCII digits, no check digit"))


def compact(number: str) -> str:
    """Remove ASCII spaces and hyphens and surrounding whitespace."""
    return clean(number)


def calc_check_digit(number: str, rule: str | ResidentCodeRule = DEFAULT_RULE) -> str | None:
    """The check digit of a 10-digit body under ``rule`` (None for a format-only rule)."""
    body = check_digits_only(clean(number, ""), BODY_LENGTH, f"{NAME} body")
    check = get_rule(rule).check_digit
    return None if check is None else check(body)


def validate(number: str, rule: str | ResidentCodeRule = DEFAULT_RULE) -> str:
    """Check length, then ASCII digits, then (if the rule has one) the check digit."""
    the_rule = get_rule(rule)
    number = check_digits_only(compact(number), LENGTH, NAME)
    if the_rule.check_digit is not None and the_rule.check_digit(number[:-1]) != number[-1]:
        raise InvalidChecksum(f"{NAME}: the check digit does not match (rule {the_rule.name})")
    return number


def is_valid(number: object, rule: str | ResidentCodeRule = DEFAULT_RULE) -> bool:
    """True when ``number`` is a valid resident code under ``rule``."""
    the_rule = get_rule(rule)  # an unknown rule is a configuration error, not "invalid"
    return passes(lambda text: validate(text, the_rule), number)


def format(number: str) -> str:
    """The compact 11 digits (resident codes have no printed grouping)."""
    return check_digits_only(compact(number), LENGTH, NAME)


# --- vectorised ---------------------------------------------------------------------------
def is_valid_array(values: object, rule: str | ResidentCodeRule = DEFAULT_RULE) -> np.ndarray:
    """Numpy booleans: which values are valid resident codes (compact form; null → False)."""
    the_rule = get_rule(rule)
    digits, ok = digit_matrix(values, LENGTH)
    if the_rule.check_digits is not None and digits.shape[0]:
        ok &= the_rule.check_digits(digits[:, :BODY_LENGTH]) == digits[:, BODY_LENGTH]
    return ok


def is_valid_series(values: object, rule: str | ResidentCodeRule = DEFAULT_RULE) -> pl.Series:
    """A Boolean Series: which values are valid resident codes (null → False)."""
    return boolean_series(values, is_valid_array(values, rule))


def calc_check_digits(bodies: np.ndarray,
                      rule: str | ResidentCodeRule = DEFAULT_RULE) -> np.ndarray | None:
    """Check digits of an (N, 10) digit matrix under ``rule`` (None for a format-only rule)."""
    check = get_rule(rule).check_digits
    return None if check is None else check(np.asarray(bodies))
