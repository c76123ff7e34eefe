"""The one formatter each for euros, hours, dates and months, and the one month end and
decision last day (`text.format`, `periods`). Expected texts are written out by hand."""

import datetime as dt

import polars as pl
import pytest

from reconcile import periods
from reconcile.text import format as fmt

D = dt.date


@pytest.mark.parametrize("cents, text", [(0, "0.00"), (-4500, "-45.00"), (5, "0.05"), (-5, "-0.05"),
                                         (12345, "123.45"), (123456789, "1234567.89")])
def test_euros_without_a_language_have_a_point_and_two_decimals(cents, text):
    assert fmt.euros(cents) == text


@pytest.mark.parametrize("cents, lang, text", [
    (123450, "fi", "1\u00a0234,50\u00a0€"), (-5, "sv", "-0,05\u00a0€"), (123450, "en", "€1,234.50"),
    (-123450, "en", "-€1,234.50"), (None, "fi", ""),
])
def test_euros_for_a_person(cents, lang, text):
    assert fmt.euros(cents, lang) == text


def test_euros_of_none_are_empty():
    assert fmt.euros(None) == ""


@pytest.mark.parametrize("h100, lang, text", [
    (400, None, "4.00"), (405, None, "4.05"), (0, None, "0.00"), (None, None, ""),
    (450, "fi", "4,5"), (405, "sv", "4,05"), (800, "fi", "8"), (450, "en", "4.5"),
])
def test_hours(h100, lang, text):
    assert fmt.hours(h100, lang) == text


def test_dates_and_months():
    assert [fmt.date(D(2026, 11, 2)), fmt.date(D(2026, 11, 2), "en"), fmt.date(D(2026, 11, 2), "fi"),
            fmt.date(D(2026, 1, 31), "sv"), fmt.date(None)] == ["2026-11-02", "2026-11-02", "2.11.2026", "31.1.2026", ""]
    assert [fmt.month(D(2026, 11, 30)), fmt.month(D(2027, 1, 1)), fmt.month(None)] == ["2026-11", "2027-01", ""]


@pytest.mark.parametrize("day, end", [(D(2026, 11, 15), D(2026, 11, 30)), (D(2026, 12, 1), D(2026, 12, 31)),
                                      (D(2028, 2, 3), D(2028, 2, 29)), (D(2027, 2, 28), D(2027, 2, 28))])
def test_month_end(day, end):
    assert periods.month_end(day) == end


def test_months():
    assert periods.add_months(D(2026, 11, 15), 2) == D(2027, 1, 1)
    assert periods.add_months(D(2026, 1, 31), -1) == D(2025, 12, 1)
    assert periods.months_between(D(2026, 7, 1), D(2026, 11, 1)) == 4
    assert periods.months_between(D(2025, 12, 31), D(2026, 1, 1)) == 1
    assert periods.parse_month("2026-11") == D(2026, 11, 1)


def test_a_decisions_last_day_is_its_end_or_its_termination_when_earlier():
    assert periods.last_day(D(2027, 2, 28), None) == D(2027, 2, 28)
    assert periods.last_day(D(2027, 2, 28), D(2026, 11, 10)) == D(2026, 11, 10)
    assert periods.last_day(D(2027, 2, 28), D(2027, 3, 10)) == D(2027, 2, 28)
    frame = pl.DataFrame({"end": [D(2027, 2, 28), D(2027, 2, 28), D(2027, 2, 28)],
                          "terminated": [None, D(2026, 11, 10), D(2027, 3, 10)]}, schema_overrides={"terminated": pl.Date})
    assert frame.select(periods.last_day_expr())["end"].to_list() == [D(2027, 2, 28), D(2026, 11, 10), D(2027, 2, 28)]
