"""The amounts model of RULES.md on single rows: A' = min(A, C), H' = min(H, C - A'),
each item capped at what it claims, rows rejected or held as a whole."""

from __future__ import annotations

import polars as pl
import pytest

from reconcile.check import amounts
from reconcile.model import Money


def row(**over) -> dict:
    r = {"row": 2, "decision_id": "D-1", "days_claimed": 4, "day_value_cents": 4500, "fee_cents": 18000, "meals": 4,
         "meal_comp_days": 0, "travel_cents": 2000, "total_cents": None, "whole": None, "days_paid_raw": 4,
         "days_held_raw": 0, "n_cells": 4, "d_value_cents": 4500, "d_travel_cents": 500, "d_meal": "tuottaja",
         "meal_price_cents": 680, "meal_comp_cents": 500}
    r.update(over)
    return r


def price(**over) -> dict:
    return amounts.price_rows(pl.DataFrame([row(**over)])).row(0, named=True)


def item(r: dict, name: str) -> tuple[int, int, int, int]:
    return tuple(r[f"{name}_{k}"] for k in ("claimed", "approved", "held", "rejected"))


def test_all_days_paid_approves_every_item():
    r = price()
    assert [item(r, i) for i in ("fee", "meals", "meal_comp", "travel")] == [
        (18000, 18000, 0, 0), (2720, 2720, 0, 0), (0, 0, 0, 0), (2000, 2000, 0, 0)]
    assert (r["status"], r["days_paid"], r["days_held"]) == ("approved", 4, 0)


def test_paid_held_and_rejected_days_split_each_item():
    # C = 4, A = 2, H = 1: A' = 2, H' = 1; the fourth day is rejected.
    r = price(days_paid_raw=2, days_held_raw=1)
    assert item(r, "fee") == (18000, 9000, 4500, 4500)
    assert item(r, "meals") == (2720, 1360, 680, 680)
    assert item(r, "travel") == (2000, 1000, 500, 500)
    assert (r["status"], r["days_paid"], r["days_held"]) == ("adjusted", 2, 1)


def test_more_days_in_calendar_than_claimed_pays_only_the_claim():
    # C = 2 but 4 days passed: A' = 2; held days beyond C are not held.
    r = price(days_claimed=2, fee_cents=9000, meals=2, travel_cents=1000, days_paid_raw=4, days_held_raw=2)
    assert [item(r, i) for i in ("fee", "meals", "travel")] == [(9000, 9000, 0, 0), (1360, 1360, 0, 0),
                                                                (1000, 1000, 0, 0)]
    assert (r["days_paid"], r["days_held"]) == (2, 0)


def test_the_city_never_pays_more_than_an_item_claims():
    r = price(fee_cents=10000, travel_cents=300, meals=1)
    assert item(r, "fee") == (10000, 10000, 0, 0)
    assert item(r, "travel") == (300, 300, 0, 0)
    assert item(r, "meals") == (680, 680, 0, 0)


def test_meals_follow_the_decisions_meal_code():
    served = price(d_meal="korvaus", meals=2, meal_comp_days=3)
    assert item(served, "meals") == (1360, 0, 0, 1360)
    assert item(served, "meal_comp") == (1500, 1500, 0, 0)
    none = price(d_meal="ei", meals=0, meal_comp_days=1)
    assert item(none, "meal_comp") == (500, 0, 0, 500)


@pytest.mark.parametrize("whole, status, split", [("reject", "rejected", (0, 0, 18000)), ("hold", "held", (0, 18000, 0))])
def test_row_rejected_or_held_as_a_whole_moves_every_item(whole, status, split):
    r = price(whole=whole)
    assert item(r, "fee") == (18000, *split)
    assert r["status"] == status and (r["days_paid"], r["days_held"]) == (0, 0)


def test_empty_money_cells_claim_nothing():
    r = price(fee_cents=None, meals=None, travel_cents=None, days_claimed=None)
    assert [item(r, i) for i in ("fee", "meals", "travel")] == [(0, 0, 0, 0)] * 3
    assert r["status"] == "approved"


@pytest.mark.parametrize("items, rule, status", [
    ({"fee": Money(100, 100)}, None, "approved"),
    ({"fee": Money(0, 0)}, None, "approved"),
    ({"fee": Money(100, 60, 0, 40)}, None, "partly_approved"),
    ({"fee": Money(100, 0, 100, 0)}, None, "held"),
    ({"fee": Money(100, 0, 40, 60)}, None, "held"),
    ({"fee": Money(100, 0, 0, 100)}, None, "rejected"),
    ({"fee": Money(0, 0)}, "F006", "rejected"),
    ({"fee": Money(100, 0, 0, 100)}, "F007", "duplicate"),
])
def test_invoice_status(items, rule, status):
    assert amounts.invoice_status(items, rule) == status

