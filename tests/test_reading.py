"""Provider workbooks into frames, every problem at its cell (reconcile.invoice, F003-F005, V101-V107)."""

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import hostile
import wb
from reconcile import config
from reconcile.read import intake, sheets
from reconcile.read.invoice import read_invoice

ROOT = Path(__file__).resolve().parents[1]
CFG = config.load(ROOT / "config")


def read(path):
    return read_invoice(intake.submission(Path(path)), CFG)


def pairs(inv):
    return sorted((f.rule, f.location.ref) for f in inv.findings)


def fee(inv):
    return dict(zip(inv.clients["decision_id"], inv.clients["fee_cents"]))


@pytest.mark.parametrize("engine", ["openpyxl", "xlsxwriter"])
def test_clean_invoice_reads_exactly(tmp_path, engine):
    header, clients, attendance = wb.sample_invoice()
    inv = read(wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance, engine=engine))
    assert pairs(inv) == [] and not inv.fatal
    h = inv.header
    assert (h.provider_id, h.invoice_no, h.billing_month, h.invoice_date, h.total_cents) == (
        "1234561-2", "2026-001", dt.date(2026, 11, 1), dt.date(2026, 11, 28), 25000)
    assert h.cells["invoice_no"] == wb.label_cell(header, "invoice_no")
    c = inv.clients.to_dicts()
    assert [(r["row"], r["decision_id"], r["days_claimed"], r["fee_cents"], r["meals"], r["guidance_individual_h100"],
             r["rejected"]) for r in c] == [(2, "D-1", 2, 10000, 2, 250, None), (3, "D-2", 3, 15000, 0, 200, None)]
    days = inv.days.select("cell", "date", "code", "hours_h100").rows()
    assert days == [("D2", dt.date(2026, 11, 2), "X", None), ("E2", dt.date(2026, 11, 3), "H", 600),
                    ("F3", dt.date(2026, 11, 4), "X", None), ("G3", dt.date(2026, 11, 5), "H", 450),
                    ("H3", dt.date(2026, 11, 6), "X", None)]  # S on the 9th claims nothing
    assert inv.columns["clients"]["fee_cents"] == "F" and inv.header_rows == {"clients": 1, "attendance": 1}
    assert inv.sheet_names == {"invoice": "Lasku", "clients": "Asiakkaat", "attendance": "Läsnäolo"}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_swedish_and_english_names(tmp_path, lang):
    header, clients, attendance = wb.sample_invoice()
    inv = read(wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance, lang=lang))
    assert pairs(inv) == []
    assert fee(inv) == {"D-1": 10000, "D-2": 15000} and inv.days.height == 5
    assert inv.sheet_names["clients"] == wb.sheet_name("clients", lang)


def test_tolerated_forms(tmp_path):
    """Header row not first, extra columns, blank rows, a totals row, NBSP, thin spaces, text and serial
    dates, odd header spacing, date day headers, a hidden sheet named Lasku: no finding, right values."""
    header, clients, attendance = wb.sample_invoice()
    header["billing_month"] = "11/2026"
    header["invoice_date"] = 46353  # serial date: 27.11.2026
    header["total_cents"] = "1\u202f250,00 €"
    clients = [{("Palvelumaksu \u00a0 €" if k == "fee_cents" else k): v for k, v in r.items()} for r in clients]
    clients[0].update({"Palvelumaksu \u00a0 €": " 1\u00a0000,50 €", "kykyviisari_date": "3.11.2026", "Oma huomio": "x",
                       "vat_date": "2026-11-05", "travel_cents": "1\u20090,00"})
    clients[1].update({"vat_date": 46332, "name": "Asiakas\u00a0Kaksi\u200b"})
    clients.insert(1, {})  # a blank row
    clients.append({"decision_id": "Yhteensä", "Palvelumaksu \u00a0 €": "2150,50"})
    # day headers as real dates and as text, blank row, totals row with counts
    att = []
    for r in attendance:
        att.append({("  PÄÄTÖSNUMERO\u00a0" if k == "decision_id" else
                     dt.date(2026, 11, k) if k in (2, 4) else str(k) if k in (3, 5) else k): v for k, v in r.items()})
    att.append({})
    att.append({5: 2})
    path = wb.write_invoice(tmp_path / "a.xlsx", header, clients, att, start_row=4, title="Asiakkaat 11/2026",
                            extra_sheets={"Lasku ": [["Y-tunnus", "9999999-9"]]}, hidden=["Lasku "])
    inv = read(path)
    assert pairs(inv) == []
    assert inv.header.total_cents == 125000 and inv.header.invoice_date == dt.date(2026, 11, 27)
    c = inv.clients.to_dicts()
    assert [r["row"] for r in c] == [5, 7]  # blank row 6 and totals row 8 are not client rows
    assert (c[0]["fee_cents"], c[0]["travel_cents"], c[0]["kykyviisari_date"], c[0]["vat_date"]) == (
        100050, 1000, dt.date(2026, 11, 3), dt.date(2026, 11, 5))
    assert (c[1]["vat_date"], c[1]["name"]) == (dt.date(2026, 11, 6), "Asiakas Kaksi")
    assert inv.days.select("cell", "day", "date", "code").rows() == [
        ("D5", 2, dt.date(2026, 11, 2), "X"), ("E5", 3, dt.date(2026, 11, 3), "H"),
        ("F6", 4, dt.date(2026, 11, 4), "X"), ("G6", 5, dt.date(2026, 11, 5), "H"), ("H6", 6, dt.date(2026, 11, 6), "X")]
    assert inv.attendance["row"].to_list() == [5, 6]


def test_cached_formula_values_and_formula_without_value(tmp_path):
    header, clients, attendance = wb.sample_invoice()
    clients[0]["fee_cents"] = wb.Formula("=D2*E2", 100)
    clients[0]["total_cents"] = wb.Formula("=F2+G2*6.8")  # no cached value: empty, not a finding
    inv = read(wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance, engine="xlsxwriter"))
    assert pairs(inv) == []
    assert inv.clients["fee_cents"].to_list() == [10000, 15000]
    assert inv.clients["total_cents"].to_list() == [None, 15000]


def test_day_dates_outside_the_month_and_day_31(tmp_path):
    header, clients, attendance = wb.sample_invoice()
    attendance[0].update({31: "X", dt.date(2026, 10, 30): "X"})
    inv = read(wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance))
    assert pairs(inv) == []
    odd = inv.days.filter(inv.days["date"].is_null()).select("day", "cell").rows()
    assert odd == [(31, "AG2"), (30, "AH2")]  # R222 is decided by the cross-checks


def test_cell_rules_at_their_cells(tmp_path):
    header, clients, attendance = wb.sample_invoice()
    clients[0].update({"fee_cents": "100,005", "vat_date": "huomenna"})  # V101 money: reject; date: warning
    clients[1].update({"days_claimed": 24, "guidance_individual_h100": "30"})  # V103 money: reject; hours: warning
    clients.append(dict(clients[0], decision_id="D-3", hetu="131052-308X", fee_cents="10"))  # V104
    clients.append(dict(clients[0], decision_id="D-4", hetu=wb.HETU[2], fee_cents=None))  # V102 money
    clients.append(dict(clients[0], decision_id="D-2", hetu=wb.HETU[1], fee_cents="#REF!"))  # V106 (and V107)
    clients.append(dict(clients[0], decision_id="D-5", hetu=wb.HETU[3], fee_cents="1", meals="#N/A",
                        total_cents="#DIV/0!"))  # V107 money: reject; V107 on a total: warning
    attendance[0].update({10: "Q", 11: "#REF!", 12: "25", 13: "s", 14: "L", 15: "p"})
    attendance.append(dict(attendance[1]))  # V106 on Läsnäolo
    path = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance)
    inv = read(path)
    vat = [f"Asiakkaat!L{n}" for n in (2, 4, 5, 6, 7)]  # "huomenna" was copied to every later row
    assert pairs(inv) == sorted([
        ("V101", "Asiakkaat!F2"), *(("V101", c) for c in vat),
        ("V102", "Asiakkaat!F5"), ("V103", "Asiakkaat!D3"), ("V103", "Asiakkaat!J3"), ("V103", "Läsnäolo!N2"),
        ("V104", "Asiakkaat!B4"), ("V105", "Läsnäolo!L2"), ("V105", "Läsnäolo!M2"),
        ("V106", "Asiakkaat!A6"), ("V106", "Läsnäolo!A4"),
        ("V107", "Asiakkaat!F6"), ("V107", "Asiakkaat!G7"), ("V107", "Asiakkaat!K7"),
    ])
    by = {(f.rule, f.location.ref): f for f in inv.findings}
    assert (by["V101", "Asiakkaat!F2"].effect, by["V101", "Asiakkaat!L2"].severity) == ("reject", "warning")
    assert (by["V103", "Asiakkaat!D3"].effect, by["V103", "Asiakkaat!J3"].effect) == ("reject", "none")
    assert (by["V107", "Asiakkaat!G7"].effect, by["V107", "Asiakkaat!K7"].effect) == ("reject", "none")
    assert by["V105", "Läsnäolo!L2"].date == dt.date(2026, 11, 10) and by["V105", "Läsnäolo!L2"].decision_id == "D-1"
    assert by["V104", "Asiakkaat!B4"].row == 4
    assert inv.clients.select("row", "rejected").rows() == [
        (2, "V101"), (3, "V103"), (4, "V104"), (5, "V102"), (6, "V107"), (7, "V107")]  # row 6: also V106
    assert inv.clients.filter(inv.clients["row"] == 3)["guidance_individual_h100"].item() is None
    assert inv.attendance["rejected"].to_list() == [None, None, "V106"]
    day_codes = dict(inv.days.filter(inv.days["row"] == 2).select("cell", "code").rows())
    assert {k: v for k, v in day_codes.items() if v == "?"} == {"L2": "?", "M2": "?", "N2": "?"}
    assert not inv.fatal


def test_missing_sheets_columns_and_header(tmp_path):
    header, clients, attendance = wb.sample_invoice()
    inv = read(wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance, omit=["attendance"],
                                extra_sheets={"Läsnäolo 11": [["x"]]}))
    assert pairs(inv) == [("F003", "")] and inv.fatal
    assert inv.findings[0].params["sheets"] == "Lasku, Asiakkaat, Läsnäolo 11"
    assert fee(inv) == {"D-1": 10000, "D-2": 15000}  # a fatal invoice still carries its rows

    renamed = [{("Palvelumaksu" if k == "fee_cents" else k): v for k, v in r.items()} for r in clients]
    no_days = [{k: v for k, v in r.items() if k in ("decision_id", "hetu")} for r in attendance]
    inv = read(wb.write_invoice(tmp_path / "b.xlsx", header, renamed, no_days))
    assert pairs(inv) == [("F004", ""), ("F004", "")] and inv.fatal
    f = inv.findings[0]
    assert (f.location.sheet, f.expected, f.found) == ("Asiakkaat", "Palvelumaksu €", "Palvelumaksu")
    assert inv.findings[1].location.sheet == "Läsnäolo"

    del header["invoice_no"]
    header.update({"provider_id": "1234561-3", "billing_month": "marraskuu"})
    inv = read(wb.write_invoice(tmp_path / "c.xlsx", header, clients, attendance))
    assert pairs(inv) == [("F005", ""), ("F005", "Lasku!B2"), ("F005", "Lasku!B3")] and inv.fatal
    assert inv.days.height == 5 and inv.days["date"].null_count() == 5  # month unknown: dates unknown


def test_unexpected_exception_is_f001(tmp_path, monkeypatch):
    header, clients, attendance = wb.sample_invoice()
    path = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance)

    def boom(p):
        raise KeyError("xl/worksheets/sheet9.xml")

    monkeypatch.setattr(sheets, "open_book", boom)
    inv = read(path)
    # The library's own words never reach a provider (issue 15): the reason is the program's sentence.
    assert pairs(inv) == [("F001", "")] and inv.fatal and inv.findings[0].found == "the workbook cannot be read"
    assert "KeyError" not in inv.findings[0].found and "sheet9" not in inv.findings[0].found


def test_declared_dimension_is_not_trusted(tmp_path):
    header, clients, attendance = wb.sample_invoice()
    src = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance)
    with zipfile.ZipFile(src) as z:
        sheet_parts = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    edited = {}
    for name in sheet_parts:
        edited[name], n = re.subn(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>',
                                  hostile.part(src, name))
        assert n == 1
    dst = hostile.rewrite(src, tmp_path / "b.xlsx", edited)
    inv = read(dst)
    assert pairs(inv) == [] and fee(inv) == {"D-1": 10000, "D-2": 15000}


def test_merged_header_cells_do_not_crash(tmp_path):
    from openpyxl import load_workbook

    header, clients, attendance = wb.sample_invoice()
    path = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance, start_row=3, title="Asiakkaat")
    book = load_workbook(path)
    book["Asiakkaat"].merge_cells("A1:F1")
    book["Läsnäolo"].merge_cells("C2:I2")
    book.save(path)
    inv = read(path)
    assert pairs(inv) == [] and inv.days.height == 5


@pytest.mark.libreoffice
def test_saved_by_libreoffice(tmp_path):
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    header, clients, attendance = wb.sample_invoice()
    attendance[0][10] = "Q"
    (tmp_path / "src").mkdir()
    src = wb.write_invoice(tmp_path / "src" / "a.xlsx", header, clients, attendance)
    out = tmp_path / "out"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--convert-to", "xlsx", "--outdir", str(out), str(src)], check=True, timeout=120,
                   capture_output=True)
    inv = read(out / "a.xlsx")
    assert pairs(inv) == [("V105", "Läsnäolo!L2")]
    assert fee(inv) == {"D-1": 10000, "D-2": 15000} and inv.days.height == 6
