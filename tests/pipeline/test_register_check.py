"""check_register_file and `mynumber check`: every row accepted or quarantined, faults caught,
nothing personal written, exit codes 0/1/2."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ConfigError, InputError
from pipeline.stages.register_check import check_register_file
from sample_data.generate import (
    DEFAULT_AS_OF,
    EventParams,
    SampleParams,
    generate_events,
    generate_register,
    inject_event_faults,
    inject_faults,
    write_export,
)
from transforms.register import CANONICAL_SCHEMA, EVENT_SCHEMA

TODAY = DEFAULT_AS_OF
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def register() -> pl.DataFrame:
    return generate_register(SampleParams(rows=1500, seed=31, era_dates=True, rare_rate=0.05))


@pytest.fixture(scope="module")
def faulted(register, tmp_path_factory):
    frame, manifest = inject_faults(register, 0.04, 31, TODAY)
    out = tmp_path_factory.mktemp("faulted")
    path = write_export(frame, out / "register.csv")
    result = check_register_file(path, today=TODAY, out_dir=out / "check")
    return frame, manifest, result, out


def test_clean_register_is_all_accepted(register, tmp_path):
    path = write_export(register, tmp_path / "r.csv", japanese_headers=True, bom=True)
    result = check_register_file(path, today=TODAY)
    assert result.report["outcomes"] == {"accepted": 1500, "quarantined": 0}
    assert result.quarantine.height == 0
    assert dict(result.accepted.schema) == CANONICAL_SCHEMA
    assert result.accepted["family_name"].to_list() == register["family_name"].to_list()  # untouched
    assert result.report["suite_consistent"] is True


def test_cp932_export(tmp_path):
    frame = generate_register(SampleParams(rows=400, seed=5, rare_rate=0.3, cp932_safe=True))
    path = write_export(frame, tmp_path / "r.csv", encoding="cp932")
    result = check_register_file(path, today=TODAY)
    assert result.report["encoding"] == "cp932"
    assert result.report["outcomes"]["accepted"] == 400
    assert not result.accepted["family_name"].str.contains("𠮷").any()


def test_every_fault_is_caught_and_nothing_else(faulted):
    frame, manifest, result, _ = faulted
    quarantined = set(result.quarantine["row"].to_list())
    assert quarantined == set(manifest["row"].to_list())
    assert set(manifest["fault"]) >= {"resident_code_check_digit", "duplicate_resident_code",
                                      "blank_head_relationship", "two_heads", "bad_date", "future_date",
                                      "mojibake", "bad_postal_code", "bad_sex", "blank_given_name",
                                      "my_number_check_digit"}
    report = result.report
    assert report["input_rows"] == frame.height
    assert sum(report["outcomes"].values()) == frame.height
    assert report["outcomes"]["quarantined"] == len(quarantined)
    assert report["suite_consistent"] is True


@pytest.mark.parametrize("fault, rules", [
    ("resident_code_check_digit", {"resident_code_check_digit", "resident_code_unique"}),
    ("duplicate_resident_code", {"resident_code_unique"}),
    ("blank_head_relationship", {"household_one_head", "relationship_missing"}),
    ("two_heads", {"household_one_head"}),
    ("bad_date", {"date_of_birth_unparseable"}),
    ("future_date", {"date_of_birth_plausible"}),
    ("mojibake", {"family_name_kana_reading"}),
    ("bad_postal_code", {"postal_code_format"}),
    ("bad_sex", {"sex_unrecognised", "sex_code_valid"}),
    ("blank_given_name", {"given_name_missing"}),
    ("my_number_check_digit", {"my_number_check_digit"}),
])
def test_each_fault_is_caught_by_its_rule(faulted, fault, rules):
    _, manifest, result, _ = faulted
    rows = manifest.filter(pl.col("fault") == fault)["row"]
    assert rows.len() > 0
    hits = result.quarantine.filter(pl.col("row").is_in(rows.implode())).with_columns(
        pl.col("reason").str.split(":").list.first().alias("rule"))
    for row in rows.to_list():
        assert set(hits.filter(pl.col("row") == row)["rule"]) & rules, (fault, row)


def test_duplicates_hold_back_both_rows_and_households_all_members(faulted):
    frame, manifest, result, _ = faulted
    q = result.quarantine
    dup_rows = q.filter(pl.col("reason").str.starts_with("resident_code_unique"))["row"].unique()
    codes = frame.with_row_index("row", 1).filter(pl.col("row").is_in(dup_rows.implode()))["resident_code"]
    assert codes.value_counts()["count"].min() >= 2  # every duplicated code: all its rows
    head_rows = q.filter(pl.col("reason").str.starts_with("household_one_head"))["row"].unique()
    households = frame.with_row_index("row", 1).filter(pl.col("row").is_in(head_rows.implode()))["household_id"].unique()
    members = frame.with_row_index("row", 1).filter(pl.col("household_id").is_in(households.implode()))["row"]
    assert set(members.to_list()) == set(head_rows.to_list())


def test_written_files_carry_no_register_values(faulted):
    frame, _, result, out = faulted
    written = list((out / "check").iterdir())
    assert {p.name for p in written} == {"report.json", "quarantine.csv", "gx_results.json"}
    text = "\n".join(p.read_text(encoding="utf-8") for p in written)
    values: set[str] = set()
    for col in ("resident_code", "household_id", "family_name_kana", "given_name_kana", "address",
                "address_extra", "alias", "my_number", "date_of_birth"):
        values |= set(frame[col].drop_nulls().to_list())
    full_names = (frame["family_name"] + frame["given_name"]).drop_nulls().to_list()
    values |= set(full_names) | {v for v in frame["family_name"].drop_nulls() if len(v) >= 2}
    leaked = [v for v in values if len(v) >= 2 and v in text]
    assert leaked == []
    assert json.loads((out / "check" / "report.json").read_text())["outcomes"] == result.report["outcomes"]
    q = pl.read_csv(out / "check" / "quarantine.csv")
    assert q.columns == ["row", "field", "reason"]


def test_today_is_injectable(tmp_path, register):
    frame = register.head(3).with_columns(pl.lit(None, dtype=pl.Utf8).alias("my_number"))
    frame = frame.with_columns(pl.Series("date_of_birth", ["2030-01-01", "1867-12-31", "1868-01-01"]))
    frame = frame.with_columns(pl.Series("relationship", ["世帯主", "世帯主", "世帯主"]),
                               pl.Series("household_id", ["a", "b", "c"]))
    path = write_export(frame, tmp_path / "r.csv")
    early = check_register_file(path, today=dt.date(2029, 12, 31))
    late = check_register_file(path, today=dt.date(2030, 1, 1))
    assert early.quarantine["row"].unique().sort().to_list() == [1, 2]
    assert late.quarantine["row"].unique().to_list() == [2]
    assert early.report["rules"]["date_of_birth_plausible"] == 2


def test_resident_code_rule_none(tmp_path, register):
    frame = register.head(1).with_columns(
        (pl.col("resident_code").str.slice(0, 10) + ((pl.col("resident_code").str.slice(10).cast(pl.Int32) + 1) % 10).cast(pl.Utf8)).alias("resident_code"),
        pl.lit("世帯主").alias("relationship"))
    path = write_export(frame, tmp_path / "r.csv")
    assert check_register_file(path, today=TODAY).report["outcomes"]["quarantined"] == 1
    assert check_register_file(path, today=TODAY, resident_code_rule="none").report["outcomes"]["accepted"] == 1
    with pytest.raises(ConfigError):
        check_register_file(path, resident_code_rule="luhn")


def test_committed_samples_are_clean():
    reg = check_register_file(SAMPLE / "register_sample.csv", today=dt.date(2026, 11, 26))
    assert reg.report["outcomes"] == {"accepted": 1000, "quarantined": 0}
    ev = check_register_file(SAMPLE / "events_sample.csv", kind="events", today=dt.date(2026, 11, 26))
    assert ev.report["outcomes"]["quarantined"] == 0 and ev.report["input_rows"] == 40
    assert dict(ev.accepted.schema) == {**CANONICAL_SCHEMA, **EVENT_SCHEMA}
    assert set(ev.accepted["event"]) <= {"birth", "move_in", "first_registration", "number_change", "move_out", "death"}


def test_events_faults(tmp_path, register):
    events = generate_events(register, EventParams(events=60, seed=4))
    events, manifest = inject_event_faults(events, 0.1, 4)
    path = write_export(events, tmp_path / "e.csv")
    result = check_register_file(path, kind="events", today=TODAY)
    assert set(result.quarantine["row"].to_list()) == set(manifest["row"].to_list())
    assert result.report["rules"]["my_number_check_digit"] >= 1
    assert result.report["rules"]["event_unrecognised"] >= 1


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from cli import main as cli

    monkeypatch.setattr(sys, "argv", ["mynumber", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_cli_exit_codes(monkeypatch, capsys, tmp_path, faulted):
    _, _, _, out = faulted
    code, stdout, _ = run_cli(monkeypatch, capsys, "check", str(SAMPLE / "register_sample.csv"),
                              "--out", str(tmp_path / "ok"), "--today", "2026-11-26")
    assert code == 0 and "1000" in stdout
    assert (tmp_path / "ok" / "report.json").exists()
    code, stdout, _ = run_cli(monkeypatch, capsys, "check", str(out / "register.csv"), "--out", str(tmp_path / "bad"),
                              "--today", TODAY.isoformat())
    assert code == 1 and "household_one_head" in stdout
    code, _, err = run_cli(monkeypatch, capsys, "check", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv" in err and "Traceback" not in err
    (tmp_path / "hdr.csv").write_text("resident_code,household_id\n1,2\n", encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, "check", str(tmp_path / "hdr.csv"))
    assert code == 2 and "required column" in err


def test_unusable_file_raises(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(InputError):
        check_register_file(tmp_path / "e.csv")


HEADER = ("resident_code,household_id,relationship,family_name,given_name,family_name_kana,"
          "given_name_kana,date_of_birth,sex,postal_code,address")
cell = st.one_of(
    st.sampled_from(["", " ", "世帯主", "子", "12345678903", "H27.10.05", "男", "女", "176-0001", "ﾔﾏﾀﾞ",
                     "\"quoted, comma\"", "\"", "\r", "\ufffd", "𠮷", "葛\U000E0100"]),
    st.text(max_size=8),
)
row = st.lists(cell, min_size=0, max_size=14).map(lambda cells: ",".join(c.replace("\n", " ") for c in cells))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=0, max_size=12), encoding=st.sampled_from(["utf-8", "cp932", "junk"]))
def test_any_file_ends_in_a_result_or_one_input_error(tmp_path, rows, encoding):
    """A bad file never produces a traceback: either every row is accounted for, or InputError."""
    text = "\n".join([HEADER, *rows]) + "\n"
    if encoding == "junk":
        data = text.encode("utf-8") + bytes(range(0x80, 0xA0)) * 3
    else:
        data = text.encode(encoding, errors="replace")
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    try:
        result = check_register_file(path, today=TODAY)
    except InputError as exc:
        assert str(exc).startswith(f"file {path}")
        return
    report = result.report
    assert report["outcomes"]["accepted"] + report["outcomes"]["quarantined"] == report["input_rows"]
    assert result.accepted.height == report["outcomes"]["accepted"]
    held, passed = set(result.quarantine["row"]), set(result.accepted["row"])
    assert not held & passed and len(held | passed) == report["input_rows"]
    assert report["suite_consistent"]
