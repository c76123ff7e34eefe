"""Amount findings: what a row's or an invoice's figures say against its days and decision
(RULES.md section 3). `amounts` prices the rows; this module explains the differences.

    R208  days_claimed   claimed days against the day cells claiming attendance
    R209  day_value      the row's day value against the decision's
    R210  fee            the service fee against claimed days × day value
    R211  meals          meals or meal compensation the decision does not provide
    R212  meals          more meals or compensation days than paid and held days
    R213  travel         travel above paid and held days × the decision's daily travel
    R221  row_total      the row's total against the sum of its items
    R220  invoice_total  the `Lasku` total against the sum of the rows' claims

R208-R213 and R221 are not reported on rows rejected or held as a whole.
"""

from __future__ import annotations

from typing import Callable

import polars as pl

from reconcile.check.work import Work
from reconcile.findings import Finding, Location
from reconcile.model import ITEMS
from reconcile.text.format import euros
from schemas import columns
from schemas.invoice import Clients

HEADERS = {c.field: c for c in columns(Clients)}

Add = Callable[..., None]  # add(rule, field, expected, found, amount, **params)


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


def days_claimed(r: dict, add: Add, present: set[str], lang: str) -> None:
    """R208: `Läsnäolopäivät` against the day cells; carries the fee of the days without a cell."""
    c, v = r["days_claimed"] or 0, r["d_value_cents"] or 0
    if c != r["n_cells"]:
        add("R208", "days_claimed", str(r["n_cells"]), str(c), -min(max(0, c - r["n_cells"]) * v, r["fee_claimed"]),
            days=c, cells=r["n_cells"])


def day_value(r: dict, add: Add, present: set[str], lang: str) -> None:
    """R209: the row's day value against the decision's."""
    c, v = r["days_claimed"] or 0, r["d_value_cents"] or 0
    own = r["day_value_cents"]
    if "day_value_cents" in present and own is not None and own != v:
        add("R209", "day_value_cents", euros(v), euros(own), -min(max(0, c * (own - v)), r["fee_claimed"]),
            value=euros(v))


def fee(r: dict, add: Add, present: set[str], lang: str) -> None:
    """R210: the service fee against claimed days × the row's day value (else the decision's)."""
    c, v = r["days_claimed"] or 0, r["d_value_cents"] or 0
    own = r["day_value_cents"]
    per_day = own if own is not None else v
    if r["fee_claimed"] != c * per_day:
        add("R210", "fee_cents", euros(c * per_day), euros(r["fee_claimed"]), -max(0, r["fee_claimed"] - c * per_day),
            days=c, value=euros(per_day))


def meals(r: dict, add: Add, present: set[str], lang: str) -> None:
    """R211 (the decision does not provide it), else R212 (more than paid and held days):
    meals, then meal compensation."""
    paid_or_held = r["days_paid"] + r["days_held"]
    for item, field, code in (("meals", "meals", "tuottaja"), ("meal_comp", "meal_comp_days", "korvaus")):
        count = r[field] or 0
        if count == 0:
            continue
        if r["d_meal"] != code:
            add("R211", field, r["d_meal"] or "", HEADERS[field].header(lang), -r[f"{item}_claimed"], count=count)
        elif count > paid_or_held:
            add("R212", field, str(paid_or_held), str(count), -r[f"{item}_rejected"], days=paid_or_held)


def travel(r: dict, add: Add, present: set[str], lang: str) -> None:
    """R213: travel above paid and held days × the decision's daily travel."""
    paid_or_held = r["days_paid"] + r["days_held"]
    travel_max = paid_or_held * (r["d_travel_cents"] or 0)
    if r["travel_claimed"] > travel_max:
        add("R213", "travel_cents", euros(travel_max), euros(r["travel_claimed"]), -r["travel_rejected"],
            days=paid_or_held, per_day=euros(r["d_travel_cents"] or 0))


def row_total(r: dict, add: Add, present: set[str], lang: str) -> None:
    """R221: the row's total against the sum of its items."""
    items_total = sum(r[f"{i}_claimed"] for i in ITEMS)
    if "total_cents" in present and r["total_cents"] is not None and r["total_cents"] != items_total:
        add("R221", "total_cents", euros(items_total), euros(r["total_cents"]), 0)


ROW_CHECKS = (days_claimed, day_value, fee, meals, travel, row_total)  # in the order findings are reported


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

        for check in ROW_CHECKS:
            check(r, add, present, lang)
    return out


def invoice_total(w: Work, claimed: int) -> list[Finding]:
    """R220: the `Lasku` total against the sum of the rows' claims."""
    total = w.invoice.header.total_cents
    if total is not None and total != claimed:
        return [w.header_finding("R220", "total_cents", euros(claimed), euros(total))]
    return []
