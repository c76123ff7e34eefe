"""Trends across months (CONTRACT.md section 9): the figures, as data.

Reads only what the ledger keeps (`TrendRecord`: invoices, the per-row
record each run keeps, days and assessments) and the decisions register;
never an invoice workbook. `compute` returns one long frame, a row per
month, provider (`""` for the city) and measure, with the value as the CSV
shows it and as a number for the workbook. It reads and writes nothing:
`reconcile.reporting` gives it the ledger's record and the register, and
`write.trends_xlsx` lays the figures out.

A month is a batch: the figures of 2026-03 are batch 2026-03's (its late
invoices for earlier months included) and the register's periods of March
2026. A month without a batch in the ledger has no rows.

Definitions (section 9, and where it leaves room, also in the README):
- a client is a person (henkilötunnus), counted once per provider and once for
  the city; the person of a row is its own valid henkilötunnus, else its
  decision's (`report.rows`);
- clients billed, days and decisions billed come from the invoices the ledger
  recorded, i.e. not rejected as a whole by an F rule;
- a client meets the guidance minimum when R214 found at least one of their
  rows (of that provider, or of any provider for the city) meeting it and none
  below it; the share is of all clients billed, so a client R214 could not
  check (no guidance column, row rejected as a whole) does not meet it;
- an assessment is on record for a decision billed when the ledger holds a
  Kykyviisari or VAT date for it from this batch or an earlier one, dated on
  or before the month's last day;
- a period ends on its termination date when that is before its end date;
- a repeat: another period of the same person starting after the end and at
  most 6 calendar months after it (ended 15 January: a start on 15 July counts,
  16 July does not; ended 31 August: up to 28 February). A month's figure is
  known once 6 months after the month's last day have passed by the last day
  of the `--to` month; before that it is empty;
- euros per paid day: euros approved / days paid, rounded half up to the cent,
  empty without paid days; shares: rounded half up to three decimals, empty
  when there is no one to share;
- counts (clients, periods, days, next steps, repeats, sex and age) below 5
  are shown as `<5`, zero included;
- a batch recorded before the ledger kept the per-row record reports the
  register's figures, days paid and held and euros; its other figures are
  empty, and `Trends.missing` says which (run the batch again to fill them).

Days are counted by their outcome after resolution: where the ledger keeps
finance's answers on held days (a `resolutions` table, CONTRACT.md section
7), a held day paid counts as paid and one rejected as rejected; euros are
the invoices' approved totals as the ledger holds them (after resolution).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from reconcile.model import TrendRecord
from schemas.registers import NEXT_STEPS

# The contract's spelling of each next step (the register is matched case-folded).
NEXT_STEP_NAMES = {s.casefold(): s for s in ("työ", "koulutus", "työkokeilu", "TE-palvelu", "uusi jakso", "muu")}
assert set(NEXT_STEP_NAMES) == {s.casefold() for s in NEXT_STEPS}
AGE_BANDS = ((0, 24, "age:<25"), (25, 34, "age:25-34"), (35, 44, "age:35-44"), (45, 54, "age:45-54"),
             (55, 1000, "age:55+"))
SEXES = ("sex:female", "sex:male")
NEXT_MEASURES = tuple(f"next_step:{NEXT_STEP_NAMES[s.casefold()]}" for s in NEXT_STEPS)
MEASURES = (
    "clients_billed", "periods_started", "periods_ended", "days_paid", "days_held", "days_rejected",
    "euros_approved", "euros_per_paid_day", "guidance_met_share", "assessment_share",
    *NEXT_MEASURES, "repeat_within_6_months", *SEXES, *(label for _, _, label in AGE_BANDS),
)
EUROS = {"euros_approved", "euros_per_paid_day"}
SHARES = {"guidance_met_share", "assessment_share"}
COUNTS = set(MEASURES) - EUROS - SHARES
# What only the per-row record can tell: empty for a batch recorded before it.
ROW_MEASURES = ("clients_billed", "days_rejected", "guidance_met_share", "assessment_share", *SEXES,
                *(label for _, _, label in AGE_BANDS))
REPEAT_MONTHS = 6
MASK_BELOW = 5
CITY = ""
CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
           "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}


def month_end(month: str) -> dt.date:
    year, mon = (int(p) for p in month.split("-"))
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])


def add_months(day: dt.date, n: int) -> dt.date:
    """The same day n calendar months later, or that month's last day when it has no such day."""
    m = day.month - 1 + n
    year, mon = day.year + m // 12, m % 12 + 1
    return dt.date(year, mon, min(day.day, calendar.monthrange(year, mon)[1]))


def _add_months_expr(col: pl.Expr, n: int) -> pl.Expr:
    return col.dt.offset_by(f"{n}mo")  # Polars clamps to the month's last day, as add_months does


@dataclass
class Trends:
    """The report's figures: `frame` has month, provider_id, measure, value (as in trends.csv)
    and number (the unmasked figure for the workbook: count, euros or share; null when empty
    or masked). `missing` lists the batches recorded before the per-row record."""

    first: str
    last: str
    frame: pl.DataFrame
    months: list[str]
    providers: list[str]
    missing: list[str] = field(default_factory=list)
    repeats_unknown: list[str] = field(default_factory=list)


def _periods(decisions: pl.DataFrame) -> pl.DataFrame:
    return decisions.select(
        "decision_id", pl.col("hetu").str.to_uppercase(), "provider_id", "start",
        end=pl.when(pl.col("terminated").is_not_null() & (pl.col("terminated") < pl.col("end")))
        .then(pl.col("terminated")).otherwise(pl.col("end")),
        next_step=pl.col("next_step").str.to_lowercase(),
    )


def _by_group(frame: pl.DataFrame, keys: list[str], aggs: list[pl.Expr]) -> pl.DataFrame:
    """Per (month, provider) and per month for the city (provider_id ""): `aggs` over `frame`,
    whose `provider_id` rows are first made distinct on `keys` per level."""
    mine = frame.unique(subset=["month", "provider_id", *keys]).group_by("month", "provider_id").agg(aggs)
    city = frame.unique(subset=["month", *keys]).group_by("month").agg(aggs).with_columns(provider_id=pl.lit(CITY))
    return pl.concat([mine, city.select(mine.columns)])


def _people(rows: pl.DataFrame) -> pl.DataFrame:
    """Per month and provider (and city): clients billed, guidance met, sex and age bands."""
    people = rows.filter(pl.col("hetu").is_not_null())
    status = people.group_by("month", "provider_id", "hetu").agg(
        met=(pl.col("guidance") == "met").any() & ~(pl.col("guidance") == "below").any())
    city = people.group_by("month", "hetu").agg(
        met=(pl.col("guidance") == "met").any() & ~(pl.col("guidance") == "below").any()
    ).with_columns(provider_id=pl.lit(CITY))
    both = pl.concat([status, city.select(status.columns)])
    h = pl.col("hetu")
    century = h.str.slice(6, 1).replace_strict(CENTURY, default=None, return_dtype=pl.Int32)
    born = pl.date(century + h.str.slice(4, 2).cast(pl.Int32, strict=False),
                   h.str.slice(2, 2).cast(pl.Int32, strict=False), h.str.slice(0, 2).cast(pl.Int32, strict=False))
    last = pl.col("month").str.to_date("%Y-%m").dt.month_end()
    age = (last.dt.year() - pl.col("born").dt.year()
           - ((last.dt.month() * 100 + last.dt.day()) < (pl.col("born").dt.month() * 100 + pl.col("born").dt.day()))
           .cast(pl.Int32))
    both = both.with_columns(born=born, number=h.str.slice(7, 3).cast(pl.Int32, strict=False)).with_columns(
        known=pl.col("born").is_not_null() & pl.col("number").is_not_null() & (pl.col("born") <= last), age=age)
    aggs = [pl.len().alias("clients_billed"), pl.col("met").sum().alias("met"),
            (pl.col("known") & (pl.col("number") % 2 == 0)).sum().alias("sex:female"),
            (pl.col("known") & (pl.col("number") % 2 == 1)).sum().alias("sex:male")]
    aggs += [(pl.col("known") & pl.col("age").is_between(low, high)).sum().alias(label) for low, high, label in AGE_BANDS]
    return both.group_by("month", "provider_id").agg(aggs)


def _assessed(rows: pl.DataFrame, assessments: pl.DataFrame) -> pl.DataFrame:
    """Per month and provider (and city): decisions billed, and those with an assessment on record."""
    billed = rows.filter(pl.col("decision_id").is_not_null()).select("month", "provider_id", "decision_id").unique()
    done = (
        billed.select("month", "decision_id").unique()
        .join(assessments.rename({"batch": "a_batch"}), on="decision_id", how="inner")
        .filter((pl.col("a_batch") <= pl.col("month"))
                & (pl.col("date") <= pl.col("month").str.to_date("%Y-%m").dt.month_end()))
        .select("month", "decision_id").unique().with_columns(on_record=pl.lit(True))
    )
    billed = billed.join(done, on=["month", "decision_id"], how="left").with_columns(pl.col("on_record").fill_null(False))
    return _by_group(billed, ["decision_id"], [pl.len().alias("decisions"), pl.col("on_record").sum().alias("assessed")])


def _register(decisions: pl.DataFrame, months: list[str], last: str) -> pl.DataFrame:
    """Per month and provider (and city): periods started and ended, next steps, repeats (null while unknown)."""
    periods = _periods(decisions)
    month_list = pl.DataFrame({"month": months}, schema={"month": pl.Utf8})
    started = periods.select("provider_id", month=pl.col("start").dt.strftime("%Y-%m")).join(month_list, on="month")
    ended = periods.with_columns(month=pl.col("end").dt.strftime("%Y-%m")).join(month_list, on="month")
    later = periods.select("hetu", pl.col("start").alias("next_start"))
    repeats = (
        ended.select("decision_id", "hetu", "end").join(later, on="hetu", how="inner")
        .filter((pl.col("next_start") > pl.col("end"))
                & (pl.col("next_start") <= _add_months_expr(pl.col("end"), REPEAT_MONTHS)))
        .select("decision_id").unique().with_columns(repeat=pl.lit(True))
    )
    ended = ended.join(repeats, on="decision_id", how="left").with_columns(pl.col("repeat").fill_null(False))
    aggs_end = [pl.len().alias("periods_ended"), pl.col("repeat").sum().alias("repeat_within_6_months")]
    aggs_end += [(pl.col("next_step") == s.casefold()).sum().alias(m) for s, m in zip(NEXT_STEPS, NEXT_MEASURES)]

    def levels(frame: pl.DataFrame, aggs: list[pl.Expr]) -> pl.DataFrame:
        mine = frame.group_by("month", "provider_id").agg(aggs)
        city = frame.group_by("month").agg(aggs).with_columns(provider_id=pl.lit(CITY))
        return pl.concat([mine, city.select(mine.columns)])

    out = levels(started, [pl.len().alias("periods_started")]).join(
        levels(ended, aggs_end), on=["month", "provider_id"], how="full", coalesce=True)
    known = [m for m in months if add_months(month_end(m), REPEAT_MONTHS) <= month_end(last)]
    return out.with_columns(
        pl.when(pl.col("month").is_in(known)).then(pl.col("repeat_within_6_months").fill_null(0))
        .alias("repeat_within_6_months"))


def compute(record: TrendRecord, decisions: pl.DataFrame, first: str, last: str) -> Trends:
    """Every figure of section 9 for the batches `first`..`last` in the record."""
    batches = record.batches.filter(pl.col("batch").is_between(pl.lit(first), pl.lit(last))).sort("batch")
    months = batches.get_column("batch").to_list()
    with_rows = batches.filter(pl.col("trends")).get_column("batch").to_list()
    missing = [m for m in months if m not in with_rows]

    rows = record.rows.filter(pl.col("batch").is_in(with_rows)).rename({"batch": "month"})
    invoices = record.invoices.filter(pl.col("batch").is_in(months)).rename({"batch": "month"})
    old_days = record.days.filter(pl.col("batch").is_in(missing)).rename({"batch": "month"})

    keys = ["month", "provider_id"]
    money = _by_sum(invoices, {"euros_approved": pl.col("approved_cents")})
    days = _by_sum(rows, {m: pl.col(m) for m in ("days_paid", "days_held", "days_rejected")})
    old = _by_sum(old_days, {"days_paid": pl.col("n").filter(pl.col("state") == "paid"),
                             "days_held": pl.col("n").filter(pl.col("state") == "held")})
    days = pl.concat([days, old.with_columns(days_rejected=pl.lit(None, dtype=pl.Int64)).select(days.columns)])
    # Held days finance has resolved since the run: paid ones move to paid, rejected ones to rejected.
    resolved = _by_sum(record.resolutions.filter(pl.col("batch").is_in(months)).rename({"batch": "month"}),
                       {"pay": pl.col("n").filter(pl.col("resolution") == "pay"),
                        "reject": pl.col("n").filter(pl.col("resolution") == "reject")})
    days = days.join(resolved, on=keys, how="left").with_columns(pl.col("pay", "reject").fill_null(0)).select(
        *keys, days_paid=pl.col("days_paid") + pl.col("pay"),
        days_held=pl.col("days_held") - pl.col("pay") - pl.col("reject"),
        days_rejected=pl.col("days_rejected") + pl.col("reject"))
    people = _people(rows)
    assessed = _assessed(rows, record.assessments)
    register = _register(decisions, months, last)

    # Who appears in a month: every provider with a recorded invoice or a period starting or ending.
    scope = pl.concat([
        invoices.select(keys), register.select(keys),
        pl.DataFrame({"month": months, "provider_id": [CITY] * len(months)}, schema={"month": pl.Utf8, "provider_id": pl.Utf8}),
    ]).unique()
    wide = scope
    for part in (money, days, people, assessed, register):
        wide = wide.join(part, on=keys, how="left")
    has_rows = pl.col("month").is_in(with_rows)
    zero_counts = ["euros_approved", "days_paid", "days_held", "periods_started", "periods_ended", *NEXT_MEASURES]
    wide = wide.with_columns(
        *(pl.col(c).fill_null(0) for c in zero_counts),
        *(pl.when(has_rows).then(pl.col(c).fill_null(0)) for c in
          ("days_rejected", "clients_billed", "met", "decisions", "assessed", *SEXES,
           *(label for _, _, label in AGE_BANDS))),
    )
    frame = _long(wide)
    providers = sorted(set(wide.get_column("provider_id").to_list()) - {CITY})
    repeats_unknown = [m for m in months if add_months(month_end(m), REPEAT_MONTHS) > month_end(last)]
    return Trends(first, last, frame, months, providers, missing, repeats_unknown)


def _by_sum(frame: pl.DataFrame, sums: dict[str, pl.Expr]) -> pl.DataFrame:
    aggs = [e.sum().cast(pl.Int64).alias(name) for name, e in sums.items()]
    mine = frame.group_by("month", "provider_id").agg(aggs)
    city = frame.group_by("month").agg(aggs).with_columns(provider_id=pl.lit(CITY))
    return pl.concat([mine, city.select(mine.columns)]) if frame.height else mine


def _long(wide: pl.DataFrame) -> pl.DataFrame:
    """One row per month, provider and measure, in the contract's order; value formatted, number raw.

    Vectorised in Polars with integer arithmetic only: a half-up rounding of a / b
    is (2a + b) // 2b, for euros per day in cents and for shares in thousandths.
    """
    def euro_text(cents: pl.Expr) -> pl.Expr:  # never negative here: approved euros
        return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.Utf8).str.zfill(2))

    def ratio(part: str, whole: str) -> pl.Expr:  # thousandths, half up; null without a whole
        return pl.when(pl.col(whole) > 0).then((2000 * pl.col(part) + pl.col(whole)) // (2 * pl.col(whole)))

    per_day = pl.when(pl.col("days_paid") > 0).then(
        (2 * pl.col("euros_approved") + pl.col("days_paid")) // (2 * pl.col("days_paid")))
    shares = {"guidance_met_share": ratio("met", "clients_billed"), "assessment_share": ratio("assessed", "decisions")}
    values, numbers = [], []
    for m in MEASURES:
        if m in EUROS:
            cents = pl.col("euros_approved") if m == "euros_approved" else per_day
            values.append(euro_text(cents).alias(m))
            numbers.append((cents / 100).alias(m))
        elif m in SHARES:
            q = shares[m]
            values.append(pl.format("{}.{}", q // 1000, (q % 1000).cast(pl.Utf8).str.zfill(3)).alias(m))
            numbers.append((q / 1000).alias(m))
        else:
            n = pl.col(m)
            values.append(pl.when(n < MASK_BELOW).then(pl.lit("<5")).otherwise(n.cast(pl.Utf8)).alias(m))
            numbers.append(pl.when(n >= MASK_BELOW).then(n.cast(pl.Float64)).alias(m))
    keys = ["month", "provider_id"]
    base = wide.sort(keys)
    text = base.select(*keys, *values).unpivot(index=keys, variable_name="measure", value_name="value")
    number = base.select(*keys, *(e.cast(pl.Float64) for e in numbers)).unpivot(
        index=keys, variable_name="measure", value_name="number")
    order = pl.col("measure").replace_strict({m: i for i, m in enumerate(MEASURES)}, return_dtype=pl.Int64)
    return (text.with_columns(value=pl.col("value").fill_null(""), number=number.get_column("number"))
            .sort(*keys, order))
