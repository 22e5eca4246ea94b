"""core.clock: Japan time from the IANA zone, fixed clocks refuse naive moments."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import JAPAN, FixedClock, SystemClock, in_japan, japan_today


def test_japan_date_turns_at_15_utc():
    before = FixedClock(dt.datetime(2026, 12, 7, 14, 59, 59, tzinfo=dt.UTC))
    after = FixedClock(dt.datetime(2026, 12, 7, 15, 0, 0, tzinfo=dt.UTC))
    assert japan_today(before) == dt.date(2026, 12, 7)
    assert japan_today(after) == dt.date(2026, 12, 8)


def test_fixed_clock_refuses_a_naive_moment():
    with pytest.raises(ValueError):
        FixedClock(dt.datetime(2026, 12, 7, 9, 0))
    with pytest.raises(ValueError):
        in_japan(dt.datetime(2026, 12, 7, 9, 0))


def test_system_clock_is_aware_utc():
    now = SystemClock().now()
    assert now.utcoffset() == dt.timedelta(0)


@given(st.datetimes(min_value=dt.datetime(1952, 1, 1), max_value=dt.datetime(2100, 1, 1),
                    timezones=st.just(dt.UTC)))
def test_japan_is_nine_hours_ahead_since_1952(moment):
    # Japan has kept UTC+9 without daylight saving since 1951 (the zone database's record)
    assert in_japan(moment).utcoffset() == dt.timedelta(hours=9)
    assert in_japan(moment).tzinfo is JAPAN
