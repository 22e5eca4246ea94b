"""Keyed derivation of My Numbers from resident codes.

``my_number = FF1_K,T(resident_code) ‖ check_digit``: FF1 (NIST SP 800-38G, AES-256,
radix 10) over the 11 digits of the resident code, with tweak T = the ASCII decimal digits
of the number's generation (``b"0"`` at first issue, ``b"1"`` after the first change, …),
then the statutory check digit (`transforms.identifiers.my_number`). FF1 is a permutation,
so distinct resident codes never collide, and the result depends only on (key, generation,
resident code). Duplicate resident codes give duplicate numbers: catching them is the
register check's and the ledger's job.

Steps of `derive_my_numbers`, per block of `DERIVE_BLOCK` rows, with no per-element Python:

1. Read the resident codes straight from polars' Arrow ``string_view`` buffer: an 11-byte
   string is stored inline in its 16-byte view (4-byte length, then the bytes), i.e. two
   ``uint64`` words per row. Check lengths and ASCII digits with word-wide (SWAR) tests and
   turn the digits into one ``uint64`` with three multiply-shift-mask steps.
2. `transforms.ff1_batch.BatchFF1` encrypts the integers.
3. Split each result into digit groups, look up the check digit (three small tables of
   weighted sums, one of digits) and the ASCII bytes of each group, and write the rows
   straight into the 16-byte views of the result (length 12 + 12 inline bytes), which
   polars adopts without a copy.

Invalid input (nulls, wrong length, non-ASCII-digits) raises `InvalidLength` or
`InvalidFormat` naming the first bad position and how many rows are bad, never a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NoReturn

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from core.keys import BlockCipher
from transforms.ff1_batch import BatchFF1
from transforms.identifiers import as_string_series, describe_bad_rows
from transforms.identifiers.my_number import WEIGHTS

RESIDENT_CODE_LENGTH = 11
MY_NUMBER_LENGTH = 12
KEY_BYTES = 32
#: rows per block (parse → FF1 → format); the FF1 batch works in its own cache-sized chunks
DERIVE_BLOCK = 32_768
#: rows per chunk for `derive_in_chunks` when it is given one big Series
STREAM_CHUNK = 1_048_576
#: FF1 records per chunk with a PKCS#11 key: 8,192 blocks = 128 KiB per token call
#: (SoftHSM2 slows sharply above 128 KiB per call; core.hsm)
TOKEN_CHUNK = 8_192

_U = np.uint64
_ZERO_LEN_DIGITS = (_U(0xFFFFFFFF00000000), _U(0x00FFFFFFFFFFFFFF))  # digit bytes of the 2 words
_ASCII_ZEROS = (_U(0x3030303000000000), _U(0x0030303030303030))
_HIGH_BITS = _U(0x8080808080808080)
_DIGIT_LIMIT = _U(0x7676767676767676)  # byte + 0x76 sets bit 7 exactly when byte >= 10


def generation_tweak(generation: int) -> bytes:
    """The FF1 tweak of a generation: its ASCII decimal digits (``0`` → ``b"0"``)."""
    if isinstance(generation, bool) or not isinstance(generation, (int, np.integer)):
        raise TypeError(f"generation must be an int, got {type(generation).__name__}")
    if generation < 0:
        raise ValueError("generation must be >= 0")
    return str(int(generation)).encode("ascii")


def _cipher(key: bytes | BlockCipher) -> BatchFF1:
    if isinstance(key, BlockCipher):  # a token key (core.hsm): AES-256 done in the token
        return BatchFF1(key, 10, chunk_size=TOKEN_CHUNK)
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise TypeError(f"key must be bytes, got {type(key).__name__}")
    if len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes (AES-256), got {len(key)} bytes")
    return BatchFF1(bytes(key), 10)


# --- tables ---------------------------------------------------------------------------------
def _ascii4(values: np.ndarray) -> np.ndarray:
    """uint64 whose low 4 bytes are the ASCII digits of each value < 10**4 (first digit first)."""
    out = np.zeros(values.shape, dtype=np.uint64)
    for k in range(4):
        digit = (values // 10 ** (3 - k)) % 10
        out |= (digit.astype(np.uint64) + _U(48)) << _U(8 * k)
    return out


def _weighted(values: np.ndarray, weights: tuple[int, ...]) -> np.ndarray:
    total = np.zeros(values.shape, dtype=np.int64)
    for k, w in enumerate(weights):
        total += w * ((values // 10 ** (len(weights) - 1 - k)) % 10)
    return total


@lru_cache(maxsize=1)
def _tables() -> dict[str, np.ndarray]:
    """Digit groups of a body: g1 = d0..d3, g2 = d4..d7, g3 = d8..d10.

    ``word0[g1]`` is the first 8 bytes of a result view (length 12, then g1's digits);
    ``ascii_g2[g2]`` the low half of the second word; ``last[s*1000 + g3]`` its high half
    (g3's digits and the check digit) given s = the weighted sums of g1 and g2 mod 11;
    ``sum_g1``/``sum_g2`` those weighted sums mod 11.
    """
    g4 = np.arange(10 ** 4, dtype=np.int64)
    g3 = np.arange(10 ** 3, dtype=np.int64)
    sum_g1 = (_weighted(g4, WEIGHTS[0:4]) % 11).astype(np.uint8)
    sum_g2 = (_weighted(g4, WEIGHTS[4:8]) % 11).astype(np.uint8)
    sum_g3 = _weighted(g3, WEIGHTS[8:11])
    s = np.arange(21, dtype=np.int64)[:, None]  # sum_g1 + sum_g2 ∈ 0..20
    r = (s + sum_g3[None, :]) % 11
    cd = np.where(r <= 1, 0, 11 - r)
    last = (_ascii4((g3[None, :] * 10 + cd).reshape(-1)) << _U(32))
    return {
        "word0": _ascii4(g4) << _U(32) | _U(MY_NUMBER_LENGTH),
        "ascii_g2": _ascii4(g4),
        "last": last,
        "sum_g1": sum_g1,
        "sum_g2": sum_g2,
    }


# --- the block pipeline -------------------------------------------------------------------
class _Buffers:
    """Scratch arrays reused across the blocks of one call."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.t = np.empty(2 * size, dtype=np.uint64)
        self.u = np.empty(2 * size, dtype=np.uint64)
        self.mask = np.tile(np.array(_ZERO_LEN_DIGITS, dtype=np.uint64), size)
        self.zeros = np.tile(np.array(_ASCII_ZEROS, dtype=np.uint64), size)
        self.x = np.empty(size, dtype=np.uint64)
        self.y = np.empty(size, dtype=np.uint64)
        self.g1 = np.empty(size, dtype=np.uint64)
        self.g2 = np.empty(size, dtype=np.uint64)
        self.g3 = np.empty(size, dtype=np.uint64)
        self.s = np.empty(size, dtype=np.uint8)
        self.s2 = np.empty(size, dtype=np.uint8)
        self.idx = np.empty(size, dtype=np.int64)
        self.w = np.empty(size, dtype=np.uint64)


def _parse_block(words: npt.NDArray[np.uint64], buf: _Buffers) -> npt.NDArray[np.uint64] | None:
    """Resident codes from (k, 2) view words → uint64 values, or None if a row is bad."""
    k = words.shape[0]
    lengths = words.view(np.uint32)[:, 0]
    if lengths.min() != RESIDENT_CODE_LENGTH or lengths.max() != RESIDENT_CODE_LENGTH:
        return None
    t, u = buf.t[:2 * k], buf.u[:2 * k]
    np.bitwise_xor(words.reshape(-1), buf.zeros[:2 * k], out=t)  # ASCII digits → 0..9
    np.bitwise_and(t, buf.mask[:2 * k], out=t)  # drop the length and padding bytes
    np.add(t, _DIGIT_LIMIT, out=u)
    np.bitwise_or(u, t, out=u)
    if int(np.bitwise_or.reduce(u)) & int(_HIGH_BITS):
        return None
    # t: word 0 = [0,0,0,0,d0,d1,d2,d3], word 1 = [d4,…,d10,0]; combine digit pairs, quads, octets
    np.multiply(t, _U(10 * 256 + 1), out=t)
    np.right_shift(t, _U(8), out=t)
    np.bitwise_and(t, _U(0x00FF00FF00FF00FF), out=t)
    np.multiply(t, _U(100 * 65536 + 1), out=t)
    np.right_shift(t, _U(16), out=t)
    np.bitwise_and(t, _U(0x0000FFFF0000FFFF), out=t)
    np.multiply(t, _U(10000 * 2 ** 32 + 1), out=t)
    np.right_shift(t, _U(32), out=t)
    pair = t.reshape(k, 2)  # word 0 → D(d0..d3), word 1 → 10·D(d4..d10)
    x = buf.x[:k]
    np.multiply(pair[:, 0], _U(10 ** 8), out=x)
    np.add(x, pair[:, 1], out=x)
    np.floor_divide(x, _U(10), out=x)
    return x


def _format_block(values: np.ndarray, out_words: np.ndarray, buf: _Buffers) -> None:
    """11-digit bodies → 12-character My Number views written into (k, 2) ``out_words``."""
    tab = _tables()
    k = values.shape[0]
    g1, g2, g3 = buf.g1[:k], buf.g2[:k], buf.g3[:k]
    np.floor_divide(values, _U(10 ** 7), out=g1)
    np.multiply(g1, _U(10 ** 7), out=g3)
    np.subtract(values, g3, out=g3)  # d4..d10
    np.floor_divide(g3, _U(1000), out=g2)
    np.multiply(g2, _U(1000), out=buf.w[:k])
    np.subtract(g3, buf.w[:k], out=g3)  # d8..d10
    i1, i2, i3 = g1.view(np.int64), g2.view(np.int64), g3.view(np.int64)
    s, s2, idx, w = buf.s[:k], buf.s2[:k], buf.idx[:k], buf.w[:k]
    np.take(tab["sum_g1"], i1, out=s, mode="clip")
    np.take(tab["sum_g2"], i2, out=s2, mode="clip")
    np.add(s, s2, out=s)
    np.multiply(s, np.int64(1000), out=idx)
    np.add(idx, i3, out=idx)
    np.take(tab["word0"], i1, out=w, mode="clip")
    np.copyto(out_words[:, 0], w)
    np.take(tab["ascii_g2"], i2, out=w, mode="clip")
    np.take(tab["last"], idx, out=buf.y[:k], mode="clip")
    np.bitwise_or(w, buf.y[:k], out=out_words[:, 1])


def _view_words(chunk: pa.Array) -> npt.NDArray[np.uint64]:
    """The (len, 2) uint64 words of a string_view array's views (copied if misaligned)."""
    n = len(chunk)
    raw = np.frombuffer(chunk.buffers()[1], dtype=np.uint8,
                        count=16 * (chunk.offset + n))[16 * chunk.offset:]
    if raw.ctypes.data % 8:
        raw = raw.copy()
    return raw.view(np.uint64).reshape(n, 2)


def _raise_invalid(series: pl.Series, offset: int) -> NoReturn:
    """Full scan of a series that has bad rows: raise with counts and the first position."""
    ok_length = (series.str.len_chars() == RESIDENT_CODE_LENGTH).fill_null(True).to_numpy()
    ok_format = series.str.contains(r"^[0-9]+$").fill_null(True).to_numpy()
    valid = series.is_not_null().to_numpy()
    describe_bad_rows("resident codes", ok_length, ok_format, valid, offset)
    raise AssertionError("a block failed its check but no row is bad")  # pragma: no cover


def _derive(series: pl.Series, ff1: BatchFF1, tweak: bytes, offset: int = 0) -> pl.Series:
    n = len(series)
    out = np.zeros((n, 2), dtype=np.uint64)  # the result's string views
    if n == 0:
        return pl.Series("my_number", [], dtype=pl.String)
    arr = series.to_arrow(compat_level=pl.CompatLevel.newest())
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    buf = _Buffers(min(DERIVE_BLOCK, n))
    work = ff1.workspace(buf.size)
    pos = 0
    for chunk in chunks:
        if chunk.type != pa.string_view():
            chunk = chunk.cast(pa.string_view())
        if chunk.null_count:
            _raise_invalid(series, offset)
        words = _view_words(chunk)
        for start in range(0, len(chunk), buf.size):
            block = words[start:start + buf.size]
            x = _parse_block(block, buf)
            if x is None:
                _raise_invalid(series, offset)
            k = block.shape[0]
            y = ff1.encrypt_trusted(x, RESIDENT_CODE_LENGTH, tweak, buf.y[:k], work)
            _format_block(y, out[pos + start:pos + start + k], buf)
        pos += len(chunk)
    result = pl.from_arrow(pa.Array.from_buffers(pa.string_view(), n,
                                                 [None, pa.py_buffer(out)]))
    assert isinstance(result, pl.Series)
    return result.alias("my_number")


def derive_my_numbers(resident_codes: object, key: bytes | BlockCipher, generation: int = 0) -> pl.Series:
    """My Numbers (String, 12 ASCII digits, leading zeros kept) for resident codes.

    ``resident_codes``: a polars Series of 11-character strings or anything polars turns
    into one; ``key``: the 32-byte AES-256 key, or a `core.keys.BlockCipher` over a key held
    in a token (same numbers for the same key value); ``generation``: 0 at first issue, then 1, 2…
    for changed numbers. Raises `InvalidLength`/`InvalidFormat` (without values) when any
    code is null, not 11 characters or not ASCII digits. The result is named ``my_number``.
    """
    ff1 = _cipher(key)
    tweak = generation_tweak(generation)
    return _derive(as_string_series(resident_codes, "resident_code"), ff1, tweak)


def derive_in_chunks(chunks: Iterable[object], key: bytes | BlockCipher, generation: int = 0,
                     ) -> Iterator[pl.Series]:
    """Stream `derive_my_numbers` over an iterable of chunks (Series or sequences), or over
    one Series cut into `STREAM_CHUNK` rows; yields one result Series per chunk, so memory
    stays bounded by the chunk size. Error positions are counted from the stream's start."""
    ff1 = _cipher(key)
    tweak = generation_tweak(generation)
    if isinstance(chunks, pl.Series):
        whole, step = as_string_series(chunks), STREAM_CHUNK
        chunks = (whole.slice(start, step) for start in range(0, len(whole), step))
    offset = 0
    for chunk in chunks:
        part = as_string_series(chunk, "resident_code")
        yield _derive(part, ff1, tweak, offset)
        offset += len(part)


def is_derivable(resident_codes: object) -> np.ndarray:
    """Numpy booleans: which values `derive_my_numbers` would accept (11 ASCII digits)."""
    series = as_string_series(resident_codes)
    return series.str.contains(r"^[0-9]{11}$").fill_null(False).to_numpy().astype(bool)
