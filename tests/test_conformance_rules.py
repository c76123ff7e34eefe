"""Conformance of the cross-checks and the money with RULES.md sections 1, 3 and 4,
clause by clause, on real workbooks written by tests/wb.py. Every expected value
below is derived by hand in the comments from the rule's text.

Calendar: 1 November 2026 is a Sunday, so Läsnäolo's day d is column d + 2
(A decision, B hetu; day 2 = D, day 31 = AG) and the weeks of November start on
Mondays 2, 9, 16, 23 and 30; Mon 26 October - Sun 1 November is one week.
Defaults: day value 45.00, travel 5.00/day, 6 planned hours, meal price 6.80,
meal compensation 5.00 (config/rates.toml).
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from pathlib import Path

import polars as pl
import wb

from reconcile import batch as batch_mod
from reconcile import config as config_mod
from reconcile import check
from reconcile.read import intake
from reconcile.read.invoice import read_invoice
from reconcile.model import History, Money
from reconcile.read.registers import read_registers

ROOT = Path(__file__).resolve().parents[1]
CONFIG = config_mod.load(ROOT / "config")
Y1, Y2, Y3 = wb.YTUNNUS
D = dt.date
NOV, OCT, DEC = D(2026, 11, 1), D(2026, 10, 1), D(2026, 12, 1)


def hetu(i: int) -> str:
    """A valid henkilötunnus for client i (born 1 January 1980 + i)."""
    digits = f"0101{80 + i:02d}{100 + i:03d}"
    return f"{digits[:6]}-{digits[6:]}" + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(digits) % 31]


H1, H2, H3, H4, H5 = (hetu(i) for i in range(1, 6))


def decision(decision_id: str, h: str, provider_id: str = Y1, **over) -> dict:
    row = {"decision_id": decision_id, "hetu": h, "name": "Asiakas", "provider_id": provider_id,
           "start": D(2026, 9, 1), "end": D(2027, 2, 28), "terminated": None, "days_per_week": 4,
           "hours_per_day_h100": 6, "day_value_cents": 45, "meal": "tuottaja", "travel_per_day_cents": 5,
           "benefit": "työttömyysetuus", "guidance_min_h100": None}
    row.update(over)
    return row


def provider(provider_id: str, **over) -> dict:
    row = {"provider_id": provider_id, "name": f"Tuottaja {provider_id}", "approved_from": D(2025, 1, 1),
           "approved_to": None, "own_unit": "ei", "email": "x@example.fi", "lang": "fi"}
    row.update(over)
    return row


def client(decision_id: str, h: str, days: int, value: int = 45, fee=None, **over) -> dict:
    row = {"decision_id": decision_id, "hetu": h, "days_claimed": days, "day_value_cents": value,
           "fee_cents": days * value if fee is None else fee, "meals": 0, "meal_comp_days": 0, "travel_cents": 0}
    row.update(over)
    return row


def calendar(decision_id: str, h: str, days: dict) -> dict:
    """A Läsnäolo row with day columns 1..31 (31 is not a day of November)."""
    return {"decision_id": decision_id, "hetu": h, **{d: None for d in range(1, 32)}, **days}


def header(provider_id: str = Y1, invoice_no: str = "L-1", month: dt.date = NOV, total=None) -> dict:
    h = {"provider_name": "Tuottaja", "provider_id": provider_id, "invoice_no": invoice_no,
         "billing_month": month.strftime("%Y-%m"), "invoice_date": month}
    if total is not None:
        h["total_cents"] = total
    return h


def day_cell(day: int, row: int = 2) -> str:
    return "Läsnäolo!" + wb.cell([calendar("x", "x", {})], day, row - 2)


class Batch:
    """Registers and invoices in tmp_path, checked with `check.check_batch`."""

    def __init__(self, tmp_path: Path, decisions: list[dict], providers: list[dict] | None = None):
        self.dir = tmp_path
        (tmp_path / "register").mkdir()
        wb.write_decisions(tmp_path / "register" / "decisions.xlsx", decisions)
        wb.write_providers(tmp_path / "register" / "providers.xlsx",
                           providers or [provider(Y1), provider(Y2), provider(Y3)])
        self.registers = read_registers(tmp_path, CONFIG)
        self.invoices = []
        self.history = History.empty()

    def invoice(self, name: str, head: dict, clients: list[dict], attendance: list[dict], **kw) -> "Batch":
        path = wb.write_invoice(self.dir / name, head, clients, attendance, **kw)
        self.invoices.append(read_invoice(intake.submission(path), CONFIG))
        return self

    def paid(self, *days: tuple[str, str, dt.date], provider_id: str, invoice_no: str, batch: str) -> "Batch":
        rows = pl.DataFrame(
            [{"hetu": h, "date": d, "decision_id": dec, "provider_id": provider_id, "invoice_no": invoice_no,
              "batch": batch, "signed_off": False} for h, dec, d in days], schema=self.history.paid_days.schema)
        self.history.paid_days = pl.concat([self.history.paid_days, rows])
        return self

    def run(self, batch: str = "2026-11"):
        return check.check_batch(self.invoices, self.registers, self.history, CONFIG, batch)


def found(result, *rules: str) -> list[tuple]:
    return [(f.rule, f.location.ref, f.decision_id, f.date) for f in result.findings if not rules or f.rule in rules]


# --- section 3, day level ------------------------------------------------------


def test_day_checks_run_in_order_and_each_day_is_reported_once(tmp_path):
    # Start 3 Nov, terminated 20 Nov, 2 days a week, 6 planned hours. The ledger holds
    # Tue 10 Nov as paid for this client and decision on another invoice.
    b = Batch(tmp_path, [decision("D-1", H1, start=D(2026, 11, 3), terminated=D(2026, 11, 20), days_per_week=2)])
    b.paid((H1, "D-1", D(2026, 11, 10)), provider_id=Y1, invoice_no="L-0", batch="2026-11")
    days = {2: "3", 3: "3,5", 4: "X", 5: 9, 6: "X", 8: "X", 10: "X", 11: "X", 12: "X", 21: "X", 31: "X"}
    b.invoice("a.xlsx", header(), [client("D-1", H1, days=11)], [calendar("D-1", H1, days)])
    [r], _ = b.run("2026-12")
    assert found(r) == [
        ("R204", day_cell(2), "D-1", D(2026, 11, 2)),    # before the start (and under 4 h): R204 alone
        ("R206", day_cell(3), "D-1", D(2026, 11, 3)),    # 3.5 h
        ("R226", day_cell(5), "D-1", D(2026, 11, 5)),    # paid, 9 h
        ("R205", day_cell(6), "D-1", D(2026, 11, 6)),    # 3rd day of the week 2-8 Nov (4th and 5th kept)
        ("R205", day_cell(8), "D-1", D(2026, 11, 8)),    # a Sunday, rejected: no R207
        ("R217", day_cell(10), "D-1", D(2026, 11, 10)),  # paid in the ledger on L-0
        ("R205", day_cell(12), "D-1", D(2026, 11, 12)),  # the ledger's 10th counts first: 11th kept, 12th not
        ("R204", day_cell(21), "D-1", D(2026, 11, 21)),  # after the termination date
        ("R222", day_cell(31), "D-1", None),             # not a day of November: no date
        ("R219", "Asiakkaat!A2", "D-1", D(2026, 11, 20)),  # period ends in November, no assessment
    ]
    by_cell = {f.location.cell: f for f in r.findings}
    assert [(by_cell[c].expected, by_cell[c].found) for c in ("H2", "J2", "N2")] == [("2", "3"), ("2", "4"), ("2", "3")]
    assert [f.amount_cents for f in r.findings if f.effect == "reject"] == [-4500] * 8
    # Paid: 4, 5 and 11 November.
    assert r.items["fee"] == Money(49500, 13500, 0, 36000)
    assert r.day_outcomes.filter(pl.col("outcome") == "paid").get_column("date").to_list() == [
        D(2026, 11, 4), D(2026, 11, 5), D(2026, 11, 11)]
    assert r.status == "partly_approved"


def test_double_billing_holds_the_day_on_every_invoice_involved(tmp_path):
    b = Batch(tmp_path, [
        decision("D-1", H1, Y1), decision("D-2", H1, Y2), decision("D-5", H1, Y2),
        decision("D-3", H2, Y1), decision("D-4", H2, Y1), decision("D-6", H3, Y1), decision("D-7", H3, Y1)])
    # H1 on 3, 4, 5 Nov; H2 on 6 Nov (D-3); H3 on 9 Nov under two decisions.
    b.invoice("a1.xlsx", header(Y1, "A-1"),
              [client("D-1", H1, 3), client("D-3", H2, 1), client("D-6", H3, 1), client("D-7", H3, 1)],
              [calendar("D-1", H1, {3: "X", 4: "X", 5: "X"}), calendar("D-3", H2, {6: "X"}),
               calendar("D-6", H3, {9: "X"}), calendar("D-7", H3, {9: "X"})])
    # A-2, the same provider: H2 on 6 Nov under another decision.
    b.invoice("a2.xlsx", header(Y1, "A-2"), [client("D-4", H2, 1)], [calendar("D-4", H2, {6: "X"})])
    # B-1, another provider: H1 on 3 Nov; on 4 Nov for 3 h (fails R206); on 5 Nov on a row
    # rejected as a whole (R202): neither of the last two holds A-1's days.
    b.invoice("b1.xlsx", header(Y2, "B-1"), [client("D-2", H1, 2), client("D-5", H4, 1)],
              [calendar("D-2", H1, {3: "X", 4: "3"}), calendar("D-5", H1, {5: "X"})])
    (a1, a2, b1), _ = b.run()
    assert found(a1) == [("R216", day_cell(3, 2), "D-1", D(2026, 11, 3)), ("R216", day_cell(6, 3), "D-3", D(2026, 11, 6)),
                         ("R216", day_cell(9, 4), "D-6", D(2026, 11, 9)), ("R216", day_cell(9, 5), "D-7", D(2026, 11, 9))]
    assert [f.found for f in a1.findings] == ["another provider", "another invoice", "another decision", "another decision"]
    assert found(a2) == [("R216", day_cell(6), "D-4", D(2026, 11, 6))]
    assert found(b1) == [("R202", "Asiakkaat!B3", "D-5", None), ("R216", day_cell(3), "D-2", D(2026, 11, 3)),
                         ("R206", day_cell(4), "D-2", D(2026, 11, 4))]
    for r in (a1, a2, b1):
        for f in r.findings:
            if f.rule == "R216":
                assert (f.severity, f.effect, f.amount_cents) == ("error", "hold", -4500)
                assert Y1 not in repr(f.found) and Y2 not in repr(f.found)
    # 4 and 5 Nov paid, four days held. A-2: all held. B-1: 3 Nov held, the rest rejected.
    assert (a1.total, a1.status) == (Money(27000, 9000, 18000, 0), "partly_approved")
    assert (a2.total, a2.status) == (Money(4500, 0, 4500, 0), "held")
    assert (b1.total, b1.status) == (Money(13500, 0, 4500, 9000), "held")


def test_week_limit_counts_ledger_then_earlier_billed_months_then_earliest_days(tmp_path):
    # 3 days a week. Mon 26 Oct is paid in the ledger (batch 2026-10). In this batch, A-1
    # bills November and Z-9 (a late invoice) October: billed month comes before the
    # invoice number, so Z-9's 27 and 28 Oct count before A-1's Sunday 1 Nov.
    b = Batch(tmp_path, [decision("D-1", H1, days_per_week=3)])
    b.paid((H1, "D-1", D(2026, 10, 26)), provider_id=Y1, invoice_no="O-1", batch="2026-10")
    b.invoice("a.xlsx", header(Y1, "A-1"), [client("D-1", H1, 2)], [calendar("D-1", H1, {1: "X", 2: "X"})])
    b.invoice("z.xlsx", header(Y1, "Z-9", month=OCT), [client("D-1", H1, 2)], [calendar("D-1", H1, {27: "X", 28: "X"})])
    (nov, october), _ = b.run()
    assert found(nov) == [("R205", day_cell(1), "D-1", D(2026, 11, 1))]
    assert (nov.findings[0].expected, nov.findings[0].found, nov.findings[0].params["paid_before"]) == ("3", "4", 1)
    assert found(october) == []
    assert (nov.total, october.total) == (Money(9000, 4500, 0, 4500), Money(9000, 9000, 0, 0))


def test_sunday_and_holiday_warnings_only_on_paid_days(tmp_path):
    # December 2026: Sat 5 (no warning), Sun 6 = Independence Day, Mon 7 for 9 h, Sun 13;
    # terminated 23 Dec, so Fri 25 (Christmas Day) is rejected by R204 and gets no R207.
    b = Batch(tmp_path, [decision("D-1", H1, terminated=D(2026, 12, 23))])
    days = {5: "X", 6: "X", 7: 9, 13: "X", 25: "X"}
    b.invoice("dec.xlsx", header(month=DEC), [client("D-1", H1, 5)], [calendar("D-1", H1, days)])
    [r], _ = b.run("2026-12")
    assert found(r) == [("R207", day_cell(6), "D-1", D(2026, 12, 6)), ("R226", day_cell(7), "D-1", D(2026, 12, 7)),
                        ("R207", day_cell(13), "D-1", D(2026, 12, 13)), ("R204", day_cell(25), "D-1", D(2026, 12, 25)),
                        ("R219", "Asiakkaat!A2", "D-1", D(2026, 12, 23))]
    assert [(f.severity, f.effect) for f in r.findings if f.rule in ("R207", "R226")] == [("warning", "none")] * 3
    assert r.total == Money(22500, 18000, 0, 4500)


# --- section 3, amounts -------------------------------------------------------------


def test_amounts_item_by_item(tmp_path):
    decisions = [decision("D-1", H1, start=D(2026, 11, 2)), decision("D-2", H1, Y2),
                 decision("D-3", H2, meal="ei"), decision("D-4", H3), decision("D-5", H4, meal="korvaus")]
    b = Batch(tmp_path, decisions)
    clients = [
        # C = 4; cells 1 (before the start: R204), 2, 3 (also billed by Y2: held), 4, 5: A = 3, H = 1,
        # A' = 3, H' = 1. Meals 4: 3 approved, "the next H' meals" = 1 held. Travel 25.00 against
        # (3 + 1) x 5.00: 15.00 approved, 5.00 held, 5.00 rejected (R213). R208: fewer claimed than cells.
        client("D-1", H1, 4, meals=4, travel_cents=25),
        # Row's day value 50.00 (R209: the decision's 45.00 is used), fee 3 x 50.00 (no R210),
        # 2 cells for 3 days (R208, more claimed than cells), meals and meal compensation with Ateria "ei" (R211 both).
        client("D-3", H2, 3, value=50, meals=2, meal_comp_days=1),
        # Fee 100.00 for 2 x 45.00 (R210) and a row total that is not the items' sum (R221).
        client("D-4", H3, 2, fee=100, total_cents=95),
        # Meal compensation for 3 days, 2 paid (R212).
        client("D-5", H4, 2, meal_comp_days=3),
    ]
    attendance = [calendar("D-1", H1, {1: "X", 2: "X", 3: "X", 4: "X", 5: "X"}), calendar("D-3", H2, {2: "X", 4: "X"}),
                  calendar("D-4", H3, {2: "X", 3: "X"}), calendar("D-5", H4, {2: "X", 3: "X"})]
    head = header(total="605,81")
    b.invoice("a.xlsx", head, clients, attendance)
    b.invoice("y2.xlsx", header(Y2, "B-1"), [client("D-2", H1, 1)], [calendar("D-2", H1, {3: "X"})])
    (r, other), _ = b.run()
    cell = lambda key, i: "Asiakkaat!" + wb.cell(clients, key, i)  # noqa: E731
    got = sorted((f.rule, f.location.ref, f.decision_id, f.amount_cents) for f in r.findings)
    assert got == sorted([
        ("R204", day_cell(1, 2), "D-1", -4500), ("R216", day_cell(3, 2), "D-1", -4500),
        ("R208", cell("days_claimed", 0), "D-1", 0), ("R213", cell("travel_cents", 0), "D-1", -500),
        ("R208", cell("days_claimed", 1), "D-3", -4500), ("R209", cell("day_value_cents", 1), "D-3", -1500),
        ("R211", cell("meals", 1), "D-3", -1360), ("R211", cell("meal_comp_days", 1), "D-3", -500),
        ("R210", cell("fee_cents", 2), "D-4", -1000), ("R221", cell("total_cents", 2), "D-4", 0),
        ("R212", cell("meal_comp_days", 3), "D-5", -500),
        ("R220", "Lasku!" + wb.label_cell(head, "total_cents"), None, 0),
    ])
    r220 = next(f for f in r.findings if f.rule == "R220")
    assert (r220.expected, r220.found, r220.severity) == ("605.80", "605.81", "warning")
    money = ["claimed", "approved", "held", "rejected"]
    rows = {row["decision_id"]: row for row in r.rows.iter_rows(named=True)}
    item = lambda d, i: tuple(rows[d][f"{i}_{k}"] for k in money)  # noqa: E731
    assert [item("D-1", i) for i in ("fee", "meals", "meal_comp", "travel")] == [
        (18000, 13500, 4500, 0), (2720, 2040, 680, 0), (0, 0, 0, 0), (2500, 1500, 500, 500)]
    assert [item("D-3", i) for i in ("fee", "meals", "meal_comp")] == [
        (15000, 9000, 0, 6000), (1360, 0, 0, 1360), (500, 0, 0, 500)]
    assert item("D-4", "fee") == (10000, 9000, 0, 1000)
    assert item("D-5", "meal_comp") == (1500, 1000, 0, 500)
    assert [(rows[d]["days_paid"], rows[d]["days_held"], rows[d]["status"]) for d in ("D-1", "D-3", "D-4", "D-5")] == [
        (3, 1, "adjusted"), (2, 0, "adjusted"), (2, 0, "adjusted"), (2, 0, "adjusted")]
    assert r.items == {"fee": Money(52000, 40500, 4500, 7000), "meals": Money(4080, 2040, 680, 1360),
                       "meal_comp": Money(2000, 1000, 0, 1000), "travel": Money(2500, 1500, 500, 500)}
    assert r.total.balanced() and r.status == "partly_approved"
    assert (other.total, other.status) == (Money(4500, 0, 4500, 0), "held")


def test_rows_rejected_or_held_as_a_whole_and_invoice_statuses(tmp_path):
    providers = [provider(Y1), provider(Y2), provider(Y3, own_unit="kyllä")]
    b = Batch(tmp_path, [decision("D-1", H1, benefit="kuntoutustuki"), decision("D-2", H2, start=D(2026, 11, 16)),
                         decision("D-3", H3), decision("D-4", H4, Y3), decision("D-5", H5, benefit="eläke")], providers)
    # Held as a whole (R218): every item held, its passing days held.
    b.invoice("held.xlsx", header(Y1, "S-1"), [client("D-1", H1, 2, meals=2, travel_cents=10)],
              [calendar("D-1", H1, {2: "X", 3: "X"})])
    # Every day before the start: nothing approved, nothing held out of 90.00: rejected.
    b.invoice("rejected.xlsx", header(Y1, "S-2"), [client("D-2", H2, 2)], [calendar("D-2", H2, {2: "X", 3: "X"})])
    # A row without attendance and a claim of 0.00: approved (0.00 = 0.00).
    b.invoice("zero.xlsx", header(Y1, "S-3"), [client("D-3", H3, 0)], [calendar("D-3", H3, {})])
    # The city's own unit: day value 0 whatever the register says; its days are paid days.
    b.invoice("own.xlsx", header(Y3, "O-1"), [client("D-4", H4, 2, value=0)], [calendar("D-4", H4, {2: "X", 3: "X"})])
    # A row held as a whole next to a paid row: partly approved.
    b.invoice("mixed.xlsx", header(Y1, "S-4"), [client("D-3", H3, 1), client("D-5", H5, 1)],
              [calendar("D-3", H3, {4: "X"}), calendar("D-5", H5, {4: "X"})])
    (held, rejected, zero, own, mixed), _ = b.run()
    assert found(held) == [("R218", "Asiakkaat!A2", "D-1", None)]
    assert held.items == {"fee": Money(9000, 0, 9000, 0), "meals": Money(1360, 0, 1360, 0),
                          "meal_comp": Money(0, 0, 0, 0), "travel": Money(1000, 0, 1000, 0)}
    assert held.rows.select("status", "days_paid", "days_held").rows() == [("held", 0, 2)]
    assert held.day_outcomes.get_column("outcome").to_list() == ["held", "held"]
    assert held.status == "held"
    assert (rejected.total, rejected.status) == (Money(9000, 0, 0, 9000), "rejected")
    assert (zero.total, zero.status, found(zero)) == (Money(0, 0, 0, 0), "approved", [])
    assert (own.total, own.status, found(own)) == (Money(0, 0, 0, 0), "approved", [])
    assert own.day_outcomes.get_column("outcome").to_list() == ["paid", "paid"]
    assert (mixed.total, mixed.status) == (Money(9000, 4500, 4500, 0), "partly_approved")


# --- section 1, file level ---------------------------------------------------------


def test_file_rules_and_late_invoices(tmp_path):
    providers = [provider(Y1), provider(Y2, approved_to=D(2026, 10, 31)), provider(Y3)]
    b = Batch(tmp_path, [decision("D-1", H1, start=D(2026, 6, 1)), decision("D-2", H2, Y2), decision("D-3", H3, Y3)],
              providers)
    one = lambda d=2: ([client("D-1", H1, 1)], [calendar("D-1", H1, {d: "X"})])  # noqa: E731
    b.invoice("unknown.xlsx", header("1572860-0", "U-1"), *one())                          # F006 not in the register
    b.invoice("expired.xlsx", header(Y2, "E-1"), [client("D-2", H2, 1)], [calendar("D-2", H2, {2: "X"})])  # F006
    b.invoice("future.xlsx", header(Y1, "F-1", month=DEC), *one())                          # F008
    b.invoice("again.xlsx", header(Y1, "F-1"), *one(3))                                     # F-1 sent again: fine
    b.invoice("dup1.xlsx", header(Y3, "K-1"), [client("D-3", H3, 1)], [calendar("D-3", H3, {2: "X"})])
    b.invoice("dup2.xlsx", header(Y3, "K-1"), [client("D-3", H3, 1)], [calendar("D-3", H3, {3: "X"})])
    b.invoice("old.xlsx", header(Y1, "P-1"), *one(4))                                       # processed in 2026-10
    b.invoice("july.xlsx", header(Y1, "J-7", month=D(2026, 7, 1)), *one(1))                 # R225: 4 months late
    b.invoice("august.xlsx", header(Y1, "J-8", month=D(2026, 8, 1)), *one(3))               # 3 months: no R225
    b.history.invoices = pl.DataFrame(
        [{"provider_id": Y1, "invoice_no": "P-1", "batch": "2026-10", "billing_month": OCT, "status": "approved",
          "signed_off": False}], schema=b.history.invoices.schema)
    results, _ = b.run()
    assert [(r.source_file, [f.rule for f in r.findings], r.status) for r in results] == [
        ("unknown.xlsx", ["F006"], "rejected"), ("expired.xlsx", ["F006"], "rejected"),
        ("future.xlsx", ["F008"], "rejected"), ("again.xlsx", [], "approved"),
        ("dup1.xlsx", ["F007"], "duplicate"), ("dup2.xlsx", ["F007"], "duplicate"),
        ("old.xlsx", ["F007"], "duplicate"), ("july.xlsx", ["R225"], "approved"), ("august.xlsx", [], "approved")]
    # A file rejected as a whole claims its rows' items, all rejected.
    assert all(r.total == Money(4500, 0, 0, 4500) for r in results[:3] + results[4:7])
    july = results[7].findings[0]
    assert (july.location.ref, july.severity, july.expected, july.found) == ("Lasku!B4", "warning", "2026-11", "2026-07")


def test_unreadable_file_claims_its_lasku_total_else_nothing(tmp_path):
    b = Batch(tmp_path, [decision("D-1", H1)])
    b.invoice("no-clients.xlsx", header(total="123,45"), [], [calendar("D-1", H1, {2: "X"})], omit=["clients"])
    (tmp_path / "garbage.xlsx").write_bytes(b"not a workbook")
    b.invoices.append(read_invoice(intake.submission(tmp_path / "garbage.xlsx"), CONFIG))
    (total_only, garbage), _ = b.run()
    assert ([f.rule for f in total_only.findings], total_only.total, total_only.status) == (
        ["F003"], Money(12345, 0, 0, 12345), "rejected")
    assert ([f.rule for f in garbage.findings], garbage.total, garbage.status) == (["F001"], Money(), "rejected")


# --- section 3, compliance warnings ------------------------------------------------------


def test_guidance_minimum_share_of_month_and_log(tmp_path):
    # Minimum x days of November inside the period / 30, rounded to two decimals:
    # D-1 from 16 Nov: 2.00 x 15/30 = 1.00 (0.99 given: R214); D-2 from 21 Nov: 2.00 x 10/30 = 0.67
    # (0.67 given: none); D-3 from 21 Nov: 0.67 (0.66: R214); D-4 own minimum 3.0 from 11 Nov:
    # 3.00 x 20/30 = 2.00 (1.99: R214); D-5 terminated 15 Nov: 2.00 x 15/30 = 1.00 (1.00: none).
    b = Batch(tmp_path, [
        decision("D-1", H1, start=D(2026, 11, 16), end=D(2027, 5, 15)),
        decision("D-2", H2, start=D(2026, 11, 21), end=D(2027, 5, 20)),
        decision("D-3", H3, start=D(2026, 11, 21), end=D(2027, 5, 20)),
        decision("D-4", H4, start=D(2026, 11, 11), end=D(2027, 5, 10), guidance_min_h100=3),
        decision("D-5", H5, start=D(2026, 6, 1), terminated=D(2026, 11, 15), end=D(2027, 5, 31)),
    ])
    given = {"D-1": "0,99", "D-2": "0,67", "D-3": "0,66", "D-4": "1,99", "D-5": 1}
    hs = {"D-1": H1, "D-2": H2, "D-3": H3, "D-4": H4, "D-5": H5}
    clients = [client(d, hs[d], 1, guidance_individual_h100=g, guidance_group_h100=None, vat_date=D(2026, 11, 25))
               for d, g in given.items()]
    day = {"D-1": 16, "D-2": 23, "D-3": 23, "D-4": 11, "D-5": 2}
    # The log: D-1 0.99 individual (equal), D-2 0.50 (differs from 0.67: R215), D-3 by henkilötunnus 0.66.
    log = [{"decision_id": "D-1", "hetu": None, "date": D(2026, 11, 17), "hours_h100": "0,99", "type": "yksilö"},
           {"decision_id": "D-2", "hetu": None, "date": D(2026, 11, 24), "hours_h100": "0,5", "type": "yksilö"},
           {"decision_id": None, "hetu": H3, "date": D(2026, 11, 24), "hours_h100": "0,66", "type": "yksilö"},
           {"decision_id": "D-4", "hetu": None, "date": D(2026, 11, 12), "hours_h100": "1,99", "type": "yksilö"},
           {"decision_id": "D-5", "hetu": None, "date": D(2026, 11, 3), "hours_h100": 1, "type": "ryhmä"}]
    b.invoice("a.xlsx", header(), clients, [calendar(d, hs[d], {day[d]: "X"}) for d in given], guidance=log)
    [r], _ = b.run()
    g = lambda i: "Asiakkaat!" + wb.cell(clients, "guidance_individual_h100", i)  # noqa: E731
    assert sorted(found(r, "R214", "R215")) == sorted([
        ("R214", g(0), "D-1", None), ("R214", g(2), "D-3", None), ("R214", g(3), "D-4", None),
        ("R215", g(1), "D-2", None)])
    r214 = {f.decision_id: (f.expected, f.found) for f in r.findings if f.rule == "R214"}
    assert r214 == {"D-1": ("1.00", "0.99"), "D-3": ("0.67", "0.66"), "D-4": ("2.00", "1.99")}


def test_assessments_at_the_start_and_the_end_of_the_period(tmp_path):
    # Start: the invoice of the month holding start + 29 days. End: the month holding the last day,
    # with a date in the 60 days up to and including it.
    b = Batch(tmp_path, [
        decision("D-1", H1, start=D(2026, 10, 20), end=D(2027, 4, 19)),  # 30th day 18 Nov; reported in October
        decision("D-2", H2, start=D(2026, 10, 20), end=D(2027, 4, 19)),  # 30th day 18 Nov; a date before the start
        decision("D-3", H3, start=D(2026, 6, 1), end=D(2026, 11, 30)),   # ends 30 Nov; 1 Oct is day 61 before: late
        decision("D-4", H4, start=D(2026, 6, 1), end=D(2026, 11, 30)),   # 2 Oct is the 60th day: in time
        decision("D-5", H5, start=D(2026, 6, 1), end=D(2027, 5, 31), terminated=D(2026, 11, 12)),  # nothing
    ])
    b.history.assessments = pl.DataFrame([{"decision_id": "D-1", "kind": "vat", "date": D(2026, 10, 21)},
                                          {"decision_id": "D-3", "kind": "kykyviisari", "date": D(2026, 10, 1)}],
                                         schema=b.history.assessments.schema)
    hs = {"D-1": H1, "D-2": H2, "D-3": H3, "D-4": H4, "D-5": H5}
    dates = {"D-1": None, "D-2": D(2026, 10, 19), "D-3": None, "D-4": D(2026, 10, 2), "D-5": None}
    clients = [client(d, hs[d], 1, kykyviisari_date=dates[d], vat_date=None) for d in hs]
    b.invoice("a.xlsx", header(), clients, [calendar(d, hs[d], {2: "X"}) for d in hs])
    [r], _ = b.run()
    k = lambda i: "Asiakkaat!" + wb.cell(clients, "kykyviisari_date", i)  # noqa: E731
    assert found(r, "R219") == [("R219", k(1), "D-2", D(2026, 11, 18)), ("R219", k(2), "D-3", D(2026, 11, 30)),
                                ("R219", k(4), "D-5", D(2026, 11, 12))]


def test_register_period_lengths_once_per_batch(tmp_path):
    b = Batch(tmp_path, [
        decision("D-1", H1, Y2, start=D(2026, 9, 1), end=D(2026, 11, 30)),   # exactly 3 months: fine
        decision("D-2", H2, Y2, start=D(2026, 9, 2), end=D(2026, 11, 30)),   # a day short of 3 months
        decision("D-3", H3, Y3, start=D(2024, 11, 1), end=D(2026, 10, 31)),  # 24 months, ended before November
        decision("D-4", H4, Y3, start=D(2024, 11, 1), end=D(2026, 11, 1)),   # 24 months and a day
    ])
    b.invoice("a.xlsx", header(Y2, "A-1"), [client("D-1", H1, 1)], [calendar("D-1", H1, {2: "X"})])
    [r], register = b.run()
    assert [(f.rule, f.decision_id, f.provider_id, f.invoice_no, f.severity) for f in register] == [
        ("R224", "D-2", Y2, None, "warning"), ("R224", "D-4", Y3, None, "warning")]
    assert "R224" not in [f.rule for f in r.findings]


# --- section 4, the ledger across batches, end to end -------------------------------------


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    (inbox / "register").mkdir(parents=True)
    wb.write_decisions(inbox / "register" / "decisions.xlsx", [
        decision("D-1", H1, days_per_week=2), decision("D-2", H1, Y2), decision("D-3", H2, benefit="eläke"),
        decision("D-9", H3, Y2, start=D(2026, 9, 2), end=D(2026, 11, 30))])
    wb.write_providers(inbox / "register" / "providers.xlsx", [provider(Y1), provider(Y2)])
    return inbox


def _approval(outbox: Path, batch: str) -> list[tuple]:
    with (outbox / batch / "finance" / "approval.csv").open(encoding="utf-8", newline="") as f:
        return sorted((r["invoice_no"], r["claimed_eur"], r["approved_eur"], r["held_eur"], r["rejected_eur"],
                       r["status"]) for r in csv.DictReader(f))


def test_ledger_across_batches_rerun_and_held_days(tmp_path):
    inbox, outbox, ledger = _inbox(tmp_path), tmp_path / "outbox", str(tmp_path / "ledger.sqlite")
    (inbox / "2026-10").mkdir()
    (inbox / "2026-11").mkdir()
    # October: D-1 (2 days a week) on Tue 27 and Wed 28 October.
    wb.write_invoice(inbox / "2026-10" / "oct.xlsx", header(Y1, "L-10", OCT), [client("D-1", H1, 2)],
                     [calendar("D-1", H1, {27: "X", 28: "X"})])
    # November: Y1 bills Sun 1 Nov (third day of the week 26 Oct - 1 Nov: R205) and Mon 2 Nov;
    # Y2 sends a late October invoice for the same client on 28 Oct (paid on L-10: R217);
    # D-3 (eläke) is held as a whole.
    wb.write_invoice(inbox / "2026-11" / "nov.xlsx", header(Y1, "L-11"),
                     [client("D-1", H1, 2), client("D-3", H2, 1)],
                     [calendar("D-1", H1, {1: "X", 2: "X"}), calendar("D-3", H2, {3: "X"})])
    wb.write_invoice(inbox / "2026-11" / "late.xlsx", header(Y2, "B-10", OCT), [client("D-2", H1, 1)],
                     [calendar("D-2", H1, {28: "X"})])
    batch_mod.run_batch(inbox, outbox, CONFIG, "2026-10", ledger)
    first = batch_mod.run_batch(inbox, outbox, CONFIG, "2026-11", ledger)
    by_file = {r.source_file: r for r in first.invoices}
    nov, late = by_file["nov.xlsx"], by_file["late.xlsx"]
    assert found(nov, "R205", "R218") == [("R218", "Asiakkaat!A3", "D-3", None),
                                          ("R205", day_cell(1), "D-1", D(2026, 11, 1))]
    assert found(late, "R217") == [("R217", day_cell(28), "D-2", D(2026, 10, 28))]
    assert _approval(outbox, "2026-11") == [("B-10", "45.00", "0.00", "0.00", "45.00", "rejected"),
                                           ("L-11", "135.00", "45.00", "45.00", "45.00", "partly_approved")]

    def days() -> list[tuple]:
        with sqlite3.connect(ledger) as conn:
            return conn.execute("SELECT batch, invoice_no, decision_id, date, state FROM days ORDER BY 1, 2, 3, 4").fetchall()

    expected = [("2026-10", "L-10", "D-1", "2026-10-27", "paid"), ("2026-10", "L-10", "D-1", "2026-10-28", "paid"),
                ("2026-11", "L-11", "D-1", "2026-11-02", "paid"), ("2026-11", "L-11", "D-3", "2026-11-03", "held")]
    assert days() == expected
    # Re-running the batch forgets what it recorded and records it again: its own days do not trip R217.
    again = batch_mod.run_batch(inbox, outbox, CONFIG, "2026-11", ledger)
    assert [found(r) for r in again.invoices] == [found(r) for r in first.invoices]
    assert days() == expected
    # R224 (D-9, a day short of 3 months) is in findings.csv with its provider and no invoice,
    # and in no provider's anomalies.
    with (outbox / "2026-11" / "audit" / "findings.csv").open(encoding="utf-8", newline="") as f:
        r224 = [(r["provider_id"], r["invoice_no"], r["decision_id"]) for r in csv.DictReader(f) if r["rule"] == "R224"]
    assert r224 == [(Y2, "", "D-9")]
    for path in (outbox / "2026-11" / "providers").rglob("anomalies.xlsx"):
        import openpyxl

        cells = [c for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True) for c in row]
        assert "R224" not in cells and "D-9" not in cells


def test_decision_numbers_match_the_register_trimmed_and_case_folded(tmp_path):
    # CONTRACT.md section 2: register values are matched trimmed and case-folded.
    b = Batch(tmp_path, [decision("KT-1", H1)])
    b.invoice("a.xlsx", header(), [client(" kt-1", H1, days=2)], [calendar("kt-1 ", H1, {2: "X", 3: "X"})])
    [r], _ = b.run()
    assert found(r) == []
    assert (r.status, r.total.approved) == ("approved", 2 * 4500)  # 45.00 a day, in cents
    assert r.rows["decision_id"].to_list() == ["KT-1"]


def test_a_row_the_reader_rejects_carries_its_claim_as_money_effect(tmp_path):
    # A bad henkilötunnus (V104) rejects the row: its effect is minus what the row claims,
    # 2 days × 45.00 = 90.00, the same as R201-R203 carry.
    b = Batch(tmp_path, [decision("D-1", H1), decision("D-2", H2)])
    b.invoice("a.xlsx", header(), [client("D-1", "010180-1000", days=2), client("D-2", H2, days=1)],
              [calendar("D-1", "010180-1000", {2: "X", 3: "X"}), calendar("D-2", H2, {2: "X"})])
    [r], _ = b.run()
    v104 = [(f.location.ref, f.amount_cents) for f in r.findings if f.rule == "V104"]
    assert v104[0] == ("Asiakkaat!B2", -9000)
    assert r.total.rejected == 9000 and r.total.approved == 4500


def test_the_file_rule_rejecting_an_invoice_carries_its_whole_claim(tmp_path):
    # F008: December billed in the November batch; the file claims 2 days × 45.00 = 90.00, all rejected,
    # and amount_eur is the signed change to the claim: -90.00 on the F finding.
    b = Batch(tmp_path, [decision("D-1", H1)])
    b.invoice("a.xlsx", header(month=DEC), [client("D-1", H1, days=2)], [calendar("D-1", H1, {1: "X", 2: "X"})])
    [r], _ = b.run("2026-11")
    assert [(f.rule, f.amount_cents) for f in r.findings if f.rule.startswith("F")] == [("F008", -9000)]
    assert (r.status, r.total.claimed, r.total.rejected) == ("rejected", 9000, 9000)
