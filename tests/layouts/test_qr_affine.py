"""The affine fast path of layouts.qr gives segno's matrix for every 23-digit payload."""

from __future__ import annotations

import random

import segno

from layouts.qr import QR_ERROR, QR_MASK, QR_VERSION, qr_matrix


def _segno(data: str) -> list[bytearray]:
    return segno.make_qr(data, error=QR_ERROR, version=QR_VERSION, mask=QR_MASK,
                         boost_error=False).matrix


def test_fast_path_equals_segno_on_random_and_edge_payloads() -> None:
    rng = random.Random(20150705)
    payloads = ["0" * 23, "9" * 23, "1" + "0" * 22, "0" * 22 + "1", "12345678901234567890123"]
    payloads += ["".join(rng.choice("0123456789") for _ in range(23)) for _ in range(3000)]
    for data in payloads:
        assert list(qr_matrix(data)) == list(_segno(data)), data


def test_other_payloads_still_go_through_segno() -> None:
    for data in ("1234567890123456789012", "123456789012345678901234", "ABC", "１２３"):
        assert list(qr_matrix(data)) == list(_segno(data)), data
    wide = "１２３４５６７８９０１２３４５６７８９０１２３"    # 23 digits, but not ASCII
    assert list(qr_matrix(wide)) == list(segno.make_qr(
        wide, error=QR_ERROR, mask=QR_MASK, boost_error=False).matrix)
