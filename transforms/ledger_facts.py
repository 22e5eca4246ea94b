"""What the ledger knows that a run's decisions need, read once before deciding.

The stages read these frames from the ledger (``pipeline.stages.issue.read_facts``,
``pipeline.stages.apply_events.read_facts``); the decisions in ``transforms`` take them as
plain frames, so that they are pure (polars in, polars out) and testable without a ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

ACTIVE_SCHEMA = pl.Schema({"resident_code": pl.Utf8, "run_id": pl.Utf8, "generation": pl.Int64})
OWNERS_SCHEMA = pl.Schema({"my_number": pl.Utf8, "resident_code": pl.Utf8, "status": pl.Utf8})
FOREIGN_SCHEMA = pl.Schema({"my_number": pl.Utf8, "resident_code": pl.Utf8})
EVENT_SCHEMA = pl.Schema({"resident_code": pl.Utf8, "event": pl.Utf8, "event_date": pl.Date})


def _empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@dataclass(frozen=True)
class LedgerFacts:
    """The ledger's answers for the residents and numbers of one input file.

    ``active``: resident_code, run_id, generation of each concerned resident's active number;
    ``owners``: my_number, resident_code, status of the ledger rows holding a brought number;
    ``foreign``: my_number, resident_code of every number the run's key did not derive at
    generation 0 (only those can equal a number it derives now: ``held_by_others``);
    ``known``: the (resident_code, event, event_date) already recorded (daily only);
    ``known_codes`` and ``history``: residents that hold or held a number, and every event
    recorded for them (daily only: ``transforms.daily.hold_contradictions``).
    """

    active: pl.DataFrame = field(default_factory=lambda: _empty(ACTIVE_SCHEMA))
    owners: pl.DataFrame = field(default_factory=lambda: _empty(OWNERS_SCHEMA))
    foreign: pl.DataFrame = field(default_factory=lambda: _empty(FOREIGN_SCHEMA))
    known: pl.DataFrame = field(default_factory=lambda: _empty(EVENT_SCHEMA))
    known_codes: pl.Series = field(default_factory=lambda: pl.Series("resident_code", [], dtype=pl.Utf8))
    history: pl.DataFrame = field(default_factory=lambda: _empty(EVENT_SCHEMA))
