"""Batching: envelopes never split, ≤ batch_size per batch, every resident exactly once."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InputError
from transforms.batching import assign_batches, batch_summary
from transforms.households import mark_manual, plan_envelopes


@st.composite
def registers(draw):
    """Random households: 1-5 members, exactly one head each, a few postcodes and addresses."""
    n_households = draw(st.integers(1, 40))
    rows, code = [], 0
    for h in range(n_households):
        size = draw(st.integers(1, 5))
        postal = draw(st.sampled_from(["1760001", "1760002", "1790085", "1770041"]))
        address = draw(st.sampled_from(["練馬1-1", "練馬1-2", "桜台3-3"]))
        extra = draw(st.sampled_from([None, "101", "202"]))
        head_at = draw(st.integers(0, size - 1))
        for m in range(size):
            code += 1
            rows.append({"resident_code": f"{code:011d}", "household_id": f"H{h:04d}",
                         "is_head": m == head_at,
                         "date_of_birth": date(1950, 1, 1) + timedelta(days=draw(st.integers(0, 25000))),
                         "postal_code": postal, "address": address, "address_extra": extra})
    order = draw(st.permutations(range(len(rows))))
    return pl.DataFrame([rows[i] for i in order])


@settings(max_examples=60, derandomize=True)
@given(registers(), st.integers(1, 7), st.data())
def test_plan_and_batches_properties(register, batch_size, data):
    manual = data.draw(st.lists(st.sampled_from(register["resident_code"].to_list()), max_size=4))
    plan = mark_manual(plan_envelopes(register), pl.DataFrame({"resident_code": manual},
                                                               schema={"resident_code": pl.Utf8}))
    out = assign_batches(plan, batch_size)
    # every resident exactly once
    assert sorted(out["resident_code"].to_list()) == sorted(register["resident_code"].to_list())
    # one envelope per household, numbered 1..n in order of rows
    assert out["envelope_seq"].n_unique() == register["household_id"].n_unique()
    assert out["envelope_seq"].is_sorted()
    assert out["envelope_seq"].unique().sort().to_list() == list(range(1, out["envelope_seq"].n_unique() + 1))
    heads = out.filter(pl.col("member_seq") == 1)
    assert heads["is_head"].all() and heads.height == out["envelope_seq"].n_unique()
    # bulk-mail order: envelope postcodes non-decreasing
    assert heads["envelope_postal_code"].is_sorted()
    # envelopes never split; batch sizes bounded; printed envelopes all batched
    per_env = out.group_by("envelope_seq").agg(pl.col("batch_no").n_unique(),
                                               printed=(~pl.col("is_manual")).any(),
                                               batch=pl.col("batch_no").first())
    assert (per_env["batch_no"] == 1).all()
    assert per_env.filter(pl.col("printed"))["batch"].null_count() == 0
    assert per_env.filter(~pl.col("printed"))["batch"].null_count() == per_env.filter(~pl.col("printed")).height
    summary = batch_summary(out)
    assert (summary["envelopes"] <= batch_size).all()
    assert summary["envelopes"].sum() == per_env["printed"].sum()
    assert summary["members"].sum() + out.filter(pl.col("batch_no").is_null()).height == out.height
    assert summary["batch_no"].to_list() == list(range(1, summary.height + 1))
    # all batches but the last are full
    assert (summary["envelopes"][:-1] == batch_size).all()
    # deterministic, and independent of input order
    assert assign_batches(plan, batch_size).equals(out)
    shuffled = register.sample(fraction=1.0, shuffle=True, seed=7)
    again = assign_batches(mark_manual(plan_envelopes(shuffled), pl.DataFrame(
        {"resident_code": manual}, schema={"resident_code": pl.Utf8})), batch_size)
    assert again.select("resident_code", "envelope_seq", "batch_id").equals(
        out.select("resident_code", "envelope_seq", "batch_id"))


def test_batch_ids_and_dtypes():
    frame = pl.DataFrame({"resident_code": [f"{i:011d}" for i in range(5)],
                          "household_id": [f"H{i}" for i in range(5)],
                          "is_head": [True] * 5, "date_of_birth": [date(2000, 1, 1)] * 5,
                          "postal_code": ["1760001"] * 5, "address": ["練馬"] * 5})
    out = assign_batches(plan_envelopes(frame), 2)
    assert out["batch_id"].to_list() == ["B00001", "B00001", "B00002", "B00002", "B00003"]
    assert out.schema["batch_no"] == pl.UInt32
    out = assign_batches(plan_envelopes(frame), 2, first_batch_no=10, prefix="D20261126-")
    assert out["batch_id"][0] == "D20261126-00010"
    with pytest.raises(InputError):
        assign_batches(plan_envelopes(frame), 0)


def test_empty_register_gives_an_empty_plan_and_no_batches():
    empty = pl.DataFrame(schema={"resident_code": pl.Utf8, "household_id": pl.Utf8,
                                 "is_head": pl.Boolean, "date_of_birth": pl.Date,
                                 "postal_code": pl.Utf8, "address": pl.Utf8})
    out = assign_batches(plan_envelopes(empty), 10)
    assert out.height == 0 and {"envelope_seq", "member_seq", "batch_id"} <= set(out.columns)
    assert batch_summary(out).height == 0
