"""Cross-checks and money on real workbooks: each written by tests/wb.py, read by
`invoice.read_invoice`, registers read by `registers.read_registers`, then
`check.check_batch`. Assertions are on (rule, cell, decision, date) and cents.

Calendar: 1 November 2026 is a Sunday; the weeks of November start on the
2nd, 9th, 16th, 23rd and 30th. Defaults: day value 45.00, travel 5.00/day,
meal price 6.80 and meal compensation 5.00 (config/rates.toml).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import wb

from reconcile import config as config_mod
from reconcile import check
from reconcile.read import intake
from reconcile.read.invoice import read_invoice
from reconcile.text.messages import message
from reconcile.model import History, Money
from reconcile.read.registers import read_registers

ROOT = Path(__file__).resolve().parents[1]
CONFIG = config_mod.load(ROOT / "config")
Y1, Y2, Y3 = wb.YTUNNUS
H1, H2, H3 = wb.HETU[:3]
NOV = dt.date(2026, 11, 1)
D = dt.date


def decision(decision_id="D-1", hetu=H1, provider_id=Y1, **over) -> dict:
    row = {"decision_id": decision_id, "hetu": hetu, "name": "Asiakas", "provider_id": provider_id,
           "start": D(2026, 9, 1), "end": D(2027, 2, 28), "terminated": None, "days_per_week": 4,
           "hours_per_day_h100": 6, "day_value_cents": 45, "meal": "tuottaja", "travel_per_day_cents": 5,
           "benefit": "työttömyysetuus", "guidance_min_h100": None}
    row.update(over)
    return row


def provider(provider_id=Y1, **over) -> dict:
    row = {"provider_id": provider_id, "name": f"Tuottaja {provider_id}", "approved_from": D(2025, 1, 1),
           "approved_to": None, "own_unit": "ei", "email": "x@example.fi", "lang": "fi"}
    row.update(over)
    return row


def client(decision_id="D-1", hetu=H1, days=0, value=45, fee=None, **over) -> dict:
    row = {"decision_id": decision_id, "hetu": hetu, "days_claimed": days, "day_value_cents": value,
           "fee_cents": days * value if fee is None else fee, "meals": 0, "meal_comp_days": 0, "travel_cents": 0,
           "guidance_individual_h100": 2}  # the default monthly minimum: no R214 unless a test asks for it
    row.update(over)
    return row


def calendar(decision_id="D-1", hetu=H1, days: dict | None = None, month: dt.date = NOV) -> dict:
    """A Läsnäolo row with a column for each day 1..31 (31 is not a day of November)."""
    return {"decision_id": decision_id, "hetu": hetu, **{d: None for d in range(1, 32)}, **(days or {})}


def header(provider_id=Y1, invoice_no="L-1", month: dt.date = NOV, total=None) -> dict:
    h = {"provider_name": "Tuottaja", "provider_id": provider_id, "invoice_no": invoice_no,
         "billing_month": month.strftime("%Y-%m"), "invoice_date": month}
    if total is not None:
        h["total_cents"] = total
    return h


class Batch:
    """An inbox in tmp_path: registers, invoices, and a History from earlier batches."""

    def __init__(self, tmp_path: Path, decisions: list[dict], providers: list[dict] | None = None):
        self.dir = tmp_path
        (tmp_path / "register").mkdir()
        wb.write_decisions(tmp_path / "register" / "decisions.xlsx", decisions)
        wb.write_providers(tmp_path / "register" / "providers.xlsx", providers or [provider(Y1), provider(Y2)])
        self.registers = read_registers(tmp_path, CONFIG)
        self.invoices = []
        self.history = History.empty()

    def invoice(self, name: str, head: dict, clients: list[dict], attendance: list[dict], **kw):
        path = wb.write_invoice(self.dir / name, head, clients, attendance, **kw)
        self.invoices.append(read_invoice(intake.submission(path), CONFIG))
        return self

    def paid(self, *days: tuple[str, str, dt.date], provider_id=Y2, invoice_no="OLD-1", batch="2026-10"):
        """Days recorded as paid by an earlier batch: (hetu, decision_id, date)."""
        rows = pl.DataFrame(
            [{"hetu": h, "date": d, "decision_id": dec, "provider_id": provider_id, "invoice_no": invoice_no,
              "batch": batch, "signed_off": False} for h, dec, d in days],
            schema=self.history.paid_days.schema,
        )
        self.history.paid_days = pl.concat([self.history.paid_days, rows])
        return self

    def run(self, batch: str = "2026-11"):
        return check.check_batch(self.invoices, self.registers, self.history, CONFIG, batch)


def found(result, *rules: str) -> list[tuple]:
    """(rule, cell, decision, date) of the findings, optionally only some rules."""
    return [(f.rule, f.location.ref, f.decision_id, f.date) for f in result.findings if not rules or f.rule in rules]


def amounts(result) -> dict[str, int]:
    t = result.total
    return {"claimed": t.claimed, "approved": t.approved, "held": t.held, "rejected": t.rejected}


def test_clean_invoice_is_approved_in_full(tmp_path):
    # Mon 2, Tue 3 (6 h), Wed 4: three days at 45.00, 3 meals at 6.80, travel 3 x 5.00.
    b = Batch(tmp_path, [decision()])
    b.invoice("a.xlsx", header(total=170.40),
              [client(days=3, meals=3, travel_cents=15, total_cents=170.40)],
              [calendar(days={2: "X", 3: 6, 4: "x"})])
    [r], register = b.run()
    assert r.findings == [] and register == []
    assert r.status == "approved"
    assert r.items == {"fee": Money(13500, 13500), "meals": Money(2040, 2040),
                       "meal_comp": Money(0, 0), "travel": Money(1500, 1500)}
    assert r.rows.select("row", "status", "days_paid", "days_held").rows() == [(2, "approved", 3, 0)]
    assert r.day_outcomes.select("cell", "date", "outcome").rows() == [
        ("D2", D(2026, 11, 2), "paid"), ("E2", D(2026, 11, 3), "paid"), ("F2", D(2026, 11, 4), "paid")]


def hetu(i: int) -> str:
    """A valid henkilötunnus for client number i (born 1 January 1980 + i)."""
    digits = f"0101{80 + i:02d}{100 + i:03d}"
    return f"{digits[:6]}-{digits[6:]}" + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(digits) % 31]


def test_file_level_provider_and_month(tmp_path):
    b = Batch(tmp_path, [decision(), decision("D-3", hetu(3), Y3)],
              [provider(Y1), provider(Y2, approved_to=D(2026, 10, 31)), provider(Y3, approved_from=D(2026, 11, 15))])
    one_day = ([client(days=1)], [calendar(days={2: "X"})])
    b.invoice("unknown.xlsx", header(provider_id="1572860-0"), *one_day)
    b.invoice("expired.xlsx", header(provider_id=Y2), *one_day)
    b.invoice("future.xlsx", header(month=D(2026, 12, 1)), *one_day)
    # Approved from the 15th: approved for November (any day of the month counts).
    b.invoice("new.xlsx", header(provider_id=Y3), [client("D-3", hetu(3), days=1)],
              [calendar("D-3", hetu(3), {16: "X"})])
    results, _ = b.run()
    assert [found(r) for r in results] == [
        [("F006", "Lasku!B2", None, None)], [("F006", "Lasku!B2", None, None)], [("F008", "Lasku!B4", None, None)], []]
    assert [r.status for r in results] == ["rejected", "rejected", "rejected", "approved"]
    assert [amounts(r) for r in results[:3]] == [{"claimed": 4500, "approved": 0, "held": 0, "rejected": 4500}] * 3


def test_duplicate_invoice_numbers(tmp_path):
    b = Batch(tmp_path, [decision(), decision("D-2", H2, Y2)])
    one_day = ([client(days=1)], [calendar(days={2: "X"})])
    b.invoice("a.xlsx", header(invoice_no="L-1"), *one_day)
    b.invoice("b.xlsx", header(invoice_no="L-1"), *one_day)
    b.invoice("other-provider.xlsx", header(provider_id=Y2, invoice_no="L-1"),
              [client("D-2", H2, days=1)], [calendar("D-2", H2, {3: "X"})])
    b.invoice("old.xlsx", header(invoice_no="OLD-7"), *one_day)
    b.invoice("future.xlsx", header(invoice_no="L-9", month=D(2026, 12, 1)), *one_day)  # F008: not processed
    b.invoice("resent.xlsx", header(invoice_no="L-9"), [client(days=1)], [calendar(days={9: "X"})])
    b.history.invoices = pl.DataFrame(
        [{"provider_id": Y1, "invoice_no": "OLD-7", "batch": "2026-10", "billing_month": D(2026, 10, 1),
          "status": "approved", "signed_off": False}], schema=b.history.invoices.schema)
    results, _ = b.run()
    assert [r.status for r in results] == ["duplicate", "duplicate", "approved", "duplicate", "rejected", "approved"]
    assert [found(r, "F007") for r in results] == [
        [("F007", "Lasku!B3", None, None)], [("F007", "Lasku!B3", None, None)], [], [("F007", "Lasku!B3", None, None)], [], []]
    assert results[0].total == Money(4500, 0, 0, 4500)


def test_late_invoice_is_a_warning(tmp_path):
    b = Batch(tmp_path, [decision(start=D(2026, 6, 1))])
    b.invoice("july.xlsx", header(invoice_no="L-7", month=D(2026, 7, 1)), [client(days=1)],
              [calendar(days={1: "X"}, month=D(2026, 7, 1))])
    b.invoice("august.xlsx", header(invoice_no="L-8", month=D(2026, 8, 1)), [client(days=1)],
              [calendar(days={3: "X"}, month=D(2026, 8, 1))])
    july, august = b.run()[0]
    assert found(july) == [("R225", "Lasku!B4", None, None)] and july.findings[0].severity == "warning"
    assert found(august) == []
    assert july.status == august.status == "approved"


def test_row_checks_reject_or_hold_the_whole_row(tmp_path):
    b = Batch(tmp_path, [decision("D-1", hetu(1)), decision("D-2", hetu(2)), decision("D-3", hetu(3), Y2),
                         decision("D-4", hetu(4), benefit="kuntoutustuki"), decision("D-5", hetu(5)),
                         decision("D-6", hetu(6)), decision("D-7", hetu(7))])
    clients = [client("D-9", hetu(9), days=1), client("D-2", hetu(1), days=1), client("D-3", hetu(3), days=1),
               client("D-4", hetu(4), days=1), client("D-5", hetu(5), days=1), client("D-1", hetu(1), days=1),
               client("D-7", "010180-107X", days=1)]
    attendance = [calendar(d, h, {2: "X"}) for d, h in (("D-9", hetu(9)), ("D-2", hetu(2)), ("D-3", hetu(3)),
                                                         ("D-4", hetu(4)), ("D-6", hetu(6)), ("D-1", hetu(1)),
                                                         ("D-7", hetu(7)))]
    b.invoice("a.xlsx", header(), clients, attendance)
    [r], _ = b.run()
    assert found(r) == [
        ("V104", "Asiakkaat!B8", "D-7", None),
        ("R201", "Asiakkaat!A2", "D-9", None),
        ("R202", "Asiakkaat!B3", "D-2", None),
        ("R203", "Asiakkaat!A4", "D-3", None),
        ("R218", "Asiakkaat!A5", "D-4", None),
        ("R223", "Asiakkaat!A6", "D-5", None),
        ("R223", "Läsnäolo!A6", "D-6", None),
    ]
    by_rule = {f.rule: f for f in r.findings}
    assert (by_rule["R201"].amount_cents, by_rule["R218"].amount_cents, by_rule["R218"].effect) == (-4500, -4500, "hold")
    assert [f.severity for f in r.findings if f.rule == "R223"] == ["error", "warning"]
    assert r.rows.select("decision_id", "status").rows() == [
        ("D-9", "rejected"), ("D-2", "rejected"), ("D-3", "rejected"), ("D-4", "held"), ("D-5", "rejected"),
        ("D-1", "approved"), ("D-7", "rejected")]
    assert amounts(r) == {"claimed": 31500, "approved": 4500, "held": 4500, "rejected": 22500}
    assert r.status == "partly_approved"
    assert r.day_outcomes.select("decision_id", "outcome", "rule").rows() == [
        ("D-9", "rejected", "R201"), ("D-2", "rejected", "R202"), ("D-3", "rejected", "R203"),
        ("D-4", "held", "R218"), ("D-6", "rejected", "R223"), ("D-1", "paid", None), ("D-7", "rejected", "V104")]


def test_day_checks_in_order_the_first_failing_decides(tmp_path):
    b = Batch(tmp_path, [decision(start=D(2026, 11, 3), terminated=D(2026, 11, 20))])
    days = {2: 3, 3: "3,5", 4: "X", 5: 9, 21: "X", 31: "X"}  # 2: before start and under 4 h: R204 only
    att = [calendar(days=days)]
    b.invoice("a.xlsx", header(), [client(days=6)], att)
    [r], _ = b.run()
    c = {d: "Läsnäolo!" + wb.cell(att, d, 0) for d in days}
    assert found(r) == [
        ("R204", c[2], "D-1", D(2026, 11, 2)),
        ("R206", c[3], "D-1", D(2026, 11, 3)),
        ("R226", c[5], "D-1", D(2026, 11, 5)),
        ("R204", c[21], "D-1", D(2026, 11, 21)),
        ("R222", c[31], "D-1", None),
        ("R219", "Asiakkaat!A2", "D-1", D(2026, 11, 20)),  # terminated in November, no assessment column
    ]
    assert [f.amount_cents for f in r.findings] == [-4500, -4500, 0, -4500, -4500, 0]
    assert r.items["fee"] == Money(27000, 9000, 0, 18000)
    assert r.status == "partly_approved"


def test_double_billing_between_two_providers_is_held_on_both(tmp_path):
    b = Batch(tmp_path, [decision("D-1", H1, Y1), decision("D-2", H1, Y2)])
    b.invoice("y1.xlsx", header(Y1, "A-1"), [client("D-1", H1, days=2, meals=2, travel_cents=10)],
              [calendar("D-1", H1, {2: "X", 3: "X"})])
    b.invoice("y2.xlsx", header(Y2, "B-1"), [client("D-2", H1, days=2)], [calendar("D-2", H1, {3: "X", 4: "X"})])
    r1, r2 = b.run()[0]
    assert found(r1) == [("R216", "Läsnäolo!E2", "D-1", D(2026, 11, 3))]
    assert found(r2) == [("R216", "Läsnäolo!E2", "D-2", D(2026, 11, 3))]
    for r, other in ((r1, Y2), (r2, Y1)):
        f = r.findings[0]
        assert (f.effect, f.amount_cents, f.found) == ("hold", -4500, "another provider")
        assert other not in repr(f) and other not in message(f, "en")
    assert r1.items == {"fee": Money(9000, 4500, 4500, 0), "meals": Money(1360, 680, 680, 0),
                        "meal_comp": Money(0, 0, 0, 0), "travel": Money(1000, 500, 500, 0)}
    assert r2.total == Money(9000, 4500, 4500, 0)
    assert (r1.status, r2.status) == ("partly_approved", "partly_approved")
    assert r1.day_outcomes.select("date", "outcome").rows() == [(D(2026, 11, 2), "paid"), (D(2026, 11, 3), "held")]


def test_paid_in_earlier_batch_and_rejected_rows_do_not_double_bill(tmp_path):
    b = Batch(tmp_path, [decision("D-1", H1, Y1), decision("D-2", H1, Y2)])
    b.paid((H1, "D-2", D(2026, 11, 2)), provider_id=Y2, batch="2026-11")
    b.invoice("y1.xlsx", header(Y1, "A-2"), [client("D-1", H1, days=2)], [calendar("D-1", H1, {2: "X", 3: "X"})])
    # Y2 bills the 3rd too, on a row rejected as a whole (wrong henkilötunnus): no R216.
    b.invoice("y2.xlsx", header(Y2, "B-2"), [client("D-2", H2, days=1)], [calendar("D-2", H1, {3: "X"})])
    r1, r2 = b.run("2026-12")[0]
    assert found(r1) == [("R217", "Läsnäolo!D2", "D-1", D(2026, 11, 2))]
    assert r1.findings[0].amount_cents == -4500
    assert found(r2) == [("R202", "Asiakkaat!B2", "D-2", None)]
    assert r1.total == Money(9000, 4500, 0, 4500)


def test_weekly_limit_keeps_the_earliest_days(tmp_path):
    b = Batch(tmp_path, [decision("D-1", H1, days_per_week=2), decision("D-2", H2, days_per_week=4)])
    att = [calendar("D-1", H1, {9: "X", 10: "X", 11: "X"}),
           calendar("D-2", H2, {23: "X", 24: "X", 25: "X", 26: "X", 27: "X", 28: "X"})]
    b.invoice("a.xlsx", header(), [client("D-1", H1, days=3), client("D-2", H2, days=6)], att)
    [r], _ = b.run()
    assert found(r) == [
        ("R205", "Läsnäolo!" + wb.cell(att, 11, 0), "D-1", D(2026, 11, 11)),
        ("R205", "Läsnäolo!" + wb.cell(att, 27, 1), "D-2", D(2026, 11, 27)),
        ("R205", "Läsnäolo!" + wb.cell(att, 28, 1), "D-2", D(2026, 11, 28)),
    ]
    assert [(f.expected, f.found) for f in r.findings] == [("2", "3"), ("4", "5"), ("4", "6")]
    assert r.total == Money(40500, 27000, 0, 13500)


def test_week_from_october_to_sunday_1_november(tmp_path):
    # Week Mon 26 October - Sun 1 November 2026; Tue 27 and Wed 28 October already paid.
    b = Batch(tmp_path, [decision("D-1", H1, days_per_week=2), decision("D-2", H2, days_per_week=3)])
    b.paid((H1, "D-1", D(2026, 10, 27)), (H1, "D-1", D(2026, 10, 28)),
           (H2, "D-2", D(2026, 10, 27)), (H2, "D-2", D(2026, 10, 28)), provider_id=Y1, invoice_no="L-10")
    att = [calendar("D-1", H1, {1: "X", 2: "X"}), calendar("D-2", H2, {1: "X", 2: "X"})]
    b.invoice("a.xlsx", header(), [client("D-1", H1, days=2), client("D-2", H2, days=2)], att)
    [r], _ = b.run()
    assert found(r) == [("R205", "Läsnäolo!C2", "D-1", D(2026, 11, 1)), ("R207", "Läsnäolo!C3", "D-2", D(2026, 11, 1))]
    assert r.findings[0].params["paid_before"] == 2
    assert r.total == Money(18000, 13500, 0, 4500)


def test_invoices_are_processed_by_month_then_provider_then_number(tmp_path):
    # The October invoice is counted first although it comes second: 27-29 October fill the week.
    b = Batch(tmp_path, [decision("D-1", H1, days_per_week=3)])
    b.invoice("nov.xlsx", header(invoice_no="L-1"), [client(days=2)], [calendar(days={1: "X", 2: "X"})])
    oct_ = D(2026, 10, 1)
    b.invoice("oct.xlsx", header(invoice_no="L-2", month=oct_), [client(days=3)],
              [calendar(days={27: "X", 28: "X", 29: "X"}, month=oct_)])
    nov, october = b.run()[0]
    assert found(nov, "R205") == [("R205", "Läsnäolo!C2", "D-1", D(2026, 11, 1))]
    assert found(october) == []
    assert (nov.total.approved, october.total.approved) == (4500, 13500)


def test_sunday_and_public_holiday_warnings_on_paid_days(tmp_path):
    dec = D(2026, 12, 1)
    b = Batch(tmp_path, [decision()])
    att = [calendar(days={6: "X", 19: "X", 24: "X"}, month=dec)]  # Sun 6 Dec is Independence Day; Sat 19; Thu 24
    b.invoice("dec.xlsx", header(month=dec), [client(days=3)], att)
    [r], _ = b.run("2026-12")
    assert found(r) == [("R207", "Läsnäolo!" + wb.cell(att, 6, 0), "D-1", D(2026, 12, 6)),
                        ("R207", "Läsnäolo!" + wb.cell(att, 24, 0), "D-1", D(2026, 12, 24))]
    assert r.findings[0].params["holiday"] == "Itsenäisyyspäivä"  # Finnish under any LANG
    assert r.findings[1].params["holiday"] == "Jouluaatto"
    assert r.total == Money(13500, 13500, 0, 0) and r.status == "approved"


def test_amount_rules_adjust_each_item(tmp_path):
    decisions = [decision(f"D-{i}", hetu(i)) for i in range(1, 7)]
    decisions[3]["meal"] = "korvaus"
    b = Batch(tmp_path, decisions)
    clients = [
        client("D-1", hetu(1), days=5, total_cents=999),          # R208: 3 day cells; R221
        client("D-2", hetu(2), days=2, value=50),                 # R209
        client("D-3", hetu(3), days=2, fee=100),                  # R210
        client("D-4", hetu(4), days=2, meals=2, meal_comp_days=2),  # R211 (compensation is right)
        client("D-5", hetu(5), days=3, meals=4),                  # R212
        client("D-6", hetu(6), days=3, travel_cents=20),          # R213
    ]
    attendance = [calendar(f"D-{i}", hetu(i), {2: "X", 3: "X", 4: "X"} if i in (1, 5, 6) else {2: "X", 3: "X"})
                  for i in range(1, 7)]
    head = header(total=1)
    b.invoice("a.xlsx", head, clients, attendance)
    [r], _ = b.run()
    cell = {k: "Asiakkaat!" + wb.cell(clients, k, i) for k, i in
            (("days_claimed", 0), ("total_cents", 0), ("day_value_cents", 1), ("fee_cents", 2), ("meals", 3),
             ("meals", 4), ("travel_cents", 5))}
    cell["meals4"] = "Asiakkaat!" + wb.cell(clients, "meals", 4)
    assert [(f.rule, f.location.ref, f.decision_id, f.amount_cents) for f in r.findings] == [
        ("R208", cell["days_claimed"], "D-1", -9000),
        ("R221", cell["total_cents"], "D-1", 0),
        ("R209", cell["day_value_cents"], "D-2", -1000),
        ("R210", cell["fee_cents"], "D-3", -1000),
        ("R211", "Asiakkaat!" + wb.cell(clients, "meals", 3), "D-4", -1360),
        ("R212", cell["meals4"], "D-5", -680),
        ("R213", cell["travel_cents"], "D-6", -500),
        ("R220", "Lasku!" + wb.label_cell(head, "total_cents"), None, 0),
    ]
    assert r.items == {"fee": Money(78500, 67500, 0, 11000), "meals": Money(4080, 2040, 0, 2040),
                       "meal_comp": Money(1000, 1000, 0, 0), "travel": Money(2000, 1500, 0, 500)}
    assert r.rows.get_column("status").to_list() == ["adjusted", "adjusted", "adjusted", "adjusted", "adjusted", "adjusted"]


def test_guidance_and_assessment_warnings(tmp_path):
    decisions = [
        decision("D-1", hetu(1), start=D(2026, 11, 16), end=D(2027, 5, 15)),  # half the month: minimum 1.00 h
        decision("D-2", hetu(2), start=D(2026, 10, 20), end=D(2027, 4, 19)),  # 30th day 18 Nov, nothing reported
        decision("D-3", hetu(3), start=D(2026, 10, 15), end=D(2027, 4, 14)),  # 30th day 13 Nov, reported in October
        decision("D-4", hetu(4), start=D(2026, 6, 1), end=D(2026, 11, 30)),   # ends 30 Nov, VAT on 15 Oct
        decision("D-5", hetu(5), start=D(2026, 6, 1), end=D(2027, 5, 31), terminated=D(2026, 11, 10)),
        decision("D-8", hetu(8), Y2, start=D(2026, 10, 1), end=D(2026, 11, 30)),  # 2 months: R224
        decision("D-9", hetu(9), Y2, start=D(2024, 1, 1), end=D(2026, 12, 31)),   # 36 months: R224
        decision("D-7", hetu(7), Y2, start=D(2026, 8, 1), end=D(2026, 9, 30)),    # not in force in November
    ]
    b = Batch(tmp_path, decisions)
    extra = {"guidance_individual_h100": 2, "kykyviisari_date": None, "vat_date": None}
    clients = [client(f"D-{i}", hetu(i), days=1, **extra) for i in range(1, 6)]
    clients[0]["guidance_individual_h100"] = "0,5"
    clients[3]["vat_date"] = D(2026, 10, 15)
    clients[4]["kykyviisari_date"] = D(2026, 9, 1)
    attendance = [calendar("D-1", hetu(1), {16: "X"})] + [calendar(f"D-{i}", hetu(i), {2: "X"}) for i in range(2, 6)]
    log = [{"decision_id": "D-1", "hetu": None, "date": D(2026, 11, 17), "hours_h100": "0,5", "type": "yksilö"},
           {"decision_id": "D-2", "hetu": None, "date": D(2026, 11, 3), "hours_h100": 2, "type": "yksilö"},
           {"decision_id": "D-2", "hetu": None, "date": D(2026, 11, 4), "hours_h100": 1, "type": "ryhmä"},
           {"decision_id": None, "hetu": hetu(3), "date": D(2026, 11, 4), "hours_h100": 2, "type": "yksilö"},
           {"decision_id": "D-4", "hetu": None, "date": D(2026, 11, 4), "hours_h100": 2, "type": "yksilö"},
           {"decision_id": "D-5", "hetu": None, "date": D(2026, 11, 4), "hours_h100": 2, "type": "yksilö"}]
    b.invoice("a.xlsx", header(), clients, attendance, guidance=log)
    b.history.assessments = pl.DataFrame([{"decision_id": "D-3", "kind": "kykyviisari", "date": D(2026, 10, 20)}],
                                         schema=b.history.assessments.schema)
    [r], register = b.run()
    guidance, kyky = (lambda i: "Asiakkaat!" + wb.cell(clients, "guidance_individual_h100", i),
                      lambda i: "Asiakkaat!" + wb.cell(clients, "kykyviisari_date", i))
    assert sorted(found(r), key=str) == sorted([
        ("R214", guidance(0), "D-1", None),
        ("R215", guidance(1), "D-2", None),
        ("R219", kyky(1), "D-2", D(2026, 11, 18)),
        ("R219", kyky(4), "D-5", D(2026, 11, 10)),
    ], key=str)
    r214 = next(f for f in r.findings if f.rule == "R214")
    r215 = next(f for f in r.findings if f.rule == "R215")
    assert (r214.expected, r214.found, r215.expected, r215.found) == ("1.00", "0.50", "2.00", "3.00")
    assert all(f.severity == "warning" and f.amount_cents == 0 for f in r.findings)
    assert r.status == "approved"
    assert [(f.rule, f.decision_id, f.provider_id, f.invoice_no) for f in register] == [
        ("R224", "D-8", Y2, None), ("R224", "D-9", Y2, None)]


def test_fatal_invoice_claims_its_rows_else_its_total(tmp_path):
    b = Batch(tmp_path, [decision()])
    b.invoice("no-attendance.xlsx", header(invoice_no="L-1", total=123.45), [client(days=2, meals=1)], [],
              omit=["attendance"])
    b.invoice("no-clients.xlsx", header(invoice_no="L-2", total=123.45), [], [calendar(days={2: "X"})],
              omit=["clients"])
    rows_read, total_only = b.run()[0]
    assert [f.rule for f in rows_read.findings] == ["F003"] and rows_read.status == "rejected"
    assert rows_read.items == {"fee": Money(9000, 0, 0, 9000), "meals": Money(680, 0, 0, 680),
                               "meal_comp": Money(0, 0, 0, 0), "travel": Money(0, 0, 0, 0)}
    assert rows_read.rows.select("row", "status").rows() == [(2, "rejected")]
    assert total_only.total == Money(12345, 0, 0, 12345) and total_only.status == "rejected"


def test_held_days_on_items_claimed_below_days_times_unit_and_on_meal_compensation(tmp_path):
    # The same client on 3, 4 November with two providers: both days held (R216) on both invoices.
    # Y1 (meals served): 4 days at 45.00 but the fee claims 100.00, travel 12.00 at 5.00/day.
    #   days 2, 3, 4, 5: paid 2 (2nd, 5th), held 2 (3rd, 4th); A' = 2, H' = 2.
    #   fee approved min(90.00, 100.00) = 90.00, held min(90.00, 100.00 - 90.00) = 10.00, rejected 0
    #   travel approved 10.00, held min(10.00, 2.00) = 2.00, rejected 0
    # Y2 (meal compensation, korvaus): 3 days 2, 3, 4 at 45.00, 3 compensation days at 5.00.
    #   paid 1 (2nd), held 2: fee 45.00 / 90.00 / 0; compensation 5.00 / 10.00 / 0.
    b = Batch(tmp_path, [decision("D-1", H1, Y1), decision("D-2", H1, Y2, meal="korvaus")])
    b.invoice("y1.xlsx", header(Y1, "A-1"), [client("D-1", H1, days=4, fee=100, travel_cents=12)],
              [calendar("D-1", H1, {2: "X", 3: "X", 4: "X", 5: "X"})])
    b.invoice("y2.xlsx", header(Y2, "B-1"), [client("D-2", H1, days=3, meal_comp_days=3)],
              [calendar("D-2", H1, {3: "X", 4: "X", 9: "X"})])
    r1, r2 = b.run()[0]
    assert found(r1, "R216") == [("R216", "Läsnäolo!E2", "D-1", D(2026, 11, 3)), ("R216", "Läsnäolo!F2", "D-1", D(2026, 11, 4))]
    assert r1.items == {"fee": Money(10000, 9000, 1000, 0), "meals": Money(0, 0, 0, 0),
                        "meal_comp": Money(0, 0, 0, 0), "travel": Money(1200, 1000, 200, 0)}
    assert r1.status == "partly_approved"
    assert r2.items == {"fee": Money(13500, 4500, 9000, 0), "meals": Money(0, 0, 0, 0),
                        "meal_comp": Money(1500, 500, 1000, 0), "travel": Money(0, 0, 0, 0)}
    assert r2.rows.select("days_paid", "days_held", "status").rows() == [(1, 2, "adjusted")]


def test_every_day_held_makes_the_invoice_held(tmp_path):
    b = Batch(tmp_path, [decision("D-1", H1, Y1), decision("D-2", H1, Y2)])
    b.invoice("y1.xlsx", header(Y1, "A-1"), [client("D-1", H1, days=2)], [calendar("D-1", H1, {3: "X", 4: "X"})])
    b.invoice("y2.xlsx", header(Y2, "B-1"), [client("D-2", H1, days=2)], [calendar("D-2", H1, {3: "X", 4: "X"})])
    r1, r2 = b.run()[0]
    for r in (r1, r2):
        assert r.total == Money(9000, 0, 9000, 0) and r.status == "held"
        assert r.rows.select("days_paid", "days_held", "status").rows() == [(0, 2, "held")]


def test_x900_on_a_workbook_without_readable_rows_holds_its_lasku_total(tmp_path, monkeypatch):
    # A workbook with an empty Asiakkaat sheet (F004) whose check has a bug: X900, and the
    # Lasku total 250.00 is held as the service fee; the other invoice is checked as usual.
    from reconcile.check import batch as checks

    b = Batch(tmp_path, [decision()])
    b.invoice("ok.xlsx", header(invoice_no="L-1"), [client(days=1)], [calendar(days={2: "X"})])
    b.invoice("empty.xlsx", header(invoice_no="L-2", total="250,00"), [], [])

    def broken(w):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(checks, "rejected_file", broken)
    (ok, held), _ = check.check_invoices(b.invoices, b.registers, b.history, CONFIG, "2026-11")
    assert (ok.status, ok.total) == ("approved", Money(4500, 4500, 0, 0))
    assert held.status == "held" and held.rows is None
    assert held.items == {"fee": Money(25000, 0, 25000, 0), "meals": Money(), "meal_comp": Money(), "travel": Money()}
    assert [(f.rule, f.found) for f in held.findings if f.rule == "X900"] == [("X900", "ZeroDivisionError")]


def test_a_day_over_eight_hours_is_flagged_from_the_first_hundredth(tmp_path):
    # 8 h is not a long day; 8.01 h is (R226, a warning on a paid day).
    b = Batch(tmp_path, [decision()])
    att = [calendar(days={2: "8", 3: "8,01"})]
    b.invoice("a.xlsx", header(), [client(days=2)], att)
    [r], _ = b.run()
    assert found(r) == [("R226", "Läsnäolo!" + wb.cell(att, 3, 0), "D-1", D(2026, 11, 3))]
    assert r.findings[0].found == "8.01" and r.total == Money(9000, 9000, 0, 0)


def test_a_day_paid_to_another_provider_under_the_same_invoice_number_is_r217(tmp_path):
    # Y2's invoice L-1 of October was paid for Tue 3 November; Y1 bills the same client and day
    # on its own invoice L-1: another provider's payment, whatever the number says.
    b = Batch(tmp_path, [decision("D-1", H1, Y1)])
    b.paid((H1, "D-1", D(2026, 11, 3)), provider_id=Y2, invoice_no="L-1")
    att = [calendar("D-1", H1, {2: "X", 3: "X"})]
    b.invoice("a.xlsx", header(Y1, "L-1"), [client("D-1", H1, days=2)], att)
    [r], _ = b.run()
    assert found(r) == [("R217", "Läsnäolo!" + wb.cell(att, 3, 0), "D-1", D(2026, 11, 3))]
    assert r.total == Money(9000, 4500, 0, 4500)


def test_a_day_of_exactly_four_hours_is_paid(tmp_path):
    # The minimum is 4 hours: 4 is paid, 3.99 is R206.
    b = Batch(tmp_path, [decision()])
    att = [calendar(days={2: "4", 3: "3,99"})]
    b.invoice("a.xlsx", header(), [client(days=2)], att)
    [r], _ = b.run()
    assert found(r) == [("R206", "Läsnäolo!" + wb.cell(att, 3, 0), "D-1", D(2026, 11, 3))]
    assert r.total == Money(9000, 4500, 0, 4500)


def test_a_day_cell_with_an_unknown_code_is_v105_and_nothing_else(tmp_path):
    # `E` is not a code of the contract: the reader's V105 rejects the day (its value, 45.00, on
    # the finding); no day check runs on it, so it gets no R206 for its missing hours.
    b = Batch(tmp_path, [decision()])
    att = [calendar(days={2: "X", 3: "E"})]
    b.invoice("a.xlsx", header(), [client(days=2)], att)
    [r], _ = b.run()
    assert [(f.rule, f.location.ref, f.amount_cents) for f in r.findings] == [
        ("V105", "Läsnäolo!" + wb.cell(att, 3, 0), -4500)]
    assert r.day_outcomes.select("date", "outcome", "rule").rows() == [
        (D(2026, 11, 2), "paid", None), (D(2026, 11, 3), "rejected", "V105")]
    assert r.total == Money(9000, 4500, 0, 4500)


def test_a_decisions_last_day_and_first_day_are_paid(tmp_path):
    # D-1 starts Tue 3 and ends Thu 5 November; D-2 (another client) ends in 2027 but was
    # terminated on Wed 4. Each pays its first and last day; the day after is R204.
    b = Batch(tmp_path, [decision("D-1", H1, start=D(2026, 11, 3), end=D(2026, 11, 5)),
                         decision("D-2", H2, terminated=D(2026, 11, 4))])
    att = [calendar("D-1", H1, {2: "X", 3: "X", 5: "X", 6: "X"}), calendar("D-2", H2, {4: "X", 5: "X"})]
    b.invoice("a.xlsx", header(), [client("D-1", H1, days=4), client("D-2", H2, days=2)], att)
    [r], _ = b.run()
    assert found(r, "R204") == [("R204", "Läsnäolo!" + wb.cell(att, 2, 0), "D-1", D(2026, 11, 2)),
                                ("R204", "Läsnäolo!" + wb.cell(att, 6, 0), "D-1", D(2026, 11, 6)),
                                ("R204", "Läsnäolo!" + wb.cell(att, 5, 1), "D-2", D(2026, 11, 5))]
    assert r.items["fee"] == Money(27000, 13500, 0, 13500)


def test_r222_names_the_days_of_the_month_and_the_column_typed(tmp_path):
    b = Batch(tmp_path, [decision()])
    att = [calendar(days={2: "X", 31: "X"})]
    b.invoice("a.xlsx", header(), [client(days=2)], att)
    [r], _ = b.run()
    [f] = r.findings
    assert (f.rule, f.expected, f.found, f.date, f.amount_cents) == ("R222", "30", "31", None, -4500)


def test_a_failing_day_on_a_row_held_as_a_whole_keeps_its_own_rule(tmp_path):
    # R218 holds the row; a day under 4 hours on it is still R206 (rejected), the others held for R218.
    b = Batch(tmp_path, [decision(benefit="kuntoutustuki")])
    b.invoice("a.xlsx", header(), [client(days=2)], [calendar(days={2: "X", 3: "3"})])
    [r], _ = b.run()
    assert r.day_outcomes.select("date", "outcome", "rule").rows() == [
        (D(2026, 11, 2), "held", "R218"), (D(2026, 11, 3), "rejected", "R206")]


def test_the_attendance_row_belongs_to_the_client_row_not_rejected(tmp_path):
    # The same decision on two Asiakkaat rows: the second is V106 (rejected); the Läsnäolo row's
    # days belong to the first, and are paid, 2 x 45.00; the duplicate's claim is rejected.
    b = Batch(tmp_path, [decision()])
    b.invoice("a.xlsx", header(), [client(days=2), client(days=2)], [calendar(days={2: "X", 3: "X"})])
    [r], _ = b.run()
    assert [(f.rule, f.location.ref, f.amount_cents) for f in r.findings] == [("V106", "Asiakkaat!A3", -9000)]
    assert r.day_outcomes.select("date", "outcome").rows() == [(D(2026, 11, 2), "paid"), (D(2026, 11, 3), "paid")]
    assert r.total == Money(18000, 9000, 0, 9000)
