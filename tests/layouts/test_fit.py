"""Wrap, then shrink, then refuse: line breaking, kinsoku, sizes and the issue's long texts."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pypdfium2 as pdfium
import pytest

from layouts.batch import PrintSettings, write_batch
from layouts.fit import NO_LINE_END, NO_LINE_START, fit, fit_with, misfits, plan_misfits, wrap
from layouts.samples import demo_plan
from layouts.spec import DEFAULT_SPEC, MIN_PRINT_PT, MIN_WINDOW_PT, Box, TextField
from qa import readback as rb
from qa.checks import has_name, layout_findings


def one_mm_per_char(text: str) -> float:
    """A fixed measure: 1 mm per full-width character, 0.5 mm per ASCII one."""
    return sum(0.5 if c.isascii() else 1.0 for c in text)


# --- line breaking ----------------------------------------------------------------------
def test_japanese_breaks_between_any_characters() -> None:
    assert wrap("東京都練馬区豊玉北", 4, one_mm_per_char) == ["東京都練", "馬区豊玉", "北"]


def test_latin_breaks_only_between_words() -> None:
    lines = wrap("ALEXANDR SERGEEVICH IVANOV", 6, one_mm_per_char)
    assert lines == ["ALEXANDR", "SERGEEVICH", "IVANOV"]
    assert all(not ln.startswith(" ") and not ln.endswith(" ") for ln in lines)


@pytest.mark.parametrize("text", ["あいう、えおかきく。けこ", "あいうえ）おかき」くけこ", "あい（うえお「かきくけこ"])
def test_kinsoku_no_closing_mark_starts_and_no_opening_mark_ends_a_line(text: str) -> None:
    for width in (2, 3, 4, 5):
        lines = wrap(text, width, one_mm_per_char)
        assert "".join(lines) == text
        assert all(ln[0] not in NO_LINE_START for ln in lines[1:]), lines
        assert all(ln[-1] not in NO_LINE_END for ln in lines), lines


def test_names_break_at_the_space_not_inside_a_family_name() -> None:
    assert wrap("長谷川 太郎", 4, one_mm_per_char, words=True) == ["長谷川", "太郎"]


def test_a_word_wider_than_the_line_breaks_only_when_asked() -> None:
    assert wrap("ABCDEFGHIJ", 2, one_mm_per_char) == ["ABCDEFGHIJ"]
    assert wrap("ABCDEFGHIJ", 2, one_mm_per_char, break_words=True) == ["ABCD", "EFGH", "IJ"]


# --- sizes --------------------------------------------------------------------------------
FIELD = TextField("test.field", Box(0, 0, 10, 9), size=10, min_size=7, max_lines=3)


def scaled(text: str, size: float) -> float:
    return one_mm_per_char(text) * size / 10


def test_wraps_before_it_shrinks() -> None:
    out = fit_with("あ" * 15, FIELD, scaled)          # two lines at 10 pt
    assert out is not None and out.size == 10 and out.lines == ("あ" * 10, "あ" * 5)


def test_shrinks_when_the_lines_run_out_then_refuses_below_the_minimum() -> None:
    room = FIELD.lines_at(10)
    out = fit_with("あ" * (10 * room + 1), FIELD, scaled)
    assert out is not None and 7 <= out.size < 10
    assert fit_with("あ" * 250, FIELD, scaled) is None


def test_baselines_stay_in_the_box() -> None:
    out = fit_with("あ" * 25, FIELD, scaled)
    assert out is not None
    em = out.size * 25.4 / 72
    assert out.baselines()[0] - 0.88 * em >= FIELD.box.y - 1e-9
    assert out.baselines()[-1] + 0.12 * em <= FIELD.box.bottom + 1e-9


def test_minimum_sizes_are_the_documented_ones() -> None:
    a, m = DEFAULT_SPEC.address, DEFAULT_SPEC.member
    assert a.address_field.min_size == a.name_field.min_size == MIN_WINDOW_PT == 9
    assert m.card_field("氏名").min_size == m.form_field("住所", 3).min_size == MIN_PRINT_PT == 7


# --- the measured cases, rendered and read back --------------------------------
LONG_FAMILY = "VASILEVSKAYA-KONSTANTINOPOULOU"
LONG_GIVEN = "ALEXANDRA MAXIMILIANA SVETLANA"
LONG_EXTRA = "グランドメゾン練馬豊玉北サウスウイング第二別館レジデンス１２０３号室"
HUGE_NAME = "A" * 250


@pytest.fixture(scope="module")
def long_texts(tmp_path_factory):
    plan, numbers = demo_plan(4, seed=3, rare_names=False)
    envs = sorted(plan["envelope_seq"].unique().to_list())
    first_head = (pl.col("envelope_seq") == envs[0]) & pl.col("is_head")
    plan = plan.with_columns(
        family_name=pl.when(first_head).then(pl.lit(LONG_FAMILY)).otherwise(pl.col("family_name")),
        given_name=pl.when(first_head).then(pl.lit(LONG_GIVEN)).otherwise(pl.col("given_name")),
        alias=pl.when(first_head).then(pl.lit("山田 花子")).otherwise(pl.col("alias")),
        address_extra=pl.when(pl.col("envelope_seq") == envs[1]).then(pl.lit(LONG_EXTRA))
        .otherwise(pl.col("address_extra")),
        given_name_kana=pl.when((pl.col("envelope_seq") == envs[2]) & pl.col("is_head"))
        .then(pl.lit(HUGE_NAME)).otherwise(pl.col("given_name_kana")),
    )
    out = tmp_path_factory.mktemp("long") / "B00001"
    result = write_batch(out, plan, numbers, PrintSettings(demo=True))
    return out, plan, result, envs


def test_long_latin_name_and_long_building_are_printed_legibly(long_texts) -> None:
    out, _, result, envs = long_texts
    pdf = pdfium.PdfDocument(str(out / "cards.pdf"))
    texts = rb.page_texts(pdf)
    whole = "\n".join(texts)
    assert has_name(whole, f"{LONG_FAMILY} {LONG_GIVEN}")            # nothing cut at an edge
    assert "".join(LONG_EXTRA.split()) in "".join(whole.split())
    for i in range(len(pdf)):
        role = "address" if texts[i].count("簡易書留") else "member"
        chars = rb.page_chars(pdf, i)
        assert layout_findings(chars, role) == [], i
        if role == "address":
            window = chars[(chars[:, 1] >= 14) & (chars[:, 3] <= 66) & (chars[:, 0] >= 20)
                           & (chars[:, 2] <= 120) & (chars[:, 4] < 30)]
            assert window[:, 4].min() >= MIN_WINDOW_PT - 0.01
    pdf.close()


def test_what_cannot_fit_at_the_minimum_is_refused_not_printed(long_texts) -> None:
    out, plan, result, envs = long_texts
    manifest = pl.read_parquet(out / "manifest.parquet")
    row = manifest.filter(pl.col("envelope_seq") == envs[2]).row(0, named=True)
    head = plan.filter((pl.col("envelope_seq") == envs[2]) & pl.col("is_head"))["resident_code"][0]
    assert head in row["manual_resident_codes"] and row["first_page"] is None
    entry = next(e for e in result.manual if e.resident_code == head)
    assert "form.フリガナ" in entry.code_points


def test_plan_misfits_names_the_field_and_never_the_text() -> None:
    residents = pl.DataFrame({
        "resident_code": ["1", "2", "3"], "family_name": ["田中", "練" * 60, LONG_FAMILY],
        "given_name": ["太郎", "子", LONG_GIVEN], "family_name_kana": ["タナカ"] * 3,
        "given_name_kana": ["タロウ"] * 3, "alias": [None, None, None],
        "address": ["東京都練馬区豊玉北6-12-1"] * 3, "address_extra": [None, None, LONG_EXTRA],
        "date_of_birth": [dt.date(1980, 1, 1)] * 3})
    fonts = PrintSettings().fonts()
    out = plan_misfits(residents, fonts, DEFAULT_SPEC)
    assert set(out["resident_code"]) == {"2"}
    assert "card.氏名" in out["field"].to_list()
    assert all("練" not in r for r in out["reason"])
    assert misfits([(DEFAULT_SPEC.member.card_field("氏名"), "田中 太郎")], fonts) == []
    assert fit("田中 太郎", DEFAULT_SPEC.member.card_field("氏名"), fonts).size == 10


def test_control_characters_from_an_export_are_spaces_not_glyphs() -> None:
    fonts = PrintSettings().fonts()
    out = fit("東京都練馬区\n豊玉北\t6-12-1", DEFAULT_SPEC.member.card_field("住所"), fonts)
    assert out is not None and not any(c in "".join(out.lines) for c in "\n\t")


def test_spec_checks_survive_python_minus_o(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = ("from layouts.spec import Box, MemberSheetSpec, PrintSpec\n"
            "try:\n    PrintSpec(member=MemberSheetSpec(card=Box(62.2, 16.0, 86.0, 53.98)))\n"
            "except Exception as e:\n    print(type(e).__name__)\n")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True,
                         cwd=root, check=True)
    assert out.stdout.strip() == "ConfigError"


def test_plan_prefilter_only_skips_texts_that_surely_fit() -> None:
    """The plan stage measures only texts longer than these limits: at the limit, in the
    widest characters (1 em), every field still takes them."""
    from layouts.fit import _safe_chars, member_texts

    fonts = PrintSettings().fonts()
    limits = _safe_chars(DEFAULT_SPEC)
    assert limits["name"] >= 20 and limits["address"] >= 60       # typical texts skip the measuring
    n = limits["name"]
    texts = member_texts(DEFAULT_SPEC, name="練" * (n // 2) + " " + "練" * (n - n // 2 - 1),
                         kana="ア" * limits["kana"], alias="練" * limits["alias"],
                         address="練" * limits["address"])
    assert misfits(texts, fonts) == []
