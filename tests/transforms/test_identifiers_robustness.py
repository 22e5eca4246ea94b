"""Every validator treats junk as simply invalid (after python-stdnum's robustness tests)."""

from __future__ import annotations

import polars as pl
import pytest

from core import errors
from transforms.identifiers import (
    application_id,
    is_valid_my_number,
    lg_code,
    my_number,
    registered_mail,
    resident_code,
)

JUNK = [None, "", 0, object(), "€", "３", "3²", b"123456789018", 123456789018, ["1"],
        "１２３４５６７８９０１８",  # full-width My Number
        "12345678901²", "1234567890１８", "\u0661" * 12]

VALIDATORS = {
    "my_number": (my_number.validate, my_number.is_valid),
    "is_valid_my_number": (my_number.validate, is_valid_my_number),
    "resident_code/mod11": (lambda v: resident_code.validate(v, "mod11"),
                            lambda v: resident_code.is_valid(v, "mod11")),
    "resident_code/none": (lambda v: resident_code.validate(v, "none"),
                           lambda v: resident_code.is_valid(v, "none")),
    "lg_code": (lg_code.validate, lg_code.is_valid),
    "registered_mail": (registered_mail.validate, registered_mail.is_valid),
    "application_id": (application_id.validate, application_id.is_valid),
}


@pytest.mark.parametrize("name", VALIDATORS)
@pytest.mark.parametrize("value", JUNK, ids=lambda v: type(v).__name__ if type(v) is object
                         else ascii(v))
def test_junk_is_invalid(name, value):
    validate, is_valid = VALIDATORS[name]
    assert is_valid(value) is False
    expected = (errors.ValidationError,) if isinstance(value, str) else (TypeError,)
    with pytest.raises(expected):
        validate(value)


@pytest.mark.parametrize("module", [my_number, resident_code, lg_code, registered_mail,
                                    application_id])
def test_series_junk_is_invalid(module):
    strings = [v for v in JUNK if isinstance(v, str)] + [None]
    assert module.is_valid_series(pl.Series(strings, dtype=pl.String)).to_list() == \
        [False] * len(strings)


@pytest.mark.parametrize("module", [my_number, resident_code, lg_code, registered_mail,
                                    application_id])
def test_every_module_has_the_common_interface(module):
    for name in ("compact", "calc_check_digit", "validate", "is_valid", "format",
                 "is_valid_series"):
        assert callable(getattr(module, name)), name


@pytest.mark.parametrize("module", [my_number, resident_code, lg_code, registered_mail,
                                    application_id])
def test_docstring_examples(module):
    import doctest

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
