"""Normalise a raw register (or events) frame into the canonical resident frame.

Normalise without destroying: names, readings, addresses and aliases stay exactly as
given; only derived or coded columns are normalised. Steps:
1. every text column: a value that is blank (ASCII or ideographic spaces only) is missing;
2. codes (resident_code, household_id, postal_code, my_number): trimmed, full-width digits
   to ASCII; postal codes lose a leading 〒 and one hyphen (〒176-0001 → 1760001);
3. relationship trimmed; ``is_head`` = relationship is 世帯主;
4. ``sort_kana`` derived from the readings (transforms.kana);
5. dates parsed from ISO or 和暦 (transforms.eras), the original text kept beside;
6. sex mapped to ISO 5218 (男/1/M → 1, 女/2/F → 2, 0 and 9 kept as the ISO codes);
7. events: the event name mapped from English or Japanese (出生 → birth ...).
Values that cannot be parsed (a date that is no date, a sex that is no sex, an unknown
event) become null and get a quarantine entry (row, field, reason) naming the rule, never
the value. Formats, check digits and cross-row rules are the suite's job
(expectations.register), not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from transforms.eras import parse_date
from transforms.kana import sort_kana

HEAD = "世帯主"

TEXT_COLUMNS: tuple[str, ...] = (
    "resident_code", "household_id", "relationship", "family_name", "given_name",
    "family_name_kana", "given_name_kana", "alias", "date_of_birth", "sex", "postal_code",
    "address", "address_extra", "my_number",
)
EVENT_TEXT_COLUMNS: tuple[str, ...] = ("event", "event_date")

CANONICAL_SCHEMA: dict[str, type[pl.DataType]] = {
    "row": pl.UInt32,
    "resident_code": pl.Utf8,
    "household_id": pl.Utf8,
    "relationship": pl.Utf8,
    "is_head": pl.Boolean,
    "family_name": pl.Utf8,
    "given_name": pl.Utf8,
    "family_name_kana": pl.Utf8,
    "given_name_kana": pl.Utf8,
    "sort_kana": pl.Utf8,
    "alias": pl.Utf8,
    "date_of_birth": pl.Date,
    "date_of_birth_text": pl.Utf8,
    "sex_code": pl.UInt8,
    "postal_code": pl.Utf8,
    "address": pl.Utf8,
    "address_extra": pl.Utf8,
    "my_number": pl.Utf8,
}
EVENT_SCHEMA: dict[str, type[pl.DataType]] = {
    "event": pl.Utf8,
    "event_date": pl.Date,
    "event_date_text": pl.Utf8,
}
EVENTS: tuple[str, ...] = ("birth", "move_in", "first_registration", "number_change", "move_out", "death")

#: spellings of sex in exports → ISO 5218 code (0 not known, 9 not applicable are kept so
#: that the suite can say "not 1 or 2" rather than "unreadable")
SEX_CODES: dict[str, int] = {
    "男": 1, "男性": 1, "1": 1, "M": 1, "m": 1, "male": 1, "Male": 1, "MALE": 1,
    "女": 2, "女性": 2, "2": 2, "F": 2, "f": 2, "female": 2, "Female": 2, "FEMALE": 2,
    "0": 0, "9": 9,
}
#: spellings of events (異動事由) → canonical event name
EVENT_NAMES: dict[str, str] = {
    **{e: e for e in EVENTS},
    "出生": "birth", "転入": "move_in", "職権記載": "first_registration", "新規登録": "first_registration",
    "国外転入": "first_registration", "番号変更": "number_change", "転出": "move_out", "死亡": "death",
}

_FULLWIDTH_DIGITS_FROM = [chr(0xFF10 + i) for i in range(10)] + ["－", "‐", "−", "ー"]
_FULLWIDTH_DIGITS_TO = [str(i) for i in range(10)] + ["-", "-", "-", "-"]
_BLANKS = " \t\r\n\u3000"


@dataclass(frozen=True)
class NormaliseParams:
    """``kind``: "register" or "events" (events add event, event_date)."""

    kind: str = "register"


@dataclass
class NormalisedRegister:
    """The canonical frame (every input row, in input order) and parse-failure quarantine."""

    frame: pl.DataFrame
    quarantine: pl.DataFrame


def _blank_to_null(name: str) -> pl.Expr:
    col = pl.col(name)
    return pl.when(col.str.strip_chars(_BLANKS) == "").then(None).otherwise(col).alias(name)


def _code(name: str) -> pl.Expr:
    """A code as ASCII: trimmed, full-width digits and dashes folded."""
    return (
        pl.col(name).str.strip_chars(_BLANKS)
        .str.replace_many(_FULLWIDTH_DIGITS_FROM, _FULLWIDTH_DIGITS_TO)
    )


def _quarantine(frame: pl.DataFrame, flag: pl.Expr, field: str, reason: str) -> pl.DataFrame:
    return frame.filter(flag).select(
        pl.col("row"), pl.lit(field).alias("field"), pl.lit(reason).alias("reason")
    )


def normalise_register(raw: pl.DataFrame, params: NormaliseParams = NormaliseParams()) -> NormalisedRegister:
    """Raw all-Utf8 frame (``row`` + canonical text columns, as readers gives)
    → canonical frame + parse-failure quarantine. Vectorised; one lazy query."""
    events = params.kind == "events"
    text_cols = TEXT_COLUMNS + (EVENT_TEXT_COLUMNS if events else ())
    missing = [c for c in ("row", *text_cols) if c not in raw.columns]
    raw = raw.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c) for c in missing if c != "row")
    lf = raw.lazy().with_columns(_blank_to_null(c) for c in text_cols)
    lf = lf.with_columns(
        _code("resident_code").alias("resident_code"),
        pl.col("household_id").str.strip_chars(_BLANKS).alias("household_id"),
        pl.col("relationship").str.strip_chars(_BLANKS).alias("relationship"),
        _code("postal_code").str.strip_prefix("〒").str.strip_chars(_BLANKS)
        .str.replace(r"^(\d{3})-(\d{4})$", "${1}${2}").alias("postal_code"),
        _code("my_number").str.replace_all(r"[ -]", "").alias("my_number"),
        sort_kana(pl.col("family_name_kana"), pl.col("given_name_kana")).alias("sort_kana"),
        parse_date(pl.col("date_of_birth")).alias("date_of_birth"),
        pl.col("date_of_birth").alias("date_of_birth_text"),
        pl.col("sex").str.strip_chars(_BLANKS)
        .replace_strict(SEX_CODES, default=None, return_dtype=pl.UInt8).alias("sex_code"),
        pl.col("sex").alias("_sex_text"),
        *(
            [
                pl.col("event").str.strip_chars(_BLANKS)
                .replace_strict(EVENT_NAMES, default=None, return_dtype=pl.Utf8).alias("event"),
                pl.col("event").alias("_event_text"),
                parse_date(pl.col("event_date")).alias("event_date"),
                pl.col("event_date").alias("event_date_text"),
            ]
            if events else []
        ),
    ).with_columns(
        (pl.col("relationship") == HEAD).fill_null(False).alias("is_head"),
    )
    full = lf.collect()

    parts = [
        _quarantine(full, pl.col("date_of_birth_text").is_not_null() & pl.col("date_of_birth").is_null(),
                    "date_of_birth", "date_of_birth_unparseable: not an ISO or Japanese era date that exists"),
        _quarantine(full, pl.col("_sex_text").is_not_null() & pl.col("sex_code").is_null(),
                    "sex", "sex_unrecognised: not 男/女, 1/2 or an ISO 5218 code"),
    ]
    if events:
        parts += [
            _quarantine(full, pl.col("event_date_text").is_not_null() & pl.col("event_date").is_null(),
                        "event_date", "event_date_unparseable: not an ISO or Japanese era date that exists"),
            _quarantine(full, pl.col("_event_text").is_not_null() & pl.col("event").is_null(),
                        "event", f"event_unrecognised: not one of {', '.join(EVENTS)}"),
        ]
    quarantine = pl.concat(parts).sort("row", "field")
    schema = dict(CANONICAL_SCHEMA, **(EVENT_SCHEMA if events else {}))
    frame = full.select(pl.col(c).cast(t) for c, t in schema.items())
    return NormalisedRegister(frame=frame, quarantine=quarantine)


def empty_canonical(kind: str = "register") -> pl.DataFrame:
    """An empty canonical frame with the contract's schema."""
    schema = dict(CANONICAL_SCHEMA, **(EVENT_SCHEMA if kind == "events" else {}))
    return pl.DataFrame(schema=schema)
