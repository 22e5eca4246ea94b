"""Read a print batch back from disk: the only I/O in :mod:`qa`.

QA trusts nothing the renderer said, so everything here reads the files themselves with
tools independent of the renderer: ``hashlib`` for SHA256SUMS, pypdfium2 (PDFium, the PDF
engine of Chrome) for page count, text and page images, and zxing-cpp for QR codes.

Text comes from ``PdfTextPage.get_text_bounded()`` rather than ``get_text_range()``:
the latter is limited to UCS-2 and would garble names with characters outside the BMP
(e.g. 𠮷). Page images are rendered in grayscale at a chosen dpi; :class:`QrReader` learns
where the QR code sits from the first page it decodes and then renders only that region
(plus a margin) of later pages, falling back to the whole page when the crop finds nothing.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pypdfium2 as pdfium

from core.errors import ConfigError, QAFailure

if TYPE_CHECKING:
    from zxingcpp import Barcode

PDF_NAME = "cards.pdf"
MANIFEST_PARQUET = "manifest.parquet"
MANIFEST_CSV = "manifest.csv"
SUMS_NAME = "SHA256SUMS"
POINTS_PER_INCH = 72.0
_SUM_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks (cards.pdf can be hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_sha256sums(batch_dir: Path) -> dict[str, str] | None:
    """Parse ``SHA256SUMS`` (sha256sum format, text or binary mode); None when absent.

    A malformed line is kept under the key ``"<malformed line N>"`` so the check fails on it.
    """
    path = Path(batch_dir) / SUMS_NAME
    if not path.is_file():
        return None
    sums: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        match = _SUM_LINE.match(line)
        if match:
            sums[match.group(2)] = match.group(1).lower()
        else:
            sums[f"<malformed line {n}>"] = ""
    return sums


def actual_sha256(batch_dir: Path, names: list[str]) -> dict[str, str | None]:
    """Hash each named file inside the batch folder (None when missing or outside it)."""
    root = Path(batch_dir).resolve()
    out: dict[str, str | None] = {}
    for name in names:
        path = (root / name).resolve()
        inside = root in path.parents
        out[name] = sha256_file(path) if inside and path.is_file() else None
    return out


def read_manifest(batch_dir: Path) -> pl.DataFrame:
    """The manifest parquet (one row per envelope, list columns), sorted by file order."""
    path = Path(batch_dir) / MANIFEST_PARQUET
    if not path.is_file():
        raise QAFailure(f"{MANIFEST_PARQUET} missing in batch folder {Path(batch_dir).name}")
    try:
        return pl.read_parquet(path)
    except Exception as exc:  # polars' messages may quote data: keep the type only
        raise QAFailure(f"{MANIFEST_PARQUET} cannot be read ({type(exc).__name__})") from None


def read_manifest_csv(batch_dir: Path) -> pl.DataFrame | None:
    """The manifest CSV with every column as text (None when absent or unreadable)."""
    path = Path(batch_dir) / MANIFEST_CSV
    if not path.is_file():
        return None
    try:
        return pl.read_csv(path, infer_schema=False)
    except Exception:
        return None


def open_pdf(batch_dir: Path) -> pdfium.PdfDocument:
    """Open cards.pdf; QAFailure (no content quoted) when missing or unreadable."""
    path = Path(batch_dir) / PDF_NAME
    if not path.is_file():
        raise QAFailure(f"{PDF_NAME} missing in batch folder {Path(batch_dir).name}")
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise QAFailure(f"{PDF_NAME} cannot be opened: {type(exc).__name__}") from None


def page_texts(pdf: pdfium.PdfDocument, annotated: list[int] | None = None) -> list[str]:
    """Text of every page, full Unicode, PDFium's CRLF line breaks turned into LF.

    The page text holds no annotation: pages that carry any are added (1-based) to
    ``annotated`` when given, while each page is loaded anyway (the renderer writes none,
    and an annotation's appearance can print what QA never reads).

    PDFium's C functions directly, each handle closed here: the same calls as
    ``PdfPage.get_textpage().get_text_bounded()`` (a test compares the two on a batch)
    without two Python wrappers and their finalizers per page, which were ~10 % of
    reading a 6,000-page batch.
    """
    raw, doc = pdfium.raw, pdf.raw
    texts = []
    for index in range(len(pdf)):
        page = raw.FPDF_LoadPage(doc, index)
        if not page:
            raise pdfium.PdfiumError("Failed to load page.")
        try:
            if annotated is not None and raw.FPDFPage_GetAnnotCount(page) > 0:
                annotated.append(index + 1)
            textpage = raw.FPDFText_LoadPage(page)
            if not textpage:
                raise pdfium.PdfiumError("Failed to load text page.")
            try:
                texts.append(_bounded_text(page, textpage).replace("\r\n", "\n"))
            finally:
                raw.FPDFText_ClosePage(textpage)
        finally:
            raw.FPDF_ClosePage(page)
    return texts


def _bounded_text(page: object, textpage: object) -> str:
    """All text inside the page's bounding box (as ``PdfTextPage.get_text_bounded()``)."""
    import ctypes

    raw = pdfium.raw
    box = raw.FS_RECTF()
    if not raw.FPDF_GetPageBoundingBox(page, box):
        raise pdfium.PdfiumError("Failed to get page bounding box.")
    args = (textpage, box.left, box.top, box.right, box.bottom)
    n_chars = raw.FPDFText_GetBoundedText(*args, None, 0)
    if n_chars <= 0:
        return ""
    buffer = (ctypes.c_ushort * n_chars)()
    raw.FPDFText_GetBoundedText(*args, buffer, n_chars)
    return codecs.decode(buffer, "utf-16-le", errors="ignore")


MM_PER_PT = 25.4 / 72


def page_chars(pdf: pdfium.PdfDocument, index: int) -> np.ndarray:
    """Each drawn character of a page as (x0, top, x1, bottom) in mm from the top-left, its
    font size in pt and its baseline in mm (whitespace and generated characters left out)."""
    import ctypes

    raw = pdfium.raw
    page = pdf[index]
    textpage = page.get_textpage()
    try:
        height = page.get_height()
        n = raw.FPDFText_CountChars(textpage.raw)
        out = np.empty((max(n, 0), 6))
        left, right, bottom, top, ox, oy = (ctypes.c_double() for _ in range(6))
        k = 0
        for i in range(n):
            cp = raw.FPDFText_GetUnicode(textpage.raw, i)
            if (cp <= 0x20 or cp == 0x3000 or 0xDC00 <= cp <= 0xDFFF   # a surrogate's 2nd half
                    or raw.FPDFText_IsGenerated(textpage.raw, i) == 1):
                continue
            if not raw.FPDFText_GetCharBox(textpage.raw, i, left, right, bottom, top):
                continue
            raw.FPDFText_GetCharOrigin(textpage.raw, i, ox, oy)
            out[k] = (left.value, height - top.value, right.value, height - bottom.value,
                      raw.FPDFText_GetFontSize(textpage.raw, i), height - oy.value)
            k += 1
        out = out[:k]
        out[:, [0, 1, 2, 3, 5]] *= MM_PER_PT
        return out
    finally:
        textpage.close()
        page.close()


def render_gray(page: pdfium.PdfPage, dpi: float,
                crop: tuple[float, float, float, float] = (0, 0, 0, 0)) -> np.ndarray:
    """Grayscale page image at ``dpi``; ``crop`` = points cut off (left, bottom, right, top)."""
    bitmap = page.render(scale=dpi / POINTS_PER_INCH, crop=crop, grayscale=True)
    return np.array(bitmap.to_numpy(), copy=True)


def _zxing() -> ModuleType:
    try:
        import zxingcpp
    except ImportError:  # pragma: no cover - installed with the project
        raise ConfigError("zxing-cpp is not installed; QR codes cannot be checked") from None
    return zxingcpp


def decode_qr(image: np.ndarray) -> tuple[list[str], list[tuple[float, float, float, float]]]:
    """Decode every QR code in a grayscale image: texts and pixel boxes (x0, y0, x1, y1)."""
    zx = _zxing()
    found: list[Barcode] = zx.read_barcodes(image, formats=zx.BarcodeFormat.QRCode,
                                            try_rotate=False, try_downscale=False,
                                            try_invert=False)
    texts: list[str] = []
    boxes: list[tuple[float, float, float, float]] = []
    for code in found:
        if not code.valid:
            continue
        pos = code.position
        xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
        ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
        texts.append(code.text)
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return texts, boxes


@dataclass
class QrReader:
    """Decode QR codes page by page, rendering only the learned QR region when possible.

    The region is learned from the first successful full-page decode (in points, with
    ``margin`` times the symbol size around it, for the quiet zone and small shifts);
    pages whose crop decodes nothing are retried on the whole page, so a moved QR code
    costs time, never a false failure. ``full_page_renders`` and ``crop_renders`` say how
    often each path ran.
    """

    pdf: pdfium.PdfDocument
    dpi: float = 150.0
    margin: float = 0.5
    region: tuple[float, float, float, float] | None = None  # left, bottom, right, top in pt
    full_page_renders: int = 0
    crop_renders: int = 0

    def _learn(self, page: pdfium.PdfPage, box: tuple[float, float, float, float]) -> None:
        scale = self.dpi / POINTS_PER_INCH
        width, height = page.get_width(), page.get_height()
        x0, y0, x1, y1 = (v / scale for v in box)
        pad = self.margin * max(x1 - x0, y1 - y0)
        self.region = (max(0.0, x0 - pad), max(0.0, height - y1 - pad),
                       min(width, x1 + pad), min(height, height - y0 + pad))

    def _crop(self, page: pdfium.PdfPage,
              region: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        left, bottom, right, top = region
        return (left, bottom, page.get_width() - right, page.get_height() - top)

    def read(self, page_number: int) -> list[str]:
        """Texts of the QR codes on a 1-based page (empty list when none decodes)."""
        page = self.pdf[page_number - 1]
        try:
            if self.region is not None:
                self.crop_renders += 1
                texts, _ = decode_qr(render_gray(page, self.dpi, self._crop(page, self.region)))
                if texts:
                    return texts
            self.full_page_renders += 1
            texts, boxes = decode_qr(render_gray(page, self.dpi))
            if len(boxes) == 1 and self.region is None:
                self._learn(page, boxes[0])
            return texts
        finally:
            page.close()
