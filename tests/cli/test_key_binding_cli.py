"""Done-when of issue 10, as the operator meets it: after numbers were issued with key A,
`bulk`, `daily` and `reissue` with key B or with a DEMO key exit 2 with one line and the
ledger is unchanged, byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys

import polars as pl
import pytest

from core.keys import generate_key_file, load_key
from ledger import keys as ledger_keys
from ledger import numbers, open_ledger
from ledger import runs as ledger_runs
from sample_data.generate import (
    EventParams,
    SampleParams,
    generate_events,
    generate_register,
    write_export,
)
from tests.helpers.ledger_snapshot import snapshot
from transforms.numbering import derive_my_numbers


def mynumber(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})


@pytest.fixture
def keyed_ledger(tmp_path):
    """A ledger holding 60 residents' numbers issued under key A, and keys B and DEMO."""
    keys = {name: tmp_path / f"{name}.json" for name in ("a", "b", "demo")}
    generate_key_file(keys["a"])
    generate_key_file(keys["b"])
    generate_key_file(keys["demo"], demo=True)
    register = generate_register(SampleParams(rows=60, seed=3))
    reg_path = tmp_path / "register.csv"
    write_export(register, reg_path)
    events = generate_events(register, EventParams())
    ev_path = tmp_path / "events.csv"
    write_export(events, ev_path)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    a = load_key(keys["a"])
    led = open_ledger(url, operator="setup", create=True)
    ledger_keys.bind_key(led, a)
    run = ledger_runs.start(led, "bulk", "0" * 64, {})
    codes = register.get_column("resident_code")
    numbers.commit(led, run, codes.to_frame().with_columns(
        derive_my_numbers(codes, a.secret, 0), pl.lit(0).alias("generation")), a.key_id)
    led.close()
    return url, keys, reg_path, ev_path, codes[0]


@pytest.mark.parametrize("which", ["b", "demo"])
def test_foreign_and_demo_keys_exit_2_and_change_nothing(keyed_ledger, tmp_path, which):
    url, keys, reg_path, ev_path, code = keyed_ledger
    before = snapshot(url)
    key = str(keys[which])
    runs = {
        "bulk": mynumber("bulk", str(reg_path), "--out", str(tmp_path / "bulk"), "--ledger", url,
                         "--key", key),
        "daily": mynumber("daily", str(ev_path), "--date", "2026-12-01", "--out",
                          str(tmp_path / "daily"), "--ledger", url, "--key", key),
        "reissue": mynumber("reissue", code, "--reason", "leak", "--ledger", url, "--key", key, "--yes"),
    }
    secret = load_key(keys[which]).secret.hex()
    for name, done in runs.items():
        assert done.returncode == 2, (name, done.stderr[-1500:])
        assert "Traceback" not in done.stderr
        assert "refused" in done.stderr and "nothing was changed" in done.stderr, done.stderr
        assert secret[:16] not in done.stderr + done.stdout and code not in done.stderr
    assert not (tmp_path / "bulk" / "batches").exists()
    assert snapshot(url) == before
    # key A still works: the reissue goes through
    ok = mynumber("reissue", code, "--reason", "leak", "--ledger", url, "--key", str(keys["a"]), "--yes")
    assert ok.returncode == 0, ok.stderr[-1500:]
