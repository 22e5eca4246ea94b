"""The mail room's calendar: Japanese days, whole months (the retention period is in months)."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta

from core.clock import JAPAN, Clock, japan_today


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the month's end (31 Mar - 1 month = 28/29 Feb)."""
    moved: dt.date = day + relativedelta(months=months)
    return moved


def held_since_before(clock: Clock, months: int) -> dt.datetime:
    """The moment (UTC) before which a card held now has been held over ``months`` months:
    midnight of that day in Japan, where the retention period is counted."""
    return japan_midnight(add_months(japan_today(clock), -months))


def japan_midnight(day: dt.date) -> dt.datetime:
    """The moment (UTC) a Japanese calendar day begins: dates typed by the mail room are JST."""
    return dt.datetime.combine(day, dt.time(), JAPAN).astimezone(dt.UTC)
