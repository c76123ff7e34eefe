"""`reconcile report` (CONTRACT.md section 9): trends across months from the ledger and the registers.

The fixture is a small city written with openpyxl: two providers, registers
and invoices for batches 2026-01, 2026-02 and 2026-04 (no batch for March),
each run with `reconcile run`. Every expected figure below is worked out by
hand from the fixture, in the comments beside it.

People (sex from the individual number's parity, age on the month's last day):
    A 150395-123K man, 30     B 100685-235T man, 40     C 200775-3473 man, 50
    D 050166-459V man, 60     E 010205A562N woman, 20   F 310191-671X man, 35 on 31.1.2026
    G 121297-784R woman, 28   H 030380-893T (only on a file rejected as a whole)
    K1..K6: register only, periods that ended 31.1.2026

Providers P1 (day value 40.00) and P2 (50.00). Decisions (3 days a week, 6 h a day):
    D1  A P1 2025-09-01..2026-12-31
    D2  B P1 2025-09-01..2026-12-31
    D3  C P1 2025-10-01..2026-01-15  next step "uusi jakso"; C begins D3b at P2 on 2026-07-15 (exactly 6 months)
    D4  D P1 2025-10-01..2026-01-15  next step "työ";        D begins D4b at P2 on 2026-07-16 (one day over)
    D5  E P2 2025-11-01..2026-06-30, terminated 2026-01-20, next step "TE-palvelu"
    D6  F P2 2026-01-10..2026-12-31
    D7  A P2 2026-02-01..2026-07-31  (A is billed by both providers in February)
    K1..K5 P2 2025-08-01..2026-01-31 "uusi jakso", each beginning a new period on 2026-07-31 (exactly 6 months)
    K6     P2 2025-08-01..2026-01-31 "muu", beginning a new period on 2026-08-01 (one day over)
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from pathlib import Path

import openpyxl
import pytest
import wb
from click.testing import CliRunner

from reconcile.cli import main

ROOT = Path(__file__).resolve().parents[1]
D = dt.date
P1, P2 = wb.YTUNNUS[0], wb.YTUNNUS[1]
A, B, C, DD, E, F, G, H = ("150395-123K", "100685-235T", "200775-3473", "050166-459V", "010205A562N",
                           "310191-671X", "121297-784R", "030380-893T")
K = ("010471-102F", "020472-104E", "030473-106D", "040474-108C", "050475-110B", "060476-112A")
VALUE = {P1: 40, P2: 50}


def decision(d: str, hetu: str, provider: str, start: D, end: D, terminated: D | None = None,
             next_step: str | None = None) -> dict:
    return {"decision_id": d, "hetu": hetu, "name": "Asiakas", "provider_id": provider, "voucher_no": "S",
            "start": start, "end": end, "terminated": terminated, "days_per_week": 3, "hours_per_day_h100": 6,
            "day_value_cents": f"{VALUE[provider]},00", "meal": "ei", "travel_per_day_cents": "0,00",
            "benefit": "työttömyysetuus", "guidance_min_h100": None, "caseworker": None, "next_step": next_step}


def registers(inbox: Path) -> None:
    reg = inbox / "register"
    reg.mkdir(parents=True)
    wb.write_providers(reg / "providers.xlsx", [
        {"provider_id": p, "name": n, "approved_from": D(2025, 1, 1), "approved_to": None, "own_unit": "ei",
         "email": "x@example.fi", "lang": "fi"} for p, n in ((P1, "Yksi Oy"), (P2, "Kaksi Oy"))])
    rows = [
        decision("D1", A, P1, D(2025, 9, 1), D(2026, 12, 31)),
        decision("D2", B, P1, D(2025, 9, 1), D(2026, 12, 31)),
        decision("D3", C, P1, D(2025, 10, 1), D(2026, 1, 15), next_step="uusi jakso"),
        decision("D3b", C, P2, D(2026, 7, 15), D(2027, 1, 14)),
        decision("D4", DD, P1, D(2025, 10, 1), D(2026, 1, 15), next_step="työ"),
        decision("D4b", DD, P2, D(2026, 7, 16), D(2027, 1, 31)),
        decision("D5", E, P2, D(2025, 11, 1), D(2026, 6, 30), terminated=D(2026, 1, 20), next_step="TE-palvelu"),
        decision("D6", F, P2, D(2026, 1, 10), D(2026, 12, 31)),
        decision("D7", A, P2, D(2026, 2, 1), D(2026, 7, 31)),
    ]
    for i, hetu in enumerate(K, 1):
        rows.append(decision(f"K{i}", hetu, P2, D(2025, 8, 1), D(2026, 1, 31), next_step="uusi jakso" if i < 6 else "muu"))
        rows.append(decision(f"K{i}b", hetu, P2, D(2026, 7, 31) if i < 6 else D(2026, 8, 1), D(2027, 1, 31)))
    wb.write_decisions(reg / "decisions.xlsx", rows)


def invoice(path: Path, provider: str, number: str, month: str, lines: list[tuple], omit: tuple = ()) -> None:
    """lines: (decision, hetu, days of the month marked X, individual guidance h, Kykyviisari date or None)."""
    value = VALUE[provider]
    header = {"provider_name": "Oy", "provider_id": provider, "invoice_no": number, "billing_month": month,
              "invoice_date": D(2026, 5, 1), "total_cents": sum(value * len(days) for _, _, days, _, _ in lines)}
    clients = [{"decision_id": d, "hetu": h, "days_claimed": len(days), "day_value_cents": value,
                "fee_cents": value * len(days), "guidance_individual_h100": hours, "kykyviisari_date": kyky}
               for d, h, days, hours, kyky in lines]
    attendance = [{"decision_id": d, "hetu": h, **{n: ("X" if n in days else None) for n in range(1, 32)}}
                  for d, h, days, _, _ in lines]
    wb.write_invoice(path, header, clients, attendance, omit=omit)


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """The inbox; each test runs the batches into its own outbox and ledger."""
    inbox = tmp_path_factory.mktemp("trends") / "inbox"
    registers(inbox)
    jan, feb, apr = (inbox / m for m in ("2026-01", "2026-02", "2026-04"))
    for folder in (jan, feb, apr):
        folder.mkdir()
    # January: Wed 7 - Fri 9, Mon 12 - Wed 14, Fri 16, Mon 19 - Wed 21.
    invoice(jan / "p1.xlsx", P1, "P1-01", "2026-01", [
        ("D1", A, [7, 8, 9, 12, 13], 2, D(2025, 9, 15)),  # 5 paid; guidance 2.00 >= 2.00 met
        ("D2", B, [7, 8], 1.5, None),                      # 2 paid; 1.50 < 2.00 below
        ("D3", C, [12, 13, 16], 1, None),                  # 2 paid, the 16th after the end (R204); 1.00 >= 0.97 met
        ("D4", DD, [7, 8], 0.5, None),                     # 2 paid; 0.50 < 0.97 below
    ])
    invoice(jan / "p2.xlsx", P2, "P2-01", "2026-01", [
        ("D5", E, [7, 8, 21], 1, None),                    # 2 paid, the 21st after termination; 1.00 < 1.29 below
        ("D6", F, [12, 13, 14, 19, 20], 2, None),          # 5 paid; 2.00 >= 1.42 met
        ("D-X", G, [7, 8, 9, 12, 13], 2, None),            # not in the register (R201): 5 rejected, guidance unknown
    ])
    # February: Mon 2 - Thu 5, Mon 9, Tue 10. A is billed on the 3rd by both providers: held on both (R216).
    invoice(feb / "p1.xlsx", P1, "P1-02", "2026-02", [
        ("D1", A, [2, 3, 4], 2, None),                     # 2 paid, 1 held; met
        ("D2", B, [2, 3, 4, 9, 10], 2, None),              # 5 paid; met
    ])
    invoice(feb / "p2.xlsx", P2, "P2-02", "2026-02", [
        ("D7", A, [3, 5], 0, None),                        # 1 paid, 1 held; 0.00 < 2.00 below
        ("D6", F, [2, 3, 4], 2, None),                     # 3 paid; met
    ])
    invoice(feb / "broken.xlsx", P2, "P2-03", "2026-02", [("D6", H, [9], 2, None)], omit=("attendance",))  # F003
    # April: Tue 7 - Thu 9.
    invoice(apr / "p1.xlsx", P1, "P1-04", "2026-04", [("D1", A, [7, 8, 9], 2, None)])
    return inbox


def invoke(*args: str):
    return CliRunner().invoke(main, [*args, "--config", str(ROOT / "config")])


def run_all(inbox: Path, outbox: Path, ledger: str) -> None:
    for batch in ("2026-01", "2026-02", "2026-04"):
        r = invoke("run", "--inbox", str(inbox), "--outbox", str(outbox), "--batch", batch, "--ledger", ledger,
                   "--quiet")
        assert r.exit_code == 0, r.output


def report(inbox: Path, outbox: Path, ledger: str, first: str, last: str, *more: str):
    r = invoke("report", "--inbox", str(inbox), "--outbox", str(outbox), "--from", first, "--to", last,
               "--ledger", ledger, *more)
    assert r.exit_code == 0, r.output
    return r


def read_csv(path: Path) -> tuple[list[str], dict[tuple[str, str, str], str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], {(m, p, k): v for m, p, k, v in rows[1:]}


def figures(values: dict, month: str, provider: str) -> dict[str, str]:
    return {k: v for (m, p, k), v in values.items() if (m, p) == (month, provider)}


MEASURES = ["clients_billed", "periods_started", "periods_ended", "days_paid", "days_held", "days_rejected",
            "euros_approved", "euros_per_paid_day", "guidance_met_share", "assessment_share",
            "next_step:työ", "next_step:koulutus", "next_step:työkokeilu", "next_step:TE-palvelu",
            "next_step:uusi jakso", "next_step:muu", "repeat_within_6_months", "sex:female", "sex:male",
            "age:<25", "age:25-34", "age:35-44", "age:45-54", "age:55+"]

JANUARY_P1 = {
    "clients_billed": "<5",         # A B C D
    "periods_started": "<5",        # none
    "periods_ended": "<5",          # D3, D4 (15.1.)
    "days_paid": "11",              # 5 + 2 + 2 + 2
    "days_held": "<5",              # none
    "days_rejected": "<5",          # D3 on the 16th
    "euros_approved": "440.00",     # 11 x 40.00
    "euros_per_paid_day": "40.00",
    "guidance_met_share": "0.500",  # A and C of A B C D
    "assessment_share": "0.250",    # D1 of D1-D4
    "next_step:työ": "<5", "next_step:koulutus": "<5", "next_step:työkokeilu": "<5", "next_step:TE-palvelu": "<5",
    "next_step:uusi jakso": "<5", "next_step:muu": "<5",
    "repeat_within_6_months": "<5",  # C (exactly 6 months); D one day over
    "sex:female": "<5", "sex:male": "<5",  # 0 and 4
    "age:<25": "<5", "age:25-34": "<5", "age:35-44": "<5", "age:45-54": "<5", "age:55+": "<5",
}
JANUARY_P2 = {
    "clients_billed": "<5",         # E F G
    "periods_started": "<5",        # D6
    "periods_ended": "7",           # D5 (terminated 20.1.), K1-K6 (31.1.)
    "days_paid": "7",               # E 2, F 5
    "days_held": "<5",
    "days_rejected": "6",           # E's 21st, G's 5 days
    "euros_approved": "350.00",     # 7 x 50.00
    "euros_per_paid_day": "50.00",
    "guidance_met_share": "0.333",  # F of E F G
    "assessment_share": "0.000",    # none of D5, D6, D-X
    "next_step:uusi jakso": "5",    # K1-K5
    "repeat_within_6_months": "5",  # K1-K5 (31.1. -> 31.7.); K6 one day over, E none
}
JANUARY_CITY = {
    "clients_billed": "7",          # A B C D E F G
    "periods_started": "<5",        # D6
    "periods_ended": "9",           # D3 D4 D5 K1-K6
    "days_paid": "18",              # 11 + 7
    "days_held": "<5",
    "days_rejected": "7",           # 1 + 6
    "euros_approved": "790.00",     # 440.00 + 350.00
    "euros_per_paid_day": "43.89",  # 790 / 18 = 43.888...
    "guidance_met_share": "0.429",  # A C F of 7 = 0.42857
    "assessment_share": "0.143",    # D1 of D1-D6, D-X = 1/7
    "next_step:työ": "<5", "next_step:koulutus": "<5", "next_step:työkokeilu": "<5", "next_step:TE-palvelu": "<5",
    "next_step:uusi jakso": "6",    # D3, K1-K5
    "next_step:muu": "<5",          # K6
    "repeat_within_6_months": "6",  # C, K1-K5
    "sex:female": "<5",             # E G
    "sex:male": "5",                # A B C D F
    "age:<25": "<5",                # E 20
    "age:25-34": "<5",              # A 30, G 28
    "age:35-44": "<5",              # B 40, F 35 on his birthday
    "age:45-54": "<5",              # C 50
    "age:55+": "<5",                # D 60
}
FEBRUARY_CITY = {
    "clients_billed": "<5",         # A B F; H only on a file rejected as a whole (F003)
    "periods_started": "<5",        # D7
    "periods_ended": "<5",
    "days_paid": "11",              # P1 2 + 5, P2 1 + 3
    "days_held": "<5",              # A's 3rd on both invoices: 2
    "days_rejected": "<5",          # none (the rejected file counts none)
    "euros_approved": "480.00",     # 7 x 40.00 + 4 x 50.00
    "euros_per_paid_day": "43.64",  # 480 / 11 = 43.636...
    "guidance_met_share": "0.667",  # B F; A met at P1 but is below at P2
    "assessment_share": "0.250",    # D1 (January's date is on record) of D1 D2 D6 D7
    "repeat_within_6_months": "",   # Feb + 6 months = 31.8. > 31.7.: not known yet
    "sex:male": "<5", "sex:female": "<5",
}
FEBRUARY_P2 = {"clients_billed": "<5", "days_paid": "<5", "days_held": "<5", "euros_approved": "200.00",
               "euros_per_paid_day": "50.00", "guidance_met_share": "0.500", "assessment_share": "0.000"}


@pytest.fixture(scope="module")
def sqlite_run(city, tmp_path_factory):
    out = tmp_path_factory.mktemp("sqlite") / "outbox"
    ledger = str(out.parent / "ledger.sqlite")
    run_all(city, out, ledger)
    return out, ledger


def test_every_measure_for_a_provider_and_the_city(city, sqlite_run):
    out, ledger = sqlite_run
    r = report(city, out, ledger, "2025-12", "2026-07", "--lang", "en")
    head, values = read_csv(out / "reports" / "2025-12_2026-07" / "trends.csv")
    assert head == ["month", "provider_id", "measure", "value"]
    assert sorted({m for m, _, _ in values}) == ["2026-01", "2026-02", "2026-04"]  # no batch: no rows (Dec, Mar, May-Jul)
    for month in ("2026-01", "2026-02", "2026-04"):
        assert list(figures(values, month, "")) == MEASURES  # exactly the contract's names, in its order
    assert figures(values, "2026-01", P1) == JANUARY_P1
    assert figures(values, "2026-01", "") == JANUARY_CITY
    jan_p2 = figures(values, "2026-01", P2)
    assert {k: jan_p2[k] for k in JANUARY_P2} == JANUARY_P2
    feb = figures(values, "2026-02", "")
    assert {k: feb[k] for k in FEBRUARY_CITY} == FEBRUARY_CITY
    feb_p2 = figures(values, "2026-02", P2)
    assert {k: feb_p2[k] for k in FEBRUARY_P2} == FEBRUARY_P2
    feb_p1 = figures(values, "2026-02", P1)
    assert (feb_p1["days_paid"], feb_p1["euros_approved"], feb_p1["guidance_met_share"]) == ("7", "280.00", "1.000")
    # April: only P1 billed and no period began or ended, so P2 has no rows.
    assert {p for m, p, _ in values if m == "2026-04"} == {"", P1}
    apr = figures(values, "2026-04", P1)
    assert (apr["days_paid"], apr["euros_approved"], apr["euros_per_paid_day"], apr["assessment_share"]) == (
        "<5", "120.00", "40.00", "1.000")
    assert "2026-02, 2026-04" in r.stdout and "not known yet" in r.stdout


def test_repeats_are_empty_until_six_months_have_passed(city, sqlite_run):
    out, ledger = sqlite_run
    report(city, out, ledger, "2026-01", "2026-06")
    _, values = read_csv(out / "reports" / "2026-01_2026-06" / "trends.csv")
    # 31.1. + 6 months = 31.7., after 30.6.: not known for January yet.
    assert values[("2026-01", "", "repeat_within_6_months")] == ""
    assert values[("2026-01", P2, "repeat_within_6_months")] == ""
    assert values[("2026-01", "", "periods_ended")] == "9"


def test_masking_in_both_files(city, sqlite_run):
    out, ledger = sqlite_run
    report(city, out, ledger, "2026-01", "2026-07", "--lang", "fi")
    folder = out / "reports" / "2026-01_2026-07"
    _, values = read_csv(folder / "trends.csv")
    counts = {k: v for k, v in values.items() if k[2] not in (
        "euros_approved", "euros_per_paid_day", "guidance_met_share", "assessment_share")}
    assert all(v in ("", "<5") or int(v) >= 5 for v in counts.values())
    assert values[("2026-01", "", "sex:male")] == "5" and values[("2026-01", "", "sex:female")] == "<5"
    book = openpyxl.load_workbook(folder / "trends.xlsx")
    city_sheet = book["Kaupunki"]
    header = [c.value for c in city_sheet[1]]
    assert header == ["Mittari", "2026-01", "2026-02", "2026-04"]
    by_label = {row[0]: row[1:] for row in city_sheet.iter_rows(min_row=2, values_only=True)}
    assert by_label["Miehet"] == (5, "<5", "<5")
    assert by_label["Naiset"] == ("<5", "<5", "<5")
    assert by_label["Laskutetut asiakkaat"] == (7, "<5", "<5")
    assert by_label["Hyväksytty €"] == (790, 480, 120)
    for ws in book.worksheets[1:-1]:  # the subject sheets: every count cell below 5 is "<5"
        heads = [c.value for c in ws[1]]
        assert heads[:3] == ["Y-tunnus", "Palveluntuottaja", "Mittari"]
        for row in ws.iter_rows(min_row=2, values_only=True):
            label = row[2]
            if "€" in label or "osuus" in label:
                continue
            assert all(v is None or v == "<5" or v >= 5 for v in row[3:]), (ws.title, row)
    assert book.sheetnames == ["Kaupunki", "Asiakkaat ja päivät", "Eurot", "Ohjaus ja arviointi", "Jatkopolut",
                               "Asiakasrakenne", "Selitteet"]
    assert book["Kaupunki"].freeze_panes == "B2" and book["Eurot"].freeze_panes == "D2"
    assert len(book["Kaupunki"]._charts) == 3


def test_a_ledger_from_before_reports_what_it_can(city, tmp_path):
    out = tmp_path / "outbox"
    ledger = str(tmp_path / "ledger.sqlite")
    run_all(city, out, ledger)
    with sqlite3.connect(ledger) as conn:  # as if February had been recorded before the ledger kept trend rows
        conn.execute("DELETE FROM trend_rows WHERE batch = '2026-02'")
        conn.execute("DELETE FROM trend_batches WHERE batch = '2026-02'")
    r = report(city, out, ledger, "2026-01", "2026-07")
    assert "2026-02 were recorded before the ledger kept" in r.stdout
    _, values = read_csv(out / "reports" / "2026-01_2026-07" / "trends.csv")
    feb = figures(values, "2026-02", "")
    assert (feb["days_paid"], feb["days_held"], feb["euros_approved"], feb["periods_started"]) == (
        "11", "<5", "480.00", "<5")
    assert (feb["clients_billed"], feb["days_rejected"], feb["guidance_met_share"], feb["sex:male"]) == ("", "", "", "")
    assert figures(values, "2026-01", "") == JANUARY_CITY


def test_held_days_resolved_by_finance_count_as_paid_or_rejected(city, tmp_path):
    """The resolutions finance records (CONTRACT.md section 7) move held days; here the table is
    written as `reconcile resolve` keeps it: one row per answered day."""
    out = tmp_path / "outbox"
    ledger = str(tmp_path / "ledger.sqlite")
    run_all(city, out, ledger)
    with sqlite3.connect(ledger) as conn:
        conn.executemany(
            "INSERT INTO resolutions (batch, provider_id, invoice_no, decision_id, hetu, date, rule, resolution, "
            "amount_cents, resolved_by, resolved_at, reason) VALUES (?, ?, ?, ?, '', ?, 'R216', ?, 0, 'maija', ?, ?)", [
                ("2026-02", P1, "P1-02", "D1", "2026-02-03", "pay", "2026-03-01T00:00:01Z", ""),  # A's 3rd paid at P1
                ("2026-02", P2, "P2-02", "D7", "2026-02-03", "reject", "2026-03-01T00:00:02Z", "x"),  # rejected at P2
                ("2026-02", P2, "P2-02", "D7", "2026-02-04", "void", "2026-03-01T00:00:03Z", "x"),  # void moves nothing
            ])
    report(city, out, ledger, "2026-02", "2026-02")
    _, values = read_csv(out / "reports" / "2026-02_2026-02" / "trends.csv")
    assert [values[("2026-02", "", m)] for m in ("days_paid", "days_held", "days_rejected")] == ["12", "<5", "<5"]
    assert [values[("2026-02", P1, m)] for m in ("days_paid", "days_held")] == ["8", "<5"]  # 7 + 1


def test_repeat_window_ends_on_the_last_day_of_a_shorter_month():
    """Ended 31 August: a new period up to 28 February counts, 1 March does not; known from --to 2027-02."""
    import polars as pl

    from reconcile.model import TrendRecord
    from reconcile.report import trends

    rows = []
    for i, hetu in enumerate(K):
        rows.append((f"E{i}", hetu, P1, D(2026, 3, 1), D(2026, 8, 31), None, "muu"))
        rows.append((f"N{i}", hetu, P1, D(2027, 2, 28) if i < 5 else D(2027, 3, 1), D(2027, 8, 31), None, None))
    decisions = pl.DataFrame(rows, orient="row", schema={
        "decision_id": pl.Utf8, "hetu": pl.Utf8, "provider_id": pl.Utf8, "start": pl.Date, "end": pl.Date,
        "terminated": pl.Date, "next_step": pl.Utf8})
    record = TrendRecord.from_rows([("2026-08", True)], [], [], [], [])
    known = trends.compute(record, decisions, "2026-08", "2027-02").frame
    value = dict(zip(known["measure"], known.filter(pl.col("provider_id") == "")["value"]))
    assert (value["periods_ended"], value["repeat_within_6_months"], value["next_step:muu"]) == ("6", "5", "6")
    early = trends.compute(record, decisions, "2026-08", "2027-01").frame
    assert early.filter((pl.col("provider_id") == "") & (pl.col("measure") == "repeat_within_6_months"))["value"].to_list() == [""]


@pytest.mark.postgres
def test_the_same_report_from_a_postgresql_ledger(city, sqlite_run, pg_url, tmp_path):
    out, ledger = sqlite_run
    report(city, out, ledger, "2026-01", "2026-12", "--lang", "sv")
    pg_out = tmp_path / "outbox"
    run_all(city, pg_out, pg_url)
    report(city, pg_out, pg_url, "2026-01", "2026-12", "--lang", "sv")
    for name in ("trends.csv", "trends.xlsx"):
        assert (pg_out / "reports" / "2026-01_2026-12" / name).read_bytes() == (
            out / "reports" / "2026-01_2026-12" / name).read_bytes(), name
    _, values = read_csv(pg_out / "reports" / "2026-01_2026-12" / "trends.csv")
    assert figures(values, "2026-01", "") == JANUARY_CITY


def test_a_ledger_of_the_version_before_the_trend_tables_is_read_as_it_is(city, tmp_path):
    out = tmp_path / "outbox"
    ledger = str(tmp_path / "ledger.sqlite")
    run_all(city, out, ledger)
    with sqlite3.connect(ledger) as conn:  # what a ledger of schema version 2 holds
        conn.execute("DROP TABLE trend_rows")
        conn.execute("DROP TABLE trend_batches")
        conn.execute("UPDATE schema_version SET version = 2")
    r = report(city, out, ledger, "2026-01", "2026-07", "--lang", "en")
    assert "Batches 2026-01, 2026-02, 2026-04 were recorded before the ledger kept" in r.stdout
    _, values = read_csv(out / "reports" / "2026-01_2026-07" / "trends.csv")
    jan = figures(values, "2026-01", "")
    known = {k: v for k, v in JANUARY_CITY.items() if k not in (
        "clients_billed", "days_rejected", "guidance_met_share", "assessment_share") and not k.startswith(("sex:", "age:"))}
    assert {k: jan[k] for k in known} == known
    assert (jan["clients_billed"], jan["days_rejected"], jan["assessment_share"], jan["age:55+"]) == ("", "", "", "")
    with sqlite3.connect(ledger) as conn:  # read, never migrated by the report
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (2,)


def test_an_invoice_held_for_an_internal_error_records_its_days_as_held(tmp_path):
    from reconcile import config
    from reconcile.check import batch
    from reconcile.read import intake, invoice as invoice_mod
    from reconcile.report import rows

    cfg = config.load(ROOT / "config")
    path = tmp_path / "x900.xlsx"
    invoice(path, P1, "X-1", "2026-01", [("D1", A, [7, 8, 9], 2, None), ("D2", "garbled", [12], 2, None)])
    inv = invoice_mod.read_invoice(intake.submission(path), cfg)
    held = batch.held_for_error(inv, RuntimeError("a bug"), cfg, "2026-01", "fi")
    recorded = rows.invoice_rows(held, {"D1": A, "D2": B})
    assert recorded.select("row", "decision_id", "hetu", "days_paid", "days_held", "days_rejected", "guidance").rows() == [
        (2, "D1", A, 0, 3, 0, None),
        (3, "D2", B, 0, 1, 0, None),  # the row's henkilötunnus is garbled: the decision's person
    ]
