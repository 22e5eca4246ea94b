"""The ledger's run lock: one run at a time, on SQLite (lease row) and PostgreSQL (advisory lock)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.processes import pid_alive
from ledger import Ledger
from ledger.locks import RunInProgress, RunLock, current_holder
from ledger.schema import run_locks

BOUND_S = 60.0  # generous: a loaded machine delays threads and the server, never this long


def _eventually(condition: Callable[[], bool], what: str, bound_s: float = BOUND_S) -> None:
    """Wait until ``condition()`` holds (polling), or fail naming ``what`` after ``bound_s``:
    the tests wait on the condition itself, not on a sleep that a busy machine outlasts."""
    deadline = time.monotonic() + bound_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {bound_s:.0f} s: {what}")
        threading.Event().wait(0.05)


def _acquire_once_free(lock: RunLock, bound_s: float = BOUND_S) -> None:
    """Acquire, retrying while the server still holds a dead session's advisory lock."""
    def took() -> bool:
        try:
            lock.acquire()
        except RunInProgress:
            return False
        return True
    _eventually(took, "the dead session's advisory lock was released", bound_s)


def _ledger(url: str, operator: str) -> Ledger:
    led = Ledger(url, operator=operator)
    led.init()
    return led


def test_second_run_is_refused_naming_run_operator_and_start(ledger_url):
    first, second = _ledger(ledger_url, "alice"), _ledger(ledger_url, "bob")
    with RunLock(first, "bulk-2026-10-05-register.csv", "/runs/a"):
        pass  # a context manager alone does not take the lock
    lock = RunLock(first, "bulk-2026-10-05-register.csv", "/runs/a")
    lock.acquire()
    try:
        with pytest.raises(RunInProgress) as refused:
            RunLock(second, "bulk-2026-10-05-other.csv", "/runs/b").acquire()
        message = str(refused.value)
        assert "run bulk-2026-10-05-register.csv by alice since" in message and "in progress" in message
        assert refused.value.exit_code == 2
        holder = current_holder(second)
        assert holder is not None and holder.operator == "alice" and holder.out_dir == "/runs/a"
    finally:
        lock.release()
    assert current_holder(second) is None
    again = RunLock(second, "bulk-2026-10-05-other.csv", "/runs/b")
    again.acquire()
    again.release()
    first.close()
    second.close()


def test_release_is_idempotent_and_only_releases_our_own(ledger_url):
    led = _ledger(ledger_url, "alice")
    lock = RunLock(led, "r", "/o")
    lock.acquire()
    lock.release()
    lock.release()
    assert current_holder(led) is None
    led.close()


def _insert_holder(led: Ledger, *, host: str, pid: int, lease_until: datetime) -> None:
    now = datetime.now(UTC)
    with led.engine.begin() as conn:
        conn.execute(sa.insert(run_locks).values(
            name="ledger", holder="x" * 32, run_name="bulk-crashed", operator="carol", host=host,
            pid=pid, out_dir="/runs/c", since=now - timedelta(hours=1), lease_until=lease_until))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    return proc.pid


def test_sqlite_lock_of_a_dead_process_on_this_host_is_taken_over(sqlite_url):
    import socket

    led = _ledger(sqlite_url, "dave")
    _insert_holder(led, host=socket.gethostname(), pid=_dead_pid(),
                   lease_until=datetime.now(UTC) + timedelta(hours=1))
    lock = RunLock(led, "bulk-next", "/runs/d")
    lock.acquire()
    assert current_holder(led).operator == "dave"
    lock.release()
    led.close()


def test_sqlite_lock_with_a_live_lease_on_another_host_is_respected_until_it_expires(sqlite_url):
    led = _ledger(sqlite_url, "erin")
    _insert_holder(led, host="other-host.example", pid=1, lease_until=datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(RunInProgress, match="run bulk-crashed by carol since"):
        RunLock(led, "bulk-next", "/runs/e").acquire()
    with led.engine.begin() as conn:
        conn.execute(sa.update(run_locks).values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))
    lock = RunLock(led, "bulk-next", "/runs/e")
    lock.acquire()
    lock.release()
    led.close()


def test_sqlite_lock_of_a_live_process_on_this_host_is_respected(sqlite_url):
    import os
    import socket

    led = _ledger(sqlite_url, "fred")
    _insert_holder(led, host=socket.gethostname(), pid=os.getppid(),
                   lease_until=datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(RunInProgress):
        RunLock(led, "bulk-next", "/runs/f").acquire()
    led.close()


def test_heartbeat_extends_the_lease(sqlite_url):
    led = _ledger(sqlite_url, "gina")
    lock = RunLock(led, "r", "/o", lease_s=1.5)
    lock.acquire()
    first = current_holder(led).lease_until
    _eventually(lambda: current_holder(led).lease_until > first, "the heartbeat extended the lease")
    assert not lock.lost
    lock.release()
    led.close()


def test_heartbeat_notices_a_takeover(sqlite_url):
    led = _ledger(sqlite_url, "hana")
    lock = RunLock(led, "r", "/o", lease_s=1.5)
    lock.acquire()
    with led.engine.begin() as conn:
        conn.execute(sa.update(run_locks).values(holder="someone-else"))
    _eventually(lambda: lock.lost, "the heartbeat noticed the takeover")
    lock.release()
    assert current_holder(led).holder == "someone-else"  # not ours to delete
    led.close()


@pytest.mark.postgres
def test_postgres_lock_is_released_when_the_holder_session_dies(pg_url):
    first, second = _ledger(pg_url, "ivan"), _ledger(pg_url, "jun")
    lock = RunLock(first, "bulk-a", "/runs/a")
    lock.acquire()
    with pytest.raises(RunInProgress, match="run bulk-a by ivan since"):
        RunLock(second, "bulk-b", "/runs/b").acquire()
    # the holder's session ends without release (as when its process is killed)
    assert lock._pg_conn is not None
    lock._stop.set()
    lock._pg_conn.invalidate()
    lock._pg_conn = None
    taken = RunLock(second, "bulk-b", "/runs/b")
    # the server drops the advisory lock some time after the connection dies: wait for it
    _acquire_once_free(taken)  # then the stale row of the dead session is replaced
    assert current_holder(second).operator == "jun"
    taken.release()
    first.close()
    second.close()


@pytest.mark.postgres
def test_postgres_ledgers_in_separate_schemas_do_not_block_each_other(pg_url, request):
    other_url = request.getfixturevalue("pg_url")  # same fixture value: make a second schema by hand
    import uuid
    from urllib.parse import quote

    base = pg_url.split("?", 1)[0]
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(sa.engine.make_url(base).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        other_url = f"{base}?options={quote(f'-csearch_path={schema}')}"
        a, b = _ledger(pg_url, "kai"), _ledger(other_url, "lea")
        la, lb = RunLock(a, "bulk-a", "/a"), RunLock(b, "bulk-b", "/b")
        la.acquire()
        lb.acquire()  # another ledger: not blocked
        la.release()
        lb.release()
        a.close()
        b.close()
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()
