"""Spec, fonts, QR, barcodes and record formatting, each on its own."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools

import numpy as np
import pypdfium2 as pdfium
import pytest
import segno
import zint
import zxingcpp

from core.errors import ConfigError, FontMissing
from layouts import fonts as fontmod
from layouts.barcodes import codabar_elements, customer_bar_boxes
from layouts.document import Document
from layouts.qr import QR_ERROR, QR_MASK, QR_VERSION, draw_qr, qr_matrix, qr_ops
from layouts.records import (
    format_application_id,
    format_registered_mail,
    in_jis_0208_0212,
    mask_my_number,
    substitute_name,
    wareki,
)
from layouts.spec import DEFAULT_SPEC, AddressSheetSpec, Box, MemberSheetSpec
from tests.layouts.test_stencil import unstencil


# --- spec -------------------------------------------------------------------------------
def test_default_spec_has_the_legal_sizes() -> None:
    s = DEFAULT_SPEC
    assert (s.member.card.w, s.member.card.h) == (85.60, 53.98)
    assert (s.member.photo.h, s.member.photo.w) == (45.0, 35.0)
    cb = s.customer_barcode
    assert (cb.long_bar, cb.timing_bar, cb.pitch, cb.bar_width) == (3.6, 1.2, 1.2, 0.6)


@pytest.mark.parametrize("bad", [
    {"member": MemberSheetSpec(card=Box(62.2, 16.0, 86.0, 53.98))},
    {"member": MemberSheetSpec(photo=Box(153.0, 150.0, 45.0, 35.0))},
    {"member": MemberSheetSpec(qr=Box(150.0, 150.0, 30.0, 30.0))},      # hits the photo box
    {"customer_barcode": dataclasses.replace(DEFAULT_SPEC.customer_barcode, long_bar=4.0)},
    {"address": AddressSheetSpec(name_height=20.0)},      # the name box runs into the barcode
    {"member": MemberSheetSpec(card_boxes=(("氏名", 6.5, 2.0), ("通称", 14.0, 5.6),
                                           ("住所", 20.0, 11.0)))},   # no room for one line
])
def test_spec_refuses_wrong_geometry(bad) -> None:
    # ConfigError, not assert: the checks must survive python -O
    with pytest.raises(ConfigError):
        dataclasses.replace(DEFAULT_SPEC, **bad)


# --- fonts ------------------------------------------------------------------------------
def test_undrawable_reports_selectors_and_missing_glyphs() -> None:
    assert fontmod.undrawable_characters("髙橋 𠮷田 練馬 NGUYEN Müller") == []
    assert fontmod.undrawable_characters("Nguyễn") == ["U+1EC5"]      # no IPA font has ễ
    assert fontmod.undrawable_characters("葛\U000E0100飾\uFE00") == ["U+E0100", "U+FE00"]
    assert fontmod.undrawable_characters("\U000F0000a\U000F0000") == ["U+F0000"]
    assert fontmod.undrawable_characters(None) == []


def test_runs_fall_back_to_a_font_that_has_the_glyph() -> None:
    f = fontmod.load_fonts()
    assert f.runs("練馬区") == [(f.names["gothic"], "練馬区")]
    runs = f.runs("𠮷田", fontmod.TEXT_CHAIN)
    assert all(ord(ch) in f.cmaps[next(r for r, n in f.names.items() if n == font)]
               for font, text in runs for ch in text)


def test_font_missing_is_clear(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(fontmod, "SYSTEM_FONT_DIRS", ())
    with pytest.raises(FontMissing, match="fonts-ipamj-mincho.*MYNUMBER_FONT_DIR"):
        fontmod.find_font("mincho_mj", font_dir=str(tmp_path))
    (tmp_path / "ipamjm.ttf").write_bytes(b"OTTO" + bytes(100))
    with pytest.raises(FontMissing, match="not TrueType"):
        fontmod.find_font("mincho_mj", font_dir=str(tmp_path))


def test_font_dir_setting_is_used(tmp_path, monkeypatch) -> None:
    real = fontmod.find_font("gothic")
    (tmp_path / "ipaexg.ttf").symlink_to(real)
    assert fontmod.find_font("gothic", font_dir=str(tmp_path)) == tmp_path / "ipaexg.ttf"
    assert fontmod.find_font("gothic", {"gothic": str(real)}, str(tmp_path)) == real


def test_to_unicode_uses_surrogates_above_the_bmp() -> None:
    cmap = fontmod._to_unicode_cmap("X", [0x41, 0x20BB7])
    assert "<00> <0041>" in cmap and "<01> <D842DFB7>" in cmap


# --- QR ---------------------------------------------------------------------------------
def test_qr_matrix_is_segno_version_1_q() -> None:
    data = "12345678901234567890123"
    m = qr_matrix(data)
    ref = segno.make_qr(data, error=QR_ERROR, version=QR_VERSION, mask=QR_MASK)
    assert m == ref.matrix and len(m) == 21 and ref.error == "Q"


def test_qr_stencil_covers_exactly_the_dark_modules() -> None:
    m = qr_matrix("98765432109876543210987")
    ops = qr_ops(m, 10.0, 63.0, 2.0)
    # one 21 × 21 stencil mask, 2 pt modules, top-left at (10, 63): bottom at 63 - 42
    assert ops.splitlines()[0] == "q 0 g 42.0000 0 0 42.0000 10.000 21.000 cm"
    assert "/W 21 /H 21 /IM true /BPC 1 /D [1 0]" in ops and ops.endswith("EI Q")
    assert unstencil(ops).tolist() == [list(row) for row in m]


def test_drawn_qr_decodes() -> None:
    buf = io.BytesIO()
    doc = Document(buf, DEFAULT_SPEC, fontmod.load_fonts(), title="t", author="t")
    draw_qr(doc.c, "00000000000000000000001", 100, 700, 85)
    doc.end_page()
    doc.save()
    img = pdfium.PdfDocument(buf.getvalue())[0].render(scale=100 / 72).to_pil()
    assert [r.text for r in zxingcpp.read_barcodes(img)] == ["00000000000000000000001"]


# --- barcodes ---------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["31460012345", "35260000000", "39999999990"])
def test_codabar_matches_zint(number: str) -> None:
    sym = zint.Symbol()
    sym.symbology = zint.Symbology.CODABAR
    sym.encode(f"A{number}A")
    row = np.unpackbits(np.array(sym.encoded_data)[:1], axis=1, bitorder="little")[0, :sym.width]
    runs = [(bool(k), len(list(g))) for k, g in itertools.groupby(row)]
    while not runs[-1][0]:
        runs.pop()                                    # zint's trailing gap
    ours = codabar_elements(number)
    assert [(b, int(n > 1)) for b, n in runs] == [(b, w) for b, w in ours]


def test_customer_bar_boxes_geometry() -> None:
    cb = DEFAULT_SPEC.customer_barcode
    boxes = customer_bar_boxes("FADT", cb)
    assert [b[0] for b in boxes] == pytest.approx([0.0, 1.2, 2.4, 3.6])
    assert boxes[0][1:] == (0.0, 0.6, 3.6)                 # long: full height
    assert boxes[1][1] + boxes[1][3] == pytest.approx(3.6)  # upper semi-long reaches the top
    assert boxes[2][1] == 0.0 and boxes[2][3] == pytest.approx(2.4)
    assert boxes[3][1] == pytest.approx(1.2) and boxes[3][3] == pytest.approx(1.2)


# --- records ----------------------------------------------------------------------------
@pytest.mark.parametrize("date,text", [
    (dt.date(1989, 1, 7), "昭和64年1月7日"), (dt.date(1989, 1, 8), "平成元年1月8日"),
    (dt.date(2019, 4, 30), "平成31年4月30日"), (dt.date(2019, 5, 1), "令和元年5月1日"),
    (dt.date(1926, 12, 25), "昭和元年12月25日"), (dt.date(1912, 7, 30), "大正元年7月30日"),
])
def test_wareki(date: dt.date, text: str) -> None:
    assert wareki(date) == text


def test_jis_0208_0212_membership_and_substitutes() -> None:
    assert in_jis_0208_0212("高") and in_jis_0208_0212("邉") and in_jis_0208_0212("é")
    assert not in_jis_0208_0212("髙") and not in_jis_0208_0212("𠮷")
    assert substitute_name("𠮷田 太郎") == ("吉田 太郎", [("𠮷", "吉")])
    assert substitute_name("髙橋") == ("高橋", [("髙", "高")])
    assert substitute_name("練馬 太郎") == ("練馬 太郎", [])
    assert substitute_name("\U0002A6B2")[0] == "〓"


def test_formats() -> None:
    assert mask_my_number("123456789018") == "********9018"
    assert format_registered_mail("31460012345") == "314-60-01234-5"
    assert format_application_id("12345678901234567890123") == "1234 5678 9012 3456 7890 123"


def test_records_never_show_numbers_in_repr() -> None:
    from layouts.records import households_from_plan
    from layouts.samples import demo_plan

    plan, numbers = demo_plan(2)
    hh = households_from_plan(plan, numbers)
    text = repr(hh) + repr(hh[0].members)
    assert not any(n in text for n in numbers["my_number"])
    assert not any(c in text for c in plan["resident_code"])


def test_long_qr_payload_gets_a_larger_version_that_decodes() -> None:
    url = "https://www.kojinbango-card.go.jp/apply/?id=12345678901234567890123"
    assert len(qr_matrix(url)) > 21
    buf = io.BytesIO()
    doc = Document(buf, DEFAULT_SPEC, fontmod.load_fonts(), title="t", author="t")
    draw_qr(doc.c, url, 100, 700, 85)
    doc.end_page()
    doc.save()
    img = pdfium.PdfDocument(buf.getvalue())[0].render(scale=150 / 72).to_pil()
    assert [r.text for r in zxingcpp.read_barcodes(img)] == [url]


def test_registered_mail_barcode_fits_its_column() -> None:
    from layouts.barcodes import codabar_width

    a = DEFAULT_SPEC.address
    widest = max(codabar_width(d * 11, DEFAULT_SPEC.codabar) for d in "0123456789")
    assert widest <= a.marks.w


def test_reportlab_patch_refuses_an_unchecked_version(monkeypatch) -> None:
    """The ToUnicode patch replaces a private reportlab function: other versions are refused."""
    import reportlab
    from reportlab.pdfbase import ttfonts

    from core.errors import ConfigError

    monkeypatch.setattr(ttfonts, "makeToUnicodeCMap", lambda fontname, subset: "")
    monkeypatch.setattr(reportlab, "Version", "9.0.0")
    with pytest.raises(ConfigError, match="reportlab 9.0.0"):
        fontmod._patch_reportlab()
    monkeypatch.setattr(reportlab, "Version", "5.1.0")
    monkeypatch.setattr(ttfonts, "makeToUnicodeCMap", lambda name, glyphs, extra: "")
    with pytest.raises(ConfigError, match="makeToUnicodeCMap"):
        fontmod._patch_reportlab()


def test_a_specs_cached_fields_follow_its_own_geometry() -> None:
    """Text fields are kept in the frozen spec that built them: a spec made by ``replace``
    (another geometry) builds its own, and the cache changes neither equality nor hash."""
    from layouts.spec import DEFAULT_SPEC, Box

    member = DEFAULT_SPEC.member
    name = member.card_field("氏名")
    assert member.card_field("氏名") is name and member.form_field("住所", 3) is member.form_field("住所", 3)
    moved = dataclasses.replace(member, card=Box(member.card.x, member.card.y + 5, member.card.w, member.card.h))
    assert moved.card_field("氏名").box.y == name.box.y + 5
    fresh = dataclasses.replace(member)
    assert fresh == member and hash(fresh) == hash(member)
    assert fresh.card_field("氏名") == name
    with pytest.raises(TypeError):
        member.card_field(label="氏名")   # positional only: the cache key is the arguments


@pytest.mark.parametrize("version", ["4.1.0", "6.0.0", "3.6.13", "9.0.0"])
def test_one_version_check_refuses_reportlab_outside_pyproject_range(monkeypatch, version) -> None:
    import reportlab

    from core.errors import ConfigError
    from layouts.reportlab_compat import check_reportlab_version

    monkeypatch.setattr(reportlab, "Version", version)
    with pytest.raises(ConfigError, match=f"reportlab {version} is not a version"):
        check_reportlab_version()


def test_reportlab_patches_apply_once(monkeypatch) -> None:
    """Applying the patches again changes nothing (the same functions stay installed)."""
    from reportlab.pdfbase import pdfdoc, ttfonts

    from layouts.pdfx import patch_reportlab_streams

    fontmod._patch_reportlab()
    patch_reportlab_streams()
    before = (ttfonts.makeToUnicodeCMap, pdfdoc.PDFStream.format)
    fontmod._patch_reportlab()
    patch_reportlab_streams()
    assert (ttfonts.makeToUnicodeCMap, pdfdoc.PDFStream.format) == before


def test_the_supported_reportlab_range_is_pyprojects() -> None:
    """The compat module's range and pyproject's requirement cannot drift apart."""
    import re
    import tomllib
    from pathlib import Path

    from layouts.reportlab_compat import SUPPORTED_REPORTLAB

    deps = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]["dependencies"]
    (spec,) = [d for d in deps if d.startswith("reportlab")]
    major, minor, high = re.fullmatch(r"reportlab>=(\d+)\.(\d+),<(\d+)", spec).groups()
    assert SUPPORTED_REPORTLAB == ((int(major), int(minor)), (int(high), 0))
