"""Simple-registered-mail numbers: mod-7 check digit, 3-2-5-1 format, serial allocation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import errors
from tests.helpers.vectors import vector_params
from transforms.identifiers import registered_mail


@pytest.mark.parametrize("vector", vector_params("identifiers", "registered_mail"))
def test_vectors(vector):
    number, valid = vector["Number"], vector["Valid"] == "yes"
    assert registered_mail.is_valid(number) is valid
    if valid:
        assert int(number[:10]) % 7 == int(number[10])  # the rule, independently
        assert registered_mail.validate(number) == number
        assert registered_mail.format(number) == vector["Formatted"]
        assert registered_mail.validate(vector["Formatted"]) == number
        assert registered_mail.from_serial(int(vector["Serial"])) == number
    else:
        with pytest.raises(getattr(errors, vector["Error"])):
            registered_mail.validate(number)


@given(st.integers(0, 10 ** 10 - 1))
def test_from_serial_is_valid(serial):
    number = registered_mail.from_serial(serial)
    assert len(number) == 11 and int(number[:10]) == serial
    assert registered_mail.is_valid(number)
    assert registered_mail.format(number).replace("-", "") == number


def test_from_serial_rejects():
    with pytest.raises(errors.InvalidLength):
        registered_mail.from_serial(10 ** 10)
    with pytest.raises(errors.InvalidLength):
        registered_mail.from_serial(-1)
    for bad in ("3606000001", 1.0, True, None):
        with pytest.raises(TypeError):
            registered_mail.from_serial(bad)


def test_from_serials_equals_scalar():
    serials = np.random.default_rng(2).integers(0, 10 ** 10, 5000)
    serials[:3] = [0, 10 ** 10 - 1, 3606000001]
    series = registered_mail.from_serials(serials)
    assert series.dtype == pl.String and series.name == "registered_mail_number"
    assert series.to_list() == [registered_mail.from_serial(int(s)) for s in serials]
    assert registered_mail.from_serials(range(3606000001, 3606000004)).to_list() == [
        registered_mail.from_serial(s) for s in range(3606000001, 3606000004)]
    assert registered_mail.is_valid_series(series).all()
    assert registered_mail.from_serials([]).to_list() == []
    with pytest.raises(errors.InvalidLength):
        registered_mail.from_serials([5, 10 ** 10])
    with pytest.raises(TypeError):
        registered_mail.from_serials([1.5])


def test_is_valid_series_equals_scalar():
    rng = np.random.default_rng(9)
    values = ["".join(map(str, r)) for r in rng.integers(0, 10, size=(3000, 11))]
    values += [None, "360-60-00001-2", "3606000001"]
    expected = [v is not None and len(v) == 11 and registered_mail.is_valid(v) for v in values]
    assert registered_mail.is_valid_series(pl.Series(values)).to_list() == expected
