"""The glyph check and the font runs, against per-character definitions (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layouts.fonts import NAME_CHAIN, TEXT_CHAIN, VARIATION_SELECTORS, load_fonts, undrawable_characters

FONTS = load_fonts()
#: characters near every edge the check has: kana, kanji, MJ-only kanji, symbols, emoji,
#: variation selectors, private use, controls, surrogate-plane ideographs
TEXT = st.text(alphabet=st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x3000, max_codepoint=0x30FF),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.sampled_from("𠮷𩸽髙﨑\uFE00\uFE0F\U000E0100\U000E01EF\uE000\u0000\u200B☃😀"),
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),
), max_size=30)


def _undrawable_by_character(text: str) -> list[str]:
    out: dict[str, None] = {}
    for ch in text:
        cp = ord(ch)
        selector = any(cp in r for r in VARIATION_SELECTORS)
        if selector or not any(cp in cmap for cmap in FONTS.cmaps.values()):
            out[f"U+{cp:04X}"] = None
    return list(out)


@settings(max_examples=400)
@given(TEXT)
def test_the_glyph_check_equals_the_per_character_rule(text) -> None:
    assert undrawable_characters(text, FONTS) == _undrawable_by_character(text)


@settings(max_examples=400)
@given(TEXT, st.sampled_from([NAME_CHAIN, TEXT_CHAIN]))
def test_font_runs_pick_the_first_font_with_the_glyph_per_character(text, chain) -> None:
    runs = FONTS.runs(text, chain)
    assert "".join(part for _, part in runs) == text
    assert all(part for _, part in runs) or text == ""
    assert all(a != b for (a, _), (b, _) in zip(runs, runs[1:], strict=False))  # merged
    names = {FONTS.names[role]: role for role in chain}
    for name, part in runs:
        for ch in part:
            first = next((r for r in chain if ord(ch) in FONTS.cmaps[r]), chain[0])
            assert names[name] == first


def test_a_run_list_handed_out_is_the_callers_own() -> None:
    """runs are cached per text: changing one caller's list must not change the next."""
    first = FONTS.runs("練馬区", TEXT_CHAIN)
    first.append(("x", "y"))
    assert FONTS.runs("練馬区", TEXT_CHAIN) == [(FONTS.names["gothic"], "練馬区")]


@settings(max_examples=300)
@given(TEXT, st.sampled_from(["mincho_mj", "gothic", "mincho"]), st.sampled_from([7.0, 9.5, 16.0]))
def test_advance_widths_equal_reportlabs_string_width(text, role, size) -> None:
    """The cached sums the fitting and the drawing share are reportlab's own widths."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from layouts.fonts import advance_units

    name = FONTS.names[role]
    assert 0.001 * size * advance_units(name, text) == pytest.approx(stringWidth(text, name, size), rel=1e-12)
