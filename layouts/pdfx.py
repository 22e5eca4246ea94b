"""PDF/X-4 for print batches: version, page boxes, the CMYK output intent, XMP, stream syntax.

What a print shop's preflight checks (ISO 15930-7, docs/domain.md#pdfx-4-for-print-shops), and where it
is made here:

- PDF 1.6 header (``Document`` passes ``pdfVersion=(1, 6)``);
- a TrimBox and a BleedBox on every page (:func:`set_page_boxes`): the sheet is A4 and
  nothing is printed within the 10 mm margin, so TrimBox = BleedBox = MediaBox; the one
  tint (the card) bleeds 3 mm past the card's own cut line inside the sheet;
- one OutputIntent ``GTS_PDFX`` whose DestOutputProfile is an ICC CMYK profile that a
  Debian package ships (Ghostscript's ``default_cmyk.icc``, ICC v2, from ``libgs-common``),
  found at run time (:func:`find_output_profile`); the same profile is also declared as a
  ``GTS_PDFA1`` intent, which PDF/X allows, so PDF/A validators (PDFBox Preflight) can
  check the colour spaces against it;
- colours only DeviceGray and DeviceCMYK (:mod:`layouts.colours`);
- XMP metadata (uncompressed) with ``pdfxid:GTS_PDFXVersion`` = ``PDF/X-4``, the
  document id, version id and rendition class, and the Info dictionary's values (title,
  author, subject, dates, producer, ``Trapped`` False) repeated exactly;
- an end-of-line before every ``endstream`` (:func:`patch_reportlab_streams`: reportlab 5.1
  writes binary streams directly followed by ``endstream``, which PDF/A and PDF/X
  validators reject as "EOL before endstream" and "stream length invalid");
- embedded fonts whose widths agree with /W (``layouts.fonts`` fixes reportlab's hmtx).

Everything depends only on the document's invariant time stamp and title, so batches stay
byte-reproducible.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from core.errors import ConfigError, ProfileMissing
from layouts.reportlab_compat import check_reportlab_version

PDF_VERSION = (1, 6)
PDFX_VERSION = "PDF/X-4"
#: (file, package) looked for: an ICC v2 CMYK output (prtr) profile
PROFILE_FILES = (("default_cmyk.icc", "libgs-common"),)
PROFILE_DIRS = ("/usr/share/color/icc/ghostscript", "/usr/share/ghostscript/iccprofiles",
                "/usr/share/color/icc")
OUTPUT_CONDITION = "Ghostscript default CMYK (default_cmyk.icc, libgs-common)"
_ICC_MAGIC_OFFSET = 36


def _check_profile(path: Path) -> Path:
    """A readable ICC output (prtr) profile in the CMYK colour space, or ProfileMissing."""
    try:
        with path.open("rb") as fh:
            head = fh.read(128)
    except OSError as exc:
        raise ProfileMissing(f"ICC profile {path} cannot be read ({type(exc).__name__})") from None
    if len(head) < 128 or head[_ICC_MAGIC_OFFSET:_ICC_MAGIC_OFFSET + 4] != b"acsp":
        raise ProfileMissing(f"file {path} is not an ICC profile")
    if head[16:20] != b"CMYK" or head[12:16] != b"prtr":
        raise ProfileMissing(f"ICC profile {path} is not a CMYK output (printer) profile")
    if int.from_bytes(head[:4], "big") != path.stat().st_size:
        raise ProfileMissing(f"ICC profile {path} is truncated (its header gives another size)")
    return path


def find_output_profile(explicit: str | None = None) -> Path:
    """The CMYK output profile for the OutputIntent: ``explicit`` (setting
    ``print.output_profile`` / MYNUMBER_OUTPUT_PROFILE) or the Debian package's file."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ProfileMissing(f"ICC profile {path} (print.output_profile) not found")
        return _check_profile(path)
    for name, _ in PROFILE_FILES:
        for folder in PROFILE_DIRS:
            path = Path(folder) / name
            if path.is_file():
                return _check_profile(path)
    name, package = PROFILE_FILES[0]
    raise ProfileMissing(
        f"ICC profile {name} not found: install the Debian package {package} (`make` does) "
        "or set print.output_profile (MYNUMBER_OUTPUT_PROFILE) to a CMYK output profile")


_ENDSTREAM = b"endstream\n"


def patch_reportlab_streams() -> None:
    """Put an EOL between every stream's data and ``endstream`` (not counted in /Length).

    ISO 32000-1 7.3.8.1 asks for it; reportlab omits it when the data does not end in one
    (every Flate stream). Wrapped once per process; refused on an unknown reportlab major.
    """
    from reportlab.pdfbase import pdfdoc

    original = pdfdoc.PDFStream.format
    if getattr(original, "_mn_eol", False):
        return
    check_reportlab_version()

    def format_with_eol(self: Any, document: Any) -> bytes:
        out: bytes = original(self, document)
        if not out.endswith(_ENDSTREAM):
            raise ConfigError("reportlab wrote a stream that does not end with endstream")
        return out[:-len(_ENDSTREAM)] + b"\n" + _ENDSTREAM

    format_with_eol._mn_eol = True  # type: ignore[attr-defined]
    pdfdoc.PDFStream.format = format_with_eol


def set_page_boxes(canvas: Any, width_pt: float, height_pt: float) -> None:
    """TrimBox and BleedBox (= the A4 MediaBox) on this and every later page."""
    box = (0, 0, round(width_pt, 4), round(height_pt, 4))
    canvas.setTrimBox(box)
    canvas.setBleedBox(box)


def _xmp_date(ts: Any) -> str:
    y, mo, d, h, mi, s = ts.YMDhms
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{ts.dhh:+03d}:{ts.dmm:02d}"


def xmp_packet(*, title: str, author: str, subject: str, keywords: str, creator: str,
               producer: str, date: str, document_id: str) -> str:
    """The XMP packet: Dublin Core, XMP basic, PDF and xmpMM schemas, and the PDF/X id."""
    e = escape
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:xmp="http://ns.adobe.com/xap/1.0/"
  xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
  xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
  xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{e(title)}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>{e(author)}</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{e(subject)}</rdf:li></rdf:Alt></dc:description>
<xmp:CreateDate>{date}</xmp:CreateDate>
<xmp:ModifyDate>{date}</xmp:ModifyDate>
<xmp:MetadataDate>{date}</xmp:MetadataDate>
<xmp:CreatorTool>{e(creator)}</xmp:CreatorTool>
<pdf:Producer>{e(producer)}</pdf:Producer>
<pdf:Keywords>{e(keywords)}</pdf:Keywords>
<pdf:Trapped>False</pdf:Trapped>
<xmpMM:DocumentID>uuid:{document_id}</xmpMM:DocumentID>
<xmpMM:InstanceID>uuid:{document_id}</xmpMM:InstanceID>
<xmpMM:VersionID>1</xmpMM:VersionID>
<xmpMM:RenditionClass>default</xmpMM:RenditionClass>
<pdfxid:GTS_PDFXVersion>{PDFX_VERSION}</pdfxid:GTS_PDFXVersion>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def _raw_stream_class() -> type:
    """A PDFStream written without filters (XMP must stay readable by any tool)."""
    from reportlab.pdfbase import pdfdoc

    class RawStream(pdfdoc.PDFStream):  # type: ignore[misc]
        def __init__(self, dictionary: Any, make: Callable[[Any], bytes]) -> None:
            super().__init__(dictionary=dictionary, content=b"")
            self._make = make

        def format(self, document: Any) -> bytes:
            content = self._make(document)
            d = pdfdoc.PDFDictionary(dict(self.dictionary.dict))
            d["Length"] = len(content)
            head: bytes = d.format(document)
            return head + b"\nstream\n" + content + b"\nendstream\n"

    return RawStream


def make_pdfx(canvas: Any, profile: Path) -> None:
    """Add the output intents and the XMP metadata to the document's catalog.

    Call after the Info fields (title, author, subject, creator, producer) are set; the
    XMP is written when the document is saved, from the Info values then current.
    """
    from reportlab.pdfbase import pdfdoc

    patch_reportlab_streams()
    doc = canvas._doc
    icc = pdfdoc.PDFStream(dictionary=pdfdoc.PDFDictionary({"N": 4}), content=profile.read_bytes())
    icc_ref = doc.Reference(icc)

    def intent(kind: str) -> Any:
        return pdfdoc.PDFDictionary({
            "Type": pdfdoc.PDFName("OutputIntent"), "S": pdfdoc.PDFName(kind),
            "OutputCondition": pdfdoc.PDFString(OUTPUT_CONDITION),
            "OutputConditionIdentifier": pdfdoc.PDFString("Custom"),
            "RegistryName": pdfdoc.PDFString("http://www.color.org"),
            "Info": pdfdoc.PDFString(OUTPUT_CONDITION),
            "DestOutputProfile": icc_ref})

    catalog = doc.Catalog
    catalog.OutputIntents = pdfdoc.PDFArray([intent("GTS_PDFX"), intent("GTS_PDFA1")])
    catalog.__NoDefault__ = [*type(catalog).__NoDefault__, "OutputIntents"]
    info = doc.info

    def xmp(document: Any) -> bytes:
        date = _xmp_date(document._timeStamp)
        doc_id = uuid.uuid5(uuid.NAMESPACE_URL, f"mynumber-pdfx:{info.title}:{date}")
        return xmp_packet(title=info.title, author=info.author, subject=info.subject,
                          keywords=info.keywords, creator=info.creator,
                          producer=info.producer, date=date,
                          document_id=str(doc_id)).encode("utf-8")

    raw = _raw_stream_class()
    catalog.Metadata = raw(pdfdoc.PDFDictionary({"Type": pdfdoc.PDFName("Metadata"),
                                                 "Subtype": pdfdoc.PDFName("XML")}), xmp)
