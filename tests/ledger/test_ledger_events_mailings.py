"""Events count once; envelopes are recorded idempotently; tracking numbers are never reused."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa

from core.errors import ConfigError, InvalidFormat, LedgerError
from core.settings import DEMO_MAIL_RANGE
from ledger import events, mailings, notices, reporting, runs
from ledger import numbers as ledger_numbers
from ledger.mailings import check_range, parse_range
from tests.helpers.ledger_data import codes, number_frame
from transforms.identifiers import registered_mail

DEFAULT_RANGE = parse_range(DEMO_MAIL_RANGE)


def _events(n: int, day: str = "2026-11-25") -> pl.DataFrame:
    return pl.DataFrame({"row": pl.int_range(1, n + 1, eager=True), "resident_code": codes(0, n),
                         "event": ["birth"] * n, "event_date": [day] * n})


def test_a_daily_file_counts_once(ledger, run_id):
    first = events.record(ledger, run_id, _events(40))
    assert first.height == 40 and first.columns == ["row", "resident_code", "event", "event_date"]
    assert first.schema["event_date"] == pl.Date
    assert events.record(ledger, run_id, _events(40)).height == 0
    # tomorrow's file repeats 40 old events and brings 10 new ones
    tomorrow = pl.concat([_events(40), _events(50).tail(10)])
    new = events.record(ledger, run_id, tomorrow)
    assert new["resident_code"].to_list() == codes(40, 10).to_list()
    # the same resident and event on another day is another event
    assert events.record(ledger, run_id, _events(1, "2026-11-26")).height == 1
    assert reporting.stats(ledger)["events"] == {"birth": 51}


def test_events_need_their_keys(ledger, run_id):
    with pytest.raises(LedgerError):
        events.record(ledger, run_id, _events(2).drop("event"))
    with pytest.raises(InvalidFormat):
        events.record(ledger, run_id, _events(2).with_columns(pl.lit(None).alias("event_date")))


def _mailings(numbers: list[str], batch: str = "B00001") -> pl.DataFrame:
    n = len(numbers)
    return pl.DataFrame({"household_id": [f"H{i:05d}" for i in range(n)], "batch_id": [batch] * n,
                         "envelope_seq": list(range(1, n + 1)), "registered_mail_number": numbers})


def test_allocated_numbers_are_valid_unique_and_never_reused(ledger, run_id):
    a = mailings.allocate(ledger, 500, run_id, configured_range=DEMO_MAIL_RANGE)
    b = mailings.allocate(ledger, 300)
    both = a + b
    assert len(set(both)) == 800
    assert all(registered_mail.is_valid(n) for n in both)
    assert a[0] == registered_mail.from_serial(DEFAULT_RANGE[0])
    assert b[0] == registered_mail.from_serial(DEFAULT_RANGE[0] + 500)  # the cursor moved on
    assert mailings.allocate(ledger, 0) == []
    with ledger.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM registered_mail_numbers")).scalar()
    assert stored == 800
    # writing an already handed-out number again is refused by the schema itself
    with pytest.raises(sa.exc.IntegrityError), ledger.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO registered_mail_numbers VALUES (:n, 1, CURRENT_TIMESTAMP)"),
                     {"n": a[0]})


def test_no_range_at_all_is_refused_never_a_built_in_one(ledger):
    with pytest.raises(ConfigError, match="mail-range"):
        mailings.allocate(ledger, 1)
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM registered_mail_numbers")).scalar() == 0


def test_a_configured_range_is_added_once(ledger):
    a = mailings.allocate(ledger, 2, configured_range="3706000000-3706000009")
    b = mailings.allocate(ledger, 2, configured_range="3706000000-3706000009")
    assert a + b == [registered_mail.from_serial(3706000000 + i) for i in range(4)]
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM mail_number_ranges")).scalar() == 1


def test_ranges_run_out_all_or_nothing_and_new_ranges_are_used(ledger):
    first = mailings.add_range(ledger, 3706000000, 3706000009)
    assert mailings.allocate(ledger, 8) == [
        registered_mail.from_serial(3706000000 + i) for i in range(8)]
    with pytest.raises(LedgerError):
        mailings.allocate(ledger, 5)  # only 2 left: nothing handed out
    second = mailings.add_range(ledger, 3706000100, 3706000199)
    got = mailings.allocate(ledger, 5)
    assert got[:2] == [registered_mail.from_serial(3706000008), registered_mail.from_serial(3706000009)]
    assert got[2] == registered_mail.from_serial(3706000100)
    assert second > first
    with pytest.raises(ConfigError):
        mailings.add_range(ledger, 3706000150, 3706000300)  # overlaps the second range


@pytest.mark.parametrize("first, last", [(1606000000, 1606000010), (3601000000, 3601000010),
                                         (3606000010, 3606000000), (3606000000, 3616000000)])
def test_ranges_must_look_sender_printed(first, last):
    with pytest.raises(ConfigError):
        check_range(first, last)


def _envelopes_with_cards(ledger, run_id, n: int, batch: str = "B00001",
                          start: int = 0) -> list[str]:
    """n envelopes of one card each: numbers issued, envelopes and their notices planned."""
    ledger_numbers.commit(ledger, run_id, number_frame(start, n), "k")
    rmns = mailings.allocate(ledger, n, run_id, configured_range=DEMO_MAIL_RANGE)
    plan = _mailings(rmns, batch)
    assert mailings.record(ledger, run_id, plan).inserted == n
    notices.record(ledger, run_id, plan.with_columns(
        resident_code=codes(start, n), is_manual=pl.lit(False)))
    return rmns


def test_mailings_are_idempotent_and_their_status_follows_their_notices(ledger, run_id):
    rmns = _envelopes_with_cards(ledger, run_id, 6)
    again = mailings.record(ledger, run_id, _mailings(rmns))
    assert (again.inserted, again.already_present) == (0, 6)
    assert reporting.stats(ledger)["mailings"] == {"planned": 6}
    assert notices.mark_batch(ledger, run_id, "B00001", "printed", "QA passed") == 6
    notices.transition(ledger, rmns, "mailed", "handed to the post office")
    notices.transition(ledger, rmns[:3], "delivered", "delivered")
    notices.transition(ledger, rmns[3:5], "held", "absent", via="returned")
    notices.transition(ledger, rmns[3:4], "re_sent", "sent again")
    # delivered envelopes read as delivered (they read as printed before), one vocabulary
    assert reporting.stats(ledger)["mailings"] == {
        "mailed": 1, "delivered": 3, "held": 1, "re_sent": 1}
    with ledger.read() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        columns = {c["name"] for c in sa.inspect(conn).get_columns("mailings")}
    assert "mailing_history" not in tables and not {"status", "updated_at"} & columns


def test_an_envelope_of_voided_cards_reads_voided_and_one_without_cards_no_notice(ledger, run_id):
    rmns = _envelopes_with_cards(ledger, run_id, 2)
    notices.mark_batch(ledger, run_id, "B00001", "voided", "QA failed", void_reason="qa_failed")
    bare = mailings.allocate(ledger, 1, run_id)
    mailings.record(ledger, run_id, _mailings(bare, "B00002"))
    assert reporting.stats(ledger)["mailings"] == {"voided": 2, "no_notice": 1}
    assert len(rmns) == 2


def test_batch_ids_restart_in_every_run(ledger, run_id):
    first = mailings.allocate(ledger, 4, run_id, configured_range=DEMO_MAIL_RANGE)
    mailings.record(ledger, run_id, _mailings(first))
    daily = runs.start(ledger, "daily", "1" * 64, {})
    second = mailings.allocate(ledger, 2, daily)
    assert mailings.record(ledger, daily, _mailings(second)).inserted == 2  # B00001 again
    with pytest.raises(LedgerError):  # but never a tracking number twice
        mailings.record(ledger, daily, _mailings(first[:1], batch="B00009"))
    assert reporting.stats(ledger)["mailings"] == {"no_notice": 6}


def test_a_tracking_number_on_two_envelopes_is_refused(ledger, run_id):
    numbers = mailings.allocate(ledger, 3, run_id, configured_range=DEMO_MAIL_RANGE)
    mailings.record(ledger, run_id, _mailings(numbers))
    clash = _mailings(numbers[:1], batch="B00002")  # same tracking number, other envelope
    with pytest.raises(LedgerError):
        mailings.record(ledger, run_id, clash)
    moved = _mailings(numbers).with_columns(pl.lit("HXXXXX").alias("household_id"))
    with pytest.raises(LedgerError):
        mailings.record(ledger, run_id, moved)
    with pytest.raises(LedgerError):
        mailings.record(ledger, run_id, _mailings([numbers[0], numbers[0]], batch="B00003"))
    assert sum(reporting.stats(ledger)["mailings"].values()) == 3


def test_runs_are_found_and_finished(ledger):
    sha = "a" * 64
    assert runs.find(ledger, "bulk", sha) is None
    first = runs.start(ledger, "bulk", sha, {"batch_size": 100})
    runs.finish(ledger, first, "failed", {"committed": 0})
    second = runs.start(ledger, "bulk", sha, {"batch_size": 100})
    found = runs.find(ledger, "bulk", sha)
    assert found["run_id"] == second and found["status"] == "running"
    assert found["params"] == {"batch_size": 100} and found["operator"] == "test-operator"
    runs.finish(ledger, second, "succeeded", {"committed": 5})
    done = runs.find(ledger, "bulk", sha)
    assert done["counts"] == {"committed": 5} and isinstance(done["finished_at"], dt.datetime)
    with pytest.raises(LedgerError):
        runs.finish(ledger, "run-none", "succeeded", {})
    with pytest.raises(LedgerError):
        runs.finish(ledger, second, "great", {})
