"""Envelope planning: one envelope per household, head first, bulk-mail order, never a drop."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from core.errors import InputError
from transforms.households import (
    PlanParams,
    assign_application_ids,
    assign_registered_mail_numbers,
    envelopes,
    mark_manual,
    plan_envelopes,
)


def residents(rows: list[tuple]) -> pl.DataFrame:
    """rows: (resident_code, household_id, is_head, dob, postal_code, address, extra)."""
    cols = ["resident_code", "household_id", "is_head", "date_of_birth", "postal_code",
            "address", "address_extra"]
    frame = pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows],
                         schema={"resident_code": pl.Utf8, "household_id": pl.Utf8,
                                 "is_head": pl.Boolean, "date_of_birth": pl.Date,
                                 "postal_code": pl.Utf8, "address": pl.Utf8,
                                 "address_extra": pl.Utf8})
    return frame.with_row_index("row", offset=1).with_columns(
        family_name=pl.lit("練馬"), given_name=pl.col("resident_code"),
        my_number=pl.lit("123456789018"))


SAMPLE = [
    ("00000000011", "H2", False, date(2010, 1, 1), "1760002", "練馬区桜台1-1", None),
    ("00000000022", "H2", True, date(1980, 1, 1), "1760002", "練馬区桜台1-1", None),
    ("00000000033", "H1", True, date(1970, 5, 5), "1760001", "練馬区練馬1-1", "101"),
    ("00000000044", "H2", False, date(2005, 1, 1), "1760002", "練馬区桜台1-1", None),
    ("00000000055", "H3", True, date(1990, 1, 1), "1760001", "練馬区練馬1-1", None),
]


def test_plan_orders_by_postcode_household_head_then_birth():
    plan = plan_envelopes(residents(SAMPLE))
    assert plan["resident_code"].to_list() == [
        "00000000055", "00000000033", "00000000022", "00000000044", "00000000011"]
    assert plan["envelope_seq"].to_list() == [1, 2, 3, 3, 3]
    assert plan["member_seq"].to_list() == [1, 1, 1, 2, 3]
    assert plan.schema["envelope_seq"] == pl.UInt32
    assert plan.schema["member_seq"] == pl.UInt16
    assert "my_number" not in plan.columns  # the plan holds no My Number
    assert plan["is_manual"].to_list() == [False] * 5


def test_first_envelope_seq_and_issue_date():
    plan = plan_envelopes(residents(SAMPLE), PlanParams(first_envelope_seq=501,
                                                        issue_date=date(2026, 11, 26)))
    assert plan["envelope_seq"].unique().sort().to_list() == [501, 502, 503]
    assert plan["issue_date"].unique().to_list() == [date(2026, 11, 26)]


@pytest.mark.parametrize("is_head_values", [(False, False, False), (True, True, False)])
def test_household_without_exactly_one_head_raises_without_values(is_head_values):
    rows = [list(r) for r in SAMPLE]
    for i, head in zip((0, 1, 3), is_head_values, strict=True):  # the H2 members
        rows[i][2] = head
    with pytest.raises(InputError) as info:
        plan_envelopes(residents([tuple(r) for r in rows]))
    msg = str(info.value)
    assert info.value.field == "is_head" and info.value.row == 1
    assert "H2" not in msg and "0000000001" not in msg and "練馬" not in msg


def test_null_head_flag_is_not_a_head_and_raises():
    frame = residents(SAMPLE).with_columns(
        is_head=pl.when(pl.col("household_id") == "H3").then(None).otherwise(pl.col("is_head")))
    with pytest.raises(InputError, match="1 households"):
        plan_envelopes(frame)


def test_relationship_column_is_enough():
    frame = residents(SAMPLE).with_columns(
        relationship=pl.when(pl.col("is_head")).then(pl.lit("世帯主")).otherwise(pl.lit("子"))
    ).drop("is_head")
    assert plan_envelopes(frame).height == 5


def test_duplicate_resident_code_raises():
    rows = SAMPLE + [SAMPLE[0]]
    with pytest.raises(InputError) as info:
        plan_envelopes(residents(rows))
    assert info.value.field == "resident_code"


def test_missing_column_raises():
    with pytest.raises(InputError) as info:
        plan_envelopes(residents(SAMPLE).drop("postal_code"))
    assert info.value.field == "postal_code"


def test_envelope_goes_to_heads_address_when_members_differ():
    rows = [list(r) for r in SAMPLE]
    rows[0][4], rows[0][5] = "1790085", "練馬区早宮9-9"  # a child registered elsewhere
    plan = plan_envelopes(residents([tuple(r) for r in rows]))
    h2 = plan.filter(pl.col("household_id") == "H2")
    assert h2["envelope_postal_code"].unique().to_list() == ["1760002"]
    assert h2["member_seq"].to_list() == [1, 2, 3]
    # the member keeps the own address for the card
    assert h2.filter(pl.col("resident_code") == "00000000011")["postal_code"].item() == "1790085"


def test_mark_manual_member_and_head():
    plan = plan_envelopes(residents(SAMPLE))
    undrawable = pl.DataFrame({"resident_code": ["00000000044", "00000000033"],
                               "codepoints": ["U+20B9F", "U+E0100"]})
    marked = mark_manual(plan, undrawable)
    got = dict(zip(marked["resident_code"], zip(marked["is_manual"], marked["manual_reason"], strict=True), strict=True))
    assert got["00000000044"] == (True, "undrawable")  # a member: the rest still prints
    assert got["00000000022"] == (False, None)
    assert got["00000000033"] == (True, "undrawable")  # a head alone in the household
    env = envelopes(marked)
    assert env["is_printed"].to_list() == [True, False, True]


def test_manual_head_makes_household_manual():
    plan = plan_envelopes(residents(SAMPLE))
    marked = mark_manual(plan, pl.DataFrame({"resident_code": ["00000000022"]}))
    h2 = marked.filter(pl.col("household_id") == "H2")
    assert h2["is_manual"].to_list() == [True, True, True]
    assert h2["manual_reason"].to_list() == ["undrawable", "head_manual", "head_manual"]
    assert marked.filter(pl.col("household_id") != "H2")["is_manual"].sum() == 0


def test_assign_application_ids_all_and_printed_only():
    plan = plan_envelopes(residents(SAMPLE))
    ids = [f"{i:023d}" for i in range(1, 6)]
    assert assign_application_ids(plan, ids)["application_id"].to_list() == ids
    marked = mark_manual(plan, pl.DataFrame({"resident_code": ["00000000044"]}))
    out = assign_application_ids(marked, ids[:4])
    assert out["application_id"].to_list() == [ids[0], ids[1], ids[2], None, ids[3]]
    with pytest.raises(InputError):
        assign_application_ids(plan, ids[:3])
    with pytest.raises(InputError):
        assign_application_ids(plan, ids[:4] + ["１" * 23])  # full-width digits
    with pytest.raises(InputError):
        assign_application_ids(plan, ids[:4] + [ids[0]])  # not unique


def test_assign_registered_mail_numbers_one_per_envelope():
    plan = plan_envelopes(residents(SAMPLE))
    nums = ["36000000011", "36000000022", "36000000033"]
    out = assign_registered_mail_numbers(plan, nums)
    assert out["registered_mail_number"].to_list() == [nums[0], nums[1]] + [nums[2]] * 3
    assert out["resident_code"].to_list() == plan["resident_code"].to_list()
    marked = mark_manual(plan, pl.DataFrame({"resident_code": ["00000000033"]}))
    out = assign_registered_mail_numbers(marked, nums[:2])
    assert out["registered_mail_number"].to_list() == [nums[0], None] + [nums[1]] * 3
    with pytest.raises(InputError):
        assign_registered_mail_numbers(plan, nums[:1])


def test_empty_household_id_is_an_ordinary_id():
    rows = [list(r) for r in SAMPLE]
    for r in rows:
        if r[1] == "H1":
            r[1] = ""
    plan = plan_envelopes(residents([tuple(r) for r in rows]))
    assert plan["member_seq"].to_list() == [1, 1, 1, 2, 3]
    assert plan["member_seq"].null_count() == 0
