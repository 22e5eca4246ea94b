"""Kill real bulk runs (SIGKILL, whole process group) at several points and start them
again: the result must be exactly what a clean run gives — same numbers, same
households in the same envelopes and batches, nothing issued or printed twice — and the
report must say what was reused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import polars as pl
import pytest

from tests.helpers.fault_hooks import Faults, cli_command
from tests.helpers.flow_runs import ISSUE_DATE, assert_no_number_in, ledger_numbers
from tests.helpers.waiting import wait_for

pytestmark = [pytest.mark.xdist_group("prefect"), pytest.mark.slow]

RUN_TIMEOUT_S = 300


def start_cli(args: list[str], api_url: str, crash_at: str | None = None) -> subprocess.Popen[str]:
    """Start `mynumber ...` in its own process group (``kill_group`` ends it); with
    ``crash_at``, the CLI and its workers die at that crash point (tests.helpers.fault_hooks)."""
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    argv, env = cli_command(args, env, Faults(crash_at=crash_at) if crash_at else None)
    return subprocess.Popen(
        argv, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_cli(args: list[str], api_url: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    """Run `mynumber ...` in its own process group; kill the group on the way out."""
    proc = start_cli(args, api_url, crash_at)
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        kill_group(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def bulk_args(register: Path, tmp: Path, key: Path) -> list[str]:
    return [
        "bulk", str(register), "--out", str(tmp / "out"), "--ledger", f"sqlite:///{tmp / 'ledger.db'}",
        "--key", str(key), "--workers", "2", "--batch-size", "25", "--issue-date", ISSUE_DATE,
        "--qr-sample", "2",
    ]


def batch_set(out: Path) -> pl.DataFrame:
    """What was printed, minus random ids: batch, envelope, household, members."""
    frames = [
        pl.read_parquet(p).select(
            "batch_id", "envelope_seq", "household_id", "postal_code",
            pl.col("resident_codes").list.join(";"),
        )
        for p in sorted((out / "batches").glob("*/manifest.parquet"))
    ]
    return pl.concat(frames).sort("envelope_seq")


@pytest.fixture(scope="module")
def clean(prefect_api, tmp_path_factory, demo_key_path, small_register):
    tmp = tmp_path_factory.mktemp("clean")
    done = run_cli(bulk_args(small_register, tmp, demo_key_path), prefect_api["api_url"])
    assert done.returncode == 0, done.stderr[-2000:]
    return tmp


@pytest.mark.parametrize("point", ["after_derive", "after_commit", "after_plan", "mid_render"])
def test_killed_run_resumes_to_exactly_the_clean_result(point, clean, prefect_api, tmp_path,
                                                         demo_key_path, small_register):
    args = bulk_args(small_register, tmp_path, demo_key_path)
    killed = run_cli(args, prefect_api["api_url"], crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    resumed = run_cli(args, prefect_api["api_url"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    got = ledger_numbers(f"sqlite:///{tmp_path / 'ledger.db'}").sort("resident_code")
    want = ledger_numbers(f"sqlite:///{clean / 'ledger.db'}").sort("resident_code")
    assert got["my_number"].n_unique() == got.height, "a number was issued twice"
    assert_no_number_in([], got["my_number"].to_list(),
                        [killed.stdout, killed.stderr, resumed.stdout, resumed.stderr])
    assert got.select("resident_code", "my_number", "status").equals(
        want.select("resident_code", "my_number", "status")
    )
    assert batch_set(tmp_path / "out").equals(batch_set(clean / "out"))

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["resumed"] is True and report["counts_add_up"]
    assert report["qa"]["verdict"] == "pass"
    assert report["outcomes"]["issued"] == got.height
    if point in ("after_commit", "after_plan", "mid_render"):
        assert report["reused"]["numbers"] == got.height
    if point in ("after_plan", "mid_render"):
        assert report["reused"]["plan"] is True
    if point == "mid_render":
        assert report["reused"]["batches"] >= 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_run_stopped_by_the_operator_mid_render_stops_and_resumes(sig, clean, prefect_api, tmp_path,
                                                                     demo_key_path, small_register):
    """Ctrl-C (SIGINT) or a service stop (SIGTERM) to the CLI alone, while batches render: the
    CLI stops soon, not with 0, and leaves no worker or server behind; the next run finishes
    with exactly the clean result. The next run is checked after SIGTERM only: resuming a
    run that died mid-render is what the SIGKILL test at "mid_render" checks, and resuming
    after a failed run is tested with the flows (test_common, test_notice_reconciliation);
    one whole CLI run less keeps the suite under its 10-minute budget."""
    import time

    args = bulk_args(small_register, tmp_path, demo_key_path)
    proc = start_cli(args, prefect_api["api_url"])
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not list((tmp_path / "out" / "batches").glob("*/cards.pdf")):
            assert proc.poll() is None, "the run ended before any batch was rendered"
            assert time.monotonic() < deadline, "no batch rendered in time"
            time.sleep(0.1)
        proc.send_signal(sig)
        try:
            out, err = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the CLI did not stop within 90 s of {sig.name}")
        assert proc.returncode != 0, f"stopped by {sig.name} but exited 0"
        assert "Traceback" not in err, err[-2000:]
        def group_gone() -> bool:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return True
            return False

        # the run's children (workers, its Prefect API) exit when the scheduler lets them
        assert wait_for(group_gone, bound_s=90), f"processes of the stopped run are still alive after {sig.name}"
    finally:
        kill_group(proc)
    if sig == signal.SIGINT:
        return

    resumed = run_cli(args, prefect_api["api_url"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert batch_set(tmp_path / "out").equals(batch_set(clean / "out"))
    got = ledger_numbers(f"sqlite:///{tmp_path / 'ledger.db'}").sort("resident_code")
    want = ledger_numbers(f"sqlite:///{clean / 'ledger.db'}").sort("resident_code")
    assert got.select("resident_code", "my_number").equals(want.select("resident_code", "my_number"))
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["qa"]["verdict"] == "pass" and report["counts_add_up"]
