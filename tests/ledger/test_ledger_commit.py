"""commit_numbers: idempotent, atomic, refusing collisions with counts and never values."""

from __future__ import annotations

import polars as pl
import pytest
import sqlalchemy as sa

from core.errors import AlreadyIssued, InvalidChecksum, InvalidFormat, LedgerError
from ledger import numbers, reporting
from tests.helpers.ledger_data import assert_no_values, derive, number_frame


def _count(ledger, where: str = "1=1") -> int:
    with ledger.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM issued_numbers WHERE {where}")).scalar()


def test_commit_is_idempotent(ledger, run_id):
    frame = number_frame(1000, 500)
    first = numbers.commit(ledger, run_id, frame, "k-1")
    again = numbers.commit(ledger, run_id, frame, "k-1")
    assert (first.inserted, first.already_present) == (500, 0)
    assert (again.inserted, again.already_present) == (0, 500)
    assert _count(ledger) == 500
    active = numbers.active(ledger)
    assert active.sort("resident_code").equals(
        frame.sort("resident_code").with_columns(pl.col("generation").cast(pl.Int64)))
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT DISTINCT key_id FROM issued_numbers")).scalar() == "k-1"


def test_overlapping_sets_insert_only_the_new_rows(ledger, run_id):
    numbers.commit(ledger, run_id, number_frame(0, 300), "k")
    result = numbers.commit(ledger, run_id, number_frame(200, 300), "k")
    assert (result.inserted, result.already_present) == (200, 100)
    assert _count(ledger) == 500


def test_a_number_owned_by_another_resident_refuses_the_whole_set(ledger, run_id):
    numbers.commit(ledger, run_id, number_frame(0, 10), "k")
    fresh = number_frame(100, 1000)
    stolen = fresh.with_columns(  # the last row carries resident 0's number
        pl.when(pl.int_range(pl.len()) == 999).then(pl.lit(derive(pl.Series(["00000000000"]))[0]))
        .otherwise(pl.col("my_number")).alias("my_number"))
    with pytest.raises(AlreadyIssued) as info:
        numbers.commit(ledger, run_id, stolen, "k")
    assert info.value.counts == {"numbers_owned_by_others": 1, "residents_with_other_active": 0}
    assert_no_values(str(info.value))
    assert _count(ledger) == 10  # atomic: none of the 999 good rows was written


def test_a_resident_with_a_different_active_number_is_refused(ledger, run_id):
    numbers.commit(ledger, run_id, number_frame(0, 5), "k")
    other = number_frame(0, 5, generation=3)  # same residents, other numbers
    with pytest.raises(AlreadyIssued) as info:
        numbers.commit(ledger, run_id, other, "k")
    assert info.value.counts["residents_with_other_active"] == 5
    assert_no_values(str(info.value))
    assert _count(ledger) == 5


def test_duplicates_inside_the_set_are_refused(ledger, run_id):
    frame = number_frame(0, 4)
    twice_number = frame.with_columns(pl.col("my_number").gather([0, 0, 2, 3]))
    with pytest.raises(AlreadyIssued) as info:
        numbers.commit(ledger, run_id, twice_number, "k")
    assert info.value.counts["duplicate_numbers_in_set"] == 2
    twice_resident = frame.with_columns(pl.col("resident_code").gather([0, 0, 2, 3]))
    with pytest.raises(AlreadyIssued):
        numbers.commit(ledger, run_id, twice_resident, "k")
    assert _count(ledger) == 0


@pytest.mark.parametrize("bad, error", [
    (lambda n: n[:11] + str((int(n[11]) + 1) % 10), InvalidChecksum),
    (lambda n: n[:11], InvalidFormat),
    (lambda n: "１" + n[1:], InvalidFormat),  # a full-width digit is not an ASCII digit
])
def test_malformed_numbers_never_reach_the_database(ledger, run_id, bad, error):
    frame = number_frame(0, 3)
    broken = frame.with_columns(pl.col("my_number").map_elements(bad, return_dtype=pl.Utf8))
    with pytest.raises(error) as info:
        numbers.commit(ledger, run_id, broken, "k")
    assert_no_values(str(info.value))
    assert _count(ledger) == 0


def test_unknown_run_and_bad_reason_are_refused(ledger, run_id):
    with pytest.raises(LedgerError):
        numbers.commit(ledger, "run-does-not-exist", number_frame(0, 2), "k")
    with pytest.raises(LedgerError):
        numbers.commit(ledger, run_id, number_frame(0, 2), "k", reason="Free text with 12345678901")
    assert _count(ledger) == 0


def test_record_existing_numbers_keeps_move_in_numbers(ledger, run_id):
    kept = number_frame(500, 3).drop("generation")
    result = numbers.record_existing(ledger, run_id, kept)
    assert (result.inserted, result.already_present) == (3, 0)
    assert numbers.record_existing(ledger, run_id, kept).already_present == 3
    assert reporting.stats(ledger)["numbers"] == {"active": {"move_in": 3}}
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM issued_numbers WHERE key_id IS NULL")
                            ).scalar() == 3


def test_lookups_return_frames_in_the_contract_shape(ledger, run_id):
    frame = number_frame(0, 50)
    numbers.commit(ledger, run_id, frame, "k")
    some = numbers.active(ledger, frame["resident_code"].head(5).append(pl.Series(["99999999999"])))
    assert some.columns == ["resident_code", "my_number", "generation"]
    assert some["resident_code"].to_list() == frame["resident_code"].head(5).to_list()
    owners = numbers.owners(ledger, frame["my_number"].tail(3))
    assert owners.columns == ["my_number", "resident_code", "status"]
    assert owners.height == 3 and set(owners["status"]) == {"active"}
    assert numbers.owners(ledger, pl.Series([], dtype=pl.Utf8)).height == 0


def test_audit_log_records_who_did_what(ledger, run_id):
    numbers.commit(ledger, run_id, number_frame(0, 7), "k-9")
    with ledger.write() as w:
        w.audit("note", "manual check", "asked by the auditor", run_id)
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT who, action, subject, why FROM audit_log "
                                    "ORDER BY audit_id")).all()
    actions = [r.action for r in rows]
    assert actions[-2:] == ["commit_numbers", "note"]
    assert {r.who for r in rows} == {"test-operator"}
    for r in rows:
        assert_no_values(f"{r.subject} {r.why}")
    assert "7 number(s) written" in rows[-2].subject and "k-9" in rows[-2].why
