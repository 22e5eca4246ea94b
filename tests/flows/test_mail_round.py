"""A full round after the printer, through the `mynumber` commands: bulk → hand-over →
some returned → collected / re-sent / destroyed → the rest delivered. Every notice ends
terminal or delivered, the counts add up, and each command is idempotent."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from core.keys import generate_key_file
from ledger import notices, open_ledger
from pipeline.options import strip_ledger_password
from tests.helpers.flow_runs import ROOT, assert_no_number_in, files_written, ledger_numbers, make_opts
from tests.helpers.notice_history import history
from tests.ledger.conftest import pg_url, sqlite_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.xdist_group("prefect")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return strip_ledger_password(request.getfixturevalue("pg_url"), os.environ)


def cli(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MYNUMBER_OPERATOR": "mailroom-1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "cli.main", *args, "--ledger", url],
                          input=stdin, capture_output=True, text=True, timeout=300, env=env,
                          cwd=ROOT)


def live(url: str) -> pl.DataFrame:
    led = open_ledger(url, operator="unknown", create=True)
    out = notices.all_notices(led).filter(~pl.col("status").is_in(notices.NOT_LIVE))
    led.close()
    return out


def test_full_round_ends_with_every_notice_terminal_or_delivered(prefect_api, tmp_path, backend):
    from core.clock import JAPAN, FixedClock
    from flows.issuance import run_bulk
    from mailroom.retention import destroy
    from sample_data.generate import SampleParams, generate_register, write_export

    key = tmp_path / "key.json"
    generate_key_file(key, demo=True)
    register = tmp_path / "register.csv"
    write_export(generate_register(SampleParams(rows=120, seed=11)), register)
    opts = make_opts(tmp_path, key, runner={"workers": 1}, ledger={"url": backend})
    report = run_bulk(str(register), opts)
    assert report["notices"]["all_printed"]
    run_dir = Path(opts.out_dir)

    # manifests plus the manual manifest are the report's envelopes
    manifests = sum(pl.read_parquet(p).filter(pl.col("members") > 0).height
                    for p in run_dir.glob("batches/*/manifest.parquet"))
    manual = pl.read_csv(run_dir / "manual_manifest.csv", infer_schema=False)
    assert manifests + manual.height == report["envelopes"]

    # hand-made envelopes: made, then handed over with the batches
    made = cli(backend, "mail", "made", stdin="\n".join(manual["registered_mail_number"]) + "\n")
    assert made.returncode == 0, made.stderr
    batches = sorted(str(p) for p in run_dir.glob("batches/B*"))
    handover = cli(backend, "mail", "handover", *batches, str(run_dir / "manual_manifest.csv"))
    assert handover.returncode == 0, handover.stderr + handover.stdout
    lists = sorted((run_dir / "handover").glob("handover-*"))
    assert {p.suffix for p in lists} == {".csv", ".pdf"}
    listed = pl.read_csv(next(p for p in lists if p.suffix == ".csv"), infer_schema=False)
    assert listed.height == report["envelopes"]
    assert cli(backend, "mail", "handover", *batches).returncode == 0  # idempotent
    notices_now = live(backend)
    assert set(notices_now["status"]) == {"mailed"}
    assert notices_now.height == 120  # every number issued is on its way

    # four come back; scanned with hyphens, one twice
    envs = listed.sort("registered_mail_number")["registered_mail_number"].to_list()
    back = envs[:4]
    scanned = "\n".join([f"{n[:3]}-{n[3:5]}-{n[5:10]}-{n[10]}" for n in back] + [back[0]]) + "\n"
    args = ("mail", "returned", "--reason", "保管期間経過", "--location", "棚A-1")
    first = cli(backend, *args, stdin=scanned)
    assert first.returncode == 0, first.stderr
    assert cli(backend, *args, stdin=scanned).returncode == 0  # scanning again changes nothing
    wrong = cli(backend, *args, back[0][:-1] + str((int(back[0][-1]) + 1) % 10))
    assert wrong.returncode == 2 and "check digit" in wrong.stderr and back[0] not in wrong.stderr

    # collected at the counter, re-sent to a new address, two destroyed after the hold
    got = cli(backend, "mail", "collect", back[0], "--id-document", "drivers_license")
    assert got.returncode == 0, got.stderr
    resend_dir = tmp_path / "resend"
    sent = cli(backend, "mail", "resend", back[1], "--out", str(resend_dir),
               "--postal-code", "1760001", "--address", "東京都練馬区練馬一丁目1-1")
    assert sent.returncode == 0, sent.stderr + sent.stdout
    assert json.loads((resend_dir / "batches/B00001/qa.json").read_text())["verdict"] == "pass"
    again = cli(backend, "mail", "resend", back[1], "--out", str(tmp_path / "resend2"))
    assert again.returncode == 0 and not (tmp_path / "resend2/batches").exists()  # idempotent
    assert cli(backend, "mail", "handover", str(resend_dir / "batches/B00001")).returncode == 0
    early = cli(backend, "mail", "destroy", "--held-before", dt.date.today().isoformat())
    assert early.returncode == 2 and "mail.retention_months" in early.stderr
    future = dt.date.today() + dt.timedelta(days=200)
    destroyed = destroy(opts, future - dt.timedelta(days=100), tmp_path / "destruction",
                        FixedClock(dt.datetime.combine(future, dt.time(12), JAPAN)))
    assert destroyed["notices_changed"] == live(backend).filter(
        pl.col("registered_mail_number").is_in(back[2:])).height

    # everything else never came back: delivered
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    done = cli(backend, "mail", "delivered", "--mailed-before", tomorrow)
    assert done.returncode == 0, done.stderr

    final = live(backend)
    assert set(final["status"]) <= {"delivered", "handed_over", "destroyed"}
    assert final.height == 120  # one live notice per active number
    by = final.group_by("status").len().to_dict(as_series=False)
    counts = dict(zip(by["status"], by["len"], strict=True))
    in_back = final.filter(pl.col("registered_mail_number").is_in(back))
    assert counts.get("handed_over", 0) + counts.get("destroyed", 0) == in_back.height
    status = cli(backend, "mail", "status", "--json")
    assert status.returncode == 0, status.stderr
    funnel = json.loads(status.stdout)["funnel"]
    assert funnel["issued"] == 120 and funnel["mailed"] >= 120
    assert funnel["delivered"] + funnel["destroyed"] == 120
    rec = cli(backend, "reconcile", "--json")
    assert rec.returncode == 0 and json.loads(rec.stdout)["clean"], rec.stdout

    # the whole history is there, with who and why; nothing written names a number
    led = open_ledger(backend, operator="unknown", create=True)
    hist = history(led)
    led.close()
    assert "mailroom-1" in set(hist["who"])
    assert hist.filter(pl.col("to_status") == "handed_over")["why"].str.contains(
        "drivers_license").all()
    if backend.startswith("sqlite"):
        numbers = ledger_numbers(backend)["my_number"].to_list()
        written = files_written(tmp_path / "resend") + files_written(run_dir) + list(
            (tmp_path / "destruction").iterdir())
        outputs = [made.stdout, handover.stdout, first.stdout, got.stdout, sent.stdout, rec.stdout]
        assert_no_number_in([p for p in written if p.suffix != ".pdf" or "handover" in p.name],
                            numbers, outputs)


def test_reprint_voids_the_spoiled_pages_and_prints_the_same_envelopes(prefect_api, tmp_path):
    from flows.issuance import run_bulk
    from sample_data.generate import SampleParams, generate_register, write_export

    key = tmp_path / "key.json"
    generate_key_file(key, demo=True)
    register = tmp_path / "register.csv"
    write_export(generate_register(SampleParams(rows=60, seed=5)), register)
    opts = make_opts(tmp_path, key, runner={"workers": 1})
    run_bulk(str(register), opts)
    url = opts.ledger.url
    batch = Path(opts.out_dir) / "batches" / "B00001"
    manifest = pl.read_parquet(batch / "manifest.parquet").filter(pl.col("members") > 0)
    seqs = manifest["envelope_seq"].head(2).to_list()
    rmns = manifest["registered_mail_number"].head(2).to_list()
    done = cli(url, "reprint", str(batch), "--envelopes", ",".join(map(str, seqs)),
               "--out", str(tmp_path / "reprint"))
    assert done.returncode == 0, done.stderr + done.stdout
    new = pl.read_parquet(tmp_path / "reprint/batches/B00001/manifest.parquet")
    assert sorted(new["registered_mail_number"].to_list()) == sorted(rmns)
    led = open_ledger(url, operator="unknown", create=True)
    mine = notices.by_mail_numbers(led, rmns)
    led.close()
    assert set(mine.filter(pl.col("status") == "voided")["void_reason"]) == {"reprinted"}
    assert mine.filter(pl.col("status") == "printed").height == manifest.filter(
        pl.col("envelope_seq").is_in(seqs))["members"].sum()
    # the old pages are void: reprinting them again is refused, the new ones can go out
    assert cli(url, "reprint", str(batch), "--envelopes", str(seqs[0]),
               "--out", str(tmp_path / "reprint2")).returncode == 2
    assert cli(url, "mail", "handover", str(tmp_path / "reprint/batches/B00001")).returncode == 0
