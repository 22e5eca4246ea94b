"""The scalar reference FF1: NIST samples 1-9, fastfpe as an oracle, round trips, limits."""

from __future__ import annotations

import fastfpe.ff1 as fastfpe_ff1
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.vectors import vector_params
from transforms.ff1 import ALPHABET, FF1, FF1Cipher, ff1_params
from transforms.ff1_batch import BatchFF1

# an alphabet for radixes above 36 (fastfpe takes any alphabet)
WIDE_ALPHABET = ALPHABET + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize("vector", vector_params("ff1", "nist_samples"))
def test_nist_samples(vector):
    ff1 = FF1(bytes.fromhex(vector["Key"]), int(vector["Radix"]))
    tweak = bytes.fromhex(vector["Tweak"])
    assert ff1.encrypt_str(vector["PT"], tweak) == vector["CT"]
    assert ff1.decrypt_str(vector["CT"], tweak) == vector["PT"]


@pytest.mark.parametrize("vector", vector_params("ff1", "nist_samples"))
def test_nist_samples_with_fastfpe(vector):
    """The oracle itself agrees with the published samples."""
    alphabet = ALPHABET[:int(vector["Radix"])]
    assert fastfpe_ff1.encrypt(vector["Key"].lower(), vector["Tweak"].lower(), alphabet,
                               vector["PT"]) == vector["CT"]


def test_params_for_resident_codes():
    """n = 11, radix 10: u = 5, v = 6, b = ⌈⌈6·log2 10⌉/8⌉ = ⌈20/8⌉ = 3, d = 4⌈3/4⌉+4 = 8."""
    p = ff1_params(10, 11, 1)
    assert (p.u, p.v, p.b, p.d) == (5, 6, 3, 8)
    assert p.header == bytes([1, 2, 1, 0, 0, 10, 10, 5, 0, 0, 0, 11, 0, 0, 0, 1])
    assert (1 + p.pad + 1 + p.b) == 16  # with a 1-byte tweak, Q is one block
    assert ff1_params(36, 19, 11).b == 7  # NIST sample 3: 36**10 needs 52 bits


@st.composite
def ff1_cases(draw):
    radix = draw(st.sampled_from([2, 8, 10, 16, 26, 36, 62]))
    min_n = 2
    while radix ** min_n < 1_000_000:
        min_n += 1
    n = draw(st.integers(min_n, min_n + 24))
    numerals = draw(st.lists(st.integers(0, radix - 1), min_size=n, max_size=n))
    key = draw(st.binary(min_size=16, max_size=16) | st.binary(min_size=24, max_size=24)
               | st.binary(min_size=32, max_size=32))
    tweak = draw(st.binary(min_size=0, max_size=40))
    return radix, numerals, key, tweak


@settings(max_examples=300)
@given(ff1_cases())
def test_matches_fastfpe(case):
    radix, numerals, key, tweak = case
    alphabet = WIDE_ALPHABET[:radix]
    text = "".join(alphabet[k] for k in numerals)
    ours = FF1(key, radix).encrypt_str(text, tweak, alphabet)
    assert ours == fastfpe_ff1.encrypt(key.hex(), tweak.hex(), alphabet, text)
    assert FF1(key, radix).decrypt_str(ours, tweak, alphabet) == text


@settings(max_examples=200)
@given(ff1_cases())
def test_decrypt_inverts_encrypt(case):
    radix, numerals, key, tweak = case
    ff1 = FF1(key, radix)
    encrypted = ff1.encrypt(numerals, tweak)
    assert len(encrypted) == len(numerals)
    assert all(0 <= c < radix for c in encrypted)
    assert ff1.decrypt(encrypted, tweak) == numerals


def test_integer_interface():
    ff1 = FF1(bytes(range(32)))
    values = np.array([0, 1, 12345678901, 10 ** 11 - 1], dtype=np.uint64)
    enc = ff1.encrypt_ints(values, 11, b"0")
    for v, e in zip(values.tolist(), enc.tolist(), strict=True):
        assert ff1.encrypt_str(f"{v:011d}", b"0") == f"{e:011d}"
    assert (ff1.decrypt_ints(enc, 11, b"0") == values).all()
    with pytest.raises(ValueError):
        ff1.encrypt_ints(np.array([10 ** 11], dtype=np.uint64), 11, b"0")


def test_limits():
    key = bytes(32)
    with pytest.raises(ValueError):
        FF1(key).encrypt_str("12345")  # 10**5 < one million (SP 800-38G Rev. 1)
    assert len(FF1(key).encrypt_str("123456")) == 6
    with pytest.raises(ValueError):
        FF1(key, radix=1)
    with pytest.raises(ValueError):
        FF1(key, radix=2 ** 16 + 1)
    with pytest.raises(ValueError):
        FF1(bytes(20))
    with pytest.raises(TypeError):
        FF1("00" * 32)
    with pytest.raises(ValueError):
        FF1(key).encrypt([1, 2, 3, 4, 5, 6, 10])  # numeral >= radix
    with pytest.raises(ValueError):
        FF1(key).encrypt_str("12345a")
    with pytest.raises(TypeError):
        FF1(key).encrypt_str("123456", tweak="0")


def test_key_is_hidden():
    key = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
    for obj in (FF1(key), BatchFF1(key)):
        for text in (repr(obj), str(obj), f"{obj}"):
            assert key.hex() not in text.lower() and "2b7e" not in text.lower()
            assert "hidden" in text


def test_both_implementations_have_the_interface():
    assert isinstance(FF1(bytes(32)), FF1Cipher)
    assert isinstance(BatchFF1(bytes(32)), FF1Cipher)


def test_docstring_examples():
    import doctest

    import transforms.ff1

    result = doctest.testmod(transforms.ff1)
    assert result.attempted > 0 and result.failed == 0
