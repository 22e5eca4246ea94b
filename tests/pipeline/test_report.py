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


HOSTILE = "<script>alert('x')</script>\"&'"


def _hostile_report() -> dict:
    """A report whose every text field (keys and values) carries markup and quotes."""
    return {"kind": HOSTILE, "run_id": HOSTILE, "demo": True,
            "outcomes": {HOSTILE: HOSTILE}, "input_rows": HOSTILE, "counts_add_up": True,
            "households": HOSTILE, "qa": {"verdict": HOSTILE, "failed_batches": [HOSTILE]},
            "notices": {"planned": HOSTILE, "all_printed": True},
            "funnel": {"issued": 3, "printed": 1},
            "quarantine_rules": {HOSTILE: HOSTILE}, "timings": {HOSTILE: HOSTILE}}


def test_hostile_text_in_any_field_is_escaped():
    page = render_html(_hostile_report())
    assert "<script" not in page.lower()
    assert "alert(" in page  # the text is shown, escaped, not dropped
    assert "&lt;script&gt;" in page
    # quotes escaped too, so nothing can leave an attribute (the QA verdict is a class name)
    assert "class='<" not in page and "\"&'" not in page
    assert "&#34;" in page and "&#39;" in page and "&amp;" in page
    assert page.count("<rect") == 6  # the funnel (built from integers) is still drawn


def test_html_keeps_its_sections_and_numbers():
    page = render_html({**make(), "notices": {"planned": 7, "printed": 7, "all_printed": True},
                        "funnel": {"issued": 10}})
    for heading in ("Outcomes", "Printing", "Print QA: <span class='pass'>pass</span>",
                    "Notices of this run", "Every number to its holder", "Quarantine by rule", "Timings (s)"):
        assert heading in page
    assert "<tr><th>input rows</th><td class='n'>100</td></tr>" in page
    assert "<tr><th>resident_code_check_digit</th><td class='n'>3</td></tr>" in page
