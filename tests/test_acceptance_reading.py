"""Outside acceptance tests of reading and file-level handling.

Written from CONTRACT.md and RULES.md alone, without the project's own test
helpers: registers and invoice workbooks are written here by openpyxl,
xlsxwriter and (where installed) LibreOffice, in Swedish, English and
Finnish, with the shapes people give them (title rows, reordered and extra
columns, totals rows, text numbers with decimal commas and euro signs, text
and serial dates, formulas, error values, hidden sheets, lock files). One
batch is run through the installed command line and every expectation
below was derived by hand from the contract.
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
CLI = [sys.executable, "-m", "reconcile"]
BATCH = "2026-11"
NBSP = "\u00a0"
THIN = "\u2009"


def ytunnus(body: str) -> str:
    """A valid Y-tunnus for a seven-digit body."""
    r = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2))) % 11
    assert r != 1, body
    return f"{body}-{0 if r == 0 else 11 - r}"


def hetu(ddmmyy: str, sign: str, nnn: str) -> str:
    """A valid henkilötunnus."""
    return f"{ddmmyy}{sign}{nnn}" + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(ddmmyy + nnn) % 31]


P_FI, P_SV, P_EN = ytunnus("1111112"), ytunnus("2222223"), ytunnus("3333336")
P_UNKNOWN = ytunnus("4444447")
CLIENTS = {  # decision -> (hetu, provider)
    "D1": (hetu("010190", "-", "123"), P_SV),
    "D2": (hetu("020285", "-", "234"), P_EN),
    "D3": (hetu("030375", "A", "345"), P_EN),
    "D4": (hetu("040480", "-", "456"), P_FI),
    "D5": (hetu("050592", "-", "567"), P_FI),
    "D6": (hetu("060688", "-", "678"), P_FI),
    "D7": (hetu("070779", "-", "789"), P_FI),
}
DEC_HEAD = ["Päätösnumero", "Henkilötunnus", "Nimi", "Y-tunnus", "Palvelusetelin numero", "Alkupäivä", "Loppupäivä",
            "Päättynyt", "Päivää viikossa", "Tuntia päivässä", "Setelin arvo €/pv", "Ateria", "Matkakorvaus €/pv", "Etuus"]
PROV_HEAD = ["Y-tunnus", "Nimi", "Hyväksytty alkaen", "Hyväksytty asti", "Oma yksikkö", "Sähköposti", "Kieli"]
PROVIDERS = [(P_FI, "Palvelu Oy", "fi"), (P_SV, "Tjänst Ab", "sv"), (P_EN, "Service Ltd", "en")]
# Attended weekdays of November 2026 (1 Nov is a Sunday, no public holiday in the month): 4 + 3 days.
DAYS7 = [2, 3, 4, 5, 9, 10, 11]


def decision_rows() -> list[list[object]]:
    return [[d, h, f"Asiakas {d}", p, f"PS-{d}", "1.6.2026", "31.3.2027", "", 4, 6, "45,00", "ei", "0", "työttömyysetuus"]
            for d, (h, p) in CLIENTS.items()]


def write_registers_xlsx(reg: Path) -> None:
    """Decisions with English sheet and headers, providers in Finnish; dates as text, money as text."""
    reg.mkdir(parents=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Decisions"
    ws.append(["Decision id", "Personal id", "Name", "Business id", "Voucher no", "Start", "End", "Terminated",
               "Days per week", "Hours per day", "Day value", "Meal", "Travel per day", "Benefit"])
    for row in decision_rows():
        ws.append(row)
    wb.save(reg / "decisions.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Palveluntuottajat"
    ws.append(PROV_HEAD)
    for y, name, lang in PROVIDERS:
        ws.append([y, name, dt.date(2020, 1, 1), None, "ei", "a@b.fi", lang])
    wb.save(reg / "providers.xlsx")


def write_registers_csv(reg: Path) -> None:
    reg.mkdir(parents=True)
    with open(reg / "decisions.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(DEC_HEAD)
        w.writerows(decision_rows())
    with open(reg / "providers.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(PROV_HEAD)
        for y, name, lang in PROVIDERS:
            w.writerow([y, name, "2020-01-01", "", "Ei", "a@b.fi", lang])


def swedish_openpyxl(path: Path) -> None:
    """Swedish names, header on row 3 under a title, reordered and extra columns, text numbers, totals row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Faktura"
    for label, value in [("Serviceproducent", "Tjänst Ab"), ("FO-nummer", f" {P_SV} "), ("Fakturanummer", "SV-1"),
                         ("Faktureringsperiod", "11/2026"), ("Fakturadatum", "30.11.2026"), ("Totalt €", f"315,00{NBSP}€")]:
        ws.append([label, value])
    ws = wb.create_sheet("Klienter")
    ws.append(["Fakturans klienter, november 2026"])
    ws.append([])
    ws.append(["Intern kommentar", "  PERSONBETECKNING ", "Beslutsnummer", "Namn", "Serviceavgift  €", "Närvarodagar",
               "sedelns  värde €/dag", "Individuell handledning h", "Totalt €"])
    ws.append(["x", CLIENTS["D1"][0], "D1", "Asiakas D1", f" 315,00 €", "7", "45,00", "2,0", f"315,00{NBSP}€"])
    ws.append([])
    ws.append([None, None, "Totalt", None, "315,00", "7", None, None, "315,00"])
    ws = wb.create_sheet("Närvaro")
    ws.append(["Närvaro november"])
    ws.append([None, None, "Beslutsnummer", "Personbeteckning"] + [dt.datetime(2026, 11, d) for d in range(1, 31)])
    codes = {2: "x", 3: "X ", 4: 6, 5: "4,5", 9: "x", 10: "x", 11: " X", 12: "S", 16: "p", 17: "l"}
    ws.append([None, None, "D1", CLIENTS["D1"][0]] + [codes.get(d) for d in range(1, 31)])
    wb.save(path)


def english_via_libreoffice(tmp: Path, path: Path) -> None:
    """English names, formulas computed by LibreOffice, text day headers, a V105 day and a #N/A travel cell."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Invoice"
    for label, value in [("Provider", "Service Ltd"), ("Business id", P_EN), ("Invoice number", "EN-7"),
                         ("Billing month", dt.date(2026, 11, 15)), ("Invoice date", dt.date(2026, 12, 1)),
                         ("Total", "=SUM(Clients!F2:F3)")]:
        ws.append([label, value])
    ws = wb.create_sheet("Clients")
    ws.append(["Decision id", "Personal id", "Attendance days", "Day value", "Service fee", "Total", "Travel",
               "Individual guidance h"])
    ws.append(["D2", CLIENTS["D2"][0], 8, 45, "=C2*D2", "=E2", 0, 2])
    ws.append(["D3", CLIENTS["D3"][0], 4, 45, "=C3*D3", "=E3", "=NA()", 2])
    ws = wb.create_sheet("Attendance")
    ws.append(["Decision id", "Personal id"] + [str(d) for d in range(1, 31)])
    d2 = {d: "X" for d in DAYS7} | {12: "?"}
    ws.append(["D2", CLIENTS["D2"][0]] + [d2.get(d) for d in range(1, 31)])
    ws.append(["D3", CLIENTS["D3"][0]] + ["X" if d in (2, 3, 4, 5) else None for d in range(1, 31)])
    src = tmp / "lo-src"
    src.mkdir()
    wb.save(src / "en.xlsx")
    out = tmp / "lo-out"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp}/lo-profile", "--convert-to", "xlsx",
                    "--outdir", str(out), str(src / "en.xlsx")], check=True, capture_output=True, timeout=120)
    shutil.copy(out / "en.xlsx", path)


def finnish_xlsxwriter(path: Path, *, yt: str, invoice: str, month: object, fee_cached: int | None = 315,
                       hidden_attendance: bool = False, drop: str | None = None, decision: str = "D4",
                       error_in: str | None = None) -> None:
    """Finnish workbook by xlsxwriter: formulas with cached values, a serial or text billing month."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Lasku")
    ws.write_column(0, 0, ["Palveluntuottaja", "Y-tunnus", "Laskun numero", "Laskutuskausi", "Laskun päivämäärä", "Yhteensä €"])
    ws.write(0, 1, "Palvelu Oy")
    ws.write_string(1, 1, yt)
    ws.write_string(2, 1, invoice)
    ws.write(3, 1, month)
    ws.write_string(4, 1, "2026-11-30")
    ws.write_formula(5, 1, "=Asiakkaat!E2", None, 315)
    ws = wb.add_worksheet("Asiakkaat")
    head = ["Päätösnumero", "Henkilötunnus", "Läsnäolopäivät", "Setelin arvo €/pv", "Palvelumaksu €", "Yksilöohjaus h",
            "Kykyviisari pvm", "Yhteensä €"]
    if drop:
        head.remove(drop)
    ws.write_row(0, 0, head)
    values = {"Päätösnumero": decision, "Henkilötunnus": CLIENTS[decision][0], "Läsnäolopäivät": 7,
              "Setelin arvo €/pv": 45, "Yksilöohjaus h": 2, "Kykyviisari pvm": None, "Yhteensä €": 315}
    for col, name in enumerate(head):
        if name == "Palvelumaksu €":
            ws.write_formula(1, col, "=C2*D2", None, fee_cached)
        elif name == error_in:
            ws.write_formula(1, col, "=1/0", None, "#DIV/0!")
        elif values[name] is not None:
            ws.write(1, col, values[name])
    ws = wb.add_worksheet("Läsnäolo")
    ws.write_row(0, 0, ["Päätösnumero", "Henkilötunnus"] + list(range(1, 31)))
    ws.write_row(1, 0, [decision, CLIENTS[decision][0]] + [("x" if d in DAYS7 else "") for d in range(1, 31)])
    if hidden_attendance:
        ws.hide()
    wb.close()


def excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def reconcile(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(CLI + list(args), cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One batch holding every scenario, run once through `reconcile run`."""
    tmp = tmp_path_factory.mktemp("acc")
    inbox, outbox = tmp / "inbox", tmp / "outbox"
    shutil.copytree(ROOT / "config", tmp / "config")
    write_registers_xlsx(inbox / "register")
    folder = inbox / BATCH
    folder.mkdir()
    swedish_openpyxl(folder / "faktura november.xlsx")
    has_lo = shutil.which("soffice") is not None
    if has_lo:
        english_via_libreoffice(tmp, folder / "EN invoice.xlsx")
    # a dot-file is a submission; the odd invoice number is only made safe for the path
    finnish_xlsxwriter(folder / ".piilo.xlsx", yt=P_FI, invoice="../../x", month=excel_serial(dt.date(2026, 11, 20)))
    finnish_xlsxwriter(folder / "hidden.xlsx", yt=P_FI, invoice="FI-HID", month="11.2026", hidden_attendance=True,
                       decision="D5")
    finnish_xlsxwriter(folder / "future.xlsx", yt=P_FI, invoice="FI-DEC", month="2026-12", decision="D6")
    finnish_xlsxwriter(folder / "dup a.xlsx", yt=P_FI, invoice="FI-DUP", month="2026-11", decision="D7")
    finnish_xlsxwriter(folder / "dup b.xlsx", yt=P_FI, invoice="FI-DUP", month="2026-11", decision="D7")
    finnish_xlsxwriter(folder / "stranger.xlsx", yt=P_UNKNOWN, invoice="X-1", month="2026-11", decision="D5")
    finnish_xlsxwriter(folder / "badyt.xlsx", yt="1111112-2", invoice="X-2", month="2026-11", decision="D5")
    finnish_xlsxwriter(folder / "nofee.xlsx", yt=P_FI, invoice="FI-NOFEE", month="2026-11", drop="Palvelumaksu €",
                       decision="D5")
    finnish_xlsxwriter(folder / "error.xlsx", yt=P_FI, invoice="FI-ERR", month="1.11.2026", decision="D5",
                       error_in="Kykyviisari pvm")
    (folder / "notes.txt").write_text("not a workbook\n", encoding="utf-8")
    (folder / "~$faktura november.xlsx").write_bytes(b"lock")
    (folder / ".~lock.faktura november.xlsx#").write_text("lock", encoding="utf-8")
    proc = reconcile("run", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(tmp / "config"),
                     "--batch", BATCH, cwd=tmp)
    out = outbox / BATCH
    approval = {}
    if (out / "finance" / "approval.csv").exists():
        with open(out / "finance" / "approval.csv", encoding="utf-8") as f:
            approval = {r["source_file"]: r for r in csv.DictReader(f)}
    findings: list[dict[str, str]] = []
    if (out / "audit" / "findings.csv").exists():
        with open(out / "audit" / "findings.csv", encoding="utf-8") as f:
            findings = list(csv.DictReader(f))
    return {"proc": proc, "out": out, "approval": approval, "findings": findings, "has_lo": has_lo, "tmp": tmp}


def money(row: dict[str, str]) -> tuple[str, str, str, str, str]:
    return row["claimed_eur"], row["approved_eur"], row["held_eur"], row["rejected_eur"], row["status"]


def errors_of(batch: dict[str, object], source: str) -> set[tuple[str, str, str, str]]:
    return {(f["rule"], f["cell"], f["effect"], f["date"]) for f in batch["findings"]
            if f["source_file"] == source and f["severity"] == "error"}


def test_run_succeeds_with_one_approval_row_per_submission(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stderr
    expected = {"faktura november.xlsx", ".piilo.xlsx", "hidden.xlsx", "future.xlsx", "dup a.xlsx", "dup b.xlsx",
                "stranger.xlsx", "badyt.xlsx", "nofee.xlsx", "error.xlsx", "notes.txt"}
    if batch["has_lo"]:
        expected.add("EN invoice.xlsx")
    assert set(batch["approval"]) == expected


def test_lock_files_are_listed_in_manifest_and_otherwise_ignored(batch):
    manifest = (batch["out"] / "audit" / "manifest.json").read_text(encoding="utf-8")
    assert "~$faktura november.xlsx" in manifest and ".~lock.faktura november.xlsx#" in manifest
    assert not any(f["source_file"].startswith(("~$", ".~lock")) for f in batch["findings"])
    json.loads(manifest)


def test_swedish_workbook_with_title_rows_text_numbers_and_totals_row_is_approved(batch):
    row = batch["approval"]["faktura november.xlsx"]
    assert (row["provider_id"], row["invoice_no"], row["billing_month"]) == (P_SV, "SV-1", BATCH)
    assert money(row) == ("315.00", "315.00", "0.00", "0.00", "approved")
    assert errors_of(batch, "faktura november.xlsx") == set()
    wb = openpyxl.load_workbook(batch["out"] / "providers" / P_SV / "SV-1" / "annotated.xlsx")
    assert wb.sheetnames == ["Granskning", "Faktura", "Klienter", "Närvaro"]
    assert [c.value for c in wb["Klienter"][3]][-2:] == ["Godkänt €", "Status"]
    assert wb["Klienter"]["J4"].value == 315


def test_libreoffice_english_workbook_v105_day_and_v107_money_cell(batch):
    if not batch["has_lo"]:
        pytest.skip("LibreOffice (soffice) is not installed")
    row = batch["approval"]["EN invoice.xlsx"]
    assert (row["provider_id"], row["invoice_no"], row["billing_month"]) == (P_EN, "EN-7", BATCH)
    # D2: 8 claimed, 7 paid, day 12 ('?') rejected; D3: travel #N/A rejects the row (fee 180.00)
    assert money(row) == ("540.00", "315.00", "0.00", "225.00", "partly_approved")
    # Attendance: A=D2, B=Personal id, day d in column chr(ord('C') + d - 1); Clients G = Travel
    assert errors_of(batch, "EN invoice.xlsx") == {
        ("V105", "Attendance!N2", "reject", "2026-11-12"),
        ("V107", "Clients!G3", "reject", ""),
    }
    wb = openpyxl.load_workbook(batch["out"] / "providers" / P_EN / "EN-7" / "annotated.xlsx")
    assert wb.sheetnames[0] == "Review"
    for sheet, cell in (("Attendance", "N2"), ("Clients", "G3")):
        assert wb[sheet][cell].fill.fgColor.rgb == "FFFFC7CE" and wb[sheet][cell].comment is not None


def test_dot_file_with_path_like_invoice_number_and_serial_month(batch):
    row = batch["approval"][".piilo.xlsx"]
    assert (row["provider_id"], row["invoice_no"], row["billing_month"]) == (P_FI, "../../x", BATCH)
    assert money(row) == ("315.00", "315.00", "0.00", "0.00", "approved")
    assert (batch["out"] / "providers" / P_FI / "______x" / "annotated.xlsx").exists()
    assert not (batch["tmp"] / "x").exists()


def file_rejected(batch, source: str, rule: str, cell: str, claimed: str, status: str = "rejected") -> None:
    row = batch["approval"][source]
    assert money(row) == (claimed, "0.00", "0.00", claimed, status)
    assert rule in {f["rule"] for f in batch["findings"] if f["source_file"] == source}
    hit = [f for f in batch["findings"] if f["source_file"] == source and f["rule"] == rule]
    assert all(f["decision_id"] == "" and f["date"] == "" and f["effect"] == "reject" for f in hit)
    assert cell in {f["cell"] for f in hit}


def test_hidden_attendance_sheet_is_missing_f003(batch):
    file_rejected(batch, "hidden.xlsx", "F003", "", "315.00")
    assert (batch["out"] / "providers" / P_FI / "FI-HID" / "anomalies.xlsx").exists()
    assert not (batch["out"] / "providers" / P_FI / "FI-HID" / "annotated.xlsx").exists()


def test_month_after_batch_f008(batch):
    file_rejected(batch, "future.xlsx", "F008", "Lasku!B4", "315.00")
    assert batch["approval"]["future.xlsx"]["billing_month"] == "2026-12"
    assert (batch["out"] / "providers" / P_FI / "FI-DEC" / "anomalies.xlsx").exists()


def test_two_files_same_number_are_duplicates_in_the_providers_folder(batch):
    for name, folder in (("dup a.xlsx", "dup_a_xlsx"), ("dup b.xlsx", "dup_b_xlsx")):
        file_rejected(batch, name, "F007", "Lasku!B3", "315.00", status="duplicate")
        assert (batch["out"] / "providers" / P_FI / "rejected" / folder / "anomalies.xlsx").exists()
        assert not (batch["out"] / "rejected" / folder).exists()


def test_unknown_provider_f006_and_garbled_ytunnus_f005(batch):
    file_rejected(batch, "stranger.xlsx", "F006", "Lasku!B2", "315.00")
    file_rejected(batch, "badyt.xlsx", "F005", "Lasku!B2", "315.00")
    assert batch["approval"]["badyt.xlsx"]["provider_id"] == ""
    assert (batch["out"] / "rejected" / "badyt_xlsx" / "anomalies.xlsx").exists()


def test_missing_fee_column_f004(batch):
    file_rejected(batch, "nofee.xlsx", "F004", "", "0.00")


def test_error_value_in_optional_date_is_a_warning(batch):
    row = batch["approval"]["error.xlsx"]
    assert money(row) == ("315.00", "315.00", "0.00", "0.00", "approved")
    hit = [(f["rule"], f["cell"], f["severity"], f["effect"]) for f in batch["findings"] if f["source_file"] == "error.xlsx"
           and f["rule"] == "V107"]
    assert hit == [("V107", "Asiakkaat!G2", "warning", "none")]


def test_unreadable_file_f001_has_empty_identity_and_claims_nothing(batch):
    row = batch["approval"]["notes.txt"]
    assert (row["provider_id"], row["invoice_no"], row["billing_month"]) == ("", "", "")
    file_rejected(batch, "notes.txt", "F001", "", "0.00")
    assert (batch["out"] / "rejected" / "notes_txt" / "anomalies.xlsx").exists()


def test_csv_registers_and_check_exit_codes(tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(ROOT / "config", tmp_path / "config")
    write_registers_csv(inbox / "register")
    (inbox / BATCH).mkdir()
    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.xlsx"
    finnish_xlsxwriter(good, yt=P_FI, invoice="C-1", month="2026-11")
    finnish_xlsxwriter(bad, yt=P_FI, invoice="C-2", month="2026-11", fee_cached=400)
    common = ["--inbox", str(inbox), "--config", str(tmp_path / "config")]
    ok = reconcile("check", str(good), *common, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    flagged = reconcile("check", str(bad), *common, cwd=tmp_path)
    assert flagged.returncode == 1 and "R210" in flagged.stdout + flagged.stderr
    (inbox / "register" / "providers.csv").unlink()
    missing = reconcile("run", *common, "--outbox", str(tmp_path / "out"), cwd=tmp_path)
    assert missing.returncode == 3 and "Traceback" not in missing.stderr
    usage = reconcile("run", *common, "--batch", "november", cwd=tmp_path)
    assert usage.returncode == 2


def finnish_openpyxl(path: Path, *, invoice: str, month: object, decision: str, day_header, fee: object = "315,00",
                     totals: bool = False) -> None:
    """Finnish workbook by openpyxl, with the day headers and billing month given as the caller types them."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Lasku"
    for label, value in [("Y-tunnus", P_FI), ("Laskun numero", invoice), ("Laskutuskausi", month),
                         ("Yhteensä €", "315,00")]:
        ws.append([label, value])
    ws = wb.create_sheet("Asiakkaat")
    ws.append(["Päätösnumero", "Henkilötunnus", "Läsnäolopäivät", "Setelin arvo €/pv", "Palvelumaksu €", "Yksilöohjaus h"])
    ws.append([decision, CLIENTS[decision][0], 7, 45, fee, 2])
    if totals:
        ws.append(["Yhteensä", None, 7, None, fee, 2])
    ws = wb.create_sheet("Läsnäolo")
    ws.append(["Päätösnumero", "Henkilötunnus"] + [day_header(d) for d in range(1, 31)])
    ws.append([decision, CLIENTS[decision][0]] + [("X" if d in DAYS7 else None) for d in range(1, 31)])
    if totals:
        ws.append(["Yhteensä", None] + [(1 if d in DAYS7 else 0) for d in range(1, 31)])
    wb.save(path)


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A second batch: day headers and billing months in the forms people type, a formula without a value."""
    tmp = tmp_path_factory.mktemp("acc2")
    inbox, outbox = tmp / "inbox", tmp / "outbox"
    shutil.copytree(ROOT / "config", tmp / "config")
    write_registers_csv(inbox / "register")
    folder = inbox / BATCH
    folder.mkdir()
    finnish_openpyxl(folder / "a.xlsx", invoice="T-1", month="15.11.2026", decision="D4",
                     day_header=lambda d: f"{d}.11.2026", totals=True)
    finnish_openpyxl(folder / "b.xlsx", invoice="T-2", month="2026-11-15", decision="D5",
                     day_header=lambda d: f"2026-11-{d:02d}")
    finnish_openpyxl(folder / "c.xlsx", invoice="T-3", month=dt.datetime(2026, 11, 30, 14, 5), decision="D6",
                     day_header=lambda d: float(d))
    finnish_openpyxl(folder / "d.xlsx", invoice="T-4", month="11.2026", decision="D7",
                     day_header=lambda d: str(d), fee="=C2*D2")
    proc = reconcile("run", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(tmp / "config"), cwd=tmp)
    with open(outbox / BATCH / "finance" / "approval.csv", encoding="utf-8") as f:
        approval = {r["source_file"]: r for r in csv.DictReader(f)}
    with open(outbox / BATCH / "audit" / "findings.csv", encoding="utf-8") as f:
        findings = list(csv.DictReader(f))
    return {"proc": proc, "out": outbox / BATCH, "approval": approval, "findings": findings}


@pytest.mark.parametrize("source", ["a.xlsx", "b.xlsx", "c.xlsx"])
def test_day_headers_and_billing_months_as_typed(variants, source):
    assert variants["proc"].returncode == 0, variants["proc"].stderr
    row = variants["approval"][source]
    assert row["billing_month"] == BATCH
    assert money(row) == ("315.00", "315.00", "0.00", "0.00", "approved")
    assert errors_of(variants, source) == set()


def test_formula_without_cached_value_is_an_empty_required_value(variants):
    row = variants["approval"]["d.xlsx"]
    # the fee counts as empty: V102 rejects the row, which claims nothing
    assert money(row) == ("0.00", "0.00", "0.00", "0.00", "approved")
    assert errors_of(variants, "d.xlsx") == {("V102", "Asiakkaat!E2", "reject", "")}


def test_file_rejected_as_a_whole_gets_no_annotated_copy(batch):
    for invoice in ("FI-DEC", "X-1"):
        provider = P_FI if invoice == "FI-DEC" else P_UNKNOWN
        folder = batch["out"] / "providers" / provider / invoice
        assert (folder / "anomalies.xlsx").exists()
        assert not (folder / "annotated.xlsx").exists()


def test_v105_day_carries_its_money_effect(batch):
    if not batch["has_lo"]:
        pytest.skip("LibreOffice (soffice) is not installed")
    v105 = [f for f in batch["findings"] if f["rule"] == "V105"]
    assert [f["amount_eur"] for f in v105] == ["-45.00"]
