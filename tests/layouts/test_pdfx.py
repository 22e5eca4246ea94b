"""PDF/X-4 requirements checked one by one on a rendered batch (pikepdf reads the structure).

ISO 15930-7 items tested (docs/domain.md#pdfx-4-for-print-shops): PDF 1.6 or later; TrimBox and BleedBox
on every page, nested in the MediaBox; an OutputIntent GTS_PDFX with an embedded CMYK
output profile; only DeviceGray/DeviceCMYK colour; XMP with GTS_PDFXVersion PDF/X-4 and
the Info values; Trapped; every font embedded with widths equal to the font program's;
an EOL before every endstream. PDFBox Preflight (a PDF/A-1b validator, the only one
Debian ships) must then report nothing but the two PDF/A-only items a PDF/X file has.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from fontTools.ttLib import TTFont

from core.errors import ProfileMissing
from layouts.batch import PrintSettings, write_batch
from layouts.fonts import FONT_FILES, _long_hmetrics, load_fonts
from layouts.pdfx import PROFILE_FILES, find_output_profile
from layouts.spec import DEFAULT_SPEC
from tests.helpers.layout_pages import PT_PER_MM, render_region, sample_plan

A4 = (0.0, 0.0, 210 * PT_PER_MM, 297 * PT_PER_MM)
COLOUR_OPS_ALLOWED = {"g", "G", "k", "K"}
COLOUR_OPS_FORBIDDEN = {"rg", "RG", "cs", "CS", "sc", "SC", "scn", "SCN", "sh"}
PDFBOX_JARS = ("preflight", "pdfbox2", "fontbox2", "commons-logging", "xmpbox",
               "javax.activation", "jaxb-api")
#: what PDFBox's PDF/A-1b Preflight says about every correct PDF/X-4 file: our intent is
#: GTS_PDFX (PDF/A wants GTS_PDFA1 only), and pdf:Trapped, required by PDF/X, is not in
#: PDF/A-1's XMP schema list
PDFA_ONLY = {"2.1.3": "S entry of the OutputIntent isn't GTS_PDFA1",
             "7.1.1": "No type defined for {http://ns.adobe.com/pdf/1.3/}Trapped"}


@pytest.fixture(scope="module")
def pdf(rendered):
    with pikepdf.open(rendered.dir / "cards.pdf") as doc:
        yield doc


def _box(page: pikepdf.Page, name: str) -> tuple[float, ...]:
    return tuple(float(v) for v in page.obj[name])


def _approx(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(abs(x - y) < 0.01 for x, y in zip(a, b, strict=True))


def test_version_is_pdf_1_6_or_later(rendered, pdf):
    assert tuple(int(x) for x in pdf.pdf_version.split(".")) >= (1, 6)
    assert (rendered.dir / "cards.pdf").read_bytes().startswith(b"%PDF-1.6")


def test_every_page_has_trim_and_bleed_box_inside_the_media_box(pdf):
    assert len(pdf.pages) > 10
    for page in pdf.pages:
        media, trim, bleed = (_box(page, k) for k in ("/MediaBox", "/TrimBox", "/BleedBox"))
        assert _approx(media, A4) and _approx(trim, A4)
        assert bleed[0] <= trim[0] and bleed[1] <= trim[1] and bleed[2] >= trim[2] \
            and bleed[3] >= trim[3]
        assert media[0] <= bleed[0] and media[1] <= bleed[1] and media[2] >= bleed[2] \
            and media[3] >= bleed[3]


def test_output_intent_embeds_the_debian_cmyk_profile(pdf):
    intents = pdf.Root.OutputIntents
    pdfx = [i for i in intents if i.S == "/GTS_PDFX"]
    assert len(pdfx) == 1
    intent = pdfx[0]
    assert str(intent.OutputConditionIdentifier) and str(intent.Info)
    profile = intent.DestOutputProfile
    assert int(profile.N) == 4
    data = profile.read_bytes()
    assert data[12:20] == b"prtrCMYK" and data[36:40] == b"acsp"
    assert data == find_output_profile().read_bytes()
    # every intent (the GTS_PDFA1 twin too) points at the one profile object
    assert {i.DestOutputProfile.objgen for i in intents} == {profile.objgen}


def _streams_with_content(pdf: pikepdf.Pdf):
    for page in pdf.pages:
        yield page.obj
        for _, xobj in (page.resources.get("/XObject") or {}).items():
            if xobj.get("/Subtype") == "/Form":
                yield xobj


def test_only_gray_and_cmyk_colour_operators(pdf):
    used: set[str] = set()
    for obj in _streams_with_content(pdf):
        for _, op in pikepdf.parse_content_stream(obj):
            name = str(op)
            if name in COLOUR_OPS_ALLOWED | COLOUR_OPS_FORBIDDEN:
                used.add(name)
    assert used & COLOUR_OPS_FORBIDDEN == set()
    assert {"k", "g"} <= used      # the card tint is CMYK; label fills and text are grey
    for obj in pdf.objects:        # no image or colour space object is RGB either
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            assert obj.get("/ColorSpace") not in (pikepdf.Name.DeviceRGB, pikepdf.Name.CalRGB)


def test_xmp_identifies_pdfx4_and_repeats_the_info_dictionary(pdf):
    stream = pdf.Root.Metadata
    assert "/Filter" not in stream                 # readable without decompression
    raw = stream.read_raw_bytes().decode("utf-8")
    assert "<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in raw
    meta = pdf.open_metadata()
    info = pdf.docinfo
    assert meta["pdfxid:GTS_PDFXVersion"] == "PDF/X-4"
    assert meta["dc:title"] == str(info.Title)
    assert meta["pdf:Producer"] == str(info.Producer)
    assert meta["xmp:CreatorTool"] == str(info.Creator)
    assert meta["pdf:Trapped"] == "False" and str(info.Trapped) == "/False"
    for key in ("xmpMM:DocumentID", "xmpMM:VersionID", "xmpMM:RenditionClass"):
        assert meta[key]
    date = str(info.CreationDate)          # D:20000101000000+00'00' (invariant)
    assert meta["xmp:CreateDate"].startswith(f"{date[2:6]}-{date[6:8]}-{date[8:10]}T")
    assert "/ID" in pdf.trailer


def test_every_endstream_follows_an_end_of_line(rendered):
    data = (rendered.dir / "cards.pdf").read_bytes()
    assert data.count(b"endstream") > 10
    assert re.search(rb"[^\r\n]endstream", data) is None


def _font_programs(pdf: pikepdf.Pdf):
    seen = set()
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font" \
                and "/FontDescriptor" in obj and obj.objgen not in seen:
            seen.add(obj.objgen)
            yield obj


def test_fonts_embedded_and_widths_agree_with_the_font_program(pdf):
    fonts = list(_font_programs(pdf))
    assert {str(f.BaseFont).split("+")[1] for f in fonts} >= {"IPAmjMincho", "IPAexGothic"}
    checked = 0
    for font in fonts:
        program = font.FontDescriptor.get("/FontFile2")
        assert program is not None, "font not embedded"
        tt = TTFont(io.BytesIO(program.read_bytes()))
        upm = tt["head"].unitsPerEm
        cmap = dict((tt["cmap"].getcmap(1, 0) or tt["cmap"].getcmap(3, 0)).cmap)
        first = int(font.FirstChar)
        for i, width in enumerate(font.Widths):
            glyph = cmap.get(first + i)
            if glyph is None:
                continue
            advance = tt["hmtx"][glyph][0] * 1000 / upm
            assert abs(advance - float(width)) <= 1, (str(font.BaseFont), first + i)
            checked += 1
    assert checked > 100


def test_subset_advances_are_repaired_for_glyphs_past_the_long_metrics():
    """IPAmj Mincho lists 1,960 long metrics for 61,179 glyphs; the rest share the last."""
    fonts = load_fonts()
    from reportlab.pdfbase.pdfmetrics import getFont

    path = fonts.paths["mincho_mj"]
    face = getFont(fonts.names["mincho_mj"]).face
    n = _long_hmetrics(path)
    assert n < len(face.hmetrics)
    shared = face.hmetrics[n - 1][0]
    assert isinstance(shared, int) and shared == 2048
    assert {aw for aw, _ in face.hmetrics[n:]} == {shared}
    assert FONT_FILES["mincho_mj"][1] == Path(path).name


def test_card_tint_bleeds_3_mm_past_the_cut_line(rendered):
    card, bleed = DEFAULT_SPEC.member.card, DEFAULT_SPEC.member.card_bleed
    member_page = int(rendered.manifest.filter(rendered.manifest["members"] > 0)["first_page"][0])
    doc = rendered.pdf()
    try:
        def pixel(x: float, y: float) -> tuple[int, ...]:
            img = render_region(doc, member_page, x - 0.2, y - 0.2, 0.4, 0.4, dpi=300)
            return img.convert("RGB").getpixel((img.width // 2, img.height // 2))

        mid_y = card.y + card.h / 2
        inside_bleed = pixel(card.x - bleed / 2, mid_y)      # between cut line and bleed edge
        outside = pixel(card.x - bleed - 0.6, mid_y)
        above = pixel(card.x + card.w / 2, card.y - bleed / 2)
        assert outside == (255, 255, 255)
        assert inside_bleed != (255, 255, 255) and above != (255, 255, 255)
    finally:
        doc.close()


# --- the output profile -------------------------------------------------------------------
def test_profile_found_in_the_debian_package():
    path = find_output_profile()
    assert path.name == PROFILE_FILES[0][0] and path.is_file()


def test_missing_or_wrong_profiles_are_refused(tmp_path, monkeypatch):
    with pytest.raises(ProfileMissing, match="output_profile"):
        find_output_profile(str(tmp_path / "nope.icc"))
    junk = tmp_path / "junk.icc"
    junk.write_bytes(b"\0" * 200)
    with pytest.raises(ProfileMissing, match="not an ICC profile"):
        find_output_profile(str(junk))
    cut = tmp_path / "cut.icc"
    cut.write_bytes(find_output_profile().read_bytes()[:4000])
    with pytest.raises(ProfileMissing, match="truncated"):
        find_output_profile(str(cut))
    rgb = Path("/usr/share/color/icc/ghostscript/srgb.icc")
    if rgb.is_file():
        with pytest.raises(ProfileMissing, match="not a CMYK output"):
            find_output_profile(str(rgb))
    import layouts.pdfx as pdfx
    monkeypatch.setattr(pdfx, "PROFILE_DIRS", (str(tmp_path / "empty"),))
    with pytest.raises(ProfileMissing, match="libgs-common"):
        find_output_profile()


def test_explicit_profile_is_embedded(tmp_path):
    other = Path("/usr/share/color/icc/ghostscript/ps_cmyk.icc")
    if not other.is_file():
        pytest.skip("ps_cmyk.icc (libgs-common) not installed")
    plan, numbers = sample_plan()
    plan = plan.filter(plan["envelope_seq"] <= 2)
    write_batch(tmp_path / "B1", plan, numbers, PrintSettings(output_profile=str(other)))
    with pikepdf.open(tmp_path / "B1" / "cards.pdf") as doc:
        assert doc.Root.OutputIntents[0].DestOutputProfile.read_bytes() == other.read_bytes()


def test_missing_profile_stops_rendering_before_any_file(tmp_path):
    plan, numbers = sample_plan()
    with pytest.raises(ProfileMissing):
        write_batch(tmp_path / "B1", plan, numbers,
                    PrintSettings(output_profile=str(tmp_path / "gone.icc")))
    assert not (tmp_path / "B1").exists()


# --- an independent validator -------------------------------------------------------------
def _pdfbox_classpath() -> str | None:
    jars = [Path(f"/usr/share/java/{name}.jar") for name in PDFBOX_JARS]
    if shutil.which("java") is None or not all(j.is_file() for j in jars):
        return None
    return ":".join(map(str, jars))


@pytest.mark.slow
def test_pdfbox_preflight_finds_nothing_but_the_pdfa_only_items(rendered):
    classpath = _pdfbox_classpath()
    if classpath is None:
        pytest.skip("PDFBox Preflight not installed (Debian libpdfbox2-java libactivation-java "
                    "libjaxb-api-java; `make system` installs them)")
    out = subprocess.run(["java", "-cp", classpath, "org.apache.pdfbox.preflight.Validator_A1b",
                          str(rendered.dir / "cards.pdf")], capture_output=True, text=True,
                         timeout=300)
    errors = [line for line in (out.stdout + out.stderr).splitlines()
              if re.match(r"^\d+(\.\d+)* : ", line)]
    codes = {line.split(" : ", 1)[0] for line in errors}
    assert errors, out.stdout + out.stderr       # it ran and judged the file
    assert codes <= set(PDFA_ONLY), errors[:20]
    for code, text in PDFA_ONLY.items():
        assert all(text in line for line in errors if line.startswith(code + " "))
    # the error kinds the issue found are gone: syntax, colour spaces, font widths
    assert not any(line.startswith(("1.2.", "2.4.", "3.1.")) for line in errors)
    assert len(pdfium.PdfDocument(rendered.dir / "cards.pdf")) == rendered.result.pages
