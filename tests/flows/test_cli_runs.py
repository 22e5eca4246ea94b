"""The run commands as an operator meets them: help, exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.xdist_group("prefect")


def mynumber(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(env or {})},
    )


@pytest.mark.parametrize("command", ["bulk", "daily", "qa", "serve", "demo"])
def test_every_run_command_has_help(command):
    done = mynumber(command, "--help")
    assert done.returncode == 0 and "Usage" in done.stdout


def test_missing_register_is_exit_2_with_one_clear_line(tmp_path, demo_key_path):
    done = mynumber("bulk", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "out"),
                    "--ledger", f"sqlite:///{tmp_path / 'l.db'}", "--key", str(demo_key_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "nope.csv" in done.stderr


def test_group_readable_key_is_refused_with_exit_2(tmp_path, small_register):
    from core.keys import generate_key_file

    key = tmp_path / "key.json"
    generate_key_file(key)
    key.chmod(0o640)
    done = mynumber("bulk", str(small_register), "--out", str(tmp_path / "out"),
                    "--ledger", f"sqlite:///{tmp_path / 'l.db'}", "--key", str(key))
    assert done.returncode == 2, done.stderr[-1500:]
    assert "Traceback" not in done.stderr
    assert key.read_text().split('"key_hex"')[1][4:20] not in done.stderr + done.stdout


def test_ledger_password_never_reaches_output(tmp_path, small_register, demo_key_path):
    done = mynumber("bulk", str(small_register), "--out", str(tmp_path / "out"),
                    "--ledger", "postgresql+psycopg://clerk:Pa55-w0rd-x@127.0.0.1:1/nowhere",
                    "--key", str(demo_key_path))
    assert done.returncode != 0
    assert "Pa55-w0rd-x" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
