"""The one door: open_ledger checks the schema once, stamps every write with its clock and
operator, and is the only way to a handle."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core.clock import FixedClock
from core.errors import LedgerError
from ledger import LedgerHandle, numbers, open_ledger, runs
from ledger.engine import make_engine, resolve_url
from tests.helpers.ledger_data import number_frame

AT = datetime(2026, 12, 31, 23, 59, 59, 123456, tzinfo=UTC)


def test_every_timestamp_comes_from_the_handle_clock(ledger_url):
    with open_ledger(ledger_url, operator="clerk", clock=FixedClock(AT), create=True) as led:
        run_id = runs.start(led, "bulk", "0" * 64, {})
        numbers.commit(led, run_id, number_frame(0, 3), "k")
        runs.finish(led, run_id, "succeeded", {})
        with led.read() as conn:
            stamps = [*conn.execute(sa.text("SELECT at FROM audit_log")).scalars(),
                      *conn.execute(sa.text("SELECT issued_at FROM issued_numbers")).scalars(),
                      *conn.execute(sa.text("SELECT started_at, finished_at FROM runs")).one()]
            who = set(conn.execute(sa.text("SELECT who FROM audit_log")).scalars())
    parsed = [datetime.fromisoformat(s) if isinstance(s, str) else s for s in stamps]
    moments = {(s if s.tzinfo else s.replace(tzinfo=UTC)).astimezone(UTC) for s in parsed}
    assert moments == {AT} and who == {"clerk"}
    assert run_id.startswith("run-20261231T235959-")


def test_a_handle_only_comes_from_open_ledger(sqlite_url):
    with pytest.raises(TypeError):
        LedgerHandle(resolve_url(sqlite_url), make_engine(sqlite_url), operator="x",
                     clock=FixedClock(AT), revision="0007")


def test_an_unreachable_ledger_is_one_clear_error_without_the_password():
    with pytest.raises(LedgerError) as info:  # no server there
        open_ledger("postgresql://user:s3cret@127.0.0.1:1/none", operator="x")
    assert "s3cret" not in str(info.value) and "could not be reached" in str(info.value)
    assert info.value.__cause__ is None


def test_the_repr_names_the_ledger_and_operator_not_the_password(sqlite_url):
    with open_ledger(sqlite_url, operator="clerk", create=True) as led:
        assert repr(led) == f"LedgerHandle({sqlite_url!r}, operator='clerk')"
