"""My Number: worked examples, python-stdnum as an oracle, vectorised == scalar."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.jp import in_ as stdnum_in

from core import errors
from tests.helpers.vectors import vector_params
from transforms.identifiers import is_valid_my_number, my_number, my_number_check_digit

bodies = st.text(alphabet="0123456789", min_size=11, max_size=11)
# strings near the format: 10-13 chars drawn from digits, a few letters and odd digits
near = st.text(alphabet="0123456789 -a３²", min_size=10, max_size=13)


@pytest.mark.parametrize("vector", vector_params("identifiers", "my_number"))
def test_vectors(vector):
    number = vector["Number"]
    assert my_number.is_valid(number) is (vector["Valid"] == "yes")
    assert is_valid_my_number(number) is (vector["Valid"] == "yes")
    if vector["Valid"] == "yes":
        assert my_number.validate(number) == number
        assert my_number_check_digit(number[:11]) == int(number[11])
        assert my_number.calc_check_digit(number[:11]) == number[11]
    else:
        with pytest.raises(getattr(errors, vector["Error"])):
            my_number.validate(number)
    assert my_number.is_valid_series(pl.Series([number])).to_list() == [vector["Valid"] == "yes"]


def test_domain_examples_keep_leading_zero():
    assert my_number_check_digit("02345678901") == 3
    assert my_number.format("023456789013") == "0234 5678 9013"
    assert my_number.mask("023456789013") == "********9013"
    assert my_number.mask("1234 5678 9012") == "********9012"


def test_compact_and_validate_accept_separators():
    assert my_number.compact(" 1234-5678 9018 ") == "123456789018"
    assert my_number.validate("1234 5678 9018") == "123456789018"


def test_error_messages_do_not_echo_the_value():
    for bad in ("123456789010", "12345678901X", "1234567890"):
        with pytest.raises(errors.ValidationError) as info:
            my_number.validate(bad)
        assert bad not in str(info.value)
    with pytest.raises(errors.ValidationError) as info:
        my_number.mask("98765")
    assert "98765" not in str(info.value)


@given(bodies)
def test_check_digit_matches_stdnum(body):
    assert my_number.calc_check_digit(body) == stdnum_in.calc_check_digit(body)
    full = body + stdnum_in.calc_check_digit(body)
    assert my_number.is_valid(full) and stdnum_in.is_valid(full)
    assert my_number.format(full) == stdnum_in.format(full)


@given(near)
def test_is_valid_matches_stdnum_on_near_misses(text):
    ours = my_number.is_valid(text)
    # stdnum strips the same separators; it accepts non-ASCII digits via isdigit, we do not
    theirs = stdnum_in.is_valid(text) and my_number.compact(text).isascii()
    assert ours == theirs


@settings(max_examples=25)
@given(st.lists(st.one_of(bodies, near, st.none()), min_size=0, max_size=60),
       st.integers(0, 2 ** 32 - 1))
def test_vectorised_equals_scalar(values, seed):
    rng = np.random.default_rng(seed)
    # add valid numbers so that every batch has both outcomes
    for body in rng.integers(0, 10, size=(8, 11)).astype(str):
        b = "".join(body)
        values.append(b + my_number.calc_check_digit(b))
    series = pl.Series("n", values, dtype=pl.String)
    expected = [v is not None and v.isascii() and len(v) == 12 and my_number.is_valid(v)
                for v in values]
    assert my_number.is_valid_series(series).to_list() == expected
    assert my_number.is_valid_series(series).name == "n"


def test_vectorised_check_digits_agree():
    rng = np.random.default_rng(1)
    digits = rng.integers(0, 10, size=(20_000, 11), dtype=np.uint8)
    ints = digits.astype(np.uint64) @ (np.uint64(10) ** np.arange(10, -1, -1, dtype=np.uint64))
    by_matrix = my_number.calc_check_digits(digits)
    by_tables = my_number.check_digits_of_ints(ints)
    assert (by_matrix == by_tables).all()
    for row, cd in zip(digits[:300], by_matrix[:300], strict=True):
        assert stdnum_in.calc_check_digit("".join(map(str, row))) == str(cd)
    edge = np.array([0, 10 ** 11 - 1], dtype=np.uint64)
    assert my_number.check_digits_of_ints(edge).tolist() == [
        int(stdnum_in.calc_check_digit("0" * 11)), int(stdnum_in.calc_check_digit("9" * 11))]


def test_format_and_mask_series():
    series = pl.Series("my_number", ["123456789018", None, "12345", "023456789013"])
    assert my_number.format_series(series).to_list() == [
        "1234 5678 9018", None, None, "0234 5678 9013"]
    assert my_number.mask_series(series).to_list() == ["********9018", None, None, "********9013"]
    assert my_number.format_series(pl.Series([], dtype=pl.String)).to_list() == []


def test_series_of_other_types():
    assert my_number.is_valid_series(pl.Series([None, None])).to_list() == [False, False]
    with pytest.raises(TypeError):
        my_number.is_valid_series(pl.Series([123456789018]))
    assert my_number.is_valid_series(["123456789018"]).to_list() == [True]
