"""The clock: read once at the edge (the CLI, a test) and passed down, never asked below.

Why: a run that asks the wall clock in several places can straddle midnight and print two
issue dates (交付日), and code that asks it cannot be tested at a chosen moment. Everything
below the CLI takes a ``Clock`` (or a date resolved from one). Japan time comes from the IANA
database (``zoneinfo``, with the ``tzdata`` package as the fallback where the OS has none),
not from a fixed +9 h offset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

#: Japan Standard Time, the zone every date printed or recorded for a resident is in
JAPAN = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    """Something that tells the time; ``now`` is always timezone-aware UTC."""

    def now(self) -> dt.datetime: ...


@dataclass(frozen=True)
class SystemClock:
    """The machine's clock (what the CLI passes down)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at one moment (tests, and a run that pins its start time)."""

    at: dt.datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("FixedClock needs a timezone-aware moment")

    def now(self) -> dt.datetime:
        return self.at.astimezone(dt.UTC)


def in_japan(moment: dt.datetime) -> dt.datetime:
    """The same moment on Japan's wall clock (refuses naive datetimes: their zone is unknown)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no known zone")
    return moment.astimezone(JAPAN)


def japan_today(clock: Clock) -> dt.date:
    """Today's date in Japan by this clock (the date a run prints and records)."""
    return in_japan(clock.now()).date()
