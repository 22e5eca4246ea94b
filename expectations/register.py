"""The register suite: which rows of a resident register (or events file) may go on.

The rules live in ``register_suite.json`` (a GX 1.x suite; each expectation's ``meta``
names its ``rule``, the ``field`` it concerns, a ``description`` and the ``kinds`` of file
it applies to). This module computes, for every rule, a boolean row flag with vectorised
polars expressions (True = the row breaks the rule), hands GX the raw columns plus the flag
columns, and turns the flags into quarantine entries. GX thus holds rule names and counts
(written to disk without values) while polars says which rows; `check_frame` verifies the
two agree.

Rules: required fields present (explicit not-null: GX column checks skip nulls); formats
and check digits of resident codes (pluggable rule, transforms.identifiers) and of existing
My Numbers; plausible dates (not after ``today``, not before 1868-01-01); sex in {1, 2};
postal code of 7 digits; resident codes unique in the file (both rows of a duplicate);
exactly one head per household (every row of a household with 0 or 2+ heads; events
files: at most one, as the head of an existing household is not in the file); readings
that are kana; text damaged by a wrong decoding (U+FFFD, control characters, the 縺/繧/繝
pattern of UTF-8 kana read as CP932).

Rules that stop a row from spoiling a later stage (docs/domain.md#register-input-limits):
brought My Numbers unique in the file (every row of a duplicate: the ledger would refuse the
whole set); control or NUL characters in any field (``control_characters``: they block a
print batch in QA); every text field no longer than its limit (``<field>_length``: the
ledger's column size where the value is stored, else a generous documented cap, so a 5 MB
field never reaches the layout); events dated before the resident's birth.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from expectations import gx as gxrun
from transforms.identifiers import my_number as my_number_id
from transforms.identifiers import resident_code as resident_code_id
from transforms.kana import is_kana_reading

if TYPE_CHECKING:  # GX is imported lazily (expectations.gx)
    from great_expectations import ExpectationSuite

SUITE_PATH = Path(__file__).with_name("register_suite.json")
FLAG_PREFIX = "flag__"
EARLIEST_DATE = dt.date(1868, 1, 1)

#: text that a wrong decoding leaves behind: replacement character, the "?" a lossy
#: conversion writes, C0/C1 controls, and two of 縺 繧 繝 (how UTF-8 hiragana/katakana lead
#: bytes read in CP932) in one value
_DAMAGED = r"[\uFFFD?？\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]|[縺繧繝].*[縺繧繝]"


#: generous caps on text fields, in characters (docs/domain.md#register-input-limits): no
#: real name, reading, 通称 or address comes near them; what is longer is a broken export.
#: The ledger's column sizes (``ledger.schema.register_field_limits``) are applied on top
#: by the caller, which may import the ledger (``pipeline.stages.register_check``).
TEXT_CAPS: dict[str, int] = {
    "household_id": 64, "relationship": 32,
    "family_name": 100, "given_name": 100, "family_name_kana": 100, "given_name_kana": 100,
    "alias": 100, "address": 200, "address_extra": 100,
}
#: columns the ``control_characters`` rule reads (after normalising: raw text for dates,
#: sex and event)
CONTROL_COLUMNS: tuple[str, ...] = (
    "resident_code", "household_id", "relationship", "family_name", "given_name",
    "family_name_kana", "given_name_kana", "alias", "date_of_birth_text", "sex_text",
    "postal_code", "address", "address_extra", "my_number", "event_text", "event_date_text",
)
#: C0 and C1 controls, DEL, and the Unicode line and paragraph separators
_CONTROL = r"[\x00-\x1F\x7F-\x9F\u2028\u2029]"


@dataclass(frozen=True)
class RuleParams:
    """Parameters of the rules. ``today`` is injectable so tests are deterministic.

    ``field_limits``: (field, max characters) pairs; default ``TEXT_CAPS``.
    """

    kind: str = "register"
    resident_code_rule: str = "mod11"
    today: dt.date | None = None
    field_limits: tuple[tuple[str, int], ...] = tuple(TEXT_CAPS.items())

    def today_or_now(self) -> dt.date:
        return self.today or dt.date.today()


@dataclass(frozen=True)
class Rule:
    """One rule of the suite as stored in the JSON meta."""

    name: str
    field: str
    description: str
    kinds: tuple[str, ...]
    expectation_type: str
    column: str | None
    columns: tuple[str, ...] = ()  # every column GX reads (column, or column_A/column_B)


def load_rules(path: Path = SUITE_PATH) -> list[Rule]:
    """The rules in the suite file, in order (plain JSON: no GX import needed)."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    rules = []
    for e in spec["expectations"]:
        meta = e["meta"]
        kw = e["kwargs"]
        read = tuple(kw[k] for k in ("column", "column_A", "column_B") if k in kw)
        rules.append(Rule(meta["rule"], meta["field"], meta["description"],
                          tuple(meta["kinds"]), e["type"], kw.get("column"), read))
    return rules


def _ymd(expr: pl.Expr) -> pl.Expr:
    """A date as an integer yyyymmdd: GX compares integers vectorised, dates row by row."""
    # dt.month()/dt.day() are Int8: widen before multiplying or month * 100 wraps around
    return (expr.dt.year().cast(pl.Int32) * 10000 + expr.dt.month().cast(pl.Int32) * 100
            + expr.dt.day().cast(pl.Int32))


def _between_bad(ymd: pl.Expr, today: dt.date) -> pl.Expr:
    lo = EARLIEST_DATE.year * 10000 + EARLIEST_DATE.month * 100 + EARLIEST_DATE.day
    hi = today.year * 10000 + today.month * 100 + today.day
    return ymd.is_not_null() & ((ymd < lo) | (ymd > hi))


def _regex_bad(name: str, pattern: str) -> pl.Expr:
    return pl.col(name).is_not_null() & ~pl.col(name).str.contains(pattern)


def _heads_bad(kind: str) -> pl.Expr:
    heads = pl.col("is_head").cast(pl.UInt32).sum().over("household_id")
    bad = (heads > 1) if kind == "events" else (heads != 1)
    return pl.col("household_id").is_not_null() & bad


def rule_flag_expressions(params: RuleParams, frame_columns: list[str]) -> dict[str, pl.Expr]:
    """Rule name → polars expression that is True on the rows breaking the rule."""
    today = params.today_or_now()
    flags: dict[str, pl.Expr] = {}
    for col in ("resident_code", "household_id", "relationship", "family_name", "given_name",
                "family_name_kana", "given_name_kana", "date_of_birth_text", "sex_text",
                "postal_code", "address", "event_text", "event_date_text"):
        if col in frame_columns:
            flags[f"{col.removesuffix('_text')}_missing"] = pl.col(col).is_null()
    flags["resident_code_format"] = _regex_bad("resident_code", r"^[0-9]{11}$")
    flags["resident_code_unique"] = pl.col("resident_code").is_not_null() & pl.col("resident_code").is_duplicated()
    flags["my_number_format"] = _regex_bad("my_number", r"^[0-9]{12}$")
    flags["date_of_birth_plausible"] = _between_bad(pl.col("date_of_birth_ymd"), today)
    flags["sex_code_valid"] = pl.col("sex_code").is_not_null() & ~pl.col("sex_code").is_in([1, 2])
    flags["postal_code_format"] = _regex_bad("postal_code", r"^[0-9]{7}$")
    flags["household_one_head"] = _heads_bad("register")
    flags["household_heads_at_most_one"] = _heads_bad("events")
    for col in ("family_name_kana", "given_name_kana"):
        flags[f"{col}_reading"] = pl.col(col).is_not_null() & ~is_kana_reading(pl.col(col)).fill_null(False)
    for col in ("family_name", "given_name", "alias", "address", "address_extra"):
        flags[f"{col}_damaged"] = pl.col(col).is_not_null() & pl.col(col).str.contains(_DAMAGED)
    if "event_date_ymd" in frame_columns:
        flags["event_date_plausible"] = _between_bad(pl.col("event_date_ymd"), today)
        flags["event_before_birth"] = pl.col("event_date_ymd") < pl.col("date_of_birth_ymd")
    flags["my_number_unique"] = pl.col("my_number").is_not_null() & pl.col("my_number").is_duplicated()
    flags["control_characters"] = pl.any_horizontal(
        pl.col(c).str.contains(_CONTROL).fill_null(False) for c in CONTROL_COLUMNS if c in frame_columns)
    for col, limit in params.field_limits:
        flags[f"{col}_length"] = pl.col(col).str.len_chars() > limit
    return flags


def _check_digit_flags(frame: pl.DataFrame, params: RuleParams) -> dict[str, pl.Series]:
    """Check-digit flags: only for values of the right format (format is its own rule)."""
    rc_ok_format = frame["resident_code"].str.contains(r"^[0-9]{11}$").fill_null(False)
    rc_valid = resident_code_id.is_valid_series(frame["resident_code"], params.resident_code_rule)
    mn_ok_format = frame["my_number"].str.contains(r"^[0-9]{12}$").fill_null(False)
    mn_valid = my_number_id.is_valid_series(frame["my_number"])
    return {
        "resident_code_check_digit": (rc_ok_format & ~rc_valid).alias("resident_code_check_digit"),
        "my_number_check_digit": (mn_ok_format & ~mn_valid).alias("my_number_check_digit"),
    }


def prepare_check_frame(canonical: pl.DataFrame, raw: pl.DataFrame | None = None) -> pl.DataFrame:
    """Canonical frame + helper columns the suite reads: dates as yyyymmdd, and the raw
    sex and event text (from ``raw``, same rows and order), so that "missing" and
    "unreadable" stay two different rules."""
    extra = [_ymd(pl.col("date_of_birth")).alias("date_of_birth_ymd")]
    if "event_date" in canonical.columns:
        extra.append(_ymd(pl.col("event_date")).alias("event_date_ymd"))
    frame = canonical.with_columns(extra)
    blank = r"^[\s\u3000]*$"

    def text(name: str, fallback: pl.Series) -> pl.Series:
        if raw is None or name not in raw.columns:
            return fallback
        s = raw[name]
        return s.zip_with(~s.str.contains(blank).fill_null(True), pl.Series([None] * len(s), dtype=pl.Utf8))

    frame = frame.with_columns(text("sex", canonical["sex_code"].cast(pl.Utf8)).alias("sex_text"))
    if "event" in canonical.columns:
        frame = frame.with_columns(text("event", canonical["event"]).alias("event_text"))
    return frame


def compute_flags(frame: pl.DataFrame, rules: list[Rule], params: RuleParams) -> pl.DataFrame:
    """One boolean column ``flag__<rule>`` per rule of this kind, in one lazy query."""
    exprs = rule_flag_expressions(params, frame.columns)
    digit_flags = _check_digit_flags(frame, params)
    wanted = [r for r in rules if params.kind in r.kinds]
    lazy_cols = [exprs[r.name].fill_null(False).alias(FLAG_PREFIX + r.name)
                 for r in wanted if r.name in exprs]
    flags = frame.lazy().select(lazy_cols).collect()
    for r in wanted:
        if r.name in digit_flags:
            flags = flags.with_columns(digit_flags[r.name].alias(FLAG_PREFIX + r.name))
    missing = [r.name for r in wanted if FLAG_PREFIX + r.name not in flags.columns]
    if missing:
        raise KeyError(f"no row flag for rule(s) {missing}")
    return flags.select(FLAG_PREFIX + r.name for r in wanted)


def quarantine_from_flags(rows: pl.Series, flags: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
    """(row, field, reason) for every flagged row and rule; reason = rule: description."""
    parts = []
    for r in rules:
        name = FLAG_PREFIX + r.name
        if name not in flags.columns:
            continue
        hit = rows.filter(flags[name])
        if hit.len():
            parts.append(pl.DataFrame({
                "row": hit.cast(pl.UInt32),
                "field": pl.Series([r.field] * hit.len(), dtype=pl.Utf8),
                "reason": pl.Series([f"{r.name}: {r.description}"] * hit.len(), dtype=pl.Utf8),
            }))
    if not parts:
        return pl.DataFrame(schema={"row": pl.UInt32, "field": pl.Utf8, "reason": pl.Utf8})
    return pl.concat(parts)


@dataclass
class SuiteCheck:
    """Result of the suite on one frame: row quarantine, per-rule counts, the GX outcome."""

    quarantine: pl.DataFrame
    counts: dict[str, int]
    outcome: gxrun.SuiteOutcome
    consistent: bool | None     # None: GX was not run (``run_gx=False``)


def load_register_suite(kind: str = "register", path: Path = SUITE_PATH) -> ExpectationSuite:
    """The GX suite for this kind (custom expectation classes are registered first)."""
    gxrun.custom_expectations()
    suite = gxrun.load_suite(path, expected_count=len(load_rules(path)))
    return gxrun.subset_suite(suite, f"{suite.name}.{kind}",
                              lambda e: kind in (e.meta or {}).get("kinds", []))


def check_frame(frame: pl.DataFrame, params: RuleParams, *,
                suite: ExpectationSuite | None = None, run_gx: bool = True) -> SuiteCheck:
    """Run the suite on a prepared check frame (see `prepare_check_frame`).

    ``run_gx=False`` gives the same quarantine from the polars flags alone, without GX's
    fixed cost of about a second per file (the hostile-file corpus checks 150 files; the
    counts then come from the flags and ``consistent`` is None).
    """
    rules = [r for r in load_rules() if params.kind in r.kinds]
    flags = compute_flags(frame, rules, params)
    if not run_gx:
        counts = {r.name: int(flags[FLAG_PREFIX + r.name].sum()) for r in rules}
        outcome = gxrun.SuiteOutcome(f"register.{params.kind} (polars flags only)",
                                     not any(counts.values()), ())
        return SuiteCheck(quarantine=quarantine_from_flags(frame["row"], flags, rules), counts=counts,
                          outcome=outcome, consistent=None)
    suite = suite or load_register_suite(params.kind)
    gx_columns = sorted({c for r in rules for c in r.columns if not c.startswith(FLAG_PREFIX)})
    gx_frame = pl.concat([frame.select(gx_columns), flags], how="horizontal")
    today = params.today_or_now()
    outcome = gxrun.run_suite(gx_frame, suite, parameters=suite_parameters(today, params.field_limits))
    gx_counts = outcome.unexpected_by_rule()
    polars_counts = {r.name: int(flags[FLAG_PREFIX + r.name].sum()) for r in rules}
    quarantine = quarantine_from_flags(frame["row"], flags, rules)
    return SuiteCheck(quarantine=quarantine, counts=gx_counts, outcome=outcome,
                      consistent=gx_counts == polars_counts)


def suite_parameters(today: dt.date, field_limits: tuple[tuple[str, int], ...] = tuple(TEXT_CAPS.items()),
                     ) -> dict[str, Any]:
    """The suite parameters: the day (``today_ymd``) and each text field's limit
    (``<field>_max_length``), so GX measures lengths on the raw columns itself."""
    limits = {f"{col}_max_length": limit for col, limit in field_limits}
    return {"today_ymd": today.year * 10000 + today.month * 100 + today.day, **limits}
