"""The barcode operators equal one ``re`` per bar formatted from scratch (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from layouts.barcodes import (
    CODABAR,
    PT_PER_MM,
    codabar_elements,
    codabar_ops,
    customer_bar_boxes,
    customer_barcode_ops,
)
from layouts.spec import DEFAULT_SPEC

COORD = st.floats(min_value=0, max_value=900, allow_nan=False)


def _customer_reference(bars: str, x: float, y_top: float) -> str:
    spec, k = DEFAULT_SPEC.customer_barcode, PT_PER_MM
    base = y_top - spec.long_bar * k
    return "\n".join(["q 0 g", *[f"{x + bx * k:.3f} {base + by * k:.3f} {bw * k:.3f} {bh * k:.3f} re"
                                 for bx, by, bw, bh in customer_bar_boxes(bars, spec)], "f Q"])


def _codabar_reference(text: str, x: float, y_top: float) -> str:
    spec, k = DEFAULT_SPEC.codabar, PT_PER_MM
    h, parts, pos = spec.height * k, ["q 0 g"], x
    for is_bar, wide in codabar_elements(text):
        w = spec.narrow * (spec.wide_ratio if wide else 1) * k
        if is_bar:
            parts.append(f"{pos:.3f} {y_top - h:.3f} {w:.3f} {h:.3f} re")
        pos += w
    parts.append("f Q")
    return "\n".join(parts)


@settings(max_examples=300)
@given(st.text(alphabet="FADT", max_size=67), COORD, COORD)
def test_customer_barcode_operators_equal_one_box_per_bar(bars, x, y) -> None:
    spec = DEFAULT_SPEC.customer_barcode
    assert customer_barcode_ops(bars, x, y, spec) == _customer_reference(bars, x, y)


@settings(max_examples=300)
@given(st.text(alphabet="".join(CODABAR), max_size=14), COORD, COORD)
def test_codabar_operators_equal_one_box_per_bar(text, x, y) -> None:
    assert codabar_ops(text, x, y, DEFAULT_SPEC.codabar) == _codabar_reference(text, x, y)
