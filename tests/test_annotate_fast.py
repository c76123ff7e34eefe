"""The fast annotated.xlsx (write.xlsxpatch) against the openpyxl path, cell by cell, on real workbooks.

Each test writes a provider workbook in tmp_path with openpyxl or
xlsxwriter, plants findings on known cells, and writes the annotated copy
both ways: `xlsxpatch.patch` (part by part) and `annotate.write_with_openpyxl`
(full load and save). Both are read back with openpyxl and must agree on
every cell's value, fill, comment, number format and boldness.
"""

import datetime as dt
import shutil
import subprocess
import zipfile

import openpyxl
import polars as pl
import pytest
from openpyxl.comments import Comment

from reconcile.findings import Finding, Location
from reconcile.model import BatchResult, Invoice, InvoiceHeader, InvoiceResult, Money, Registers, Submission
from reconcile.write import annotate, xlsxpatch
from reconcile.write.xlsxutil import batch_time
import wb

A = wb.YTUNNUS[0]
WHEN = batch_time("2026-11")
EVIL = {"xlsxwriter": '=HYPERLINK("http://x")', "openpyxl": "@SUM(A1)"}  # openpyxl would store "=..." as a formula


def _invoice(tmp_path, engine, name="in.xlsx", lang="fi", links=False):
    header, clients, attendance = wb.sample_invoice(provider_id=A)
    clients[0]["name"] = EVIL[engine]
    if links:
        clients[1]["notes"] = wb.Formula('=HYPERLINK("http://example.com/x","katso")', "katso")
    path = wb.write_invoice(tmp_path / name, header, clients, attendance, engine=engine)
    loc = lambda sheet, ref: Location(name, sheet, ref)  # noqa: E731
    findings = [
        Finding("R208", loc("Asiakkaat", wb.cell(clients, "days_claimed", 0)), decision_id="D-1", expected="1",
                found="2", amount_cents=-5000, row=2),
        Finding("V105", loc("Läsnäolo", wb.cell(attendance, 3, 0)), decision_id="D-1", date=dt.date(2026, 11, 3),
                found="<6 & 7>", amount_cents=-5000, row=2),
        Finding("R207", loc("Läsnäolo", wb.cell(attendance, 3, 0)), decision_id="D-1", date=dt.date(2026, 11, 3)),
        Finding("R204", loc("Läsnäolo", wb.cell(attendance, 20, 1)), decision_id="D-2",  # an empty day cell
                date=dt.date(2026, 11, 20), amount_cents=-5000, row=3),
        Finding("R220", loc("Lasku", wb.label_cell(header, "total_cents")), expected="263,60", found="250,00"),
        Finding("R219", loc("Lasku", wb.label_cell(header, "invoice_date"))),  # a date cell with its own format
    ]
    sub = Submission(path=path, source_file=name, sha256="0" * 64, size=path.stat().st_size)
    inv = Invoice(sub, header=InvoiceHeader(provider_id=A, invoice_no="2026-001", billing_month=dt.date(2026, 11, 1)),
                  sheet_names={"invoice": "Lasku", "clients": "Asiakkaat", "attendance": "Läsnäolo"},
                  header_rows={"clients": 1, "attendance": 1})
    rows = pl.DataFrame([{"row": 2, "decision_id": "D-1", "status": "adjusted", "fee_approved": 5000, "meals_approved": 1360},
                         {"row": 3, "decision_id": "D-2", "status": "rejected", "fee_approved": 0, "meals_approved": 0}])
    items = {"fee": Money(25000, 5000, 0, 20000), "meals": Money(1360, 1360, 0, 0), "meal_comp": Money(),
             "travel": Money()}
    result = InvoiceResult(inv, A, "2026-001", dt.date(2026, 11, 1), lang=lang, status="partly_approved",
                           items=items, rows=rows, findings=findings)
    batch = BatchResult("2026-11", "run123", dt.datetime(2026, 12, 1), None, [result], [],
                        Registers(pl.DataFrame(), pl.DataFrame()))
    return path, result, batch


def _snapshot(path):
    """Sheet names, and per cell: value, solid fill colour, comment (text, author), number format, bold."""
    book = openpyxl.load_workbook(path)
    cells = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                fill = c.fill.start_color.rgb[-6:] if c.fill.fill_type == "solid" else None
                note = (c.comment.text, c.comment.author) if c.comment else None
                if c.value is None and fill is None and note is None:
                    continue
                cells[(ws.title, c.coordinate)] = (c.value, c.data_type, fill, note, c.number_format, bool(c.font.b))
    return book.sheetnames, cells


def _both(tmp_path, source, result, batch):
    plan = annotate.build_plan(result, batch)
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    xlsxpatch.patch(source, fast, plan, WHEN)
    annotate.write_with_openpyxl(source, plan, slow, WHEN)
    return fast, slow


@pytest.mark.parametrize("engine", ["openpyxl", "xlsxwriter"])
def test_fast_path_matches_the_openpyxl_path_cell_by_cell(tmp_path, engine):
    source, result, batch = _invoice(tmp_path, engine)
    fast, slow = _both(tmp_path, source, result, batch)
    names, cells = _snapshot(fast)
    assert (names, cells) == _snapshot(slow)
    assert names == ["Tarkastus", "Lasku", "Asiakkaat", "Läsnäolo"]
    fills = {k: v[2] for k, v in cells.items() if v[2]}
    assert fills == {("Asiakkaat", "D2"): "FFEB9C", ("Läsnäolo", "E2"): "FFC7CE", ("Läsnäolo", "V3"): "FFC7CE",
                     ("Lasku", "B6"): "BDD7EE", ("Lasku", "B5"): "BDD7EE"}
    assert cells[("Lasku", "B5")][4] == "d.m.yyyy"  # the date keeps its format under the fill
    text, author = cells[("Läsnäolo", "E2")][3]
    assert author == "reconcile" and "”<6 & 7>”" in text and "\n\nR207 (varoitus" in text
    assert cells[("Asiakkaat", "L1")][:2] == ("Hyväksytty €", "s") and cells[("Asiakkaat", "L1")][5]
    assert [cells[("Asiakkaat", f"L{r}")][0] for r in (2, 3)] == [63.6, 0]
    assert cells[("Asiakkaat", "L2")][4] == "#,##0.00"
    assert [cells[("Asiakkaat", f"M{r}")][0] for r in (1, 2, 3)] == ["Tila", "korjattu", "hylätty"]
    assert cells[("Asiakkaat", "C2")][:2] == (EVIL[engine], "s")  # the provider's text stays text
    assert [cells[("Tarkastus", f"{c}14")][0] for c in "ABCDE"] == ["Yhteensä", 263.6, 63.6, 0, 200]
    assert not any(v[1] == "f" for v in cells.values())


def test_unchanged_parts_are_copied_byte_for_byte_and_output_is_deterministic(tmp_path):
    source, result, batch = _invoice(tmp_path, "xlsxwriter")
    plan = annotate.build_plan(result, batch)
    xlsxpatch.patch(source, tmp_path / "one.xlsx", plan, WHEN)
    xlsxpatch.patch(source, tmp_path / "two.xlsx", plan, WHEN)
    assert (tmp_path / "one.xlsx").read_bytes() == (tmp_path / "two.xlsx").read_bytes()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(tmp_path / "one.xlsx") as zout:
        before = {i.filename: i for i in zin.infolist()}
        after = {i.filename: i for i in zout.infolist()}
        kept = [n for n in ("xl/sharedStrings.xml", "xl/theme/theme1.xml") if n in before]
        assert kept and all((after[n].CRC, after[n].compress_size) == (before[n].CRC, before[n].compress_size)
                            for n in kept)
        assert zout.testzip() is None
        new = sorted(set(after) - set(before))
    assert new == ["xl/comments1.xml", "xl/comments2.xml", "xl/comments3.xml", "xl/drawings/vmlDrawing1.vml",
                   "xl/drawings/vmlDrawing2.vml", "xl/drawings/vmlDrawing3.vml", "xl/worksheets/_rels/sheet1.xml.rels",
                   "xl/worksheets/_rels/sheet2.xml.rels", "xl/worksheets/_rels/sheet3.xml.rels",
                   "xl/worksheets/sheet4.xml"]


def test_defined_names_stay_on_their_sheet(tmp_path):
    source, result, batch = _invoice(tmp_path, "openpyxl")
    book = openpyxl.load_workbook(source)
    book["Läsnäolo"].print_title_rows = "1:1"
    book.save(source)
    fast, slow = _both(tmp_path, source, result, batch)
    for path in (fast, slow):
        assert openpyxl.load_workbook(path)["Läsnäolo"].print_title_rows == "$1:$1", path


def test_existing_comments_get_ours_added_the_same_on_both_paths(tmp_path):
    source, result, batch = _invoice(tmp_path, "openpyxl")
    book = openpyxl.load_workbook(source)
    book["Läsnäolo"]["E2"].comment = Comment("Oma huomio", "Tuottaja")
    book["Läsnäolo"]["A1"].comment = Comment("Toinen huomio", "Tuottaja")
    book.save(source)
    fast, slow = _both(tmp_path, source, result, batch)  # the fast path no longer refuses a sheet with comments
    names, cells = _snapshot(fast)
    assert (names, cells) == _snapshot(slow)
    assert cells[("Läsnäolo", "E2")][3] == ("Oma huomio\n\n" + comment_of(result, "E2"), "Tuottaja")
    assert cells[("Läsnäolo", "A1")][3] == ("Toinen huomio", "Tuottaja")
    assert cells[("Läsnäolo", "V3")][3][1] == "reconcile"


def comment_of(result, ref):
    return annotate.comment_text([f for f in result.findings if f.location.cell == ref], result.lang,
                                 result.provider_id)


def test_formula_reaching_the_web_keeps_its_cached_value_on_both_paths(tmp_path):
    source, result, batch = _invoice(tmp_path, "xlsxwriter", links=True)
    fast, slow = _both(tmp_path, source, result, batch)
    assert _snapshot(fast) == _snapshot(slow)
    notes = openpyxl.load_workbook(fast)["Asiakkaat"]["L3"]
    assert (notes.value, notes.data_type) == ("katso", "s")
    with zipfile.ZipFile(fast) as z:
        assert not any(b"example.com" in z.read(name) for name in z.namelist())


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_opens_the_fast_copy(tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    source, result, batch = _invoice(tmp_path, "xlsxwriter")
    fast, _ = _both(tmp_path, source, result, batch)
    done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                           "--outdir", str(tmp_path / "csv"), str(fast)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "csv" / "fast.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Y-tunnus,1234561-2,,,"  # the review sheet is the first sheet
    assert lines[13].split(",")[0] == "Yhteensä" and lines[13].split(",")[1] in ("263.6", "263.60")


class _Tty:
    def __init__(self, tty):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progress_bar_only_on_a_terminal_and_not_when_quiet():
    from reconcile import progress

    shown, piped, quiet = _Tty(True), _Tty(False), _Tty(True)
    for stream, kwargs in ((shown, {}), (piped, {}), (quiet, {"quiet": True})):
        bar = progress.TerminalBar(stream, delay=0, **kwargs)
        with progress.listening(bar):
            progress.step("write", 3, 4)
        progress.step("write", 4, 4)  # nobody listens any more
        bar.close()
    assert "outputs written" in shown.text and "3/4" in shown.text and "4/4" not in shown.text
    assert piped.text == quiet.text == ""


def test_review_sheet_prints_on_one_a4_landscape_page_width_on_both_paths(tmp_path):
    source, result, batch = _invoice(tmp_path, "openpyxl")
    for path in _both(tmp_path, source, result, batch):
        ws = openpyxl.load_workbook(path).worksheets[0]
        setup = ws.page_setup
        assert (ws.title, setup.orientation, setup.paperSize, setup.fitToWidth or 1, setup.fitToHeight) == (
            "Tarkastus", "landscape", 9, 1, 0), path.name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, path.name
