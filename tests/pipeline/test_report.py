"""Reports add up, say so, and the HTML is self-contained."""

import re

from core.settings import Settings
from pipeline.options import RunOptions
from pipeline.report import bulk_report, exit_code, render_html

OPTS = RunOptions.of(Settings().with_changes(print={"issue_date": "2026-11-26"}), "x")


def make(quarantined=3, qa="pass", issued=95, already=2):
    state = {"run_id": "r1", "input_sha256": "0" * 64, "resumed": False}
    checked = {"input_rows": 100, "quarantined": quarantined, "rules": {"resident_code_check_digit": 3}}
    issue = {"outcomes": {"issued": issued, "already_issued": already}, "reused": 0, "timings": {}}
    plan = {"households": 50, "envelopes": 50, "members": 95, "manual_handling": 1, "reused": False}
    rendered = [{"batch_id": "B00001", "pages": 145, "reused": False, "render_s": 1.0}]
    checked_batches = [{"batch_id": "B00001", "verdict": qa, "failed_checks": [] if qa == "pass" else ["qr"]}]
    return bulk_report(state, checked, issue, plan, rendered, checked_batches, {"check": 1.0}, OPTS)


def test_outcomes_sum_to_input_rows_and_the_report_says_so():
    report = make()
    assert sum(report["outcomes"].values()) == report["input_rows"] == 100
    assert report["counts_add_up"] is True


def test_a_gap_in_the_counts_is_reported_and_fails_the_exit_code():
    report = make(quarantined=0, issued=90)
    assert report["counts_add_up"] is False and exit_code(report) == 1


def test_exit_codes():
    assert exit_code(make(quarantined=0, issued=98)) == 0
    assert exit_code(make(quarantined=2, issued=96)) == 1
    assert exit_code(make(quarantined=0, issued=98, qa="fail")) == 1


def test_html_is_self_contained():
    page = render_html(make())
    assert "<script" not in page.lower()
    assert not re.search(r"(src|href)\s*=", page, re.I)
    assert "@import" not in page and "url(" not in page
