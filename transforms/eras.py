"""Japanese era (和暦) and ISO date parsing, vectorised in polars.

Register exports write dates of birth as ISO (1985-04-01), in kanji (平成27年10月5日,
元年 for year 1), abbreviated (H27.10.05, 昭50/3/1) or as 7-digit era-coded numbers
(4271005: era code 4 = 平成, year 27, month 10, day 5). Era first and last days are those of
docs/domain.md#era-boundaries, by the day: 明治 1868-01-01 to 1912-07-30, 大正 1912-07-30 to
1926-12-25, 昭和 1926-12-25 to 1989-01-07, 平成 1989-01-08 to 2019-04-30, 令和 from 2019-05-01.
On the two 即日改元 days (1912-07-30, 1926-12-25) both era names are valid. An era date
outside its era (平成元年1月7日 is 昭和64年) does not exist and parses to null, as do
impossible calendar dates (2月30日). The caller keeps the original
text beside the parsed date; nothing here mutates it.

>>> import polars as pl
>>> s = pl.Series("d", ["平成27年10月5日", "H27.10.05", "4271005", "令和元年5月1日", "1985-04-01", "平成元年1月7日"])
>>> s.to_frame().select(parse_date(pl.col("d")))["d"].cast(pl.Utf8).to_list()
['2015-10-05', '2015-10-05', '2015-10-05', '2019-05-01', '1985-04-01', None]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Era:
    """One era: its code in 7-digit dates, kanji name, Latin letter, first and last day.

    ``end`` is the last day a date may be written in this era (None: the current era); it
    equals the next era's first day when the era changed the same day (即日改元).
    """

    code: int
    kanji: str
    letter: str
    start: dt.date
    end: dt.date | None = None


ERAS: tuple[Era, ...] = (
    Era(1, "明治", "M", dt.date(1868, 1, 1), dt.date(1912, 7, 30)),
    Era(2, "大正", "T", dt.date(1912, 7, 30), dt.date(1926, 12, 25)),
    Era(3, "昭和", "S", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era(4, "平成", "H", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era(5, "令和", "R", dt.date(2019, 5, 1)),
)

#: every spelling of an era that exports use, mapped to its code
ERA_TOKENS: dict[str, int] = {}
for _era in ERAS:
    ERA_TOKENS[_era.kanji] = _era.code
    ERA_TOKENS[_era.kanji[0]] = _era.code
    ERA_TOKENS[_era.letter] = _era.code
    ERA_TOKENS[_era.letter.lower()] = _era.code

_FULLWIDTH_FROM = [chr(0xFF10 + i) for i in range(10)] + ["．", "／", "－", "　", "‐", "−"]
_FULLWIDTH_TO = [str(i) for i in range(10)] + [".", "/", "-", " ", "-", "-"]

_SEP = r"\s*[.\-/]\s*"
_ISO = r"^(\d{4})(?:-|/|\.|\s*年\s*)(\d{1,2})(?:-|/|\.|\s*月\s*)(\d{1,2})\s*日?$"
_ISO_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_ERA_TOKEN = "|".join(sorted(ERA_TOKENS, key=len, reverse=True))
_ERA = (
    rf"^({_ERA_TOKEN})\s*(元|\d{{1,2}})\s*(?:年|{_SEP})\s*(\d{{1,2}})\s*(?:月|{_SEP})"
    rf"\s*(\d{{1,2}})\s*日?$"
)
_ERA_CODED = r"^([1-5])(\d{2})(\d{2})(\d{2})$"


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _era_start_days(code: pl.Expr) -> pl.Expr:
    """Day number (since 1970-01-01) of the first day of era ``code``."""
    mapping = {e.code: _days(e.start) for e in ERAS}
    return code.replace_strict(mapping, default=None, return_dtype=pl.Int32)


def _era_end_days(code: pl.Expr) -> pl.Expr:
    """Day number of the last day of era ``code`` (null for the current era)."""
    mapping = {e.code: _days(e.end) for e in ERAS if e.end is not None}
    return code.replace_strict(mapping, default=None, return_dtype=pl.Int32)


def _ymd_date(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Build a Date from integer parts; impossible dates (2月30日) become null."""
    text = pl.concat_str(
        [
            year.cast(pl.Utf8).str.zfill(4),
            month.cast(pl.Utf8).str.zfill(2),
            day.cast(pl.Utf8).str.zfill(2),
        ],
        separator="-",
    )
    return text.str.to_date("%Y-%m-%d", strict=False)


def normalise_date_text(expr: pl.Expr) -> pl.Expr:
    """Full-width digits and separators to ASCII, trimmed: only for parsing, never stored."""
    return expr.str.replace_many(_FULLWIDTH_FROM, _FULLWIDTH_TO).str.strip_chars()


def parse_date(expr: pl.Expr) -> pl.Expr:
    """Parse ISO, kanji-era, abbreviated-era and 7-digit era-coded dates to ``pl.Date``.

    Text that matches none of the forms, or names a day that does not exist in its era or
    calendar, gives null: the caller quarantines it with the original text kept aside.
    """
    text = normalise_date_text(expr)

    iso = text.str.extract_groups(_ISO)
    iso_compact = text.str.extract_groups(_ISO_COMPACT)
    iso_date = _ymd_date(
        pl.coalesce(iso.struct.field("1"), iso_compact.struct.field("1")).cast(pl.Int32, strict=False),
        pl.coalesce(iso.struct.field("2"), iso_compact.struct.field("2")).cast(pl.Int32, strict=False),
        pl.coalesce(iso.struct.field("3"), iso_compact.struct.field("3")).cast(pl.Int32, strict=False),
    )

    era = text.str.extract_groups(_ERA)
    coded = text.str.extract_groups(_ERA_CODED)
    era_code = pl.coalesce(
        era.struct.field("1").replace_strict(ERA_TOKENS, default=None, return_dtype=pl.Int32),
        coded.struct.field("1").cast(pl.Int32, strict=False),
    )
    era_year = pl.coalesce(
        era.struct.field("2").replace({"元": "1"}).cast(pl.Int32, strict=False),
        coded.struct.field("2").cast(pl.Int32, strict=False),
    )
    month = pl.coalesce(era.struct.field("3"), coded.struct.field("3")).cast(pl.Int32, strict=False)
    day = pl.coalesce(era.struct.field("4"), coded.struct.field("4")).cast(pl.Int32, strict=False)
    start = _era_start_days(era_code)
    end = _era_end_days(era_code)
    start_year = start.cast(pl.Date).dt.year()
    gregorian = _ymd_date(start_year + era_year - 1, month, day)
    days = gregorian.cast(pl.Int32)
    in_era = (era_year >= 1) & (days >= start) & (end.is_null() | (days <= end))
    era_date = pl.when(in_era).then(gregorian).otherwise(None)

    return pl.coalesce(iso_date, era_date).name.keep()


def format_era(expr: pl.Expr, style: str = "kanji") -> pl.Expr:
    """Format a Date as an era date: ``kanji`` (平成27年10月5日, 元年), ``abbrev``
    (H27.10.05) or ``coded`` (4271005). Used by the sample generator; dates before
    明治 give null.
    """
    days = expr.cast(pl.Int32)
    code = pl.lit(None, dtype=pl.Int32)
    for e in ERAS:
        code = pl.when(days >= _days(e.start)).then(pl.lit(e.code, dtype=pl.Int32)).otherwise(code)
    start_year = _era_start_days(code).cast(pl.Date).dt.year()
    year = expr.dt.year() - start_year + 1
    month, day = expr.dt.month(), expr.dt.day()
    if style == "kanji":
        kanji = code.replace_strict({e.code: e.kanji for e in ERAS}, default=None, return_dtype=pl.Utf8)
        year_text = pl.when(year == 1).then(pl.lit("元")).otherwise(year.cast(pl.Utf8))
        return pl.concat_str(
            [kanji, year_text, pl.lit("年"), month.cast(pl.Utf8), pl.lit("月"), day.cast(pl.Utf8), pl.lit("日")]
        ).name.keep()

    def two(e: pl.Expr) -> pl.Expr:
        return e.cast(pl.Utf8).str.zfill(2)

    if style == "abbrev":
        letter = code.replace_strict({e.code: e.letter for e in ERAS}, default=None, return_dtype=pl.Utf8)
        return pl.concat_str([letter, two(year), pl.lit("."), two(month), pl.lit("."), two(day)]).name.keep()
    if style == "coded":
        return pl.concat_str([code.cast(pl.Utf8), two(year), two(month), two(day)]).name.keep()
    raise ValueError(f"unknown era style {style!r}")
