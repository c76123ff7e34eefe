"""Day checks: one outcome per day cell of `Läsnäolo` (RULES.md section 4).

A day the reader or its row already rejects keeps that code. Every other day
goes through the day checks in order; the first that fails decides the day:

    R222  the day is not a date of the billed month
    R204  the date is outside the decision's period (start to min(end, terminated))
    R206  fewer than 4 hours
    R217  the client's day is paid in the ledger on another invoice
    R216  the same client and date on another invoice of this batch, or on another
          decision of this one: held, not rejected
    R205  more days in a Monday-Sunday week than the decision allows (at most 4)

Days that pass on a row held as a whole are held. Then the warnings on paid
days: R207 (a Sunday or a Finnish public holiday) and R226 (more than 8 hours).
"""

from __future__ import annotations

import holidays
import polars as pl

from reconcile.check.work import Work
from reconcile.findings import Finding
from reconcile.model import History
from reconcile.periods import last_day, month_end
from reconcile.text.format import date, hours

WEEK_LIMIT = 4  # law 189/2001 § 13: at most 4 days a calendar week
MIN_HOURS_H100 = 400
LONG_DAY_H100 = 800


def decide_days(days: pl.DataFrame, attendance: pl.DataFrame, rows: pl.DataFrame, history: History) -> pl.DataFrame:
    """One outcome per day cell: `rule` is the code deciding it (null when paid),
    `check` the day check that failed (a day finding), `outcome` paid / held / rejected."""
    days = _with_owner(days, attendance, rows)
    days = days.join(_paid_elsewhere(days, history), on=["inv", "cell"], how="left")
    days = days.with_columns(pre=_decided_before()).with_columns(
        check=pl.when(pl.col("pre").is_null()).then(_day_checks())
    )
    days = double_billing(days, history)
    days = weekly_limit(days, history)
    rule = pl.coalesce("pre", "check")
    days = days.with_columns(
        rule=pl.when(rule.is_null() & (pl.col("whole") == "hold")).then(pl.col("verdict")).otherwise(rule),
        outcome=pl.when(pl.col("check") == "R216").then(pl.lit("held"))
        .when(rule.is_not_null()).then(pl.lit("rejected"))
        .when(pl.col("whole") == "hold").then(pl.lit("held"))
        .otherwise(pl.lit("paid")),
    )
    return paid_day_warnings(days)


def _with_owner(days: pl.DataFrame, attendance: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Each day cell with its `Läsnäolo` row's rejection and the `Asiakkaat` row that owns
    it: the first one not rejected, else the first."""
    owner = (
        rows.filter(pl.col("att_row").is_not_null())
        .sort("inv", pl.col("rejected").is_not_null(), "row")
        .unique(subset=["inv", "att_row"], keep="first", maintain_order=True)
        .select("inv", pl.col("att_row").alias("row"), pl.col("row").alias("client_row"), "verdict", "whole",
                pl.col("decision_id").alias("d_decision"), "d_hetu", "d_start", "d_end", "d_terminated", "d_days_per_week", "d_hours_h100", "d_value_cents")
    )
    return (
        days.join(attendance.select("inv", "row", pl.col("rejected").alias("att_rejected")), on=["inv", "row"], how="left")
        .join(owner, on=["inv", "row"], how="left")
        .with_columns(
            hours=pl.when(pl.col("code") == "X").then(pl.col("d_hours_h100")).otherwise(pl.col("hours_h100")),
            col_order=pl.col("cell").str.extract(r"^([A-Z]+)").str.len_chars(),
        )
        .sort("inv", "row", "col_order", "cell")
    )


def _decided_before() -> pl.Expr:
    """The code that decided the day before the day checks: the reader's V105 on the cell,
    its `Läsnäolo` row's rejection, R223 (no `Asiakkaat` row), or its row's rejection."""
    return (
        pl.when(pl.col("code") == "?").then(pl.lit("V105"))
        .when(pl.col("att_rejected").is_not_null()).then(pl.col("att_rejected"))
        .when(pl.col("client_row").is_null()).then(pl.lit("R223"))
        .when(pl.col("whole") == "reject").then(pl.col("verdict"))
    )


def _paid_elsewhere(days: pl.DataFrame, history: History) -> pl.DataFrame:
    """The day cells whose client and date the ledger paid on another invoice (for R217)."""
    paid = history.paid_days.select(
        pl.col("hetu").str.to_uppercase().alias("d_hetu"), "date",
        pl.col("provider_id").alias("h_provider"), pl.col("invoice_no").alias("h_invoice_no"),
    ).unique()
    return (
        days.select("inv", "cell", "d_hetu", "date", "provider", "invoice_no")
        .join(paid, on=["d_hetu", "date"], how="inner")
        .filter((pl.col("h_provider") != pl.col("provider")) | (pl.col("h_invoice_no") != pl.col("invoice_no")))
        .select("inv", "cell").unique()
        .with_columns(paid_elsewhere=pl.lit(True))
    )


def _day_checks() -> pl.Expr:
    """R222, R204, R206, R217: the first that fails."""
    return (
        pl.when(pl.col("date").is_null()).then(pl.lit("R222"))
        .when((pl.col("date") < pl.col("d_start")) | (pl.col("date") > pl.col("d_end"))
              | (pl.col("date") > pl.col("d_terminated")).fill_null(False)).then(pl.lit("R204"))
        .when(pl.col("hours").fill_null(0) < MIN_HOURS_H100).then(pl.lit("R206"))
        .when(pl.col("paid_elsewhere").fill_null(False)).then(pl.lit("R217"))
    )


def double_billing(days: pl.DataFrame, history: History | None = None) -> pl.DataFrame:
    """R216: the same client and date on another invoice of this batch, or on another decision
    of this one (either is double billing), among the days that passed so far; or (RULES.md
    version 2) the same client and date still held, unanswered, from an earlier batch
    (`history.held_days`, which `check_batch` narrows to the batches before this one)."""
    passed = pl.col("pre").is_null() & pl.col("check").is_null()
    same_day = ["d_hetu", "date"]
    claim = pl.struct("inv", "d_decision")
    held = history.held_days if history is not None else None
    if held is not None and held.height:
        earlier = held.select(pl.col("hetu").str.to_uppercase().alias("d_hetu"), "date").unique()
        days = days.join(earlier.with_columns(held_earlier=pl.lit(True)), on=same_day, how="left")
    else:
        days = days.with_columns(held_earlier=pl.lit(None, dtype=pl.Boolean))
    days = days.with_columns(held_earlier=pl.col("held_earlier").fill_null(False))
    return days.with_columns(
        double=passed & ((claim.filter(passed).n_unique().over(same_day) > 1) | pl.col("held_earlier")),
        other_provider=pl.col("provider").filter(passed).n_unique().over(same_day) > 1,
        other_invoice=pl.col("inv").filter(passed).n_unique().over(same_day) > 1,
    ).with_columns(check=pl.when(pl.col("double")).then(pl.lit("R216")).otherwise(pl.col("check")))


def weekly_limit(days: pl.DataFrame, history: History) -> pl.DataFrame:
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


def paid_day_warnings(days: pl.DataFrame) -> pl.DataFrame:
    """R207 (a Sunday or a Finnish public holiday) and R226 (more than 8 hours) on paid days."""
    holiday_dates = pl.Series(sorted(finnish_holidays(days.get_column("date"))), dtype=pl.Date)
    is_paid = pl.col("outcome") == "paid"
    return days.with_columns(
        r207=is_paid & ((pl.col("date").dt.weekday() == 7) | pl.col("date").is_in(holiday_dates.implode())),
        r226=is_paid & (pl.col("hours") > LONG_DAY_H100),
    )


def finnish_holidays(dates: pl.Series) -> holidays.HolidayBase:
    """Finnish public holidays of the years the dates fall in, named in Finnish whatever the
    machine's locale, so that the same inputs give the same bytes."""
    return holidays.Finland(years=sorted({d.year for d in dates.drop_nulls().unique()}), language="fi")


def day_findings(w: Work, flagged: pl.DataFrame, fi_holidays: holidays.HolidayBase) -> list[Finding]:
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
            add(rule, str(month_end(w.month).day), "" if d["day"] is None else str(d["day"]), value, raw=d["raw"])
        elif rule == "R204":
            add(rule, f"{date(d['d_start'])}–{date(last_day(d['d_end'], d['d_terminated']))}", date(day), value)
        elif rule == "R206":
            add(rule, "4.00", hours(d["hours"]), value)
        elif rule == "R217":
            add(rule, "", date(day), value)
        elif rule == "R216":
            other = ("another provider" if d["other_provider"] else
                     "another invoice" if d["other_invoice"] else
                     "an earlier batch" if d["held_earlier"] else "another decision")
            add(rule, "", other, value, other=other)
        elif rule == "R205":
            add(rule, str(d["limit"]), str(d["prior"] + d["rank"]), value, week=date(d["week"]),
                limit=d["limit"], paid_before=d["prior"])
        if d["r207"]:
            name = fi_holidays.get(day) or "sunnuntai"
            add("R207", "", name, holiday=name)
        if d["r226"]:
            add("R226", "8.00", hours(d["hours"]))
    return out
