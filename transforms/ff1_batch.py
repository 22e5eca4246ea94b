"""FF1 (NIST SP 800-38G Rev. 1) vectorised over numpy ``uint64``: the fast implementation.

Same results as the scalar reference `transforms.ff1.FF1` (the tests compare them on
≥ 100,000 random inputs), for numeral strings held as integers NUM_radix(X) < radix**n.

Limits: this implementation needs radix**n < 2**64 and b ≤ 4 (radix**⌈n/2⌉ ≤ 2**32), so
that d = 8 and the round output y is one big-endian ``uint64``. For radix 10 that is
6 ≤ n ≤ 18; it is built and tested for radix 10 (the NIST radix-36 samples, n = 19, need
the scalar reference). Outside the limits it raises ValueError.

How it is fast. Per Feistel round, for a chunk of records:

1. The PRF input is P ‖ Q. Every block of P ‖ Q except the last holds only P, T and zero
   padding, so the CBC-MAC state H before the last block is the same for every record and
   every round: it is computed once per call (for a tweak of ≤ 12 bytes, H = AES(P)). The
   last block is T's tail ‖ padding ‖ [i] ‖ [NUM(B)]^b, so the AES input of record r in
   round i is the constant H ⊕ L_i with NUM(B_r) XORed into its last b bytes. Its first
   8 bytes never change; its last 8, read big-endian, are C_i ⊕ B_r: one numpy XOR writes
   them through a big-endian view of the block buffer.
2. One AES-ECB call (``update_into``) encrypts all the chunk's blocks into a reused buffer.
3. y = the first 8 bytes of each output block, big-endian; (A + y) mod M, M = radix**m,
   is computed without any 64-bit division instruction: z − (z // M)·M uses numpy's SIMD
   division-by-constant. When max(y) < 2**64 − M (one reduce over the chunk), z = A + y
   cannot overflow and is reduced at once; otherwise (about once per 10**9 chunk-rounds)
   y is reduced first and the sum, below 2M, is brought back with a ``minimum`` against
   the wrapped-around difference.

All arithmetic is in reused ``uint64`` buffers of `DEFAULT_CHUNK` records (the working set
stays in the L2/L3 cache); nothing is done per element in Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from core.keys import BlockCipher
from transforms.ff1 import FF1Params, check_key, check_tweak, ff1_params

#: records per chunk: ~2.5 MB of buffers (measured best on a 1 MB-L2, 32 MB-L3 machine)
DEFAULT_CHUNK = 32_768

#: per (n, tweak): the FF1 sizes, the constant first 8 bytes of every AES input block and
#: the round constants C_0 … C_9
Plan = tuple[FF1Params, bytes, list[int]]


class BatchFF1:
    """Vectorised FF1 on AES (16/24/32-byte key), implementing `transforms.ff1.FF1Cipher`.

    Not safe to share one call's buffers between threads, but each call allocates its
    own, so one object may be used from several threads. The key is never shown."""

    #: (A + y) is reduced in one step when no y of the chunk can make it overflow uint64,
    #: i.e. max(y) < 2**64 − m (all but ~1 in 10**9 chunk-rounds); tests lower it to force
    #: the two-step path
    _SUM_LIMIT = 2 ** 64

    def __init__(self, key: bytes | BlockCipher, radix: int = 10, *,
                 chunk_size: int = DEFAULT_CHUNK) -> None:
        cipher = key if isinstance(key, BlockCipher) else None
        if cipher is None:
            key = check_key(key)  # type: ignore[arg-type]
        if isinstance(radix, bool) or not isinstance(radix, int) or not 2 <= radix <= 2 ** 16:
            raise ValueError("FF1: radix must be an int in 2..65536")
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self.radix = radix
        self.chunk_size = int(chunk_size)
        self._cipher: Cipher[Any] | _BlockCipherCipher
        if cipher is not None:  # a key held elsewhere (a PKCS#11 token): AES-256
            self.key_bits = 256
            self._cipher = _BlockCipherCipher(cipher)
        else:
            assert isinstance(key, bytes)
            self.key_bits = 8 * len(key)
            self._cipher = Cipher(algorithms.AES(key), modes.ECB())
        #: per (n, tweak): the FF1 sizes and the round constants (no key material beyond
        #: AES outputs, which are as secret as the key: never logged)
        self._plans: dict[tuple[int, bytes], Plan] = {}

    def __repr__(self) -> str:
        return f"BatchFF1(AES-{self.key_bits}, radix={self.radix}, key=<hidden>)"

    __str__ = __repr__

    # --- set-up -------------------------------------------------------------------------
    def params(self, n: int, tweak_len: int) -> FF1Params:
        """The FF1 sizes for n numerals, checked against this implementation's limits."""
        params = ff1_params(self.radix, n, tweak_len)
        if self.radix ** n >= 2 ** 64 or params.d != 8:
            raise ValueError("BatchFF1: needs radix**n < 2**64 and radix**ceil(n/2) <= 2**32 "
                             "(radix 10: 6 <= n <= 18); use the scalar FF1 otherwise")
        return params

    def _round_constants(self, params: FF1Params, tweak: bytes) -> tuple[bytes, list[int]]:
        """(first 8 bytes of every AES input, [C_0 … C_9]) for this key, radix, n, tweak."""
        ecb = self._cipher.encryptor()
        prefix = params.header + tweak + bytes(params.pad)  # P ‖ Q without [i] ‖ NUM(B)
        blocks = prefix + bytes(1 + params.b)  # the full P ‖ Q with i = 0, NUM(B) = 0
        state = bytes(16)
        for j in range(0, len(blocks) - 16, 16):  # CBC-MAC up to (not incl.) the last block
            state = ecb.update(bytes(x ^ y for x, y in zip(state, blocks[j:j + 16], strict=True)))
        last = blocks[-16:]
        base = bytes(x ^ y for x, y in zip(state, last, strict=True))
        consts = []
        for i in range(10):
            block = bytearray(base)
            block[15 - params.b] ^= i  # [i] sits just before the b bytes of NUM(B)
            consts.append(int.from_bytes(bytes(block[8:16]), "big"))
        return base[:8], consts

    # --- the interface ------------------------------------------------------------------
    def encrypt_ints(self, values: npt.NDArray[np.integer[Any]], n: int, tweak: bytes = b"",
                     out: npt.NDArray[np.uint64] | None = None) -> npt.NDArray[np.uint64]:
        """FF1.Encrypt of each value < radix**n; returns (or fills ``out``) ``uint64``."""
        return self._run(values, n, tweak, out, decrypt=False)

    def decrypt_ints(self, values: npt.NDArray[np.integer[Any]], n: int, tweak: bytes = b"",
                     out: npt.NDArray[np.uint64] | None = None) -> npt.NDArray[np.uint64]:
        """FF1.Decrypt of each value < radix**n; returns (or fills ``out``) ``uint64``."""
        return self._run(values, n, tweak, out, decrypt=True)

    def workspace(self, size: int | None = None) -> Workspace:
        """Scratch buffers for `encrypt_trusted` (one per thread)."""
        return Workspace(size or self.chunk_size)

    def encrypt_trusted(self, values: npt.NDArray[np.uint64], n: int, tweak: bytes,
                        out: npt.NDArray[np.uint64], work: Workspace) -> npt.NDArray[np.uint64]:
        """`encrypt_ints` without the argument checks, for callers that guarantee a
        contiguous ``uint64`` input below radix**n and an ``out`` of its shape."""
        plan = self._plan(n, bytes(tweak))
        self._blocks(plan, work, values, out, decrypt=False)
        return out

    def _plan(self, n: int, tweak: bytes) -> Plan:
        plan = self._plans.get((n, tweak))
        if plan is None:
            params = self.params(n, len(tweak))
            plan = (params, *self._round_constants(params, tweak))
            if len(self._plans) > 64:
                self._plans.clear()
            self._plans[(n, tweak)] = plan
        return plan

    def _run(self, values: npt.NDArray[np.integer[Any]], n: int, tweak: bytes,
             out: npt.NDArray[np.uint64] | None, *, decrypt: bool) -> npt.NDArray[np.uint64]:
        tweak = check_tweak(tweak)
        plan = self._plan(n, tweak)
        given = np.asarray(values)
        if given.size and given.dtype.kind not in "ui":
            raise TypeError(f"FF1: values must be integers, got dtype {given.dtype}")
        if given.size and given.dtype.kind == "i" and int(given.min()) < 0:
            raise ValueError("FF1: values must not be negative")
        x = np.ascontiguousarray(given, dtype=np.uint64).reshape(-1)
        if x.size and int(x.max()) >= self.radix ** n:
            raise ValueError("FF1: a value is not below radix**n")
        if out is None:
            out = np.empty_like(x)
        elif out.shape != x.shape or out.dtype != np.uint64:
            raise ValueError("out must be a uint64 array of the input's shape")
        if x.size:
            self._blocks(plan, Workspace(min(self.chunk_size, x.size)), x, out, decrypt)
        return out

    def _blocks(self, plan: Plan, work: Workspace, x: npt.NDArray[np.uint64],
                out: npt.NDArray[np.uint64], decrypt: bool) -> None:
        params, head, consts = plan
        work.set_head(head)
        ecb = self._cipher.encryptor()
        step = work.size
        for start in range(0, x.size, step):
            stop = min(start + step, x.size)
            self._chunk(ecb, work, params, consts, x[start:stop], out[start:stop], decrypt)

    def _chunk(self, ecb: CipherContext | _BlockCipherContext, work: Workspace, params: FF1Params, consts: list[int],
               x: npt.NDArray[np.uint64], out: npt.NDArray[np.uint64], decrypt: bool) -> None:
        k = x.shape[0]
        radix_v = np.uint64(self.radix ** params.v)
        mod_u, mod_v = np.uint64(self.radix ** params.u), np.uint64(self.radix ** params.v)
        a, b, y, q = work.a[:k], work.b[:k], work.y[:k], work.q[:k]
        blk_in_lo = work.in_be[:k, 1]
        blk_out_hi = work.out_be[:k, 0]
        # ``.data``: memoryviews of the block buffers (same memory, no copy), which is what
        # cryptography's update_into is typed to take
        blk_in = work.in_bytes[:16 * k].data
        blk_out = work.out_bytes.data
        np.floor_divide(x, radix_v, out=a)
        np.multiply(a, radix_v, out=q)
        np.subtract(x, q, out=b)
        rounds = range(9, -1, -1) if decrypt else range(10)
        for i in rounds:
            m = mod_u if i % 2 == 0 else mod_v
            feed, other = (a, b) if decrypt else (b, a)
            np.bitwise_xor(feed, np.uint64(consts[i]), out=blk_in_lo)  # C_i ⊕ NUM(B)
            ecb.update_into(blk_in, blk_out)
            np.copyto(y, blk_out_hi)  # y = NUM(S), S = first 8 bytes of R
            if not decrypt and int(y.max()) < self._SUM_LIMIT - int(m):
                # A + y < 2**64 for every record (A < m): reduce the sum once
                np.add(y, other, out=y)
                np.floor_divide(y, m, out=q)
                np.multiply(q, m, out=q)
                np.subtract(y, q, out=a)  # → C; A ← B, B ← C
                a, b = b, a
                continue
            np.floor_divide(y, m, out=q)
            np.multiply(q, m, out=q)
            np.subtract(y, q, out=y)  # y mod m
            if decrypt:
                np.subtract(other, y, out=y)  # B − y, wrapped when negative
                np.add(y, m, out=q)
                np.minimum(y, q, out=b)  # → C; B ← A, A ← C
            else:
                np.add(y, other, out=y)  # A + (y mod m) < 2m
                np.subtract(y, m, out=q)
                np.minimum(y, q, out=a)  # → C; A ← B, B ← C
            a, b = b, a
        np.multiply(a, radix_v, out=q)
        np.add(q, b, out=out)


class Workspace:
    """Reused buffers: AES input/output blocks and four uint64 arrays of ``size`` records."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.head = b""
        self.in_words = np.zeros((size, 2), dtype=np.uint64)
        self.in_be = self.in_words.view(">u8")
        self.in_bytes = self.in_words.view(np.uint8).reshape(-1)
        # cryptography's update_into wants room for one extra block
        self.out_bytes = np.empty(16 * size + 16, dtype=np.uint8)
        self.out_be = self.out_bytes[:16 * size].view(">u8").reshape(size, 2)
        self.a, self.b, self.y, self.q = (np.empty(size, dtype=np.uint64) for _ in range(4))

    def set_head(self, head: bytes) -> None:
        """Write the constant first 8 bytes of every AES input block (once per plan)."""
        if head != self.head:
            self.in_words.view(np.uint8).reshape(self.size, 16)[:, :8] = \
                np.frombuffer(head, np.uint8)
            self.head = head


class _BlockCipherContext:
    """The two calls of a `cryptography` ECB encryptor that BatchFF1 makes, over a
    `core.keys.BlockCipher` (one ``encrypt_blocks`` per call: a whole chunk per round)."""

    def __init__(self, cipher: BlockCipher) -> None:
        self._cipher = cipher

    def update(self, data: bytes) -> bytes:
        return self._cipher.encrypt_blocks(bytes(data))

    def update_into(self, data: Any, buf: Any) -> int:
        into = getattr(self._cipher, "encrypt_into", None)
        if into is not None:  # a token cipher that writes in place (core.hsm.TokenCipher)
            return int(into(data, buf))
        src = bytes(data)
        out = self._cipher.encrypt_blocks(src)
        if len(out) != len(src):  # a token that silently returned less must not go unnoticed
            raise RuntimeError("the block cipher returned the wrong length")
        memoryview(buf).cast("B")[:len(out)] = out
        return len(out)


class _BlockCipherCipher:
    """Stands in for ``Cipher(AES(key), ECB())``: ``encryptor()`` over a BlockCipher."""

    def __init__(self, cipher: BlockCipher) -> None:
        self._cipher = cipher

    def encryptor(self) -> _BlockCipherContext:
        return _BlockCipherContext(self._cipher)
