"""Application-form ids: 23 random digits, unique per call, never from a My Number."""

from __future__ import annotations

import inspect

import numpy as np
import polars as pl
import pytest

from core import errors
from transforms.identifiers import application_id


def test_shape_and_uniqueness():
    ids = application_id.new_application_ids(20_000)
    assert len(ids) == len(set(ids)) == 20_000
    assert all(len(i) == 23 and i.isascii() and i.isdigit() for i in ids)
    assert all(application_id.is_valid(i) for i in ids[:100])


def test_default_source_is_not_reproducible_but_seeded_is():
    assert application_id.new_application_ids(5) != application_id.new_application_ids(5)
    a = application_id.new_application_ids(50, np.random.default_rng(42))
    b = application_id.new_application_ids(50, np.random.default_rng(42))
    assert a == b


def test_digits_look_uniform():
    digits = application_id.new_application_id_matrix(4000) - ord("0")
    counts = np.bincount(digits.ravel(), minlength=10)
    expected = digits.size / 10
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 40  # 9 degrees of freedom: p < 1e-5 for a fair source


def test_duplicates_are_redrawn(monkeypatch):
    calls = {"n": 0}
    real = application_id._random_digits

    def stuck_then_real(n, rng):
        calls["n"] += 1
        if calls["n"] == 1:
            return np.zeros((n, 23), dtype=np.uint8)  # all the same id
        return real(n, rng)

    monkeypatch.setattr(application_id, "_random_digits", stuck_then_real)
    ids = application_id.new_application_ids(5)
    assert len(set(ids)) == 5 and calls["n"] >= 2


def test_no_input_from_a_number():
    params = inspect.signature(application_id.new_application_ids).parameters
    assert list(params) == ["n", "rng"]


def test_arguments():
    assert application_id.new_application_ids(0) == []
    with pytest.raises(ValueError):
        application_id.new_application_ids(-1)
    with pytest.raises(TypeError):
        application_id.new_application_ids(2.0)
    with pytest.raises(TypeError):
        application_id.new_application_ids(2, rng=np.random.RandomState(1))


def test_validate_and_format():
    value = "01234567890123456789012"
    assert application_id.format(value) == "0123 4567 8901 2345 6789 012"
    assert application_id.validate(application_id.format(value)) == value
    assert application_id.calc_check_digit(value) is None
    with pytest.raises(errors.InvalidLength):
        application_id.validate(value[:-1])
    with pytest.raises(errors.InvalidFormat):
        application_id.validate(value[:-1] + "x")


def test_series():
    series = application_id.new_application_id_series(1000, np.random.default_rng(1))
    assert series.dtype == pl.String and series.n_unique() == 1000
    assert series.to_list() == application_id.new_application_ids(1000, np.random.default_rng(1))
    check = application_id.is_valid_series(pl.Series([series[0], None, "1" * 22, "1" * 24]))
    assert check.to_list() == [True, False, False, False]
