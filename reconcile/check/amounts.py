"""Amounts: what each row's items claim, and how much is approved, held and rejected.

Pipeline position: after `crosscheck` has decided every day (paid, held,
rejected) and every row (whole, rejected or held as a whole); before the
writers. Works on one frame of client rows at a time, vectorised, in
integer cents only (RULES.md section 3, Amounts):

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

from typing import Callable

import polars as pl

from reconcile.findings import Finding, Location
from reconcile.model import ITEMS, Money
from schemas import columns
from schemas.invoice import Clients

HEADERS = {c.field: c for c in columns(Clients)}
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


def fatal_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """A workbook rejected as a whole: every item of every readable row is rejected."""
    return price_rows(rows.with_columns(whole=pl.lit("reject"), days_paid_raw=pl.lit(0), days_held_raw=pl.lit(0)))


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


def euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def candidates(priced: pl.DataFrame) -> pl.DataFrame:
    """The rows `row_findings` may have something to say about, picked out vectorised."""
    c = pl.col("days_claimed").fill_null(0)
    v = pl.col("d_value_cents").fill_null(0)
    own = pl.col("day_value_cents")
    items = pl.sum_horizontal(*(pl.col(f"{i}_claimed") for i in ITEMS))
    paid_or_held = pl.col("days_paid") + pl.col("days_held")
    return priced.filter(
        pl.col("whole").is_null()
        & ((c != pl.col("n_cells"))
           | (own.is_not_null() & (own != v))
           | (pl.col("fee_claimed") != c * pl.coalesce(own, v))
           | ((pl.col("meals").fill_null(0) > 0)
              & ((pl.col("d_meal") != "tuottaja") | (pl.col("meals") > paid_or_held)))
           | ((pl.col("meal_comp_days").fill_null(0) > 0)
              & ((pl.col("d_meal") != "korvaus") | (pl.col("meal_comp_days") > paid_or_held)))
           | (pl.col("travel_claimed") > paid_or_held * pl.col("d_travel_cents").fill_null(0))
           | (pl.col("total_cents").is_not_null() & (pl.col("total_cents") != items)))
    )


def row_findings(
    priced: pl.DataFrame,
    where: Callable[[str, int], Location],
    present: set[str],
    provider_id: str | None,
    invoice_no: str | None,
    lang: str = "fi",
) -> list[Finding]:
    """R208-R213 and R221 on the rows that are neither rejected nor held as a whole
    (`candidates` picks them out of a batch first, for speed).

    `where(field, row)` is the cell of a column on `Asiakkaat`; `present` the
    fields whose column the sheet has (a missing column skips its check).
    `n_cells` is the number of day cells claiming attendance on the row's
    `Läsnäolo` row. `lang` is the provider's, for the column names R211 quotes.
    """
    out: list[Finding] = []
    for r in priced.filter(pl.col("whole").is_null()).iter_rows(named=True):

        def add(rule: str, field: str, expected: str, found: str, amount: int, **params) -> None:
            out.append(Finding(rule, where(field, r["row"]), decision_id=r["decision_id"], expected=expected,
                               found=found, amount_cents=amount, params=params, provider_id=provider_id,
                               invoice_no=invoice_no, row=r["row"]))

        c = r["days_claimed"] or 0
        v = r["d_value_cents"] or 0
        if c != r["n_cells"]:
            add("R208", "days_claimed", str(r["n_cells"]), str(c), -min(max(0, c - r["n_cells"]) * v, r["fee_claimed"]),
                days=c, cells=r["n_cells"])
        own = r["day_value_cents"]
        if "day_value_cents" in present and own is not None and own != v:
            add("R209", "day_value_cents", euros(v), euros(own), -min(max(0, c * (own - v)), r["fee_claimed"]),
                value=euros(v))
        per_day = own if own is not None else v
        if r["fee_claimed"] != c * per_day:
            add("R210", "fee_cents", euros(c * per_day), euros(r["fee_claimed"]), -max(0, r["fee_claimed"] - c * per_day),
                days=c, value=euros(per_day))
        paid_or_held = r["days_paid"] + r["days_held"]
        for item, field, code in (("meals", "meals", "tuottaja"), ("meal_comp", "meal_comp_days", "korvaus")):
            count = r[field] or 0
            if count == 0:
                continue
            if r["d_meal"] != code:
                add("R211", field, r["d_meal"] or "", HEADERS[field].header(lang), -r[f"{item}_claimed"], count=count)
            elif count > paid_or_held:
                add("R212", field, str(paid_or_held), str(count), -r[f"{item}_rejected"], days=paid_or_held)
        travel_max = paid_or_held * (r["d_travel_cents"] or 0)
        if r["travel_claimed"] > travel_max:
            add("R213", "travel_cents", euros(travel_max), euros(r["travel_claimed"]), -r["travel_rejected"],
                days=paid_or_held, per_day=euros(r["d_travel_cents"] or 0))
        items_total = sum(r[f"{i}_claimed"] for i in ITEMS)
        if "total_cents" in present and r["total_cents"] is not None and r["total_cents"] != items_total:
            add("R221", "total_cents", euros(items_total), euros(r["total_cents"]), 0)
    return out
