"""The sample generator: realistic, deterministic, valid codes, consistent events, honest faults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from stdnum.jp import in_ as stdnum_in

from sample_data.generate import (
    DEFAULT_AS_OF,
    EXPORT_COLUMNS,
    FAULTS,
    EventParams,
    SampleParams,
    generate_events,
    generate_register,
    inject_event_faults,
    inject_faults,
    tables,
    write_export,
)
from transforms.eras import parse_date
from transforms.identifiers import resident_code
from transforms.kana import is_kana_reading

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
RELATIONSHIPS = {"世帯主", "妻", "夫", "子", "父", "母", "孫", "同居人"}


@pytest.fixture(scope="module")
def big() -> pl.DataFrame:
    return generate_register(SampleParams(rows=30_000, seed=9, era_dates=True))


def test_deterministic_by_seed():
    a = generate_register(SampleParams(rows=2000, seed=1, era_dates=True))
    b = generate_register(SampleParams(rows=2000, seed=1, era_dates=True))
    c = generate_register(SampleParams(rows=2000, seed=2, era_dates=True))
    assert a.equals(b) and not a.equals(c)
    assert a.columns == list(EXPORT_COLUMNS) and all(t == pl.Utf8 for t in a.dtypes)


def test_committed_sample_is_what_the_generator_writes(tmp_path):
    """sample_data/register_sample.csv = `mynumber sample OUT --rows 1000 --seed 2015 --rare-rate 0.02`."""
    path = write_export(generate_register(SampleParams(rows=1000, seed=2015, rare_rate=0.02)), tmp_path / "r.csv")
    assert path.read_bytes() == (SAMPLE / "register_sample.csv").read_bytes()


def test_households(big):
    sizes = big.group_by("household_id").len()["len"]
    assert big.height == 30_000
    assert 1.8 <= big.height / sizes.len() <= 2.3          # Nerima: ~2.0 per household
    assert (sizes == 1).mean() > 0.35                      # singles are common
    heads = big.group_by("household_id").agg((pl.col("relationship") == "世帯主").sum().alias("h"))
    assert (heads["h"] == 1).all()
    assert set(big["relationship"]) == RELATIONSHIPS
    # households are contiguous in the export, as registers list them
    runs = big["household_id"].ne_missing(big["household_id"].shift(1)).sum()
    assert runs == sizes.len()


def test_resident_codes_valid_and_unique(big):
    codes = big["resident_code"]
    assert codes.n_unique() == big.height
    assert codes.str.contains(r"^[0-9]{11}$").all()
    assert all(resident_code.is_valid(c) for c in codes.head(2000))  # scalar reference
    assert resident_code.is_valid_series(codes).all()


def test_ages_from_infants_to_over_100(big):
    dob = big.select(parse_date(pl.col("date_of_birth")))["date_of_birth"]
    assert dob.null_count() == 0
    ages = big.select(((pl.lit(DEFAULT_AS_OF) - parse_date(pl.col("date_of_birth"))).dt.total_days() / 365.2425).alias("a"))["a"]
    assert ages.min() >= 0 and ages.min() < 1
    assert ages.max() > 100 and ages.max() < 110
    assert (dob <= DEFAULT_AS_OF).all()


def test_foreign_residents(big):
    latin = big["family_name"].str.contains(r"^[A-Z]+$")
    assert 0.02 < latin.mean() < 0.045
    foreign = big.filter(latin)
    assert foreign["given_name"].str.contains(r"^[A-Z ]+$").all()
    assert foreign["alias"].drop_nulls().len() > 0
    assert big.filter(~latin)["alias"].null_count() == big.filter(~latin).height
    assert big.select(is_kana_reading(pl.col("family_name_kana")))["family_name_kana"].all()
    assert big.select(is_kana_reading(pl.col("given_name_kana")))["given_name_kana"].all()
    assert big["family_name_kana"].str.contains(r"[\uff66-\uff9f]").any()  # some half-width readings


def test_addresses_on_real_towns(big):
    towns = tables()["towns"]
    town_of = dict(zip(towns["postcode"], towns["town"], strict=True))
    sample = big.head(3000)
    for pc, address in zip(sample["postal_code"], sample["address"], strict=True):
        assert town_of[pc.replace("-", "")] in address
    assert sample["address"].str.contains(r"丁目\d+番\d+号$").any()
    assert sample["address"].str.contains(r"\d+-\d+-\d+$").any()
    assert 0.3 < sample["address_extra"].is_not_null().mean() < 0.55
    assert sample["address_extra"].drop_nulls().str.contains(r"\d+号(室)?$").all()


def test_rare_characters_and_cp932():
    rare = generate_register(SampleParams(rows=3000, seed=4, rare_rate=0.5))
    names = set(rare["family_name"])
    assert {"髙橋", "山﨑", "渡邊", "𠮷田", "葛\U000E0100城"} <= names
    safe = generate_register(SampleParams(rows=3000, seed=4, rare_rate=0.5, cp932_safe=True))
    assert "𠮷田" not in set(safe["family_name"]) and "吉田" in set(safe["family_name"])
    safe.write_csv().encode("cp932")  # every character exists in CP932
    with pytest.raises(UnicodeEncodeError):
        rare.write_csv().encode("cp932")


def test_era_dates_use_every_form(big):
    text = big["date_of_birth"]
    assert text.str.contains(r"^(明治|大正|昭和|平成|令和)").any()
    assert text.str.contains(r"^[MTSHR]\d\d\.\d\d\.\d\d$").any()
    assert text.str.contains(r"^[1-5]\d{6}$").any()
    assert text.str.contains(r"^\d{4}-\d\d-\d\d$").any()


def test_faults_manifest():
    frame = generate_register(SampleParams(rows=3000, seed=8))
    faulted, manifest = inject_faults(frame, 0.02, 8)
    assert manifest.columns == ["row", "fault", "field", "origin_row"]
    assert set(manifest["fault"]) == set(FAULTS)
    changed = faulted.with_row_index("row", 1).join(frame.with_row_index("row", 1), on="row", suffix="_orig")
    for col in ("resident_code", "relationship", "date_of_birth", "sex", "postal_code", "given_name"):
        diff = changed.filter(pl.col(col).ne_missing(pl.col(col + "_orig")))["row"]
        assert set(diff) <= set(manifest["row"]), col
    assert inject_faults(frame, 0.0, 8)[0].equals(frame)


def test_events_are_consistent_with_the_register():
    reg = generate_register(SampleParams(rows=4000, seed=12))
    ev = generate_events(reg, EventParams(events=200, seed=12))
    assert ev.height == 200
    assert set(ev["event"]) == {"birth", "move_in", "first_registration", "number_change", "move_out", "death"}
    known = set(reg["resident_code"])
    households = set(reg["household_id"])
    new = ev.filter(pl.col("event").is_in(["birth", "move_in", "first_registration"]))
    old = ev.filter(pl.col("event").is_in(["number_change", "move_out", "death"]))
    assert not set(new["resident_code"]) & known
    assert set(old["resident_code"]) <= known
    assert set(ev.filter(pl.col("event") == "birth")["household_id"]) <= households
    assert ev["resident_code"].n_unique() == ev.height
    assert resident_code.is_valid_series(ev["resident_code"]).all()
    moved_in = ev.filter(pl.col("event") == "move_in")["my_number"]
    assert moved_in.null_count() == 0 and all(stdnum_in.is_valid(n) for n in moved_in)
    assert ev.filter(pl.col("event") != "move_in")["my_number"].null_count() == ev.height - moved_in.len()
    dates = ev.select(parse_date(pl.col("event_date")))["event_date"]
    assert (dates <= DEFAULT_AS_OF).all() and (dates >= DEFAULT_AS_OF - dt.timedelta(days=14)).all()
    births = ev.filter(pl.col("event") == "birth").select(parse_date(pl.col("date_of_birth")), parse_date(pl.col("event_date")))
    assert (births["date_of_birth"] <= births["event_date"]).all()
    heads = ev.group_by("household_id").agg((pl.col("relationship") == "世帯主").sum().alias("h"))
    assert heads["h"].max() <= 1


def test_event_faults():
    reg = generate_register(SampleParams(rows=1000, seed=3))
    ev = generate_events(reg, EventParams(events=50, seed=3))
    bad, manifest = inject_event_faults(ev, 0.1, 3)
    assert set(manifest["fault"]) == {"my_number_check_digit", "unknown_event"}
    rows = manifest.filter(pl.col("fault") == "my_number_check_digit")["row"]
    for r in rows:
        assert not stdnum_in.is_valid(bad["my_number"][r - 1])


def test_committed_events_sample_is_what_the_generator_writes(tmp_path):
    """sample_data/events_sample.csv = `mynumber sample-events OUT --register
    sample_data/register_sample.csv --events 40 --seed 2015`."""
    from readers import read_table

    register = read_table(SAMPLE / "register_sample.csv").frame.drop("row")
    path = write_export(generate_events(register, EventParams(events=40, seed=2015)), tmp_path / "e.csv")
    assert path.read_bytes() == (SAMPLE / "events_sample.csv").read_bytes()


def test_sample_commands(monkeypatch, capsys, tmp_path):
    import sys

    from cli import main as cli

    def run(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["mynumber", *args])
        with pytest.raises(SystemExit) as info:
            cli.main()
        return info.value.code

    out = tmp_path / "r.csv"
    assert run("sample", str(out), "--rows", "300", "--seed", "5", "--encoding", "cp932", "--era-dates",
               "--faults", "0.05", "--rare-rate", "0.3", "--japanese-headers") == 0
    data = out.read_bytes()
    assert data.decode("cp932").startswith("住民票コード,世帯番号,続柄")
    manifest = pl.read_csv(tmp_path / "r.csv.faults.csv")
    assert manifest.columns == ["row", "fault", "field", "origin_row"] and manifest.height >= 15
    assert run("sample", str(out), "--rows", "300", "--seed", "5", "--encoding", "cp932", "--era-dates",
               "--faults", "0.05", "--rare-rate", "0.3", "--japanese-headers") == 0
    assert out.read_bytes() == data  # same options, same bytes
    events = tmp_path / "e.csv"
    assert run("sample-events", str(events), "--register", str(out), "--events", "20", "--faults", "0.1") == 0
    assert pl.read_csv(events, infer_schema=False).height == 20
    assert (tmp_path / "e.csv.faults.csv").exists()
    assert run("sample", str(out), "--encoding", "latin-1") == 2
    assert "encoding" in capsys.readouterr().err
