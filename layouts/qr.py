"""QR code for the online application, drawn as one stencil mask of its modules.

Why not reportlab's QR widget: it builds a Drawing per code (about 8 ms a page) and its
renderer references a non-embedded Helvetica. Here segno gives the module matrix and
:mod:`layouts.stencil` paints it as a 1-bit image mask (a path of module runs, the
previous drawing, cost more to write and to re-read).

Fixed parameters, so every code is the same size on every form: version 1 (21 × 21),
error correction Q (25 % recoverable, for paper), numeric mode (23 digits fit in 27),
and a fixed mask. A fixed mask is valid QR (decoders read the mask from the format
bits); letting segno score all eight masks costs 6× the time for no gain in reading.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import segno

from layouts.stencil import stencil_ops

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

QR_VERSION = 1
QR_ERROR = "q"
QR_MASK = 1
QR_MODULES = 21
QUIET_ZONE = 4


#: the payload every form carries: the 23-digit application id (申請書ID)
FAST_DIGITS = 23


class _AffineQR:
    """Version 1-Q, mask 1, 23 numeric digits: the module matrix is affine in the data bits.

    Numeric mode packs the digits into 7 ten-bit groups and one seven-bit group (77 bits);
    the mode, count, terminator and pad bits are fixed, Reed-Solomon parity is linear over
    GF(2) and a fixed mask is an XOR, so matrix = base XOR the columns of the set bits.
    The base and the 77 columns come from segno itself at first use (one symbol per bit);
    they are folded into one table per digit group (value -> XOR of its bits' columns, as
    441-bit integers), so a matrix is 8 XORs. Tests compare with segno on thousands of
    payloads. segno's encoder was a quarter of a page's render time.
    """

    WIDTHS = (10,) * 7 + (7,)
    _TO_MODULES = bytes.maketrans(b"01", b"\x00\x01")

    def __init__(self) -> None:
        self.base = self._segno("0" * FAST_DIGITS)
        self.tables: list[list[int]] = []
        for g, width in enumerate(self.WIDTHS):
            columns = []
            for bit in range(width):
                groups = ["000"] * 7 + ["00"]
                groups[g] = f"{1 << bit:0{3 if width == 10 else 2}d}"
                columns.append(self._segno("".join(groups)) ^ self.base)
            table = [0] * (1000 if width == 10 else 100)
            for value in range(1, len(table)):
                low = value & -value
                table[value] = table[value ^ low] ^ columns[low.bit_length() - 1]
            self.tables.append(table)

    @staticmethod
    def _segno(digits: str) -> int:
        code = segno.make_qr(digits, error=QR_ERROR, version=QR_VERSION, mask=QR_MASK,
                             boost_error=False, mode="numeric")
        return int("".join(str(v) for row in code.matrix for v in row), 2)

    def matrix(self, digits: str) -> tuple[bytearray, ...]:
        v = self.base
        for g, table in enumerate(self.tables):
            v ^= table[int(digits[3 * g:3 * g + 3])]
        raw = format(v, f"0{QR_MODULES * QR_MODULES}b").encode("ascii").translate(self._TO_MODULES)
        return tuple(bytearray(raw[r * QR_MODULES:(r + 1) * QR_MODULES]) for r in range(QR_MODULES))


@lru_cache(maxsize=1)
def _affine() -> _AffineQR:
    return _AffineQR()


def qr_matrix(data: str) -> tuple[bytearray, ...]:
    """Rows of 0/1 modules (no quiet zone), top row first.

    A payload longer than version 1 holds (a URL template in the settings) gets the
    smallest version that fits; the drawing then uses smaller modules in the same box.
    The usual payload, 23 ASCII digits, takes the affine fast path (same matrix as segno).
    """
    if len(data) == FAST_DIGITS and data.isascii() and data.isdigit():
        return _affine().matrix(data)
    try:
        code = segno.make_qr(data, error=QR_ERROR, version=QR_VERSION, mask=QR_MASK,
                             boost_error=False)
    except segno.DataOverflowError:
        code = segno.make_qr(data, error=QR_ERROR, mask=QR_MASK, boost_error=False)
    return code.matrix


def qr_ops(matrix: tuple[bytearray, ...], x: float, y_top: float, module: float) -> str:
    """PDF operators painting the dark modules; (x, y_top) is the symbol's top-left in pt."""
    dark = np.frombuffer(b"".join(matrix), dtype=np.uint8).reshape(len(matrix), -1)
    return stencil_ops(dark, x, y_top, module, "0 g")


def draw_qr(canvas: Canvas, data: str, x: float, y_top: float, size_with_quiet_zone: float) -> None:
    """Draw the code so that it, with its quiet zone, fills a square of the given size (pt)."""
    matrix = qr_matrix(data)
    module = size_with_quiet_zone / (len(matrix) + 2 * QUIET_ZONE)
    canvas.addLiteral(qr_ops(matrix, x + QUIET_ZONE * module,
                                  y_top - QUIET_ZONE * module, module))
