"""The one formatter each for euros, hours, dates and months.

Without a language a value is written the machine's way, as findings.csv,
approval.csv, a finding's `expected`/`found` and the template's formulas
carry it: `-45.00`, `4.00`, `2026-11-02`, `2026-11`. With a language it is
written for a person in that language: `1 234,50 €` / `€1,234.50`, `4,5` /
`4.5`, `2.11.2026` / `2026-11-02`.
"""

from __future__ import annotations

import datetime as dt


def euros(cents: int | None, lang: str | None = None) -> str:
    """Integer cents as euros: `-45.00` without a language; `-1 234,50 €` (fi, sv) or
    `-€1,234.50` (en) with one; empty for None."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    if lang is None:
        return f"{sign}{whole}.{frac:02d}"
    if lang == "en":
        return f"{sign}€{whole:,}.{frac:02d}"
    grouped = f"{whole:,}".replace(",", "\u00a0")
    return f"{sign}{grouped},{frac:02d}\u00a0€"


def hours(h100: int | None, lang: str | None = None) -> str:
    """Hundredths of an hour as hours: `4.50` without a language; `4,5` (fi, sv) or
    `4.5` (en) with one; empty for None."""
    if h100 is None:
        return ""
    if lang is None:
        return f"{h100 // 100}.{h100 % 100:02d}"
    text = f"{h100 / 100:.2f}".rstrip("0").rstrip(".") if h100 % 100 else str(h100 // 100)
    return text if lang == "en" else text.replace(".", ",")


def date(d: dt.date | None, lang: str | None = None) -> str:
    """`2026-11-02` without a language or in English; `2.11.2026` in Finnish and Swedish."""
    if d is None:
        return ""
    return d.isoformat() if lang in (None, "en") else f"{d.day}.{d.month}.{d.year}"


def month(d: dt.date | None) -> str:
    """The month of a date: `2026-11`; empty for None."""
    return "" if d is None else f"{d:%Y-%m}"
