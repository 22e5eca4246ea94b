"""A 2D code's module matrix as one 1-bit stencil mask (an inline image), for QR and Data Matrix.

Why not a path of module runs: a symbol of 21 × 21 or 18 × 18 modules is 100–200 ``re``
operators. Formatting them was the largest part of a member sheet's variable content after
the text, and every reader of the PDF (QA re-reads every page) parses them again. A stencil
mask (ISO 32000-2 §8.9.6.2, ``/ImageMask true``) paints the current fill colour where a
sample is 1: the whole symbol is a few hundred hex digits, written by numpy, and prints in
the fill colour like the text (the black plate). Module edges fall on device pixels when
the RIP samples the mask: at 0.5 mm modules and 600 dpi that is within ±0.05 mm.
"""

from __future__ import annotations

import numpy as np


def stencil_ops(dark: np.ndarray, x: float, y_top: float, module: float, fill_op: str) -> str:
    """PDF operators painting the 1s of ``dark`` (rows top-down) in modules of ``module`` pt,
    the top-left corner at (x, y_top) in pt, in the colour ``fill_op`` sets.

    ``/D [1 0]`` makes a sample of 1 paint; rows are packed most significant bit first and
    padded to whole bytes, as image data must be; ``/F /AHx`` keeps the content stream text.
    """
    rows, cols = dark.shape
    packed = np.packbits(dark.astype(bool, copy=False), axis=1)
    width, height = cols * module, rows * module
    return (f"q {fill_op} {width:.4f} 0 0 {height:.4f} {x:.3f} {y_top - height:.3f} cm\n"
            f"BI /W {cols} /H {rows} /IM true /BPC 1 /D [1 0] /F /AHx ID\n"
            f"{packed.tobytes().hex()}>\nEI Q")
