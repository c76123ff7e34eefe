"""Outside acceptance test of the money and the rules (CONTRACT.md, RULES.md).

Written without the project's own workbook helpers: the registers and the
invoices are built here by openpyxl, xlsxwriter and (when installed)
LibreOffice, in Finnish, Swedish and English, then the installed `reconcile`
command is run over consecutive batches that share one ledger, and
findings.csv / approval.csv are compared with figures derived by hand from
the contract.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
RECONCILE = [sys.executable, "-m", "reconcile"]

HETU_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(birth: str, serial: int) -> str:
    """A valid henkilötunnus for a birth date `ddmmyy` of the 1900s."""
    return f"{birth}-{serial:03d}{HETU_CHARS[int(f'{birth}{serial:03d}') % 31]}"


def ytunnus(base: str) -> str:
    """A valid Y-tunnus for seven digits whose check digit exists."""
    r = sum(int(d) * w for d, w in zip(base, (7, 9, 10, 5, 8, 4, 2))) % 11
    assert r != 1, base
    return f"{base}-{0 if r == 0 else 11 - r}"


PA, PB, PC, PD = ytunnus("1234567"), ytunnus("2345678"), ytunnus("3456780"), ytunnus("4567890")
C1, C2, C3, C4, C5, C9, C11 = (hetu("010180", 2), hetu("020275", 4), hetu("030390", 6),
                               hetu("040465", 8), hetu("050585", 12), hetu("060670", 14),
                               hetu("070760", 16))

DEC_HEAD = ["Päätösnumero", "Henkilötunnus", "Nimi", "Y-tunnus", "Palvelusetelin numero",
            "Alkupäivä", "Loppupäivä", "Päättynyt", "Päivää viikossa", "Tuntia päivässä",
            "Setelin arvo €/pv", "Ateria", "Matkakorvaus €/pv", "Etuus"]
D = dt.date
DECISIONS = [
    # id, hetu, provider, start, end, terminated, days/week, h/day, value, meal, travel, benefit
    ("D1", C1, PA, D(2026, 9, 1), D(2027, 6, 30), None, 3, 6, 50, "tuottaja", 4, "työttömyysetuus"),
    ("D2", C2, PA, D(2026, 10, 20), D(2027, 6, 30), D(2026, 11, 12), 2, 6, 40, "korvaus", 0, "toimeentulotuki"),
    ("D3", C3, PA, D(2026, 6, 1), D(2027, 5, 31), None, 4, 6, 50, "ei", 0, "työttömyysetuus"),
    ("D4", C4, PA, D(2026, 9, 1), D(2027, 6, 30), None, 2, 6, 50, "ei", 0, "kuntoutustuki"),
    ("D5", C5, PB, D(2026, 9, 1), D(2027, 6, 30), None, 4, 6, 45.5, "korvaus", 3.2, "työttömyysetuus"),
    ("D6", C1, PB, D(2026, 9, 1), D(2027, 6, 30), None, 2, 6, 30, "ei", 0, "työttömyysetuus"),
    ("D7", C5, PB, D(2026, 9, 1), D(2027, 6, 30), None, 1, 6, 20, "ei", 0, "työttömyysetuus"),
    ("D9", C9, PC, D(2026, 9, 1), D(2027, 6, 30), None, 2, 6, 0, "ei", 0, "työttömyysetuus"),
    ("D10", C9, PD, D(2026, 9, 1), D(2027, 6, 30), None, 2, 6, 30, "ei", 0, "työttömyysetuus"),
    ("D11", C11, PC, D(2025, 1, 1), D(2027, 6, 30), None, 2, 6, 0, "ei", 0, "työttömyysetuus"),
]


def write_registers(inbox: Path) -> None:
    """decisions.xlsx by openpyxl; the providers register as a `;` CSV."""
    reg = inbox / "register"
    reg.mkdir(parents=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Päätökset"
    ws.append(DEC_HEAD)
    for d in DECISIONS:
        ws.append([d[0], d[1], "Asiakas " + d[0], d[2], "PS-" + d[0], d[3], d[4], d[5],
                   d[6], d[7], d[8], d[9], d[10], d[11]])
    wb.save(reg / "decisions.xlsx")
    rows = [("Y-tunnus", "Nimi", "Hyväksytty alkaen", "Hyväksytty asti", "Oma yksikkö", "Sähköposti", "Kieli"),
            (PA, "Aalto Oy", "1.1.2025", "", "ei", "a@example.fi", "fi"),
            (PB, "Björk Ab", "2025-01-01", "", "ei", "b@example.fi", "sv"),
            (PC, "Turun kaupunki, työpaja", "1.1.2025", "", "kyllä", "c@example.fi", "en"),
            (PD, "Dakota Oy", "1.1.2025", "31.10.2026", "ei", "d@example.fi", "fi")]
    with open(reg / "providers.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=";").writerows(rows)


NAMES = {
    "fi": dict(lasku="Lasku", asiakkaat="Asiakkaat", lasnaolo="Läsnäolo", ohjaus="Ohjaus",
               labels=["Palveluntuottaja", "Y-tunnus", "Laskun numero", "Laskutuskausi", "Laskun päivämäärä", "Yhteensä €"],
               cols=["Päätösnumero", "Henkilötunnus", "Nimi", "Läsnäolopäivät", "Setelin arvo €/pv", "Palvelumaksu €",
                     "Ateriat", "Ateriakorvauspäivät", "Matkakorvaus €", "Yksilöohjaus h", "Ryhmäohjaus h",
                     "Kykyviisari pvm", "VAT pvm", "Yhteensä €"], total="Yhteensä"),
    "sv": dict(lasku="Faktura", asiakkaat="Klienter", lasnaolo="Närvaro", ohjaus="Handledning",
               labels=["Serviceproducent", "FO-nummer", "Fakturanummer", "Faktureringsperiod", "Fakturadatum", "Totalt €"],
               cols=["Beslutsnummer", "Personbeteckning", "Namn", "Närvarodagar", "Sedelns värde €/dag", "Serviceavgift €",
                     "Måltider", "Måltidsersättningsdagar", "Reseersättning €", "Individuell handledning h",
                     "Grupphandledning h", "Kykyviisari datum", "VAT datum", "Totalt €"], total="Totalt"),
    "en": dict(lasku="Invoice", asiakkaat="Clients", lasnaolo="Attendance", ohjaus="Guidance",
               labels=["Provider", "Business id", "Invoice number", "Billing month", "Invoice date", "Total"],
               cols=["Decision id", "Personal id", "Name", "Attendance days", "Day value", "Service fee",
                     "Meals", "Meal compensation days", "Travel", "Individual guidance h", "Group guidance h",
                     "Kykyviisari date", "VAT date", "Total"], total="Total"),
}


def eur_text(cents: int) -> str:
    """` 1 234,50 € ` as a Finn types it."""
    return f" {cents // 100},{cents % 100:02d} € "


def row(dec: str, days: dict, n: int, value: float, fee: float, meals: int = 0, mcomp: int = 0,
        travel: float = 0, ind_h: float = 2, kyky=None) -> dict:
    client = next(d[1] for d in DECISIONS if d[0] == dec)
    return dict(dec=dec, hetu=client, days=days, n=n, value=value, fee=fee, meals=meals,
                mcomp=mcomp, travel=travel, ind_h=ind_h, kyky=kyky)


def invoice_cells(lang: str, provider: str, number: str, month: str, total, rows: list[dict],
                  textual: bool = False, title: bool = False, totals_row: bool = False,
                  guidance: list | None = None) -> dict[str, list[list]]:
    """The sheets of an invoice workbook as lists of rows of plain values."""
    n = NAMES[lang]
    money = (lambda euros: eur_text(round(euros * 100))) if textual else (lambda euros: euros)
    lasku = [[label, value] for label, value in zip(
        n["labels"], ["Tuottaja", provider, number, month, "1.12.2026" if textual else D(2026, 12, 1),
                      money(total) if total is not None else None])]
    head = [[f"{n['lasku']} {number}"], []] if title else []
    clients = head + [n["cols"]]
    for r in rows:
        items = r["fee"] + r["meals"] * 6.8 + r["mcomp"] * 5 + r["travel"]
        clients.append([r["dec"], r["hetu"], "Asiakas", r["n"], money(r["value"]), money(r["fee"]),
                        r["meals"], r["mcomp"], money(r["travel"]),
                        (f"{r['ind_h']}".replace(".", ",") if textual else r["ind_h"]), 0,
                        r["kyky"], None, money(round(items, 2))])
    if totals_row:
        clients.append([n["total"], None, None, sum(r["n"] for r in rows)])
    attendance = head + [[n["cols"][0], n["cols"][1]] + [str(d) if textual else d for d in range(1, 32)]]
    for r in rows:
        attendance.append([r["dec"], r["hetu"]] + [r["days"].get(d) for d in range(1, 32)])
    sheets = {n["lasku"]: lasku, n["asiakkaat"]: clients, n["lasnaolo"]: attendance}
    if guidance is not None:
        sheets[n["ohjaus"]] = [["Päätösnumero", "Päivämäärä", "Kesto h", "Tyyppi", "Ohjaaja"]] + guidance
    return sheets


def save_openpyxl(path: Path, sheets: dict) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)


def save_xlsxwriter(path: Path, sheets: dict) -> None:
    wb = xlsxwriter.Workbook(str(path))
    dates = wb.add_format({"num_format": "d.m.yyyy"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if isinstance(v, dt.date):
                    ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), dates)
                elif v is not None:
                    ws.write(i, j, v)
    wb.close()


def save_soffice(path: Path, sheets: dict) -> None:
    """Written by openpyxl, then re-saved by LibreOffice as a fresh .xlsx."""
    src = path.parent / "lo-src" / path.name
    src.parent.mkdir(exist_ok=True)
    save_openpyxl(src, sheets)
    out = path.parent / "lo-out"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{path.parent / 'lo-profile'}",
                    "--convert-to", "xlsx", "--outdir", str(out), str(src)],
                   check=True, capture_output=True, timeout=120)
    shutil.move(out / path.name, path)
    shutil.rmtree(src.parent)
    shutil.rmtree(out)
    shutil.rmtree(path.parent / "lo-profile", ignore_errors=True)


def reconcile(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(RECONCILE + list(args), cwd=cwd, capture_output=True, text=True, timeout=300)


def run_batch(base: Path, batch: str) -> subprocess.CompletedProcess:
    return reconcile("run", "--inbox", "inbox", "--outbox", "outbox", "--config", "config",
                     "--batch", batch, "--quiet", cwd=base)


def approvals(base: Path, batch: str) -> dict[str, dict]:
    with open(base / "outbox" / batch / "finance" / "approval.csv", encoding="utf-8") as f:
        return {r["source_file"]: r for r in csv.DictReader(f)}


def findings(base: Path, batch: str) -> list[dict]:
    with open(base / "outbox" / batch / "audit" / "findings.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def money_of(r: dict) -> tuple[str, str, str, str, str]:
    return r["claimed_eur"], r["approved_eur"], r["held_eur"], r["rejected_eur"], r["status"]


def keyed(fs: list[dict], source: str) -> set[tuple[str, str, str, str, str]]:
    """(rule, cell, decision, date, effect) of one source file's findings."""
    return {(f["rule"], f["cell"], f["decision_id"], f["date"], f["effect"]) for f in fs if f["source_file"] == source}


X = "X"


def inbox_file(base: Path, batch: str, name: str, sheets: dict, tool=save_openpyxl) -> None:
    folder = base / "inbox" / batch
    folder.mkdir(parents=True, exist_ok=True)
    tool(folder / name, sheets)


@pytest.fixture(scope="module")
def three_batches(tmp_path_factory) -> dict:
    """Batches 2026-10, 2026-11 (then A-1 approved) and 2026-12 over one ledger."""
    base = tmp_path_factory.mktemp("acceptance")
    write_registers(base / "inbox")
    shutil.copytree(ROOT / "config", base / "config")
    lo = save_soffice if shutil.which("soffice") else save_xlsxwriter

    inbox_file(base, "2026-10", "aalto-lokakuu.xlsx", invoice_cells("fi", PA, "A-OCT", "2026-10", 162, [
        row("D1", {26: X, 27: X, 28: X}, 3, 50, 150, travel=12)]))

    inbox_file(base, "2026-11", "A-1.xlsx", invoice_cells("fi", PA, "A-1", "11/2026", 900, [
        row("D1", {1: X, 2: X, 3: X, 4: X, 5: X, 9: "3", 10: "4,5", 11: X, 31: X}, 9, 50, 450,
            meals=9, travel=36, ind_h=1.5),
        row("D2", {2: X, 3: X, 9: X, 16: X}, 5, 40, 200, meals=2, mcomp=5, travel=10, ind_h=1.0),
        row("D3", {7: "9", 8: X}, 2, 55, 110),
        row("D4", {2: X}, 1, 50, 50),
    ], guidance=[["D1", D(2026, 11, 2), 1.5, "yksilö", "O"], ["D3", D(2026, 11, 7), 1.0, "yksilö", "O"]]))
    inbox_file(base, "2026-11", "björk nov.xlsx", invoice_cells("sv", PB, "B-1", "2026-11", 221.10, [
        row("D5", {2: X, 3: "6,5", 4: X}, 3, 45.5, 136.5, mcomp=3, travel=9.6),
        row("D6", {10: X, 12: X}, 2, 30, 60),
    ], textual=True, title=True, totals_row=True), save_xlsxwriter)
    inbox_file(base, "2026-11", "B-2.xlsx", invoice_cells("sv", PB, "B-2", "11.2026", 20, [
        row("D7", {4: X}, 1, 20, 20)]), lo)
    inbox_file(base, "2026-11", "C-1.xlsx", invoice_cells("en", PC, "C-1", "2026-11", 0, [
        row("D9", {2: X, 3: X}, 2, 0, 0)]))
    inbox_file(base, "2026-11", "D-1.xlsx", invoice_cells("fi", PD, "D-1", "2026-11", 30, [
        row("D10", {2: X}, 1, 30, 30)]))
    for name in ("DUP1.xlsx", "DUP2.xlsx"):
        inbox_file(base, "2026-11", name, invoice_cells("fi", PA, "A-DUP", "2026-11", 50, [
            row("D3", {20: X}, 1, 50, 50)]))
    inbox_file(base, "2026-11", "A-JUL.xlsx", invoice_cells("fi", PA, "A-JUL", "2026-07", 50, [
        row("D3", {6: X}, 1, 50, 50)]))
    inbox_file(base, "2026-11", "A-DEC.xlsx", invoice_cells("fi", PA, "A-DEC", "2026-12", 50, [
        row("D3", {1: X}, 1, 50, 50)]))

    inbox_file(base, "2026-12", "A-1-again.xlsx", invoice_cells("fi", PA, "A-1", "2026-12", 50, [
        row("D1", {1: X}, 1, 50, 50)]))
    inbox_file(base, "2026-12", "A-2.xlsx", invoice_cells("fi", PA, "A-2", "2026-11", 158, [
        row("D1", {3: X, 12: X}, 2, 50, 100, travel=8),
        row("D3", {2: X}, 1, 50, 50)]))
    inbox_file(base, "2026-12", "A-3.xlsx", invoice_cells("fi", PA, "A-3", "2026-12", 200, [
        row("D1", {6: X, 24: X, 25: X, 26: X}, 4, 50, 200)]))

    runs = {"2026-10": run_batch(base, "2026-10"), "2026-11": run_batch(base, "2026-11")}
    result = {"base": base, "runs": runs, "approvals": {}, "findings": {}}
    for batch in runs:
        result["approvals"][batch] = approvals(base, batch)
        result["findings"][batch] = findings(base, batch)
    result["check"] = reconcile("check", "--inbox", "inbox", "--outbox", "outbox", "--config", "config",
                                "inbox/2026-11/A-1.xlsx", cwd=base)
    result["approve"] = reconcile("approve", "--inbox", "inbox", "--outbox", "outbox", "--config", "config",
                                  "--batch", "2026-11", "--invoice", "A-1", cwd=base)
    runs["2026-12"] = run_batch(base, "2026-12")
    result["approvals"]["2026-12"] = approvals(base, "2026-12")
    result["findings"]["2026-12"] = findings(base, "2026-12")
    result["rebuild"] = run_batch(base, "2026-11")  # inputs as they were: the outbox is rebuilt
    shutil.copy(base / "inbox" / "2026-11" / "A-1.xlsx", base / "inbox" / "2026-11" / "A-1 again.xlsx")
    result["rerun"] = run_batch(base, "2026-11")  # an input added: refused
    return result



def test_runs_exit_zero_and_rerun_after_approval_is_refused(three_batches):
    assert {b: p.returncode for b, p in three_batches["runs"].items()} == {"2026-10": 0, "2026-11": 0, "2026-12": 0}
    assert three_batches["approve"].returncode == 0
    assert three_batches["rebuild"].returncode == 0, three_batches["rebuild"].stderr
    assert three_batches["rerun"].returncode == 3
    assert "A-1" in three_batches["rerun"].stderr and "Traceback" not in three_batches["rerun"].stderr
    assert "added: 2026-11/A-1 again.xlsx" in three_batches["rerun"].stderr
    assert three_batches["check"].returncode == 1


def test_money_per_invoice(three_batches):
    got = {b: {src: money_of(r) for src, r in rows.items()} for b, rows in three_batches["approvals"].items()}
    assert got == {
        "2026-10": {"aalto-lokakuu.xlsx": ("162.00", "162.00", "0.00", "0.00", "approved")},
        "2026-11": {
            "A-1.xlsx": ("955.80", "478.20", "110.80", "366.80", "partly_approved"),
            "björk nov.xlsx": ("221.10", "137.40", "83.70", "0.00", "partly_approved"),
            "B-2.xlsx": ("20.00", "0.00", "20.00", "0.00", "held"),
            "C-1.xlsx": ("0.00", "0.00", "0.00", "0.00", "approved"),
            "D-1.xlsx": ("30.00", "0.00", "0.00", "30.00", "rejected"),
            "DUP1.xlsx": ("50.00", "0.00", "0.00", "50.00", "duplicate"),
            "DUP2.xlsx": ("50.00", "0.00", "0.00", "50.00", "duplicate"),
            "A-JUL.xlsx": ("50.00", "50.00", "0.00", "0.00", "approved"),
            "A-DEC.xlsx": ("50.00", "0.00", "0.00", "50.00", "rejected"),
        },
        "2026-12": {
            "A-1-again.xlsx": ("50.00", "0.00", "0.00", "50.00", "duplicate"),
            "A-2.xlsx": ("158.00", "50.00", "0.00", "108.00", "partly_approved"),
            "A-3.xlsx": ("200.00", "200.00", "0.00", "0.00", "approved"),
        },
    }
    for rows in three_batches["approvals"].values():
        for r in rows.values():
            cents = [round(float(r[k]) * 100) for k in ("claimed_eur", "approved_eur", "held_eur", "rejected_eur")]
            assert cents[0] == sum(cents[1:])


def test_findings_of_the_finnish_invoice(three_batches):
    fs = three_batches["findings"]["2026-11"]
    assert keyed(fs, "A-1.xlsx") == {
        ("R205", "Läsnäolo!C2", "D1", "2026-11-01", "reject"),   # 4th day of week 26.10-1.11 (3 in batch 2026-10)
        ("R205", "Läsnäolo!G2", "D1", "2026-11-05", "reject"),
        ("R206", "Läsnäolo!K2", "D1", "2026-11-09", "reject"),
        ("R216", "Läsnäolo!L2", "D1", "2026-11-10", "hold"),
        ("R222", "Läsnäolo!AG2", "D1", "", "reject"),
        ("R212", "Asiakkaat!G2", "D1", "", "reject"),
        ("R213", "Asiakkaat!I2", "D1", "", "reject"),
        ("R214", "Asiakkaat!J2", "D1", "", "none"),
        ("R204", "Läsnäolo!R3", "D2", "2026-11-16", "reject"),
        ("R208", "Asiakkaat!D3", "D2", "", "adjust"),
        ("R211", "Asiakkaat!G3", "D2", "", "reject"),
        ("R212", "Asiakkaat!H3", "D2", "", "reject"),
        ("R213", "Asiakkaat!I3", "D2", "", "reject"),
        ("R215", "Asiakkaat!J3", "D2", "", "none"),
        ("R219", "Asiakkaat!L3", "D2", "2026-11-12", "none"),
        ("R219", "Asiakkaat!L3", "D2", "2026-11-18", "none"),
        ("R209", "Asiakkaat!E4", "D3", "", "adjust"),
        ("R215", "Asiakkaat!J4", "D3", "", "none"),
        ("R226", "Läsnäolo!I4", "D3", "2026-11-07", "none"),
        ("R207", "Läsnäolo!J4", "D3", "2026-11-08", "none"),
        ("R218", "Asiakkaat!A5", "D4", "", "hold"),
        ("R215", "Asiakkaat!J5", "D4", "", "none"),
        ("R220", "Lasku!B6", "", "", "none"),
    }
    amounts = {(f["rule"], f["cell"]): f["amount_eur"] for f in fs if f["source_file"] == "A-1.xlsx"}
    assert amounts[("R212", "Asiakkaat!G2")] == "-27.20"
    assert amounts[("R211", "Asiakkaat!G3")] == "-13.60"
    assert amounts[("R209", "Asiakkaat!E4")] == "-10.00"


def test_double_billing_between_and_within_providers_is_held(three_batches):
    fs = three_batches["findings"]["2026-11"]
    assert keyed(fs, "björk nov.xlsx") == {("R216", "Närvaro!F4", "D5", "2026-11-04", "hold"),
                                          ("R216", "Närvaro!L5", "D6", "2026-11-10", "hold")}
    assert keyed(fs, "B-2.xlsx") == {("R216", "Närvaro!F2", "D7", "2026-11-04", "hold")}
    assert keyed(fs, "C-1.xlsx") == set()


def test_file_level_and_register_findings(three_batches):
    fs = three_batches["findings"]["2026-11"]
    assert keyed(fs, "D-1.xlsx") == {("F006", "Lasku!B2", "", "", "reject")}
    assert keyed(fs, "DUP1.xlsx") == keyed(fs, "DUP2.xlsx") == {("F007", "Lasku!B3", "", "", "reject")}
    assert keyed(fs, "A-JUL.xlsx") == {("R225", "Lasku!B4", "", "", "none")}
    assert keyed(fs, "A-DEC.xlsx") == {("F008", "Lasku!B4", "", "", "reject")}
    r224 = [f for f in fs if f["rule"] == "R224"]
    assert [(f["decision_id"], f["provider_id"], f["invoice_no"]) for f in r224] == [("D11", PC, "")]


def test_later_batch_ledger_holidays_and_duplicates(three_batches):
    fs = three_batches["findings"]["2026-12"]
    assert keyed(fs, "A-1-again.xlsx") == {("F007", "Lasku!B3", "", "", "reject")}
    assert keyed(fs, "A-2.xlsx") == {("R217", "Läsnäolo!E2", "D1", "2026-11-03", "reject"),   # paid on A-1
                                     ("R217", "Läsnäolo!N2", "D1", "2026-11-12", "reject"),   # paid to provider B
                                     ("R213", "Asiakkaat!I2", "D1", "", "reject")}
    assert keyed(fs, "A-3.xlsx") == {("R207", f"Läsnäolo!{c}2", "D1", f"2026-12-{d}", "none")
                                     for c, d in (("H", "06"), ("Z", "24"), ("AA", "25"), ("AB", "26"))}
