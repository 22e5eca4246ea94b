"""Japan Post customer barcode (カスタマバーコード): address → 13 positions, check, bars.

Pure encoding, no drawing: ``layouts.barcodes`` draws the bar string this module returns.
Rules follow the Japan Post 郵便番号・バーコードマニュアル as summarised in docs/domain.md#customer-barcode:

1. NFKC (full-width digits/letters/hyphens become ASCII), upper-case letters.
2. Drop ``& / ・ .``; every dash-like character is a hyphen.
3. Kanji numerals in front of 丁目/丁/番地/番/号/地割/線 become Arabic numerals; so do the
   numerals of a ``三の五`` pair (の/ノ between two numbers) and a numeral after の/ノ/- that
   follows a number (``十二番地の三`` → ``12-3``, this project's extension, see the doc).
4. A digit run followed by ``F`` (floor) drops the F (``10F`` → ``10``, ``1F1号`` → ``1-1``).
5. Keep digits, hyphens and single letters; anything else (kanji, kana, blanks, runs of two
   or more letters) in front of a kept character becomes one hyphen; hyphens merge, a
   leading hyphen goes, and hyphens next to a letter go (the manual's ``6-7LB106`` and
   ``3-20-5B604``).
6. A letter takes two positions (control code + digit); pad to 13 with CC4, cut at 13.
7. Check symbol: values 0-9, ``-`` = 10, CC1..CC8 = 11..18; postcode + positions + check
   sum to a multiple of 19.

>>> encode("1000013", "東京都千代田区霞が関1-3-2 郵便プラザ503").check
'9'
>>> encode("2730102", "千葉県鎌ケ谷市右京塚 東3丁目-20-5 郵便・A&bコーポB604号").address_number
'3-20-5B604'
>>> encode("0140113", "秋田県大仙市堀見内 南田茂木 添60-1").check
'CC8'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

#: bars per symbol: F long, A upper semi-long, D lower semi-long, T timing
BARS: dict[str, str] = {
    "1": "FFT", "2": "FDA", "3": "DFA", "4": "FAD", "5": "FTF", "6": "DAF", "7": "AFD",
    "8": "ADF", "9": "TFF", "0": "FTT", "-": "TFT",
    "CC1": "DAT", "CC2": "DTA", "CC3": "ADT", "CC4": "TDA", "CC5": "ATD", "CC6": "TAD",
    "CC7": "TTF", "CC8": "FFF", "start": "FD", "stop": "DF",
}
#: check-digit value of each data symbol
VALUES: dict[str, int] = {**{str(d): d for d in range(10)}, "-": 10,
                          **{f"CC{i}": 10 + i for i in range(1, 9)}}
SYMBOL_OF_VALUE: dict[int, str] = {v: k for k, v in VALUES.items()}
ADDRESS_POSITIONS = 13
PAD_SYMBOL = "CC4"
TOTAL_BARS = 67

_DROP = str.maketrans("", "", "&/・.")
_DASHES = re.compile("[\u2010-\u2015\u2212\u30fc\uff70\u2500\u2501\uff0d~\u301c]")
_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                 "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI = "〇零一二三四五六七八九十百千"
#: manual p17: a kanji numeral right before one of these counters is an address number
_KANJI_BEFORE_COUNTER = re.compile(f"([{_KANJI}]+)(?=丁目|丁|番地|番|号|地割|線)")
_WORD = "\u3005\u3040-\u30ff\u3400-\u9fff"   # 々, kana, kanji: a numeral followed by one is a name
#: 三の五 / 三ノ5: a numeral, の/ノ, then a number (三ノ輪, 一ノ宮 and 三の五十嵐 stay names)
_KANJI_PAIR = re.compile(f"([{_KANJI}]+)([のノ])(?=[0-9]|[{_KANJI}]+(?![{_WORD}]))")
#: a numeral after a number or a counter, optionally joined by の/ノ/- (十二番地の三, 2丁目十五-4)
_KANJI_AFTER = re.compile(f"([0-9]|丁目|番地|[丁番号])([のノ-]?)([{_KANJI}]+)(?![{_WORD}])")
#: a floor: digits then F (manual p20: ABCビル10F → 10); the F separates like a hyphen
_FLOOR = re.compile("(?<=[0-9])F")
_RUN_OF_LETTERS = re.compile("[A-Z]{2,}")
_NOT_KEPT = re.compile("[^0-9A-Z-]+")


@dataclass(frozen=True)
class CustomerBarcode:
    """One encoded customer barcode (no personal data beyond the address number)."""

    postal_code: str
    address_number: str
    positions: tuple[str, ...]   # 13 address positions
    check: str
    bars: str                    # 67 characters of F/A/D/T


def kanji_to_int(text: str) -> int:
    """Value of a kanji numeral: 十一 → 11, 二十 → 20, 百二 → 102, 二〇 → 20 (positional)."""
    if all(c in _KANJI_DIGITS for c in text):
        return int("".join(str(_KANJI_DIGITS[c]) for c in text))
    total, digit = 0, 0
    for c in text:
        if c in _KANJI_DIGITS:
            digit = _KANJI_DIGITS[c]
        else:
            total += (digit or 1) * _KANJI_UNITS[c]
            digit = 0
    return total + digit


def extract_address_number(address: str) -> str:
    """The address-number string (住所表示番号) the barcode carries, e.g. ``1-3-2-503``."""
    s = unicodedata.normalize("NFKC", address).upper()
    s = _DASHES.sub("-", s).translate(_DROP)
    s = _KANJI_BEFORE_COUNTER.sub(lambda m: str(kanji_to_int(m.group(1))), s)
    s = _KANJI_PAIR.sub(lambda m: str(kanji_to_int(m.group(1))) + m.group(2), s)
    s = _KANJI_AFTER.sub(lambda m: m.group(1) + m.group(2) + str(kanji_to_int(m.group(3))), s)
    s = _FLOOR.sub("-", s)
    s = _RUN_OF_LETTERS.sub(" ", s)
    s = _NOT_KEPT.sub("-", s)
    s = re.sub("-{2,}", "-", s)
    s = re.sub("-(?=[A-Z])|(?<=[A-Z])-", "", s)
    return s.strip("-")


def address_positions(address_number: str) -> tuple[str, ...]:
    """Exactly 13 symbols: letters as control code + digit, padded with CC4, cut at 13."""
    out: list[str] = []
    for c in address_number:
        if c.isdigit() or c == "-":
            out.append(c)
        else:
            k = ord(c) - ord("A")
            out.extend((f"CC{1 + k // 10}", str(k % 10)))
    out = out[:ADDRESS_POSITIONS]
    return tuple(out + [PAD_SYMBOL] * (ADDRESS_POSITIONS - len(out)))


def check_symbol(postal_code: str, positions: Sequence[str]) -> str:
    """The symbol that makes the sum of all values a multiple of 19."""
    total = sum(VALUES[c] for c in postal_code) + sum(VALUES[p] for p in positions)
    return SYMBOL_OF_VALUE[-total % 19]


def bars_of(symbols: Iterable[str]) -> str:
    """Bar string (start, symbols, stop) for data symbols."""
    return BARS["start"] + "".join(BARS[s] for s in symbols) + BARS["stop"]


@lru_cache(maxsize=65536)
def encode(postal_code: str, address: str) -> CustomerBarcode:
    """Encode a 7-digit postcode and the full address line (town part included).

    Raises ValueError for a postcode that is not 7 ASCII digits.
    """
    if len(postal_code) != 7 or not all("0" <= c <= "9" for c in postal_code):
        raise ValueError("postal_code must be 7 ASCII digits")
    number = extract_address_number(address)
    positions = address_positions(number)
    check = check_symbol(postal_code, positions)
    return CustomerBarcode(postal_code, number, positions, check,
                           bars_of([*postal_code, *positions, check]))


def bar_strings(postal_codes: Sequence[str], addresses: Sequence[str | None],
                no_barcode: frozenset[str] = frozenset()) -> list[str | None]:
    """Vectorised form for a whole print plan: None where the postcode is a catch-all.

    Cached per (postcode, address): households in one building share the work.
    """
    return [None if pc in no_barcode else encode(pc, addr or "").bars
            for pc, addr in zip(postal_codes, addresses, strict=True)]
