"""Mail-room helpers without a flow: scanned numbers are checked (position, never value),
retention dates, the funnel chart is self-contained."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import InputError
from pipeline.mail import add_months, parse_mail_numbers
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
