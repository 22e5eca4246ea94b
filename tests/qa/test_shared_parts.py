"""qa.shared_parts: QA reads each page's own content and each shared form once.

The split must lose nothing (every character of a whole page is in the page's own content
or in a form it draws), must leave other files to the whole-page reading, and anything
personal inside a form must fail the batch.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pikepdf
import polars as pl
import pypdfium2 as pdfium
import pytest

from layouts.document import Document
from qa import check_batch
from qa import readback as rb
from qa.shared_parts import read_xref, split
from tests.helpers.qa_batches import make_numbers, make_plan, make_register, write
from tests.qa.test_batch_qa import failed, rewrite_sums


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("shared_parts")
    register = make_register(12, seed=21)
    plan = make_plan(register, batch_size=12)
    numbers = make_numbers(register["resident_code"], seed=22)
    write(root / "clean", plan, numbers, "B00001")
    return root / "clean", plan, numbers


def _chars(text: str) -> Counter[str]:
    return Counter(ch for ch in text if not ch.isspace())


def _whole_texts(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(path)
    try:
        return rb.page_texts(pdf)
    finally:
        pdf.close()


def test_split_loses_nothing_and_moves_the_furniture_out(world):
    clean, _, _ = world
    whole = _whole_texts(clean / "cards.pdf")
    own, shared = rb.own_and_shared_texts(clean, len(whole))
    assert len(own) == len(whole) and len(shared) >= 2
    assert all("切り取り線" not in t for t in own)            # a label of the card's form
    assert any("切り取り線" in t for t in shared)
    for page, (w, o) in enumerate(zip(whole, own, strict=True), 1):
        assert "BATCH B00001 ENV" in o                        # the footer is the page's own
        # the page's characters = its own + those of exactly one shared form
        assert sum(_chars(w) == _chars(o) + _chars(s) for s in shared) == 1, page


def test_forms_are_found_from_the_cross_reference_table(world):
    clean, _, _ = world
    data = (clean / "cards.pdf").read_bytes()
    parts = split(data)
    with pikepdf.open(clean / "cards.pdf") as pdf:
        forms = sorted(o.objgen[0] for o in pdf.objects
                       if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Form")
    assert list(parts.forms) == forms
    assert parts.own_content.startswith(data) and parts.forms_alone.startswith(data)
    assert (clean / "cards.pdf").read_bytes() == data        # the file itself is never changed


@pytest.mark.parametrize("save", ["object streams", "incremental"])
def test_files_it_cannot_split_are_read_whole_and_still_pass(world, tmp_path, save):
    clean, plan, _ = world
    batch = tmp_path / "B00001"
    shutil.copytree(clean, batch)
    pdf_path = batch / "cards.pdf"
    if save == "object streams":
        with pikepdf.open(clean / "cards.pdf") as pdf:
            pdf.save(pdf_path, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    else:
        pdf_path.write_bytes(split(pdf_path.read_bytes()).own_content)   # has a /Prev
    rewrite_sums(batch)
    assert read_xref(pdf_path.read_bytes()) is None
    report = check_batch(batch, plan=plan, full_qr=True)
    assert report["text_read"] == {"pages": "whole"}
    if save == "object streams":
        assert report["verdict"] == "pass", failed(report)
    else:   # every form emptied by someone: the labels are gone, the checks still pass
        assert report["checks"]["names"]["verdict"] == "pass"


def _leaky_furniture(monkeypatch: pytest.MonkeyPatch, leak: str, x_mm: float = 15.0) -> None:
    """The renderer draws ``leak`` inside every shared form (on every page that draws it)."""
    draw_form = Document.furniture

    def furniture(self, name, draw):
        def with_leak(doc):
            draw(doc)
            doc.text(x_mm, 280.0, leak, 9.0)
        draw_form(self, name, with_leak)

    monkeypatch.setattr(Document, "furniture", furniture)


@pytest.mark.parametrize(("leak", "check"), [
    ("name", "other_households"), ("number", "masked_numbers"),
    ("application id", "application_ids"), ("footer", "footers")])
def test_anything_personal_in_a_shared_form_fails_the_batch(world, tmp_path, monkeypatch,
                                                            leak, check):
    _, plan, numbers = world
    head = plan.row(0, named=True)
    value = {"name": f"{head['family_name']} {head['given_name']}",
             "number": "1234 5678 9012",
             "application id": pl.read_parquet(world[0] / "manifest.parquet")["application_ids"][0][0],
             "footer": "BATCH B00001 ENV 000001 HH X P 1/2"}[leak]
    _leaky_furniture(monkeypatch, value)
    batch = tmp_path / "B00001"
    write(batch, plan, numbers, "B00001")
    report = check_batch(batch, plan=plan, full_qr=True)
    assert report["text_read"]["pages"] == "own content"
    assert check in failed(report)
    rules = [f["rule"] for f in report["checks"][check]["findings"]]
    assert any("shared static part" in r for r in rules), rules


def test_a_form_is_read_beyond_its_own_page_box(world, tmp_path, monkeypatch):
    """Read on a page of its own, a form's text outside that page's box still counts: a
    real page could move it into view with its own matrix."""
    _, plan, numbers = world
    _leaky_furniture(monkeypatch, "1234 5678 9012", x_mm=-400.0)
    batch = tmp_path / "B00001"
    write(batch, plan, numbers, "B00001")
    report = check_batch(batch, plan=plan, full_qr=True)
    assert "a My Number in a shared static part" in {
        f["rule"] for f in report["checks"]["masked_numbers"]["findings"]}


@pytest.mark.parametrize("damage", ["hybrid trailer", "form without resources", "bad offset"])
def test_files_outside_what_the_renderer_writes_are_not_split(world, damage):
    data = (world[0] / "cards.pdf").read_bytes()
    assert split(data) is not None
    if damage == "hybrid trailer":          # a second table in a cross-reference stream
        data = data.replace(b"trailer\n<<", b"trailer\n<< /XRefStm 0", 1)
    elif damage == "form without resources":  # it would draw with its page's fonts
        at = data.index(b"/Subtype /Form")
        head = data.rindex(b" obj", 0, at)
        data = data[:head] + data[head:at].replace(b"/Resources", b"/Resourcez") + data[at:]
    else:
        xref = read_xref(data)
        first = min(xref.objects)
        offset = xref.objects[first][0]
        data = data[:offset] + b"9" + data[offset + 1:]
    assert split(data) is None
