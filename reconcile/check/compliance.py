"""Compliance checks: warnings that carry no money (RULES.md section 4).

    R214  guidance_minimum  individual guidance below the month's share of the minimum
    R215  guidance_log      the `Ohjaus` sheet's hours differ from the row's
    R219  assessments       Kykyviisari at the start, VAT at the end of the period, unreported
    R224  register_findings a decision in force this month shorter than 3 or longer than
                            24 months; on the register, once per batch

R214, R215 and R219 look at the rows whose decision is this provider's (not
rejected as a whole, or held for R218), in every invoice of the batch at once.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from reconcile.check.work import GUIDANCE_COLUMNS, Work, ensure
from reconcile.findings import Finding, Location
from reconcile.model import History, Registers
from reconcile.periods import last_day_expr, month_end
from reconcile.text.format import date, hours
from schemas import SHEETS


class _Findings:
    """The compliance findings of every invoice, by invoice index."""

    def __init__(self, live: list[Work]):
        self.works = {w.index: w for w in live}
        self.out: dict[int, list[Finding]] = {w.index: [] for w in live}

    def add(self, r: dict, rule: str, column: str, expected: str, found: str, day: dt.date | None = None,
            **params) -> None:
        w = self.works[r["inv"]]
        self.out[w.index].append(Finding(rule, w.where("clients", column, r["row"]), decision_id=r["decision_id"],
                                         date=day, expected=expected, found=found, params=params,
                                         provider_id=w.provider_id, invoice_no=w.invoice_no, row=r["row"]))

    def present(self, r: dict) -> set[str]:
        return self.works[r["inv"]].present("clients")


def compliance(priced: pl.DataFrame, live: list[Work], history: History) -> dict[int, list[Finding]]:
    """R214, R215 and R219 (warnings) on rows whose decision is this provider's, by invoice index."""
    found = _Findings(live)
    known = priced.filter(pl.col("verdict").is_null() | (pl.col("verdict") == "R218")).with_columns(
        d_last=last_day_expr("d_end", "d_terminated"), month_end=pl.col("month").dt.month_end()
    )
    guidance_minimum(known, found)
    guidance_log(priced, known, live, found)
    assessments(priced, known, history, found)
    return found.out


def guidance_minimum(known: pl.DataFrame, found: _Findings) -> None:
    """R214: the monthly minimum times the share of the month inside the period, rounded half up."""
    inside = ((pl.min_horizontal("d_last", "month_end") - pl.max_horizontal("d_start", "month")).dt.total_days() + 1)
    month_days = pl.col("month_end").dt.day().cast(pl.Int64)
    minimum = pl.coalesce("d_guidance_min_h100", "guidance_default_h100")
    below = known.with_columns(
        minimum=minimum,
        threshold=(2 * minimum * inside.clip(lower_bound=0) + month_days) // (2 * month_days),
        given=pl.col("guidance_individual_h100").fill_null(0),
    ).filter((pl.col("threshold") > 0) & (pl.col("given") < pl.col("threshold")))
    for r in below.iter_rows(named=True):
        if "guidance_individual_h100" in found.present(r):
            found.add(r, "R214", "guidance_individual_h100", hours(r["threshold"]), hours(r["given"]),
                      minimum=hours(r["minimum"]))


def guidance_log(priced: pl.DataFrame, known: pl.DataFrame, live: list[Work], found: _Findings) -> None:
    """R215: the Ohjaus log's hours (individual and group together) against the row's."""
    logs = [ensure(w.invoice.guidance, GUIDANCE_COLUMNS).with_columns(inv=pl.lit(w.index, dtype=pl.Int64))
            for w in live if w.invoice.guidance is not None]
    if not logs:
        return
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
        present = found.present(r)
        column = next((c for c in ("guidance_individual_h100", "guidance_group_h100") if c in present), None)
        if column:
            found.add(r, "R215", column, hours(r["row_h100"]), hours(r["log_h100"]))


def assessments(priced: pl.DataFrame, known: pl.DataFrame, history: History, found: _Findings) -> None:
    """R219: assessments at the start (the period's 30th day) and the end (its last day).
    Reported: on a row of this batch not rejected as a whole (as the ledger keeps them), or in the ledger."""
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
            present = found.present(r)
            column = next((c for c in ("kykyviisari_date", "vat_date") if c in present), "decision_id")
            expected = (f"≥ {date(r['d_start'])}" if kind == "start" else
                        f"{date(r['d_last'] - dt.timedelta(days=59))}–{date(r['d_last'])}")
            found.add(r, "R219", column, expected, "", r["due"], kind=kind)


def register_findings(registers: Registers, month: dt.date) -> list[Finding]:
    """R224: decisions in force at any time in the batch month whose period is shorter
    than 3 or longer than 24 months; once per batch, with the decision's provider."""
    source = registers.sources.get("decisions")
    where = Location(source.source_file if source else "", SHEETS["decisions"][0], None)
    last = last_day_expr()
    odd = (
        registers.decisions.filter((pl.col("start") <= month_end(month)) & (last >= month))
        .with_columns(
            short=pl.col("end") < pl.col("start").dt.offset_by("3mo") - pl.duration(days=1),
            long=pl.col("end") > pl.col("start").dt.offset_by("24mo") - pl.duration(days=1),
        )
        .filter(pl.col("short") | pl.col("long"))
        .sort("row")
    )
    return [
        Finding("R224", where, decision_id=r["decision_id"], expected="3–24 months",
                found=f"{date(r['start'])}–{date(r['end'])}", provider_id=r["provider_id"],
                params={"row": r["row"], "too": "short" if r["short"] else "long"})
        for r in odd.iter_rows(named=True)
    ]
