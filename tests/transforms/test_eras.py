"""Era dates: vectors from docs/domain.md#era-boundaries, japanera as an independent oracle, round trips."""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.vectors import vector_params
from transforms.eras import ERAS, format_era, parse_date


def parse(texts: list[str | None]) -> list[dt.date | None]:
    return pl.DataFrame({"d": pl.Series(texts, dtype=pl.Utf8)}).select(parse_date(pl.col("d")))["d"].to_list()


@pytest.mark.parametrize("vector", vector_params("eras", "dates"))
def test_vectors(vector):
    want = None if vector["Date"] == "none" else dt.date.fromisoformat(vector["Date"])
    assert parse([vector["Text"]]) == [want]


def test_nulls_and_blanks_give_null():
    assert parse([None, "", "   "]) == [None, None, None]


def test_output_keeps_the_column_name_and_dtype():
    out = pl.DataFrame({"dob": ["H27.10.05"]}).select(parse_date(pl.col("dob")))
    assert out.columns == ["dob"] and out.schema["dob"] == pl.Date


dates = st.dates(min_value=dt.date(1873, 1, 1), max_value=dt.date(2035, 12, 31))


@settings(max_examples=60)
@given(st.lists(dates, min_size=1, max_size=20))
def test_kanji_matches_japanera(days):
    """Our kanji era text agrees with japanera's (an independent implementation).

    From 1873 only: japanera dates 明治 by the lunisolar calendar before the switch to the
    Gregorian calendar (明治6年), the register convention of docs/domain.md#era-boundaries does not.
    """
    from japanera import EraDate

    ours = pl.DataFrame({"d": days}).select(format_era(pl.col("d"), "kanji"))["d"].to_list()
    for day, text in zip(days, ours, strict=True):
        era_date = EraDate.from_date(day)
        era = era_date.era
        theirs = f"{era.kanji}{era.calc_relative_year(day)}年{day.month}月{day.day}日"
        assert era.since.year >= 1868
        assert text.replace("元年", "1年") == theirs
        assert parse([text]) == [day]


@settings(max_examples=40)
@given(st.lists(st.dates(min_value=dt.date(1868, 1, 1), max_value=dt.date(2099, 12, 31)), min_size=1, max_size=30))
def test_round_trip_every_style(days):
    frame = pl.DataFrame({"d": days})
    for style in ("kanji", "abbrev", "coded"):
        texts = frame.select(format_era(pl.col("d"), style))["d"].to_list()
        assert parse(texts) == days


def test_era_boundaries_are_exclusive():
    for before, after in itertools.pairwise(ERAS):
        last = after.start - dt.timedelta(days=1)
        frame = pl.DataFrame({"d": [last, after.start]})
        kanji = frame.select(format_era(pl.col("d"), "kanji"))["d"].to_list()
        assert kanji[0].startswith(before.kanji) and kanji[1].startswith(after.kanji + "元年")


def test_era_days_agree_with_japanera():
    """First days equal japanera's; last days are japanera's (exclusive) end, or that very day
    for the two 即日改元 changes (docs/domain.md#era-boundaries), where both names are valid."""
    from japanera import ERA_DATA_GENERAL

    theirs = {e.kanji: e for e in ERA_DATA_GENERAL if e.kanji in {era.kanji for era in ERAS}}
    same_day = {"明治", "大正"}
    for era in ERAS[1:]:  # 明治 starts 1868-01-01 here by convention (lunisolar before 1873)
        assert theirs[era.kanji].since == era.start
    for era in ERAS[:-1]:
        until = theirs[era.kanji].until
        want = until if era.kanji in same_day else until - dt.timedelta(days=1)
        assert era.end == want, era.kanji


@pytest.mark.parametrize("old, new, day", [
    ("明治45年7月30日", "大正元年7月30日", dt.date(1912, 7, 30)),
    ("大正15年12月25日", "昭和元年12月25日", dt.date(1926, 12, 25)),
])
def test_both_names_valid_on_the_same_day_changes(old, new, day):
    assert parse([old, new]) == [day, day]
    after = day + dt.timedelta(days=1)
    old_after = old.replace(f"{day.month}月{day.day}日", f"{after.month}月{after.day}日")
    assert parse([old_after]) == [None]


def test_showa_64_and_heisei_1():
    assert parse(["昭和64年1月7日", "平成元年1月8日", "昭和64年1月8日", "平成元年1月7日", "平成31年4月30日",
                  "平成31年5月1日"]) == [dt.date(1989, 1, 7), dt.date(1989, 1, 8), None, None,
                                       dt.date(2019, 4, 30), None]
