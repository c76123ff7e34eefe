"""The data that passes between the stages, declared in one place.

    intake  -> Submission            (a file of the batch, with its hash)
    invoice -> Invoice               (validated frames + cell findings)
    registers -> Registers           (validated decision and provider frames)
    check   -> InvoiceResult         (money, findings, and the F rule rejecting it as a whole)
    batch   -> BatchResult           (flattens into findings.csv, approval.csv, manifest)

Frames use the normalised column names of the `schemas` models. Money is
integer cents (`*_cents`), hours are integer hundredths of an hour (`*_h100`),
`row` is the spreadsheet row number the provider sees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from reconcile.findings import Finding

ITEMS = ("fee", "meals", "meal_comp", "travel")  # the claim's items, in this order
STATUSES = ("approved", "partly_approved", "held", "rejected", "duplicate")

# Läsnäolo day cells that claim attendance, one row each (`Invoice.days`).
DAY_COLUMNS = {
    "row": pl.Int64,  # spreadsheet row on Läsnäolo
    "decision_id": pl.Utf8,
    "hetu": pl.Utf8,
    "day": pl.Int64,  # the header's day number (1..31), null when the header is not a day
    "date": pl.Date,  # null when the column is not a day of the billed month (R222)
    "cell": pl.Utf8,  # e.g. "K7"
    "code": pl.Utf8,  # "X" (planned hours), "H" (hours given), "?" (not a contract code: V105)
    "hours_h100": pl.Int64,  # hours typed in the cell, null for X and ?
    "raw": pl.Utf8,  # the cell's text as typed, for messages
}


@dataclass
class Submission:
    """One regular file of a batch folder."""

    path: Path
    source_file: str  # the file's name as received, without folders
    sha256: str
    size: int


@dataclass
class InvoiceHeader:
    provider_id: str | None = None
    provider_name: str | None = None
    invoice_no: str | None = None
    billing_month: dt.date | None = None  # first day of the billed month
    invoice_date: dt.date | None = None
    total_cents: int | None = None
    cells: dict[str, str] = field(default_factory=dict)  # field -> "B4" on the Lasku sheet


@dataclass
class Invoice:
    """A provider workbook as read: frames, where its columns are, and findings F001-F005, V1xx.

    `fatal` is true when a file-level finding rejects the whole workbook; the
    frames may then be empty or partial (kept for the claimed amount).
    """

    submission: Submission
    header: InvoiceHeader = field(default_factory=InvoiceHeader)
    clients: pl.DataFrame | None = None  # schemas.invoice.Clients + `rejected` (Utf8: V rule code rejecting the row, else null)
    attendance: pl.DataFrame | None = None  # one row per Läsnäolo row: row, decision_id, hetu, rejected
    days: pl.DataFrame | None = None  # DAY_COLUMNS, cells claiming attendance on Läsnäolo rows
    guidance: pl.DataFrame | None = None  # schemas.invoice.GuidanceLog, or None without an Ohjaus sheet
    sheet_names: dict[str, str] = field(default_factory=dict)  # kind -> actual sheet name
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> field -> column letter
    header_rows: dict[str, int] = field(default_factory=dict)  # kind -> spreadsheet row of the header
    findings: list[Finding] = field(default_factory=list)
    fatal: bool = False

    @property
    def source_file(self) -> str:
        return self.submission.source_file


@dataclass
class Registers:
    decisions: pl.DataFrame  # schemas.registers.Decisions
    providers: pl.DataFrame  # schemas.registers.Providers
    sources: dict[str, Submission] = field(default_factory=dict)  # "decisions"/"providers" -> file


@dataclass
class History:
    """What the ledger knows from *earlier* batches (never the batch being run).

    paid_days: hetu, date, decision_id, provider_id, invoice_no, batch, signed_off (bool)
        days recorded as paid (approved); R217 and the R205 week count.
    held_days: the same columns, days recorded as held and not yet answered by finance
        (R216 across batches).
    invoices: provider_id, invoice_no, batch, billing_month, status, signed_off
        invoices processed (not rejected by an F rule other than F007); F007.
    assessments: decision_id, kind ("kykyviisari" / "vat"), date; R219.
    """

    paid_days: pl.DataFrame
    held_days: pl.DataFrame
    invoices: pl.DataFrame
    assessments: pl.DataFrame

    @classmethod
    def empty(cls) -> "History":
        days = {"hetu": pl.Utf8, "date": pl.Date, "decision_id": pl.Utf8, "provider_id": pl.Utf8,
                "invoice_no": pl.Utf8, "batch": pl.Utf8, "signed_off": pl.Boolean}
        return cls(
            paid_days=pl.DataFrame(schema=days),
            held_days=pl.DataFrame(schema=days),
            invoices=pl.DataFrame(schema={"provider_id": pl.Utf8, "invoice_no": pl.Utf8, "batch": pl.Utf8,
                                          "billing_month": pl.Date, "status": pl.Utf8, "signed_off": pl.Boolean}),
            assessments=pl.DataFrame(schema={"decision_id": pl.Utf8, "kind": pl.Utf8, "date": pl.Date}),
        )


@dataclass
class TrendRecord:
    """What the ledger keeps for the trends report (`reconcile.report`), for a span of batches.

    batches: batch, trends (bool: recorded with trend_rows; false for a batch recorded
        before the ledger kept them)
    invoices: batch, provider_id, invoice_no, approved_cents (processed invoices)
    rows: batch, provider_id, invoice_no, row, decision_id, hetu, days_paid, days_held,
        days_rejected, guidance (one per Asiakkaat row, `reconcile.report.rows`)
    days: batch, provider_id, state ("paid"/"held"), n: the days table, counted
    assessments: decision_id, batch, date: every assessment on record up to the last batch
    resolutions: batch, provider_id, resolution ("pay"/"reject"), n: held days finance resolved
    """

    batches: pl.DataFrame
    invoices: pl.DataFrame
    rows: pl.DataFrame
    days: pl.DataFrame
    assessments: pl.DataFrame
    resolutions: pl.DataFrame

    SCHEMAS = {
        "batches": {"batch": pl.Utf8, "trends": pl.Boolean},
        "invoices": {"batch": pl.Utf8, "provider_id": pl.Utf8, "invoice_no": pl.Utf8, "approved_cents": pl.Int64},
        "rows": {"batch": pl.Utf8, "provider_id": pl.Utf8, "invoice_no": pl.Utf8, "row": pl.Int64,
                 "decision_id": pl.Utf8, "hetu": pl.Utf8, "days_paid": pl.Int64, "days_held": pl.Int64,
                 "days_rejected": pl.Int64, "guidance": pl.Utf8},
        "days": {"batch": pl.Utf8, "provider_id": pl.Utf8, "state": pl.Utf8, "n": pl.Int64},
        "assessments": {"decision_id": pl.Utf8, "batch": pl.Utf8, "date": pl.Date},
        "resolutions": {"batch": pl.Utf8, "provider_id": pl.Utf8, "resolution": pl.Utf8, "n": pl.Int64},
    }

    @classmethod
    def from_rows(cls, batches: list, invoices: list, rows: list, days: list, assessments: list,
                  resolutions: list = ()) -> "TrendRecord":
        """From plain rows in the order of SCHEMAS (dates as ISO text or dates)."""
        frames = {}
        for name, data in (("batches", batches), ("invoices", invoices), ("rows", rows), ("days", days),
                           ("assessments", assessments), ("resolutions", resolutions)):
            schema = dict(cls.SCHEMAS[name])
            dates = [c for c, t in schema.items() if t == pl.Date]
            if data and dates and isinstance(data[0][list(schema).index(dates[0])], str):
                schema.update({c: pl.Utf8 for c in dates})
            frame = pl.DataFrame([tuple(r) for r in data], schema=schema, orient="row")
            frames[name] = frame.with_columns(pl.col(c).cast(pl.Utf8).str.to_date("%Y-%m-%d") for c in dates
                                              if frame.schema[c] == pl.Utf8)
        return cls(**frames)


@dataclass
class Money:
    claimed: int = 0
    approved: int = 0
    held: int = 0
    rejected: int = 0

    def __add__(self, other: "Money") -> "Money":
        return Money(
            self.claimed + other.claimed,
            self.approved + other.approved,
            self.held + other.held,
            self.rejected + other.rejected,
        )

    def balanced(self) -> bool:
        return self.approved + self.held + self.rejected == self.claimed


@dataclass
class InvoiceResult:
    """What the batch decided about one submission."""

    invoice: Invoice
    provider_id: str | None
    invoice_no: str | None
    billing_month: dt.date | None
    lang: str = "fi"  # the provider's report language
    status: str = "rejected"
    items: dict[str, Money] = field(default_factory=lambda: {i: Money() for i in ITEMS})
    # One row per Asiakkaat row: row, decision_id, and for each item i:
    # {i}_claimed, {i}_approved, {i}_held, {i}_rejected (cents); status
    # ("approved", "adjusted", "held", "rejected"); whole ("reject" / "hold" when
    # a row-level finding decides the whole row, else null); days_paid, days_held.
    rows: pl.DataFrame | None = None
    # One row per day cell claiming attendance: row (the Asiakkaat row owning it, null
    # when none does), decision_id, hetu, date, cell, outcome ("paid", "held",
    # "rejected"), rule (the deciding code or null).
    day_outcomes: pl.DataFrame | None = None
    findings: list[Finding] = field(default_factory=list)  # all of this submission's findings
    # The F rule rejecting the submission as a whole (F007: a duplicate), None when it was checked.
    # The checks decide it; a result built without it takes it from its findings (`rejecting_rule`).
    rejected_by: str | None = None

    def __post_init__(self) -> None:
        if self.rejected_by is None:
            self.rejected_by = rejecting_rule(self.invoice, self.findings)

    @property
    def rejected_as_whole(self) -> bool:
        """Rejected by an F rule (F007 included): not processed, never recorded, never annotated."""
        return self.rejected_by is not None

    @property
    def source_file(self) -> str:
        return self.invoice.source_file

    @property
    def total(self) -> Money:
        out = Money()
        for m in self.items.values():
            out = out + m
        return out


def rejecting_rule(invoice: Invoice, findings: list[Finding]) -> str | None:
    """The F rule rejecting a submission as a whole: the first F finding among `findings`, F001
    for a workbook the reader gave up on without one; None when nothing rejects it as a whole."""
    rule = next((f.rule for f in findings if f.rule.startswith("F")), None)
    return rule or ("F001" if invoice.fatal else None)


@dataclass
class BatchResult:
    batch: str  # "YYYY-MM"
    run_id: str
    started: dt.datetime
    finished: dt.datetime | None
    invoices: list[InvoiceResult]
    register_findings: list[Finding]  # R224: to findings.csv and compliance.xlsx only
    registers: Registers
    ignored: list[str] = field(default_factory=list)  # lock files left by Excel / LibreOffice
    inputs: dict[str, str] = field(default_factory=dict)  # input path (relative to inbox) -> sha256
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds (read, reconcile, annotate, reports, ledger)
    history: History | None = None  # the ledger's earlier batches, as the checks saw them (compliance.xlsx)
    # Finance (CONTRACT.md sections 7, 8): the batch's answers on held days (void ones included), its
    # payment rows, and the days still held from earlier batches. Dicts as `ledger.store` gives them.
    resolutions: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    # A run that replaced the batch's earlier record of other inputs: the previous run id, invoices
    # added and removed, totals before and after (manifest and terminal); None otherwise.
    replaces: dict | None = None
    replaced_now: bool = False  # this run itself replaced the record of other inputs (the terminal says so)
    rebuilt: bool = False  # a signed-off batch run again on unchanged inputs: outbox rebuilt, ledger untouched
    earlier_held: list[dict] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        out = list(self.register_findings)
        for inv in self.invoices:
            out.extend(inv.findings)
        return out
