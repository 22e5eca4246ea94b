"""Kana normalisation for derived fields: half-width and hiragana → full-width katakana."""

from __future__ import annotations

import unicodedata

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.kana import is_kana_reading, sort_kana, to_fullwidth_katakana


def norm(values: list[str | None]) -> list[str | None]:
    return pl.DataFrame({"k": pl.Series(values, dtype=pl.Utf8)}).select(to_fullwidth_katakana(pl.col("k")))["k"].to_list()


@pytest.mark.parametrize("text, want", [
    ("ﾔﾏﾀﾞ", "ヤマダ"), ("やまだ", "ヤマダ"), ("ヤマダ", "ヤマダ"),
    ("ｶﾞｷﾞｸﾞｹﾞｺﾞ", "ガギグゲゴ"), ("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ"), ("ｳﾞｧﾝ", "ヴァン"),
    ("ｼｮｳﾀ", "ショウタ"), ("ｴﾐﾘｰ", "エミリー"), ("ゔぁん", "ヴァン"), ("ﾃｨ ﾗﾝ", "ティ\u3000ラン"),
    ("ゝゞ", "ヽヾ"), ("", ""),
])
def test_examples(text, want):
    assert norm([text]) == [want]


def test_null_stays_null():
    assert norm([None]) == [None]


halfwidth = st.text(alphabet=st.sampled_from([chr(c) for c in range(0xFF66, 0xFF9E)] + ["\uff9e", "\uff9f"]), max_size=12)


@settings(max_examples=80)
@given(st.lists(halfwidth, min_size=1, max_size=10))
def test_halfwidth_matches_nfkc(texts):
    """NFKC is the independent reference for half-width katakana (it composes ｶﾞ → ガ)."""
    assert norm(texts) == [unicodedata.normalize("NFKC", t) for t in texts]


hiragana = st.text(alphabet=st.sampled_from([chr(c) for c in range(0x3041, 0x3097)]), max_size=12)


@settings(max_examples=80)
@given(st.lists(hiragana, min_size=1, max_size=10))
def test_hiragana_shift(texts):
    assert norm(texts) == ["".join(chr(ord(c) + 0x60) for c in t) for t in texts]


def test_names_are_not_touched():
    """Kanji and Latin names pass through: only kana change."""
    assert norm(["髙橋", "𠮷田", "葛\U000E0100城", "NGUYEN"]) == ["髙橋", "𠮷田", "葛\U000E0100城", "NGUYEN"]


def test_sort_kana():
    frame = pl.DataFrame({"f": ["ﾔﾏﾀﾞ", "やまだ", None, "グエン"], "g": ["ﾀﾛｳ", "たろう", "ハナ", "ヴァン アン"]})
    out = frame.select(sort_kana(pl.col("f"), pl.col("g")).alias("s"))["s"].to_list()
    assert out == ["ヤマダ\u3000タロウ", "ヤマダ\u3000タロウ", "ハナ", "グエン\u3000ヴァン\u3000アン"]


def test_sort_kana_orders_family_first():
    frame = pl.DataFrame({"f": ["ヤマダ", "ヤマ"], "g": ["ア", "ダタロウ"]})
    keys = frame.select(sort_kana(pl.col("f"), pl.col("g")).alias("s"))["s"].to_list()
    assert sorted(keys) == ["ヤマ\u3000ダタロウ", "ヤマダ\u3000ア"]


def test_is_kana_reading():
    frame = pl.DataFrame({"k": ["ヤマダ", "ﾔﾏﾀﾞ", "やまだ", "グエン・ヴァン", "繧ｿ繝翫き", "YAMADA", "山田", None]})
    out = frame.select(is_kana_reading(pl.col("k")))["k"].to_list()
    assert out == [True, True, True, True, False, False, False, None]
