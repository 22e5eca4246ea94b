"""The CLI contract: usage errors exit 2 with one line and no traceback, --version, choices
listed in --help, errors that name the flag the user typed, reissue asks first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def mynumber(*args: str, cwd: Path | None = None, env: dict | None = None,
             python: str = sys.executable, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-m", "cli.main", *args], capture_output=True, text=True, timeout=180,
        cwd=cwd or REPO, input=stdin,
        env={**os.environ, "COLUMNS": "200", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(env or {})},
    )


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert len(lines) == 1, done.stderr
    return lines[0]


USAGE_ERRORS = [
    (("bulk", "register.csv"), "--out"),  # a missing option
    (("bulk",), "register"),  # a missing argument
    (("bulk", "r.csv", "--out", "o", "--frobnicate"), "--frobnicate"),  # an unknown option
    (("bulk", "r.csv", "--out", "o", "--workers", "0"), "--workers"),
    (("bulk", "r.csv", "--out", "o", "--workers", "two"), "--workers"),
    (("bulk", "r.csv", "--out", "o", "--task-runner", "cluster"), "--task-runner"),
    (("daily", "e.csv", "--date", "2026-12-02", "--out", "o", "--resident-code-rule", "mod97"),
     "--resident-code-rule"),
    (("bulk", "r.csv", "--out", "o", "--notice-format", "1999"), "--notice-format"),
    (("bluk",), "bluk"),  # a misspelled command
    (("ledger", "stat"), "stat"),
    (("daily", "e.csv", "--date", "2026/12/02", "--out", "o"), "--date"),
    (("bulk", "r.csv", "--out", "o", "--issue-date", "tomorrow"), "--issue-date"),
]


@pytest.mark.parametrize(("args", "flag"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_exit_2_with_one_line_naming_the_flag(args, flag, tmp_path):
    done = mynumber(*args, cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    line = one_line(done)
    assert line.startswith("error: ") and flag in line
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_daily_date_error_blames_date_not_issue_date(tmp_path):
    line = one_line(mynumber("daily", "e.csv", "--date", "2026/12/02", "--out", "o", cwd=tmp_path))
    assert "--date" in line and "--issue-date" not in line


def test_version():
    done = mynumber("--version")
    assert done.returncode == 0 and done.stdout.startswith("mynumber ") and done.stdout.split()[1][0].isdigit()


def test_choices_are_listed_in_help():
    text = mynumber("bulk", "--help").stdout
    for choice in ("process", "thread", "dask", "mod11", "2015-card", "2020-notice", "--wait"):
        assert choice in text, choice


def test_read_only_ledger_commands_never_create_a_ledger(tmp_path):
    target = tmp_path / "nowhere" / "ledger.db"
    for command in (("ledger", "stats"), ("ledger", "verify"), ("ledger", "audit"),
                    ("ledger", "export", "--out", str(tmp_path / "x.parquet"), "--reason", "audit")):
        done = mynumber(*command, "--ledger", f"sqlite:///{target}")
        assert done.returncode == 2, done.stderr
        assert "no ledger at" in one_line(done)
    assert not target.parent.exists()


def test_reissue_without_a_terminal_is_refused_unless_yes(tmp_path):
    from core.keys import generate_key_file
    from ledger import open_ledger

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    open_ledger(url, operator="setup", create=True).close()
    generate_key_file(tmp_path / "key.json")
    done = mynumber("reissue", "12345678901", "--reason", "leak", "--ledger", url,
                    "--key", str(tmp_path / "key.json"), stdin="y\n")
    assert done.returncode == 2
    assert "--yes" in one_line(done)
    # with --yes it goes on (and fails on the unknown resident: not a confirmation problem)
    done = mynumber("reissue", "12345678901", "--reason", "leak", "--ledger", url,
                    "--key", str(tmp_path / "key.json"), "--yes")
    assert done.returncode == 2 and "--yes" not in one_line(done)
