"""The daily flow end to end, on events built from a real bulk run's register:
each event type does what the law says, counts add up, and a second run of the same
file adds nothing and prints nothing."""

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
from transforms.identifiers import my_number as my_number_id
from transforms.identifiers import resident_code as resident_code_id

pytestmark = pytest.mark.xdist_group("prefect")
EVENT_DATE = "2026-11-25"


def new_code(serial: int) -> str:
    body = f"9{serial:09d}"
    return body + str(resident_code_id.calc_check_digit(body))


def outside_number(serial: int) -> str:
    """A number issued elsewhere in Japan (valid check digit, not in this ledger)."""
    body = f"7{serial:010d}"
    return body + str(my_number_id.calc_check_digit(body))


@pytest.fixture(scope="module")
def world(prefect_api, tmp_path_factory, demo_key_path, small_register):
    """A bulk run, then an events file touching it in every way the law knows."""
    from flows.issuance import run_bulk

    tmp = tmp_path_factory.mktemp("daily")
    opts = make_opts(tmp, demo_key_path)
    run_bulk(str(small_register), opts)
    register = pl.read_csv(small_register, infer_schema=False)
    numbers = ledger_numbers(opts.ledger.url)
    heads = register.filter(pl.col("relationship") == "世帯主")
    h0, h1, h2, h3, h4 = (heads.row(i, named=True) for i in range(5))
    someone_elses = numbers.filter(pl.col("resident_code") == h4["resident_code"])["my_number"][0]

    def event(base: dict, code: str, kind: str, number: str | None = None, **changes) -> dict:
        row = {**base, "resident_code": code, "my_number": number or "", "event": kind,
               "event_date": EVENT_DATE, **changes}
        return row

    rows = [
        event(h0, new_code(1), "birth", relationship="子", given_name="陽葵", given_name_kana="ヒマリ",
              date_of_birth="2026-11-20"),
        event(h1, new_code(2), "first_registration", relationship="世帯主", household_id="NEWHH-1"),
        event(h2, new_code(3), "move_in", outside_number(3), household_id="NEWHH-2", relationship="世帯主"),
        event(h2, new_code(4), "move_in", someone_elses, household_id="NEWHH-3", relationship="世帯主"),
        event(h3, h3["resident_code"], "number_change"),
        event(h4, h4["resident_code"], "death"),
    ]
    events = pl.DataFrame(rows).select(register.columns + ["event", "event_date"])
    events_path = tmp / "events-2026-11-25.csv"
    events.write_csv(events_path)
    return tmp, opts, events_path, {"h3": h3["resident_code"], "moved": new_code(3), "moved_number": outside_number(3)}


@pytest.fixture(scope="module")
def first_run(world):
    from flows.issuance import run_daily

    tmp, opts, events_path, ids = world
    daily_opts = opts.with_changes(print={"issue_date": EVENT_DATE}).in_folder(tmp / "day1")
    before = ledger_numbers(opts.ledger.url)
    report = run_daily(str(events_path), daily_opts)
    return daily_opts, report, before


def test_each_event_does_what_the_law_says(world, first_run):
    _, opts, _, ids = world
    daily_opts, report, before = first_run
    assert report["outcomes"] == {
        "issued": 2, "kept": 1, "reissued": 1, "recorded": 1, "already_processed": 0, "quarantined": 1,
    }
    assert report["counts_add_up"] and sum(report["outcomes"].values()) == report["input_rows"] == 6
    after = ledger_numbers(opts.ledger.url)
    assert after.height == before.height + 2 + 1 + 1  # births/first registrations, move-in, reissue
    changed = after.filter(pl.col("resident_code") == ids["h3"]).sort("generation")
    assert changed["status"].to_list() == ["revoked", "active"]
    assert changed["my_number"].n_unique() == 2
    kept = after.filter(pl.col("resident_code") == ids["moved"])
    assert kept["my_number"].to_list() == [ids["moved_number"]] and kept["status"][0] == "active"
    assert after["my_number"].n_unique() == after.height


def test_the_daily_tasks_keep_their_own_names(first_run, prefect_api):
    names = task_names_of(prefect_api["db_path"], "daily-increment")
    assert {"check-events", "start-daily-run", "apply-events", "plan-daily-envelopes"} <= names
    assert not names & {"check-register", "issue-numbers", "ledger-step", "check-input"}


def test_new_cards_are_printed_for_new_and_changed_numbers_only(first_run):
    daily_opts, report, _ = first_run
    assert report["qa"]["verdict"] == "pass"
    manifests = pl.concat(pl.read_parquet(p) for p in Path(daily_opts.out_dir).glob("batches/*/manifest.parquet"))
    assert manifests["members"].sum() == 3  # two new numbers, one changed number
    quarantine = pl.read_csv(Path(daily_opts.out_dir) / "quarantine.csv")
    assert quarantine.height == 1 and quarantine["field"][0] == "my_number"


def test_same_file_again_adds_nothing_and_prints_nothing(world, first_run):
    from flows.issuance import run_daily

    tmp, opts, events_path, _ = world
    daily_opts, _, _ = first_run
    before = ledger_numbers(opts.ledger.url)
    again = run_daily(str(events_path), daily_opts.in_folder(tmp / "day1-again"))
    assert ledger_numbers(opts.ledger.url).sort("my_number").equals(before.sort("my_number"))
    assert again["outcomes"]["already_processed"] == 5 and again["outcomes"]["quarantined"] == 1
    assert again["envelopes"] == 0 and again["pages"] == 0 and again["counts_add_up"]


def test_no_full_number_in_daily_outputs(world, first_run):
    _, opts, _, _ = world
    daily_opts, _, _ = first_run
    numbers = ledger_numbers(opts.ledger.url)["my_number"].to_list()
    assert_no_number_in(files_written(Path(daily_opts.out_dir)), numbers)
    saved = json.loads((Path(daily_opts.out_dir) / "report.json").read_text())
    assert saved["kind"] == "daily"


def test_events_are_recorded_once_in_the_ledger(world, first_run):
    _, opts, _, _ = world
    with sqlite3.connect(opts.ledger.url.split("///", 1)[1]) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
    assert count == 5
