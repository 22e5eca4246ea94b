"""Resident code: the assumed mod-11 rule, the pluggable registry, vectorised == scalar."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.jp import in_ as stdnum_in

from core import errors
from tests.helpers.vectors import vector_params
from transforms.identifiers import resident_code
from transforms.identifiers.resident_code import ResidentCodeRule, get_rule, register_rule

bodies = st.text(alphabet="0123456789", min_size=10, max_size=10)


@pytest.mark.parametrize("vector", vector_params("identifiers", "resident_code"))
def test_vectors(vector):
    code, rule, valid = vector["Code"], vector["Rule"], vector["Valid"] == "yes"
    assert resident_code.is_valid(code, rule) is valid
    if valid:
        assert resident_code.validate(code, rule=rule) == code
        if rule == "mod11":
            # independent check: the My Number rule with a leading zero (weight irrelevant)
            assert stdnum_in.calc_check_digit("0" + code[:10]) == code[10]
    else:
        with pytest.raises(getattr(errors, vector["Error"])):
            resident_code.validate(code, rule=rule)
    assert resident_code.is_valid_series(pl.Series([code]), rule).to_list() == [valid]


@given(bodies)
def test_mod11_matches_stdnum_weights(body):
    cd = resident_code.calc_check_digit(body)
    assert cd == stdnum_in.calc_check_digit("0" + body)
    assert resident_code.is_valid(body + cd)
    assert resident_code.calc_check_digit(body, rule="none") is None


@given(st.lists(st.one_of(st.text(alphabet="0123456789x", min_size=9, max_size=12),
                          st.none()), max_size=50))
def test_vectorised_equals_scalar(values):
    rng = np.random.default_rng(len(values))
    for row in rng.integers(0, 10, size=(6, 10)).astype(str):
        body = "".join(row)
        values.append(body + resident_code.calc_check_digit(body))
    series = pl.Series(values, dtype=pl.String)
    for rule in ("mod11", "none"):
        expected = [v is not None and resident_code.is_valid(v, rule) for v in values]
        assert resident_code.is_valid_series(series, rule).to_list() == expected


def test_matrix_check_digits_agree_with_scalar():
    digits = np.random.default_rng(3).integers(0, 10, size=(500, 10), dtype=np.uint8)
    got = resident_code.calc_check_digits(digits)
    for row, cd in zip(digits, got, strict=True):
        assert resident_code.calc_check_digit("".join(map(str, row))) == str(cd)
    assert resident_code.calc_check_digits(digits, rule="none") is None


def test_registry():
    assert {"mod11", "none"} <= set(resident_code.rule_names())
    assert get_rule().name == resident_code.DEFAULT_RULE == "mod11"
    assert not get_rule("none").has_check_digit
    with pytest.raises(errors.ConfigError) as info:
        get_rule("luhn-please")
    assert "mod11" in str(info.value)
    with pytest.raises(errors.ConfigError):
        resident_code.is_valid("12345678903", rule="no-such-rule")
    with pytest.raises(errors.ConfigError):
        register_rule(ResidentCodeRule("mod11", "again"))


def test_custom_rule_plugs_in():
    def always_seven(body: str) -> str:
        return "7"

    def always_seven_matrix(bodies: np.ndarray) -> np.ndarray:
        return np.full(bodies.shape[0], 7, dtype=np.uint8)

    rule = ResidentCodeRule("test-seven", "every check digit is 7", always_seven,
                            always_seven_matrix)
    register_rule(rule, replace=True)
    assert resident_code.is_valid("12345678907", "test-seven")
    assert not resident_code.is_valid("12345678903", "test-seven")
    assert resident_code.is_valid_series(pl.Series(["12345678907", "12345678903"]),
                                         rule).to_list() == [True, False]
    with pytest.raises(errors.ConfigError):
        register_rule(ResidentCodeRule("half", "broken", always_seven, None))
