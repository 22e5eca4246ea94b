"""layouts.stencil: a module matrix as a 1-bit stencil mask, and back."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from layouts.stencil import stencil_ops


def unstencil(ops: str) -> np.ndarray:
    """The module matrix back from the inline image's header and hex data."""
    w, h = (int(v) for v in re.search(r"/W (\d+) /H (\d+)", ops).groups())
    data = bytes.fromhex(ops.split(" ID\n", 1)[1].split(">", 1)[0])
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8).reshape(h, -1), axis=1)
    return bits[:, :w]


@given(st.integers(1, 40), st.integers(1, 40), st.randoms(use_true_random=False))
def test_stencil_round_trips_any_matrix(rows: int, cols: int, rnd) -> None:
    dark = np.array([[rnd.random() < 0.5 for _ in range(cols)] for _ in range(rows)], dtype=np.uint8)
    assert (unstencil(stencil_ops(dark, 0, 0, 1, "0 g")) == dark).all()


def test_stencil_places_the_symbol_by_its_top_left() -> None:
    ops = stencil_ops(np.ones((3, 5), dtype=np.uint8), 10.0, 100.0, 2.0, "0 0 0 1 k")
    # 5 × 3 modules of 2 pt: 10 × 6 pt, bottom at 100 - 6, painted in the given colour
    assert ops.splitlines()[0] == "q 0 0 0 1 k 10.0000 0 0 6.0000 10.000 94.000 cm"
