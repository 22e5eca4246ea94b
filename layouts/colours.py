"""The only colours a print batch uses: DeviceGray and DeviceCMYK, never RGB.

PDF/X-4 with a CMYK output intent (:mod:`layouts.pdfx`) allows DeviceGray (printed on the
black plate) and DeviceCMYK; DeviceRGB would need a colour conversion the print shop did
not agree to (docs/domain.md#pdfx-4-for-print-shops). Every sheet takes its colours from here, as values
for reportlab (``setFillGray``/``setFillColorCMYK``) or as raw PDF operators for paths.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gray:
    """DeviceGray level: 0 = black (100 % K), 1 = white (paper)."""

    level: float

    @property
    def fill_op(self) -> str:
        return f"{self.level:g} g"


@dataclass(frozen=True)
class CMYK:
    """DeviceCMYK tint, each component 0..1 of the plate."""

    c: float
    m: float
    y: float
    k: float

    @property
    def fill_op(self) -> str:
        return f"{self.c:g} {self.m:g} {self.y:g} {self.k:g} k"

    @property
    def components(self) -> tuple[float, float, float, float]:
        return (self.c, self.m, self.y, self.k)


#: text, rules, barcodes, QR codes and inserter marks: black plate only
BLACK = Gray(0.0)
#: label cells of the application form
LABEL_FILL = Gray(0.93)
#: the DEMO / 見本 watermark of sample runs
WATERMARK = Gray(0.85)
#: the notification card's pale green paper colour, as a CMYK tint (was RGB 0.90/0.96/0.91)
CARD_TINT = CMYK(0.08, 0.0, 0.08, 0.02)
