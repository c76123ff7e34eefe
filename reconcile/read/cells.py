"""Stage 1b of reading: one cell's raw value into what a Finnish person meant.

`sheets` hands over raw values (str, int, float, bool, datetime, or a
`CellError` for an error value); the functions here turn one of them into
text, a code, a henkilötunnus, a Y-tunnus, a date, a billing month, integer
cents, integer hundredths of an hour or a whole number. Empty input gives
None. A value that cannot be read raises `Unreadable` carrying the rule code
(V101 cannot be read, V104 bad henkilötunnus, V107 error value) and the
expected type; `invoice` and `registers` turn it into a finding at its cell.

The quick readers (`QUICK`, `quick_normal_hetu`) read the plain values that
fill most cells (ASCII or printable text, floats with at most two decimals,
real dates, `12,50`, `3.11.2026`) in a test or two, and answer `SLOW` for
anything else, which the caller then reads with the full reader above; they
never answer differently from it (tests/test_reading_speedpaths.py).

Decisions where the contract is silent:
- money: more than two decimals in euros is V101, never rounded; a real
  number is first taken at Excel's 15 significant digits, so a cached formula
  result like 0.30000000000000004 reads as 0.30;
- hours: more than two decimals are cut down (4,333 h -> 4.33 h), never
  rounded up, so a day never reaches the 4-hour minimum by rounding;
- thousands separators are spaces only (normal, no-break, thin, narrow
  no-break, figure space); text with both `.` and `,` is V101;
- a text cell spelling an error value (`#REF!`) is read as that error value;
- a time of day after a text date (`3.11.2026 8:15`, `2026-11-03T08:15`) is
  ignored, as on a real date;
- non-breaking spaces inside text become ordinary spaces (a name keeps its
  word break); zero-width characters are removed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from stdnum.exceptions import ValidationError
from stdnum.fi import hetu as _hetu
from stdnum.fi import ytunnus as _ytunnus

ERROR_VALUES = frozenset(("#REF!", "#N/A", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!"))
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u2009\u202f\u2002\u2003\u2004\u2005\u2006\u2008\u200a"), " ")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug included)
MAX_SERIAL = 2958465  # 9999-12-31

_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")
_TIME = r"(?:[ T]\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:[.,]\d+)?)?)?"  # a time of day after a date: ignored
_DMY = re.compile(r"(\d{1,2})\. ?(\d{1,2})\. ?(\d{4})\.?" + _TIME)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME)
_MONTH = re.compile(r"(?:(\d{4})-(\d{1,2})|(\d{1,2})[/.](\d{4}))")


@dataclass(frozen=True, slots=True)
class CellError:
    """An error value in a cell (`#REF!`), as opposed to text."""

    code: str

    def __str__(self) -> str:
        return self.code


class Unreadable(Exception):
    """A value that cannot be read as its kind: `rule` is V101, V104 or V107."""

    def __init__(self, rule: str, expected: str, found: Any):
        super().__init__(f"{rule}: expected {expected}, found {found!r}")
        self.rule = rule
        self.expected = expected
        self.found = typed(found)


def shown(raw: Any) -> str:
    """A raw value as canonical text (ISO dates, a point for decimals); `typed` is what a person sees."""
    if raw is None:
        return ""
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat(sep=" ")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, float):
        return format(raw, ".15g")
    return str(raw)


def typed(raw: Any) -> str:
    """A raw value as the provider sees it in a Finnish spreadsheet, for `found` in a finding.

    `4,5` (decimal comma), `3.11.2026`, `3.11.2026 8:15`, `4:30`, `#REF!`; text as typed.
    """
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float):
        return format(raw, ".15g").replace(".", ",")
    if isinstance(raw, dt.datetime):
        day = f"{raw.day}.{raw.month}.{raw.year}"
        return day if raw.time() == dt.time() else f"{day} {raw.hour}:{raw.minute:02d}"
    if isinstance(raw, dt.date):
        return f"{raw.day}.{raw.month}.{raw.year}"
    if isinstance(raw, dt.time):
        return f"{raw.hour}:{raw.minute:02d}"
    if isinstance(raw, dt.timedelta):
        minutes = int(raw.total_seconds()) // 60
        return f"{minutes // 60}:{minutes % 60:02d}"
    return str(raw)


def clean(s: str) -> str:
    """Zero-width characters removed, unusual spaces made ordinary, trimmed."""
    return s.translate(ZERO_WIDTH).translate(SPACES).strip()


def _error(raw: Any) -> CellError | None:
    if isinstance(raw, CellError):
        return raw
    if isinstance(raw, str):
        s = clean(raw).upper()
        if s in ERROR_VALUES:
            return CellError(s)
    return None


def is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if raw.__class__ is str and raw.isascii():
        return not raw.strip()  # cleaning ASCII text is only trimming
    return isinstance(raw, str) and (raw == "" or clean(raw) == "")


def _check_error(raw: Any, expected: str) -> None:
    if _error(raw) is not None:
        raise Unreadable("V107", expected, raw)


def text(raw: Any) -> str | None:
    """Text as typed; a number becomes its shortest form (`1001`, not `1001.0`)."""
    if raw.__class__ is str and raw.isascii() and "#" not in raw and "  " not in raw:
        return raw.strip() or None  # the common case: nothing to clean, no error spelling (they start with #)
    _check_error(raw, "text")
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    s = clean(shown(raw))
    s = re.sub(r" {2,}", " ", s)
    return s or None


def code(raw: Any) -> str | None:
    """A code (`X`, `tuottaja`, `kyllä`): trimmed and case-folded."""
    s = text(raw)
    return s.casefold() if s is not None else None


def decimal(raw: Any, expected: str = "number") -> Decimal | None:
    """A number as typed: real, or text with decimal comma or point and space thousands."""
    _check_error(raw, expected)
    if raw is None:
        return None
    if isinstance(raw, bool) or isinstance(raw, (dt.date, dt.time, dt.timedelta)):
        raise Unreadable("V101", expected, raw)
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise Unreadable("V101", expected, raw)
        return Decimal(format(raw, ".15g"))
    s = clean(str(raw)).replace("\u2212", "-").replace("€", "")
    s = re.sub(r"(?i)\beur\b", "", s)
    s = s.replace(" ", "")
    if not s:
        return None
    if not _NUMBER.fullmatch(s) or ("," in s and "." in s):
        raise Unreadable("V101", expected, raw)
    return Decimal(s.replace(",", "."))  # the pattern admits only what Decimal reads


def cents(raw: Any) -> int | None:
    """Euros to integer cents; more than two decimals is V101 (money is never rounded)."""
    d = decimal(raw, "euros with at most two decimals")
    if d is None:
        return None
    c = d * 100
    if c != c.to_integral_value():
        raise Unreadable("V101", "euros with at most two decimals", raw)
    return int(c)


def hundredths(raw: Any) -> int | None:
    """Hours to integer hundredths of an hour, further decimals cut off (never rounded up)."""
    d = decimal(raw, "hours")
    if d is None:
        return None
    return int((d * 100).quantize(Decimal(1), rounding=ROUND_DOWN))


def whole(raw: Any) -> int | None:
    """A whole number: `3` and `3,0` are 3, `3,5` is V101."""
    d = decimal(raw, "whole number")
    if d is None:
        return None
    if d != d.to_integral_value():
        raise Unreadable("V101", "whole number", raw)
    return int(d)


def _make_date(y: int, m: int, d: int, raw: Any, expected: str) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise Unreadable("V101", expected, raw) from None


def _serial(raw: Any, expected: str) -> dt.date:
    d = decimal(raw, expected)
    if d is None or not 1 <= d <= MAX_SERIAL:
        raise Unreadable("V101", expected, raw)
    return EXCEL_EPOCH + dt.timedelta(days=int(d))  # a fraction is the time of day: ignored


def date(raw: Any) -> dt.date | None:
    """A real date (time of day ignored), an Excel serial number, or text d.m.yyyy / yyyy-mm-dd."""
    expected = "date (d.m.yyyy)"
    _check_error(raw, expected)
    if is_empty(raw):
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _serial(raw, expected)
    if isinstance(raw, str):
        s = re.sub(r" +", " ", clean(raw))
        if m := _DMY.fullmatch(s):
            return _make_date(int(m[3]), int(m[2]), int(m[1]), raw, expected)
        if m := _ISO.fullmatch(s):
            return _make_date(int(m[1]), int(m[2]), int(m[3]), raw, expected)
    raise Unreadable("V101", expected, raw)


def month(raw: Any) -> dt.date | None:
    """A billing month: `2026-11`, `11/2026`, `11.2026` or any date inside it -> its first day."""
    expected = "billing month (yyyy-mm)"
    _check_error(raw, expected)
    if is_empty(raw):
        return None
    if isinstance(raw, float) and 1 <= raw < 13 and not raw.is_integer():
        raw = f"{raw:.4f}"  # 11.2026 typed into a number cell; 11.2030 is stored as 11.203
    if isinstance(raw, str):
        s = clean(raw).replace(" ", "")
        if m := _MONTH.fullmatch(s):
            y, mo = (int(m[1]), int(m[2])) if m[1] else (int(m[4]), int(m[3]))
            return _make_date(y, mo, 1, raw, expected)
    try:
        d = date(raw)
    except Unreadable:
        raise Unreadable("V101", expected, raw) from None
    return d.replace(day=1) if d else None


def hetu(raw: Any) -> str | None:
    """A henkilötunnus, upper-case and compact; V104 when its format or check character fails.

    Temporary numbers (900-999) and every century sign of 2023 are valid.
    """
    s = text(raw)
    if s is None:
        return None
    value = normal_hetu(s)
    if not valid_hetu(value):
        raise Unreadable("V104", "henkilötunnus", raw)
    return value


def normal_hetu(s: str) -> str:
    return _hetu.compact(clean(s).replace(" ", ""))


def valid_hetu(s: str) -> bool:
    return _hetu.is_valid(s, allow_temporary=True)


def ytunnus(raw: Any) -> str | None:
    """A Y-tunnus normalised as `1234567-8`; V101 when its format or check digit fails."""
    s = text(raw)
    if s is None:
        return None
    try:
        return _ytunnus.format(_ytunnus.validate(clean(s).replace(" ", "")))
    except ValidationError:
        raise Unreadable("V101", "Y-tunnus (1234567-8)", raw) from None


# -- quick readers ------------------------------------------------------------
#
# Most cells hold a plain value: ASCII text, a number Excel stored as a float,
# a real date. A quick reader reads such a value with a test or two, where it
# can prove the answer equals the full reader's, and returns SLOW for anything
# else; the caller then reads that cell with `read` (and gets its finding).
# A float x below 10^13 is taken as c hundredths, c = round(x * 100), only
# when c / 100 == x: then x is the double nearest the decimal c/100, which has
# at most 15 significant digits, so format(x, ".15g") spells exactly c/100 and
# `decimal` reads what the quick reader computes. Everything else is SLOW.

SLOW = object()  # a quick reader's answer for a value only the full reader can read
_PLAIN_NUMBER = re.compile(r"(-?)([0-9]{1,12})(?:[.,]([0-9]{1,2}))?")  # what `decimal` reads as sign, units, cents
_PLAIN_DMY = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")


def quick_text(raw: Any) -> Any:
    """`text` for None, whole numbers and plain text; else SLOW.

    Plain text is ASCII (as `text`'s own fast case) or printable: a printable
    string holds no zero-width character, no unusual space and no white space
    but ` `, so cleaning it is only trimming.
    """
    if raw is None:
        return None
    cls = raw.__class__
    if cls is str:
        plain = (raw.isascii() or raw.isprintable()) and "#" not in raw and "  " not in raw
        return (raw.strip() or None) if plain else SLOW
    if cls is float and raw.is_integer():
        return str(int(raw))
    return str(raw) if cls is int else SLOW


def quick_code(raw: Any) -> Any:
    s = quick_text(raw)
    return s.casefold() if s.__class__ is str else s


def quick_normal_hetu(raw: Any) -> Any:
    """`normal_hetu(text(raw))` for a henkilötunnus of ASCII letters, digits, `-` and `+`; else SLOW."""
    s = quick_text(raw)
    if s.__class__ is str:
        return s.upper() if s.isascii() and s.replace("-", "").replace("+", "").isalnum() else SLOW
    return s


def _quick_hundredths_of(raw: Any) -> Any:
    """100 x raw for an int, a float with at most two decimals or text like `-12,50`; else SLOW."""
    cls = raw.__class__
    if cls is float:
        if -1e13 < raw < 1e13:
            c = round(raw * 100)
            if c / 100 == raw:
                return c
        return SLOW
    if cls is str:
        m = _PLAIN_NUMBER.fullmatch(raw)
        if m is None:
            return SLOW
        c = int(m[2]) * 100 + int((m[3] or "0").ljust(2, "0"))
        return -c if m[1] else c
    return raw * 100 if cls is int else SLOW


def quick_cents(raw: Any) -> Any:
    return None if raw is None else _quick_hundredths_of(raw)


quick_hundredths = quick_cents  # hours: an exact value needs no cutting down


def quick_whole(raw: Any) -> Any:
    if raw is None:
        return None
    cls = raw.__class__
    if cls is float:
        return int(raw) if raw.is_integer() and -1e15 < raw < 1e15 else SLOW
    return raw if cls is int else SLOW


def quick_date(raw: Any) -> Any:
    """`date` for a real date and text `d.m.yyyy` naming a day of the calendar; else SLOW."""
    if raw is None:
        return None
    cls = raw.__class__
    if cls is dt.datetime:
        return raw.date()
    if cls is dt.date:
        return raw
    if cls is str and (m := _PLAIN_DMY.fullmatch(raw)):
        try:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        except ValueError:
            return SLOW
    return SLOW


QUICK = {
    "text": quick_text,
    "code": quick_code,
    "date": quick_date,
    "int": quick_whole,
    "euros": quick_cents,
    "hours": quick_hundredths,
}

READERS = {
    "text": text,
    "code": code,
    "hetu": hetu,
    "ytunnus": ytunnus,
    "date": date,
    "month": month,
    "int": whole,
    "euros": cents,
    "hours": hundredths,
}


def read(kind: str, raw: Any) -> Any:
    """Read a raw value as one of the kinds of `schemas.spec.KINDS`."""
    return READERS[kind](raw)
