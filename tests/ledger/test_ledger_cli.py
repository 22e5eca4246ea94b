"""`mynumber ledger init|stats|verify|export` and `mynumber reissue`, as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from cli.commands.ledger import register
from core.keys import generate_key_file
from ledger import mailings, open_ledger, runs
from ledger import numbers as ledger_numbers
from tests.helpers.ledger_data import assert_no_values
from transforms.numbering import derive_my_numbers

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli():
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_init_stats_export_reissue(cli, ledger_url, tmp_path):
    assert cli("ledger", "init", "--ledger", ledger_url, "--operator", "alice").exit_code == 0
    key = generate_key_file(tmp_path / "key.json")
    led = open_ledger(ledger_url, operator="setup", create=True)
    run = runs.start(led, "bulk", "f" * 64, {})
    codes = pl.Series([f"{i:010d}1" for i in range(20)])
    numbers = derive_my_numbers(codes, key.secret, 0)
    ledger_numbers.commit(led, run, pl.DataFrame({"resident_code": codes, "my_number": numbers,
                                          "generation": [0] * 20}), key.key_id)

    changed = cli("reissue", codes[3], "--reason", "leak reported", "--yes", "--key", str(tmp_path / "key.json"),
                  "--ledger", ledger_url, "--operator", "bob")
    assert changed.exit_code == 0, changed.output
    assert f"****{numbers[3][-4:]}" in changed.output and "generation 1" in changed.output
    assert_no_values(changed.output)

    stats = cli("ledger", "stats", "--ledger", ledger_url, "--json")
    assert stats.exit_code == 0, stats.output
    counts = json.loads(stats.output)
    assert counts["numbers"] == {"active": {"first_issue": 19, "number_change": 1},
                                 "revoked": {"first_issue": 1}}
    assert_no_values(stats.output)
    assert_no_values(cli("ledger", "stats", "--ledger", ledger_url).output)

    out = tmp_path / "export" / "ledger.parquet"
    refused = cli("ledger", "export", "--out", str(out), "--ledger", ledger_url)
    assert refused.exit_code == 2 and "--reason" in refused.output and not out.exists()
    exported = cli("ledger", "export", "--out", str(out), "--ledger", ledger_url, "--operator", "carol",
                   "--reason", "card printer re-run, ticket 42")
    assert exported.exit_code == 0, exported.output
    assert out.stat().st_mode & 0o777 == 0o600 and out.parent.stat().st_mode & 0o777 == 0o700
    frame = pl.read_parquet(out)
    assert frame.columns == ["resident_code", "my_number", "generation", "status", "reason",
                             "issued_at", "run_id"]
    assert frame.height == 21 and frame["my_number"].n_unique() == 21
    assert str(frame.schema["issued_at"]) == "Datetime(time_unit='us', time_zone='UTC')"
    with led.engine.connect() as conn:
        audit = conn.execute(sa.text("SELECT who, action FROM audit_log ORDER BY audit_id")).all()
    assert ("alice", "init") in audit and ("bob", "revoke_number") in audit
    assert ("bob", "issue_number") in audit and ("carol", "export") in audit
    with led.engine.connect() as conn:
        why = conn.execute(sa.text("SELECT subject, why FROM audit_log WHERE action = 'export'")).one()
    assert why.subject == f"21 number row(s) to {out.name}" and "ticket 42" in why.why
    led.close()


def test_export_needs_a_parquet_name(cli, sqlite_url, tmp_path):
    result = cli("ledger", "export", "--out", str(tmp_path / "x.csv"), "--ledger", sqlite_url,
                 "--reason", "r")
    assert result.exit_code != 0


def test_a_too_new_ledger_is_refused_with_one_clear_line(sqlite_url, tmp_path):
    led = open_ledger(sqlite_url, operator="unknown", create=True)
    with led.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0042'"))
    led.close()
    done = subprocess.run([sys.executable, "-m", "cli.main", "ledger", "stats",
                           "--ledger", sqlite_url], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "1000"})  # rich wraps at 80
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "0042" in lines[0] and "newer" in lines[0]
    assert "Traceback" not in done.stderr


def test_mail_range_and_audit_commands(cli, sqlite_url):
    added = cli("ledger", "mail-range", "3706000000", "3706000099", "--ledger", sqlite_url,
                "--operator", "dora")
    assert added.exit_code == 0, added.output
    assert "100 numbers" in added.output
    led = open_ledger(sqlite_url, operator="unknown", create=True)
    assert mailings.allocate(led, 1) == ["37060000003"]
    bad = cli("ledger", "mail-range", "1", "2", "--ledger", sqlite_url)
    assert bad.exit_code != 0
    shown = cli("ledger", "audit", "--ledger", sqlite_url, "--limit", "5")
    assert shown.exit_code == 0, shown.output
    assert "dora" in shown.output and "add_mail_range" in shown.output
