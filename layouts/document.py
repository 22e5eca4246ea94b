"""The sheet/document object: owns units, fonts, pagination and the static furniture.

Coordinates in mm from the sheet's top-left (the spec's convention) go in; PDF points
come out. Static furniture (frames, labels, cut marks, the DEMO watermark) is drawn once
per document into a form XObject and placed on every page with one ``Do`` operator:
per-page work is only the variable text, the QR path and the barcode paths.

Reproducible bytes: ``invariant=1`` fixes the creation date and the document id, the
metadata is derived from the batch id only, and nothing depends on the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from reportlab import rl_config
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas

from layouts.colours import WATERMARK
from layouts.fonts import NAME_CHAIN, TEXT_CHAIN, FontSet, advance_units
from layouts.page_dicts import use_template
from layouts.pdfx import PDF_VERSION, find_output_profile, make_pdfx, set_page_boxes
from layouts.spec import Box, PrintSpec

PT_PER_MM = 72 / 25.4
PRODUCER = "mynumber-issuance layouts"
# Streams are Flate-compressed binary: ASCII85 on top costs a third of the render time
# (reportlab's pure-Python encoder) and makes files 25 % larger, for no reader's benefit.
rl_config.useA85 = 0


def _width(font: str, text: str, size: float) -> float:
    """Advance width in pt (reportlab's stringWidth is slow; the sums are cached per text)."""
    return 0.001 * size * advance_units(font, text)


class Document:
    """One PDF: a reportlab canvas with mm geometry, font fallback and named forms."""

    def __init__(self, out: BinaryIO | str, spec: PrintSpec, fonts: FontSet, *,
                 title: str, author: str, compress: bool = True,
                 output_profile: str | None = None) -> None:
        self.spec, self.fonts = spec, fonts
        self.height_pt = spec.page_height * PT_PER_MM
        width_pt = spec.page_width * PT_PER_MM
        self.c = Canvas(out, pagesize=(width_pt, self.height_pt),
                        invariant=1, pageCompression=1 if compress else 0,
                        initialFontName=fonts.names["gothic"], initialFontSize=10,
                        pdfVersion=PDF_VERSION)
        set_page_boxes(self.c, width_pt, self.height_pt)   # PDF/X-4: layouts/pdfx.py
        make_pdfx(self.c, find_output_profile(output_profile))
        self.c.setTitle(title)
        self.c.setAuthor(author)
        self.c.setSubject("個人番号通知カード・個人番号カード交付申請書")
        self.c.setCreator(PRODUCER)
        self.c.setProducer(PRODUCER)
        self._forms: set[str] = set()
        self._wraps: dict[tuple[str, float, float, tuple[str, ...]], tuple[str, ...]] = {}
        self._encoded_cache: dict[tuple[str, float, tuple[str, ...]],
                                  tuple[float, list[tuple[float, str]]]] = {}
        self.page_count = 0

    # --- units -------------------------------------------------------------------------
    @staticmethod
    def pt(mm: float) -> float:
        return mm * PT_PER_MM

    def y(self, mm_from_top: float) -> float:
        return self.height_pt - mm_from_top * PT_PER_MM

    # --- text --------------------------------------------------------------------------
    def text_width(self, text: str, size: float, chain: tuple[str, ...] = TEXT_CHAIN) -> float:
        """Width in mm."""
        return sum(_width(f, t, size) for f, t in self.fonts.runs(text, chain)) / PT_PER_MM

    def _encoded(self, text: str, size: float,
                 chain: tuple[str, ...]) -> tuple[float, list[tuple[float, str]]]:
        """(width in pt, [(dx in pt, 'Tf … Tj' operators)]) for a text, cached per document.

        Safe to cache: reportlab assigns a character its subset code the first time it is
        seen in this document and never changes it afterwards.
        """
        key = (text, size, chain)
        hit = self._encoded_cache.get(key)
        if hit is not None:
            return hit
        doc, esc = self.c._doc, self.c._escape
        pieces: list[tuple[float, str]] = []
        dx = 0.0
        for font, part in self.fonts.runs(text, chain):
            f = getFont(font)
            ops = " ".join(f"{f.getSubsetInternalName(subset, doc)} {size:.2f} Tf ({esc(t)}) Tj"
                           for subset, t in f.splitString(part, doc))
            pieces.append((dx, ops))
            dx += _width(font, part, size)
        hit = self._encoded_cache[key] = (dx, pieces)
        return hit

    def text(self, x: float, y: float, text: str, size: float, *,
             chain: tuple[str, ...] = TEXT_CHAIN, anchor: str = "start",
             max_width: float | None = None) -> None:
        """Draw one line with its baseline at (x, y) mm; shrink to max_width if given.

        Emits the text operators directly (one literal per line): reportlab's drawString
        builds a text object per call and formats every number through fp_str; this is the
        same PDF, about 3× cheaper.
        """
        if not text:
            return
        width, pieces = self._encoded(text, size, chain)
        if max_width is not None and width > max_width * PT_PER_MM:
            size = size * max_width * PT_PER_MM / width
            width, pieces = self._encoded(text, size, chain)
        xp = x * PT_PER_MM - (width / 2 if anchor == "middle" else width if anchor == "end" else 0)
        yp = self.y(y)
        if len(pieces) == 1:
            self.c._code.append(f"BT 1 0 0 1 {xp:.2f} {yp:.2f} Tm {pieces[0][1]} ET")
            return
        self.c._code.append("BT " + " ".join(f"1 0 0 1 {xp + dx:.2f} {yp:.2f} Tm {ops}"
                                             for dx, ops in pieces) + " ET")

    def name(self, x: float, y: float, text: str, size: float, *, anchor: str = "start",
             max_width: float | None = None) -> None:
        """Names in IPAmj Mincho (it covers the register's character set)."""
        self.text(x, y, text, size, chain=NAME_CHAIN, anchor=anchor, max_width=max_width)

    def wrap(self, text: str, size: float, width: float,
             chain: tuple[str, ...] = TEXT_CHAIN) -> list[str]:
        """Greedy character wrap (Japanese has no spaces to break at); cached per text."""
        key = (text, size, width, chain)
        hit = self._wraps.get(key)
        if hit is not None:
            return list(hit)
        lines, cur, used = [], "", 0.0
        for ch in text:
            w = self.text_width(ch, size, chain)
            if ch == "\n" or (cur and used + w > width):
                lines.append(cur)
                cur, used = ("", 0.0) if ch == "\n" else (ch, w)
            else:
                cur, used = cur + ch, used + w
        if cur:
            lines.append(cur)
        if len(self._wraps) < 4096:
            self._wraps[key] = tuple(lines)
        return lines

    # --- lines and boxes ---------------------------------------------------------------
    def rect(self, box: Box, *, width: float = 0.25, dash: tuple[float, ...] | None = None,
             fill_gray: float | None = None, stroke: bool = True) -> None:
        c = self.c
        c.saveState()
        c.setLineWidth(width)
        if dash:
            c.setDash(list(dash))
        if fill_gray is not None:
            c.setFillGray(fill_gray)
        c.rect(box.x * PT_PER_MM, self.y(box.bottom), box.w * PT_PER_MM, box.h * PT_PER_MM,
               stroke=1 if stroke else 0, fill=0 if fill_gray is None else 1)
        c.restoreState()

    def line(self, x1: float, y1: float, x2: float, y2: float, *, width: float = 0.25,
             dash: tuple[float, ...] | None = None, gray: float = 0.0) -> None:
        c = self.c
        c.saveState()
        c.setLineWidth(width)
        c.setStrokeGray(gray)
        if dash:
            c.setDash(list(dash))
        c.line(x1 * PT_PER_MM, self.y(y1), x2 * PT_PER_MM, self.y(y2))
        c.restoreState()

    def literal(self, ops: str) -> None:
        """Raw PDF operators (paths built by layouts.qr / layouts.barcodes)."""
        self.c.addLiteral(ops)

    # --- static furniture ----------------------------------------------------------------
    def furniture(self, name: str, draw: Callable[[Document], None]) -> None:
        """Place form ``name`` on the page, drawing it into the document the first time."""
        if name not in self._forms:
            self.c.beginForm(name)
            draw(self)
            self.c.endForm()
            self._forms.add(name)
        self.c.doForm(name)

    # --- pages -------------------------------------------------------------------------
    def footer(self, text: str) -> None:
        """The page-contract footer line QA reads back."""
        s = self.spec
        self.text(s.page_width / 2, s.footer_y, text, s.footer_size, anchor="middle")

    def end_page(self) -> None:
        self.c.showPage()
        use_template(self.c._doc.Pages.pages[-1])   # its dictionary: layouts/page_dicts.py
        self.page_count += 1

    def save(self) -> None:
        self.c.save()


def draw_demo_watermark(doc: Document) -> None:
    """DEMO / 見本 across the sheet and at the top, so no sample can pass as real."""
    s, c = doc.spec, doc.c
    c.saveState()
    c.setFillGray(WATERMARK.level)
    c.translate(doc.pt(s.page_width / 2), doc.y(s.page_height / 2))
    c.rotate(45)
    for dy, label in ((0.0, "見本"), (-s.demo_size * 0.9, "DEMO")):
        c.setFont(doc.fonts.names["gothic"], s.demo_size)
        w = stringWidth(label, doc.fonts.names["gothic"], s.demo_size)
        c.drawString(-w / 2, dy, label)
    c.restoreState()
    doc.text(s.page_width - s.margin, s.margin / 2 + 2, "DEMO / 見本 — 実在の個人番号ではありません",
             s.footer_size, anchor="end")
