"""The vectorised FF1: NIST samples, equal to the scalar reference and to fastfpe."""

from __future__ import annotations

import fastfpe.ff1 as fastfpe_ff1
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.vectors import load_vectors, vector_params
from transforms.ff1 import FF1
from transforms.ff1_batch import BatchFF1

KEY = bytes.fromhex("7F036D6F04FC6A942B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F")


@pytest.mark.parametrize("vector", vector_params("ff1", "nist_samples"))
def test_nist_samples(vector):
    radix, pt, ct = int(vector["Radix"]), vector["PT"], vector["CT"]
    ff1 = BatchFF1(bytes.fromhex(vector["Key"]), radix)
    tweak = bytes.fromhex(vector["Tweak"])
    if radix != 10:
        # radix 36, n = 19: 36**19 does not fit uint64 and b = 7 > 4; the scalar one does it
        with pytest.raises(ValueError, match="scalar"):
            ff1.params(len(pt), len(tweak))
        return
    got = ff1.encrypt_ints(np.array([int(pt)], dtype=np.uint64), len(pt), tweak)
    assert f"{int(got[0]):0{len(pt)}d}" == ct
    back = ff1.decrypt_ints(got, len(pt), tweak)
    assert f"{int(back[0]):0{len(pt)}d}" == pt


def test_nist_radix10_samples_in_one_batch():
    """The radix-10 samples that share a key and tweak, as one array (with copies)."""
    for vector in load_vectors("ff1", "nist_samples"):
        if vector["Radix"] != "10":
            continue
        ff1 = BatchFF1(bytes.fromhex(vector["Key"]), 10, chunk_size=3)
        values = np.full(10, int(vector["PT"]), dtype=np.uint64)
        got = ff1.encrypt_ints(values, 10, bytes.fromhex(vector["Tweak"]))
        assert set(got.tolist()) == {int(vector["CT"])}


# tweak lengths: empty, the generation tweak, 2 bytes, the longest one-block Q (12),
# the shortest two-block Q (13), and a long one (31)
TWEAKS = [b"", b"0", b"17", b"T" * 12, bytes(range(13)), bytes(range(100, 131))]


@pytest.mark.parametrize("tweak", TWEAKS, ids=lambda t: f"t{len(t)}")
def test_equals_scalar_on_random_inputs(tweak):
    """6 tweak lengths × 20,000 random 11-digit inputs = 120,000 comparisons."""
    rng = np.random.default_rng(len(tweak))
    values = rng.integers(0, 10 ** 11, 20_000, dtype=np.uint64)
    values[:4] = [0, 1, 10 ** 11 - 1, 10 ** 6]
    batch = BatchFF1(KEY).encrypt_ints(values, 11, tweak)
    scalar = FF1(KEY).encrypt_ints(values, 11, tweak)
    assert np.array_equal(batch, scalar)
    assert np.array_equal(BatchFF1(KEY).decrypt_ints(batch, 11, tweak), values)


@pytest.mark.parametrize("n", [6, 7, 10, 12, 17, 18])
def test_equals_scalar_for_other_lengths(n):
    rng = np.random.default_rng(n)
    values = rng.integers(0, 10 ** n, 2_000, dtype=np.uint64)
    for tweak, key in ((b"", KEY[:16]), (b"abc", KEY[:24]), (b"x" * 20, KEY)):
        batch = BatchFF1(key, chunk_size=333).encrypt_ints(values, n, tweak)
        assert np.array_equal(batch, FF1(key).encrypt_ints(values, n, tweak))


def test_equals_fastfpe_on_100k_inputs():
    """The production case (n = 11, tweak b"0"), against the independent Rust FF1."""
    values = np.random.default_rng(11).integers(0, 10 ** 11, 100_000, dtype=np.uint64)
    batch = BatchFF1(KEY).encrypt_ints(values, 11, b"0")
    key_hex, tweak_hex = KEY.hex(), b"0".hex()
    expected = [int(fastfpe_ff1.encrypt(key_hex, tweak_hex, "0123456789", f"{v:011d}"))
                for v in values.tolist()]
    assert batch.tolist() == expected


@settings(max_examples=60)
@given(st.lists(st.integers(0, 10 ** 11 - 1), min_size=1, max_size=300),
       st.binary(max_size=20), st.integers(1, 64))
def test_decrypt_inverts_encrypt(values, tweak, chunk):
    ff1 = BatchFF1(KEY, chunk_size=chunk)
    x = np.array(values, dtype=np.uint64)
    enc = ff1.encrypt_ints(x, 11, tweak)
    assert np.array_equal(ff1.decrypt_ints(enc, 11, tweak), x)
    assert (enc < 10 ** 11).all()


@pytest.mark.parametrize("chunk", [1, 5, 64])
def test_two_step_reduction_path(chunk):
    """Force the rare path where A + y could overflow uint64 (max(y) ≥ 2**64 − m) on about
    half the chunks, and compare with the scalar reference."""
    values = np.random.default_rng(chunk).integers(0, 10 ** 11, 1_500, dtype=np.uint64)
    ff1 = BatchFF1(KEY, chunk_size=chunk)
    ff1._SUM_LIMIT = 2 ** 63 + 2 ** 62
    assert np.array_equal(ff1.encrypt_ints(values, 11, b"0"),
                          FF1(KEY).encrypt_ints(values, 11, b"0"))
    ff1._SUM_LIMIT = 0  # always the two-step path
    assert np.array_equal(ff1.encrypt_ints(values, 11, b"3"),
                          FF1(KEY).encrypt_ints(values, 11, b"3"))


def test_is_a_permutation_on_a_small_domain():
    values = np.arange(10 ** 6, dtype=np.uint64)
    enc = BatchFF1(KEY).encrypt_ints(values, 6, b"0")
    assert np.array_equal(np.sort(enc), values)


def test_out_parameter_and_empty_input():
    ff1 = BatchFF1(KEY)
    values = np.arange(1000, dtype=np.uint64)
    out = np.empty(1000, dtype=np.uint64)
    assert ff1.encrypt_ints(values, 11, b"0", out=out) is out
    assert np.array_equal(out, ff1.encrypt_ints(values, 11, b"0"))
    assert ff1.encrypt_ints(np.array([], dtype=np.uint64), 11).size == 0
    with pytest.raises(ValueError):
        ff1.encrypt_ints(values, 11, b"0", out=np.empty(10, dtype=np.uint64))


def test_limits():
    ff1 = BatchFF1(KEY)
    with pytest.raises(ValueError):
        ff1.encrypt_ints(np.array([1], dtype=np.uint64), 19)  # b = 5 → d = 12
    with pytest.raises(ValueError):
        ff1.encrypt_ints(np.array([1], dtype=np.uint64), 5)  # domain below one million
    with pytest.raises(ValueError):
        ff1.encrypt_ints(np.array([10 ** 11], dtype=np.uint64), 11)
    with pytest.raises(ValueError):
        BatchFF1(KEY, chunk_size=0)
    with pytest.raises(ValueError):
        ff1.encrypt_ints(np.array([-1, 5]), 11)
    with pytest.raises(TypeError):
        ff1.encrypt_ints(np.array([1.5]), 11)
    assert np.array_equal(ff1.encrypt_ints(np.array([7], dtype=np.int64), 11),
                          ff1.encrypt_ints(np.array([7], dtype=np.uint64), 11))
