"""Events count once; envelopes are recorded idempotently; tracking numbers are never reused."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa

from core.errors import ConfigError, InvalidFormat, LedgerError
from core.settings import DEMO_MAIL_RANGE
from ledger.mailings import check_range, parse_range
from tests.helpers.ledger_data import codes
from transforms.identifiers import registered_mail

DEFAULT_RANGE = parse_range(DEMO_MAIL_RANGE)


def _events(n: int, day: str = "2026-11-25") -> pl.DataFrame:
    return pl.DataFrame({"row": pl.int_range(1, n + 1, eager=True), "resident_code": codes(0, n),
                         "event": ["birth"] * n, "event_date": [day] * n})


def test_a_daily_file_counts_once(ledger, run_id):
    first = ledger.record_events(run_id, _events(40))
    assert first.height == 40 and first.columns == ["row", "resident_code", "event", "event_date"]
    assert first.schema["event_date"] == pl.Date
    assert ledger.record_events(run_id, _events(40)).height == 0
    # tomorrow's file repeats 40 old events and brings 10 new ones
    tomorrow = pl.concat([_events(40), _events(50).tail(10)])
    new = ledger.record_events(run_id, tomorrow)
    assert new["resident_code"].to_list() == codes(40, 10).to_list()
    # the same resident and event on another day is another event
    assert ledger.record_events(run_id, _events(1, "2026-11-26")).height == 1
    assert ledger.stats()["events"] == {"birth": 51}


def test_events_need_their_keys(ledger, run_id):
    with pytest.raises(LedgerError):
        ledger.record_events(run_id, _events(2).drop("event"))
    with pytest.raises(InvalidFormat):
        ledger.record_events(run_id, _events(2).with_columns(pl.lit(None).alias("event_date")))


def _mailings(numbers: list[str], batch: str = "B00001") -> pl.DataFrame:
    n = len(numbers)
    return pl.DataFrame({"household_id": [f"H{i:05d}" for i in range(n)], "batch_id": [batch] * n,
                         "envelope_seq": list(range(1, n + 1)), "registered_mail_number": numbers})


def test_allocated_numbers_are_valid_unique_and_never_reused(ledger, run_id):
    a = ledger.allocate_registered_mail_numbers(500, run_id, configured_range=DEMO_MAIL_RANGE)
    b = ledger.allocate_registered_mail_numbers(300)
    both = a + b
    assert len(set(both)) == 800
    assert all(registered_mail.is_valid(n) for n in both)
    assert a[0] == registered_mail.from_serial(DEFAULT_RANGE[0])
    assert b[0] == registered_mail.from_serial(DEFAULT_RANGE[0] + 500)  # the cursor moved on
    assert ledger.allocate_registered_mail_numbers(0) == []
    with ledger.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM registered_mail_numbers")).scalar()
    assert stored == 800
    # writing an already handed-out number again is refused by the schema itself
    with pytest.raises(sa.exc.IntegrityError), ledger.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO registered_mail_numbers VALUES (:n, 1, CURRENT_TIMESTAMP)"),
                     {"n": a[0]})


def test_no_range_at_all_is_refused_never_a_built_in_one(ledger):
    with pytest.raises(ConfigError, match="mail-range"):
        ledger.allocate_registered_mail_numbers(1)
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM registered_mail_numbers")).scalar() == 0


def test_a_configured_range_is_added_once(ledger):
    a = ledger.allocate_registered_mail_numbers(2, configured_range="3706000000-3706000009")
    b = ledger.allocate_registered_mail_numbers(2, configured_range="3706000000-3706000009")
    assert a + b == [registered_mail.from_serial(3706000000 + i) for i in range(4)]
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM mail_number_ranges")).scalar() == 1


def test_ranges_run_out_all_or_nothing_and_new_ranges_are_used(ledger):
    first = ledger.add_mail_number_range(3706000000, 3706000009)
    assert ledger.allocate_registered_mail_numbers(8) == [
        registered_mail.from_serial(3706000000 + i) for i in range(8)]
    with pytest.raises(LedgerError):
        ledger.allocate_registered_mail_numbers(5)  # only 2 left: nothing handed out
    second = ledger.add_mail_number_range(3706000100, 3706000199)
    got = ledger.allocate_registered_mail_numbers(5)
    assert got[:2] == [registered_mail.from_serial(3706000008), registered_mail.from_serial(3706000009)]
    assert got[2] == registered_mail.from_serial(3706000100)
    assert second > first
    with pytest.raises(ConfigError):
        ledger.add_mail_number_range(3706000150, 3706000300)  # overlaps the second range


@pytest.mark.parametrize("first, last", [(1606000000, 1606000010), (3601000000, 3601000010),
                                         (3606000010, 3606000000), (3606000000, 3616000000)])
def test_ranges_must_look_sender_printed(first, last):
    with pytest.raises(ConfigError):
        check_range(first, last)


def test_mailings_are_idempotent_and_change_status_with_history(ledger, run_id):
    numbers = ledger.allocate_registered_mail_numbers(6, run_id, configured_range=DEMO_MAIL_RANGE)
    plan = _mailings(numbers)
    assert ledger.record_mailings(run_id, plan).inserted == 6
    again = ledger.record_mailings(run_id, plan)
    assert (again.inserted, again.already_present) == (0, 6)
    assert ledger.set_mailing_status("printed", batch_id="B00001", run_id=run_id) == 6
    assert ledger.set_mailing_status("returned", registered_mail_numbers=numbers[:2],
                                     why="absent past the hold") == 2
    assert ledger.set_mailing_status("re-sent", registered_mail_numbers=numbers[:1]) == 1
    assert ledger.stats()["mailings"] == {"printed": 4, "re-sent": 1, "returned": 1}
    with ledger.engine.connect() as conn:
        history = conn.execute(sa.text("SELECT count(*) FROM mailing_history")).scalar()
    assert history == 6 + 2 + 1
    with pytest.raises(LedgerError):
        ledger.set_mailing_status("lost", batch_id="B00001")
    with pytest.raises(LedgerError):
        ledger.set_mailing_status("held")  # neither envelopes nor a batch


def test_batch_ids_restart_in_every_run(ledger, run_id):
    first = ledger.allocate_registered_mail_numbers(4, run_id, configured_range=DEMO_MAIL_RANGE)
    ledger.record_mailings(run_id, _mailings(first))
    daily = ledger.start_run("daily", "1" * 64, {})
    second = ledger.allocate_registered_mail_numbers(2, daily)
    assert ledger.record_mailings(daily, _mailings(second)).inserted == 2  # B00001 again
    with pytest.raises(LedgerError):  # but never a tracking number twice
        ledger.record_mailings(daily, _mailings(first[:1], batch="B00009"))
    assert ledger.set_mailing_status("printed", batch_id="B00001") == 2  # the newest run's
    assert ledger.set_mailing_status("mailed", batch_id="B00001", batch_run_id=run_id) == 4
    assert ledger.stats()["mailings"] == {"mailed": 4, "printed": 2}


def test_a_tracking_number_on_two_envelopes_is_refused(ledger, run_id):
    numbers = ledger.allocate_registered_mail_numbers(3, run_id, configured_range=DEMO_MAIL_RANGE)
    ledger.record_mailings(run_id, _mailings(numbers))
    clash = _mailings(numbers[:1], batch="B00002")  # same tracking number, other envelope
    with pytest.raises(LedgerError):
        ledger.record_mailings(run_id, clash)
    moved = _mailings(numbers).with_columns(pl.lit("HXXXXX").alias("household_id"))
    with pytest.raises(LedgerError):
        ledger.record_mailings(run_id, moved)
    with pytest.raises(LedgerError):
        ledger.record_mailings(run_id, _mailings([numbers[0], numbers[0]], batch="B00003"))
    assert sum(ledger.stats()["mailings"].values()) == 3


def test_runs_are_found_and_finished(ledger):
    sha = "a" * 64
    assert ledger.find_run("bulk", sha) is None
    first = ledger.start_run("bulk", sha, {"batch_size": 100})
    ledger.finish_run(first, "failed", {"committed": 0})
    second = ledger.start_run("bulk", sha, {"batch_size": 100})
    found = ledger.find_run("bulk", sha)
    assert found["run_id"] == second and found["status"] == "running"
    assert found["params"] == {"batch_size": 100} and found["operator"] == "test-operator"
    ledger.finish_run(second, "succeeded", {"committed": 5})
    done = ledger.find_run("bulk", sha)
    assert done["counts"] == {"committed": 5} and isinstance(done["finished_at"], dt.datetime)
    with pytest.raises(LedgerError):
        ledger.finish_run("run-none", "succeeded", {})
    with pytest.raises(LedgerError):
        ledger.finish_run(second, "great", {})
