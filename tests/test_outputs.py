"""The workbooks for people: annotated copies, anomaly reports, finance approval, safety and privacy.

A BatchResult is built by hand around real provider workbooks written in
tmp_path, with findings planted on known cells.
"""

import datetime as dt
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from reconcile import config
from reconcile.text import rules
from reconcile.findings import Finding, Location
from reconcile.model import BatchResult, Invoice, InvoiceHeader, InvoiceResult, Money, Registers, Submission
from reconcile.write.workbooks import write_workbooks
import wb
from helpers import annotated_folders, read_csv

ROOT = Path(__file__).resolve().parents[1]
A, B = wb.YTUNNUS[0], wb.YTUNNUS[1]
EVIL_NAME = '=HYPERLINK("http://x")'
EVIL_NOTE = "@SUM(A1)"


def _rows(specs):
    """Result rows: (row, decision, {item: (claimed, approved, held)}, status, paid, held)."""
    out = []
    for row, decision, items, status, paid, held in specs:
        r = {"row": row, "decision_id": decision, "status": status, "days_paid": paid, "days_held": held}
        for i in ("fee", "meals", "meal_comp", "travel"):
            c, a, h = items.get(i, (0, 0, 0))
            r.update({f"{i}_claimed": c, f"{i}_approved": a, f"{i}_held": h, f"{i}_rejected": c - a - h})
        out.append(r)
    return pl.DataFrame(out)


def _result(path, provider, invoice_no, lang, clients, rows, findings, day_outcomes=None, items=None, status="partly_approved"):
    sub = Submission(path=path, source_file=path.name, sha256="0" * 64, size=path.stat().st_size)
    inv = Invoice(sub, header=InvoiceHeader(provider_id=provider, invoice_no=invoice_no, billing_month=dt.date(2026, 11, 1)),
                  clients=pl.DataFrame(clients), sheet_names={"invoice": "Lasku", "clients": "Asiakkaat", "attendance": "Läsnäolo"},
                  header_rows={"clients": 1, "attendance": 1})
    return InvoiceResult(inv, provider, invoice_no, dt.date(2026, 11, 1), lang=lang, status=status, items=items,
                         rows=_rows(rows), day_outcomes=day_outcomes, findings=findings)


@pytest.fixture
def batch(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    # Provider A (Finnish): the sample invoice, with hostile text in a name and a note.
    header, clients, attendance = wb.sample_invoice(provider_id=A)
    clients[0]["name"] = EVIL_NAME
    clients[1]["notes"] = EVIL_NOTE
    path_a = wb.write_invoice(src / "a.xlsx", header, clients, attendance, engine="xlsxwriter")
    cell = lambda rows, key, i: wb.cell(rows, key, i)  # noqa: E731
    loc = lambda sheet, ref: Location("a.xlsx", sheet, ref)  # noqa: E731
    f_a = [
        Finding("R208", loc("Asiakkaat", cell(clients, "days_claimed", 0)), decision_id="D-1", expected="1", found="2",
                amount_cents=-5000, provider_id=A, invoice_no="2026-001", row=2),
        Finding("V105", loc("Läsnäolo", cell(attendance, 3, 0)), decision_id="D-1", date=dt.date(2026, 11, 3),
                found="6?", amount_cents=-5000, provider_id=A, row=2),
        Finding("R207", loc("Läsnäolo", cell(attendance, 3, 0)), decision_id="D-1", date=dt.date(2026, 11, 3)),
        Finding("R216", loc("Läsnäolo", cell(attendance, 4, 1)), decision_id="D-2", date=dt.date(2026, 11, 4),
                found=f"{B} / D-9", amount_cents=-5000, row=3),
        Finding("R214", loc("Asiakkaat", cell(clients, "guidance_individual_h100", 1)), decision_id="D-2",
                expected="2", found="1"),
        Finding("R220", loc("Lasku", wb.label_cell(header, "total_cents")), expected="263,60", found="250,00"),
    ]
    client_frame = [{"row": 2, "decision_id": "D-1", "hetu": wb.HETU[0], "name": EVIL_NAME, "days_claimed": 2,
                     "guidance_individual_h100": 250, "guidance_group_h100": None},
                    {"row": 3, "decision_id": "D-2", "hetu": wb.HETU[1], "name": "Asiakas Kaksi", "days_claimed": 3,
                     "guidance_individual_h100": 200, "guidance_group_h100": None}]
    items_a = {"fee": Money(25000, 15000, 5000, 5000), "meals": Money(1360, 1360, 0, 0), "meal_comp": Money(),
               "travel": Money()}
    days_a = pl.DataFrame({"decision_id": ["D-1", "D-2", "D-2"], "hetu": [wb.HETU[0], wb.HETU[1], wb.HETU[1]],
                           "date": [dt.date(2026, 11, 3), dt.date(2026, 11, 4), dt.date(2026, 11, 5)],
                           "cell": ["E2", "F3", "G3"], "outcome": ["rejected", "held", "paid"],
                           "rule": ["V105", "R216", None]})
    res_a = _result(path_a, A, "2026-001", "fi", client_frame,
                    [(2, "D-1", {"fee": (10000, 5000, 0), "meals": (1360, 1360, 0)}, "adjusted", 1, 0),
                     (3, "D-2", {"fee": (15000, 10000, 5000)}, "adjusted", 2, 1)], f_a, days_a, items_a)

    # Provider B (Swedish): one client, the other side of the double billing.
    hb, cb, ab = wb.sample_invoice(provider_id=B, invoice_no="B-7")
    cb, ab = cb[:1], ab[:1]
    cb[0].update(decision_id="D-9", hetu=wb.HETU[2], name="Klient Nio")
    ab[0].update(decision_id="D-9", hetu=wb.HETU[2])
    path_b = wb.write_invoice(src / "b.xlsx", hb, cb, ab, engine="xlsxwriter")
    f_b = [Finding("R216", Location("b.xlsx", "Läsnäolo", wb.cell(ab, 2, 0)), decision_id="D-9",
                   date=dt.date(2026, 11, 2), found=f"{A} / D-2 / {wb.HETU[1]}", amount_cents=-5000)]
    items_b = {"fee": Money(10000, 5000, 5000, 0), "meals": Money(1360, 1360, 0, 0), "meal_comp": Money(), "travel": Money()}
    res_b = _result(path_b, B, "B-7", "sv",
                    [{"row": 2, "decision_id": "D-9", "hetu": wb.HETU[2], "name": "Klient Nio", "days_claimed": 2,
                      "guidance_individual_h100": 250, "guidance_group_h100": None}],
                    [(2, "D-9", {"fee": (10000, 5000, 5000), "meals": (1360, 1360, 0)}, "held", 1, 1)], f_b,
                    items=items_b)

    # A file that could not be read, and one rejected as a whole whose header could be read.
    broken = src / "broken file.xlsx"
    broken.write_bytes(b"not a zip")
    res_broken = InvoiceResult(Invoice(Submission(broken, broken.name, "1" * 64, 9), fatal=True,
                                       findings=[Finding("F001", Location(broken.name), found="not a zip file")]),
                               None, None, None, status="rejected",
                               findings=[Finding("F001", Location(broken.name), found="not a zip file")])
    f006 = Finding("F006", Location("c.xlsx", "Lasku", "B2"), found="1234562-0")
    res_f006 = InvoiceResult(Invoice(Submission(path_a, "c.xlsx", "2" * 64, 1), fatal=True, findings=[f006]),
                             wb.YTUNNUS[2], "../../x", dt.date(2026, 11, 1), status="rejected", findings=[f006],
                             items={"fee": Money(20000, 0, 0, 20000), "meals": Money(), "meal_comp": Money(), "travel": Money()})

    decisions = pl.DataFrame({
        "decision_id": ["D-1", "D-2", "D-9"], "hetu": [wb.HETU[0], wb.HETU[1], wb.HETU[2]],
        "name": ["Asiakas Yksi", "Asiakas Kaksi", "Klient Nio"], "provider_id": [A, A, B],
        "start": [dt.date(2026, 9, 1)] * 3, "end": [dt.date(2027, 2, 28)] * 3, "terminated": [None, None, None],
        "days_per_week": [4, 3, 2], "benefit": ["työttömyysetuus", "toimeentulotuki", "työttömyysetuus"],
        "next_step": [None, None, None]}, schema_overrides={"terminated": pl.Date, "next_step": pl.Utf8})
    providers = pl.DataFrame({"provider_id": [A, B, wb.YTUNNUS[2]], "name": ["Testi Oy", "Test Ab", "Kolmas Oy"]})
    result = BatchResult("2026-11", "run123", dt.datetime(2026, 12, 2, 8, 0), None, [res_a, res_b, res_broken, res_f006],
                         [], Registers(decisions, providers))
    return result


@pytest.fixture
def cfg():
    return config.load(ROOT / "config")


def _outputs(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.xlsx"))


def test_layout_of_the_outbox(batch, cfg, tmp_path):
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    assert [p.relative_to(out).as_posix() for p in _outputs(out)] == [
        "audit/compliance.xlsx",
        "finance/approval.xlsx",
        f"providers/{A}/2026-001/annotated.xlsx",
        f"providers/{A}/2026-001/anomalies.xlsx",
        f"providers/{wb.YTUNNUS[2]}/______x/anomalies.xlsx",
        f"providers/{B}/B-7/annotated.xlsx",
        f"providers/{B}/B-7/anomalies.xlsx",
        "rejected/broken_file_xlsx/anomalies.xlsx",
    ]


def test_annotated_fills_comments_columns_and_review(batch, cfg, tmp_path):
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    book = openpyxl.load_workbook(out / "providers" / A / "2026-001" / "annotated.xlsx")
    assert book.sheetnames == ["Tarkastus", "Lasku", "Asiakkaat", "Läsnäolo"]
    fills = {(ws.title, c.coordinate): c.fill.start_color.rgb[-6:]
             for ws in book.worksheets for row in ws.iter_rows() for c in row if c.fill.fill_type == "solid"}
    assert fills == {("Asiakkaat", "D2"): "FFEB9C", ("Läsnäolo", "E2"): "FFC7CE", ("Läsnäolo", "F3"): "F8CBAD",
                     ("Asiakkaat", "J3"): "BDD7EE", ("Lasku", "B6"): "BDD7EE"}
    both = book["Läsnäolo"]["E2"].comment.text
    assert both.startswith("V105 (virhe, hylätään): Päivän 3.11.2026 solussa E2 on merkintä ”6?”")
    assert "\n\nR207 (varoitus, ei vaikutusta): Päivä 3.11.2026 on sunnuntai tai arkipyhä." in both
    assert "Miten korjata: Käytä vain merkintöjä X" in both
    double = book["Läsnäolo"]["F3"].comment.text
    assert B not in double and "D-9" not in double and "toinen palveluntuottaja" in double
    clients = book["Asiakkaat"]
    last = clients.max_column
    assert [clients.cell(1, last - 1).value, clients.cell(1, last).value] == ["Hyväksytty €", "Tila"]
    assert [clients.cell(2, last - 1).value, clients.cell(3, last - 1).value] == [63.6, 100.0]
    assert [clients.cell(2, last).value, clients.cell(3, last).value] == ["korjattu", "korjattu"]
    review = book["Tarkastus"]
    table = {r[0]: r[1:5] for r in review.iter_rows(min_row=10, values_only=True) if r[0]}
    assert table["Palvelumaksu"] == (250.0, 150.0, 50.0, 50.0)
    assert table["Ateriat"] == (13.6, 13.6, 0.0, 0.0)
    assert table["Yhteensä"] == (263.6, 163.6, 50.0, 50.0)
    facts = {r[0]: r[1] for r in review.iter_rows(max_row=7, values_only=True)}
    assert (facts["Ajon tunniste"], facts["Erä (kuukausi)"], facts["Sääntöjen versio"]) == ("run123", "2026-11", "1")


def test_annotated_in_the_providers_language(batch, cfg, tmp_path):
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    book = openpyxl.load_workbook(out / "providers" / B / "B-7" / "annotated.xlsx")
    assert book.sheetnames[0] == "Granskning"
    clients = book["Asiakkaat"]
    assert [c.value for c in clients[1]][-2:] == ["Godkänt €", "Status"]
    assert book["Läsnäolo"]["D2"].comment.text.startswith("R216 (fel, innehålls): Samma klient")


def test_anomalies_plain_table_one_finding_a_row(batch, cfg, tmp_path):
    """CONTRACT v2 section 3: header row, then exactly one row per finding, nothing else; grouped by sorting
    on the decision, with bands and a rule above a decision's first row instead of heading rows."""
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    ws = openpyxl.load_workbook(out / "providers" / A / "2026-001" / "anomalies.xlsx").active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("Sääntö", "Vakavuus", "Välilehti", "Solu")
    assert [(r[0], r[3], r[4], r[5]) for r in rows[1:]] == [
        ("R220", "Lasku!B6", None, None),
        ("R208", "Asiakkaat!D2", "D-1", EVIL_NAME), ("R207", "Läsnäolo!E2", "D-1", EVIL_NAME),
        ("V105", "Läsnäolo!E2", "D-1", EVIL_NAME),
        ("R214", "Asiakkaat!J3", "D-2", "Asiakas Kaksi"), ("R216", "Läsnäolo!F3", "D-2", "Asiakas Kaksi")]
    assert len(rows) == 1 + len(batch.invoices[0].findings)
    r208 = next(r for r in rows if r[0] == "R208")
    assert (r208[4], r208[7], r208[8], r208[9]) == ("D-1", "1", "2", -50.0)
    r220 = rows[1]
    assert (r220[7], r220[8]) == ("263,60\u00a0€", "250,00\u00a0€")  # euros the Finnish way
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:L7"
    assert all(ws.row_dimensions[i].outline_level == 0 for i in range(1, 8))
    sev = {r[0]: ws.cell(i, 2).fill.start_color.rgb[-6:] for i, r in enumerate(rows[1:], 2)}
    assert sev == {"R220": "BDD7EE", "R208": "FFEB9C", "R207": "BDD7EE", "V105": "FFC7CE", "R214": "BDD7EE",
                   "R216": "F8CBAD"}
    # Bands: the file's own finding, then D-1 shaded, then D-2 not; a rule above each decision's first row.
    band = [ws.cell(i, 3).fill.start_color.rgb[-6:] if ws.cell(i, 3).fill.fill_type else None for i in range(2, 8)]
    assert band == [None, "F2F2F2", "F2F2F2", "F2F2F2", None, None]
    assert [bool(ws.cell(i, 3).border.top.style) for i in range(2, 8)] == [False, True, False, False, True, False]
    rejected = openpyxl.load_workbook(out / "rejected" / "broken_file_xlsx" / "anomalies.xlsx").active
    assert [(r[0], r[1]) for r in rejected.iter_rows(min_row=2, values_only=True)] == [("F001", "virhe")]


def test_anomalies_rows_are_tall_enough_for_their_wrapped_text(batch, cfg, tmp_path):
    from reconcile.write.xlsxutil import lines_needed

    # Worked by hand: 10 characters a line (width 12 less 2); "aaaa bbbb cccc" wraps after "bbbb".
    assert lines_needed("aaaa bbbb cccc", 12) == 2
    assert lines_needed("aaaa\nbbbb", 12) == 2
    assert lines_needed("x" * 25, 12) == 3
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    ws = openpyxl.load_workbook(out / "providers" / A / "2026-001" / "anomalies.xlsx").active
    widths = {c: ws.column_dimensions[c].width for c in "KL"}
    for i in range(2, 8):
        message, fix = ws[f"K{i}"].value, ws[f"L{i}"].value
        need = max(len(message) / (widths["K"] - 2), len(fix or "") / (widths["L"] - 2))
        assert ws.row_dimensions[i].height >= 15 * need, (i, message)
        assert ws[f"K{i}"].alignment.wrap_text


def test_a_workbook_without_findings_has_one_line_saying_so(batch, cfg, tmp_path):
    batch.invoices[1].findings = []
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    ws = openpyxl.load_workbook(out / "providers" / B / "B-7" / "anomalies.xlsx").active
    assert list(ws.iter_rows(min_row=2, values_only=True))[0][0] == "Inga anmärkningar."
    assert ws.max_row == 2


def test_finance_approval(batch, cfg, tmp_path):
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    book = openpyxl.load_workbook(out / "finance" / "approval.xlsx")
    assert book.sheetnames == ["Laskut", "Palveluntuottajat", "Pidätetyt päivät", "Aiemmin pidätetyt", "Maksut",
                               "Havainnot säännöittäin"]
    inv = list(book["Laskut"].iter_rows(min_row=2, values_only=True))
    assert inv[-1][0] == "Yhteensä"
    assert [(r[1], r[3], r[6:11]) for r in inv] == [
        (A, "2026-001", (263.6, 163.6, 50.0, 50.0, "osin hyväksytty")),
        (B, "B-7", (113.6, 63.6, 50.0, 0.0, "osin hyväksytty")),
        (None, None, (0, 0, 0, 0, "hylätty")),
        (wb.YTUNNUS[2], "../../x", (200.0, 0.0, 0.0, 200.0, "hylätty")),
        (None, None, (577.2, 227.2, 100.0, 250.0, None)),
    ]
    prov = {r[0]: r[3:7] for r in book["Palveluntuottajat"].iter_rows(min_row=2, values_only=True)}
    assert prov[A] == (263.6, 163.6, 50.0, 50.0) and prov["Yhteensä"] == (577.2, 227.2, 100.0, 250.0)
    held = list(book["Pidätetyt päivät"].iter_rows(min_row=2, values_only=True))
    assert [r[:2] + r[2:9] for r in held] == [(A, "Testi Oy", "2026-001", "D-2", "Asiakas Kaksi",
                                               dt.datetime(2026, 11, 4), "Läsnäolo!F3", "R216", rules.get("R216").heading("fi"))]
    assert held[0][9:] == (50.0, 0.0, 0.0, 0.0, 50.0, None, None, None, None, None)  # the row's 50.00 held, unanswered
    with zipfile.ZipFile(out / "finance" / "approval.xlsx") as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2


def test_no_formula_from_input_text_in_any_output(batch, cfg, tmp_path):
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    seen = set()
    for path in _outputs(out):
        for ws in openpyxl.load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", (path, ws.title, c.coordinate, c.value)
                    if c.value in (EVIL_NAME, EVIL_NOTE):
                        seen.add((path.name, c.value))
    assert ("annotated.xlsx", EVIL_NAME) in seen and ("annotated.xlsx", EVIL_NOTE) in seen
    assert ("anomalies.xlsx", EVIL_NAME) in seen  # the client's name column, as text


def _texts(path: Path) -> str:
    """Every string a workbook holds: cells, comments, shared strings, document parts."""
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_provider_isolation_and_no_full_henkilotunnus_in_reports(batch, cfg, tmp_path):
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    own = {A: {wb.HETU[0], wb.HETU[1], "D-1", "D-2"}, B: {wb.HETU[2], "D-9"}}
    for provider, mine in own.items():
        others = set().union(*(v for k, v in own.items() if k != provider)) | ({A, B} - {provider})
        paths = sorted((out / "providers" / provider).rglob("*.xlsx"))
        assert paths, provider  # the search below must have something to search
        seen = ""
        for path in paths:
            text = _texts(path)
            seen += text
            for secret in others:
                assert secret not in text, (path, secret)
            if path.name == "anomalies.xlsx":
                assert not any(h in text for h in wb.HETU), path
        assert any(own_value in seen for own_value in mine), provider  # its own clients are there


def test_byte_identical_on_rewrite(batch, cfg, tmp_path):
    write_workbooks(batch, tmp_path / "one", cfg)
    write_workbooks(batch, tmp_path / "two", cfg)
    one, two = _outputs(tmp_path / "one"), _outputs(tmp_path / "two")
    assert [p.relative_to(tmp_path / "one") for p in one] == [p.relative_to(tmp_path / "two") for p in two]
    for a, b in zip(one, two):
        assert a.read_bytes() == b.read_bytes(), a


def test_every_file_of_a_known_provider_goes_to_its_folder(batch, cfg, tmp_path):
    """CONTRACT v2 section 3: a duplicate (F007) or a header without invoice number (F005) of a provider
    whose Y-tunnus was read goes under providers/<Y-tunnus>/rejected/<source file>/, never to rejected/;
    two duplicates of one invoice, and an invoice numbered `rejected`, share no file."""
    import dataclasses

    a, b, broken, _ = batch.invoices
    dup1 = dataclasses.replace(a, invoice=dataclasses.replace(a.invoice, submission=dataclasses.replace(
        a.invoice.submission, source_file="dup 1.xlsx")), status="duplicate",
        findings=[Finding("F007", Location("dup 1.xlsx", "Lasku", "B3"), found="2026-001")])
    dup2 = dataclasses.replace(dup1, invoice=dataclasses.replace(a.invoice, submission=dataclasses.replace(
        a.invoice.submission, source_file="dup_1.xlsx")))
    no_number = dataclasses.replace(dup1, invoice_no=None, status="rejected", invoice=dataclasses.replace(
        a.invoice, submission=dataclasses.replace(a.invoice.submission, source_file="x.xlsx")),
        findings=[Finding("F005", Location("x.xlsx", "Lasku", "B3"))])
    named_rejected = dataclasses.replace(b, provider_id=A, invoice_no="rejected")
    batch.invoices[:] = [a, dup1, dup2, no_number, named_rejected, broken]
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    assert [p.relative_to(out).as_posix() for p in _outputs(out) if p.parts[len(out.parts)] in ("providers", "rejected")] == [
        f"providers/{A}/2026-001/annotated.xlsx",
        f"providers/{A}/2026-001/anomalies.xlsx",
        f"providers/{A}/rejected/annotated.xlsx",  # the invoice numbered "rejected"
        f"providers/{A}/rejected/anomalies.xlsx",
        f"providers/{A}/rejected/dup_1_xlsx/anomalies.xlsx",
        f"providers/{A}/rejected/dup_1_xlsx__2/anomalies.xlsx",  # "dup_1.xlsx" after "dup 1.xlsx"
        f"providers/{A}/rejected/x_xlsx/anomalies.xlsx",
        "rejected/broken_file_xlsx/anomalies.xlsx",
    ]


def test_same_folder_twice_gets_a_suffix(batch, cfg, tmp_path):
    batch.invoices[1].provider_id = A
    batch.invoices[1].invoice_no = "2026-001"  # the same provider and number as the first invoice
    write_workbooks(batch, tmp_path / "out", cfg)
    assert (tmp_path / "out" / "providers" / A / "2026-001__2" / "anomalies.xlsx").is_file()


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_opens_every_output(batch, cfg, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp_path / "out"
    write_workbooks(batch, out, cfg)
    for i, path in enumerate(_outputs(out)):
        target = tmp_path / f"pdf{i}"
        done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
                               "--convert-to", "pdf", "--outdir", str(target), str(path)],
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, (path, done.stderr)
        assert "Error" not in done.stderr and "error" not in done.stdout.lower(), (path, done.stdout, done.stderr)
        pdf = target / (path.stem + ".pdf")
        assert pdf.is_file() and pdf.stat().st_size > 1000, path


@pytest.mark.slow
def test_end_to_end_with_the_demo_inbox(tmp_path, cfg):
    from reconcile import batch as batch_mod, demo

    demo.write_inbox(tmp_path / "inbox", config_dir=ROOT / "config", providers=4, clients=60, batches="2026-11",
                     seed=1, anomaly_rate=0.2)
    batch_mod.run_batch(tmp_path / "inbox", tmp_path / "outbox", cfg, "2026-11", str(tmp_path / "l.sqlite"))
    out = tmp_path / "outbox" / "2026-11"
    assert (out / "finance" / "approval.xlsx").is_file() and (out / "audit" / "compliance.xlsx").is_file()
    # Every file of the batch folder gets one anomalies.xlsx; annotated workbooks go where the CSVs say.
    inputs = [p for p in (tmp_path / "inbox" / "2026-11").iterdir() if p.is_file()]
    anomalies = sorted(out.rglob("anomalies.xlsx"))
    assert len(anomalies) == len(inputs)
    annotated = {p.parent.relative_to(out).as_posix() for p in out.rglob("annotated.xlsx")}
    assert annotated == annotated_folders(out) and annotated
    # approval.xlsx's total row claims what approval.csv's rows claim, euro by euro.
    approval = openpyxl.load_workbook(out / "finance" / "approval.xlsx")["Laskut"]
    claimed = [r[6] for r in approval.iter_rows(min_row=2, values_only=True)]
    rows = read_csv(out / "finance" / "approval.csv")
    assert round(claimed[-1] * 100) == sum(int(Decimal(r["claimed_eur"]) * 100) for r in rows) > 0


def test_finance_workbook_names_rules_in_its_own_language(tmp_path):
    """approval.xlsx is Finnish by default: its findings-by-rule sheet uses the Finnish headings."""
    import shutil

    from reconcile import batch as batch_mod, config as config_mod
    from reconcile.text import rules

    out = tmp_path / "out"
    shutil.copytree(ROOT / "inbox", tmp_path / "inbox")
    batch_mod.run_batch(tmp_path / "inbox", out, config_mod.load(ROOT / "config"), batch="2026-10")
    wb = openpyxl.load_workbook(out / "2026-10" / "finance" / "approval.xlsx")
    by_rule = wb.worksheets[-1]
    pairs = [(r[0], r[1]) for r in by_rule.iter_rows(min_row=2, values_only=True) if r[0] in rules.CATALOGUE]
    assert pairs and all(title == rules.get(code).heading("fi") for code, title in pairs)


def test_reports_for_people_print_on_a4_landscape_one_page_wide(tmp_path):
    import shutil

    from reconcile import batch as batch_mod, config as config_mod

    out = tmp_path / "out"
    shutil.copytree(ROOT / "inbox", tmp_path / "inbox")
    batch_mod.run_batch(tmp_path / "inbox", out, config_mod.load(ROOT / "config"), batch="2026-10")
    folder = out / "2026-10"
    for path in [folder / "finance" / "approval.xlsx", folder / "audit" / "compliance.xlsx",
                 next(folder.glob("providers/*/*/anomalies.xlsx"))]:
        for ws in openpyxl.load_workbook(path).worksheets:
            setup = ws.page_setup
            # fitToWidth 1 is the file format's default, which openpyxl reads as None
            assert (setup.orientation, setup.paperSize, setup.fitToWidth or 1, setup.fitToHeight) == ("landscape", 9, 1, 0), (path.name, ws.title)
            # compliance.xlsx repeats its heading row and its column headings
            titles = "$1:$2" if path.name == "compliance.xlsx" else "$1:$1"
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == titles, (path.name, ws.title)


@pytest.mark.parametrize("raw, safe", [
    ("../../x", "______x"), ("Lasku 12/2026", "Lasku_12_2026"), ("Åbo-lasku_ä.xlsx", "Åbo-lasku_ä_xlsx"),
    ("", "_"), (None, "_"), ("a\x00b", "a_b"),
])
def test_path_parts_keep_only_letters_digits_dash_and_underscore(raw, safe):
    from reconcile.write.xlsxutil import safe_name

    assert safe_name(raw) == safe
