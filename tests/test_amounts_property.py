"""Property: over generated batches, every item, row and invoice balances to the cent
(approved + held + rejected = claimed), nothing is negative, and nothing approved
exceeds what was claimed. Invoices are built as the reader's frames directly,
so that hypothesis can try hundreds of batches quickly; the frames follow the
columns documented in `reconcile.model`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
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
    for res in results:
        for item, m in res.items.items():
            assert m.balanced(), item
            assert min(m.approved, m.held, m.rejected) >= 0 and m.approved <= m.claimed
        assert res.total.balanced()
        if res.rows is not None:
            for r in res.rows.iter_rows(named=True):
                for i in ITEMS:
                    c, a, h, x = (r[f"{i}_{k}"] for k in ("claimed", "approved", "held", "rejected"))
                    assert a + h + x == c and min(a, h, x) >= 0 and a <= c
            sums = {i: res.rows.get_column(f"{i}_claimed").sum() for i in ITEMS}
            assert sums == {i: res.items[i].claimed for i in ITEMS}
        if res.status == "approved":
            assert res.total.approved == res.total.claimed
