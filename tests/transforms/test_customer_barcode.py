"""Customer barcode encoding: worked examples, rules, and zint as an independent encoder."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import zint
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.helpers.vectors import vector_params
from transforms.customer_barcode import (
    BARS,
    TOTAL_BARS,
    VALUES,
    address_positions,
    bar_strings,
    check_symbol,
    encode,
    extract_address_number,
    kanji_to_int,
)


def fit_13(number: str) -> str | None:
    """The prefix of an address number that fills at most 13 positions (letters take 2);
    None when a letter straddles position 13 (zint refuses what the manual allows)."""
    used = 0
    for i, c in enumerate(number):
        need = 2 if c.isalpha() else 1
        if used + need > 13:
            return None if used < 13 else number[:i]
        used += need
    return number


def zint_bars(data: str) -> str:
    """Bars of zint's Japan Post symbol for postcode + address number (F/A/D/T).

    zint refuses more than 20 characters instead of cutting at 13 positions: the caller
    passes a fitted address number.
    """
    sym = zint.Symbol()
    sym.symbology = zint.Symbology.JAPANPOST
    sym.encode(data)
    rows = np.unpackbits(np.array(sym.encoded_data)[:3], axis=1, bitorder="little")[:, :sym.width]
    up, low = rows[0, ::2], rows[2, ::2]   # row 1 is the timing row, always set
    return "".join("F" if u and lo else "A" if u else "D" if lo else "T" for u, lo in zip(up, low, strict=True))


@pytest.mark.parametrize("vector", [
    *vector_params("customer_barcode", "worked_examples"),
    *vector_params("customer_barcode", "manual_examples"),
    *vector_params("customer_barcode", "own_examples")])
def test_worked_examples(vector) -> None:
    code = encode(vector["PostalCode"], vector["Address"])
    assert code.address_number == vector["AddressNumber"]
    assert code.check == vector["Check"]
    if "Bars" in vector:
        assert code.bars == vector["Bars"]
    assert len(code.bars) == TOTAL_BARS
    fitted = fit_13(code.address_number)
    if fitted is not None:      # zint refuses a letter cut at position 13
        assert code.bars == zint_bars(vector["PostalCode"] + fitted)


def test_own_examples_are_twenty_or_more() -> None:
    assert len(vector_params("customer_barcode", "own_examples")) >= 20


def test_every_symbol_has_three_bars_and_distinct_patterns() -> None:
    data = {k: v for k, v in BARS.items() if k not in ("start", "stop")}
    assert all(len(v) == 3 for v in data.values())
    assert len(set(data.values())) == len(data)
    assert set(VALUES) == set(data)


@pytest.mark.parametrize("text,value", [("一", 1), ("十", 10), ("十一", 11), ("二十", 20),
                                        ("二十一", 21), ("百二", 102), ("二〇", 20)])
def test_kanji_numerals(text: str, value: int) -> None:
    assert kanji_to_int(text) == value


@pytest.mark.parametrize("address,expected", [
    ("東京都練馬区豊玉北六丁目12番1号", "6-12-1"),
    ("東京都練馬区豊玉北６－１２－１", "6-12-1"),              # full-width digits and hyphen
    ("練馬区練馬1丁目2ー3 ＡＢＣマンション 201", "1-2-3-201"),   # run of letters → hyphen
    ("練馬区練馬1-2-3 A棟201", "1-2-3A201"),
    ("練馬区練馬1-2-3 a.b/c", "1-2-3"),                         # dropped chars, then a run
    ("練馬区北町", ""),
])
def test_extraction_rules(address: str, expected: str) -> None:
    assert extract_address_number(address) == expected


def test_padding_truncation_and_letter_positions() -> None:
    assert address_positions("1") == ("1",) + ("CC4",) * 12
    assert address_positions("Z")[:2] == ("CC3", "5")
    assert address_positions("K")[:2] == ("CC2", "0")
    # a letter whose control code falls on position 13 keeps only the control code
    assert address_positions("123456789012A") == tuple("123456789012") + ("CC1",)
    assert len(address_positions("1-2-3-4-5-6-7-8-9")) == 13


def test_check_symbol_makes_multiple_of_19() -> None:
    rng = random.Random(19)
    for _ in range(200):
        pc = f"{rng.randrange(10**7):07d}"
        pos = address_positions("-".join(str(rng.randrange(100)) for _ in range(3)))
        total = sum(VALUES[c] for c in pc) + sum(VALUES[p] for p in pos)
        assert (total + VALUES[check_symbol(pc, pos)]) % 19 == 0


TOWNS = ("豊玉北", "練馬", "桜台", "石神井町", "東大泉", "高松", "早宮")
KANJI = "一二三四五六七八九"


def _nerima_address(rng: random.Random) -> str:
    chome = rng.choice((KANJI[rng.randrange(9)], str(rng.randint(1, 9))))
    parts = [f"東京都練馬区{rng.choice(TOWNS)}{chome}丁目",
             rng.choice((f"{rng.randint(1, 40)}番{rng.randint(1, 30)}号",
                         f"{rng.randint(1, 40)}-{rng.randint(1, 30)}",
                         f"{rng.randint(1, 40)}－{rng.randint(1, 30)}"))]
    if rng.random() < 0.5:
        parts.append(rng.choice((" コーポ練馬", " Ｎハイツ", " メゾンAB", "　B棟", " ")))
        parts.append(f"{rng.randint(1, 12)}{rng.randint(0, 2)}{rng.randint(1, 9)}"
                     + rng.choice(("", "号", "号室")))
    return "".join(parts)


def test_against_zint_on_generated_nerima_addresses() -> None:
    rng = random.Random(20151005)
    for _ in range(400):
        pc = f"17{rng.randint(60, 99)}{rng.randrange(1000):03d}"
        code = encode(pc, _nerima_address(rng))
        assert code.bars == zint_bars(pc + fit_13(code.address_number)), code.address_number


@settings(max_examples=150)
@given(pc=st.from_regex(r"[0-9]{7}", fullmatch=True),
       number=st.from_regex(r"[0-9A-Z]{1,4}(-[0-9A-Z]{1,4}){0,4}", fullmatch=True))
def test_bars_match_zint_for_any_address_number(pc: str, number: str) -> None:
    code = encode(pc, number)
    fitted = fit_13(code.address_number)
    assume(fitted is not None)
    assert code.bars == zint_bars(pc + fitted)


def test_bar_strings_skips_catch_all_postcode() -> None:
    out = bar_strings(["1760000", "1760001"], ["練馬区 1-2", "練馬区 1-2"],
                      no_barcode=frozenset({"1760000"}))
    assert out[0] is None and len(out[1]) == TOTAL_BARS


def test_rejects_bad_postcode() -> None:
    with pytest.raises(ValueError):
        encode("176-0001", "1-2")


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("0123456789-－ー丁目番地号一二三十ABCａｂ .&/・棟室　"))
               | st.characters(codec="utf-8"), max_size=40))
def test_extracted_number_is_well_formed(address: str) -> None:
    out = extract_address_number(address)
    assert all(c in "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ" for c in out)
    assert not out.startswith("-") and not out.endswith("-") and "--" not in out
    assert not any(a.isalpha() and b == "-" or a == "-" and b.isalpha() for a, b in itertools.pairwise(out))
    assert len(encode("1760001", address).bars) == TOTAL_BARS
