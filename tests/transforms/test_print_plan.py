"""The print plan's rules as a pure transform: no fonts, no ledger, numbers given."""

from __future__ import annotations

import datetime as dt

import polars as pl

from tests.transforms.test_households import SAMPLE, residents
from transforms.print_plan import UNDRAWABLE, PlanRules, finish_plan, mail_numbers_needed, plan_households

DAY = dt.date(2026, 11, 26)
MANUAL_COLUMNS = {"resident_code": pl.Utf8, "field": pl.Utf8, "codepoints": pl.Utf8, "reason": pl.Utf8}


def manual(*rows: tuple[str, str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=MANUAL_COLUMNS, orient="row")


def test_a_manual_member_of_a_printed_envelope_gets_an_envelope_and_a_number_of_their_own():
    hand = manual(("00000000044", "name", "U+20B9F", UNDRAWABLE))
    plan = plan_households(residents(SAMPLE), hand)
    assert mail_numbers_needed(plan) == 3 + 1          # three envelopes, one member sent apart
    numbers = ["36000000011", "36000000022", "36000000033", "36000000044"]
    ids = [f"{i:023d}" for i in range(1, 5)]
    done, listed = finish_plan(plan, hand, ids, numbers, PlanRules(batch_size=2, issue_day=DAY))
    member = done.filter(pl.col("resident_code") == "00000000044").row(0, named=True)
    assert member["is_manual"] and member["separate_registered_mail_number"] == numbers[3]
    assert done["registered_mail_number"].to_list() == [numbers[0], numbers[1]] + [numbers[2]] * 3
    assert done["batch_id"].to_list() == ["B00001", "B00001", "B00002", "B00002", "B00002"]
    assert set(done["issue_date"]) == {DAY}
    assert listed.select("resident_code", "household_id", "batch_id").rows() == [
        ("00000000044", "H2", "B00002")]


def test_a_text_too_long_for_its_box_is_manual_for_that_reason_not_as_undrawable():
    too_long = manual(("00000000055", "address", "", "address does not fit in 2 line(s) at the minimum 7 pt"))
    plan = plan_households(residents(SAMPLE), too_long)
    row = plan.filter(pl.col("resident_code") == "00000000055").row(0, named=True)
    assert row["is_manual"] and row["manual_reason"] == "does_not_fit"


def test_batches_continue_after_the_batches_a_run_folder_already_holds():
    plan = plan_households(residents(SAMPLE), manual())
    numbers = ["36000000011", "36000000022", "36000000033"]
    done, _ = finish_plan(plan, manual(), [f"{i:023d}" for i in range(1, 6)], numbers,
                          PlanRules(batch_size=10, issue_day=DAY, first_batch_no=4))
    assert set(done["batch_id"]) == {"B00004"}
