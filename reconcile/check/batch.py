"""The batch assembly: every workbook of a batch through the check families, one result each.

Pipeline position: after `read` (frames + findings F001-F005, V1xx) and the
registers; before the ledger records the batch and the writers write the
outbox. The whole batch is checked at once, with Polars joins over all its
day cells, so that R216 sees every invoice and R205 counts the days of
invoices processed earlier (billed month, then provider, then invoice number):

    files       F006, F008 (R225), F007: which workbooks are checked at all
    rows        the row verdicts (R201-R203, R223, R218)
    days        one outcome per day cell (R222, R204, R206, R217, R216, R205; R207, R226)
    amounts     what each item claims, and what is approved, held and rejected
    amount_findings  R208-R213, R221, R220
    compliance  R214, R215, R219; R224 on the register, once per batch

`check_invoices` is `check_batch` made safe against a bug in a check: the
invoices a bug concerns are held with X900 and the batch goes on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import holidays
import polars as pl

from reconcile.check import amount_findings, amounts, compliance, days as day_checks, files, rows as row_checks
from reconcile.check.work import (
    ATTENDANCE_COLUMNS, CLIENT_COLUMNS, DAY_COLUMNS, Work, ensure, rates_for, stack,
)
from reconcile.config import Config, Rates
from reconcile.errors import ReconcileError
from reconcile.findings import Finding, Location
from reconcile.model import ITEMS, History, Invoice, InvoiceResult, Money, Registers
from reconcile.periods import parse_month

MONEY = [f"{i}_{k}" for i in ITEMS for k in ("claimed", "approved", "held", "rejected")]


def check_batch(
    invoices: list[Invoice], registers: Registers, history: History, config: Config, batch: str
) -> tuple[list[InvoiceResult], list[Finding]]:
    """Check and price every workbook of a batch; one result per invoice, in input order,
    and the findings about the registers themselves (R224)."""
    month = parse_month(batch)
    providers = {p["provider_id"]: p for p in registers.providers.iter_rows(named=True)}
    register_ids = registers.decisions["decision_id"].to_list()
    exact, folded = set(register_ids), {d.strip().casefold(): d for d in register_ids}
    works = []
    for i, inv in enumerate(invoices):
        _register_spelling(inv, exact, folded)
        p = providers.get(inv.header.provider_id) or {}
        works.append(Work(i, inv, rates_for(config, inv.header.billing_month or month), p.get("lang") or config.language))
    files.file_checks(works, providers, history, month)
    live = sorted(
        (w for w in works if not w.invoice.fatal and w.file_rule is None),
        key=lambda w: (w.month, w.provider_id, w.invoice_no, w.index),
    )
    for proc, w in enumerate(live):
        w.proc = proc
    results: dict[int, InvoiceResult] = {}
    if live:
        # R216 across batches: only the days still held from batches *before* this one.
        earlier = dataclasses.replace(history, held_days=history.held_days.filter(pl.col("batch") < batch))
        results.update(_check_live(live, registers, earlier))
    for w in works:
        if w.index not in results:
            results[w.index] = rejected_file(w)
    return [results[i] for i in range(len(works))], compliance.register_findings(registers, month)


def register_findings(registers: Registers, month: dt.date) -> list[Finding]:
    """R224 (see `compliance.register_findings`)."""
    return compliance.register_findings(registers, month)


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


def rejected_file(w: Work) -> InvoiceResult:
    """A file rejected as a whole by `w.file_rule`: all of its claim is rejected."""
    inv = w.invoice
    items, rows = whole_claim(inv, w.rates, "reject")
    status = amounts.invoice_status(items, w.file_rule)
    claimed = sum(m.claimed for m in items.values())
    findings = [*inv.findings, *w.findings]
    deciding = next((i for i, f in enumerate(findings) if f.rule == w.file_rule), None)
    if deciding is not None and claimed:  # the finding that rejects the file carries its whole claim
        findings[deciding] = findings[deciding].with_(amount_cents=-claimed)
    return InvoiceResult(
        invoice=inv, provider_id=w.provider_id, invoice_no=w.invoice_no, billing_month=w.month, lang=w.lang,
        status=status, items=items, rows=rows, day_outcomes=None, findings=findings, rejected_by=w.file_rule,
    )


def whole_claim(inv: Invoice, rates: Rates, whole: str) -> tuple[dict[str, Money], pl.DataFrame | None]:
    """What a workbook decided as a whole without its checks claims, all of it rejected (`whole`
    "reject": an F rule) or held ("hold": X900): its rows' items where they can be read, else its
    `Lasku` total (as the service fee), else nothing. The items, and the rows when there are any."""
    clients = inv.clients
    if clients is not None and clients.height:
        priced = amounts.whole_rows(ensure(clients, CLIENT_COLUMNS).with_columns(
            pl.lit(rates.meal_price_cents, dtype=pl.Int64).alias("meal_price_cents"),
            pl.lit(rates.meal_compensation_cents, dtype=pl.Int64).alias("meal_comp_cents"),
            *(pl.lit(None, dtype=pl.Int64).alias(c) for c in ("d_value_cents", "d_travel_cents")),
            d_meal=pl.lit(None, dtype=pl.Utf8),
        ), whole)
        return amounts.sum_items(priced), _rows_out(priced)
    total = max(inv.header.total_cents or 0, 0)
    items = {i: Money() for i in ITEMS}
    items["fee"] = Money(claimed=total, rejected=total) if whole == "reject" else Money(claimed=total, held=total)
    return items, None


def _rows_out(priced: pl.DataFrame) -> pl.DataFrame:
    return priced.select(*amounts.ROW_OUTPUT)


def _check_live(live: list[Work], registers: Registers, history: History) -> dict[int, InvoiceResult]:
    """The invoices no file rule rejects, checked together: rows, days, amounts, compliance."""
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
    clients = stack([w.invoice.clients for w in live], live, CLIENT_COLUMNS).join(tags, on="inv")
    attendance = stack([w.invoice.attendance for w in live], live, ATTENDANCE_COLUMNS).join(day_tags, on="inv")
    days = stack([w.invoice.days for w in live], live, DAY_COLUMNS).join(day_tags, on="inv")
    rows = row_checks.row_verdicts(clients, attendance, row_checks.decisions(registers))
    days = day_checks.decide_days(days, attendance, rows, history)
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
    warnings = compliance.compliance(priced, live, history)
    claimed = pl.sum_horizontal(*(pl.col(f"{i}_claimed") for i in ITEMS)).alias("claimed")
    row_text = list(row_checks.ROW_TEXT)
    parts = {  # everything an invoice's result needs, cut from the batch frames once
        "rows": priced.select("inv", *amounts.ROW_OUTPUT),
        "whole": priced.filter(pl.col("verdict").is_in(row_text)).with_columns(claimed),
        "read_whole": priced.filter(pl.col("verdict").is_not_null() & ~pl.col("verdict").is_in(row_text))
        .with_columns(claimed).select("inv", "row", "verdict", "claimed"),
        # day cells the reader rejected (V105, V103) on rows not rejected as a whole: their value is theirs
        "read_days": days.filter((pl.col("code") == "?") & pl.col("att_rejected").is_null()
                                 & pl.col("client_row").is_not_null() & pl.col("whole").ne_missing("reject"))
        .select("inv", "cell", "d_value_cents"),
        "orphans": attendance.filter(pl.col("rejected").is_null() & pl.col("decision_id").is_not_null())
        .join(clients.select("inv", "decision_id"), on=["inv", "decision_id"], how="anti"),
        "days": days.filter(pl.col("check").is_not_null() | pl.col("r207") | pl.col("r226")),
        "amounts": amount_findings.candidates(priced),
        "outcomes": days.select(
            "inv", pl.col("client_row").alias("row"), pl.coalesce("d_decision", "decision_id").alias("decision_id"),
            pl.coalesce("d_hetu", pl.col("hetu").str.to_uppercase()).alias("hetu"), "date", "cell", "outcome", "rule",
        ),
    }
    split = {name: frame.partition_by("inv", as_dict=True) for name, frame in parts.items()}
    sums = {r["inv"]: r for r in priced.group_by("inv").agg(pl.col(MONEY).sum()).iter_rows(named=True)}
    fi_holidays = day_checks.finnish_holidays(days.get_column("date"))
    out = {}
    for w in live:
        mine = {name: split[name].get((w.index,), parts[name].clear()) for name in parts}
        items = {i: Money(*(int(sums.get(w.index, {}).get(f"{i}_{k}") or 0)
                            for k in ("claimed", "approved", "held", "rejected"))) for i in ITEMS}
        out[w.index] = _result(w, mine, items, warnings[w.index], fi_holidays)
    return out


def _result(w: Work, mine: dict[str, pl.DataFrame], items: dict[str, Money], warnings: list[Finding],
            fi_holidays: holidays.HolidayBase) -> InvoiceResult:
    """One checked invoice's findings, in the order they are reported, and its result."""
    findings = row_checks.reader_amounts(w.invoice.findings, mine["read_whole"], mine["read_days"]) + w.findings
    findings += row_checks.row_findings(w, mine["whole"], mine["orphans"])
    findings += day_checks.day_findings(w, mine["days"], fi_holidays)
    findings += amount_findings.row_findings(mine["amounts"], lambda f, r: w.where("clients", f, r),
                                             w.present("clients"), w.provider_id, w.invoice_no, w.lang)
    findings += amount_findings.invoice_total(w, sum(m.claimed for m in items.values()))
    findings += warnings
    return InvoiceResult(
        invoice=w.invoice, provider_id=w.provider_id, invoice_no=w.invoice_no, billing_month=w.month, lang=w.lang,
        status=amounts.invoice_status(items, None), items=items, rows=mine["rows"].drop("inv"),
        day_outcomes=mine["outcomes"].drop("inv"), findings=findings,
    )


# --- X900: a bug in a check holds only the invoices it concerns ---------------


def check_invoices(invoices: list[Invoice], registers: Registers, history: History, config: Config,
                   batch: str) -> tuple[list[InvoiceResult], list[Finding]]:
    """`check_batch`, made safe against a bug in a check (STYLE.md point 5).

    When the batch check raises, each invoice is checked alone to find the ones
    that make it raise; those get X900 (internal error, whole claim held) and
    the others are checked together again, so that checks across invoices
    (R216, F007) still see all of them. If that still raises, the failure
    needs several invoices together and every invoice is held with X900.
    Errors of the job itself (`ReconcileError`) are not bugs and pass through.
    """
    try:
        return check_batch(invoices, registers, history, config, batch)
    except ReconcileError:
        raise
    except Exception:  # noqa: BLE001 - a bug in a check: find the invoices it concerns
        pass
    broken: dict[int, Exception] = {}
    for i, inv in enumerate(invoices):
        try:
            check_batch([inv], registers, history, config, batch)
        except ReconcileError:
            raise
        except Exception as e:  # noqa: BLE001
            broken[i] = e
    good = [i for i in range(len(invoices)) if i not in broken]
    try:
        checked, found = check_batch([invoices[i] for i in good], registers, history, config, batch)
        results = dict(zip(good, checked))
    except ReconcileError:
        raise
    except Exception as e:  # noqa: BLE001 - only several invoices together fail: hold them all
        broken.update({i: e for i in good})
        results = {}
        found = compliance.register_findings(registers, parse_month(batch))
    langs = dict(zip(registers.providers["provider_id"], registers.providers["lang"]))
    for i, e in broken.items():
        inv = invoices[i]
        results[i] = held_for_error(inv, e, config, batch, langs.get(inv.header.provider_id) or config.language)
    return [results[i] for i in range(len(invoices))], found


def held_for_error(inv: Invoice, error: Exception, config: Config, batch: str, lang: str) -> InvoiceResult:
    """An invoice whose check raised: finding X900 naming the exception's class, its whole claim held.

    Only the class is shown: an exception's text may quote a henkilötunnus. The
    claim is the rows' items where they can be read, else the Lasku total (`whole_claim`).
    """
    header = inv.header
    month = header.billing_month or parse_month(batch)
    finding = Finding("X900", Location(inv.source_file), found=type(error).__name__,
                      provider_id=header.provider_id, invoice_no=header.invoice_no)
    items, rows = whole_claim(inv, rates_for(config, month), "hold")
    return InvoiceResult(
        invoice=inv, provider_id=header.provider_id, invoice_no=header.invoice_no, billing_month=month, lang=lang,
        status="held", items=items, rows=rows, day_outcomes=None, findings=[*inv.findings, finding],
    )
