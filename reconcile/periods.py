"""Months and decision periods: the one month end, and the one last day of a decision.

A decision runs from its start to its last day: its end, or the day it was
terminated when that is earlier (`last_day`, and `last_day_expr` on a frame).
"""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of the date's month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, n: int) -> dt.date:
    """The first day of the month n months after the date's (n may be negative)."""
    m = day.month - 1 + n
    return day.replace(year=day.year + m // 12, month=m % 12 + 1, day=1)


def months_between(earlier: dt.date, later: dt.date) -> int:
    """Calendar months from one date's month to the other's: 2026-07 to 2026-11 is 4."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def parse_month(batch: str) -> dt.date:
    """`2026-11` as its first day."""
    year, month = batch.split("-")
    return dt.date(int(year), int(month), 1)


def last_day(end: dt.date, terminated: dt.date | None) -> dt.date:
    """A decision's last day: min(end, terminated), the end when it was not terminated."""
    return end if terminated is None else min(end, terminated)


def last_day_expr(end: str = "end", terminated: str = "terminated") -> pl.Expr:
    """`last_day` on a frame's columns (a null termination is ignored)."""
    return pl.min_horizontal(end, terminated)
