"""Local-government codes: Nerima and well-known codes; vectorised == scalar."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import errors
from tests.helpers.vectors import vector_params
from transforms.identifiers import lg_code


@pytest.mark.parametrize("vector", vector_params("identifiers", "lg_code"))
def test_vectors(vector):
    code, valid = vector["Code"], vector["Valid"] == "yes"
    assert lg_code.is_valid(code) is valid
    if valid:
        assert lg_code.validate(code) == code
        assert lg_code.calc_check_digit(code[:5]) == code[5]
    else:
        with pytest.raises(getattr(errors, vector["Error"])):
            lg_code.validate(code)


def test_nerima():
    assert lg_code.NERIMA == "131202"
    assert lg_code.is_valid(lg_code.NERIMA)
    assert lg_code.format(" 131202 ") == "131202"


def _reference(body: str) -> str:
    """The rule written out independently: CD = (11 - Σ w·d mod 11) mod 10."""
    total = sum(w * int(d) for w, d in zip((6, 5, 4, 3, 2), body, strict=True))
    return str((11 - total % 11) % 10)


@given(st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_rule(body):
    assert lg_code.calc_check_digit(body) == _reference(body)


def test_vectorised_equals_scalar():
    rng = np.random.default_rng(5)
    values = ["".join(map(str, r)) for r in rng.integers(0, 10, size=(3000, 6))]
    values += ["13120", "1312022", None, "13120a"]
    expected = [v is not None and lg_code.is_valid(v) for v in values]
    assert lg_code.is_valid_series(pl.Series(values)).to_list() == expected
    assert sum(expected) > 100
