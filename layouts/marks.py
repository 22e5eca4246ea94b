"""Inserter marks: a Data Matrix on every sheet saying which envelope and which sheet it is.

An intelligent inserter reads one code per sheet and collates the sheets of an envelope
before folding them in; it stops when a sheet is missing, extra or out of order. The code
holds no personal data: ``{batch_id}/{envelope_seq}/{k}/{n}`` (sheet k of n of the
envelope), ASCII, e.g. ``B00001/123/2/3`` (docs/domain.md#inserter-marks).

Geometry (fixed, so the inserter's camera looks at one place on every sheet): ECC200,
square 18 × 18 modules (larger symbols only for long batch ids), 0.5 mm modules, a quiet
zone of 2 modules, bottom-left corner of the sheet inside the 10 mm margin box
(:data:`MARK_AREA`), black plate only. zint gives the module matrix; the dark modules are
painted as one 1-bit stencil mask, like :mod:`layouts.qr`, so a mark costs a few
hundred bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.errors import ConfigError
from layouts.colours import BLACK
from layouts.spec import Box
from layouts.stencil import stencil_ops

PT_PER_MM = 72 / 25.4
#: zint's option_2 for a square ECC200 symbol of 18 × 18 modules (18 data codewords)
DM_SIZE_18 = 5


@dataclass(frozen=True)
class MarkSpec:
    """Where the mark sits: ``x`` and ``bottom`` of the symbol (without quiet zone), in mm
    from the sheet's top-left; the reserved :attr:`area` holds it and its quiet zone."""

    x: float = 12.0
    bottom: float = 285.0
    module: float = 0.5
    quiet_modules: int = 2
    max_modules: int = 22

    @property
    def area(self) -> Box:
        """The reserved margin box: the largest allowed symbol plus its quiet zone."""
        q = self.quiet_modules * self.module
        side = self.max_modules * self.module + 2 * q
        return Box(self.x - q, self.bottom + q - side, side, side)

    def symbol_box(self, modules: int) -> Box:
        side = modules * self.module
        return Box(self.x, self.bottom - side, side, side)


MARK_SPEC = MarkSpec()
MARK_AREA = MARK_SPEC.area
_PAYLOAD = re.compile(r"^[\x21-\x7e]+$")


def mark_payload(batch_id: str, envelope_seq: int, k: int, n: int) -> str:
    """``batch/envelope/k/n``; ConfigError for a batch id that is not printable ASCII."""
    if not batch_id or not _PAYLOAD.match(batch_id) or "/" in batch_id:
        raise ConfigError("batch id is not printable ASCII without '/': no inserter mark possible")
    if not (1 <= k <= n) or envelope_seq < 0:
        raise ConfigError("inserter mark: sheet k of n out of range")
    return f"{batch_id}/{envelope_seq}/{k}/{n}"


@lru_cache(maxsize=4096)
def datamatrix_modules(payload: str, max_modules: int = MARK_SPEC.max_modules) -> np.ndarray:
    """Square ECC200 module matrix (rows top first, 1 = dark), 18 × 18 unless it must grow."""
    import zint

    def encode(size: int | None) -> np.ndarray:
        sym = zint.Symbol()
        sym.symbology = zint.Symbology.DATAMATRIX
        sym.option_3 = 100  # DM_SQUARE: square symbols only
        if size is not None:
            sym.option_2 = size
        sym.encode(payload.encode("ascii"))
        packed = np.asarray(sym.encoded_data)[:sym.rows]
        return np.unpackbits(packed, axis=1, bitorder="little")[:, :sym.width].copy()

    try:
        matrix = encode(DM_SIZE_18)
    except RuntimeError:          # too long for 18 × 18: the smallest square that fits
        try:
            matrix = encode(None)
        except RuntimeError:
            raise ConfigError("inserter mark payload cannot be encoded") from None
    if matrix.shape[0] > max_modules or matrix.shape[0] != matrix.shape[1]:
        raise ConfigError(f"inserter mark needs {matrix.shape[0]} modules, more than the "
                          f"{max_modules} its margin box holds: shorten the batch id prefix")
    matrix.setflags(write=False)
    return matrix


def mark_ops(payload: str, page_height_mm: float, spec: MarkSpec = MARK_SPEC) -> str:
    """PDF operators painting the dark modules of the payload's Data Matrix (one stencil
    mask, :mod:`layouts.stencil`), the symbol's top-left at its box in the margin."""
    matrix = datamatrix_modules(payload, spec.max_modules)
    box = spec.symbol_box(matrix.shape[0])
    return stencil_ops(matrix, box.x * PT_PER_MM, (page_height_mm - box.y) * PT_PER_MM,
                       spec.module * PT_PER_MM, BLACK.fill_op)
