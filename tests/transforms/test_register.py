"""normalise_register: canonical columns and dtypes, names untouched, parse failures quarantined."""

from __future__ import annotations

import datetime as dt

import polars as pl

from transforms.register import (
    CANONICAL_SCHEMA,
    EVENT_SCHEMA,
    NormaliseParams,
    empty_canonical,
    normalise_register,
)

COLUMNS = ("resident_code", "household_id", "relationship", "family_name", "given_name",
           "family_name_kana", "given_name_kana", "alias", "date_of_birth", "sex", "postal_code",
           "address", "address_extra", "my_number")


def raw(*rows: dict, events: bool = False) -> pl.DataFrame:
    cols = COLUMNS + (("event", "event_date") if events else ())
    data = {c: [r.get(c) for r in rows] for c in cols}
    frame = pl.DataFrame(data, schema=dict.fromkeys(cols, pl.Utf8))
    return frame.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.UInt32))


BASE = {
    "resident_code": "12345678903", "household_id": "1001", "relationship": "世帯主",
    "family_name": "山田", "given_name": "太郎", "family_name_kana": "ヤマダ", "given_name_kana": "タロウ",
    "date_of_birth": "1980-04-01", "sex": "男", "postal_code": "176-0001", "address": "練馬区練馬1丁目2番3号",
}


def test_schema_is_the_contract():
    out = normalise_register(raw(BASE))
    assert dict(out.frame.schema) == CANONICAL_SCHEMA
    assert out.quarantine.schema == {"row": pl.UInt32, "field": pl.Utf8, "reason": pl.Utf8}
    assert out.quarantine.height == 0
    events = normalise_register(raw({**BASE, "event": "birth", "event_date": "R8.11.20"}, events=True),
                                NormaliseParams(kind="events"))
    assert dict(events.frame.schema) == {**CANONICAL_SCHEMA, **EVENT_SCHEMA}
    assert events.frame["event_date"].to_list() == [dt.date(2026, 11, 20)]
    assert empty_canonical().schema == pl.Schema(CANONICAL_SCHEMA)


def test_names_stay_exactly_as_given():
    names = {"family_name": " 𠮷田", "given_name": "葛\U000E0100子 ", "family_name_kana": "ﾖｼﾀﾞ",
             "given_name_kana": "かずこ", "alias": "YOSHIDA  K", "address": "練馬区 練馬１丁目", "address_extra": " コーポ練馬203号"}
    row = normalise_register(raw({**BASE, **names})).frame.row(0, named=True)
    for key, value in names.items():
        assert row[key] == value
    assert row["sort_kana"] == "ヨシダ\u3000カズコ"


def test_codes_are_folded_to_ascii():
    row = normalise_register(raw({**BASE, "resident_code": " １２３４５６７８９０３\u3000",
                                  "postal_code": "１７６－０００１", "my_number": "1234 5678 9018",
                                  "household_id": " 1001 "})).frame.row(0, named=True)
    assert row["resident_code"] == "12345678903"
    assert row["postal_code"] == "1760001"
    assert row["my_number"] == "123456789018"
    assert row["household_id"] == "1001"


def test_postal_code_other_shapes_are_left_for_the_suite():
    rows = [{**BASE, "postal_code": p} for p in ("1760001", "〒176-0001", "176-001", "1760-001", "〒")]
    assert normalise_register(raw(*rows)).frame["postal_code"].to_list() == ["1760001", "1760001", "176-001", "1760-001", ""]


def test_sex_codes():
    rows = [{**BASE, "sex": s} for s in ("男", "女", "1", "2", " 女 ", "M", "F", "0", "9", "X", "不明")]
    out = normalise_register(raw(*rows))
    assert out.frame["sex_code"].to_list() == [1, 2, 1, 2, 2, 1, 2, 0, 9, None, None]
    assert out.quarantine["row"].to_list() == [10, 11]
    assert set(out.quarantine["field"]) == {"sex"}
    assert all(r.startswith("sex_unrecognised:") for r in out.quarantine["reason"])


def test_dates_keep_their_text():
    rows = [{**BASE, "date_of_birth": d} for d in ("平成27年10月5日", "H27.10.05", "4271005", "1985-02-30", None)]
    out = normalise_register(raw(*rows))
    assert out.frame["date_of_birth"].to_list() == [dt.date(2015, 10, 5)] * 3 + [None, None]
    assert out.frame["date_of_birth_text"].to_list() == ["平成27年10月5日", "H27.10.05", "4271005", "1985-02-30", None]
    assert out.quarantine.rows() == [(4, "date_of_birth", out.quarantine["reason"][0])]
    assert out.quarantine["reason"][0].startswith("date_of_birth_unparseable:")


def test_blank_values_are_missing_and_heads_marked():
    rows = [BASE, {**BASE, "relationship": "\u3000"}, {**BASE, "relationship": "妻"}, {**BASE, "given_name": "  "}]
    out = normalise_register(raw(*rows)).frame
    assert out["relationship"].to_list() == ["世帯主", None, "妻", "世帯主"]
    assert out["is_head"].to_list() == [True, False, False, True]
    assert out["given_name"].to_list() == ["太郎", "太郎", "太郎", None]


def test_events_are_mapped_and_unknown_ones_quarantined():
    rows = [{**BASE, "event": e, "event_date": "2026-11-20"} for e in ("出生", "move_in", "転出", "転居", None)]
    out = normalise_register(raw(*rows, events=True), NormaliseParams(kind="events"))
    assert out.frame["event"].to_list() == ["birth", "move_in", "move_out", None, None]
    assert out.quarantine.select("row", "field").rows() == [(4, "event")]


def test_reasons_never_quote_values():
    rows = [{**BASE, "sex": "SECRET-SEX", "date_of_birth": "SECRET-DATE"}]
    out = normalise_register(raw(*rows))
    assert out.quarantine.height == 2
    assert not any("SECRET" in r for r in out.quarantine["reason"])


def test_row_order_and_numbers_preserved():
    rows = [{**BASE, "resident_code": str(i)} for i in range(50)]
    out = normalise_register(raw(*rows)).frame
    assert out["row"].to_list() == list(range(1, 51))
    assert out["resident_code"].to_list() == [str(i) for i in range(50)]
