"""The run's decisions as pure transforms: frames in, frames out, no ledger, no files.

The ledger's answers are given as ``LedgerFacts``; the same cases the row-rule tests run
through the real stages (tests/pipeline/test_row_rules.py) are decided here directly.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from tests.readers.hostile_corpus import my_number, resident_code
from transforms.brought_numbers import COLLISION_HELD, COLLISION_REASON
from transforms.event_decisions import EventParams, decide_events
from transforms.issue_decisions import IssueParams, decide_issue
from transforms.ledger_facts import LedgerFacts
from transforms.numbering import derive_my_numbers

KEY = bytes(range(32))
DAY = dt.date(2026, 11, 26)
A, B, C = (resident_code(f"10000000{i:02d}") for i in (1, 2, 3))
PARAMS = IssueParams("run-b", DAY, KEY)


def derived(code: str) -> str:
    return str(derive_my_numbers(pl.Series([code]), KEY, 0)[0])


def accepted(*rows: tuple[str, bool]) -> pl.DataFrame:
    return pl.DataFrame({"row": list(range(1, len(rows) + 1)), "resident_code": [r[0] for r in rows],
                         "has_my_number": [r[1] for r in rows]}, schema_overrides={"row": pl.UInt32})


def brought(*pairs: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"resident_code": [p[0] for p in pairs], "my_number": [p[1] for p in pairs]},
                        schema={"resident_code": pl.Utf8, "my_number": pl.Utf8})


def outcome_of(decision) -> dict[str, str]:
    return dict(decision.outcomes.select("resident_code", "outcome").iter_rows())


def test_new_residents_are_issued_and_known_ones_are_not_issued_again():
    active = pl.DataFrame({"resident_code": [B, C], "run_id": ["run-a", "run-b"], "generation": [0, 0]})
    decision = decide_issue(accepted((A, False), (B, False), (C, False)), brought(),
                            LedgerFacts(active=active), PARAMS)
    assert outcome_of(decision) == {A: "issued", B: "already_issued", C: "issued"}
    assert dict(decision.outcomes.select("resident_code", "is_reused").iter_rows()) == {A: False, B: False, C: True}
    assert decision.fresh.select("resident_code", "my_number").rows() == [(A, derived(A))]
    assert decision.rejected.height == 0


def test_a_derived_number_the_ledger_holds_for_someone_else_is_held_not_committed():
    foreign = pl.DataFrame({"my_number": [derived(A)], "resident_code": [C]})
    decision = decide_issue(accepted((A, False), (B, False)), brought(), LedgerFacts(foreign=foreign), PARAMS)
    assert outcome_of(decision) == {A: "quarantined", B: "issued"}
    assert decision.fresh["resident_code"].to_list() == [B]
    assert decision.rejected.rows() == [(1, "my_number", COLLISION_HELD)]


def test_a_brought_number_equal_to_anothers_derived_number_holds_both_rows():
    decision = decide_issue(accepted((A, True), (B, False)), brought((A, derived(B))), LedgerFacts(), PARAMS)
    assert outcome_of(decision) == {A: "quarantined", B: "quarantined"}
    assert decision.fresh.height == 0 and decision.to_record.height == 0
    reasons = dict(decision.rejected.select("row", "reason").iter_rows())
    assert reasons[2] == COLLISION_HELD and reasons[1] == COLLISION_REASON.split(": ", 1)[1]


def test_a_new_brought_number_is_kept_and_one_owned_by_someone_else_is_held():
    mine, theirs = my_number("71234567890"), my_number("71234567891")
    owners = pl.DataFrame({"my_number": [theirs], "resident_code": [C], "status": ["active"]})
    decision = decide_issue(accepted((A, True), (B, True)), brought((A, mine), (B, theirs)),
                            LedgerFacts(owners=owners), PARAMS)
    assert outcome_of(decision) == {A: "kept", B: "quarantined"}
    assert decision.to_record.rows() == [(A, mine)]
    assert decision.rejected["row"].to_list() == [2]


def test_the_key_never_shows_in_a_parameter_record():
    assert KEY.hex() not in repr(PARAMS) and str(KEY) not in repr(PARAMS)
    assert KEY.hex() not in repr(EventParams("run-b", KEY))


def test_a_birth_colliding_with_a_move_in_of_the_same_day_holds_both_and_nothing_else():
    events = pl.DataFrame({
        "row": [1, 2, 3], "resident_code": [A, B, C], "event": ["birth", "move_in", "birth"],
        "event_date": [DAY] * 3, "my_number": [None, derived(A), None],
    }, schema_overrides={"row": pl.UInt32, "my_number": pl.Utf8})
    out = decide_events(events, LedgerFacts(), EventParams("run-b", KEY))
    assert dict(out.select("resident_code", "action").iter_rows()) == {A: "quarantine", B: "quarantine",
                                                                       C: "issue"}
    reasons = dict(out.select("resident_code", "reason").iter_rows())
    assert reasons[A] == "my_number: " + COLLISION_HELD and reasons[B] == COLLISION_REASON
