"""The bulk flow end to end: real register, real key, real SQLite ledger, real PDFs,
real Prefect server. One run per module, several properties checked on it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from tests.helpers.flow_runs import (
    assert_no_number_in,
    files_written,
    ledger_numbers,
    make_opts,
    task_names_of,
)

pytestmark = pytest.mark.xdist_group("prefect")


@pytest.fixture(scope="module")
def bulk_run(prefect_api, tmp_path_factory, demo_key_path, small_register):
    from flows.issuance import run_bulk

    tmp = tmp_path_factory.mktemp("bulk")
    opts = make_opts(tmp, demo_key_path)
    report = run_bulk(str(small_register), opts)
    return tmp, opts, report


def test_counts_add_up_and_every_accepted_resident_is_issued(bulk_run):
    _, opts, report = bulk_run
    assert report["counts_add_up"] is True
    assert sum(report["outcomes"].values()) == report["input_rows"] == 240
    numbers = ledger_numbers(opts.ledger.url)
    assert report["outcomes"]["issued"] == numbers.height > 0
    assert numbers["my_number"].n_unique() == numbers.height
    assert report["outcomes"]["already_issued"] == 0


def test_every_issued_resident_is_in_exactly_one_envelope_of_one_batch(bulk_run):
    _, opts, report = bulk_run
    manifests = pl.concat(
        pl.read_parquet(p) for p in sorted(Path(opts.out_dir, "batches").glob("*/manifest.parquet"))
    )
    codes = manifests.select(pl.col("resident_codes").explode()).to_series()
    issued = ledger_numbers(opts.ledger.url)["resident_code"]
    manual = pl.read_csv(Path(opts.out_dir) / "manual_handling.csv", schema_overrides={"resident_code": pl.Utf8})
    assert codes.n_unique() == codes.len()
    assert set(codes) | set(manual["resident_code"]) == set(issued)
    assert manifests.height == report["envelopes"]
    assert manifests["envelope_seq"].to_list() == sorted(manifests["envelope_seq"].to_list())
    assert report["batches"] == len(list(Path(opts.out_dir, "batches").iterdir()))


def test_every_batch_verifies_and_passed_qa(bulk_run):
    _, opts, report = bulk_run
    assert report["qa"]["verdict"] == "pass"
    for batch in Path(opts.out_dir, "batches").iterdir():
        assert {"cards.pdf", "manifest.parquet", "manifest.csv", "SHA256SUMS", "qa.json"} <= {
            p.name for p in batch.iterdir()
        }
        assert json.loads((batch / "qa.json").read_text())["verdict"] == "pass"


def test_manifests_mask_numbers_to_the_last_four_digits(bulk_run):
    _, opts, _ = bulk_run
    numbers = ledger_numbers(opts.ledger.url)
    last4 = dict(zip(numbers["resident_code"], numbers["my_number"].str.slice(8), strict=True))
    manifest = pl.read_parquet(next(Path(opts.out_dir, "batches").glob("*/manifest.parquet")))
    for codes, masked in zip(manifest["resident_codes"], manifest["my_numbers_masked"], strict=True):
        for code, mask in zip(codes, masked, strict=True):
            assert mask == "********" + last4[code]


def test_no_full_number_outside_cards_and_ledger(bulk_run, prefect_api):
    tmp, opts, _ = bulk_run
    numbers = ledger_numbers(opts.ledger.url)["my_number"].to_list()
    paths = files_written(Path(opts.out_dir))
    db = Path(prefect_api["db_path"])
    paths += [p for p in db.parent.glob(db.name + "*") if p.is_file()]
    storage = Path.home() / ".prefect" / "storage"
    if storage.exists():
        paths += [p for p in storage.rglob("*") if p.is_file()]
    assert_no_number_in(paths, numbers)


def test_the_run_is_recorded_in_prefect_with_tasks_and_no_personal_parameters(bulk_run, prefect_api):
    _, _, report = bulk_run
    with sqlite3.connect(prefect_api["db_path"]) as conn:
        flows = conn.execute(
            "SELECT fr.id, fr.state_type, fr.parameters FROM flow_run fr JOIN flow f ON f.id = fr.flow_id "
            "WHERE f.name = 'bulk-issuance'"
        ).fetchall()
        assert flows and any(state == "COMPLETED" for _, state, _ in flows)
        tasks = {row[0] for row in conn.execute("SELECT DISTINCT task_key FROM task_run")}
        artifacts = conn.execute("SELECT key FROM artifact").fetchall()
    assert any(t.startswith("render") for t in tasks) and any(t.startswith("qa") for t in tasks)
    assert ("bulk-run-report",) in artifacts
    params = json.loads(flows[0][2])
    assert set(params) == {"register_path", "opts"}
    assert "key_hex" not in flows[0][2]


def test_the_bulk_tasks_keep_the_names_the_readme_lists(bulk_run, prefect_api):
    """Bulk and daily share one flow body; each run's tasks still carry its own names."""
    names = task_names_of(prefect_api["db_path"], "bulk-issuance")
    assert {"check-register", "start-run", "issue-numbers", "plan-envelopes", "render-batch",
            "qa-batch", "report-and-finish"} <= names
    assert not names & {"check-events", "apply-events", "ledger-step", "check-input"}


def test_report_files_exist_and_html_is_self_contained(bulk_run):
    _, opts, report = bulk_run
    saved = json.loads(Path(opts.out_dir, "report.json").read_text())
    assert saved["run_id"] == report["run_id"] and saved["counts_add_up"]
    page = Path(opts.out_dir, "report.html").read_text()
    assert "<script" not in page and "http" not in page


def test_running_the_same_register_again_issues_and_prints_nothing_new(bulk_run, small_register, tmp_path):
    from flows.issuance import run_bulk

    _, opts, first = bulk_run
    before = ledger_numbers(opts.ledger.url)
    again = run_bulk(str(small_register), opts.in_folder(tmp_path / "again"))
    after = ledger_numbers(opts.ledger.url)
    assert before.sort("resident_code").equals(after.sort("resident_code"))
    assert again["outcomes"]["issued"] == 0
    assert again["outcomes"]["already_issued"] == first["outcomes"]["issued"]
    assert again["envelopes"] == 0 and again["counts_add_up"]


def test_household_whose_head_cannot_be_printed_goes_whole_to_manual_handling(
        prefect_api, tmp_path, demo_key_path, small_register):
    """Never a blank box, never a lost household (the Osaka failure): listed, numbered, not batched."""
    from flows.issuance import run_bulk

    register = pl.read_csv(small_register, infer_schema=False)
    head = register.filter(pl.col("relationship") == "世帯主").row(0, named=True)
    marked = register.with_columns(
        pl.when(pl.col("resident_code") == head["resident_code"])
        .then(pl.col("family_name") + "\U000E0100").otherwise(pl.col("family_name")).alias("family_name")
    )
    path = tmp_path / "register.csv"
    marked.write_csv(path)
    opts = make_opts(tmp_path, demo_key_path)
    report = run_bulk(str(path), opts)
    household = register.filter(pl.col("household_id") == head["household_id"])["resident_code"]
    manual = pl.read_csv(Path(opts.out_dir) / "manual_handling.csv", schema_overrides={"resident_code": pl.Utf8})
    assert head["resident_code"] in manual["resident_code"].to_list()
    assert "U+E0100" in " ".join(manual["codepoints"].to_list())
    printed = pl.concat(pl.read_parquet(p) for p in Path(opts.out_dir).glob("batches/*/manifest.parquet"))
    printed_codes = set(printed.select(pl.col("resident_codes").explode())["resident_codes"])
    assert not printed_codes & set(household)
    assert report["outcomes"]["issued"] == report["input_rows"] and report["counts_add_up"]
    assert report["qa"]["verdict"] == "pass" and report["manual_handling"] >= 1


def test_rows_bringing_a_number_keep_it_and_are_never_issued_a_new_one(bulk_run, small_register, tmp_path):
    """A resident keeps their number for life: a bulk register that lists numbers (move-ins,
    an export with numbers) never causes a second number; someone else's is quarantined."""
    from flows.issuance import run_bulk
    from transforms.identifiers import my_number as my_number_id
    from transforms.identifiers import resident_code as resident_code_id

    _, opts, _ = bulk_run
    ledger = ledger_numbers(opts.ledger.url)
    register = pl.read_csv(small_register, infer_schema=False)
    heads = register.filter(pl.col("relationship") == "世帯主")
    known = heads.row(0, named=True)
    known_number = ledger.filter(pl.col("resident_code") == known["resident_code"])["my_number"][0]
    other_number = ledger.filter(pl.col("resident_code") == heads["resident_code"][1])["my_number"][0]

    def newcomer(i: int, number: str) -> dict:
        body = f"8{i:09d}"
        return {**heads.row(2 + i, named=True), "household_id": f"NEW-{i}", "my_number": number,
                "resident_code": body + str(resident_code_id.calc_check_digit(body))}

    outside = "6" + "0" * 9 + "1"
    outside += str(my_number_id.calc_check_digit(outside))
    rows = pl.DataFrame([
        {**known, "my_number": known_number},   # already in the ledger: already issued
        newcomer(1, outside),                   # a number from elsewhere: kept
        newcomer(2, other_number),              # someone else's number: quarantined
        {**newcomer(3, ""), "household_id": known["household_id"], "relationship": "子"},  # new child
    ]).select(register.columns)
    path = tmp_path / "with-numbers.csv"
    rows.write_csv(path)
    report = run_bulk(str(path), opts.in_folder(tmp_path / "out"))
    assert report["outcomes"] == {"issued": 1, "kept": 1, "already_issued": 1, "quarantined": 1}
    assert report["counts_add_up"] and report["envelopes"] == 1  # the child, head not in the set
    assert report["qa"]["verdict"] == "pass"
    after = ledger_numbers(opts.ledger.url)
    assert after.height == ledger.height + 2
    assert after.filter(pl.col("my_number") == outside)["resident_code"][0] == rows["resident_code"][1]
    assert after.filter(pl.col("resident_code") == rows["resident_code"][2]).height == 0
    quarantine = pl.read_csv(tmp_path / "out" / "quarantine.csv")
    assert quarantine["field"].to_list() == ["my_number"]
    assert_no_number_in(files_written(tmp_path / "out"), after["my_number"].to_list())


def test_qa_command_rechecks_a_batch_against_the_recorded_ledger_and_catches_tampering(bulk_run, tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    _, opts, _ = bulk_run
    batch = sorted(Path(opts.out_dir, "batches").iterdir())[0]
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("MYNUMBER_LEDGER", None)

    def qa(folder: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli.main", "qa", str(folder), "--full"],
                              capture_output=True, text=True, timeout=300, env=env)

    done = qa(batch)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    checks = json.loads((batch / "qa.json").read_text())["checks"]
    assert checks["ledger_numbers"]["verdict"] == "pass" and checks["qr_codes"]["verdict"] == "pass"

    tampered_run = tmp_path / "run"
    shutil.copytree(Path(opts.out_dir) / "work", tampered_run / "work")
    copy = tampered_run / "batches" / batch.name
    shutil.copytree(batch, copy)
    pdf = (copy / "cards.pdf").read_bytes()
    (copy / "cards.pdf").write_bytes(pdf[:-200])  # a truncated print file
    failed = qa(copy)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert json.loads((copy / "qa.json").read_text())["verdict"] == "fail"


def test_text_that_cannot_be_printed_legibly_goes_to_manual_handling_before_printing(
        prefect_api, tmp_path, demo_key_path, small_register):
    """Wrap, then refuse (issue 12): a name too long for the card at 7 pt is never printed
    at 0.3 pt; the plan stage lists the resident with the field and the reason, not the name."""
    from flows.issuance import run_bulk

    register = pl.read_csv(small_register, infer_schema=False)
    member = register.filter(pl.col("relationship") != "世帯主").row(0, named=True)
    long_name = "練" * 60
    marked = register.with_columns(
        pl.when(pl.col("resident_code") == member["resident_code"])
        .then(pl.lit(long_name)).otherwise(pl.col("family_name")).alias("family_name"))
    path = tmp_path / "register.csv"
    marked.write_csv(path)
    opts = make_opts(tmp_path, demo_key_path)
    report = run_bulk(str(path), opts)
    manual = pl.read_csv(Path(opts.out_dir) / "manual_handling.csv", schema_overrides={"resident_code": pl.Utf8})
    rows = manual.filter(pl.col("resident_code") == member["resident_code"])
    assert rows.height >= 1 and all("does not fit" in r for r in rows["reason"])
    assert "card.氏名" in rows["field"].to_list()
    plan = pl.read_parquet(Path(opts.out_dir) / "work" / "plan.parquet")
    assert plan.filter(pl.col("resident_code") == member["resident_code"])["manual_reason"].to_list() \
        == ["does_not_fit"]
    assert long_name not in (Path(opts.out_dir) / "manual_handling.csv").read_text(encoding="utf-8")
    printed = pl.concat(pl.read_parquet(p) for p in Path(opts.out_dir).glob("batches/*/manifest.parquet"))
    assert member["resident_code"] not in set(printed.select(pl.col("resident_codes").explode())["resident_codes"])
    assert report["qa"]["verdict"] == "pass" and report["counts_add_up"]
