"""QA's layout check on real PDFs: sizes, boxes and overlaps read back with PDFium."""

from __future__ import annotations

import io
import json

import pypdfium2 as pdfium
import pytest
from reportlab.pdfgen.canvas import Canvas

from layouts.batch import PrintSettings, write_batch
from qa import check_batch
from qa import readback as rb
from qa.checks import layout_findings
from tests.helpers.layout_pages import sample_plan

PT = 72 / 25.4
A4 = (210 * PT, 297 * PT)


def page_with(*texts: tuple[float, float, str, float]) -> pdfium.PdfDocument:
    """A one-page PDF with Helvetica text at (x mm, baseline mm from the top, text, pt)."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    for x, y, text, size in texts:
        c.setFont("Helvetica", size)
        c.drawString(x * PT, A4[1] - y * PT, text)
    c.showPage()
    c.save()
    return pdfium.PdfDocument(buf.getvalue())


def findings(role: str, *texts: tuple[float, float, str, float]) -> list[str]:
    pdf = page_with(*texts)
    try:
        return layout_findings(rb.page_chars(pdf, 0), role)
    finally:
        pdf.close()


def test_a_clean_page_passes() -> None:
    assert findings("member", (20, 100, "TANAKA TARO", 10), (20, 110, "TOKYO", 7)) == []


def test_reads_size_and_position_back() -> None:
    pdf = page_with((30, 50, "AB", 12))
    chars = rb.page_chars(pdf, 0)
    pdf.close()
    assert chars.shape == (2, 6)
    assert chars[:, 5].tolist() == pytest.approx([50, 50], abs=0.01)   # the baseline
    assert chars[:, 4].tolist() == pytest.approx([12, 12])
    assert 29.9 <= chars[0, 0] < 31 and chars[0, 3] == pytest.approx(50, abs=0.5)


@pytest.mark.parametrize("role,texts,rule", [
    ("member", [(20, 150, "SMALL", 5)], "text under 7 pt"),
    ("address", [(25, 30, "WINDOW", 8)], "text under 9 pt in the envelope window"),
    ("member", [(20, 150, "OVER", 10), (21, 150, "LAPS", 10)], "text overlaps other text"),
    ("member", [(190, 150, "ALEXANDR KONSTANTINOPOULOS", 10)], "text outside the page's printable area"),
    ("member", [(140, 30, "ALEXANDR KONSTANTINOPOULOS", 10)], "text crosses the edge of its box"),
    ("address", [(100, 30, "ALEXANDR KONSTANTINOPOULOS", 10)], "text crosses the edge of its box"),
])
def test_each_rule_fails_the_page(role: str, texts, rule: str) -> None:
    assert rule in findings(role, *texts)


def test_window_minimum_applies_only_on_the_address_sheet() -> None:
    # the card on a member sheet sits where the window is on the address sheet
    assert findings("member", (70, 30, "CARD", 8)) == []


@pytest.mark.parametrize("notice_format", ["2015-card", "2020-notice"])
def test_both_notice_formats_pass_the_same_full_qa(tmp_path, notice_format: str) -> None:
    plan, numbers = sample_plan()
    out = tmp_path / "B00001"
    write_batch(out, plan, numbers, PrintSettings(demo=True, notice_format=notice_format))
    report = check_batch(out, full_qr=True)
    assert report["verdict"] == "pass", json.dumps(report["checks"], ensure_ascii=False)[:2000]
    assert report["checks"]["layout"]["verdict"] == "pass"
