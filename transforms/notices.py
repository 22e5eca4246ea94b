"""Residents' printable records and envelope lists for notices: pure polars, no I/O.

A run that cannot print a card (QA failed, the registered-mail range ran out, the number
was changed later) leaves the card to a later run, which may not have the resident's
register row. So the ledger keeps each resident's printable record: the canonical columns
a card and an address sheet need, as JSON (never the My Number: the renderer joins it from
the ledger at draw time). ``to_records`` and ``from_records`` are the two directions.
"""

from __future__ import annotations

import polars as pl

#: what a card needs, with the dtype it has in the canonical resident frame
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "resident_code": pl.Utf8(), "household_id": pl.Utf8(), "relationship": pl.Utf8(),
    "is_head": pl.Boolean(), "family_name": pl.Utf8(), "given_name": pl.Utf8(),
    "family_name_kana": pl.Utf8(), "given_name_kana": pl.Utf8(), "sort_kana": pl.Utf8(),
    "alias": pl.Utf8(), "date_of_birth": pl.Date(), "date_of_birth_text": pl.Utf8(),
    "sex_code": pl.UInt8(), "postal_code": pl.Utf8(), "address": pl.Utf8(),
    "address_extra": pl.Utf8(),
}
#: events whose residents need no new card (their record is not kept for printing)
NO_CARD_EVENTS = ("move_in", "move_out", "death")


def to_records(residents: pl.DataFrame) -> pl.DataFrame:
    """[resident_code, record]: the record column is JSON of the columns in RECORD_SCHEMA."""
    cols = [c for c in RECORD_SCHEMA if c in residents.columns]
    if "my_number" in cols:  # pragma: no cover - RECORD_SCHEMA never lists it
        raise ValueError("a printable record never holds a My Number")
    return residents.select(
        "resident_code",
        pl.struct([pl.col(c).cast(pl.Utf8) if c == "date_of_birth" else pl.col(c) for c in cols])
        .struct.json_encode().alias("record"))


def from_records(records: pl.DataFrame) -> pl.DataFrame:
    """The canonical resident columns back from [resident_code, record] (nulls for missing keys)."""
    wire = pl.Struct({k: (pl.Utf8() if k == "date_of_birth" else v)
                      for k, v in RECORD_SCHEMA.items() if k != "resident_code"})
    if records.height == 0:
        return pl.DataFrame(schema=RECORD_SCHEMA)
    out = (records.select("resident_code", pl.col("record").str.json_decode(wire))
           .unnest("record")
           .with_columns(pl.col("date_of_birth").str.to_date("%Y-%m-%d", strict=False)))
    return out.select([pl.col(k).cast(v) for k, v in RECORD_SCHEMA.items()])


def as_records(residents: pl.DataFrame) -> pl.DataFrame:
    """The RECORD_SCHEMA columns of a canonical frame (what from_records gives), no JSON."""
    return residents.select([
        (pl.col(k) if k in residents.columns else pl.lit(None)).cast(v).alias(k)
        for k, v in RECORD_SCHEMA.items()])


def card_residents(accepted: pl.DataFrame, outcomes: pl.DataFrame,
                   outcome_names: tuple[str, ...]) -> pl.DataFrame:
    """Accepted rows whose outcome is one of ``outcome_names`` (and whose event needs a card)."""
    wanted = outcomes.filter(pl.col("outcome").is_in(outcome_names))
    if "event" in wanted.columns:
        wanted = wanted.filter(~pl.col("event").is_in(NO_CARD_EVENTS))
    return accepted.join(wanted.select("resident_code").unique(), on="resident_code", how="semi")


def manual_manifest(plan: pl.DataFrame) -> pl.DataFrame:
    """Envelopes made by hand, one row each: a wholly manual household (its head cannot be
    printed) or a member sent separately. No My Number; resident codes joined with ``;``."""
    cols = ["household_id", "envelope_seq", "registered_mail_number", "postal_code",
            "manual_reason", "resident_code"]
    if plan.height == 0 or "is_manual" not in plan.columns:
        return pl.DataFrame(schema={"kind": pl.Utf8, "household_id": pl.Utf8,
                                    "envelope_seq": pl.UInt32, "registered_mail_number": pl.Utf8,
                                    "postal_code": pl.Utf8, "members": pl.UInt32,
                                    "resident_codes": pl.Utf8})
    postal = "envelope_postal_code" if "envelope_postal_code" in plan.columns else "postal_code"
    rows = plan.filter(pl.col("is_manual")).with_columns(
        pl.col(postal).alias("postal_code"))
    whole = rows.filter(pl.col("batch_id").is_null()).select(cols).with_columns(
        kind=pl.lit("household"))
    separate = rows.filter(pl.col("batch_id").is_not_null()).select(
        "household_id", "envelope_seq",
        pl.col("separate_registered_mail_number").alias("registered_mail_number"),
        "postal_code", "manual_reason", "resident_code").with_columns(kind=pl.lit("member"))
    both = pl.concat([whole, separate], how="vertical_relaxed")
    return (both.group_by("kind", "registered_mail_number", maintain_order=True)
            .agg(pl.col("household_id").first(), pl.col("envelope_seq").first().cast(pl.UInt32),
                 pl.col("postal_code").first(), pl.len().cast(pl.UInt32).alias("members"),
                 pl.col("resident_code").str.join(";").alias("resident_codes"))
            .select("kind", "household_id", "envelope_seq", "registered_mail_number",
                    "postal_code", "members", "resident_codes")
            .sort("envelope_seq", "kind"))


def notice_rows(plan: pl.DataFrame, manual_batch: str = "MANUAL") -> pl.DataFrame:
    """One notice per member of a plan: the envelope it travels in (a member sent separately
    travels in its own hand-made envelope with its own registered-mail number)."""
    separate = (pl.col("is_manual") & pl.col("batch_id").is_not_null())
    rmn = (pl.when(separate).then(pl.col("separate_registered_mail_number"))
           .otherwise(pl.col("registered_mail_number"))
           if "separate_registered_mail_number" in plan.columns else pl.col("registered_mail_number"))
    return plan.select(
        "resident_code", "household_id",
        pl.when(pl.col("is_manual")).then(pl.lit(manual_batch)).otherwise(pl.col("batch_id"))
        .alias("batch_id"),
        "envelope_seq", rmn.alias("registered_mail_number"), "is_manual")
