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
    extent = _bar_extents(spec)
    return [(i * spec.pitch, extent[b][0], spec.bar_width, extent[b][1])
            for i, b in enumerate(bars)]


def customer_barcode_ops(bars: str, x: float, y_top: float, spec: CustomerBarcodeSpec) -> str:
    """PDF operators (points) for the bars whose top-left is at (x, y_top) in pt.

    The same operators as one ``re`` per box of :func:`customer_bar_boxes`, with each bar
    kind's y, width and height formatted once rather than per bar (a test compares).
    """
    k = PT_PER_MM
    base = y_top - spec.long_bar * k
    tails = {kind: f" {base + by * k:.3f} {spec.bar_width * k:.3f} {bh * k:.3f} re"
             for kind, (by, bh) in _bar_extents(spec).items()}
    pitch = spec.pitch
    return "\n".join(["q 0 g", *[f"{x + i * pitch * k:.3f}{tails[b]}" for i, b in enumerate(bars)],
                      "f Q"])


def _bar_extents(spec: CustomerBarcodeSpec) -> dict[str, tuple[float, float]]:
    """(y from the bottom, height) in mm of each bar kind."""
    t, lng = spec.timing_bar, spec.long_bar
    asc = (lng - t) / 2
    return {"F": (0.0, lng), "A": (asc, lng - asc), "D": (0.0, asc + t), "T": (asc, t)}


#: each character's (is_bar, is_wide) elements, built once
_ELEMENTS: dict[str, tuple[tuple[bool, int], ...]] = {
    ch: tuple((i % 2 == 0, int(w)) for i, w in enumerate(widths)) for ch, widths in CODABAR.items()}


def codabar_elements(text: str) -> list[tuple[bool, int]]:
    """(is_bar, is_wide) elements with start/stop A and one narrow gap between characters."""
    out: list[tuple[bool, int]] = []
    for n, ch in enumerate(CODABAR_START + text + CODABAR_STOP):
        if n:
            out.append((False, 0))
        out += _ELEMENTS[ch]
    return out


def codabar_width(text: str, spec: CodabarSpec) -> float:
    """Width in mm of the symbol (without quiet zones)."""
    return sum(spec.narrow * (spec.wide_ratio if w else 1) for _, w in codabar_elements(text))


def codabar_ops(text: str, x: float, y_top: float, spec: CodabarSpec) -> str:
    """PDF operators (points) for an NW-7 symbol whose top-left is at (x, y_top) in pt.

    The same operators as one ``re`` per bar of :func:`codabar_elements`; each width's y,
    width and height are formatted once rather than per bar (a test compares).
    """
    k = PT_PER_MM
    h = spec.height * k
    widths = (spec.narrow * k, spec.narrow * spec.wide_ratio * k)
    tails = tuple(f" {y_top - h:.3f} {w:.3f} {h:.3f} re" for w in widths)
    parts, pos = ["q 0 g"], x
    for is_bar, wide in codabar_elements(text):
        if is_bar:
            parts.append(f"{pos:.3f}{tails[wide]}")
        pos += widths[wide]
    parts.append("f Q")
    return "\n".join(parts)
