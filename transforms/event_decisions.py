"""What a daily run does with each accepted event (pure: polars in, polars out).

Each event is classified against what the ledger knows (``transforms.daily``), events the
ledger contradicts are held each alone, and a birth or first registration whose derived
number the ledger or a move-in of the same file already holds is held with that move-in.
The stage reads the ledger's facts first (``pipeline.stages.apply_events.read_facts``);
``stage_apply`` then applies the actions, and ``check --key`` only reports the holds, so
the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from core.keys import BlockCipher
from transforms.brought_numbers import COLLISION_HELD, COLLISION_REASON, held_by_others
from transforms.daily import classify_events, hold_contradictions
from transforms.ledger_facts import LedgerFacts
from transforms.numbering import derive_my_numbers

EVENT_KEY = ("resident_code", "event", "event_date")


@dataclass(frozen=True)
class EventParams:
    """The run a decision is for and the key's derivation material."""

    run_id: str
    derivation_key: bytes | BlockCipher = field(repr=False)


def decide_events(events: pl.DataFrame, facts: LedgerFacts, params: EventParams) -> pl.DataFrame:
    """Each accepted event's action (and reason): events with ``action``, ``reason``, ``is_reused``."""
    classified = classify_events(
        events.select("row", *EVENT_KEY, "my_number"), facts.active, facts.owners, facts.known,
        params.run_id,
    )
    # events the ledger contradicts are held, each row alone, never the whole file
    classified = hold_contradictions(classified, facts.known_codes, facts.history)
    return hold_collisions(classified, facts.foreign, params.derivation_key)


def hold_collisions(classified: pl.DataFrame, foreign: pl.DataFrame,
                    derivation_key: bytes | BlockCipher) -> pl.DataFrame:
    """Hold a birth or first registration whose derived number the ledger or a move-in of this
    file already holds, and that move-in (docs/domain.md#register-input-limits): committing
    either would make the ledger refuse the whole day."""
    issuing = classified.filter((pl.col("action") == "issue") & ~pl.col("is_reused"))
    if issuing.height == 0:
        return classified
    fresh = issuing.select("resident_code").with_columns(
        derive_my_numbers(issuing.get_column("resident_code"), derivation_key, 0).alias("my_number"))
    kept = classified.filter(pl.col("action") == "keep").select("row", "my_number")
    brought_clash = fresh.join(kept, on="my_number", how="inner")
    held_codes = pl.concat([held_by_others(foreign, fresh), brought_clash.get_column("resident_code")]).unique()
    held_rows = brought_clash.get_column("row")
    issue_hit = pl.col("resident_code").is_in(held_codes.implode()) & (pl.col("action") == "issue")
    keep_hit = pl.col("row").is_in(held_rows.implode()) & (pl.col("action") == "keep")
    return classified.with_columns(
        pl.when(issue_hit | keep_hit).then(pl.lit("quarantine")).otherwise(pl.col("action")).alias("action"),
        pl.when(issue_hit).then(pl.lit("my_number: " + COLLISION_HELD))
        .when(keep_hit).then(pl.lit(COLLISION_REASON)).otherwise(pl.col("reason")).alias("reason"),
    )
