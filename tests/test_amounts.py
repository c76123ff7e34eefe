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
    ({"fee": Money(1, 0, 0, 1)}, None, "rejected"),  # one cent claimed, nothing approved or held
    ({"fee": Money(100, 0, 1, 99)}, None, "held"),  # one cent held, nothing approved
])
def test_invoice_status(items, rule, status):
    assert amounts.invoice_status(items, rule) == status



# --- held days: what the mutation run showed untested ------------------------------------------


def test_a_held_day_on_an_item_claimed_below_days_times_unit_holds_only_what_is_left():
    # C = 4 days at 45.00 but the fee claims 100.00; A = 2, H = 1.
    # fee: approved min(2 x 45.00, 100.00) = 90.00; held min(45.00, 100.00 - 90.00) = 10.00; rejected 0.
    # travel 12.00 at 5.00/day: approved 10.00, held min(5.00, 2.00) = 2.00, rejected 0.
    r = price(fee_cents=10000, travel_cents=1200, meals=2, days_paid_raw=2, days_held_raw=1)
    assert item(r, "fee") == (10000, 9000, 1000, 0)
    assert item(r, "travel") == (1200, 1000, 200, 0)
    assert item(r, "meals") == (1360, 1360, 0, 0)  # 2 meals, 2 paid days: nothing left to hold
    assert (r["status"], r["days_paid"], r["days_held"]) == ("adjusted", 2, 1)


def test_held_meal_compensation_on_a_korvaus_decision():
    # 4 compensation days at 5.00 on a `korvaus` decision, A = 2, H = 1:
    # approved 2 x 5.00, held 1 x 5.00, the fourth day rejected; meals are not served.
    r = price(d_meal="korvaus", meals=0, meal_comp_days=4, days_paid_raw=2, days_held_raw=1)
    assert item(r, "meal_comp") == (2000, 1000, 500, 500)
    assert item(r, "meals") == (0, 0, 0, 0)


def test_held_meals_on_a_tuottaja_decision_are_capped_by_the_held_days():
    # 4 meals at 6.80, A = 1, H = 2: approved 6.80, held 2 x 6.80, rejected 6.80.
    r = price(meals=4, days_paid_raw=1, days_held_raw=2)
    assert item(r, "meals") == (2720, 680, 1360, 680)


def test_an_empty_meal_compensation_cell_claims_and_holds_nothing():
    r = price(d_meal="korvaus", meals=0, meal_comp_days=None, days_paid_raw=2, days_held_raw=2)
    assert item(r, "meal_comp") == (0, 0, 0, 0)
    assert item(r, "fee") == (18000, 9000, 9000, 0)


@pytest.mark.parametrize("paid, held, status, fee", [
    (0, 0, "rejected", (18000, 0, 0, 18000)),  # every day rejected
    (0, 4, "held", (18000, 0, 18000, 0)),  # every day held
    (0, 2, "held", (18000, 0, 9000, 9000)),  # nothing paid: held and rejected
    (4, 0, "approved", (18000, 18000, 0, 0)),
])
def test_row_status_when_no_day_is_paid(paid, held, status, fee):
    r = price(meals=0, travel_cents=0, days_paid_raw=paid, days_held_raw=held)
    assert item(r, "fee") == fee
    assert (r["status"], r["days_paid"], r["days_held"]) == (status, paid, held)


def test_held_days_beyond_the_claim_left_by_paid_days_are_not_held():
    # C = 3, A = 2, H = 3: H' = min(3, 3 - 2) = 1.
    r = price(days_claimed=3, fee_cents=13500, meals=0, travel_cents=0, days_paid_raw=2, days_held_raw=3)
    assert item(r, "fee") == (13500, 9000, 4500, 0)
    assert (r["days_paid"], r["days_held"]) == (2, 1)


def test_a_row_held_as_a_whole_holds_the_days_that_passed_up_to_the_claim():
    r = price(whole="hold", days_claimed=3, fee_cents=13500, meals=0, travel_cents=0, days_paid_raw=0, days_held_raw=5)
    assert item(r, "fee") == (13500, 0, 13500, 0)
    assert (r["status"], r["days_paid"], r["days_held"]) == ("held", 0, 3)


# --- what the mutation run (tools/mutate.py) showed untested -----------------------------------


def test_an_empty_days_claimed_cell_claims_no_day():
    # C empty = 0: the fee is claimed but no day of it can be paid.
    r = price(days_claimed=None, fee_cents=9000, meals=0, travel_cents=0, days_paid_raw=2)
    assert item(r, "fee") == (9000, 0, 0, 9000)
    assert (r["status"], r["days_paid"]) == ("rejected", 0)


def test_a_decision_without_a_day_value_or_travel_pays_no_fee_or_travel():
    r = price(d_value_cents=None, d_travel_cents=None, meals=0)
    assert item(r, "fee") == (18000, 0, 0, 18000)
    assert item(r, "travel") == (2000, 0, 0, 2000)


def test_a_row_rejected_as_a_whole_holds_nothing_even_with_held_days():
    r = price(whole="reject", days_paid_raw=0, days_held_raw=2)
    assert item(r, "fee") == (18000, 0, 0, 18000)
    assert (r["days_paid"], r["days_held"]) == (0, 0)


@pytest.mark.parametrize("whole, status", [("reject", "rejected"), ("hold", "held")])
def test_a_row_decided_as_a_whole_keeps_its_status_when_it_claims_nothing(whole, status):
    r = price(whole=whole, days_claimed=0, fee_cents=0, meals=0, travel_cents=0)
    assert [item(r, i) for i in ("fee", "meals", "meal_comp", "travel")] == [(0, 0, 0, 0)] * 4
    assert r["status"] == status


@pytest.mark.parametrize("whole, split", [("reject", (13500, 0, 0, 13500)), ("hold", (13500, 0, 13500, 0))])
def test_whole_rows_move_every_item_and_count_no_day(whole, split):
    # A workbook decided as a whole (an F rule, or X900): no day is paid or held, whatever it claims.
    frame = pl.DataFrame([row(days_claimed=3, fee_cents=13500, meals=0, travel_cents=0, days_paid_raw=None,
                              days_held_raw=None)]).drop("whole", "days_paid_raw", "days_held_raw")
    r = amounts.whole_rows(frame, whole).row(0, named=True)
    assert item(r, "fee") == split
    assert (r["days_paid"], r["days_held"]) == (0, 0)
