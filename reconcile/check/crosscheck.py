"""Cross-checks: every workbook of a batch against the registers and the ledger.

Pipeline position: after `invoice.read_invoice` (frames + findings F001-F005,
V1xx) and `registers.read_registers`; before the ledger records the batch
and the writers write the outbox. `amounts` prices the rows once the days
are decided. RULES.md sections 1, 3 and 4:

    file     F006 provider, F008 month after the batch, F007 duplicate, R225 late
    rows     R201, R202, R203, R223 (reject the row), R218 (hold the row)
    days     R222, R204, R206, R217, R216, R205 - the first failing check decides
             the day - then the warnings R207 and R226 on paid days
    amounts  R208-R213, R220, R221 (see `amounts`)
    compliance R214, R215, R219; R224 on the register, once per batch

The whole batch is checked at once, with Polars joins over all its day cells,
so that R216 sees every invoice and R205 counts the days of invoices
processed earlier (billed month, then provider, then invoice number).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import holidays
import polars as pl

from reconcile.check import amounts
from reconcile.config import Config, Rates
from reconcile.errors import ConfigError
from reconcile.findings import Finding, Location
from reconcile.model import ITEMS, History, Invoice, InvoiceResult, Money, Registers
from schemas import SHEETS

INELIGIBLE_BENEFITS = ("kuntoutustuki", "eläke")
WEEK_LIMIT = 4  # law 189/2001 § 13: at most 4 days a calendar week
MIN_HOURS_H100 = 400
LONG_DAY_H100 = 800
LATE_MONTHS = 3

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
DECISION_COLUMNS = {
    "hetu": "d_hetu", "provider_id": "d_provider", "start": "d_start", "end": "d_end", "terminated": "d_terminated",
    "days_per_week": "d_days_per_week", "hours_per_day_h100": "d_hours_h100", "day_value_cents": "d_value_cents",
    "meal": "d_meal", "travel_per_day_cents": "d_travel_cents", "benefit": "d_benefit",
    "guidance_min_h100": "d_guidance_min_h100",
}


@dataclass
class _Work:
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


def check_batch(
    invoices: list[Invoice], registers: Registers, history: History, config: Config, batch: str
) -> tuple[list[InvoiceResult], list[Finding]]:
    """Check and price every workbook of a batch; one result per invoice, in input order,
    and the findings about the registers themselves (R224)."""
    month = batch_month(batch)
    providers = {p["provider_id"]: p for p in registers.providers.iter_rows(named=True)}
    register_ids = registers.decisions["decision_id"].to_list()
    exact, folded = set(register_ids), {d.strip().casefold(): d for d in register_ids}
    works = []
    for i, inv in enumerate(invoices):
        _register_spelling(inv, exact, folded)
        p = providers.get(inv.header.provider_id) or {}
        works.append(_Work(i, inv, rates_for(config, inv.header.billing_month or month), p.get("lang") or config.language))
    _file_checks(works, providers, history, month)
    live = sorted(
        (w for w in works if not w.invoice.fatal and w.file_rule is None),
        key=lambda w: (w.month, w.provider_id, w.invoice_no, w.index),
    )
    for proc, w in enumerate(live):
        w.proc = proc
    results: dict[int, InvoiceResult] = {}
    if live:
        results.update(_check_live(live, registers, history))
    for w in works:
        if w.index not in results:
            results[w.index] = _rejected_file(w)
    return [results[i] for i in range(len(works))], register_findings(registers, month)


def _register_spelling(inv: Invoice, exact: set[str], folded: dict[str, str]) -> None:
    """Decision numbers as the register spells them: register values are matched
    trimmed and case-folded (CONTRACT.md section 2), so `kt-1` on an invoice is `KT-1`.
    Only the few numbers not already spelled exactly are looked up."""
    for name in ("clients", "attendance", "days", "guidance"):
        frame = getattr(inv, name)
        if frame is None or "decision_id" not in frame.columns or not frame.height:
            continue
        typed = {d for d in frame["decision_id"].unique().to_list() if d is not None and d not in exact}
        respelled = {d: folded[d.strip().casefold()] for d in typed if d.strip().casefold() in folded}
        if respelled:
            setattr(inv, name, frame.with_columns(pl.col("decision_id").replace(respelled)))


# --- file level -------------------------------------------------------------


def _file_checks(works: list[_Work], providers: dict, history: History, month: dt.date) -> None:
    """F006, F008, then F007 among the files no other F rule rejects; R225 (warning)."""
    for w in works:
        if w.invoice.fatal:
            w.file_rule = next((f.rule for f in w.invoice.findings if f.rule.startswith("F")), "F001")
            continue
        billed = w.month
        first, last = billed, _month_end(billed)
        p = providers.get(w.provider_id)
        if p is None:
            w.findings.append(w.header_finding("F006", "provider_id", f"{billed:%Y-%m}", w.provider_id or "",
                                               reason="unknown"))
        elif p["approved_from"] > last or (p["approved_to"] is not None and p["approved_to"] < first):
            to = p["approved_to"].isoformat() if p["approved_to"] else ""
            w.findings.append(w.header_finding("F006", "provider_id", f"{billed:%Y-%m}", w.provider_id or "",
                                               reason="not_approved", approved=f"{p['approved_from'].isoformat()}–{to}"))
        if billed > month:
            w.findings.append(w.header_finding("F008", "billing_month", f"{month:%Y-%m}", f"{billed:%Y-%m}"))
        elif months_between(billed, month) > LATE_MONTHS:
            w.findings.append(w.header_finding("R225", "billing_month", f"{month:%Y-%m}",
                                               f"{billed:%Y-%m}", months=months_between(billed, month)))
        if any(f.rule in ("F006", "F008") for f in w.findings):
            w.file_rule = w.findings[0].rule
    processed = {(r["provider_id"], r["invoice_no"]): r["batch"] for r in history.invoices.iter_rows(named=True)}
    candidates = [w for w in works if w.file_rule is None]
    files: dict[tuple, list[str]] = {}
    for w in candidates:
        files.setdefault((w.provider_id, w.invoice_no), []).append(w.invoice.source_file)
    for w in candidates:
        key = (w.provider_id, w.invoice_no)
        if key in processed or len(files[key]) > 1:
            # Where the number was seen: the earlier batch, or this batch's files (all the provider's own).
            where = processed.get(key) or ", ".join(files[key])
            w.findings.append(w.header_finding("F007", "invoice_no", where, w.invoice_no or "",
                                               batch=processed.get(key, ""), files=len(files[key])))
            w.file_rule = "F007"


def _month_end(month: dt.date) -> dt.date:
    return _add_months(month, 1) - dt.timedelta(days=1)


def _add_months(day: dt.date, n: int) -> dt.date:
    m = day.month - 1 + n
    return day.replace(year=day.year + m // 12, month=m % 12 + 1, day=1)


def _rejected_file(w: _Work) -> InvoiceResult:
    """A file rejected as a whole claims its rows' items where they can be read, else
    its `Lasku` total (as the service fee), else nothing; all of it is rejected."""
    inv = w.invoice
    clients = inv.clients
    rows = None
    if clients is not None and clients.height:
        rows = amounts.fatal_rows(_fatal_client_frame(clients, w))
        items = amounts.sum_items(rows)
        rows = _rows_out(rows)
    else:
        total = max(inv.header.total_cents or 0, 0)
        items = {i: Money() for i in ITEMS}
        items["fee"] = Money(claimed=total, rejected=total)
    status = amounts.invoice_status(items, w.file_rule)
    claimed = sum(m.claimed for m in items.values())
    findings = [*inv.findings, *w.findings]
    deciding = next((i for i, f in enumerate(findings) if f.rule == w.file_rule), None)
    if deciding is not None and claimed:  # the finding that rejects the file carries its whole claim
        findings[deciding] = findings[deciding].with_(amount_cents=-claimed)
    return InvoiceResult(
        invoice=inv, provider_id=w.provider_id, invoice_no=w.invoice_no, billing_month=w.month, lang=w.lang,
        status=status, items=items, rows=rows, day_outcomes=None, findings=findings,
    )


# --- the invoices that are checked ------------------------------------------


def _ensure(df: pl.DataFrame | None, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """The frame's columns we use, in this order, missing ones as nulls."""
    if df is None:
        return pl.DataFrame(schema=columns)
    return df.select(
        (pl.col(c).cast(t) if c in df.columns else pl.lit(None, dtype=t).alias(c)) for c, t in columns.items()
    )


def _stack(frames: list[pl.DataFrame | None], live: list[_Work], columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """One frame of the same sheet of every invoice, with `inv`, the invoice's index."""
    frames = [f if f is not None else pl.DataFrame(schema=columns) for f in frames]
    inv = pl.Series("inv", [w.index for w, f in zip(live, frames) for _ in range(f.height)], dtype=pl.Int64)
    stacked = pl.concat([f.select(c for c in columns if c in f.columns) for f in frames], how="diagonal_relaxed")
    return _ensure(stacked, columns).with_columns(inv)


def _fatal_client_frame(clients: pl.DataFrame, w: _Work) -> pl.DataFrame:
    """The rows of a workbook rejected as a whole, with what `amounts` needs to price them."""
    return _ensure(clients, CLIENT_COLUMNS).with_columns(
        pl.lit(w.rates.meal_price_cents, dtype=pl.Int64).alias("meal_price_cents"),
        pl.lit(w.rates.meal_compensation_cents, dtype=pl.Int64).alias("meal_comp_cents"),
        *(pl.lit(None, dtype=pl.Int64).alias(c) for c in ("d_value_cents", "d_travel_cents")),
        d_meal=pl.lit(None, dtype=pl.Utf8),
    )


def _decisions(registers: Registers) -> pl.DataFrame:
    """The register's decisions with `d_` names; a city own unit's day value is 0."""
    own = registers.providers.filter(pl.col("own_unit")).get_column("provider_id")
    d = registers.decisions.select("decision_id", *DECISION_COLUMNS).rename(DECISION_COLUMNS)
    return d.with_columns(
        d_hetu=pl.col("d_hetu").str.to_uppercase(),
        d_value_cents=pl.when(pl.col("d_provider").is_in(own.implode())).then(0).otherwise(pl.col("d_value_cents")),
        d_known=pl.lit(True),
    )


def _check_live(live: list[_Work], registers: Registers, history: History) -> dict[int, InvoiceResult]:
    tags = pl.DataFrame({
        "inv": [w.index for w in live], "proc": [w.proc for w in live],
        "provider": [w.provider_id for w in live], "invoice_no": [w.invoice_no for w in live],
        "month": [w.month for w in live],
        "meal_price_cents": [w.rates.meal_price_cents for w in live],
        "meal_comp_cents": [w.rates.meal_compensation_cents for w in live],
        "guidance_default_h100": [int(w.rates.guidance_min_hours * 100) for w in live],
    }, schema_overrides={"inv": pl.Int64, "proc": pl.Int64, "provider": pl.Utf8, "invoice_no": pl.Utf8,
                         "month": pl.Date})
    day_tags = tags.select("inv", "proc", "provider", "invoice_no")
    clients = _stack([w.invoice.clients for w in live], live, CLIENT_COLUMNS).join(tags, on="inv")
    attendance = _stack([w.invoice.attendance for w in live], live, ATTENDANCE_COLUMNS).join(day_tags, on="inv")
    days = _stack([w.invoice.days for w in live], live, DAY_KEYS).join(day_tags, on="inv")
    rows = _row_verdicts(clients, attendance, _decisions(registers))
    days = _decide_days(days, attendance, rows, history)
    counts = days.group_by("inv", "client_row").agg(
        days_paid_raw=(pl.col("outcome") == "paid").sum().cast(pl.Int64),
        days_held_raw=(pl.col("outcome") == "held").sum().cast(pl.Int64),
    )
    cells = days.group_by("inv", "row").agg(n_cells=pl.len().cast(pl.Int64)).rename({"row": "att_row"})
    rows = (
        rows.join(counts, left_on=["inv", "row"], right_on=["inv", "client_row"], how="left")
        .join(cells, on=["inv", "att_row"], how="left")
        .with_columns(pl.col("days_paid_raw", "days_held_raw", "n_cells").fill_null(0))
    )
    priced = amounts.price_rows(rows)
    compliance = _compliance(priced, live, history)
    money = [f"{i}_{k}" for i in ITEMS for k in ("claimed", "approved", "held", "rejected")]
    claimed = pl.sum_horizontal(*(pl.col(f"{i}_claimed") for i in ITEMS)).alias("claimed")
    parts = {  # everything an invoice's result needs, cut from the batch frames once
        "rows": priced.select("inv", *amounts.ROW_OUTPUT),
        "whole": priced.filter(pl.col("verdict").is_in(list(ROW_TEXT))).with_columns(claimed),
        "read_whole": priced.filter(pl.col("verdict").is_not_null() & ~pl.col("verdict").is_in(list(ROW_TEXT)))
        .with_columns(claimed).select("inv", "row", "verdict", "claimed"),
        # day cells the reader rejected (V105, V103) on rows not rejected as a whole: their value is theirs
        "read_days": days.filter((pl.col("code") == "?") & pl.col("att_rejected").is_null()
                                 & pl.col("client_row").is_not_null() & pl.col("whole").ne_missing("reject"))
        .select("inv", "cell", "d_value_cents"),
        "orphans": attendance.filter(pl.col("rejected").is_null() & pl.col("decision_id").is_not_null())
        .join(clients.select("inv", "decision_id"), on=["inv", "decision_id"], how="anti"),
        "days": days.filter(pl.col("check").is_not_null() | pl.col("r207") | pl.col("r226")),
        "amounts": amounts.candidates(priced),
        "outcomes": days.select(
            "inv", pl.coalesce("d_decision", "decision_id").alias("decision_id"),
            pl.coalesce("d_hetu", pl.col("hetu").str.to_uppercase()).alias("hetu"), "date", "cell", "outcome", "rule",
        ),
    }
    split = {name: frame.partition_by("inv", as_dict=True) for name, frame in parts.items()}
    sums = {r["inv"]: r for r in priced.group_by("inv").agg(pl.col(money).sum()).iter_rows(named=True)}
    fi_holidays = _holidays(days.get_column("date"))
    out = {}
    for w in live:
        mine = {name: split[name].get((w.index,), parts[name].clear()) for name in parts}
        items = {i: Money(*(int(sums.get(w.index, {}).get(f"{i}_{k}") or 0)
                            for k in ("claimed", "approved", "held", "rejected"))) for i in ITEMS}
        out[w.index] = _result(w, mine, items, compliance[w.index], fi_holidays)
    return out


def _row_verdicts(clients: pl.DataFrame, attendance: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """Join each `Asiakkaat` row with its decision and its `Läsnäolo` row; `verdict` is the
    code rejecting or holding the row as a whole, `whole` its effect."""
    att_owner = (
        attendance.filter(pl.col("rejected").is_null() & pl.col("decision_id").is_not_null())
        .group_by("inv", "decision_id")
        .agg(att_row=pl.col("row").min())
    )
    rows = clients.join(decisions, on="decision_id", how="left").join(att_owner, on=["inv", "decision_id"], how="left")
    verdict = (
        pl.when(pl.col("rejected").is_not_null()).then(pl.col("rejected"))
        .when(pl.col("d_known").is_null()).then(pl.lit("R201"))
        .when(pl.col("hetu").str.to_uppercase() != pl.col("d_hetu")).then(pl.lit("R202"))
        .when(pl.col("d_provider") != pl.col("provider")).then(pl.lit("R203"))
        .when(pl.col("att_row").is_null()).then(pl.lit("R223"))
        .when(pl.col("d_benefit").is_in(INELIGIBLE_BENEFITS)).then(pl.lit("R218"))
    )
    rows = rows.with_columns(verdict=verdict).with_columns(
        whole=pl.when(pl.col("verdict") == "R218").then(pl.lit("hold"))
        .when(pl.col("verdict").is_not_null()).then(pl.lit("reject"))
    )
    return rows.sort("inv", "row")


def _decide_days(days: pl.DataFrame, attendance: pl.DataFrame, rows: pl.DataFrame, history: History) -> pl.DataFrame:
    """One outcome per day cell: `rule` is the code deciding it (null when paid),
    `check` the day check that failed (a day finding), `outcome` paid / held / rejected."""
    # The Asiakkaat row that owns a Läsnäolo row: the first one not rejected, else the first.
    owner = (
        rows.filter(pl.col("att_row").is_not_null())
        .sort("inv", pl.col("rejected").is_not_null(), "row")
        .unique(subset=["inv", "att_row"], keep="first", maintain_order=True)
        .select("inv", pl.col("att_row").alias("row"), pl.col("row").alias("client_row"), "verdict", "whole",
                pl.col("decision_id").alias("d_decision"), "d_hetu", "d_start", "d_end", "d_terminated", "d_days_per_week", "d_hours_h100", "d_value_cents")
    )
    days = (
        days.join(attendance.select("inv", "row", pl.col("rejected").alias("att_rejected")), on=["inv", "row"], how="left")
        .join(owner, on=["inv", "row"], how="left")
        .with_columns(
            hours=pl.when(pl.col("code") == "X").then(pl.col("d_hours_h100")).otherwise(pl.col("hours_h100")),
            col_order=pl.col("cell").str.extract(r"^([A-Z]+)").str.len_chars(),
        )
        .sort("inv", "row", "col_order", "cell")
    )
    pre = (
        pl.when(pl.col("code") == "?").then(pl.lit("V105"))
        .when(pl.col("att_rejected").is_not_null()).then(pl.col("att_rejected"))
        .when(pl.col("client_row").is_null()).then(pl.lit("R223"))
        .when(pl.col("whole") == "reject").then(pl.col("verdict"))
    )
    paid = history.paid_days.select(
        pl.col("hetu").str.to_uppercase().alias("d_hetu"), "date",
        pl.col("provider_id").alias("h_provider"), pl.col("invoice_no").alias("h_invoice_no"),
    ).unique()
    elsewhere = (
        days.select("inv", "cell", "d_hetu", "date", "provider", "invoice_no")
        .join(paid, on=["d_hetu", "date"], how="inner")
        .filter((pl.col("h_provider") != pl.col("provider")) | (pl.col("h_invoice_no") != pl.col("invoice_no")))
        .select("inv", "cell").unique()
        .with_columns(paid_elsewhere=pl.lit(True))
    )
    days = days.join(elsewhere, on=["inv", "cell"], how="left")
    check = (
        pl.when(pl.col("date").is_null()).then(pl.lit("R222"))
        .when((pl.col("date") < pl.col("d_start")) | (pl.col("date") > pl.col("d_end"))
              | (pl.col("date") > pl.col("d_terminated")).fill_null(False)).then(pl.lit("R204"))
        .when(pl.col("hours").fill_null(0) < MIN_HOURS_H100).then(pl.lit("R206"))
        .when(pl.col("paid_elsewhere").fill_null(False)).then(pl.lit("R217"))
    )
    days = days.with_columns(pre=pre).with_columns(check=pl.when(pl.col("pre").is_null()).then(check))
    # R216: the same client and date on another invoice of this batch.
    passed = pl.col("pre").is_null() & pl.col("check").is_null()
    same_day = ["d_hetu", "date"]
    # Another invoice, or another decision of the same client on this one: either is double billing.
    claim = pl.struct("inv", "d_decision")
    days = days.with_columns(
        double=passed & (claim.filter(passed).n_unique().over(same_day) > 1),
        other_provider=pl.col("provider").filter(passed).n_unique().over(same_day) > 1,
        other_invoice=pl.col("inv").filter(passed).n_unique().over(same_day) > 1,
    ).with_columns(check=pl.when(pl.col("double")).then(pl.lit("R216")).otherwise(pl.col("check")))
    days = _weekly_limit(days, history)
    rule = pl.coalesce("pre", "check")
    days = days.with_columns(
        rule=pl.when(rule.is_null() & (pl.col("whole") == "hold")).then(pl.col("verdict")).otherwise(rule),
        outcome=pl.when(pl.col("check") == "R216").then(pl.lit("held"))
        .when(rule.is_not_null()).then(pl.lit("rejected"))
        .when(pl.col("whole") == "hold").then(pl.lit("held"))
        .otherwise(pl.lit("paid")),
    )
    holiday_dates = pl.Series(sorted(_holidays(days.get_column("date"))), dtype=pl.Date)
    is_paid = pl.col("outcome") == "paid"
    return days.with_columns(
        r207=is_paid & ((pl.col("date").dt.weekday() == 7) | pl.col("date").is_in(holiday_dates.implode())),
        r226=is_paid & (pl.col("hours") > LONG_DAY_H100),
    )


def _holidays(dates: pl.Series) -> holidays.HolidayBase:
    """Finnish public holidays of the years the dates fall in."""
    return holidays.Finland(years=sorted({d.year for d in dates.drop_nulls().unique()}), language="fi")


def _weekly_limit(days: pl.DataFrame, history: History) -> pl.DataFrame:
    """R205: per decision and Monday-Sunday week, days already paid in the ledger count
    first, then days of invoices processed earlier, then this invoice's, earliest first."""
    week = pl.col("date").dt.truncate("1w").alias("week")
    prior = (
        history.paid_days.select("decision_id", "date").unique()
        .group_by(pl.col("decision_id").alias("d_decision"), week).agg(prior=pl.len().cast(pl.Int64))
    )
    group = ["d_decision", "week"]
    counted = (
        days.filter(pl.col("pre").is_null() & pl.col("check").is_null())
        .with_columns(week)
        .sort("proc", "date", "row", "col_order", "cell")
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(group))
        .join(prior, on=group, how="left")
        .with_columns(
            prior=pl.col("prior").fill_null(0),
            limit=pl.min_horizontal(pl.col("d_days_per_week"), pl.lit(WEEK_LIMIT)),
        )
        .with_columns(over_limit=pl.col("prior") + pl.col("rank") > pl.col("limit"))
        .select("inv", "cell", "week", "prior", "rank", "limit", "over_limit")
    )
    return days.join(counted, on=["inv", "cell"], how="left").with_columns(
        check=pl.when(pl.col("over_limit").fill_null(False)).then(pl.lit("R205")).otherwise(pl.col("check"))
    )


# --- findings and results of one checked invoice -----------------------------


def _result(w: _Work, mine: dict[str, pl.DataFrame], items: dict[str, Money], compliance: list[Finding],
            fi_holidays: holidays.HolidayBase) -> InvoiceResult:
    findings = _reader_amounts(w.invoice.findings, mine["read_whole"], mine["read_days"]) + w.findings
    findings += _row_findings(w, mine["whole"], mine["orphans"])
    findings += _day_findings(w, mine["days"], fi_holidays)
    findings += amounts.row_findings(mine["amounts"], lambda f, r: w.where("clients", f, r), w.present("clients"),
                                     w.provider_id, w.invoice_no, w.lang)
    claimed = sum(m.claimed for m in items.values())
    total = w.invoice.header.total_cents
    if total is not None and total != claimed:
        findings.append(w.header_finding("R220", "total_cents", amounts.euros(claimed), amounts.euros(total)))
    findings += compliance
    return InvoiceResult(
        invoice=w.invoice, provider_id=w.provider_id, invoice_no=w.invoice_no, billing_month=w.month, lang=w.lang,
        status=amounts.invoice_status(items, None), items=items, rows=mine["rows"].drop("inv"),
        day_outcomes=mine["outcomes"].drop("inv"), findings=findings,
    )


def _rows_out(priced: pl.DataFrame) -> pl.DataFrame:
    return priced.select(*amounts.ROW_OUTPUT)


ROW_TEXT = {  # rule -> (column at fault, expected)
    "R201": ("decision_id", ""),
    "R202": ("hetu", ""),
    "R203": ("decision_id", ""),
    "R223": ("decision_id", ""),
    "R218": ("decision_id", "työttömyysetuus, toimeentulotuki"),
}


def _reader_amounts(findings: list[Finding], read_whole: pl.DataFrame, read_days: pl.DataFrame) -> list[Finding]:
    """The reader's findings carry their money effect, which only the register can price:
    one rejecting a row as a whole (V101-V107) carries the row's claim, as R201-R203 do;
    one rejecting a day cell (V105, V103 on a day) carries the day's value, as R204 does."""
    claims = {(r["row"], r["verdict"]): r["claimed"] for r in read_whole.iter_rows(named=True)}
    days = {r["cell"]: r["d_value_cents"] or 0 for r in read_days.iter_rows(named=True)}
    out = []
    for f in findings:
        claim = None
        if f.effect == "reject":
            claim = claims.pop((f.row, f.rule), None)
            if claim is None and f.location.sheet and f.location.cell in days and f.date is not None:
                claim = days.pop(f.location.cell)
        out.append(f.with_(amount_cents=-claim) if claim else f)
    return out


def _row_findings(w: _Work, whole: pl.DataFrame, orphans: pl.DataFrame) -> list[Finding]:
    """R201-R203, R223 and R218 on rows rejected or held as a whole; R223 (warning) on
    a Läsnäolo row without an Asiakkaat row."""
    out = []
    for r in whole.iter_rows(named=True):
        rule = r["verdict"]
        column, expected = ROW_TEXT[rule]
        found = {"R202": r["hetu"], "R203": "", "R223": w.invoice.sheet_names.get("clients", SHEETS["clients"][0]),
                 "R218": r["d_benefit"]}.get(rule, r["decision_id"])
        out.append(Finding(rule, w.where("clients", column, r["row"]), decision_id=r["decision_id"], expected=expected,
                           found=found or "", amount_cents=-r["claimed"], provider_id=w.provider_id,
                           invoice_no=w.invoice_no, row=r["row"]))
    for r in orphans.iter_rows(named=True):
        out.append(Finding("R223", w.where("attendance", "decision_id", r["row"]), decision_id=r["decision_id"],
                           found=w.invoice.sheet_names.get("attendance", SHEETS["attendance"][0]),
                           severity="warning", effect="none",
                           provider_id=w.provider_id, invoice_no=w.invoice_no, params={"side": "attendance"}))
    return out


def _hours(h100: int | None) -> str:
    return "" if h100 is None else f"{h100 // 100}.{h100 % 100:02d}"


def _day_findings(w: _Work, flagged: pl.DataFrame, fi_holidays: holidays.HolidayBase) -> list[Finding]:
    """One finding per day decided by a day check, then the warnings on paid days."""
    out = []
    for d in flagged.iter_rows(named=True):
        rule = d["check"]
        day = d["date"]

        def add(code: str, expected: str, found: str, amount: int = 0, **params) -> None:
            out.append(Finding(code, w.at("attendance", d["cell"]),
                               decision_id=d["d_decision"] or d["decision_id"], date=day if code != "R222" else None,
                               expected=expected, found=found, amount_cents=amount, params=params,
                               provider_id=w.provider_id, invoice_no=w.invoice_no, row=d["client_row"]))

        value = -(d["d_value_cents"] or 0)
        if rule == "R222":
            add(rule, str(_month_end(w.month).day), "" if d["day"] is None else str(d["day"]), value, raw=d["raw"])
        elif rule == "R204":
            last = min(x for x in (d["d_end"], d["d_terminated"]) if x is not None)
            add(rule, f"{d['d_start'].isoformat()}–{last.isoformat()}", day.isoformat(), value)
        elif rule == "R206":
            add(rule, "4.00", _hours(d["hours"]), value)
        elif rule == "R217":
            add(rule, "", day.isoformat(), value)
        elif rule == "R216":
            other = ("another provider" if d["other_provider"] else
                     "another invoice" if d["other_invoice"] else "another decision")
            add(rule, "", other, value, other=other)
        elif rule == "R205":
            add(rule, str(d["limit"]), str(d["prior"] + d["rank"]), value, week=d["week"].isoformat(),
                limit=d["limit"], paid_before=d["prior"])
        if d["r207"]:
            name = fi_holidays.get(day) or "sunnuntai"
            add("R207", "", name, holiday=name)
        if d["r226"]:
            add("R226", "8.00", _hours(d["hours"]))
    return out


# --- compliance --------------------------------------------------------------


def _compliance(priced: pl.DataFrame, live: list[_Work], history: History) -> dict[int, list[Finding]]:
    """R214, R215 and R219 (warnings) on rows whose decision is this provider's."""
    works = {w.index: w for w in live}
    out: dict[int, list[Finding]] = {w.index: [] for w in live}
    known = priced.filter(pl.col("verdict").is_null() | (pl.col("verdict") == "R218")).with_columns(
        d_last=pl.min_horizontal("d_end", "d_terminated"), month_end=pl.col("month").dt.month_end()
    )

    def add(r: dict, rule: str, column: str, expected: str, found: str, day: dt.date | None = None, **params) -> None:
        w = works[r["inv"]]
        out[w.index].append(Finding(rule, w.where("clients", column, r["row"]), decision_id=r["decision_id"], date=day,
                                    expected=expected, found=found, params=params, provider_id=w.provider_id,
                                    invoice_no=w.invoice_no, row=r["row"]))

    # R214: the monthly minimum times the share of the month inside the period, rounded half up.
    inside = ((pl.min_horizontal("d_last", "month_end") - pl.max_horizontal("d_start", "month")).dt.total_days() + 1)
    month_days = pl.col("month_end").dt.day().cast(pl.Int64)
    minimum = pl.coalesce("d_guidance_min_h100", "guidance_default_h100")
    below = known.with_columns(
        minimum=minimum,
        threshold=(2 * minimum * inside.clip(lower_bound=0) + month_days) // (2 * month_days),
        given=pl.col("guidance_individual_h100").fill_null(0),
    ).filter((pl.col("threshold") > 0) & (pl.col("given") < pl.col("threshold")))
    for r in below.iter_rows(named=True):
        if "guidance_individual_h100" in works[r["inv"]].present("clients"):
            add(r, "R214", "guidance_individual_h100", _hours(r["threshold"]), _hours(r["given"]),
                minimum=_hours(r["minimum"]))

    # R215: the Ohjaus log's hours (individual and group together) against the row's.
    logs = [_ensure(w.invoice.guidance, GUIDANCE_COLUMNS).with_columns(inv=pl.lit(w.index, dtype=pl.Int64))
            for w in live if w.invoice.guidance is not None]
    if logs:
        by_hetu = priced.select("inv", pl.col("hetu").str.to_uppercase().alias("h"),
                                pl.col("decision_id").alias("by_hetu")).unique(subset=["inv", "h"], keep="first")
        log = (
            pl.concat(logs).with_columns(h=pl.col("hetu").str.to_uppercase())
            .join(by_hetu, on=["inv", "h"], how="left")
            .with_columns(decision_id=pl.coalesce("decision_id", "by_hetu"))
            .group_by("inv", "decision_id").agg(log_h100=pl.col("hours_h100").fill_null(0).sum())
        )
        with_log = pl.Series([w.index for w in live if w.invoice.guidance is not None], dtype=pl.Int64)
        differ = (
            known.filter(pl.col("inv").is_in(with_log.implode()))
            .join(log, on=["inv", "decision_id"], how="left")
            .with_columns(
                log_h100=pl.col("log_h100").fill_null(0),
                row_h100=pl.col("guidance_individual_h100").fill_null(0) + pl.col("guidance_group_h100").fill_null(0),
            )
            .filter(pl.col("log_h100") != pl.col("row_h100"))
        )
        for r in differ.iter_rows(named=True):
            present = works[r["inv"]].present("clients")
            column = next((c for c in ("guidance_individual_h100", "guidance_group_h100") if c in present), None)
            if column:
                add(r, "R215", column, _hours(r["row_h100"]), _hours(r["log_h100"]))

    # R219: assessments at the start (the period's 30th day) and the end (its last day).
    # Reported: on a row of this batch not rejected as a whole (as the ledger keeps them), or in the ledger.
    reporting = priced.filter(pl.col("whole").is_null() | (pl.col("whole") == "hold"))
    reports = pl.concat([
        reporting.select("decision_id", pl.col(c).alias("date"), "proc") for c in ("kykyviisari_date", "vat_date")
    ] + [history.assessments.select("decision_id", "date", pl.lit(-1, dtype=pl.Int64).alias("proc"))]).drop_nulls()
    reports = reports.rename({"proc": "reported_in"})
    checks = {
        "start": (pl.col("d_start") + pl.duration(days=29), pl.col("date") >= pl.col("d_start")),
        "end": (pl.col("d_last"), (pl.col("date") <= pl.col("d_last"))
                & (pl.col("date") >= pl.col("d_last") - pl.duration(days=59))),
    }
    for kind, (due, reported) in checks.items():
        owed = known.with_columns(due=due).filter(pl.col("due").dt.truncate("1mo") == pl.col("month"))
        done = (
            owed.select("inv", "row", "decision_id", "proc", "d_start", "d_last")
            .join(reports, on="decision_id", how="inner")
            .filter((pl.col("reported_in") <= pl.col("proc")) & reported)
            .select("inv", "row").unique()
        )
        for r in owed.join(done, on=["inv", "row"], how="anti").sort("inv", "row").iter_rows(named=True):
            present = works[r["inv"]].present("clients")
            column = next((c for c in ("kykyviisari_date", "vat_date") if c in present), "decision_id")
            expected = (f"≥ {r['d_start'].isoformat()}" if kind == "start" else
                        f"{(r['d_last'] - dt.timedelta(days=59)).isoformat()}–{r['d_last'].isoformat()}")
            add(r, "R219", column, expected, "", r["due"], kind=kind)
    return out


def register_findings(registers: Registers, month: dt.date) -> list[Finding]:
    """R224: decisions in force at any time in the batch month whose period is shorter
    than 3 or longer than 24 months; once per batch, with the decision's provider."""
    source = registers.sources.get("decisions")
    where = Location(source.source_file if source else "", SHEETS["decisions"][0], None)
    last = pl.min_horizontal("end", "terminated")
    odd = (
        registers.decisions.filter((pl.col("start") <= _month_end(month)) & (last >= month))
        .with_columns(
            short=pl.col("end") < pl.col("start").dt.offset_by("3mo") - pl.duration(days=1),
            long=pl.col("end") > pl.col("start").dt.offset_by("24mo") - pl.duration(days=1),
        )
        .filter(pl.col("short") | pl.col("long"))
        .sort("row")
    )
    return [
        Finding("R224", where, decision_id=r["decision_id"], expected="3–24 months",
                found=f"{r['start'].isoformat()}–{r['end'].isoformat()}", provider_id=r["provider_id"],
                params={"row": r["row"], "too": "short" if r["short"] else "long"})
        for r in odd.iter_rows(named=True)
    ]
