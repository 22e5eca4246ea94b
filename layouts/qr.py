"""QR code for the online application, drawn as ONE filled path of module runs.

Why not reportlab's QR widget: it builds a Drawing per code (about 8 ms a page) and its
renderer references a non-embedded Helvetica. Here segno gives the module matrix and
each row's runs of dark modules become ``re`` operators of one path, filled once.

Fixed parameters, so every code is the same size on every form: version 1 (21 × 21),
error correction Q (25 % recoverable, for paper), numeric mode (23 digits fit in 27),
and a fixed mask. A fixed mask is valid QR (decoders read the mask from the format
bits); letting segno score all eight masks costs 6× the time for no gain in reading.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import segno

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

QR_VERSION = 1
QR_ERROR = "q"
QR_MASK = 1
QR_MODULES = 21
QUIET_ZONE = 4


def qr_matrix(data: str) -> tuple[bytearray, ...]:
    """Rows of 0/1 modules (no quiet zone), top row first.

    A payload longer than version 1 holds (a URL template in the settings) gets the
    smallest version that fits; the drawing then uses smaller modules in the same box.
    """
    try:
        code = segno.make_qr(data, error=QR_ERROR, version=QR_VERSION, mask=QR_MASK,
                             boost_error=False)
    except segno.DataOverflowError:
        code = segno.make_qr(data, error=QR_ERROR, mask=QR_MASK, boost_error=False)
    return code.matrix


_DARK_RUN = re.compile(b"\x01+")


def qr_path_ops(matrix: tuple[bytearray, ...], x: float, y_top: float, module: float) -> str:
    """PDF operators filling the dark modules; (x, y_top) is the symbol's top-left in pt."""
    parts = ["q 0 g"]
    m = f"{module:.3f}"
    for r, row in enumerate(matrix):
        y = f"{y_top - (r + 1) * module:.3f}"
        for run in _DARK_RUN.finditer(row):
            a, b = run.span()
            parts.append(f"{x + a * module:.3f} {y} {(b - a) * module:.3f} {m} re")
    parts.append("f Q")
    return "\n".join(parts)


def draw_qr(canvas: Canvas, data: str, x: float, y_top: float, size_with_quiet_zone: float) -> None:
    """Draw the code so that it, with its quiet zone, fills a square of the given size (pt)."""
    matrix = qr_matrix(data)
    module = size_with_quiet_zone / (len(matrix) + 2 * QUIET_ZONE)
    canvas.addLiteral(qr_path_ops(matrix, x + QUIET_ZONE * module,
                                  y_top - QUIET_ZONE * module, module))
