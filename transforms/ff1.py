"""FF1 format-preserving encryption (NIST SP 800-38G Rev. 1, Algorithms 7 and 8), scalar.

This is the *reference* implementation: a direct, readable transcription of the standard,
one numeral string at a time, on AES from ``cryptography`` (AES-128/192/256 by key length),
for any radix 2..2**16. `transforms.ff1_batch.BatchFF1` is the fast one; both implement the
`FF1Cipher` interface below and the tests hold them to identical results, to the NIST
samples and to ``fastfpe``.

Notation follows the standard: n numerals, u = ⌊n/2⌋, v = n − u; b = ⌈⌈v·log2(radix)⌉/8⌉
bytes hold NUM(B); d = 4⌈b/4⌉ + 4 bytes of PRF output are used; P is the 16-byte header;
Q = T ‖ 0^((−t−b−1) mod 16) ‖ [i] ‖ [NUM(B)]^b; R = PRF(P ‖ Q) (CBC-MAC, zero IV).

>>> ff1 = FF1(bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C"))
>>> ff1.encrypt_str("0123456789")
'2433477484'
>>> ff1.decrypt_str("2433477484")
'0123456789'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

#: SP 800-38G Rev. 1: radix**minlen must be at least one million
MIN_DOMAIN = 1_000_000
MAX_RADIX = 2 ** 16
#: the tweak length is encoded in 4 bytes of P
MAX_TWEAK_LEN = 2 ** 32 - 1
#: the numeral alphabet used by the string helpers (radix 36 in the NIST samples)
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
AES_KEY_SIZES = (16, 24, 32)

#: FF1.Encrypt or FF1.Decrypt over a numeral string: (numerals, tweak) → numerals
NumeralOp = Callable[[Sequence[int], bytes], list[int]]


@dataclass(frozen=True)
class FF1Params:
    """The derived sizes for one (radix, n, tweak length)."""

    radix: int
    n: int
    t: int
    u: int
    v: int
    b: int
    d: int

    @cached_property
    def header(self) -> bytes:
        """P = [1]^1 ‖ [2]^1 ‖ [1]^1 ‖ [radix]^3 ‖ [10]^1 ‖ [u mod 256]^1 ‖ [n]^4 ‖ [t]^4."""
        return (bytes([1, 2, 1]) + self.radix.to_bytes(3, "big") + bytes([10, self.u % 256])
                + self.n.to_bytes(4, "big") + self.t.to_bytes(4, "big"))

    @property
    def pad(self) -> int:
        """Zero bytes between T and [i] so that Q is a whole number of blocks."""
        return (-self.t - self.b - 1) % 16


def ff1_params(radix: int, n: int, t: int) -> FF1Params:
    """Check the limits of SP 800-38G Rev. 1 and derive u, v, b, d (ValueError if outside)."""
    if not 2 <= radix <= MAX_RADIX:
        raise ValueError(f"FF1: radix must be in 2..{MAX_RADIX}")
    if n < 2 or radix ** n < MIN_DOMAIN:
        raise ValueError(f"FF1: the domain radix**n must be at least {MIN_DOMAIN:,} (n ≥ 2)")
    if n >= 2 ** 32:
        raise ValueError("FF1: n must be below 2**32")
    if not 0 <= t <= MAX_TWEAK_LEN:
        raise ValueError("FF1: tweak too long")
    u = n // 2
    v = n - u
    bits = (radix ** v - 1).bit_length()  # = ⌈v·log2(radix)⌉, computed exactly
    b = (bits + 7) // 8
    d = 4 * ((b + 3) // 4) + 4
    return FF1Params(radix, n, t, u, v, b, d)


def check_key(key: bytes) -> bytes:
    """The key as ``bytes`` if it is an AES key length (the key itself is never echoed)."""
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise TypeError(f"key must be bytes, got {type(key).__name__}")
    key = bytes(key)
    if len(key) not in AES_KEY_SIZES:
        raise ValueError(f"FF1: an AES key has 16, 24 or 32 bytes, got {len(key)}")
    return key


def check_tweak(tweak: bytes) -> bytes:
    if not isinstance(tweak, (bytes, bytearray, memoryview)):
        raise TypeError(f"tweak must be bytes, got {type(tweak).__name__}")
    return bytes(tweak)


@runtime_checkable
class FF1Cipher(Protocol):
    """The interface both implementations offer: FF1 over numeral strings of length ``n``
    held as unsigned integers NUM_radix(X) < radix**n (so leading zeros are kept by ``n``)."""

    radix: int

    def encrypt_ints(self, values: npt.NDArray[np.integer[Any]], n: int,
                     tweak: bytes = b"") -> npt.NDArray[np.uint64]:
        """FF1.Encrypt of each value, as a ``uint64`` array."""
        ...

    def decrypt_ints(self, values: npt.NDArray[np.integer[Any]], n: int,
                     tweak: bytes = b"") -> npt.NDArray[np.uint64]:
        """FF1.Decrypt of each value, as a ``uint64`` array."""
        ...


def _xor16(a: bytes, b: bytes) -> bytes:
    """Bytewise XOR of two 16-byte blocks."""
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(16, "big")


def num(numerals: Sequence[int], radix: int) -> int:
    """NUM_radix(X): the number the numeral string X represents, most significant first."""
    x = 0
    for digit in numerals:
        x = x * radix + digit
    return x


def str_m(x: int, m: int, radix: int) -> list[int]:
    """STR^m_radix(x): the m-numeral representation of x, most significant first."""
    out = [0] * m
    for k in range(m - 1, -1, -1):
        x, out[k] = divmod(x, radix)
    return out


class FF1:
    """Scalar FF1 on AES (key of 16, 24 or 32 bytes). The key is never shown in its repr."""

    def __init__(self, key: bytes, radix: int = 10) -> None:
        key = check_key(key)
        if isinstance(radix, bool) or not isinstance(radix, int) or not 2 <= radix <= MAX_RADIX:
            raise ValueError(f"FF1: radix must be an int in 2..{MAX_RADIX}")
        self.radix = radix
        self.key_bits = 8 * len(key)
        self._ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()

    def __repr__(self) -> str:
        return f"FF1(AES-{self.key_bits}, radix={self.radix}, key=<hidden>)"

    __str__ = __repr__

    # --- the primitives ---------------------------------------------------------------
    def _ciph(self, block: bytes) -> bytes:
        return self._ecb.update(block)

    def _prf(self, data: bytes) -> bytes:
        """PRF(X): CBC-MAC with a zero IV over the whole blocks of X."""
        y = bytes(16)
        for j in range(0, len(data), 16):
            y = self._ciph(_xor16(y, data[j:j + 16]))
        return y

    def _round_y(self, params: FF1Params, tweak: bytes, i: int, b_value: int) -> int:
        """y = NUM(S) of round i, given NUM_radix of the half that feeds the round."""
        q = tweak + bytes(params.pad) + bytes([i]) + b_value.to_bytes(params.b, "big")
        r = self._prf(params.header + q)
        s = bytearray(r)
        for j in range(1, (params.d + 15) // 16):  # only when d > 16
            s += self._ciph(_xor16(r, j.to_bytes(16, "big")))
        return int.from_bytes(bytes(s[:params.d]), "big")

    def _check(self, numerals: Sequence[int], tweak: bytes) -> tuple[FF1Params, list[int]]:
        tweak = check_tweak(tweak)
        xs = [int(c) for c in numerals]
        params = ff1_params(self.radix, len(xs), len(tweak))
        if any(not 0 <= c < self.radix for c in xs):
            raise ValueError(f"FF1: every numeral must be in 0..{self.radix - 1}")
        return params, xs

    # --- Algorithms 7 and 8 -----------------------------------------------------------
    def encrypt(self, numerals: Sequence[int], tweak: bytes = b"") -> list[int]:
        """FF1.Encrypt(K, T, X) for a numeral string X (a sequence of ints < radix)."""
        params, xs = self._check(numerals, tweak)
        tweak = bytes(tweak)
        a, b = xs[:params.u], xs[params.u:]
        for i in range(10):
            m = params.u if i % 2 == 0 else params.v
            y = self._round_y(params, tweak, i, num(b, self.radix))
            c = (num(a, self.radix) + y) % self.radix ** m
            a, b = b, str_m(c, m, self.radix)
        return a + b

    def decrypt(self, numerals: Sequence[int], tweak: bytes = b"") -> list[int]:
        """FF1.Decrypt(K, T, Y) for a numeral string Y."""
        params, xs = self._check(numerals, tweak)
        tweak = bytes(tweak)
        a, b = xs[:params.u], xs[params.u:]
        for i in range(9, -1, -1):
            m = params.u if i % 2 == 0 else params.v
            y = self._round_y(params, tweak, i, num(a, self.radix))
            c = (num(b, self.radix) - y) % self.radix ** m
            b, a = a, str_m(c, m, self.radix)
        return a + b

    # --- conveniences -------------------------------------------------------------------
    def _alphabet(self, alphabet: str | None) -> str:
        alphabet = ALPHABET[:self.radix] if alphabet is None else alphabet
        if len(alphabet) != self.radix or len(set(alphabet)) != self.radix:
            raise ValueError("FF1: the alphabet must have radix distinct characters")
        return alphabet

    def _via_alphabet(self, op: NumeralOp, text: str, tweak: bytes, alphabet: str | None) -> str:
        """Map ``text`` to numerals over ``alphabet``, apply ``op``, map back."""
        alphabet = self._alphabet(alphabet)
        index = {c: k for k, c in enumerate(alphabet)}
        try:
            numerals = [index[c] for c in text]
        except KeyError:
            raise ValueError("FF1: a character is outside the alphabet") from None
        return "".join(alphabet[k] for k in op(numerals, tweak))

    def encrypt_str(self, text: str, tweak: bytes = b"", alphabet: str | None = None) -> str:
        """Encrypt a string over ``alphabet`` (default: 0-9a-z cut to the radix)."""
        return self._via_alphabet(self.encrypt, text, tweak, alphabet)

    def decrypt_str(self, text: str, tweak: bytes = b"", alphabet: str | None = None) -> str:
        """Decrypt a string over ``alphabet``."""
        return self._via_alphabet(self.decrypt, text, tweak, alphabet)

    def encrypt_ints(self, values: npt.NDArray[np.integer[Any]], n: int,
                     tweak: bytes = b"") -> npt.NDArray[np.uint64]:
        """`FF1Cipher.encrypt_ints`, one value at a time (the reference for the batch one)."""
        return self._map_ints(self.encrypt, values, n, tweak)

    def decrypt_ints(self, values: npt.NDArray[np.integer[Any]], n: int,
                     tweak: bytes = b"") -> npt.NDArray[np.uint64]:
        """`FF1Cipher.decrypt_ints`, one value at a time."""
        return self._map_ints(self.decrypt, values, n, tweak)

    def _map_ints(self, fn: NumeralOp, values: npt.NDArray[np.integer[Any]], n: int,
                  tweak: bytes) -> npt.NDArray[np.uint64]:
        if self.radix ** n > 2 ** 64:
            raise ValueError("FF1: radix**n must fit in uint64 for the integer interface")
        limit = self.radix ** n
        out = np.empty(len(values), dtype=np.uint64)
        for k, x in enumerate(np.asarray(values, dtype=np.uint64).tolist()):
            if x >= limit:
                raise ValueError("FF1: a value is not below radix**n")
            out[k] = num(fn(str_m(x, n, self.radix), tweak), self.radix)
        return out
