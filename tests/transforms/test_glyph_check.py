"""Manual-handling detection: each distinct character checked once, rows flagged."""

import polars as pl

from transforms.glyph_check import distinct_characters, flag_undrawable


def frame() -> pl.DataFrame:
    return pl.DataFrame({
        "resident_code": ["1", "2", "3", "4"],
        "family_name": ["髙橋", "𠮷田", "葛\U000E0100城", "山田"],
        "given_name": ["太郎", None, "花子", "一郎"],
        "address": ["豊玉北6-12-1", "練馬1-1-1", "桜台2-2-2", "𠮷町1"],
    })


def test_distinct_characters_covers_every_field_and_skips_nulls():
    chars = distinct_characters(frame(), ["family_name", "given_name"])
    assert "𠮷" in chars and "\U000E0100" in chars and "太" in chars
    assert len(chars) == len(set(chars))


def test_rows_with_undrawable_characters_are_flagged_per_field_by_code_point():
    calls: list[str] = []

    def undrawable(text: str) -> list[str]:
        calls.append(text)
        return [c for c in text if ord(c) > 0xFFFF]

    out = flag_undrawable(frame(), undrawable)
    assert sorted(zip(out["resident_code"], out["field"], out["codepoints"], strict=True)) == [
        ("2", "family_name", "U+20BB7"),
        ("3", "family_name", "U+E0100"),
        ("4", "address", "U+20BB7"),
    ]
    assert len(calls) == len(set(calls)), "each distinct character is checked once"


def test_nothing_flagged_gives_an_empty_frame_with_the_schema():
    out = flag_undrawable(frame(), lambda text: [])
    assert out.height == 0 and out.columns == ["resident_code", "field", "codepoints"]
