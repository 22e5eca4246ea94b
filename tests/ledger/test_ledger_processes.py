"""Several processes on one ledger: concurrent commits and allocations, and a SIGKILL mid-commit."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger import numbers, reporting
from ledger import runs as ledger_runs
from tests.helpers.ledger_data import number_frame

WORKER = Path(__file__).parents[1] / "helpers" / "ledger_worker.py"
BOUND = 120  # seconds: an upper bound for any worker, never a timing assertion


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _expect_line(proc: subprocess.Popen, wanted: str) -> None:
    line = proc.stdout.readline().strip()
    assert line == wanted, (line, proc.stderr.read() if proc.poll() is not None else "")


def _finish(proc: subprocess.Popen) -> dict:
    try:
        out, err = proc.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        raise
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _start_together(tmp_path: Path, jobs: list[tuple[str, ...]]) -> list[dict]:
    barrier = tmp_path / "go"
    procs = [_spawn(*job, str(barrier)) for job in jobs]
    try:
        for p in procs:
            _expect_line(p, "ready")
        barrier.touch()
        return [_finish(p) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)


def _count(ledger) -> tuple[int, int]:
    with ledger.engine.connect() as conn:
        return tuple(conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT my_number) FROM issued_numbers")).one())


def test_two_processes_commit_overlapping_daily_sets(ledger, tmp_path):
    url = ledger.url.render_as_string(hide_password=False)
    a, b = _start_together(tmp_path, [("commit", url, "0", "40000"),
                                      ("commit", url, "20000", "40000")])
    assert a["inserted"] + a["already_present"] == 40000
    assert b["inserted"] + b["already_present"] == 40000
    assert a["inserted"] + b["inserted"] == 60000  # the overlap was written once
    assert _count(ledger) == (60000, 60000)
    expected = number_frame(0, 60000).sort("resident_code")
    assert numbers.active(ledger).select("resident_code", "my_number").equals(
        expected.select("resident_code", "my_number"))
    runs = {r: ledger_runs.find(ledger, "daily", f"{s:064d}") for r, s in (("a", 0), ("b", 20000))}
    assert {r["run_id"] for r in runs.values()} == {a["run_id"], b["run_id"]}
    assert {r["status"] for r in runs.values()} == {"succeeded"}
    _assert_chain_intact(ledger, at_least=6)  # 2 x (start, commit, finish)


def _assert_chain_intact(ledger, at_least: int = 3) -> None:
    """Concurrent writers never fork the audit hash chain (issue 10)."""
    from ledger.integrity import check_integrity

    result = check_integrity(ledger)
    assert result.rules["audit_chain"] == {"problems": 0, "checked": result.rules["audit_chain"]["checked"]}
    assert result.rules["audit_chain"]["checked"] >= at_least
    assert result.rules["rows_match_audit"]["problems"] == 0


def test_two_processes_allocate_disjoint_tracking_numbers(ledger, tmp_path):
    url = ledger.url.render_as_string(hide_password=False)
    a, b = _start_together(tmp_path, [("allocate", url, "3000"), ("allocate", url, "3000")])
    assert len(set(a["numbers"]) | set(b["numbers"])) == 6000
    assert reporting.stats(ledger)["registered_mail_numbers_allocated"] == 6000
    _assert_chain_intact(ledger)


def _writer_holds_lock(ledger) -> bool:
    """True while another process is inside a writing transaction on the ledger."""
    if ledger.engine.dialect.name == "sqlite":
        probe = sqlite3.connect(ledger.url.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    with ledger.engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND state = 'active' AND query LIKE 'INSERT INTO issued_numbers%'")).scalar())


def test_sigkill_mid_commit_leaves_all_or_nothing_and_the_next_run_completes(ledger):
    n = 150_000
    url = ledger.url.render_as_string(hide_password=False)
    proc = _spawn("commit", url, "0", str(n))
    try:
        _expect_line(proc, "committing")
        deadline = time.monotonic() + BOUND
        while not _writer_holds_lock(ledger):
            assert proc.poll() is None and time.monotonic() < deadline, "commit never started"
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    rows, distinct = _count(ledger)
    assert rows in (0, n) and rows == distinct  # the whole commit or none of it
    run = ledger_runs.find(ledger, "daily", f"{0:064d}")
    assert run["status"] == "running"  # the killed run never finished
    # the next run completes it
    again = ledger_runs.start(ledger, "daily", f"{0:064d}", {"resume": True})
    result = numbers.commit(ledger, again, number_frame(0, n), "k-worker")
    assert result.inserted == n - rows and result.already_present == rows
    assert _count(ledger) == (n, n)
    _assert_chain_intact(ledger)  # the killed transaction left no half entry


@pytest.mark.parametrize("n", [1])
def test_worker_script_runs_alone(ledger, n):
    """The worker itself works (so the tests above fail for the right reason)."""
    url = ledger.url.render_as_string(hide_password=False)
    out = _finish(_spawn("commit", url, "900", str(n)))
    assert out["inserted"] == n
