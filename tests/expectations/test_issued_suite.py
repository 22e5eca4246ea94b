"""The issued-number suite: present, 12 ASCII digits, valid check digit, unique; counts only."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
from stdnum.jp import in_ as stdnum_in

from expectations.issued import (
    EXPECTED_EXPECTATIONS,
    SUITE_PATH,
    check_issued_numbers,
    issued_check_frame,
    load_issued_suite,
)
from sample_data.generate import my_numbers, resident_codes


def frame(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({
        "resident_code": resident_codes(rng.permutation(10 ** 6)[:n].astype(np.int64)),
        "my_number": my_numbers(rng.permutation(10 ** 7)[:n].astype(np.int64) * 9973),
    })


def test_suite_loads_whole():
    spec = json.loads(SUITE_PATH.read_text(encoding="utf-8"))
    suite = load_issued_suite()
    assert len(spec["expectations"]) == EXPECTED_EXPECTATIONS == len(suite.expectations)
    assert any(e.expectation_type == "expect_rule_flag_to_be_clear" for e in suite.expectations)


def test_valid_numbers_pass_and_agree_with_stdnum(tmp_path):
    good = frame(500)
    assert all(stdnum_in.is_valid(n) for n in good["my_number"])  # independent oracle
    proof = check_issued_numbers(good, out_dir=tmp_path)
    assert proof["success"] is True and proof["failed_rules"] == [] and proof["rows"] == 500
    assert set(proof["rules"].values()) == {0}


def test_each_failure_is_named(tmp_path):
    good = frame(6, seed=1)
    numbers = good["my_number"].to_list()
    numbers[1] = numbers[0]                                     # shared number
    numbers[2] = numbers[2][:-1] + str((int(numbers[2][-1]) + 1) % 10)  # wrong check digit
    numbers[3] = "１２３４５６７８９０１８"                        # full-width digits
    numbers[4] = None                                           # missing
    codes = good["resident_code"].to_list()
    codes[5] = codes[0]                                         # one resident, two numbers
    bad = pl.DataFrame({"resident_code": codes, "my_number": numbers})
    assert not stdnum_in.is_valid(numbers[2])
    proof = check_issued_numbers(bad, out_dir=tmp_path)
    assert proof["success"] is False
    assert set(proof["failed_rules"]) == {"my_number_unique", "my_number_check_digit", "my_number_format",
                                          "my_number_missing", "resident_code_unique"}
    assert proof["rules"]["my_number_unique"] == 2 and proof["rules"]["resident_code_unique"] == 2
    assert proof["rules"]["my_number_check_digit"] == 1
    text = (tmp_path / "issued_results.json").read_text(encoding="utf-8")
    for value in [n for n in numbers if n] + codes:
        assert value not in text
    assert "partial_unexpected" not in text


def test_check_digit_flag_only_for_well_formed_numbers():
    f = issued_check_frame(pl.DataFrame({"resident_code": ["1", "2", "3"],
                                         "my_number": ["123456789018", "123456789010", "12345"]}))
    assert f["flag__my_number_check_digit"].to_list() == [False, True, False]
