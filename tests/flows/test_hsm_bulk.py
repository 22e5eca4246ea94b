"""A whole bulk run with the key in a PKCS#11 token (SoftHSM2): the numbers in the ledger
are the ones the same key value gives as a key file, and the run records the token key's id."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from ledger import keys as ledger_keys
from ledger import mailings, numbers, open_ledger
from sample_data.generate import SampleParams, generate_register, write_export
from tests.helpers.softhsm import make_token, softhsm_module
from transforms.numbering import derive_my_numbers

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect"),
              pytest.mark.skipif(softhsm_module() is None, reason="SoftHSM2 is not installed")]

SECRET = bytes(range(100, 132))
LABEL = "k-2026-12-01-hsm001"


def test_bulk_with_a_token_key_gives_the_file_key_numbers(tmp_path, prefect_api):
    saved = os.environ.get("SOFTHSM2_CONF")
    try:
        token = make_token(tmp_path / "hsm")
    finally:  # this process keeps its own token (if any); the runs below get theirs by env
        if saved is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = saved
    env = {**os.environ, **token.env, "PREFECT_API_URL": prefect_api["api_url"],
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    code = ("import sys; from pathlib import Path; from tests.helpers.softhsm import SoftToken, "
            "import_aes_key; t = SoftToken(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), "
            "sys.argv[4]); import_aes_key(t, sys.argv[5], bytes(range(100, 132)))")
    subprocess.run([sys.executable, "-c", code, token.module, str(token.conf),
                    str(token.pin_file), token.label, LABEL], check=True, env=env, timeout=120)
    register = generate_register(SampleParams(rows=30, seed=9))
    write_export(register, tmp_path / "register.csv")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    led = open_ledger(url, operator="unknown", create=True)
    mailings.add_range(led, 3606200000, 3606200999)
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "bulk", str(tmp_path / "register.csv"), "--out",
         str(tmp_path / "run"), "--ledger", url, "--key", token.uri(LABEL), "--workers", "1",
         "--config", str(Path(__file__).parents[1] / "helpers" / "municipality.toml")],
        capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    active = numbers.active(led).sort("resident_code")
    expected = derive_my_numbers(active["resident_code"], SECRET, 0)
    assert active.height == 30 and active["my_number"].equals(expected.alias("my_number"))
    keys = ledger_keys.known_keys(led)
    assert [(k["key_id"], k["status"]) for k in keys] == [(LABEL, "current")]
    from core.keys import key_check_value

    assert keys[0]["check_value"] == key_check_value(SECRET)
    report = (tmp_path / "run" / "report.json").read_text()
    assert SECRET.hex()[:16] not in report and "4321-test" not in done.stdout + done.stderr
    assert pl.read_parquet(tmp_path / "run" / "work" / "outcomes.parquet").height == 30
