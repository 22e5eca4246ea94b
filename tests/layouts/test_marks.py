"""Inserter marks: payload, symbol size, fixed place, decodable on every rendered sheet,
and no text of any sheet in the margin box reserved for them."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp

from core.errors import ConfigError
from layouts.marks import MARK_AREA, datamatrix_modules, mark_payload
from layouts.spec import DEFAULT_SPEC, Box
from tests.helpers.layout_pages import PT_PER_MM, render_region


def test_payload_holds_batch_envelope_and_sheet_only():
    assert mark_payload("B00001", 123, 2, 3) == "B00001/123/2/3"
    for bad in ("", "B/1", "Bä", "B 1"):
        with pytest.raises(ConfigError):
            mark_payload(bad, 1, 1, 1)
    for k, n in ((0, 3), (4, 3)):
        with pytest.raises(ConfigError):
            mark_payload("B00001", 1, k, n)


def test_symbol_is_18_modules_square_and_grows_only_for_long_batch_ids():
    m = datamatrix_modules(mark_payload("B00001", 999999, 12, 12))
    assert m.shape == (18, 18)
    # ECC200 finder: solid left column and bottom row, alternating top row
    assert m[:, 0].all() and m[-1, :].all() and list(m[0, :4]) == [1, 0, 1, 0]
    longer = datamatrix_modules(mark_payload("D2026-12-01-B00001", 999999, 12, 12))
    assert longer.shape[0] == longer.shape[1] > 18
    with pytest.raises(ConfigError, match="shorten the batch id"):
        datamatrix_modules(mark_payload("X" * 60, 1, 1, 1))


def test_reserved_area_is_inside_the_printable_margin_and_clear_of_the_footer():
    spec = DEFAULT_SPEC
    assert spec.printable.contains(MARK_AREA)
    footer_left = spec.page_width / 2 - 45     # the centred footer is about 80 mm wide
    assert MARK_AREA.right < footer_left
    for box in (spec.address.letter, spec.member.form, spec.member.photo, spec.member.qr):
        assert not MARK_AREA.overlaps(box)


def test_every_sheet_carries_its_mark_at_the_fixed_place(rendered):
    doc = rendered.pdf()
    try:
        area = MARK_AREA
        for r in rendered.manifest.filter(rendered.manifest["first_page"].is_not_null()).iter_rows(named=True):
            n = r["last_page"] - r["first_page"] + 1
            for k in range(1, n + 1):
                img = render_region(doc, r["first_page"] + k - 2, area.x, area.y, area.w, area.h,
                                    dpi=200).convert("L")
                found = zxingcpp.read_barcodes(np.asarray(img),
                                               formats=zxingcpp.BarcodeFormat.DataMatrix)
                assert [c.text for c in found] == [f"{r['batch_id']}/{r['envelope_seq']}/{k}/{n}"]
    finally:
        doc.close()


def test_no_text_enters_the_mark_area(rendered):
    """Read back every character's box (pypdfium2): none may touch the reserved box."""
    doc = rendered.pdf()
    h = DEFAULT_SPEC.page_height
    try:
        for i in range(len(doc)):
            tp = doc[i].get_textpage()
            for c in range(tp.count_chars()):
                left, bottom, right, top = tp.get_charbox(c)
                box = Box(left / PT_PER_MM, h - top / PT_PER_MM, (right - left) / PT_PER_MM,
                          (top - bottom) / PT_PER_MM)
                assert not MARK_AREA.overlaps(box), (i + 1, c)
            tp.close()
    finally:
        doc.close()

