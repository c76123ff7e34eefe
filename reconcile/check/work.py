"""What every check module shares: one submission on its way through the checks, and frame helpers.

`Work` carries an invoice with its rates, its provider's language, the F rule
rejecting it as a whole (if any), its place in the processing order and the
findings the checks add. The column tables say which columns of the reader's
frames the checks use, with the types `schemas` and `model` declare; `stack` puts the same sheet of every
invoice of a batch into one frame, tagged with the invoice's index `inv`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from reconcile.config import Config, Rates
from reconcile.errors import ConfigError
from reconcile.findings import Finding, Location
from reconcile.model import DAY_COLUMNS, Invoice
from schemas import SHEETS, dtypes
from schemas.invoice import AttendanceKeys, Clients, GuidanceLog

# The columns of the reader's frames the checks use, typed as `schemas` declares them;
# `rejected` is the reader's own column (the V rule rejecting the row, else null).
REJECTED: dict[str, pl.DataType] = {"rejected": pl.Utf8}
CLIENT_COLUMNS: dict[str, pl.DataType] = {
    **dtypes(Clients, "row", "decision_id", "hetu", "days_claimed", "day_value_cents", "fee_cents", "meals",
             "meal_comp_days", "travel_cents", "guidance_individual_h100", "guidance_group_h100",
             "kykyviisari_date", "vat_date", "total_cents"),
    **REJECTED,
}
ATTENDANCE_COLUMNS: dict[str, pl.DataType] = {**dtypes(AttendanceKeys, "row", "decision_id"), **REJECTED}
GUIDANCE_COLUMNS: dict[str, pl.DataType] = dtypes(GuidanceLog, "decision_id", "hetu", "hours_h100")
__all__ = ["ATTENDANCE_COLUMNS", "CLIENT_COLUMNS", "DAY_COLUMNS", "GUIDANCE_COLUMNS", "Work", "ensure", "rates_for",
           "stack"]


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


def rates_for(config: Config, month: dt.date) -> Rates:
    """The month's rates; a month before every rate block takes the earliest block,
    so that a workbook billing an implausible month cannot stop the batch."""
    try:
        return config.rates_for(month)
    except ConfigError:
        return config.rates[0]


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
