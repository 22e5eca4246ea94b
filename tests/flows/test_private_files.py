"""Private by default: under a login umask of 022, every file a run writes (cards, manifests,
plans, reports, quarantine, the SQLite ledger and its -wal/-shm, exports, qa.json) is 0600
and every folder it creates is 0700, walking everything the real CLI wrote."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.keys import generate_key_file
from sample_data.generate import (
    EventParams,
    SampleParams,
    generate_events,
    generate_register,
    write_export,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]


API_URL: dict[str, str] = {}


def mynumber(*args: str) -> subprocess.CompletedProcess[str]:
    """The real console script, started under umask 022 like a default login shell."""
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True,
                          text=True, timeout=600, preexec_fn=lambda: os.umask(0o022),
                          env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                               **API_URL})


def _walk(root: Path) -> tuple[list[str], int]:
    """Paths (relative) that group or others may read, write or enter; and how many checked."""
    loose, seen = [], 0
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            mode = stat.S_IMODE(path.lstat().st_mode)
            seen += 1
            if mode & 0o077:
                loose.append(f"{path.relative_to(root)} {mode:04o}")
    return loose, seen


def test_every_file_a_run_writes_is_private_under_umask_022(tmp_path, prefect_api):
    API_URL["PREFECT_API_URL"] = prefect_api["api_url"]
    work = tmp_path / "office"  # everything the runs write goes under here
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    key = inputs / "key.json"
    generate_key_file(key)
    register = generate_register(SampleParams(rows=40, seed=5))
    write_export(register, inputs / "register.csv")
    write_export(generate_events(register, EventParams()), inputs / "events.csv")
    ledger = f"sqlite:///{work / 'data' / 'ledger.db'}"
    town = Path(__file__).parents[1] / "helpers" / "municipality.toml"  # a non-sample sender
    common = ("--ledger", ledger, "--key", str(key), "--workers", "1", "--config", str(town))

    rng = mynumber("ledger", "mail-range", "3606100000", "3606199999", "--ledger", ledger)
    assert rng.returncode == 0, rng.stderr[-1500:]
    check = mynumber("check", str(inputs / "register.csv"), "--out", str(work / "check"))
    assert check.returncode in (0, 1), check.stderr[-1500:]
    bulk = mynumber("bulk", str(inputs / "register.csv"), "--out", str(work / "bulk"), *common)
    assert bulk.returncode in (0, 1), bulk.stderr[-2000:]
    assert (work / "bulk" / "report.json").exists(), (bulk.stdout[-3000:], bulk.stderr[-3000:])
    daily = mynumber("daily", str(inputs / "events.csv"), "--date", "2026-12-01",
                     "--out", str(work / "daily"), *common)
    assert daily.returncode in (0, 1), daily.stderr[-2000:]
    batches = sorted((work / "bulk" / "batches").iterdir())
    assert batches and (batches[0] / "cards.pdf").exists()
    qa = mynumber("qa", str(batches[0]), "--ledger", ledger)
    assert qa.returncode in (0, 1), qa.stderr[-1500:]
    export = mynumber("ledger", "export", "--out", str(work / "exports" / "all.parquet"),
                      "--ledger", ledger, "--reason", "test of private files")
    assert export.returncode == 0, export.stderr[-1500:]

    loose, seen = _walk(work)
    assert not loose, loose
    names = {p.name for p in work.rglob("*")}
    for expected in ("cards.pdf", "manifest.csv", "manifest.parquet", "qa.json", "plan.parquet",
                     "ledger.db", "all.parquet", "report.json", "quarantine.csv"):
        assert expected in names, expected
    assert seen > 20
