"""The register suite: loaded whole, one polars flag per rule, GX and polars agree, no values out."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from core.errors import ConfigError
from expectations import gx as gxrun
from expectations.register import (
    FLAG_PREFIX,
    SUITE_PATH,
    RuleParams,
    check_frame,
    compute_flags,
    load_register_suite,
    load_rules,
    prepare_check_frame,
    suite_parameters,
)
from transforms.register import NormaliseParams, normalise_register

TODAY = dt.date(2026, 11, 1)
SPEC = json.loads(SUITE_PATH.read_text(encoding="utf-8"))


def test_suite_file_shape():
    assert SPEC["name"] == "register"
    for e in SPEC["expectations"]:
        assert {"rule", "field", "description", "kinds"} <= set(e["meta"])
        assert set(e["meta"]["kinds"]) <= {"register", "events"}
    names = [e["meta"]["rule"] for e in SPEC["expectations"]]
    assert len(names) == len(set(names))
    types = {e["type"] for e in SPEC["expectations"]}
    assert "expect_rule_flag_to_be_clear" in types and "expect_column_values_to_not_be_null" in types


@pytest.mark.parametrize("kind", ["register", "events"])
def test_loaded_suite_keeps_every_expectation(kind):
    """GX silently drops an expectation whose class is not imported: count them."""
    suite = load_register_suite(kind)
    want = [e for e in SPEC["expectations"] if kind in e["meta"]["kinds"]]
    assert len(suite.expectations) == len(want)
    assert [e.meta["rule"] for e in suite.expectations] == [e["meta"]["rule"] for e in want]
    assert sum(e.expectation_type == "expect_rule_flag_to_be_clear" for e in suite.expectations) == sum(
        e["type"] == "expect_rule_flag_to_be_clear" for e in want)


def test_loader_refuses_a_suite_gx_would_shorten(tmp_path):
    spec = dict(SPEC, expectations=SPEC["expectations"] + [
        {"type": "expect_column_values_to_be_a_valid_address", "kwargs": {"column": "address"}, "meta": {}}])
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    gxrun.custom_expectations()
    n = len(SPEC["expectations"])
    with pytest.raises(ConfigError, match=f"loaded {n} of {n + 1}"):
        gxrun.load_suite(path)


def raw(rows: list[dict], events: bool = False) -> pl.DataFrame:
    cols = ["resident_code", "household_id", "relationship", "family_name", "given_name", "family_name_kana",
            "given_name_kana", "alias", "date_of_birth", "sex", "postal_code", "address", "address_extra", "my_number"]
    if events:
        cols += ["event", "event_date"]
    frame = pl.DataFrame({c: [r.get(c) for r in rows] for c in cols}, schema=dict.fromkeys(cols, pl.Utf8))
    return frame.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.UInt32))


OK = {"resident_code": "12345678903", "household_id": "H1", "relationship": "世帯主", "family_name": "練馬",
      "given_name": "花子", "family_name_kana": "ネリマ", "given_name_kana": "ハナコ", "date_of_birth": "1990-01-01",
      "sex": "女", "postal_code": "1760001", "address": "練馬区豊玉北6丁目12番1号"}


def run(rows: list[dict], kind: str = "register", rule: str = "mod11"):
    data = raw(rows, events=kind == "events")
    norm = normalise_register(data, NormaliseParams(kind=kind))
    frame = prepare_check_frame(norm.frame, data)
    return check_frame(frame, RuleParams(kind=kind, resident_code_rule=rule, today=TODAY))


CASES = [
    ("resident_code_missing", {"resident_code": None}),
    ("resident_code_format", {"resident_code": "1234567890"}),
    ("resident_code_check_digit", {"resident_code": "12345678904"}),
    ("my_number_format", {"my_number": "12345678901X"}),
    ("my_number_check_digit", {"my_number": "123456789010"}),
    ("date_of_birth_missing", {"date_of_birth": None}),
    ("date_of_birth_plausible", {"date_of_birth": "2026-11-02"}),
    ("date_of_birth_plausible", {"date_of_birth": "1867-12-31"}),
    ("sex_missing", {"sex": "  "}),
    ("sex_code_valid", {"sex": "9"}),
    ("postal_code_format", {"postal_code": "176-00001"}),
    ("postal_code_missing", {"postal_code": None}),
    ("relationship_missing", {"relationship": None}),
    ("family_name_kana_reading", {"family_name_kana": "繧ｿ繝翫き"}),
    ("given_name_kana_reading", {"given_name_kana": "HANAKO"}),
    ("family_name_damaged", {"family_name": "練\ufffd"}),
    ("given_name_damaged", {"given_name": "花??"}),
    ("address_damaged", {"address": "練馬区\x07"}),
]


@pytest.fixture(scope="module")
def all_cases():
    """One frame, one row per case (own household, own valid code), one suite run."""
    from sample_data.generate import resident_codes

    codes = resident_codes(np.arange(1, len(CASES) + 2, dtype=np.int64) * 7919).to_list()
    rows = [dict(OK, resident_code=codes[0], household_id="H0")]
    for i, (_, change) in enumerate(CASES, start=1):
        rows.append({**OK, "resident_code": codes[i], "household_id": f"H{i}", **change})
    return run(rows)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{r}-{i}" for i, (r, _) in enumerate(CASES)])
def test_each_rule_flags_its_row(all_cases, index):
    rule = CASES[index][0]
    row = index + 2
    hits = all_cases.quarantine.filter(pl.col("row") == row)
    assert rule in {r.split(":")[0] for r in hits["reason"]}
    assert all_cases.counts[rule] == sum(1 for r, _ in CASES if r == rule)
    assert 1 not in set(all_cases.quarantine["row"])


def test_gx_and_polars_agree(all_cases):
    assert all_cases.consistent
    assert not all_cases.outcome.success


def test_clean_rows_pass():
    checked = run([OK, dict(OK, resident_code="02345678908", relationship="子")])
    assert checked.quarantine.height == 0 and checked.outcome.success and checked.consistent


def test_uniqueness_and_heads_hold_back_every_row():
    rows = [OK, dict(OK, relationship="妻"),                                     # H1 fine... but code duplicated
            dict(OK, resident_code="02345678908", household_id="H2"),            # H2: two heads
            dict(OK, resident_code="98320567327", household_id="H2"),
            dict(OK, resident_code="00000000000", household_id="H3", relationship="子")]  # H3: no head
    checked = run(rows)
    q = checked.quarantine
    assert set(q.filter(pl.col("reason").str.starts_with("resident_code_unique"))["row"]) == {1, 2}
    assert set(q.filter(pl.col("reason").str.starts_with("household_one_head"))["row"]) == {3, 4, 5}
    assert checked.consistent


def test_events_allow_households_without_head_but_not_two():
    ev = {"event": "birth", "event_date": "2026-10-30"}
    rows = [dict(OK, relationship="子", **ev),
            dict(OK, resident_code="02345678908", household_id="H2", **ev),
            dict(OK, resident_code="98320567327", household_id="H2", **ev),
            dict(OK, resident_code="00000000000", household_id="H3", event="death", event_date="2026-11-05")]
    checked = run(rows, kind="events")
    q = checked.quarantine
    assert set(q["row"]) == {2, 3, 4}
    assert set(q.filter(pl.col("reason").str.starts_with("household_heads_at_most_one"))["row"]) == {2, 3}
    assert set(q.filter(pl.col("reason").str.starts_with("event_date_plausible"))["row"]) == {4}


def test_flags_exist_for_every_rule_of_both_kinds():
    for kind in ("register", "events"):
        rules = [r for r in load_rules() if kind in r.kinds]
        data = raw([OK], events=kind == "events")
        norm = normalise_register(data, NormaliseParams(kind=kind))
        flags = compute_flags(prepare_check_frame(norm.frame, data), rules, RuleParams(kind=kind, today=TODAY))
        assert flags.columns == [FLAG_PREFIX + r.name for r in rules]


def test_outcomes_hold_counts_never_values(tmp_path):
    secret = dict(OK, family_name="秘密姓", given_name="秘密名", resident_code="55555555555",
                  my_number="999988887777", address="秘密住所", date_of_birth="2099-09-09", sex="Q")
    checked = run([secret, secret])
    path = gxrun.write_outcome(checked.outcome, tmp_path / "gx.json")
    text = path.read_text(encoding="utf-8") + json.dumps(checked.outcome.to_dict(), ensure_ascii=False)
    for value in ("秘密", "55555555555", "999988887777", "2099", "20990909"):
        assert value not in text
    assert "partial_unexpected" not in text
    assert gxrun.RESULT_FORMAT == {"result_format": "SUMMARY", "partial_unexpected_count": 0}


def test_gx_alone_catches_the_rules_it_computes_natively():
    """Independent oracle: GX reads the raw normalised columns (no polars flag given to it)
    and finds duplicated brought numbers, over-long text and events before birth itself."""
    ev = {"event": "birth", "event_date": "2026-10-30"}
    rows = [dict(OK, my_number="123456789018", **ev),
            dict(OK, resident_code="02345678908", household_id="H2", my_number="123456789018", **ev),
            dict(OK, resident_code="98320567327", household_id="H3", family_name="長" * 101, **ev),
            dict(OK, resident_code="00000000000", household_id="H4", event="birth", event_date="1989-12-31")]
    data = raw(rows, events=True)
    frame = prepare_check_frame(normalise_register(data, NormaliseParams(kind="events")).frame, data)
    suite = load_register_suite("events")
    native = gxrun.subset_suite(suite, "native", lambda e: e.meta["rule"] in {
        "my_number_unique", "family_name_length", "event_before_birth"})
    assert not any(c.startswith(FLAG_PREFIX) for c in frame.columns)
    outcome = gxrun.run_suite(frame, native, parameters=suite_parameters(TODAY))
    assert outcome.unexpected_by_rule() == {"my_number_unique": 2, "family_name_length": 1,
                                            "event_before_birth": 1}
