"""An annotated copy is a valid workbook for Excel, whatever the provider's sheet holds (issue 20).

The provider workbooks are the invoice of tests/test_annotate_fast.py
(written by openpyxl or xlsxwriter, findings planted on known cells), then
given what real workbooks carry: one bold empty cell at XFD1048576 on
`Asiakkaat` or `Läsnäolo`, a table whose last header sits in XFB, a header
row full of values up to XFD. Each copy is written both ways (part by part,
and through the openpyxl fallback), must pass the package check, open in
openpyxl and in LibreOffice, and have its added columns where a person
counting the columns by hand expects them.
"""

import dataclasses
import re
import shutil
import subprocess
import zipfile

import openpyxl
import hostile
import pytest
from openpyxl.styles import Font

from reconcile.write import annotate, xlsxpatch
from reconcile.write.xlsxutil import package_problems
from test_annotate_fast import WHEN, _invoice

# The clients table of `_invoice` has 11 columns, A..K: the added columns go in L and M.
LAST = 16384  # XFD


def _edit(path, sheet, change):
    book = openpyxl.load_workbook(path)
    change(book[sheet])
    book.save(path)
    return path


def _far_format(ws):
    ws["XFD1048576"].font = Font(bold=True)  # a stray format, no value


def _both(tmp_path, source, result, batch, tag):
    plan = annotate.build_plan(result, batch)
    fast, slow = tmp_path / f"{tag}-fast.xlsx", tmp_path / f"{tag}-slow.xlsx"
    xlsxpatch.patch(source, fast, plan, WHEN)
    annotate.write_with_openpyxl(source, plan, slow, WHEN)
    return fast, slow


def _stored_xml(path, sheet_xml):
    with zipfile.ZipFile(path) as z:
        return z.read(sheet_xml).decode()


def libreoffice_opens(tmp_path, paths):
    """Each file converted to CSV by LibreOffice in one run; the first line of each (its first sheet)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp_path / "lo-csv"
    done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to",
                           "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(out), *map(str, paths)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return {p.name: (out / (p.stem + ".csv")).read_text(encoding="utf-8").splitlines()[0] for p in paths}


def test_package_check_finds_what_excel_refuses(tmp_path):
    source, result, batch = _invoice(tmp_path, "openpyxl")
    assert package_problems(source) == []
    with zipfile.ZipFile(source) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    sheet = "xl/worksheets/sheet2.xml"

    def broken(name, **change):
        out = tmp_path / name
        with zipfile.ZipFile(out, "w") as z:
            for part, data in {**parts, **change}.items():
                if data is not None:
                    z.writestr(part, data)
        return package_problems(out)

    far = parts[sheet].replace(b"</sheetData>", b'<row r="5"><c r="XFE5" t="n"><v>1</v></c></row></sheetData>')
    assert any("beyond XFD" in p for p in broken("far.xlsx", **{sheet: far}))
    deep = parts[sheet].replace(b"</sheetData>", b'<row r="1048577"><c r="A1048577"><v>1</v></c></row></sheetData>')
    assert any("beyond 1048576" in p for p in broken("deep.xlsx", **{sheet: deep}))
    assert any("missing part xl/worksheets/sheet2.xml" in p for p in broken("gone.xlsx", **{sheet: None}))
    assert broken("extra.xlsx", **{"xl/media/logo.png": b"png"}) == ["no content type for xl/media/logo.png"]
    assert any("not well-formed" in p for p in broken("bad.xlsx", **{sheet: parts[sheet][:-20]}))


@pytest.mark.parametrize("engine", ["openpyxl", "xlsxwriter"])
def test_far_styled_cell_on_asiakkaat_does_not_move_the_added_columns(tmp_path, engine):
    source, result, batch = _invoice(tmp_path, engine)
    _edit(source, "Asiakkaat", _far_format)
    fast, slow = _both(tmp_path, source, result, batch, "far")
    for path in (fast, slow):
        assert package_problems(path) == [], path.name
        ws = openpyxl.load_workbook(path)["Asiakkaat"]
        assert [ws["L1"].value, ws["M1"].value] == ["Hyväksytty €", "Tila"], path.name
        assert [ws["L2"].value, ws["M3"].value] == [63.6, "hylätty"], path.name
        assert ws["XFD1048576"].font.b and ws["XFD1048576"].value is None, path.name
    assert 'r="XFE' not in _stored_xml(fast, "xl/worksheets/sheet2.xml")


def test_far_styled_cell_on_lasnaolo_stays_valid(tmp_path):
    source, result, batch = _invoice(tmp_path, "openpyxl")
    _edit(source, "Läsnäolo", _far_format)
    fast, slow = _both(tmp_path, source, result, batch, "far")
    for path in (fast, slow):
        assert package_problems(path) == [], path.name
        book = openpyxl.load_workbook(path)
        assert book["Läsnäolo"]["E2"].fill.start_color.rgb[-6:] == "FFC7CE"
        assert book["Asiakkaat"]["L1"].value == "Hyväksytty €"


def test_last_header_in_xfb_puts_the_columns_in_xfc_and_xfd(tmp_path):
    source, result, batch = _invoice(tmp_path, "openpyxl")
    _edit(source, "Asiakkaat", lambda ws: ws.cell(1, LAST - 2, "Lisätieto"))  # XFB1
    fast, slow = _both(tmp_path, source, result, batch, "xfb")
    for path in (fast, slow):
        assert package_problems(path) == [], path.name
        ws = openpyxl.load_workbook(path)["Asiakkaat"]
        assert [ws["XFB1"].value, ws["XFC1"].value, ws["XFD1"].value] == ["Lisätieto", "Hyväksytty €", "Tila"]
        assert [ws["XFC2"].value, ws["XFD3"].value] == [63.6, "hylätty"]
        assert ws["L1"].value is None


def test_sheet_full_to_xfd_gets_the_columns_on_the_review_sheet(tmp_path):
    source, result, batch = _invoice(tmp_path, "openpyxl")
    _edit(source, "Asiakkaat", lambda ws: ws.cell(1, LAST, "viimeinen"))  # a value in XFD1, on the header row
    fast, slow = _both(tmp_path, source, result, batch, "full")
    for path in (fast, slow):
        assert package_problems(path) == [], path.name
        book = openpyxl.load_workbook(path)
        assert book["Asiakkaat"]["XFD1"].value == "viimeinen"
        assert book["Asiakkaat"].max_column == LAST  # nothing was added beside the table
        review = book["Tarkastus"]
        rows = [[c.value for c in row] for row in review.iter_rows(min_row=16)]
        # The review's sums end on row 14; a blank row, the note, then the table by spreadsheet row.
        assert rows[0][0].startswith("Sarakkeet Hyväksytty € ja Tila eivät mahtuneet välilehdelle Asiakkaat")
        assert rows[1] == ["Rivi", "Päätös", "Hyväksytty €", "Tila", None]
        assert rows[2][:4] == [2, "D-1", 63.6, "korjattu"] and rows[3][:4] == [3, "D-2", 0, "hylätty"]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_every_far_copy_opens_in_libreoffice(tmp_path):
    made = []
    for tag, sheet, change in (("asiakkaat", "Asiakkaat", _far_format), ("lasnaolo", "Läsnäolo", _far_format),
                               ("xfb", "Asiakkaat", lambda ws: ws.cell(1, LAST - 2, "Lisätieto")),
                               ("full", "Asiakkaat", lambda ws: ws.cell(1, LAST, "viimeinen"))):
        folder = tmp_path / tag
        folder.mkdir()
        source, result, batch = _invoice(folder, "openpyxl")
        _edit(source, sheet, change)
        made += _both(tmp_path, source, result, batch, tag)
    first_lines = libreoffice_opens(tmp_path, made)
    assert first_lines == {p.name: "Y-tunnus,1234561-2,,," for p in made}


def test_a_copy_failing_the_check_becomes_a_note(tmp_path, monkeypatch):
    source, result, batch = _invoice(tmp_path, "openpyxl", lang="sv")
    monkeypatch.setattr(annotate, "package_problems", lambda path: ["xl/worksheets/sheet2.xml references XFE1"])
    out = annotate.write_annotated(result, batch, tmp_path / "out" / "annotated.xlsx")
    assert out.name == "annotated.txt" and sorted(p.name for p in out.parent.iterdir()) == ["annotated.txt"]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("Av er arbetsbok in.xlsx kunde ingen markerad kopia (annotated.xlsx) göras: kopian "
                           "skulle inte ha varit en giltig Excel-arbetsbok.")
    assert "anomalies.xlsx" in text and "XFE1" not in text


def test_the_fallback_keeps_every_number_exactly(tmp_path):
    source, result, batch = _invoice(tmp_path, "openpyxl")
    typed = {"N2": 135.99999999999994, "N3": 0.30000000000000004, "N4": 12345678901234567, "N5": 1e-05,
             "N6": 46000.123456789}  # N6 a date and time (formatted below)
    _edit(source, "Asiakkaat", lambda ws: [ws.__setitem__(ref, value) for ref, value in typed.items()])
    _edit(source, "Asiakkaat", lambda ws: setattr(ws["N6"], "number_format", "d.m.yyyy h:mm:ss"))
    with zipfile.ZipFile(source) as z:  # openpyxl itself wrote 16 digits into the source: put the exact text back
        xml = z.read("xl/worksheets/sheet2.xml").decode()
    exact = {"N2": "135.99999999999994", "N3": "0.30000000000000004", "N4": "12345678901234567", "N5": "1e-05",
             "N6": "46000.123456789"}
    for ref, text in exact.items():
        xml = re.sub(rf'(<c r="{ref}"[^>]*><v>)[^<]*(</v>)', rf"\g<1>{text}\g<2>", xml)
    hostile.rewrite(source, tmp_path / "typed.xlsx", {"xl/worksheets/sheet2.xml": xml.encode()})
    plan = annotate.build_plan(result, batch)
    annotate.write_with_openpyxl(tmp_path / "typed.xlsx", plan, tmp_path / "slow.xlsx", WHEN)
    stored = _stored_xml(tmp_path / "slow.xlsx", "xl/worksheets/sheet3.xml")  # openpyxl numbers the review sheet 1
    for ref, text in exact.items():
        assert re.search(rf'<c r="{ref}"[^>]*><v>{re.escape(text)}</v>', stored), ref
    ws = openpyxl.load_workbook(tmp_path / "slow.xlsx")["Asiakkaat"]
    assert [ws[ref].value for ref in list(typed)[:4]] == list(typed.values())[:4]
    assert ws["N6"].number_format == "d.m.yyyy h:mm:ss" and ws["N6"].is_date  # still a date to whoever opens it


def test_when_the_fallback_is_needed_the_review_sheet_says_what_was_not_kept(tmp_path):
    import corpus

    source, result, batch = _invoice(tmp_path, "openpyxl")
    corpus.add_form_button(corpus.add_header_picture(source))
    linked = hostile._external_link(tmp_path, source)  # a link to another workbook: only the fallback removes it
    result.invoice.submission = dataclasses.replace(result.invoice.submission, path=linked)
    with pytest.raises(xlsxpatch.Unsupported):
        xlsxpatch.patch(linked, tmp_path / "probe.xlsx", annotate.build_plan(result, batch), WHEN)
    out = annotate.write_annotated(result, batch, tmp_path / "out" / "annotated.xlsx")
    assert out.name == "annotated.xlsx" and package_problems(out) == []
    review = openpyxl.load_workbook(out)["Tarkastus"]
    lines = [row[0] for row in review.iter_rows(values_only=True) if row[0]]
    assert lines[-1] == ("Tähän kopioon ei voitu säilyttää kaikkea työkirjanne sisältöä: kuvat, ylä- ja "
                         "alatunnisteiden kuvat, lomakeohjaimet (painikkeet). Alkuperäinen työkirjanne on ennallaan.")
    assert review[f"A{review.max_row}"].font.b


def test_an_annotation_that_takes_too_long_becomes_a_note(tmp_path, monkeypatch):
    import time

    source, result, batch = _invoice(tmp_path, "openpyxl", lang="en")
    monkeypatch.setattr(annotate, "ANNOTATE_SECONDS", 0.2)
    monkeypatch.setattr(annotate, "patch", lambda *args: time.sleep(30))  # stands for a walk that never ends
    out = annotate.write_annotated(result, batch, tmp_path / "out" / "annotated.xlsx")
    assert sorted(p.name for p in out.parent.iterdir()) == ["annotated.txt"]
    assert out.read_text(encoding="utf-8").startswith(
        "No marked copy (annotated.xlsx) could be made of your workbook in.xlsx: the workbook's structure could not "
        "be processed.")
