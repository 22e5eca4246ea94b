"""Barcodes drawn as plain filled paths (no reportlab widgets: they pull in Helvetica).

- Japan Post customer barcode from the bar string of ``transforms.customer_barcode``,
  to the manual's dimensions in ``CustomerBarcodeSpec``.
- The registered-mail number (引受番号) as NW-7 (Codabar), start/stop ``A``, the symbology
  of Japan Post's own labels.
"""

from __future__ import annotations

from layouts.spec import CodabarSpec, CustomerBarcodeSpec

PT_PER_MM = 72 / 25.4

#: Codabar element widths (bar, space, bar, space, bar, space, bar); 1 = wide
CODABAR: dict[str, str] = {
    "0": "0000011", "1": "0000110", "2": "0001001", "3": "1100000", "4": "0010010",
    "5": "1000010", "6": "0100001", "7": "0100100", "8": "0110000", "9": "1001000",
    "-": "0001100", "$": "0011000", "A": "0011010", "B": "0101001", "C": "0001011",
    "D": "0001110",
}
CODABAR_START = CODABAR_STOP = "A"


def customer_bar_boxes(bars: str, spec: CustomerBarcodeSpec) -> list[tuple[float, float, float, float]]:
    """(x, y_from_bottom, width, height) in mm of each bar, relative to the bottom-left.

    Long spans the full height, timing the middle third, upper semi-long the upper two
    thirds (timing + ascender), lower semi-long the lower two thirds.
    """
    t, lng = spec.timing_bar, spec.long_bar
    asc = (lng - t) / 2
    extent = {"F": (0.0, lng), "A": (asc, lng - asc), "D": (0.0, asc + t), "T": (asc, t)}
    return [(i * spec.pitch, *extent[b][:1], spec.bar_width, extent[b][1])
            for i, b in enumerate(bars)]


def customer_barcode_ops(bars: str, x: float, y_top: float, spec: CustomerBarcodeSpec) -> str:
    """PDF operators (points) for the bars whose top-left is at (x, y_top) in pt."""
    k = PT_PER_MM
    base = y_top - spec.long_bar * k
    parts = ["q 0 g"]
    for bx, by, bw, bh in customer_bar_boxes(bars, spec):
        parts.append(f"{x + bx * k:.3f} {base + by * k:.3f} {bw * k:.3f} {bh * k:.3f} re")
    parts.append("f Q")
    return "\n".join(parts)


def codabar_elements(text: str) -> list[tuple[bool, int]]:
    """(is_bar, is_wide) elements with start/stop A and one narrow gap between characters."""
    out: list[tuple[bool, int]] = []
    for n, ch in enumerate(CODABAR_START + text + CODABAR_STOP):
        if n:
            out.append((False, 0))
        out += [(i % 2 == 0, int(w)) for i, w in enumerate(CODABAR[ch])]
    return out


def codabar_width(text: str, spec: CodabarSpec) -> float:
    """Width in mm of the symbol (without quiet zones)."""
    return sum(spec.narrow * (spec.wide_ratio if w else 1) for _, w in codabar_elements(text))


def codabar_ops(text: str, x: float, y_top: float, spec: CodabarSpec) -> str:
    """PDF operators (points) for an NW-7 symbol whose top-left is at (x, y_top) in pt."""
    k = PT_PER_MM
    h = spec.height * k
    parts, pos = ["q 0 g"], x
    for is_bar, wide in codabar_elements(text):
        w = spec.narrow * (spec.wide_ratio if wide else 1) * k
        if is_bar:
            parts.append(f"{pos:.3f} {y_top - h:.3f} {w:.3f} {h:.3f} re")
        pos += w
    parts.append("f Q")
    return "\n".join(parts)
