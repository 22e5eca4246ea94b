"""`check --key` holds what the run would hold (pipeline.stages.foresee): the same rows bulk and
daily hold, on SQLite and PostgreSQL, reading the ledger only."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from alembic import command

from core.errors import ConfigError, KeyMismatch
from core.keys import generate_key_file, load_key
from ledger.engine import make_engine, resolve_url
from ledger.migrate import alembic_config
from pipeline.stages.foresee import check_with_key
from pipeline.stages.register_check import RegisterCheck, check_register_file
from tests.helpers.flow_runs import make_opts
from tests.helpers.ledger_snapshot import snapshot
from tests.helpers.row_runs import (
    EVENT_COLUMNS,
    ISSUE_DAY,
    bulk_world,
    derived,
    event,
    final_verdicts,
    new_code,
    opts_for,
    rules_of,
    run_bulk_stages,
    run_daily_stages,
    write,
)
from tests.readers.hostile_corpus import base_rows, my_number

DAY = dt.date.fromisoformat(ISSUE_DAY)


def plain_check(path: Path, kind: str = "register") -> RegisterCheck:
    return check_register_file(path, kind=kind, today=DAY)


def with_key(path: Path, key_path: Path, url: str, kind: str = "register") -> RegisterCheck:
    return check_with_key(plain_check(path, kind), load_key(str(key_path)), url, kind=kind, issue_day=DAY)


def held(result: RegisterCheck) -> set[int]:
    return {int(r) for r in result.quarantine["row"].to_list()}


def held_by_run(rows: int, result: dict) -> set[int]:
    return {r for r, v in final_verdicts(rows, result).items() if v == "held"}


def test_a_brought_number_equal_to_anothers_derived_number_is_held_by_check_with_the_key(
        tmp_path, demo_key_path, run_ledger_url):
    rows = base_rows()
    rows[0]["my_number"] = derived(demo_key_path, str(rows[4]["resident_code"]))
    path = write(tmp_path, rows)
    assert held(plain_check(path)) == set()  # the suite alone cannot know
    before = _fingerprint(run_ledger_url)
    foreseen = with_key(path, demo_key_path, run_ledger_url)
    assert _fingerprint(run_ledger_url) == before  # read only (a new ledger is not even created)
    assert held(foreseen) == {1, 5}
    assert rules_of(foreseen.quarantine.cast({"row": pl.Utf8}), 1) == {"number_collision"}
    assert foreseen.report["outcomes"] == {"accepted": 6, "quarantined": 2}
    assert foreseen.report["rules"]["number_collision"] == 2
    assert foreseen.report["foreseen"]["rows_held"] == 2
    assert foreseen.accepted.height == 6
    assert held_by_run(len(rows), run_bulk_stages(opts_for(tmp_path, demo_key_path, run_ledger_url), path)) == {1, 5}


def test_a_number_the_ledger_holds_for_someone_else_is_held_by_check_with_the_key(
        tmp_path, demo_key_path, run_ledger_url):
    rows = base_rows()
    rows[0]["my_number"] = derived(demo_key_path, str(rows[4]["resident_code"]))
    run_bulk_stages(opts_for(tmp_path, demo_key_path, run_ledger_url), write(tmp_path, [rows[0], rows[1]]))
    later = [{**rows[0], "my_number": None}, *rows[1:]]  # the export no longer lists the number
    path = write(tmp_path, later)
    assert held(plain_check(path)) == set()
    before = _fingerprint(run_ledger_url)
    foreseen = with_key(path, demo_key_path, run_ledger_url)
    assert _fingerprint(run_ledger_url) == before
    run = run_bulk_stages(opts_for(tmp_path, demo_key_path, run_ledger_url), path)
    assert held(foreseen) == held_by_run(len(later), run) == {5}
    assert rules_of(foreseen.quarantine.cast({"row": pl.Utf8}), 5) == {"number_collision"}


def test_events_the_ledger_contradicts_are_held_by_check_with_the_key(tmp_path, demo_key_path, run_ledger_url):
    rows = bulk_world(tmp_path, demo_key_path, run_ledger_url)
    opts = make_opts(tmp_path, demo_key_path, out_dir=str(tmp_path / "day1"), ledger={"url": run_ledger_url},
                     print={"issue_date": ISSUE_DAY})
    run_daily_stages(opts, write(tmp_path, [event(rows[0], "move_out", "2026-11-20")], "events.csv", EVENT_COLUMNS))
    baby = new_code(10)
    day = [
        event(rows[0], "number_change", "2026-11-24"),                                   # after its move-out
        event(rows[2], "death", "2026-11-24", resident_code=new_code(1)),                # never known
        event(rows[4], "death", "1980-01-01", date_of_birth="1990-01-01"),               # before birth
        event(rows[5], "birth", "2026-11-24", resident_code=baby, relationship="子", date_of_birth="2026-11-24"),
        event(rows[6], "move_in", "2026-11-24", resident_code=new_code(12), household_id="NEW-9",
              my_number=derived(demo_key_path, baby)),                                   # collides with the birth
        event(rows[7], "move_out", "2026-11-24"),                                        # fine
    ]
    path = write(tmp_path, day, "events.csv", EVENT_COLUMNS)
    assert held(plain_check(path, "events")) == {3}
    before = _fingerprint(run_ledger_url)
    foreseen = with_key(path, demo_key_path, run_ledger_url, kind="events")
    assert _fingerprint(run_ledger_url) == before
    opts = make_opts(tmp_path, demo_key_path, out_dir=str(tmp_path / "day2"), ledger={"url": run_ledger_url},
                     print={"issue_date": ISSUE_DAY})
    run = run_daily_stages(opts, path)
    by_run = {int(r) for r in run["quarantine"]["row"].to_list()}
    assert held(foreseen) == by_run == {1, 2, 3, 4, 5}
    q = foreseen.quarantine.cast({"row": pl.Utf8})
    assert rules_of(q, 1) == {"event_after_move_out"}
    assert rules_of(q, 2) == {"event_unknown_resident"}
    assert rules_of(q, 4) == rules_of(q, 5) == {"number_collision"}


def test_a_foreign_key_is_refused_and_the_ledger_unchanged(tmp_path, demo_key_path, run_ledger_url):
    rows = base_rows()
    run_bulk_stages(opts_for(tmp_path, demo_key_path, run_ledger_url), write(tmp_path, rows[:2]))
    other = tmp_path / "other.json"
    generate_key_file(other, demo=True)
    before = snapshot(run_ledger_url)
    with pytest.raises(KeyMismatch):
        with_key(write(tmp_path, rows), other, run_ledger_url)
    assert snapshot(run_ledger_url) == before


def test_an_older_ledger_schema_is_refused_not_upgraded(tmp_path, demo_key_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(resolve_url(url))
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0003")
    engine.dispose()
    before = (tmp_path / "old.db").read_bytes()
    with pytest.raises(ConfigError, match="older than this program"):
        with_key(write(tmp_path, base_rows()), demo_key_path, url)
    assert (tmp_path / "old.db").read_bytes() == before


def test_cli_check_with_key_reports_what_it_foresaw(tmp_path, demo_key_path):
    rows = base_rows()
    rows[0]["my_number"] = derived(demo_key_path, str(rows[4]["resident_code"]))
    rows[2]["my_number"] = my_number("91234567890")
    path = write(tmp_path, rows)
    ledger = tmp_path / "ledger.db"
    out = tmp_path / "out"
    plain = _mynumber("check", str(path), "--out", str(tmp_path / "plain"), "--today", ISSUE_DAY)
    assert plain.returncode == 0, plain.stderr
    keyed = _mynumber("check", str(path), "--out", str(out), "--today", ISSUE_DAY,
                      "--key", str(demo_key_path), "--ledger", f"sqlite:///{ledger}")
    assert keyed.returncode == 1, keyed.stderr
    assert "2 more rows held" in " ".join(keyed.stdout.split())
    assert not ledger.exists()  # reading a ledger that does not exist creates nothing
    report = json.loads((out / "report.json").read_text())
    assert report["outcomes"] == {"accepted": 6, "quarantined": 2}
    assert report["foreseen"]["rows_held"] == 2
    assert report["foreseen"]["key_id"] == load_key(str(demo_key_path)).key_id
    quarantine = pl.read_csv(out / "quarantine.csv")
    assert sorted(quarantine["row"].to_list()) == [1, 5]
    for written in out.iterdir():  # no number, brought or derived, in what check writes
        text = written.read_text()
        assert rows[0]["my_number"] not in text and rows[2]["my_number"] not in text


def test_cli_check_ledger_without_key_is_a_usage_error(tmp_path):
    path = write(tmp_path, base_rows())
    out = _mynumber("check", str(path), "--out", str(tmp_path / "o"), "--ledger", f"sqlite:///{tmp_path / 'l.db'}")
    assert out.returncode == 2
    assert "--ledger needs --key" in out.stderr
    assert "Traceback" not in out.stderr


def _mynumber(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})


def _fingerprint(url: str) -> str | None:
    """The ledger's contents, or None when it does not exist (SQLite file or empty schema)."""
    from ledger.preflight import look

    if not look(url, None).exists:
        from ledger.preflight import sqlite_path

        path = sqlite_path(url)
        assert path is None or not path.exists(), "check --key created a ledger file"
        return None
    return snapshot(url)
