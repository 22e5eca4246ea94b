"""Inserter marks in QA: the sequence rules on their own, then real batches tampered with.

The tampering that matters for an inserter and that the text footer cannot show: a sheet
whose mark is gone (its content stream edited with pikepdf, footer intact), sheets out of
order, a sheet twice, a sheet of another batch.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pikepdf
import polars as pl
import pytest

from qa import check_batch
from qa.marks import INSERTER_MARKS, Mark, check_mark_sequence, check_marks, parse_mark
from tests.helpers.qa_batches import make_numbers, make_plan, make_register, write

BATCH = "B00001"


def m(env: int, k: int, n: int, batch: str = BATCH) -> Mark:
    return Mark(batch, env, k, n)


def rules(findings) -> list[str]:
    return [f.rule for f in findings]


# --- the rules ------------------------------------------------------------------------------
def test_parse_mark():
    assert parse_mark("B00001/12/2/3") == m(12, 2, 3)
    assert parse_mark("D-2026/1/1/1") == Mark("D-2026", 1, 1, 1)
    for bad in ("B00001/12/2", "B00001/x/2/3", "", "B 1/1/1/1", "B00001/1/1/1/1"):
        assert parse_mark(bad) is None


def test_complete_sequence_passes():
    marks = [m(1, 1, 2), m(1, 2, 2), m(2, 1, 1), m(5, 1, 3), m(5, 2, 3), m(5, 3, 3)]
    assert check_mark_sequence(marks, [1, 2, 5], BATCH) == []


@pytest.mark.parametrize(("marks", "envelopes", "rule"), [
    ([m(1, 1, 3), m(1, 3, 3)], [1], "sheets of an envelope out of sequence"),
    ([m(1, 1, 3), m(1, 2, 3), m(2, 1, 1)], [1, 2], "envelope ends before its last sheet"),
    ([m(1, 2, 2), m(1, 1, 2)], [1], "envelope does not start with sheet 1"),
    ([m(1, 1, 1), m(2, 1, 1), m(1, 1, 1)], [1, 2], "envelope split or repeated"),
    ([m(2, 1, 1), m(1, 1, 1)], [1, 2], "envelopes not in increasing order"),
    ([m(1, 1, 2), None], [1], "sheet without a readable inserter mark"),
    ([m(1, 1, 1), m(2, 1, 1, "B00002")], [1, 2], "sheet of another batch"),
    ([m(1, 1, 1)], [1, 2], "envelope has no marked sheet"),
    ([m(1, 1, 1), m(3, 1, 1)], [1], "marked envelope not in the manifest"),
    ([m(1, 1, 2), m(1, 2, 3)], [1], "sheets of an envelope out of sequence"),
    ([m(1, 1, 2), m(1, 2, 2), m(1, 2, 2)], [1], "sheets of an envelope out of sequence"),
])
def test_sequence_faults(marks, envelopes, rule):
    found = check_mark_sequence(marks, envelopes, BATCH)
    assert rule in rules(found)
    assert all(f.check == INSERTER_MARKS for f in found)


def test_one_unreadable_sheet_is_one_finding():
    for marks in ([m(1, 1, 3), None, m(1, 3, 3)], [m(1, 1, 1), None, m(2, 2, 2)]):
        assert rules(check_mark_sequence(marks, [1, 2] if marks[-1].envelope_seq == 2 else [1],
                                         BATCH)) == ["sheet without a readable inserter mark"]


def test_page_marks_against_the_manifest_pages():
    pages = pl.DataFrame({"page": [1, 2], "envelope_seq": [7, 7], "batch_id": [BATCH] * 2,
                          "k": [1, 2], "n": [2, 2]})
    assert check_marks({1: ["B00001/7/1/2"], 2: ["B00001/7/2/2"]}, pages) == []
    assert rules(check_marks({2: ["B00001/7/1/2"]}, pages)) == ["inserter mark does not match the manifest"]
    assert rules(check_marks({1: []}, pages)) == ["0 inserter marks decoded on page"]
    assert rules(check_marks({1: ["x", "y"]}, pages)) == ["2 inserter marks decoded on page"]
    assert rules(check_marks({1: ["hello"]}, pages)) == ["inserter mark is not batch/envelope/k/n"]
    assert rules(check_marks({3: ["B00001/7/3/3"]}, pages)) == [
        "inserter mark on a page the manifest does not cover"]


# --- real batches ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("marks_world")
    register = make_register(16, seed=21)
    plan = make_plan(register, batch_size=8)
    numbers = make_numbers(register["resident_code"], seed=22)
    write(root / "B00001", plan, numbers, "B00001")
    write(root / "B00002", plan, numbers, "B00002")
    return root, plan


@pytest.fixture
def batch(world, tmp_path):
    root, _ = world
    target = tmp_path / BATCH
    shutil.copytree(root / BATCH, target)
    return target


def _resum(batch_dir: Path) -> None:
    lines = [f"{hashlib.sha256((batch_dir / n).read_bytes()).hexdigest()}  {n}\n"
             for n in ("cards.pdf", "manifest.parquet", "manifest.csv")]
    (batch_dir / "SHA256SUMS").write_text("".join(lines), encoding="ascii")


def _failed(report) -> set[str]:
    return {k for k, v in report["checks"].items() if v["verdict"] == "fail"}


def _mark_rules(report) -> set[str]:
    return {f["rule"] for f in report["checks"][INSERTER_MARKS]["findings"]}


def test_clean_batch_full_qa_decodes_every_mark(batch):
    report = check_batch(batch, full_qr=True)
    assert report["verdict"] == "pass", _failed(report)
    assert report["checks"][INSERTER_MARKS]["verdict"] == "pass"
    assert report["marks"]["pages_decoded"] == report["counts"]["pages"]
    assert report["marks"]["sequence_checked"] is True


def test_in_run_qa_samples_marks(batch):
    report = check_batch(batch, qr_sample_size=3, seed=5)
    assert report["verdict"] == "pass"
    assert report["marks"]["pages_decoded"] == 3 and report["marks"]["sequence_checked"] is False


def test_sheet_with_its_mark_removed_is_caught_while_the_footer_passes(batch):
    with pikepdf.open(batch / "cards.pdf", allow_overwriting_input=True) as pdf:
        page = pdf.pages[2]
        data = page.obj.Contents.read_bytes()
        # the mark is the page's last stencil mask: q 0 g <cm> BI <18 × 18> ID <hex> EI Q
        start = data.rindex(b"q 0 g ")
        end = data.index(b"EI Q", start) + 4
        assert re.fullmatch(rb"q 0 g [-\d. ]+ cm\nBI /W 18 /H 18 [^\n]+ ID\n[0-9a-f]+>\nEI Q",
                            data[start:end])
        page.obj.Contents = pdf.make_stream(data[:start] + data[end:])
        pdf.save(batch / "cards.pdf")
    _resum(batch)
    report = check_batch(batch, full_qr=True)
    assert _failed(report) == {INSERTER_MARKS}
    assert {"0 inserter marks decoded on page", "sheet without a readable inserter mark"} \
        <= _mark_rules(report)
    assert {f["page"] for f in report["checks"][INSERTER_MARKS]["findings"]} == {3}


def test_sheets_swapped_inside_an_envelope_are_caught(batch):
    manifest = pl.read_parquet(batch / "manifest.parquet")
    env = manifest.filter(pl.col("members") >= 2).row(0, named=True)
    first = env["first_page"]
    with pikepdf.open(batch / "cards.pdf", allow_overwriting_input=True) as pdf:
        order = list(range(len(pdf.pages)))
        order[first], order[first + 1] = order[first + 1], order[first]   # sheets 2 and 3
        new = pikepdf.Pdf.new()
        for i in order:
            new.pages.append(pdf.pages[i])
        new.save(batch / "cards.new.pdf")
    (batch / "cards.new.pdf").replace(batch / "cards.pdf")
    _resum(batch)
    report = check_batch(batch, full_qr=True)
    assert INSERTER_MARKS in _failed(report)
    assert "sheets of an envelope out of sequence" in _mark_rules(report)


def test_a_sheet_of_another_batch_is_caught(world, batch):
    root, _ = world
    with pikepdf.open(batch / "cards.pdf", allow_overwriting_input=True) as pdf, \
            pikepdf.open(root / "B00002" / "cards.pdf") as other:
        pdf.pages.append(other.pages[0])
        pdf.save(batch / "cards.pdf")
    _resum(batch)
    report = check_batch(batch, full_qr=True)
    assert "sheet of another batch" in _mark_rules(report)
    assert {"page_count", INSERTER_MARKS} <= _failed(report)
