"""Notices in the ledger: the database itself refuses illegal status changes and keeps the
history, on SQLite and PostgreSQL (a hypothesis state machine drives random legal and
illegal transitions through raw SQL and through the Ledger), and voiding sends numbers
back to planning."""

from __future__ import annotations

import itertools

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from core.errors import LedgerError
from ledger import LedgerHandle, notices, numbers, open_ledger, runs
from ledger.schema import NOTICE_STATUSES, NOTICE_TRANSITIONS
from tests.helpers.ledger_data import derive, number_frame, zero_key
from tests.helpers.notice_history import history
from transforms.identifiers.registered_mail import from_serials

SERIALS = itertools.count(3606100000)


def mail_numbers(n: int) -> list[str]:
    return from_serials([next(SERIALS) for _ in range(n)]).to_list()


def plan_frame(codes: list[str], rmns: list[str], batch: str = "B00001") -> pl.DataFrame:
    return pl.DataFrame({
        "resident_code": codes, "household_id": [f"H{i}" for i in range(len(codes))],
        "batch_id": [batch] * len(codes), "envelope_seq": list(range(1, len(codes) + 1)),
        "registered_mail_number": rmns, "is_manual": [False] * len(codes)})


def statuses(led: LedgerHandle) -> dict[int, str]:
    with led.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT notice_id, status FROM notices")).all())


RAW_UPDATE = ("UPDATE notices SET status = :s, updated_at = CURRENT_TIMESTAMP, "
              "updated_by = 'raw', updated_why = 'raw sql' WHERE notice_id = :i")


def raw(led: LedgerHandle, sql: str, **params) -> None:
    with led.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_transitions_table_is_the_one_the_code_knows(ledger):
    with ledger.engine.connect() as conn:
        rows = set(conn.execute(sa.text("SELECT from_status, to_status FROM notice_transitions")))
    assert rows == set(NOTICE_TRANSITIONS)
    with pytest.raises(sa.exc.DatabaseError):  # nobody widens the rules with SQL
        raw(ledger, "INSERT INTO notice_transitions VALUES ('destroyed', 'mailed')")
    with pytest.raises(sa.exc.DatabaseError):
        raw(ledger, "DELETE FROM notice_transitions")


def make_machine(led: LedgerHandle):
    start = itertools.count(10_000 + 1000 * (hash(led.url) % 1000))

    class NoticeMachine(RuleBasedStateMachine):
        """Model: notice id → status; the database must agree after every step."""

        planned = Bundle("notices")

        def __init__(self) -> None:
            super().__init__()
            self.model: dict[int, str] = {}
            self.rmn: dict[int, str] = {}
            self.code: dict[int, str] = {}
            self.run = runs.start(led, "prop", "0" * 64, {})
            self.other = runs.start(led, "prop", "1" * 64, {})
            self.transitions: dict[int, int] = {}

        def _new_notice(self, code: str) -> int:
            rmn = mail_numbers(1)
            assert notices.record(led, self.run, plan_frame([code], rmn)) == 1
            with led.engine.connect() as conn:
                nid = conn.execute(sa.text(
                    "SELECT max(notice_id) FROM notices WHERE resident_code = :c"), {"c": code}).scalar()
            self.model[nid], self.rmn[nid], self.code[nid] = "planned", rmn[0], code
            self.transitions[nid] = 0
            return int(nid)

        @rule(target=planned)
        def add(self):
            frame = number_frame(next(start) * 7, 1)
            numbers.commit(led, self.run, frame, "k")
            return self._new_notice(frame["resident_code"][0])

        @rule(nid=planned, to=st.sampled_from(NOTICE_STATUSES))
        def raw_change(self, nid, to):
            ok = (self.model[nid], to) in NOTICE_TRANSITIONS
            try:
                raw(led, RAW_UPDATE, s=to, i=nid)
            except sa.exc.DatabaseError:
                assert not ok, f"legal {self.model[nid]} -> {to} refused"
            else:
                assert ok, f"illegal {self.model[nid]} -> {to} accepted"
                self.model[nid] = to
                self.transitions[nid] += 1

        @rule(nid=planned, to=st.sampled_from(NOTICE_STATUSES))
        def ledger_change(self, nid, to):
            before = self.model[nid]
            result = notices.transition(led, [self.rmn[nid]], to, "property test")
            if (before, to) in NOTICE_TRANSITIONS:
                assert (result.changed, result.refused) == (1, 0)
                self.model[nid] = to
                self.transitions[nid] += 1
            elif before == to:
                assert (result.changed, result.already) == (0, 1)
            else:
                assert result.changed == 0 and (result.refused == 1 or before in notices.NOT_LIVE)

        @rule(nid=planned)
        def raw_delete_refused(self, nid):
            with pytest.raises(sa.exc.DatabaseError):
                raw(led, "DELETE FROM notices WHERE notice_id = :i", i=nid)

        @rule(nid=planned)
        def raw_repoint_refused(self, nid):
            with pytest.raises(sa.exc.DatabaseError):
                raw(led, "UPDATE notices SET registered_mail_number = '36061000006' "
                         "WHERE notice_id = :i", i=nid)

        @rule(nid=planned, to=st.sampled_from([s for s in NOTICE_STATUSES if s != "planned"]))
        def raw_insert_not_planned_refused(self, nid, to):
            with pytest.raises(sa.exc.DatabaseError):
                raw(led, "INSERT INTO notices (number_id, resident_code, household_id, run_id, "
                         "batch_id, envelope_seq, registered_mail_number, is_manual, status, "
                         "created_at, updated_at, updated_by, updated_why) SELECT number_id, "
                         "resident_code, household_id, run_id, batch_id, envelope_seq, "
                         "registered_mail_number, is_manual, :s, created_at, updated_at, "
                         "'raw', 'raw' FROM notices WHERE notice_id = :i", s=to, i=nid)

        @rule(nid=consumes(planned), target=planned)
        def replan(self, nid):
            """A second live notice for a number is refused; after voiding it is planned again."""
            if self.model[nid] in notices.NOT_LIVE:  # voided, or re-sent in a new envelope
                return self._new_notice(self.code[nid])
            with pytest.raises(LedgerError):  # one live notice per number
                notices.record(led, self.other, plan_frame([self.code[nid]], mail_numbers(1)))
            return nid

        @rule(nid=planned)
        def history_is_append_only(self, nid):
            with pytest.raises(sa.exc.DatabaseError):
                raw(led, "UPDATE notice_history SET to_status = 'delivered' WHERE notice_id = :i",
                    i=nid)
            with pytest.raises(sa.exc.DatabaseError):
                raw(led, "DELETE FROM notice_history WHERE notice_id = :i", i=nid)

        @invariant()
        def database_agrees(self):
            db = statuses(led)
            for nid, status in self.model.items():
                assert db[nid] == status

        @invariant()
        def history_has_every_step(self):
            if not self.model:
                return
            hist = history(led, list(self.model))
            per = hist.group_by("notice_id").agg(pl.len().alias("n"), pl.col("to_status").last())
            for row in per.iter_rows(named=True):
                nid = row["notice_id"]
                assert row["n"] == 1 + self.transitions[nid]
                assert row["to_status"] == self.model[nid]

    return NoticeMachine


@pytest.mark.parametrize("examples", [12])
def test_state_machine_never_accepts_an_illegal_transition(ledger, examples):
    run_state_machine_as_test(make_machine(ledger), settings=settings(
        max_examples=examples, stateful_step_count=25,
        suppress_health_check=list(HealthCheck)))


def test_record_notices_is_idempotent_and_one_live_per_number(ledger, run_id):
    numbers.commit(ledger, run_id, number_frame(1, 3), "k")
    codes = number_frame(1, 3)["resident_code"].to_list()
    rmns = mail_numbers(3)
    assert notices.record(ledger, run_id, plan_frame(codes, rmns)) == 3
    assert notices.record(ledger, run_id, plan_frame(codes, rmns)) == 0  # resumed run
    other = runs.start(ledger, "test", "1" * 64, {})
    with pytest.raises(LedgerError):  # the same numbers in another run's envelopes
        notices.record(ledger, other, plan_frame(codes, mail_numbers(3)))
    assert notices.pending(ledger).height == 0


def test_failed_batch_and_ended_run_send_numbers_back_to_planning(ledger, run_id):
    numbers.commit(ledger, run_id, number_frame(1, 4), "k")
    codes = number_frame(1, 4)["resident_code"].to_list()
    frame = plan_frame(codes, mail_numbers(4)).with_columns(
        batch_id=pl.Series(["B00001", "B00001", "B00002", "B00002"]))
    notices.record(ledger, run_id, frame)
    assert notices.mark_batch(ledger, run_id, "B00001", "printed", "qa pass") == 2
    assert notices.mark_batch(ledger, run_id, "B00001", "printed", "qa pass") == 0  # idempotent
    assert notices.pending(ledger).height == 0
    runs.finish(ledger, run_id, "partial", {})
    later = runs.start(ledger, "test", "2" * 64, {})
    assert notices.void_unprinted(ledger, later) == 2  # B00002 was never printed
    pending = notices.pending(ledger)
    assert sorted(pending["resident_code"].to_list()) == codes[2:]
    voided = notices.all_notices(ledger, ["voided"])
    assert set(voided["void_reason"]) == {"not_printed"}


def test_reissue_voids_unmailed_notices_of_the_revoked_number(ledger, run_id):
    numbers.commit(ledger, run_id, number_frame(1, 2), "k")
    codes = number_frame(1, 2)["resident_code"].to_list()
    rmns = mail_numbers(2)
    notices.record(ledger, run_id, plan_frame(codes, rmns))
    notices.mark_batch(ledger, run_id, "B00001", "printed", "qa pass")
    notices.transition(ledger, [rmns[1]], "mailed", "handed to the post office")
    numbers.reissue(ledger, codes[0], "leak", zero_key(), derive=derive)
    numbers.reissue(ledger, codes[1], "leak", zero_key(), derive=derive)
    got = notices.all_notices(ledger).sort("resident_code")
    assert got["status"].to_list() == ["voided", "mailed"]  # a mailed card stays mailed
    assert got["void_reason"][0] == "number_revoked"
    # both new numbers need a notice; the revoked one no longer does
    assert sorted(notices.pending(ledger)["resident_code"].to_list()) == codes


def test_transition_counts_are_idempotent_and_refuse_illegal(ledger, run_id):
    numbers.commit(ledger, run_id, number_frame(1, 2), "k")
    codes = number_frame(1, 2)["resident_code"].to_list()
    rmns = mail_numbers(2)
    notices.record(ledger, run_id, plan_frame(codes, rmns))
    first = notices.transition(ledger, rmns, "mailed", "handover")  # not printed yet: refused
    assert (first.changed, first.refused) == (0, 2)
    notices.mark_batch(ledger, run_id, "B00001", "printed", "qa pass")
    assert notices.transition(ledger, rmns, "mailed", "handover").changed == 2
    again = notices.transition(ledger, rmns, "mailed", "handover")
    assert (again.changed, again.already, again.refused) == (0, 2, 0)
    held = notices.transition(ledger, rmns[:1], "held", "returned", via="returned")
    assert held.changed == 1
    hist = history(ledger)
    assert hist.filter(pl.col("to_status") == "returned").height == 1
    assert set(hist["who"]) == {"test-operator"}
    unknown = notices.transition(ledger, [mail_numbers(1)[0]], "mailed", "x")
    assert unknown.unknown == 1


def test_a_revoked_card_pulls_its_whole_printed_envelope(ledger, run_id):
    numbers.commit(ledger, run_id, number_frame(1, 3), "k")
    codes = number_frame(1, 3)["resident_code"].to_list()
    rmn = mail_numbers(2)
    frame = plan_frame(codes, [rmn[0], rmn[0], rmn[1]]).with_columns(
        household_id=pl.Series(["H1", "H1", "H2"]), envelope_seq=pl.Series([1, 1, 2]))
    notices.record(ledger, run_id, frame)
    notices.mark_batch(ledger, run_id, "B00001", "printed", "qa pass")
    numbers.reissue(ledger, codes[0], "leak", zero_key(), derive=derive)
    got = notices.all_notices(ledger).sort("resident_code")
    assert got["status"].to_list() == ["voided", "voided", "printed"]
    assert got["void_reason"].to_list() == ["number_revoked", "envelope_pulled", None]
    assert sorted(notices.pending(ledger)["resident_code"].to_list()) == codes[:2]
    refused = notices.transition(ledger, [rmn[0]], "mailed", "handover")
    assert refused.changed == 0


def test_one_planner_at_a_time(ledger_url):
    """Two runs planning at once would both plan the same pending numbers; the second waits."""
    import threading
    import time

    first, second = open_ledger(ledger_url, operator="unknown", create=True), open_ledger(ledger_url, operator="unknown", create=True)
    order: list[str] = []
    inside = threading.Event()

    def hold() -> None:
        with notices.planning_lock(first):
            order.append("first in")
            inside.set()
            time.sleep(1.0)  # hold the lock a while: the second planner must queue behind it
            order.append("first out")

    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(120), "the first planner never got the lock"
    with notices.planning_lock(second):
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]
    first.close()
    second.close()


def test_numbers_without_a_live_notice_are_found_by_index_not_by_scanning(sqlite_url):
    """The funnel at the end of every run counts active numbers without a live notice. With
    only the partial unique index on notices(number_id), SQLite scanned every notice for each
    number (a Nerima-size funnel ran for minutes); the plan must search an index instead."""
    led = open_ledger(sqlite_url, operator="unknown", create=True)
    # bound parameters, as the ledger sends them (constants could match the partial index)
    query = notices.without_live_notice_count().compile(led.engine, compile_kwargs={"render_postcompile": True})
    params = query.construct_params()
    with led.engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(query), tuple(
            params[name] for name in query.positiontup or [])).all()
    details = " | ".join(str(row[-1]) for row in plan)
    assert "SCAN notices" not in details, details
    assert "USING INDEX ix_notices_number_id" in details or "USING COVERING INDEX ix_notices_number_id" in details, details


def test_marking_a_batch_searches_its_notices_not_every_planned_one(sqlite_url):
    """QA marks one batch's planned notices. With (run_id, batch_id) and (status) as separate
    indexes SQLite took (status) and walked every planned notice in the ledger (715,000 at
    the start of a Nerima-size run, for each batch); all three equalities must meet in one."""
    led = open_ledger(sqlite_url, operator="unknown", create=True)
    N = notices.notices.c
    query = sa.update(notices.notices).where(
        N.run_id == "run-x", N.batch_id == "B00001", N.status == "planned").values(status="printed")
    compiled = query.compile(led.engine)
    params = compiled.construct_params()
    with led.engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), tuple(
            params[name] for name in compiled.positiontup or [])).all()
    details = " | ".join(str(row[-1]) for row in plan)
    assert "(run_id=? AND batch_id=? AND status=?)" in details, details
    led.close()
