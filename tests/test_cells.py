"""What a Finnish person typed into a cell, read as they meant it (reconcile.cells)."""

import datetime as dt

import pytest
from hypothesis import given, strategies as st
from stdnum.fi import hetu as stdnum_hetu
from stdnum.fi import ytunnus as stdnum_ytunnus

from reconcile.read import cells
from reconcile.read.cells import CellError, Unreadable


@pytest.mark.parametrize("raw, expected", [
    (2.5, 250), (3, 300), ("2,5", 250), ("2.50", 250), (" 2,50 € ", 250), ("1 234,50", 123450),
    ("1\u00a0234,50", 123450), ("1\u2009234,50", 123450), ("1\u202f234,50 €", 123450), ("-45,00", -4500),
    (0.1 + 0.2, 30), ("", None), (None, None), ("  ", None),
])
def test_cents(raw, expected):
    assert cells.cents(raw) == expected


@pytest.mark.parametrize("raw, rule", [
    ("2,505", "V101"), (2.675, "V101"), ("abc", "V101"), ("1.234,50", "V101"), (True, "V101"),
    (dt.date(2026, 1, 1), "V101"), ("#REF!", "V107"), (CellError("#DIV/0!"), "V107"), (" #n/a ", "V107"),
])
def test_cents_unreadable(raw, rule):
    with pytest.raises(Unreadable) as e:
        cells.cents(raw)
    assert e.value.rule == rule


def test_whole_numbers_and_hours():
    assert cells.whole("3") == 3 and cells.whole("3,0") == 3 and cells.whole(3.0) == 3
    with pytest.raises(Unreadable, match="V101"):
        cells.whole("3,5")
    assert cells.hundredths("4,5") == 450 and cells.hundredths(6) == 600
    assert cells.hundredths("3,999") == 399  # cut down, never rounded up to the 4-hour minimum


@pytest.mark.parametrize("raw, expected", [
    (dt.datetime(2026, 11, 3, 14, 30), dt.date(2026, 11, 3)), (dt.date(2026, 11, 3), dt.date(2026, 11, 3)),
    (46329, dt.date(2026, 11, 3)), (46329.75, dt.date(2026, 11, 3)), ("3.11.2026", dt.date(2026, 11, 3)),
    (" 03.11.2026 ", dt.date(2026, 11, 3)), ("2026-11-03", dt.date(2026, 11, 3)), (None, None),
])
def test_dates(raw, expected):
    assert cells.date(raw) == expected


@pytest.mark.parametrize("raw", ["31.11.2026", "3/11/2026", "eilen", "2026-13-01", -5, "#VALUE!"])
def test_dates_unreadable(raw):
    with pytest.raises(Unreadable):
        cells.date(raw)


@pytest.mark.parametrize("raw", ["2026-11", "11/2026", "11.2026", " 11 / 2026 ", dt.date(2026, 11, 17),
                                 "17.11.2026", "2026-11-30", 11.2026, dt.datetime(2026, 11, 1)])
def test_billing_month(raw):
    assert cells.month(raw) == dt.date(2026, 11, 1)


def test_text_and_codes():
    assert cells.text(" Matti\u00a0Virtanen\u200b ") == "Matti Virtanen"
    assert cells.text(1001.0) == "1001"
    assert cells.code(" Tuottaja\u00a0") == "tuottaja"
    assert cells.ytunnus(" 1234561-2 ") == "1234561-2"
    with pytest.raises(Unreadable, match="V101"):
        cells.ytunnus("1234561-3")
    with pytest.raises(Unreadable, match="V104"):
        cells.hetu("131052-308X")
    assert cells.hetu("131052-308t") == "131052-308T"


# -- round trips: what a person types parses to what they meant -------------------

finnish_amounts = st.integers(min_value=0, max_value=10**9)


def finnish_text(cents: int, sep: str, comma: bool, euro: bool) -> str:
    euros, rest = divmod(cents, 100)
    digits = f"{euros:,}".replace(",", sep)
    text = f"{digits}{',' if comma else '.'}{rest:02d}"
    return f" {text} €" if euro else text


@given(finnish_amounts, st.sampled_from([" ", "\u00a0", "\u2009", "\u202f", ""]), st.booleans(), st.booleans())
def test_finnish_number_text_round_trip(cents, sep, comma, euro):
    assert cells.cents(finnish_text(cents, sep, comma, euro)) == cents


@given(st.integers(min_value=0, max_value=2400), st.booleans())
def test_hours_text_round_trip(h100, comma):
    text = f"{h100 // 100}{',' if comma else '.'}{h100 % 100:02d}"
    assert cells.hundredths(text) == h100


@given(st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(9999, 12, 31)), st.booleans())
def test_date_text_and_serial_round_trip(day, pad):
    dmy = f"{day.day:02d}.{day.month:02d}.{day.year}" if pad else f"{day.day}.{day.month}.{day.year}"
    assert cells.date(dmy) == day
    assert cells.date(day.isoformat()) == day
    assert cells.date((day - dt.date(1899, 12, 30)).days) == day
    assert cells.month(f"{day.month}/{day.year}") == day.replace(day=1)


CENTURY = "+-YXWVUABCDEF"
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


@given(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2099, 12, 31)), st.sampled_from(CENTURY),
       st.integers(min_value=0, max_value=999), st.sampled_from(CHECK + "GZ"), st.booleans())
def test_hetu_agrees_with_stdnum(day, sign, number, check, correct):
    century = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}[sign]
    yy = day.year - century
    yy = yy if 0 <= yy < 100 else day.year % 100
    body = f"{day.day:02d}{day.month:02d}{yy:02d}"
    if correct:
        check = CHECK[int(f"{body}{number:03d}") % 31]
    value = f"{body}{sign}{number:03d}{check}"
    valid = stdnum_hetu.is_valid(value, allow_temporary=True)
    if valid:
        assert cells.hetu(value.lower()) == value
    else:
        with pytest.raises(Unreadable, match="V104"):
            cells.hetu(value)


@given(st.integers(min_value=0, max_value=9999999), st.integers(min_value=0, max_value=9))
def test_ytunnus_agrees_with_stdnum(number, check):
    value = f"{number:07d}-{check}"
    if stdnum_ytunnus.is_valid(value):
        assert cells.ytunnus(value) == value
    else:
        with pytest.raises(Unreadable):
            cells.ytunnus(value)
