"""Amounts: what each row's items claim, and how much is approved, held and rejected.

Pipeline position: after `rows` and `days` have decided every day (paid, held,
rejected) and every row (whole, rejected or held as a whole); before the
writers; `amount_findings` explains the differences. Works on one frame of
client rows at a time, vectorised, in integer cents only (RULES.md section 3,
Amounts):

    C  claimed days (`Läsnäolopäivät`), A paid days, H held days, v day value
    A' = min(A, C),  H' = min(H, C - A')
    approved = min(approved at most, claimed)
    held     = min(held at most, claimed - approved)
    rejected = claimed - approved - held

Input columns of `price_rows` (one row per `Asiakkaat` row): `days_claimed`,
`fee_cents`, `meals`, `meal_comp_days`, `travel_cents`, `whole` ("reject",
"hold" or null), `days_paid_raw` (A), `days_held_raw` (H), `d_value_cents` (v),
`d_travel_cents`, `d_meal` (the decision's Ateria), `meal_price_cents`,
`meal_comp_cents` (the rates of the billed month).
"""

from __future__ import annotations

import polars as pl

from reconcile.model import ITEMS, Money
# What `price_rows` reads, kept in a result's rows so that finance's answers can re-price them.
ROW_INPUTS = ("days_claimed", "fee_cents", "meals", "meal_comp_days", "travel_cents", "days_paid_raw",
              "days_held_raw", "d_value_cents", "d_travel_cents", "d_meal", "meal_price_cents", "meal_comp_cents")
# The columns of `InvoiceResult.rows`.
ROW_OUTPUT = ("row", "decision_id", *(f"{i}_{k}" for i in ITEMS for k in ("claimed", "approved", "held", "rejected")),
              "status", "whole", "days_paid", "days_held", *ROW_INPUTS)


def claimed_exprs() -> dict[str, pl.Expr]:
    """Each item's claim in cents; an empty or unreadable value claims nothing."""
    return {
        "fee_claimed": pl.col("fee_cents").fill_null(0),
        "meals_claimed": pl.col("meals").fill_null(0) * pl.col("meal_price_cents"),
        "meal_comp_claimed": pl.col("meal_comp_days").fill_null(0) * pl.col("meal_comp_cents"),
        "travel_claimed": pl.col("travel_cents").fill_null(0),
    }


def price_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """Add `{item}_claimed/_approved/_held/_rejected` for every item, `days_paid` (A'),
    `days_held` (H') and the row `status`."""
    c = pl.col("days_claimed").fill_null(0)
    a1 = pl.min_horizontal(pl.col("days_paid_raw"), c)
    out = rows.with_columns(**claimed_exprs(), days_paid=a1)
    h1 = pl.min_horizontal(pl.col("days_held_raw"), c - pl.col("days_paid"))
    out = out.with_columns(days_held=h1)
    a1, h1 = pl.col("days_paid"), pl.col("days_held")
    v = pl.col("d_value_cents").fill_null(0)
    t = pl.col("d_travel_cents").fill_null(0)
    meals, comp = pl.col("meals").fill_null(0), pl.col("meal_comp_days").fill_null(0)
    serves = pl.col("d_meal") == "tuottaja"
    compensates = pl.col("d_meal") == "korvaus"
    meals_paid = pl.min_horizontal(meals, a1)
    comp_paid = pl.min_horizontal(comp, a1)
    at_most = {
        "fee": (a1 * v, h1 * v),
        "meals": (
            pl.when(serves).then(meals_paid * pl.col("meal_price_cents")).otherwise(0),
            pl.when(serves).then(pl.min_horizontal(meals - meals_paid, h1) * pl.col("meal_price_cents")).otherwise(0),
        ),
        "meal_comp": (
            pl.when(compensates).then(comp_paid * pl.col("meal_comp_cents")).otherwise(0),
            pl.when(compensates).then(pl.min_horizontal(comp - comp_paid, h1) * pl.col("meal_comp_cents")).otherwise(0),
        ),
        "travel": (a1 * t, h1 * t),
    }
    whole = pl.col("whole")
    out = out.with_columns(
        **{
            f"{i}_approved": pl.when(whole.is_not_null()).then(0)
            .otherwise(pl.min_horizontal(approve, pl.col(f"{i}_claimed")))
            for i, (approve, _) in at_most.items()
        }
    )
    out = out.with_columns(
        **{
            f"{i}_held": pl.when(whole == "hold").then(pl.col(f"{i}_claimed"))
            .when(whole == "reject").then(0)
            .otherwise(pl.min_horizontal(hold, pl.col(f"{i}_claimed") - pl.col(f"{i}_approved")))
            for i, (_, hold) in at_most.items()
        }
    )
    out = out.with_columns(
        **{f"{i}_rejected": pl.col(f"{i}_claimed") - pl.col(f"{i}_approved") - pl.col(f"{i}_held") for i in ITEMS}
    )
    claimed = pl.sum_horizontal(*(pl.col(f"{i}_claimed") for i in ITEMS))
    approved = pl.sum_horizontal(*(pl.col(f"{i}_approved") for i in ITEMS))
    held = pl.sum_horizontal(*(pl.col(f"{i}_held") for i in ITEMS))
    status = (
        pl.when(whole == "reject").then(pl.lit("rejected"))
        .when(whole == "hold").then(pl.lit("held"))
        .when(approved == claimed).then(pl.lit("approved"))
        .when((approved == 0) & (held == 0)).then(pl.lit("rejected"))
        .when(approved == 0).then(pl.lit("held"))
        .otherwise(pl.lit("adjusted"))
    )
    # A row held as a whole holds the days that passed the checks (their outcome is
    # "held", and the ledger records them so), up to the days claimed.
    return out.with_columns(
        status=status,
        days_paid=pl.when(whole.is_null()).then(a1).otherwise(0),
        days_held=pl.when(whole.is_null()).then(h1)
        .when(whole == "hold").then(pl.min_horizontal(pl.col("days_held_raw"), c)).otherwise(0),
    )


def whole_rows(rows: pl.DataFrame, whole: str) -> pl.DataFrame:
    """A workbook decided as a whole, without its days: every item of every readable row is
    rejected (`whole` "reject") or held ("hold")."""
    return price_rows(rows.with_columns(whole=pl.lit(whole), days_paid_raw=pl.lit(0, dtype=pl.Int64),
                                        days_held_raw=pl.lit(0, dtype=pl.Int64)))


def sum_items(priced: pl.DataFrame) -> dict[str, Money]:
    """The invoice's items: sums of its rows."""
    sums = priced.select(
        pl.col(f"{i}_{k}").sum().alias(f"{i}_{k}") for i in ITEMS for k in ("claimed", "approved", "held", "rejected")
    ).row(0, named=True)
    return {i: Money(*(int(sums[f"{i}_{k}"] or 0) for k in ("claimed", "approved", "held", "rejected"))) for i in ITEMS}


def invoice_status(items: dict[str, Money], file_rule: str | None) -> str:
    """RULES.md section 3: duplicate, rejected, held, approved or partly approved."""
    if file_rule == "F007":
        return "duplicate"
    if file_rule is not None:
        return "rejected"
    total = Money()
    for m in items.values():
        total = total + m
    if total.approved == 0 and total.held == 0 and total.claimed > 0:
        return "rejected"
    if total.approved == 0 and total.held > 0:
        return "held"
    if total.approved == total.claimed:
        return "approved"
    return "partly_approved"
