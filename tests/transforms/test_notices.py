"""Printable records round-trip without a My Number; manual manifests and notice rows
account for every member of a plan."""

from __future__ import annotations

import datetime as dt

import polars as pl

from transforms.notices import (
    RECORD_SCHEMA,
    as_records,
    card_residents,
    from_records,
    manual_manifest,
    notice_rows,
    to_records,
)


def residents() -> pl.DataFrame:
    return pl.DataFrame({
        "row": [1, 2], "resident_code": ["12345678901", "12345678902"],
        "household_id": ["H1", "H1"], "relationship": ["世帯主", "子"], "is_head": [True, False],
        "family_name": ["𠮷田", "𠮷田"], "given_name": ["太郎", "花子"],
        "family_name_kana": ["ヨシダ", "ヨシダ"], "given_name_kana": ["タロウ", "ハナコ"],
        "sort_kana": ["ヨシダタロウ", "ヨシダハナコ"], "alias": [None, "Hana"],
        "date_of_birth": [dt.date(1970, 1, 2), dt.date(2001, 3, 4)],
        "date_of_birth_text": ["昭和45年1月2日", "2001-03-04"],
        "sex_code": pl.Series([1, 2], dtype=pl.UInt8), "postal_code": ["1760001", "1760001"],
        "address": ["東京都練馬区練馬1-1", "東京都練馬区練馬1-1"], "address_extra": [None, "101"],
        "my_number": ["123456789012", None],
    })


def test_records_round_trip_and_never_hold_a_number():
    records = to_records(residents())
    assert records.columns == ["resident_code", "record"]
    assert not records["record"].str.contains("123456789012").any()
    back = from_records(records)
    assert back.schema == pl.Schema(RECORD_SCHEMA)
    expected = residents().select(list(RECORD_SCHEMA)).cast(RECORD_SCHEMA)
    assert back.equals(expected)
    assert as_records(residents()).equals(expected)  # the same frame without the JSON trip


def test_missing_keys_decode_as_nulls_and_empty_is_typed():
    records = pl.DataFrame({"resident_code": ["12345678901"],
                            "record": ['{"household_id": "H9", "postal_code": "1760001"}']})
    back = from_records(records)
    assert back["household_id"][0] == "H9" and back["family_name"][0] is None
    assert from_records(records.head(0)).schema == pl.Schema(RECORD_SCHEMA)


def test_card_residents_skips_events_that_print_nothing():
    acc = residents()
    outcomes = pl.DataFrame({"resident_code": ["12345678901", "12345678902"],
                             "outcome": ["already_processed", "issued"],
                             "event": ["death", "birth"]})
    got = card_residents(acc, outcomes, ("issued", "already_processed"))
    assert got["resident_code"].to_list() == ["12345678902"]


def plan() -> pl.DataFrame:
    return pl.DataFrame({
        "resident_code": ["a", "b", "c", "d"], "household_id": ["H1", "H1", "H2", "H2"],
        "envelope_seq": pl.Series([1, 1, 2, 2], dtype=pl.UInt32),
        "batch_id": ["B00001", "B00001", None, None],
        "is_manual": [False, True, True, True], "manual_reason": [None, "undrawable", "x", "x"],
        "registered_mail_number": ["36060000012", "36060000012", "36060000023", "36060000023"],
        "separate_registered_mail_number": [None, "36060000034", None, None],
        "envelope_postal_code": ["1760001"] * 4, "postal_code": ["1760001"] * 4,
    })


def test_manual_manifest_lists_every_hand_made_envelope():
    m = manual_manifest(plan())
    assert m.height == 2
    assert set(m["kind"]) == {"household", "member"}
    assert m.filter(pl.col("kind") == "household")["members"][0] == 2
    assert set(m["registered_mail_number"]) == {"36060000023", "36060000034"}


def test_notice_rows_one_per_member_in_the_envelope_it_travels_in():
    rows = notice_rows(plan())
    assert rows.height == 4
    assert rows["batch_id"].to_list() == ["B00001", "MANUAL", "MANUAL", "MANUAL"]
    assert rows["registered_mail_number"].to_list() == [
        "36060000012", "36060000034", "36060000023", "36060000023"]
