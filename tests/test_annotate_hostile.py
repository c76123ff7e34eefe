"""One workbook never ends a batch: the two files of issue 16 through `reconcile run`, beside a control invoice.

- `web link far cell.xlsx` (provider 1): a `HYPERLINK("https://...")`
  formula, which sends the copy to the openpyxl path, and one bold empty
  cell at XFD1048576 on `Asiakkaat`. A walk over the sheet's used range
  would visit 17 billion cells; the copy must come out whole, valid, with
  its added columns beside the table.
- `broken style.xlsx` (provider 2): the cell behind its R208 finding (three
  days claimed, two evidenced) points at cell style 99 of a stylesheet that
  has a handful, which openpyxl cannot load (IndexError). Its annotated copy
  is replaced by a plain note; its findings (R208, and R210: a fee of 100.00
  for 3 days of 50.00) are in its anomalies.xlsx.

The control invoice (provider 0) and both others are approved or adjusted
exactly as a person works them out from the sample invoice: 263.60 claimed,
all approved (provider 2's fee claims only the two days evidenced).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import hostile
import openpyxl
import pytest
import wb
from reliability import BATCH, Control, provider_id

from reconcile.write.xlsxutil import package_problems

ROOT = Path(__file__).resolve().parents[1]
CLIENTS_XML = "xl/worksheets/sheet2.xml"  # Asiakkaat, the second sheet both engines write


def _edit_part(path: Path, name: str, change) -> Path:
    with zipfile.ZipFile(path) as z:
        data = z.read(name).decode()
    scratch = path.with_name(path.name + ".src")
    path.rename(scratch)
    hostile.rewrite(scratch, path, {name: change(data).encode()})
    scratch.unlink()
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("one-workbook")
    inbox, outbox = root / "inbox", root / "outbox"
    folder = inbox / BATCH
    folder.mkdir(parents=True)
    ctl = Control(inbox, providers=3)
    ctl.write(0, "C-0", folder / "control.xlsx")

    header, clients, attendance = ctl.invoice(1, "W-1")
    clients[1]["Lisätiedot"] = wb.Formula('=HYPERLINK("https://example.com/x","katso")', "katso")
    path = wb.write_invoice(folder / "web link far cell.xlsx", header, clients, attendance, engine="xlsxwriter")
    _edit_part(path, CLIENTS_XML, lambda xml: xml.replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576" s="1"/></row></sheetData>'))

    header, clients, attendance = ctl.invoice(2, "S-2")
    clients[0]["days_claimed"] = 3  # two days are marked on Läsnäolo: R208 at Asiakkaat!D2
    path = wb.write_invoice(folder / "broken style.xlsx", header, clients, attendance)
    _edit_part(path, CLIENTS_XML, lambda xml: re.sub(r'<c r="D2"( s="\d+")?', '<c r="D2" s="99"', xml))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "reconcile", "run", "--inbox", str(inbox), "--outbox", str(outbox),
                           "--config", str(ROOT / "config"), "--quiet"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)  # a hang guard only
    return {"proc": proc, "out": outbox / BATCH, "folder": folder}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _folder(run, k: int, invoice_no: str) -> Path:
    return run["out"] / "providers" / provider_id(k) / invoice_no


@pytest.mark.slow
def test_the_batch_ends_normally_and_every_invoice_is_counted(run):
    proc = run["proc"]
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and "internal error" not in proc.stderr
    approval = {r["source_file"]: (r["status"], r["claimed_eur"], r["approved_eur"], r["rejected_eur"])
                for r in _csv(run["out"] / "finance" / "approval.csv")}
    assert approval == {
        "control.xlsx": ("approved", "263.60", "263.60", "0.00"),
        "web link far cell.xlsx": ("approved", "263.60", "263.60", "0.00"),
        # 3 days claimed, 2 evidenced, but the fee claims only 2 x 50.00: all of it is approved.
        "broken style.xlsx": ("approved", "263.60", "263.60", "0.00"),
    }


@pytest.mark.slow
def test_far_cell_and_web_link_give_a_whole_valid_copy(run):
    folder = _folder(run, 1, "W-1")
    assert sorted(p.name for p in folder.iterdir()) == ["annotated.xlsx", "anomalies.xlsx"]
    copy = folder / "annotated.xlsx"
    assert package_problems(copy) == []
    ws = openpyxl.load_workbook(copy)["Asiakkaat"]
    # Columns A..K of the sample, L the provider's Lisätiedot: the added columns are M and N.
    assert [ws["L1"].value, ws["M1"].value, ws["N1"].value] == ["Lisätiedot", "Hyväksytty €", "Tila"]
    assert (ws["L3"].value, ws["L3"].data_type) == ("katso", "s")  # the web formula left as its value
    assert [ws["M2"].value, ws["M3"].value] == [113.6, 150]


@pytest.mark.slow
def test_a_workbook_openpyxl_cannot_load_gets_a_note_and_keeps_its_findings(run):
    folder = _folder(run, 2, "S-2")
    assert sorted(p.name for p in folder.iterdir()) == ["annotated.txt", "anomalies.xlsx"]
    note = (folder / "annotated.txt").read_text(encoding="utf-8")
    assert note.startswith("Työkirjastanne broken style.xlsx ei voitu tehdä merkittyä kopiota (annotated.xlsx)")
    assert "anomalies.xlsx" in note and "IndexError" not in note
    sheet = openpyxl.load_workbook(folder / "anomalies.xlsx").worksheets[0]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
    # R208: 3 days claimed, 2 marked; R210: fee 100.00 is not 3 x 50.00.
    assert [(r["Sääntö"], r["Solu"]) for r in rows if r["Solu"]] == [("R208", "Asiakkaat!D2"), ("R210", "Asiakkaat!F2")]
    found = [(r["rule"], r["cell"]) for r in _csv(run["out"] / "audit" / "findings.csv")
             if r["source_file"] == "broken style.xlsx"]
    assert found == [("R208", "Asiakkaat!D2"), ("R210", "Asiakkaat!F2")]


@pytest.mark.slow
def test_the_note_is_in_the_manifest_and_inputs_are_untouched(run):
    import json

    manifest = json.loads((run["out"] / "audit" / "manifest.json").read_text(encoding="utf-8"))
    outputs = manifest["outputs"]
    assert f"providers/{provider_id(2)}/S-2/annotated.txt" in outputs
    assert f"providers/{provider_id(2)}/S-2/annotated.xlsx" not in outputs
