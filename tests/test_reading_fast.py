"""The fast reader (calamine, batch validation, worker processes) reads exactly what the slow one did."""

import resource
import re
import zipfile
from pathlib import Path

import pytest

import wb
from reconcile import config
from reconcile.read import intake, sheets
from reconcile.read.invoice import read_invoice, read_invoices

ROOT = Path(__file__).resolve().parents[1]
CFG = config.load(ROOT / "config")


def pairs(inv):
    return sorted((f.rule, f.location.ref) for f in inv.findings)


def with_sheet(src: Path, dst: Path, sheet: str, edit) -> Path:
    """Copy a workbook, passing one worksheet part's XML through `edit`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, edit(data) if item.filename == sheet else data)
    return dst


def test_scan_maps_sheets_to_parts_and_records_error_cells(tmp_path):
    header, clients, attendance = wb.sample_invoice()
    clients[1]["meals"] = "#N/A"
    attendance[0][11] = "#REF!"
    path = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance, engine="xlsxwriter")
    ins = intake.examine(intake.submission(path), CFG.limits)
    assert ins.finding is None and ins.mapped
    assert {name: (s.part, s.errors) for name, s in ins.sheets.items()} == {
        "Lasku": ("xl/worksheets/sheet1.xml", {}),
        "Asiakkaat": ("xl/worksheets/sheet2.xml", {(3, 7): "#N/A"}),
        "Läsnäolo": ("xl/worksheets/sheet3.xml", {(2, 13): "#REF!"}),
    }
    # Sheets with an error cell are scanned exactly; the plain Lasku gets the short cut's bound.
    assert {name: (s.max_row, s.max_col) for name, s in ins.sheets.items()} == {
        "Lasku": (19_999, 78), "Asiakkaat": (3, 11), "Läsnäolo": (3, 33)}
    inv = read_invoice(intake.submission(path), CFG)
    assert ("V107", "Asiakkaat!G3") in pairs(inv) and ("V105", "Läsnäolo!M2") in pairs(inv)


@pytest.mark.parametrize("engine", ["openpyxl", "xlsxwriter"])
def test_calamine_and_openpyxl_give_the_same_grids(tmp_path, engine):
    header, clients, attendance = wb.sample_invoice()
    clients[0]["fee_cents"] = "#DIV/0!"
    path = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance, engine=engine, start_row=3, title="T",
                            extra_sheets={"Piilo": [["x"]]}, hidden=["Piilo"])
    ins = intake.examine(intake.submission(path), CFG.limits)
    fast, slow = sheets._open_calamine(ins), sheets._open_openpyxl(path)
    assert fast.names == slow.names and fast.hidden == slow.hidden == ["Piilo"]
    for f, s in zip(fast.grids, slow.grids):
        assert [n for n, _ in f.rows] == [n for n, _ in s.rows]
        for (_, fv), (_, sv) in zip(f.rows, s.rows):
            padded = sv + (None,) * (len(fv) - len(sv))
            assert [sheets.cells.shown(v) for v in fv] == [sheets.cells.shown(v) for v in padded]


def test_far_away_cell_is_not_given_to_calamine(tmp_path):
    """One value at XFD1048576 would make calamine allocate 17 billion cells (and abort the process)."""
    header, clients, attendance = wb.sample_invoice()
    src = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance)
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    path = with_sheet(src, tmp_path / "far.xlsx", "xl/worksheets/sheet2.xml", lambda d: d.replace(b"</sheetData>", far))
    ins = intake.examine(intake.submission(path), CFG.limits)
    assert (ins.sheets["Asiakkaat"].max_row, ins.sheets["Asiakkaat"].max_col) == (1048576, 16384)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    inv = read_invoice(intake.submission(path), CFG)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 300
    assert inv.clients["fee_cents"].to_list() == [10000, 15000]
    assert pairs(inv) == []  # the far row has no decision number: a trailing totals row, as openpyxl read it


def test_declared_million_rows_are_read_by_calamine_without_allocating_them(tmp_path):
    header, clients, attendance = wb.sample_invoice()
    src = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance)
    path = with_sheet(src, tmp_path / "dim.xlsx", "xl/worksheets/sheet2.xml",
                      lambda d: re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', d))
    ins = intake.examine(intake.submission(path), CFG.limits)
    book = sheets._open_calamine(ins)
    assert [n for n, _ in sheets.find_sheet(book, "clients").rows] == [1, 2, 3]


def test_cell_without_reference_takes_the_slow_path(tmp_path):
    header, clients, attendance = wb.sample_invoice()
    src = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance)
    path = with_sheet(src, tmp_path / "nor.xlsx", "xl/worksheets/sheet1.xml",
                      lambda d: d.replace(b'<c r="A1" t="inlineStr">', b'<c t="inlineStr">')
                      .replace(b'<c r="A1" t="s">', b'<c t="s">'))
    ins = intake.examine(intake.submission(path), CFG.limits)
    assert not ins.sheets["Lasku"].exact
    inv = read_invoice(intake.submission(path), CFG)
    assert pairs(inv) == [] and inv.header.provider_id == "1234561-2"


def test_batch_reads_as_each_alone_in_order_on_two_processes(tmp_path):
    """A batch validated together and read on worker processes gives what each file alone gives."""
    paths = []
    for i in range(6):
        header, clients, attendance = wb.sample_invoice(invoice_no=f"N-{i}")
        if i % 2:
            clients[0]["days_claimed"] = 24  # V103 at D2
            clients[1]["hetu"] = "131052-308X"  # V104 at B3
        if i == 3:
            attendance[0][10] = "Q"  # V105 at L2
        paths.append(wb.write_invoice(tmp_path / f"{i}.xlsx", header, clients, attendance))
    (tmp_path / "junk.xlsx").write_bytes(b"not a workbook")
    paths.append(tmp_path / "junk.xlsx")
    subs = [intake.submission(p) for p in paths]
    alone = [read_invoice(s, CFG) for s in subs]
    for together in (read_invoices(subs, CFG, workers=1), read_invoices(subs * 10, CFG, workers=2)[:len(subs)]):
        assert [i.source_file for i in together] == [p.name for p in paths]
        for a, t in zip(alone, together):
            assert [(f.rule, f.location.ref, f.found) for f in t.findings] == [
                (f.rule, f.location.ref, f.found) for f in a.findings]
            assert t.clients.equals(a.clients) and t.days.equals(a.days) and t.attendance.equals(a.attendance)
    assert pairs(alone[1]) == [("V103", "Asiakkaat!D2"), ("V104", "Asiakkaat!B3")]
    assert pairs(alone[3]) == [("V103", "Asiakkaat!D2"), ("V104", "Asiakkaat!B3"), ("V105", "Läsnäolo!L2")]
    assert alone[1].clients["rejected"].to_list() == ["V103", "V104"]
    assert pairs(alone[6]) == [("F001", "")]
