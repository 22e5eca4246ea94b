"""Kana normalisation for *derived* fields only (sorting and kana search).

Register exports mix half-width katakana (ｶﾀｶﾅ, from old host systems), hiragana and
full-width katakana in the reading columns. The stored names are never touched (the card
must print what the register holds); only ``sort_kana`` is normalised, so that one sort
order and one search key work across all three spellings.

>>> import polars as pl
>>> pl.Series(["ﾔﾏﾀﾞ", "やまだ", "ヤマダ"]).to_frame("k").select(to_fullwidth_katakana(pl.col("k")))["k"].to_list()
['ヤマダ', 'ヤマダ', 'ヤマダ']
"""

from __future__ import annotations

import unicodedata

import polars as pl

_HALFWIDTH = range(0xFF61, 0xFFA0)
_VOICING_MARKS = ("\uff9e", "\uff9f")  # ﾞ ﾟ


def _tables() -> tuple[list[str], list[str], list[str], list[str]]:
    """Build the replacement tables from Unicode data (NFKC), not by hand, so none is missed."""
    pairs_from: list[str] = []
    pairs_to: list[str] = []
    for cp in _HALFWIDTH:
        base = chr(cp)
        for mark in _VOICING_MARKS:
            composed = unicodedata.normalize("NFKC", base + mark)
            if len(composed) == 1:
                pairs_from.append(base + mark)
                pairs_to.append(composed)
    singles_from = [chr(cp) for cp in _HALFWIDTH]
    singles_to = [unicodedata.normalize("NFKC", c) for c in singles_from]
    # hiragana ぁ..ゖ and the iteration marks ゝゞ sit exactly 0x60 below their katakana
    for cp in list(range(0x3041, 0x3097)) + [0x309D, 0x309E]:
        singles_from.append(chr(cp))
        singles_to.append(chr(cp + 0x60))
    # half-width and ASCII space become one ideographic space (the full-width form)
    singles_from.append(" ")
    singles_to.append("\u3000")
    return pairs_from, pairs_to, singles_from, singles_to


_PAIRS_FROM, _PAIRS_TO, _SINGLES_FROM, _SINGLES_TO = _tables()


def to_fullwidth_katakana(expr: pl.Expr) -> pl.Expr:
    """Half-width katakana and hiragana → full-width katakana, vectorised.

    Two passes because polars' ``replace_many`` prefers the shorter match when one pattern
    is a prefix of another: voiced pairs (ｶﾞ → ガ) first, then single characters.
    """
    return expr.str.replace_many(_PAIRS_FROM, _PAIRS_TO).str.replace_many(
        _SINGLES_FROM, _SINGLES_TO
    )


def sort_kana(family_kana: pl.Expr, given_kana: pl.Expr) -> pl.Expr:
    """The derived sort key: full-width katakana of family and given reading.

    An ideographic space separates the two parts, so that the family name sorts as a unit
    (U+3000 sorts before every kana). A missing part contributes nothing.
    """
    family = to_fullwidth_katakana(family_kana.str.strip_chars())
    given = to_fullwidth_katakana(given_kana.str.strip_chars())
    return (
        pl.concat_str([family.fill_null(""), pl.lit("\u3000"), given.fill_null("")])
        .str.strip_chars("\u3000")
    )


#: characters a reading may contain after normalisation: katakana, prolonged sound mark,
#: middle dot (foreign names), ideographic space
KANA_READING_PATTERN = r"^[\u30A1-\u30FA\u30FC\u30FB\u3000\u30FD\u30FE]+$"


def is_kana_reading(expr: pl.Expr) -> pl.Expr:
    """True where the text, once normalised, is made of katakana only (null stays null).

    Used to flag mojibake in reading columns: a UTF-8 reading decoded as CP932 turns into
    kanji and half-width kana pairs (繧ｿ繝翫き) that no longer normalise to katakana.
    """
    return to_fullwidth_katakana(expr.str.strip_chars()).str.contains(KANA_READING_PATTERN)
