"""Property: over generated batches, every item, row and invoice balances to the cent
(approved + held + rejected = claimed), and each of approved, held and rejected is
between 0 and what was claimed. The second property bills the same client on
the same days with two providers, so that held days (R216) come in nearly every
example, on items claimed above and below days × unit. Invoices are built as the reader's frames directly,
so that hypothesis can try hundreds of batches quickly; the frames follow the
columns documented in `reconcile.model`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from reconcile import config as config_mod
from reconcile import check
from reconcile.model import DAY_COLUMNS, ITEMS, History, Invoice, InvoiceHeader, Registers, Submission

ROOT = Path(__file__).resolve().parents[1]
CONFIG = config_mod.load(ROOT / "config")
PROVIDERS = ("1234561-2", "7654321-2")
HETUS = ("131052-308T", "010190A123M", "150585-642B")
CLIENT_FIELDS = ("decision_id", "hetu", "days_claimed", "day_value_cents", "fee_cents", "meals", "meal_comp_days",
                 "travel_cents", "total_cents")


def registers() -> Registers:
    rows = []
    for i in range(6):
        rows.append({
            "row": i + 2, "decision_id": f"D-{i}", "hetu": HETUS[i % 3], "provider_id": PROVIDERS[i % 2],
            "start": dt.date(2026, 10, 1 + 3 * i), "end": dt.date(2027, 3, 31),
            "terminated": dt.date(2026, 11, 20) if i == 5 else None, "days_per_week": 1 + i % 4,
            "hours_per_day_h100": 400 + 100 * (i % 5), "day_value_cents": 4500 - 500 * i,
            "meal": ("tuottaja", "korvaus", "ei")[i % 3], "travel_per_day_cents": 250 * i,
            "benefit": ("työttömyysetuus", "toimeentulotuki", "kuntoutustuki")[i % 3], "guidance_min_h100": None,
        })
    providers = pl.DataFrame([
        {"row": 2, "provider_id": PROVIDERS[0], "approved_from": dt.date(2025, 1, 1), "approved_to": None,
         "own_unit": False, "lang": "fi"},
        {"row": 3, "provider_id": PROVIDERS[1], "approved_from": dt.date(2025, 1, 1), "approved_to": None,
         "own_unit": True, "lang": "sv"},
    ])
    return Registers(decisions=pl.DataFrame(rows), providers=providers)


def invoice(n: int, provider_id: str, invoice_no: str, month: dt.date, rows: list[dict]) -> Invoice:
    """An Invoice as the reader hands it over: Asiakkaat and Läsnäolo rows from row 2 on."""
    clients = pl.DataFrame(
        [{"row": i + 2, **{k: r.get(k) for k in CLIENT_FIELDS}, "rejected": r.get("rejected")} for i, r in enumerate(rows)],
        schema={"row": pl.Int64, "decision_id": pl.Utf8, "hetu": pl.Utf8, "days_claimed": pl.Int64,
                "day_value_cents": pl.Int64, "fee_cents": pl.Int64, "meals": pl.Int64, "meal_comp_days": pl.Int64,
                "travel_cents": pl.Int64, "total_cents": pl.Int64, "rejected": pl.Utf8},
    )
    attendance = clients.select("row", "decision_id", "hetu", pl.lit(None, dtype=pl.Utf8).alias("rejected"))
    last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    days = []
    for i, r in enumerate(rows):
        for day, value in sorted(r["days"].items()):
            date = month.replace(day=day) if day <= last.day else None
            code = "X" if value == "X" else "?" if value == "?" else "H"
            days.append({"row": i + 2, "decision_id": r["decision_id"], "hetu": r["hetu"], "day": day, "date": date,
                         "cell": f"{get_column_letter(day + 2)}{i + 2}", "code": code,
                         "hours_h100": value if code == "H" else None, "raw": str(value)})
    letters = {f: get_column_letter(i + 1) for i, f in enumerate(CLIENT_FIELDS)}
    return Invoice(
        submission=Submission(Path(f"inv{n}.xlsx"), f"inv{n}.xlsx", "0" * 64, 1),
        header=InvoiceHeader(provider_id=provider_id, invoice_no=invoice_no, billing_month=month,
                             total_cents=None, cells={"provider_id": "B2", "invoice_no": "B3", "billing_month": "B4"}),
        clients=clients, attendance=attendance, days=pl.DataFrame(days, schema=DAY_COLUMNS),
        sheet_names={"invoice": "Lasku", "clients": "Asiakkaat", "attendance": "Läsnäolo"},
        columns={"clients": letters, "attendance": {"decision_id": "A", "hetu": "B"}},
    )


money = st.one_of(st.none(), st.integers(0, 300_000))
count = st.one_of(st.none(), st.integers(0, 25))
day_value = st.one_of(st.just("X"), st.just("?"), st.integers(100, 1_000))
row = st.fixed_dictionaries({
    "decision_id": st.sampled_from([f"D-{i}" for i in range(7)]),
    "hetu": st.sampled_from(HETUS),
    "days_claimed": count, "day_value_cents": money, "fee_cents": money, "meals": count,
    "meal_comp_days": count, "travel_cents": money, "total_cents": money,
    "rejected": st.sampled_from([None, None, None, "V101"]),
    "days": st.dictionaries(st.integers(1, 31), day_value, max_size=12),
})
an_invoice = st.tuples(
    st.sampled_from(PROVIDERS + ("1572860-0",)),
    st.sampled_from(["L-1", "L-2", "L-3"]),
    st.sampled_from([dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)]),
    st.lists(row, max_size=5),
)
paid_day = st.tuples(st.sampled_from(HETUS), st.sampled_from([f"D-{i}" for i in range(6)]),
                     st.dates(dt.date(2026, 10, 20), dt.date(2026, 11, 30)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(an_invoice, min_size=1, max_size=4), st.lists(paid_day, max_size=6))
def test_every_item_row_and_invoice_balances(batch, paid):
    invoices = [invoice(n, *spec) for n, spec in enumerate(batch)]
    history = History.empty()
    history.paid_days = pl.DataFrame(
        [{"hetu": h, "date": d, "decision_id": dec, "provider_id": PROVIDERS[0], "invoice_no": "OLD",
          "batch": "2026-10", "signed_off": True} for h, dec, d in paid], schema=history.paid_days.schema)
    results, _ = check.check_batch(invoices, registers(), history, CONFIG, "2026-11")
    assert len(results) == len(invoices)
    assert_within_claims(results)


def within(c: int, a: int, h: int, x: int) -> bool:
    """approved + held + rejected = claimed, each of them between 0 and claimed."""
    return a + h + x == c and all(0 <= v <= c for v in (a, h, x))


def assert_within_claims(results) -> None:
    for res in results:
        for item, m in res.items.items():
            assert within(m.claimed, m.approved, m.held, m.rejected), (item, m)
        assert res.total.balanced()
        if res.rows is not None:
            for r in res.rows.iter_rows(named=True):
                for i in ITEMS:
                    money = tuple(r[f"{i}_{k}"] for k in ("claimed", "approved", "held", "rejected"))
                    assert within(*money), (i, money)
            sums = {i: res.rows.get_column(f"{i}_claimed").sum() for i in ITEMS}
            assert sums == {i: res.items[i].claimed for i in ITEMS}
        if res.status == "approved":
            assert res.total.approved == res.total.claimed


# The same client with both providers: D-0 (provider 0, meals served, no travel) and D-3
# (provider 1, meals served, 7.50/day); D-4 (provider 0) and D-1 (provider 1) are another
# client's, both on meal compensation. Weekdays of November 2026 from the 2nd.
PAIRS = (("D-0", "D-3", HETUS[0]), ("D-4", "D-1", HETUS[1]))
WEEKDAYS = [d for d in range(2, 28) if dt.date(2026, 11, d).weekday() < 5]
twin_row = st.fixed_dictionaries({
    "days_claimed": count, "fee_cents": money, "meals": count, "meal_comp_days": count,
    "travel_cents": st.one_of(st.none(), st.integers(0, 20_000)),
    "days": st.lists(st.sampled_from(WEEKDAYS[:6]), min_size=2, max_size=6, unique=True),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PAIRS), twin_row, twin_row, st.lists(paid_day, max_size=3))
def test_held_days_never_take_an_item_below_zero_or_above_its_claim(pair, first, second, paid):
    mine, theirs, hetu = pair
    rows = []
    for decision_id, r in ((mine, first), (theirs, second)):
        rows.append({**r, "decision_id": decision_id, "hetu": hetu, "day_value_cents": None, "total_cents": None,
                     "days": {d: "X" for d in r["days"]}})
    invoices = [invoice(0, PROVIDERS[0], "T-1", dt.date(2026, 11, 1), [rows[0]]),
                invoice(1, PROVIDERS[1], "T-2", dt.date(2026, 11, 1), [rows[1]])]
    history = History.empty()
    history.paid_days = pl.DataFrame(
        [{"hetu": h, "date": d, "decision_id": dec, "provider_id": PROVIDERS[0], "invoice_no": "OLD",
          "batch": "2026-10", "signed_off": True} for h, dec, d in paid], schema=history.paid_days.schema)
    results, _ = check.check_batch(invoices, registers(), history, CONFIG, "2026-11")
    event("held days" if any(res.total.held for res in results) else "no held days")
    assert_within_claims(results)
