"""Find residents whose printed fields hold characters no installed font can draw.

Such a resident must never get a card with a blank box where a character belongs: they
go to manual handling (外字処理) with each character named by its code point. A register
of 740,000 rows holds only a few thousand distinct characters, so each distinct
character is checked once against the fonts and rows are flagged with one vectorised
``str.contains_any`` per field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import polars as pl

#: fields printed on cards, forms and the address sheet
PRINTED_FIELDS: tuple[str, ...] = (
    "family_name", "given_name", "family_name_kana", "given_name_kana", "alias",
    "address", "address_extra",
)

MANUAL_SCHEMA = {"resident_code": pl.Utf8, "field": pl.Utf8, "codepoints": pl.Utf8}


def distinct_characters(frame: pl.DataFrame, fields: Sequence[str]) -> list[str]:
    """Every distinct character (code point) that occurs in the given text fields."""
    present = [f for f in fields if f in frame.columns]
    if not present or frame.height == 0:
        return []
    chars = (
        frame.lazy()
        .select(pl.concat_list([pl.col(f).fill_null("").str.split("") for f in present]).alias("c"))
        .explode("c")
        .select(pl.col("c").unique())
        .collect()
        .get_column("c")
    )
    return sorted(c for c in chars.to_list() if c)


def codepoint_label(char: str) -> str:
    """U+XXXX form, the way manual-handling staff look characters up."""
    return f"U+{ord(char):04X}"


def flag_undrawable(
    frame: pl.DataFrame,
    undrawable: Callable[[str], Iterable[str]],
    fields: Sequence[str] = PRINTED_FIELDS,
) -> pl.DataFrame:
    """Rows (resident_code, field, codepoints) with characters the fonts cannot draw.

    ``undrawable(text)`` returns the characters of ``text`` that no font draws
    (``layouts.fonts.undrawable_characters``); it is called once per distinct character.
    """
    bad = [c for c in distinct_characters(frame, fields) if list(undrawable(c))]
    if not bad:
        return pl.DataFrame(schema=MANUAL_SCHEMA)
    bad_set = set(bad)
    parts = []
    for field in (f for f in fields if f in frame.columns):
        hits = frame.filter(pl.col(field).fill_null("").str.contains_any(bad)).select(
            "resident_code", pl.col(field).alias("text")
        )
        if hits.height == 0:
            continue
        labels = [
            " ".join(codepoint_label(c) for c in dict.fromkeys(t) if c in bad_set)
            for t in hits.get_column("text").to_list()
        ]
        parts.append(
            hits.select("resident_code").with_columns(
                pl.lit(field).alias("field"), pl.Series("codepoints", labels, dtype=pl.Utf8)
            )
        )
    return pl.concat(parts) if parts else pl.DataFrame(schema=MANUAL_SCHEMA)
