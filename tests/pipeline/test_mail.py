"""Mail-room helpers without a flow: scanned numbers are checked (position, never value),
retention dates, the funnel chart is self-contained."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.clock import FixedClock, SystemClock
from core.errors import InputError
from mailroom.dates import add_months, held_since_before, japan_midnight
from mailroom.scans import parse_mail_numbers
from pipeline.report import funnel_svg, render_html


def test_scanned_numbers_are_compacted_checked_and_deduplicated():
    assert parse_mail_numbers(["360-60-00001-2", " 36060000012 ", "", "36060000012"]) == [
        "36060000012"]
    with pytest.raises(InputError) as info:
        parse_mail_numbers(["36060000012", "36060000013"])
    assert "registered-mail number 2" in str(info.value) and "36060000013" not in str(info.value)
    with pytest.raises(InputError):
        parse_mail_numbers(["", "  "])
    with pytest.raises(InputError):
        parse_mail_numbers(["3606000001"])  # a digit short


@pytest.mark.parametrize(("day", "months", "expected"), [
    (dt.date(2026, 5, 31), -3, dt.date(2026, 2, 28)),
    (dt.date(2026, 1, 15), -3, dt.date(2025, 10, 15)),
    (dt.date(2024, 5, 29), -3, dt.date(2024, 2, 29)),
])
def test_add_months_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_the_retention_period_is_counted_in_japanese_days():
    """00:30 on 1 April in Tokyo is still 31 March in UTC: one month back is 1 March (JST)."""
    clock = FixedClock(dt.datetime(2026, 3, 31, 15, 30, tzinfo=dt.UTC))
    assert held_since_before(clock, 1) == dt.datetime(2026, 2, 28, 15, 0, tzinfo=dt.UTC)
    assert japan_midnight(dt.date(2026, 3, 1)) == dt.datetime(2026, 2, 28, 15, 0, tzinfo=dt.UTC)


def test_funnel_is_inline_svg_without_external_references():
    svg = funnel_svg({"issued": 10, "printed": 9, "mailed": 9, "delivered": 7, "held": 1,
                      "destroyed": 1})
    assert svg.startswith("<svg") and svg.count("<rect") == 6
    assert "http" not in svg and "href" not in svg
    page = render_html({"kind": "bulk", "run_id": "r", "outcomes": {"issued": 10},
                        "input_rows": 10, "counts_add_up": True,
                        "funnel": {"issued": 10, "printed": 9},
                        "notices": {"planned": 9, "printed": 9, "all_printed": True}})
    assert "<svg" in page and "Notices of this run" in page


def test_an_unreachable_ledger_is_one_line_and_exit_2(tmp_path):
    import os
    import subprocess
    import sys

    from tests.helpers.flow_runs import ROOT

    for args in (["mail", "status"], ["reconcile"], ["mail", "returned", "36060000012",
                                                      "--reason", "宛所不明", "--location", "A"]):
        done = subprocess.run([sys.executable, "-m", "cli.main", *args, "--ledger",
                               "postgresql://nobody@127.0.0.1:1/x"], capture_output=True,
                              text=True, timeout=120, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "could not be reached" in done.stderr


def test_every_mail_command_closes_the_ledger_it_opens(tmp_path, small_run, monkeypatch):
    """The mail-room commands run in the CLI and in a tester's or a service's process: each
    closes its ledger (an open SQLite connection keeps its page cache) as the run stages do."""
    import polars as pl

    from mailroom import dispatch, new_envelopes, reconcile, retention, scans
    from pipeline.stages import batches, bookkeeping, check, issue, plan

    opts, register = small_run
    check.stage_check(opts, str(register))
    run_id = bookkeeping.stage_start(opts, str(register))["run_id"]
    issue.stage_issue(opts, run_id)
    batch_ids = plan.stage_plan(opts, run_id)["batch_ids"]
    assert len(batch_ids) >= 2
    for batch_id in batch_ids:
        batches.stage_render(opts, batch_id)
        assert batches.stage_qa(opts, batch_id)["verdict"] == "pass"

    opened = []
    real_open = bookkeeping.run_ledger

    def recording_open(o):
        ledger = real_open(o)
        opened.append(ledger)
        return ledger

    for module in (scans, dispatch, retention, new_envelopes, reconcile):
        monkeypatch.setattr(module, "run_ledger", recording_open)  # patched where used
    first, second = (opts.run_dir.batch_dir(b) for b in batch_ids[:2])
    spoiled = int(pl.read_parquet(second / "manifest.parquet")["envelope_seq"][0])
    assert new_envelopes.reprint(opts.in_folder(tmp_path / "reprint"), second, [spoiled])["qa"] == "pass"
    new_year_in_tokyo = FixedClock(dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC))
    handed = dispatch.handover(opts, [first], tmp_path / "handover", new_year_in_tokyo)
    assert handed["notices_changed"] > 0
    assert Path(handed["csv"]).name == "handover-20270101T003000.csv"  # the list is stamped in JST
    rmn = pl.read_parquet(first / "manifest.parquet")["registered_mail_number"].to_list()
    scans.delivered(opts, rmn[:1])
    scans.returned(opts, rmn[1:3], scans.RETURN_REASONS[0], "A-1")
    scans.collect(opts, rmn[1], "passport")
    assert new_envelopes.resend(opts.in_folder(tmp_path / "resend"), rmn[2])["qa"] == "pass"
    scans.mailed_before(opts, dt.date.today() + dt.timedelta(days=1))
    reconcile.status(opts, SystemClock())
    reconcile.reconcile(opts, SystemClock())
    retention.destroy(opts, add_months(dt.date.today(), -opts.mail.retention_months), tmp_path / "destroyed",
                      SystemClock())

    assert len(opened) == 10
    for ledger in opened:   # disposed: no connection (and no page cache) left in its pool
        assert ledger.engine.pool.checkedin() == 0
