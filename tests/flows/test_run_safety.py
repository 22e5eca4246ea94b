"""Safe on a busy machine: one run at a time per ledger, one Prefect API per run, no server
outliving its run, and the DEMO mark on every page of a demo run.

These run the real CLI in subprocesses (real Prefect, real SQLite/PostgreSQL, real PDFs).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa

from tests.helpers.flow_runs import ISSUE_DATE

pytestmark = [pytest.mark.xdist_group("prefect"), pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SERVER_APP = "prefect.server.api.server:create_app"
RUN_TIMEOUT_S = 600


def start_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=REPO, start_new_session=True,
                            env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                                 "COLUMNS": "200", **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def bulk_args(register: Path, out: Path, ledger_url: str, key: Path, workers: int = 2) -> list[str]:
    return ["bulk", str(register), "--out", str(out), "--ledger", ledger_url, "--key", str(key),
            "--workers", str(workers), "--batch-size", "40", "--issue-date", ISSUE_DATE, "--qr-sample", "2"]


def printed_mail_numbers(out: Path) -> list[str]:
    frames = [pl.read_parquet(p, columns=["registered_mail_number"])
              for p in sorted((out / "batches").glob("*/manifest.parquet"))]
    return pl.concat(frames).get_column("registered_mail_number").to_list() if frames else []


def ledger_mail_numbers(url: str) -> set[str]:
    engine = sa.create_engine(sa.engine.make_url(url).set(
        drivername="postgresql+psycopg" if url.startswith("postgresql") else "sqlite"))
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT registered_mail_number FROM mailings")).scalars().all()
        allocated = conn.execute(sa.text("SELECT registered_mail_number FROM registered_mail_numbers")).scalars().all()
    engine.dispose()
    assert set(rows) <= set(allocated)
    return set(rows)


def every_page_says_demo(pdf_path: Path) -> int:
    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        for index in range(len(doc)):
            text = doc[index].get_textpage().get_text_range()
            assert "DEMO" in text and "見本" in text, f"page {index + 1} of {pdf_path} has no DEMO mark"
        return len(doc)
    finally:
        doc.close()


@pytest.fixture
def pg_url():
    """A fresh schema of the test PostgreSQL database (as tests/ledger/conftest.py makes one)."""
    import uuid
    from urllib.parse import quote

    base = os.environ.get("MYNUMBER_TEST_PG_URL")
    if not base:
        pytest.skip("PostgreSQL tests need MYNUMBER_TEST_PG_URL (make test starts a server)")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(sa.engine.make_url(base).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_ledger(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_url")


def test_two_concurrent_bulks_one_is_refused_and_every_printed_number_is_in_the_ledger(
        tmp_path, shared_ledger, small_register, demo_key_path, prefect_api):
    env = {"PREFECT_API_URL": prefect_api["api_url"]}
    first = start_cli(bulk_args(small_register, tmp_path / "out-a", shared_ledger, demo_key_path), env)
    second = start_cli(bulk_args(small_register, tmp_path / "out-b", shared_ledger, demo_key_path), env)
    started = time.monotonic()
    done = [finish(first), finish(second)]
    codes = sorted(d.returncode for d in done)
    assert codes == [0, 2], [(d.returncode, d.stderr[-1500:]) for d in done]
    refused = next(d for d in done if d.returncode == 2)
    winner_out = tmp_path / ("out-a" if done[0].returncode == 0 else "out-b")
    loser_out = tmp_path / ("out-b" if done[0].returncode == 0 else "out-a")
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr[-1500:]
    assert "is in progress" in lines[0] and " by " in lines[0] and " since " in lines[0]
    assert not loser_out.exists()  # the refused run wrote nothing
    printed = printed_mail_numbers(winner_out)
    assert printed and len(printed) == len(set(printed))  # no duplicate
    assert set(printed) <= ledger_mail_numbers(shared_ledger)  # every printed number is recorded
    pages = sum(every_page_says_demo(pdf) for pdf in (winner_out / "batches").glob("*/cards.pdf"))
    assert pages > 0
    assert time.monotonic() - started < RUN_TIMEOUT_S


def test_wait_runs_after_the_holder_finishes(tmp_path, small_register, demo_key_path, prefect_api):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = {"PREFECT_API_URL": prefect_api["api_url"]}
    first = start_cli(bulk_args(small_register, tmp_path / "out", url, demo_key_path), env)
    deadline = time.monotonic() + 300
    while not (tmp_path / "out" / ".mynumber-run.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    second = start_cli([*bulk_args(small_register, tmp_path / "out", url, demo_key_path), "--wait"], env)
    a, b = finish(first), finish(second)
    assert (a.returncode, b.returncode) == (0, 0), (a.stderr[-1500:], b.stderr[-1500:])
    printed = printed_mail_numbers(tmp_path / "out")
    assert len(printed) == len(set(printed)) and set(printed) <= ledger_mail_numbers(url)


def _our_servers(prefect_home: Path) -> set[int]:
    """Pids of Prefect API servers whose PREFECT_HOME is ours (other runs on the machine are not)."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            if SERVER_APP.encode() not in cmdline:
                continue
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"PREFECT_HOME={prefect_home}".encode() in environ:
            found.add(int(proc.name))
    return found


def _burn() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def test_a_busy_machine_bulk_with_2_workers_uses_one_server_and_passes_qa(
        tmp_path, small_register, demo_key_path):
    home = tmp_path / "prefect-home"
    env = {"MYNUMBER_PREFECT_HOME": str(home), "PREFECT_API_URL": "", "PREFECT_HOME": str(home)}
    burners = [_burn() for _ in range(6)]
    seen: set[int] = set()
    try:
        proc = start_cli(bulk_args(small_register, tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}",
                                   demo_key_path), env)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while proc.poll() is None and time.monotonic() < deadline:
            seen |= _our_servers(home)
            time.sleep(0.3)
        done = finish(proc, timeout=5)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    import json

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["qa"]["verdict"] == "pass"
    assert len(seen) == 1, seen  # exactly one server, started by the CLI
    assert _our_servers(home) == set()  # and gone with the run
    assert not list((home / "servers").glob("*.json"))


def test_no_server_outlives_a_killed_cli_and_the_next_run_cleans_up(tmp_path, small_register, demo_key_path):
    home = tmp_path / "prefect-home"
    env = {"MYNUMBER_PREFECT_HOME": str(home), "PREFECT_API_URL": "", "PREFECT_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", *bulk_args(small_register, tmp_path / "out",
                                                      f"sqlite:///{tmp_path / 'l.db'}", demo_key_path)],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not _our_servers(home) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        servers = _our_servers(home)
        assert servers, "the CLI started no server"
        proc.send_signal(signal.SIGKILL)  # the CLI only: no chance to clean up
        proc.wait()
        deadline = time.monotonic() + 30
        while _our_servers(home) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _our_servers(home) == set(), "a server outlived its killed CLI"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI's own workers, if any
        except ProcessLookupError:
            pass
    # a stale record is cleaned by the next run's start (here: the cleanup it calls)
    from cli.prefect_api import clean_stale_servers

    clean_stale_servers(home)
    assert not list((home / "servers").glob("*.json"))
