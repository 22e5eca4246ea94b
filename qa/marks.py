"""Read back the inserter marks (Data Matrix, one per sheet) and check what an inserter would.

Independent of the renderer (qa never imports layouts): the page contract
(docs/architecture.md#page-contract) says each sheet carries one ECC200 Data Matrix
``{batch_id}/{envelope_seq}/{k}/{n}`` in the bottom-left corner. The reader renders only
that corner (:data:`MARK_REGION_MM`), falling back to the whole page when nothing decodes
there, and decodes with zxing-cpp.

Two checks, both reported under ``inserter_marks``:

- per page: exactly one mark, and it says the batch, envelope and sheet k of n that the
  manifest's page ranges promise for that page;
- sequence (full QA, every page read): what an inserter sees, from the marks alone: each
  envelope's sheets 1..n in order with one n, envelopes in increasing order, none split
  or repeated, no sheet without a mark, and the set of envelopes is the manifest's.

In-run QA decodes a seeded sample of pages (:func:`qa.sampling.draw_sample`); ``--full``
decodes all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from qa.checks import Finding
from qa.readback import render_gray

if TYPE_CHECKING:
    import pypdfium2 as pdfium

INSERTER_MARKS = "inserter_marks"
#: where the page contract puts the mark: (left, top, right, bottom) in mm from the top-left
MARK_REGION_MM = (0.0, 262.0, 40.0, 297.0)
PT_PER_MM = 72 / 25.4
MARK_RE = re.compile(r"^([\x21-\x2e\x30-\x7e]+)/(\d+)/(\d+)/(\d+)$")


@dataclass(frozen=True)
class Mark:
    batch_id: str
    envelope_seq: int
    k: int
    n: int


def parse_mark(text: str) -> Mark | None:
    """The mark's fields, or None when the text is not a mark."""
    m = MARK_RE.match(text)
    if m is None:
        return None
    return Mark(m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)))


def decode_datamatrix(image: np.ndarray) -> list[str]:
    """Texts of the valid Data Matrix symbols in a grayscale image."""
    import zxingcpp

    zx: Any = zxingcpp
    found = zx.read_barcodes(image, formats=zx.BarcodeFormat.DataMatrix,
                                   try_rotate=False, try_downscale=False, try_invert=False)
    return [code.text for code in found if code.valid]


@dataclass
class MarkReader:
    """Decode the mark of a page from its corner, the whole page only as a fallback."""

    pdf: pdfium.PdfDocument
    dpi: float = 200.0
    region_mm: tuple[float, float, float, float] = MARK_REGION_MM
    crop_renders: int = 0
    full_page_renders: int = 0

    def read(self, page_number: int) -> list[str]:
        page = self.pdf[page_number - 1]
        try:
            width, height = page.get_width(), page.get_height()
            left, top, right, bottom = (v * PT_PER_MM for v in self.region_mm)
            crop = (left, max(0.0, height - bottom), max(0.0, width - right), top)
            self.crop_renders += 1
            texts = decode_datamatrix(render_gray(page, self.dpi, crop))
            if texts:
                return texts
            self.full_page_renders += 1
            return decode_datamatrix(render_gray(page, min(self.dpi, 150.0)))
        finally:
            page.close()


def check_marks(decoded: dict[int, list[str]], pages: pl.DataFrame) -> list[Finding]:
    """Each decoded page has one mark equal to the page's place in the manifest."""
    expected = {int(r["page"]): r for r in pages.iter_rows(named=True)}
    out: list[Finding] = []
    for page, texts in sorted(decoded.items()):
        exp = expected.get(page)
        env = None if exp is None else int(exp["envelope_seq"])
        if len(texts) != 1:
            out.append(Finding(INSERTER_MARKS, f"{len(texts)} inserter marks decoded on page", env, page))
            continue
        mark = parse_mark(texts[0])
        if mark is None:
            out.append(Finding(INSERTER_MARKS, "inserter mark is not batch/envelope/k/n", env, page))
        elif exp is None:
            out.append(Finding(INSERTER_MARKS, "inserter mark on a page the manifest does not cover",
                               mark.envelope_seq, page))
        elif (mark.batch_id, mark.envelope_seq, mark.k, mark.n) != (
                exp["batch_id"], env, int(exp["k"]), int(exp["n"])):
            out.append(Finding(INSERTER_MARKS, "inserter mark does not match the manifest", env, page))
    return out


def check_mark_sequence(marks: list[Mark | None], envelopes: list[int],
                        batch_id: str) -> list[Finding]:
    """What an inserter sees reading every sheet in order (``marks[i]`` = page i + 1).

    Every sheet has a mark of this batch; an envelope's sheets are 1..n in order with the
    same n; envelopes do not repeat and increase; the envelopes seen are ``envelopes``.
    """
    out: list[Finding] = []
    seen: list[int] = []
    current: Mark | None = None
    after_unreadable = False    # an unreadable sheet may have been the next one's sheet 1
    for page, mark in enumerate(marks, 1):
        if mark is None:
            env_hint = None if current is None else current.envelope_seq
            out.append(Finding(INSERTER_MARKS, "sheet without a readable inserter mark",
                               env_hint, page))
            # assume it was the sheet expected here, so one bad sheet gives one finding
            if current is not None and current.k < current.n:
                current = replace(current, k=current.k + 1)
            else:
                current, after_unreadable = None, True
            continue
        env = mark.envelope_seq
        if mark.batch_id != batch_id:
            out.append(Finding(INSERTER_MARKS, "sheet of another batch", env, page))
        if current is not None and env == current.envelope_seq:
            if mark.k != current.k + 1 or mark.n != current.n:
                out.append(Finding(INSERTER_MARKS, "sheets of an envelope out of sequence", env, page))
        else:
            if current is not None and current.k != current.n:
                out.append(Finding(INSERTER_MARKS, "envelope ends before its last sheet",
                                   current.envelope_seq, page - 1))
            if mark.k != 1 and not (after_unreadable and mark.k == 2):
                out.append(Finding(INSERTER_MARKS, "envelope does not start with sheet 1", env, page))
            if env in seen:
                out.append(Finding(INSERTER_MARKS, "envelope split or repeated", env, page))
            elif seen and env < seen[-1]:
                out.append(Finding(INSERTER_MARKS, "envelopes not in increasing order", env, page))
            seen.append(env)
        current, after_unreadable = mark, False
    if current is not None and current.k != current.n:
        out.append(Finding(INSERTER_MARKS, "envelope ends before its last sheet",
                           current.envelope_seq, len(marks)))
    want = set(envelopes)
    got = set(seen)
    out += [Finding(INSERTER_MARKS, "envelope has no marked sheet", e) for e in sorted(want - got)]
    out += [Finding(INSERTER_MARKS, "marked envelope not in the manifest", e) for e in sorted(got - want)]
    return out

