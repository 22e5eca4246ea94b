"""Deterministic test numbers for the ledger tests (and their worker processes).

``derive`` is a stand-in for transforms.numbering with the property the ledger relies on:
a bijection from resident codes to valid 12-digit numbers for each generation (an affine
map mod 10**11 with a multiplier coprime to 10), so tests control collisions exactly.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from core.keys import KeyMaterial

WEIGHTS = np.array([6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2], dtype=np.int64)
MULT, ADD, GEN_STEP = 7919, 12345, 104729
DIGITS_RE = re.compile(r"\d{11,12}")


def with_check_digit(bodies: np.ndarray) -> pl.Series:
    """11-digit bodies (ints) → 12-character My Numbers with the statutory check digit."""
    bodies = np.asarray(bodies, dtype=np.int64)
    digits = (bodies[:, None] // 10 ** np.arange(10, -1, -1, dtype=np.int64)) % 10
    r = (digits * WEIGHTS).sum(axis=1) % 11
    cd = np.where(r <= 1, 0, 11 - r)
    body = pl.Series(bodies).cast(pl.Utf8).str.zfill(11)
    return (body + pl.Series(cd).cast(pl.Utf8)).rename("my_number")


def derive(codes: pl.Series, secret: bytes = b"", generation: int = 0) -> pl.Series:
    """A bijective, deterministic code → number map (per generation); ignores the secret."""
    ints = codes.cast(pl.Int64).to_numpy()
    return with_check_digit((ints * MULT + ADD + generation * GEN_STEP) % 10**11)


def codes(start: int, n: int) -> pl.Series:
    """n distinct 11-digit resident codes from ``start``."""
    return pl.int_range(start, start + n, eager=True).cast(pl.Utf8).str.zfill(11).rename(
        "resident_code")


def number_frame(start: int, n: int, generation: int = 0) -> pl.DataFrame:
    """[resident_code, my_number, generation] for n residents."""
    c = codes(start, n)
    return pl.DataFrame({"resident_code": c, "my_number": derive(c, b"", generation),
                         "generation": pl.Series([generation] * n, dtype=pl.Int32)})


def assert_no_values(text: str) -> None:
    """No run of 11 or more digits (a resident code or a My Number) in the text."""
    found = DIGITS_RE.findall(text)
    assert not found, f"{len(found)} digit run(s) that look like codes or numbers"


def zero_key() -> KeyMaterial:
    """A real (all-zero, DEMO) key: reissue binds it like any other key (no stand-in)."""
    return KeyMaterial(key_id="k-test-0001", secret=b"\x00" * 32, created="2026-11-26",
                       is_demo=True)
