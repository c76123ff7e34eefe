"""Held days and their euros, and finance's answers applied to a batch's results.

Used by a run (to keep answers across reruns and to record what each held
day holds) and by `reconcile resolve` / `reconcile approve`. Works on the
`InvoiceResult`s the checks made; money in integer cents.

A held day's euros are its share of every item its row holds: each item's
held cents split evenly over the row's held days, the odd cents to the
earliest days, so the shares add up to the row's held amount exactly.

Answers re-apply the amounts model (RULES.md, Amounts) to each row, with
the paid held days counted among the approved and the rejected ones among
neither: A'' = min(A' + paid, C), H'' = min(still held, C - A''). A row held
as a whole (R218) is priced as any other row once finance has answered one
of its days. What an answer moved (`amount_cents`) is the change it made,
the row's answers taken in date order: into approved for a payment
(positive), into rejected for a rejection (negative).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl

from reconcile.check import amounts
from reconcile.model import ITEMS, InvoiceResult

HELD_COLUMNS = ("decision_id", "hetu", "date", "cell", "rule", "row", *(f"{i}_share" for i in ITEMS), "held_cents")


def owner_rows(result: InvoiceResult) -> dict[str, int]:
    """decision_id -> the `Asiakkaat` row that owns its days (the first not rejected as a whole)."""
    if result.rows is None or result.rows.is_empty():
        return {}
    rows = result.rows
    kept = (rows.filter(pl.col("whole").ne_missing("reject")) if "whole" in rows.columns else rows).sort("row")
    out: dict[str, int] = {}
    for decision_id, row in kept.select("decision_id", "row").iter_rows():
        out.setdefault(decision_id, row)
    return out


def held_days(result: InvoiceResult) -> pl.DataFrame:
    """The invoice's held days (HELD_COLUMNS), each with its euros, in row and date order."""
    empty = pl.DataFrame(schema={"decision_id": pl.Utf8, "hetu": pl.Utf8, "date": pl.Date, "cell": pl.Utf8,
                                 "rule": pl.Utf8, "row": pl.Int64, **{f"{i}_share": pl.Int64 for i in ITEMS},
                                 "held_cents": pl.Int64})
    days = result.day_outcomes
    if days is None or days.is_empty() or result.rows is None:
        return empty
    held = days.filter((pl.col("outcome") == "held") & pl.col("date").is_not_null())
    if held.is_empty():
        return empty
    owners = owner_rows(result)
    held = held.with_columns(row=pl.col("decision_id").replace_strict(owners, default=None, return_dtype=pl.Int64))
    if "held_cents" in held.columns and all(f"{i}_share" in held.columns for i in ITEMS):
        return held.sort("row", "date", "cell").select(*HELD_COLUMNS)  # as the run held them (`with_shares`)
    held = held.sort("row", "date", "cell").with_columns(
        k=pl.int_range(0, pl.len(), dtype=pl.Int64).over("row"), n=pl.len().over("row").cast(pl.Int64)
    )
    money = result.rows.select("row", *(pl.col(f"{i}_held").alias(f"{i}_row_held") if f"{i}_held" in result.rows.columns
                                        else pl.lit(0, dtype=pl.Int64).alias(f"{i}_row_held") for i in ITEMS))
    held = held.join(money, on="row", how="left")
    shares = {}
    for i in ITEMS:
        total = pl.col(f"{i}_row_held").fill_null(0)
        base, rest = total // pl.col("n"), total % pl.col("n")
        shares[f"{i}_share"] = base + (pl.col("k") < rest).cast(pl.Int64)
    held = held.with_columns(**shares)
    held = held.with_columns(held_cents=pl.sum_horizontal(*(pl.col(f"{i}_share") for i in ITEMS)))
    return held.select(*HELD_COLUMNS)


def with_shares(result: InvoiceResult) -> InvoiceResult:
    """The result with each held day's euros on its day outcomes (`held_cents` and `{item}_share`),
    as the checks held them: what the ledger keeps, and what the held-days sheet shows after answers."""
    days = result.day_outcomes
    if days is None:
        return result
    money = ["held_cents", *(f"{i}_share" for i in ITEMS)]
    shares = held_days(result).select("decision_id", "date", "cell", *money)
    days = days.drop(*money, strict=False).join(shares, on=["decision_id", "date", "cell"], how="left")
    return dataclasses.replace(result, day_outcomes=days.with_columns(pl.col(money).fill_null(0)))


def apply_answers(result: InvoiceResult, answers: dict[tuple[str, dt.date], str]) -> tuple[InvoiceResult, dict]:
    """The result after finance's answers on its held days.

    `answers` maps (decision_id, date) of a held day to `pay` or `reject`.
    Returns the new result (day outcomes gain `resolved`; rows, items and
    status re-priced) and (decision_id, date) -> the cents the answer moved.
    """
    days = result.day_outcomes
    if days is None or not answers or result.rows is None:
        return result, {}
    owners = owner_rows(result)
    steps = []  # one line per answered row and number of its answers applied
    by_row: dict[int, list[tuple[dt.date, str, str]]] = {}
    for (decision_id, day), answer in answers.items():
        row = owners.get(decision_id)
        if row is not None:
            by_row.setdefault(row, []).append((day, decision_id, answer))
    rows = result.rows
    for row, todo in by_row.items():
        todo.sort()
        paid = rejected = 0
        steps.append({"row": row, "step": 0, "paid": 0, "rejected": 0})
        for k, (_, _, answer) in enumerate(todo, start=1):
            paid += answer == "pay"
            rejected += answer == "reject"
            steps.append({"row": row, "step": k, "paid": paid, "rejected": rejected})
    if not steps:
        return result, {}
    plan = pl.DataFrame(steps, schema={"row": pl.Int64, "step": pl.Int64, "paid": pl.Int64, "rejected": pl.Int64})
    inputs = rows.select("row", "decision_id", "whole", *amounts.ROW_INPUTS)
    priced = amounts.price_rows(
        plan.join(inputs, on="row", how="left").with_columns(
            whole=pl.when((pl.col("step") > 0) & (pl.col("whole") == "hold")).then(pl.lit(None, dtype=pl.Utf8))
            .otherwise(pl.col("whole")),
            days_paid_raw=pl.col("days_paid_raw") + pl.col("paid"),
            days_held_raw=pl.col("days_held_raw") - pl.col("paid") - pl.col("rejected"),
        )
    )
    approved = pl.sum_horizontal(*(pl.col(f"{i}_approved") for i in ITEMS))
    rejected = pl.sum_horizontal(*(pl.col(f"{i}_rejected") for i in ITEMS))
    totals = {(r, s): (a, j) for r, s, a, j in
              priced.select("row", "step", approved.alias("a"), rejected.alias("j")).iter_rows()}
    moved = {}
    for row, todo in by_row.items():
        for k, (day, decision_id, answer) in enumerate(todo, start=1):
            (a0, j0), (a1, j1) = totals[(row, k - 1)], totals[(row, k)]
            moved[(decision_id, day)] = a1 - a0 if answer == "pay" else -(j1 - j0)
    last = priced.filter(pl.col("step") == pl.col("step").max().over("row")).select(*amounts.ROW_OUTPUT)
    new_rows = pl.concat([rows.join(last.select("row"), on="row", how="anti"), last], how="vertical_relaxed").sort("row")
    new_rows = new_rows.select(rows.columns)
    items = amounts.sum_items(new_rows)
    keys = pl.DataFrame([{"decision_id": d, "date": day, "resolved": a} for (d, day), a in answers.items()],
                        schema={"decision_id": pl.Utf8, "date": pl.Date, "resolved": pl.Utf8})
    new_days = days.drop("resolved", strict=False).join(keys, on=["decision_id", "date"], how="left")
    new_days = new_days.with_columns(
        resolved=pl.when(pl.col("outcome") == "held").then(pl.col("resolved")).otherwise(pl.lit(None, dtype=pl.Utf8))
    )
    status = amounts.invoice_status(items, None)
    return dataclasses.replace(result, rows=new_rows, items=items, status=status, day_outcomes=new_days), moved
