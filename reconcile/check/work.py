"""What every check module shares: one submission on its way through the checks, and frame helpers.

`Work` carries an invoice with its rates, its provider's language, the F rule
rejecting it as a whole (if any), its place in the processing order and the
findings the checks add. The column tables say which columns of the reader's
frames the checks use, with their types; `stack` puts the same sheet of every
invoice of a batch into one frame, tagged with the invoice's index `inv`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from reconcile.config import Config, Rates
from reconcile.errors import ConfigError
from reconcile.findings import Finding, Location
from reconcile.model import Invoice
from schemas import SHEETS

CLIENT_COLUMNS: dict[str, pl.DataType] = {
    "row": pl.Int64, "decision_id": pl.Utf8, "hetu": pl.Utf8, "days_claimed": pl.Int64,
    "day_value_cents": pl.Int64, "fee_cents": pl.Int64, "meals": pl.Int64, "meal_comp_days": pl.Int64,
    "travel_cents": pl.Int64, "guidance_individual_h100": pl.Int64, "guidance_group_h100": pl.Int64,
    "kykyviisari_date": pl.Date, "vat_date": pl.Date, "total_cents": pl.Int64, "rejected": pl.Utf8,
}
ATTENDANCE_COLUMNS: dict[str, pl.DataType] = {"row": pl.Int64, "decision_id": pl.Utf8, "rejected": pl.Utf8}
DAY_KEYS: dict[str, pl.DataType] = {
    "row": pl.Int64, "decision_id": pl.Utf8, "hetu": pl.Utf8, "day": pl.Int64, "date": pl.Date, "cell": pl.Utf8, "code": pl.Utf8, "hours_h100": pl.Int64,
    "raw": pl.Utf8,
}
GUIDANCE_COLUMNS: dict[str, pl.DataType] = {"decision_id": pl.Utf8, "hetu": pl.Utf8, "hours_h100": pl.Int64}


@dataclass
class Work:
    """One submission on its way through the checks."""

    index: int
    invoice: Invoice
    rates: Rates
    lang: str
    file_rule: str | None = None  # the F rule rejecting the whole file, if any
    proc: int = -1  # processing order among the invoices that are checked
    findings: list[Finding] = field(default_factory=list)

    @property
    def provider_id(self) -> str | None:
        return self.invoice.header.provider_id

    @property
    def invoice_no(self) -> str | None:
        return self.invoice.header.invoice_no

    @property
    def month(self) -> dt.date | None:
        return self.invoice.header.billing_month

    def header_finding(self, rule: str, field_: str, expected: str, found: str, **params) -> Finding:
        inv = self.invoice
        where = Location(inv.source_file, inv.sheet_names.get("invoice", SHEETS["invoice"][0]), inv.header.cells.get(field_))
        return Finding(rule, where, expected=expected, found=found, params=params,
                       provider_id=self.provider_id, invoice_no=self.invoice_no)

    def where(self, kind: str, field_: str, row: int | None) -> Location:
        """The cell of a column on a table sheet (`Asiakkaat!C5`)."""
        inv = self.invoice
        letter = inv.columns.get(kind, {}).get(field_)
        return self.at(kind, f"{letter}{row}" if letter and row is not None else None)

    def at(self, kind: str, cell: str | None) -> Location:
        inv = self.invoice
        return Location(inv.source_file, inv.sheet_names.get(kind, SHEETS[kind][0]), cell)

    def present(self, kind: str) -> set[str]:
        return set(self.invoice.columns.get(kind, {}))

    def sheet_name(self, kind: str) -> str:
        """The sheet's name as the workbook spells it."""
        return self.invoice.sheet_names.get(kind, SHEETS[kind][0])


def batch_month(batch: str) -> dt.date:
    year, month = batch.split("-")
    return dt.date(int(year), int(month), 1)


def months_between(earlier: dt.date, later: dt.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def rates_for(config: Config, month: dt.date) -> Rates:
    """The month's rates; a month before every rate block takes the earliest block,
    so that a workbook billing an implausible month cannot stop the batch."""
    try:
        return config.rates_for(month)
    except ConfigError:
        return config.rates[0]


def month_end(month: dt.date) -> dt.date:
    return add_months(month, 1) - dt.timedelta(days=1)


def add_months(day: dt.date, n: int) -> dt.date:
    m = day.month - 1 + n
    return day.replace(year=day.year + m // 12, month=m % 12 + 1, day=1)


def hours(h100: int | None) -> str:
    return "" if h100 is None else f"{h100 // 100}.{h100 % 100:02d}"


def ensure(df: pl.DataFrame | None, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """The frame's columns we use, in this order, missing ones as nulls."""
    if df is None:
        return pl.DataFrame(schema=columns)
    return df.select(
        (pl.col(c).cast(t) if c in df.columns else pl.lit(None, dtype=t).alias(c)) for c, t in columns.items()
    )


def stack(frames: list[pl.DataFrame | None], live: list[Work], columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """One frame of the same sheet of every invoice, with `inv`, the invoice's index."""
    frames = [f if f is not None else pl.DataFrame(schema=columns) for f in frames]
    inv = pl.Series("inv", [w.index for w, f in zip(live, frames) for _ in range(f.height)], dtype=pl.Int64)
    stacked = pl.concat([f.select(c for c in columns if c in f.columns) for f in frames], how="diagonal_relaxed")
    return ensure(stacked, columns).with_columns(inv)
