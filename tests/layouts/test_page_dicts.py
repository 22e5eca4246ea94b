"""Page dictionaries from templates are byte-identical to reportlab's own."""

from __future__ import annotations

import pikepdf
import pytest
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

from layouts import page_dicts
from layouts.batch import PrintSettings, write_batch
from layouts.page_dicts import TemplatePage, template_key, use_template
from tests.helpers.layout_pages import sample_plan


def _cards(out, settings: PrintSettings) -> bytes:
    plan, numbers = sample_plan()
    write_batch(out, plan, numbers, settings)
    return (out / "cards.pdf").read_bytes()


@pytest.mark.parametrize("settings", [
    PrintSettings(demo=True),
    PrintSettings(demo=False, duplex=True),
    PrintSettings(demo=True, duplex=True, notice_format="2020-notice"),
], ids=["demo", "duplex", "notice-2020-demo-duplex"])
def test_a_batch_is_byte_identical_with_and_without_templates(tmp_path, monkeypatch, settings) -> None:
    fast = _cards(tmp_path / "fast" / "B00001", settings)
    monkeypatch.setattr(TemplatePage, "format", pdfdoc.PDFPage.format)   # reportlab's own
    plain = _cards(tmp_path / "plain" / "B00001", settings)
    assert fast == plain
    with pikepdf.open(tmp_path / "fast" / "B00001" / "cards.pdf") as pdf:   # and it is used
        contents = {page.obj.Contents.objgen for page in pdf.pages}
        assert len(contents) == len(pdf.pages) > 10


def _page(canvas: Canvas) -> pdfdoc.PDFPage:
    canvas.showPage()
    page = canvas._doc.Pages.pages[-1]
    use_template(page)
    return page


def test_each_kind_of_page_has_its_own_template(tmp_path) -> None:
    """Forms, boxes and size are in the key: pages that differ in them never share bytes."""
    c = Canvas(str(tmp_path / "x.pdf"), invariant=1)
    c.beginForm("A")
    c.rect(10, 10, 20, 20)
    c.endForm()
    c.doForm("A")
    with_form = _page(c)
    c.drawString(10, 10, "x")
    plain = _page(c)
    c.setTrimBox((0, 0, 500, 700))
    c.drawString(10, 10, "y")
    trimmed = _page(c)
    c.setPageSize((300, 300))
    c.drawString(10, 10, "z")
    small = _page(c)
    keys = [template_key(p) for p in (with_form, plain, trimmed, small)]
    assert None not in keys and len(set(keys)) == 4
    c.save()
    with pikepdf.open(tmp_path / "x.pdf") as pdf:
        assert "/XObject" in pdf.pages[0].Resources and "/XObject" not in pdf.pages[1].Resources
        assert "/TrimBox" not in pdf.pages[1].obj and list(pdf.pages[2].TrimBox) == [0, 0, 500, 700]
        assert list(pdf.pages[3].MediaBox) == [0, 0, 300, 300]


def test_a_page_with_an_annotation_is_left_to_reportlab(tmp_path) -> None:
    c = Canvas(str(tmp_path / "x.pdf"), invariant=1)
    c.drawString(10, 10, "x")
    c.linkURL("https://example.org", (0, 0, 50, 50))
    page = _page(c)
    assert template_key(page) is None
    c.save()
    with pikepdf.open(tmp_path / "x.pdf") as pdf:
        assert len(pdf.pages[0].Annots) == 1


def test_only_reportlabs_own_page_class_is_converted() -> None:
    class Other(pdfdoc.PDFPage):
        pass

    with pytest.raises(page_dicts.ConfigError):
        use_template(Other())


def _both_ways(tmp_path, monkeypatch, scenario) -> tuple[bytes, bytes]:
    """scenario(canvas, page) in a templated document and in reportlab's own."""
    outs = []
    for own in (False, True):
        if own:
            monkeypatch.setattr(TemplatePage, "format", pdfdoc.PDFPage.format)
        c = Canvas(str(tmp_path / f"{own}.pdf"), invariant=1)
        outs.append(scenario(c, lambda c=c: _page(c)))
    return outs[0], outs[1]


def test_a_document_formatted_twice_is_whole_both_times(tmp_path, monkeypatch) -> None:
    """getpdfdata() then save(): a page that used a template must not keep its marker."""
    def scenario(c, page):
        for i in range(3):
            c.drawString(10, 10, str(i))
            page()
        first = c.getpdfdata()
        return first + b"|" + c.getpdfdata()

    templated, own = _both_ways(tmp_path, monkeypatch, scenario)
    assert b"mn-page-contents" not in templated
    assert templated == own


def test_a_zero_page_duration_is_written_and_not_shared(tmp_path, monkeypatch) -> None:
    """reportlab writes /Dur 0 (any value but None): such a page gets no template."""
    def scenario(c, page):
        for duration in (None, 0, None, 0):
            c.setPageDuration(duration)
            c.drawString(10, 10, "x")
            page()
        return c.getpdfdata()

    templated, own = _both_ways(tmp_path, monkeypatch, scenario)
    assert templated.count(b"/Dur 0") == 2
    assert templated == own
