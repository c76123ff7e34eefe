"""Conformance of reading to CONTRACT.md section 2 and RULES.md sections 1-2, clause by clause.

Each test writes real workbooks the way other tools and other hands write
them (openpyxl: shared strings; xlsxwriter; xlsxwriter in constant-memory
mode: inline strings; LibreOffice: a round trip through `soffice`), reads
them with `reconcile.invoice.read_invoice` / `reconcile.registers`, and
asserts the exact (rule, cell) findings and the values read.
"""

import csv
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import Workbook

import wb
from reconcile import config
from reconcile.read import intake
from reconcile.text import messages
from reconcile.read.invoice import read_invoice
from reconcile.read.registers import read_registers

ROOT = Path(__file__).resolve().parents[1]
CFG = config.load(ROOT / "config")
NOV = dt.date(2026, 11, 1)
ENGINES = ["openpyxl", "xlsxwriter", "inline"]
# xlsxwriter writes an error value as a formula that gives it, with the error as its cached value.
ERROR_FORMULAS = {"#N/A": "=NA()", "#DIV/0!": "=1/0", "#REF!": "=#REF!", "#VALUE!": '="a"+1', "#NUM!": "=SQRT(-1)"}


# -- writing ------------------------------------------------------------------


def write(path: Path, sheets: dict[str, list[list]], engine: str = "openpyxl", states: dict[str, str] | None = None,
          formats: dict[tuple[str, int, int], str] | None = None) -> Path:
    """Raw grids to an .xlsx. `engine` "inline" is xlsxwriter's constant-memory mode (inline strings).

    `states` hides sheets ("hidden" / "veryHidden"); `formats` gives (sheet, row, col) -> number
    format (0-based row and column).
    """
    states, formats = states or {}, formats or {}
    if engine == "openpyxl":
        book = Workbook()
        book.remove(book.active)
        for name, grid in sheets.items():
            ws = book.create_sheet(name)
            for r, values in enumerate(grid):
                for c, v in enumerate(values):
                    if v is None:
                        continue
                    cell = ws.cell(row=r + 1, column=c + 1)
                    cell.value = v.text if isinstance(v, wb.Formula) else v
                    if (name, r, c) in formats:
                        cell.number_format = formats[name, r, c]
                    elif isinstance(v, (dt.date, dt.datetime)):
                        cell.number_format = "d.m.yyyy"
            ws.sheet_state = states.get(name, "visible")
        book.save(path)
        return path
    book = xlsxwriter.Workbook(str(path), {"constant_memory": engine == "inline"})
    made: dict[str, object] = {}

    def fmt(spec):
        if spec not in made:
            made[spec] = book.add_format({"num_format": spec})
        return made[spec]

    for name, grid in sheets.items():
        ws = book.add_worksheet(name)
        for r, values in enumerate(grid):
            for c, v in enumerate(values):
                f = fmt(formats[name, r, c]) if (name, r, c) in formats else None
                if v is None:
                    continue
                if isinstance(v, wb.Formula):
                    ws.write_formula(r, c, v.text, f, "" if v.cached is None else v.cached)
                elif isinstance(v, (dt.date, dt.datetime)):
                    ws.write_datetime(r, c, v, f or fmt("d.m.yyyy"))
                elif isinstance(v, str) and v in ERROR_FORMULAS:
                    ws.write_formula(r, c, ERROR_FORMULAS[v], f, v)
                elif isinstance(v, str):
                    ws.write_string(r, c, v, f)
                else:
                    ws.write(r, c, v, f)
        if states.get(name) == "hidden":
            ws.hide()
        elif states.get(name) == "veryHidden":
            ws.very_hidden()
    book.close()
    return path


def libreoffice(tmp_path: Path, *paths: Path) -> list[Path]:
    """The files as LibreOffice saves them (`soffice --convert-to xlsx`), in one run."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--convert-to", "xlsx", "--outdir", str(out), *map(str, paths)],
                   check=True, timeout=180, capture_output=True)
    return [out / p.name for p in paths]


def read(path: Path):
    return read_invoice(intake.submission(path), CFG)


def pairs(inv) -> list[tuple[str, str]]:
    return sorted((f.rule, f.location.ref) for f in inv.findings)


def lasku(**values) -> list[list]:
    header = {"Palveluntuottaja": "Testi Oy", "Y-tunnus": wb.YTUNNUS[0], "Laskun numero": "L-7",
              "Laskutuskausi": "2026-11", "Laskun päivämäärä": "30.11.2026", "Yhteensä €": "250,00"}
    header.update(values)
    return [[k, v] for k, v in header.items() if v is not ...]


CLIENT_HEADER = ["Päätösnumero", "Henkilötunnus", "Nimi", "Läsnäolopäivät", "Setelin arvo €/pv", "Palvelumaksu €",
                 "Ateriat", "Ateriakorvauspäivät", "Matkakorvaus €", "Yksilöohjaus h", "Kykyviisari pvm"]


def client(decision="D-1", hetu=wb.HETU[0], days=2, fee="100,00", **kw) -> list:
    values = {"Nimi": "Asiakas", "Setelin arvo €/pv": "50,00", "Ateriat": 0, "Ateriakorvauspäivät": 0,
              "Matkakorvaus €": "0,00", "Yksilöohjaus h": "2", "Kykyviisari pvm": None, **kw}
    return [decision, hetu, values["Nimi"], days, values["Setelin arvo €/pv"], fee, values["Ateriat"],
            values["Ateriakorvauspäivät"], values["Matkakorvaus €"], values["Yksilöohjaus h"], values["Kykyviisari pvm"]]


def calendar(rows: list[tuple[str, str, dict]], headers: list | None = None) -> list[list]:
    """Läsnäolo: key columns A-B, day columns C.. headed 1..30 (or `headers`)."""
    headers = headers or list(range(1, 31))
    grid = [["Päätösnumero", "Henkilötunnus", *headers]]
    for decision, hetu, days in rows:
        grid.append([decision, hetu, *[days.get(h) for h in headers]])
    return grid


def invoice(lasku_grid=None, clients=None, attendance=None, **extra) -> dict[str, list[list]]:
    """A clean two-client invoice for November 2026, each part replaceable."""
    out = {
        "Lasku": lasku() if lasku_grid is None else lasku_grid,
        "Asiakkaat": [CLIENT_HEADER, client(), client("D-2", wb.HETU[1], 3, "150,00")] if clients is None else clients,
        "Läsnäolo": calendar([("D-1", wb.HETU[0], {2: "X", 3: "6"}),
                              ("D-2", wb.HETU[1], {4: "x", 5: 4.5, 6: "X"})]) if attendance is None else attendance,
    }
    out.update(extra)
    return out


def fees(inv) -> dict[str, int | None]:
    return dict(zip(inv.clients["decision_id"], inv.clients["fee_cents"]))


def days(inv) -> list[tuple]:
    return inv.days.select("cell", "date", "code", "hours_h100").rows()


CLEAN_DAYS = [("D2", dt.date(2026, 11, 2), "X", None), ("E2", dt.date(2026, 11, 3), "H", 600),
              ("F3", dt.date(2026, 11, 4), "X", None), ("G3", dt.date(2026, 11, 5), "H", 450),
              ("H3", dt.date(2026, 11, 6), "X", None)]


def test_the_clean_invoice_reads_alike_from_every_writer(tmp_path):
    for engine in ENGINES:
        inv = read(write(tmp_path / f"{engine}.xlsx", invoice(), engine))
        assert pairs(inv) == [], engine
        assert fees(inv) == {"D-1": 10000, "D-2": 15000} and days(inv) == CLEAN_DAYS, engine
        assert (inv.header.provider_id, inv.header.invoice_no, inv.header.billing_month) == ("1234561-2", "L-7", NOV)


# -- sheets -------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_sheets_by_name_in_any_language_case_and_order(tmp_path, engine):
    parts = invoice()
    book = {"Attendance": parts["Läsnäolo"], "  KLIENTER ": parts["Asiakkaat"], "Muistiinpanot": [["x"]],
            "faktura": parts["Lasku"]}
    inv = read(write(tmp_path / "a.xlsx", book, engine))
    assert pairs(inv) == [] and fees(inv) == {"D-1": 10000, "D-2": 15000} and days(inv) == CLEAN_DAYS
    assert inv.sheet_names == {"invoice": "faktura", "clients": "  KLIENTER ", "attendance": "Attendance"}


@pytest.mark.parametrize("engine", ["openpyxl", "xlsxwriter"])
@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_hidden_sheets_do_not_count(tmp_path, engine, state):
    parts = invoice()
    # A hidden Asiakkaat beside a visible Clients: the visible one is read.
    old = [CLIENT_HEADER, client(fee="999,00")]
    book = {"Lasku": parts["Lasku"], "Asiakkaat": old, "Clients": parts["Asiakkaat"], "Läsnäolo": parts["Läsnäolo"]}
    inv = read(write(tmp_path / "a.xlsx", book, engine, states={"Asiakkaat": state}))
    assert pairs(inv) == [] and fees(inv) == {"D-1": 10000, "D-2": 15000}
    # A hidden Läsnäolo is a missing Läsnäolo, and is not among the sheets found.
    inv = read(write(tmp_path / "b.xlsx", parts, engine, states={"Läsnäolo": state}))
    assert pairs(inv) == [("F003", "")] and inv.fatal
    f = inv.findings[0]
    assert (f.expected, f.found) == ("Läsnäolo", "Lasku, Asiakkaat")


def test_f003_message_names_the_sheet_and_lists_the_sheets_found(tmp_path):
    parts = invoice()
    del parts["Asiakkaat"]
    parts["Asiakkaat 11-2026"] = [CLIENT_HEADER, client()]
    inv = read(write(tmp_path / "a.xlsx", parts))
    assert pairs(inv) == [("F003", "")]
    f = inv.findings[0]
    assert messages.message(f, "fi") == ("Työkirjasta puuttuu pakollinen välilehti Asiakkaat. "
                                         "Löytyneet välilehdet: Lasku, Läsnäolo, Asiakkaat 11-2026.")
    # The missing sheet is named in the reader's language (any of its three names is accepted);
    # the sheets found are named as the workbook names them.
    assert messages.message(f, "sv") == ("Arbetsboken saknar ett obligatoriskt blad: Klienter. "
                                         "Blad som hittades: Lasku, Läsnäolo, Asiakkaat 11-2026.")
    assert messages.message(f, "en") == ("The workbook lacks a required sheet: Clients. "
                                         "Sheets found: Lasku, Läsnäolo, Asiakkaat 11-2026.")


# -- headers --------------------------------------------------------------------


ODD_HEADERS = ["  PÄÄTÖSNUMERO ", "henkilötunnus\u00a0", "Namn", "Läsnäolo-\npäivät", "Setelin  arvo\n€/pv",
               "Palvelumaksu\r\n€", "MEALS", "Måltidsersättningsdagar", "Travel ", "Yksilö\u200bohjaus h",
               "Kykyviisari\tpvm"]


@pytest.mark.parametrize("engine", ENGINES)
def test_headers_match_trimmed_case_folded_white_space_collapsed(tmp_path, engine):
    headers = list(ODD_HEADERS)
    headers[3] = "Läsnäolopäivät\n"  # Alt+Enter at the end
    clients = [headers, client(), client("D-2", wb.HETU[1], 3, "150,00", Ateriat=2)]
    attendance = calendar([("D-1", wb.HETU[0], {2: "X", 3: "6"}), ("D-2", wb.HETU[1], {4: "x", 5: 4.5, 6: "X"})])
    attendance[0][:2] = ["Decision ID", " Personbeteckning"]
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients, attendance=attendance), engine))
    assert pairs(inv) == [] and days(inv) == CLEAN_DAYS
    c = inv.clients.select("decision_id", "name", "days_claimed", "day_value_cents", "fee_cents", "meals",
                           "travel_cents", "guidance_individual_h100").rows()
    assert c == [("D-1", "Asiakas", 2, 5000, 10000, 0, 0, 200), ("D-2", "Asiakas", 3, 5000, 15000, 2, 0, 200)]
    assert inv.columns["clients"]["fee_cents"] == "F" and inv.columns["attendance"]["hetu"] == "B"


def test_header_row_is_the_first_of_20_rows_holding_the_key_header(tmp_path):
    filler = [["Laskun liite"], [], ["Päätösnumerot alla"], *[[f"rivi {i}"] for i in range(4, 20)]]
    assert len(filler) == 19
    parts = invoice()
    clients = filler + parts["Asiakkaat"]  # header on row 20
    attendance = [["Läsnäolo marraskuu"]] + parts["Läsnäolo"]  # header on row 2
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients, attendance=attendance)))
    assert pairs(inv) == [] and inv.header_rows == {"clients": 20, "attendance": 2}
    assert inv.clients["row"].to_list() == [21, 22] and fees(inv) == {"D-1": 10000, "D-2": 15000}
    assert [c for c, *_ in days(inv)] == ["D3", "E3", "F4", "G4", "H4"]

    inv = read(write(tmp_path / "b.xlsx", invoice(clients=[["x"]] + clients)))  # header on row 21: not found
    assert pairs(inv) == [("F004", "")] and inv.fatal
    f = inv.findings[0]
    assert (f.location.sheet, f.expected, f.found) == ("Asiakkaat", "Päätösnumero", "Päätösnumerot alla")


def test_extra_columns_are_kept_and_ignored_in_any_order(tmp_path):
    header = ["Oma sarake", "Palvelumaksu €", "Henkilötunnus", "Lisätiedot", "Päätösnumero", "Läsnäolopäivät", "Huom"]
    clients = [header, ["a", "100,00", wb.HETU[0], "ok", "D-1", 2, 5], ["b", 150, wb.HETU[1], None, "D-2", 3, "?"]]
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients)))
    assert pairs(inv) == []
    assert inv.clients.select("row", "decision_id", "fee_cents", "days_claimed", "notes", "meals").rows() == [
        (2, "D-1", 10000, 2, "ok", None), (3, "D-2", 15000, 3, None, None)]
    assert inv.columns["clients"] == {"decision_id": "E", "hetu": "C", "days_claimed": "F", "fee_cents": "B",
                                      "notes": "D"}


def test_f004_names_the_column_and_the_closest_header(tmp_path):
    header = [h if h != "Palvelumaksu €" else "Palvelu maksu (€)" for h in CLIENT_HEADER]
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=[header, client()])))
    assert pairs(inv) == [("F004", "")] and inv.fatal
    f = inv.findings[0]
    assert (f.location.sheet, f.expected, f.found) == ("Asiakkaat", "Palvelumaksu €", "Palvelu maksu (€)")
    assert messages.message(f, "fi") == ("Välilehdeltä Asiakkaat puuttuu pakollinen sarake Palvelumaksu €; "
                                         "lähin löytynyt otsikko on ”Palvelu maksu (€)”.")
    # The missing column is named in the reader's language; the header found as the workbook has it.
    assert messages.message(f, "en") == ("The sheet Asiakkaat lacks a required column: Service fee; "
                                         "the closest header found is “Palvelu maksu (€)”.")
    assert fees(inv) == {"D-1": None}  # kept for what can be read

    no_days = [["Päätösnumero", "Henkilötunnus", "Päivä 1", "32"], ["D-1", wb.HETU[0], "X", "X"]]
    inv = read(write(tmp_path / "b.xlsx", invoice(attendance=no_days)))
    assert pairs(inv) == [("F004", "")] and inv.findings[0].location.sheet == "Läsnäolo"
    assert messages.message(inv.findings[0], "en").startswith("The sheet Läsnäolo lacks a required column: 1 … 31")


# -- rows -----------------------------------------------------------------------


@pytest.mark.parametrize("label", ["Yhteensä", "YHTEENSÄ ", "Totalt", "total", "Yhteensä:", None])
def test_blank_rows_and_a_trailing_totals_row(tmp_path, label):
    clients = [CLIENT_HEADER, [], client(), ["  ", None, "\u00a0"], client("D-2", wb.HETU[1], 3, "150,00"), [],
               [label, None, "Yhteensä" if label is None else None, 5, None, "250,00"]]
    attendance = calendar([("D-1", wb.HETU[0], {2: "X", 3: "6"}), ("D-2", wb.HETU[1], {4: "x", 5: 4.5, 6: "X"})])
    attendance.insert(2, [])
    attendance.append([label, None, *[1] * 10])
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients, attendance=attendance)))
    assert pairs(inv) == []
    assert inv.clients["row"].to_list() == [3, 5] and fees(inv) == {"D-1": 10000, "D-2": 15000}
    assert inv.attendance["row"].to_list() == [2, 4]
    assert [c for c, *_ in days(inv)] == ["D2", "E2", "F4", "G4", "H4"]


def test_a_row_without_decision_that_is_not_last_is_a_client_row(tmp_path):
    clients = [CLIENT_HEADER, client(), client(None, wb.HETU[1], 3, "150,00"), client("D-3", wb.HETU[2], 1, "50,00")]
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients)))
    assert pairs(inv) == [("V102", "Asiakkaat!A3")]
    assert inv.clients.select("row", "rejected").rows() == [(2, None), (3, "V102"), (4, None)]


# -- cell values ------------------------------------------------------------------

EURO_FORMATS = ['#,##0.00\\ "€"', '_-* #,##0.00\\ "€"_-;\\-* #,##0.00\\ "€"_-;_-* "-"??\\ "€"_-;_-@_-',
                '#,##0.00\\ [$€-40B]', "0%", "@", "0.00E+00"]


@pytest.mark.parametrize("engine", ENGINES)
def test_numbers_real_or_typed_as_text(tmp_path, engine):
    typed = [12.5, "12,5", "12.50", " 12,50 € ", "1\u2009234,50", "1\u202f234,50 €", "1\u00a0234,50", "1 234,50",
             "12,50 EUR", 1234.5, "\u2212" + "0,00"]
    expected = [1250, 1250, 1250, 1250, 123450, 123450, 123450, 123450, 1250, 123450, 0]
    clients = [CLIENT_HEADER] + [client(f"D-{i}", wb.HETU[i % 5], "3", fee, Ateriat="2", **{"Yksilöohjaus h": "1,5"})
                                 for i, fee in enumerate(typed)]
    formats = {("Asiakkaat", i + 1, 5): f for i, f in enumerate(EURO_FORMATS)}
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients), engine, formats=formats))
    assert pairs(inv) == []
    assert inv.clients["fee_cents"].to_list() == expected
    assert set(inv.clients["days_claimed"]) == {3} and set(inv.clients["meals"]) == {2}
    assert set(inv.clients["guidance_individual_h100"]) == {150}


@pytest.mark.parametrize("engine", ENGINES)
def test_dates_real_serial_or_typed_and_time_of_day_ignored(tmp_path, engine):
    typed = [dt.date(2026, 11, 3), dt.datetime(2026, 11, 3, 14, 30), 46329, 46329.6, "3.11.2026", " 03.11.2026 ",
             "2026-11-03", "2026-11-03 08:15", "3.11.2026 8:15", "2026-11-03T08:15:00"]
    clients = [CLIENT_HEADER] + [client(f"D-{i}", wb.HETU[i % 5], **{"Kykyviisari pvm": d}) for i, d in enumerate(typed)]
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients), engine))
    assert pairs(inv) == []
    assert inv.clients["kykyviisari_date"].to_list() == [dt.date(2026, 11, 3)] * len(typed)


@pytest.mark.parametrize("engine", ENGINES)
def test_text_trimmed_zero_width_and_non_breaking_spaces_removed(tmp_path, engine):
    clients = [CLIENT_HEADER, client("\u200bD-1\u00a0", " " + wb.HETU[0] + "\u00a0", Nimi=" Anna\u00a0Ek\u200b "),
               client(" D-2", "\ufeff" + wb.HETU[1].lower(), 3, "150,00")]
    attendance = calendar([("D-1\u200b", wb.HETU[0] + " ", {2: "X", 3: "6"}),
                           ("\u00a0D-2", wb.HETU[1], {4: "x", 5: 4.5, 6: "X"})])
    lasku_grid = lasku(**{"Y-tunnus": "\u00a01234561-2\u200b", "Laskun numero": " L-7 \u00a0"})
    inv = read(write(tmp_path / "a.xlsx", invoice(lasku_grid, clients, attendance), engine))
    assert pairs(inv) == []
    assert inv.clients.select("decision_id", "hetu", "name").rows() == [
        ("D-1", wb.HETU[0], "Anna Ek"), ("D-2", wb.HETU[1], "Asiakas")]
    assert inv.attendance.select("decision_id", "hetu").rows() == [("D-1", wb.HETU[0]), ("D-2", wb.HETU[1])]
    assert (inv.header.provider_id, inv.header.invoice_no) == ("1234561-2", "L-7")


def test_formula_cached_values_empty_without_one_and_error_values(tmp_path):
    clients = [CLIENT_HEADER,
               client(fee=wb.Formula("=D2*E2", 100), Ateriat=wb.Formula("=0", 0)),
               client("D-2", wb.HETU[1], 3, wb.Formula("=D3*E3")),  # no cached value: empty, V102 (money)
               client("D-3", wb.HETU[2], 1, "50,00", **{"Kykyviisari pvm": wb.Formula("=1/0", "#DIV/0!")}),
               client("D-4", wb.HETU[3], 1, "50,00", Ateriat=wb.Formula("=NA()", "#N/A")),
               client("D-5", wb.HETU[4], wb.Formula("=Q1", "#REF!"), "50,00")]
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients), "xlsxwriter"))
    assert pairs(inv) == [("V102", "Asiakkaat!F3"), ("V107", "Asiakkaat!D6"), ("V107", "Asiakkaat!G5"),
                          ("V107", "Asiakkaat!K4")]
    assert fees(inv) == {"D-1": 10000, "D-2": None, "D-3": 5000, "D-4": 5000, "D-5": 5000}
    assert inv.clients.select("row", "rejected").rows() == [(2, None), (3, "V102"), (4, None), (5, "V107"),
                                                            (6, "V107")]
    by = {f.location.ref: f for f in inv.findings}
    assert (by["Asiakkaat!K4"].severity, by["Asiakkaat!K4"].effect, by["Asiakkaat!K4"].found) == (
        "warning", "none", "#DIV/0!")
    assert by["Asiakkaat!G5"].effect == "reject" and by["Asiakkaat!D6"].found == "#REF!"
    assert inv.clients["kykyviisari_date"].to_list() == [None] * 5


@pytest.mark.parametrize("engine", ["xlsxwriter", "inline"])
def test_links_to_other_workbooks_give_their_cached_values(tmp_path, engine):
    clients = [CLIENT_HEADER, client(fee=wb.Formula("='[hinnat.xlsx]Taul1'!$B$2*2", 100)),
               client("D-2", wb.HETU[1], 3, wb.Formula("=[1]Taul1!B3", 150))]
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients), engine))
    assert pairs(inv) == [] and fees(inv) == {"D-1": 10000, "D-2": 15000}


# -- Lasku ----------------------------------------------------------------------

LABELS = {
    "fi": ["Palveluntuottaja", "Y-tunnus", "Laskun numero", "Laskutuskausi", "Laskun päivämäärä", "Yhteensä €"],
    "sv": ["Serviceproducent", "FO-nummer", "Fakturanummer", "Faktureringsperiod", "Fakturadatum", "Totalt €"],
    "en": ["Provider", "Business id", "Invoice number", "Billing month", "Invoice date", "Total"],
}


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@pytest.mark.parametrize("engine", ENGINES)
def test_lasku_labels_in_every_language(tmp_path, lang, engine):
    values = ["Testi Oy", "1234561-2", 1001, "11/2026", dt.date(2026, 11, 30), "1 250,00 €"]
    grid = [["LASKU"], []] + [[f" {label.upper()}  ", v] for label, v in zip(LABELS[lang], values)]
    inv = read(write(tmp_path / "a.xlsx", invoice(lasku_grid=grid), engine))
    h = inv.header
    assert pairs(inv) == []
    assert (h.provider_name, h.provider_id, h.invoice_no, h.billing_month, h.invoice_date, h.total_cents) == (
        "Testi Oy", "1234561-2", "1001", NOV, dt.date(2026, 11, 30), 125000)
    assert h.cells == {"provider_name": "B3", "provider_id": "B4", "invoice_no": "B5", "billing_month": "B6",
                       "invoice_date": "B7", "total_cents": "B8"}


def test_lasku_labels_with_a_colon(tmp_path):
    grid = [[f"{label}:", v] for label, v in zip(LABELS["fi"], ["Testi Oy", "1234561-2", "L-7", "2026-11", None, "250"])]
    inv = read(write(tmp_path / "a.xlsx", invoice(lasku_grid=grid)))
    assert pairs(inv) == [] and (inv.header.invoice_no, inv.header.total_cents) == ("L-7", 25000)


@pytest.mark.parametrize("typed", ["2026-11", "11/2026", "11.2026", " 11 / 2026 ", "2026-11-30", "1.11.2026",
                                   "30.11.2026", dt.date(2026, 11, 15), dt.datetime(2026, 11, 30, 23, 59), 46327,
                                   11.2026, "2026-11-30 12:00"])
@pytest.mark.parametrize("engine", ["openpyxl", "inline"])
def test_billing_month_forms(tmp_path, typed, engine):
    inv = read(write(tmp_path / "a.xlsx", invoice(lasku(Laskutuskausi=typed)), engine))
    assert pairs(inv) == [] and inv.header.billing_month == NOV and days(inv) == CLEAN_DAYS


@pytest.mark.parametrize("typed, month", [(11.2030, dt.date(2030, 11, 1)), (1.2020, dt.date(2020, 1, 1)),
                                          (10.2000, dt.date(2000, 10, 1)), ("01.2027", dt.date(2027, 1, 1))])
def test_billing_month_typed_as_a_number_keeps_its_year(tmp_path, typed, month):
    inv = read(write(tmp_path / "a.xlsx", invoice(lasku(Laskutuskausi=typed))))
    assert inv.header.billing_month == month and not [f for f in inv.findings if f.rule == "F005"]


@pytest.mark.parametrize("values, cell, found", [
    ({"Y-tunnus": "1234561-3"}, "Lasku!B2", "1234561-3"),
    ({"Y-tunnus": ...}, "", ""),
    ({"Y-tunnus": None}, "Lasku!B2", ""),
    ({"Laskun numero": "#REF!"}, "Lasku!B3", "#REF!"),
    ({"Laskun numero": "  "}, "Lasku!B3", "  "),
    ({"Laskutuskausi": "13/2026"}, "Lasku!B4", "13/2026"),
    ({"Laskutuskausi": "marraskuu"}, "Lasku!B4", "marraskuu"),
    ({"Laskutuskausi": "31.11.2026"}, "Lasku!B4", "31.11.2026"),
])
def test_f005_lacking_or_garbled_header_values(tmp_path, values, cell, found):
    inv = read(write(tmp_path / "a.xlsx", invoice(lasku(**values)), "xlsxwriter"))
    assert pairs(inv) == [("F005", cell)] and inv.fatal
    assert inv.findings[0].found == found
    assert fees(inv) == {"D-1": 10000, "D-2": 15000}  # the rows are still read (a rejected file claims them)


# -- Läsnäolo ---------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_day_headers_numbers_text_and_dates(tmp_path, engine):
    headers = [1, "2", " 3. ", 4.0, dt.date(2026, 11, 5), dt.datetime(2026, 11, 6, 0, 0), "7.11.2026", "2026-11-08",
               46335, 46336, "Huom", dt.date(2026, 12, 1), 31, "32", 45000]
    marks = {h: "X" for h in headers}
    grid = calendar([("D-1", wb.HETU[0], marks)], headers)
    clients = [CLIENT_HEADER, client(days=12, fee="600,00")]
    formats = {("Läsnäolo", 0, 10): "d.m.yyyy"}  # 46335 as a real date; 46336 a serial number in General format
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients, attendance=grid), engine, formats=formats))
    assert pairs(inv) == []  # "Huom", "32" and a serial number outside the month head extra columns, ignored
    got = inv.days.select("cell", "day", "date").rows()
    assert got[:10] == [(f"{c}2", d, dt.date(2026, 11, d)) for c, d in zip("CDEFGHIJKL", range(1, 11))]
    assert got[10:] == [("N2", 1, None), ("O2", 31, None)]  # a date outside the month; 31 in November (R222)


@pytest.mark.parametrize("engine", ENGINES)
def test_day_codes(tmp_path, engine):
    marks = {1: "X", 2: "x", 3: " X\u00a0", 4: 6, 5: "4,5", 6: "4.5", 7: 7.25, 8: "S", 9: "s ", 10: "P", 11: "l",
             12: "", 13: "XX", 14: "6h", 15: "?", 16: dt.date(2026, 5, 4), 17: True, 18: "#N/A", 19: 25, 20: "-1",
             21: "0", 22: "Ⅹ"}
    grid = calendar([("D-1", wb.HETU[0], marks)])
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=[CLIENT_HEADER, client(days=7)], attendance=grid), engine))
    letter = {d: chr(ord("B") + d) for d in marks}
    assert pairs(inv) == sorted([*((f"V105", f"Läsnäolo!{letter[d]}2") for d in (13, 14, 15, 16, 17, 18, 22)),
                                 ("V103", f"Läsnäolo!{letter[19]}2"), ("V103", f"Läsnäolo!{letter[20]}2")])
    got = {d: (code, hours) for d, code, hours in inv.days.select("day", "code", "hours_h100").rows()}
    assert got == {1: ("X", None), 2: ("X", None), 3: ("X", None), 4: ("H", 600), 5: ("H", 450), 6: ("H", 450),
                   7: ("H", 725), 21: ("H", 0), **{d: ("?", None) for d in (13, 14, 15, 16, 17, 18, 19, 20, 22)}}
    by = {f.location.cell: f for f in inv.findings}
    xx, date = by[f"{letter[13]}2"], by[f"{letter[16]}2"]
    assert (xx.found, xx.date, xx.decision_id) == ("XX", dt.date(2026, 11, 13), "D-1")
    assert date.found == "4.5.2026"  # Excel made a date of "4.5": shown as the provider sees it


# -- Ohjaus -------------------------------------------------------------------------


@pytest.mark.parametrize("keys", [("Päätösnumero",), ("Henkilötunnus",), ("Päätösnumero", "Henkilötunnus")])
def test_ohjaus_keyed_by_decision_or_henkilotunnus(tmp_path, keys):
    header = [*keys, "Päivämäärä", "Kesto h", "Tyyppi", "Ohjaaja"]
    key = {"Päätösnumero": "D-1", "Henkilötunnus": wb.HETU[0]}
    rows = [[key[k] for k in keys] + ["3.11.2026", "1,5", "Yksilö", "Outi"],
            [key[k] for k in keys] + [dt.date(2026, 11, 10), 2, " RYHMÄ ", None]]
    if len(keys) == 2:
        rows.append([None, wb.HETU[1], "12.11.2026", "1", "yksilö", "Outi"])  # last row keyed by the hetu only
    grid = [["Ohjausloki"], header, *rows, [None, None, "Yhteensä", "4,5"]]
    inv = read(write(tmp_path / "a.xlsx", invoice(Ohjaus=grid)))
    assert pairs(inv) == []
    got = inv.guidance.select("row", "decision_id", "hetu", "date", "hours_h100", "type").rows()
    did = "D-1" if "Päätösnumero" in keys else None
    hetu = wb.HETU[0] if "Henkilötunnus" in keys else None
    expected = [(3, did, hetu, dt.date(2026, 11, 3), 150, "yksilö"), (4, did, hetu, dt.date(2026, 11, 10), 200, "ryhmä")]
    if len(keys) == 2:
        expected.append((5, None, wb.HETU[1], dt.date(2026, 11, 12), 100, "yksilö"))
    assert got == expected


def test_ohjaus_is_optional(tmp_path):
    inv = read(write(tmp_path / "a.xlsx", invoice()))
    assert pairs(inv) == [] and inv.guidance is None


# -- registers as CSV -----------------------------------------------------------------

DECISION_HEADER = ["Päätösnumero", "Henkilötunnus", "Nimi", "Y-tunnus", "Alkupäivä", "Loppupäivä", "Päivää viikossa",
                   "Tuntia päivässä", "Setelin arvo €/pv", "Ateria", "Matkakorvaus €/pv", "Etuus"]
DECISION_ROWS = [["D-1", wb.HETU[0], "Anna, Ek", wb.YTUNNUS[0], "1.1.2026", "2026-12-31", "4", "6,5", "50,00",
                  " Tuottaja ", "4,50", "TYÖTTÖMYYSETUUS"],
                 ["D-2", wb.HETU[1], "Bo", wb.YTUNNUS[0], "1.2.2026", "31.1.2027", "3", "4", "1 050,00", "ei", "0",
                  "eläke"]]
PROVIDER_HEADER = ["Y-tunnus", "Nimi", "Hyväksytty alkaen", "Oma yksikkö", "Kieli"]
PROVIDER_ROWS = [[wb.YTUNNUS[0], "Testi, Oy", "1.1.2026", "EI", " SV "]]


@pytest.mark.parametrize("sep", [";", ","])
@pytest.mark.parametrize("title", [False, True])
@pytest.mark.parametrize("bom", [False, True])
def test_registers_as_csv_either_separator(tmp_path, sep, title, bom):
    folder = tmp_path / "register"
    folder.mkdir()
    for name, header, rows in (("decisions", DECISION_HEADER, DECISION_ROWS),
                               ("providers", PROVIDER_HEADER, PROVIDER_ROWS)):
        with (folder / f"{name}.csv").open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            if title:
                fh.write(f"Turun kaupunki, {name} 2026\r\n")
            w = csv.writer(fh, delimiter=sep)
            w.writerow(header)
            w.writerows(rows)
    regs = read_registers(tmp_path, CFG)
    first = 3 if title else 2
    assert regs.decisions.select("row", "decision_id", "name", "start", "end", "hours_per_day_h100", "day_value_cents",
                                 "meal", "travel_per_day_cents", "benefit").rows() == [
        (first, "D-1", "Anna, Ek", dt.date(2026, 1, 1), dt.date(2026, 12, 31), 650, 5000, "tuottaja", 450,
         "työttömyysetuus"),
        (first + 1, "D-2", "Bo", dt.date(2026, 2, 1), dt.date(2027, 1, 31), 400, 105000, "ei", 0, "eläke")]
    assert regs.providers.select("provider_id", "name", "own_unit", "lang").rows() == [
        ("1234561-2", "Testi, Oy", False, "sv")]


# -- V101-V107: effects, and what a person reads --------------------------------------


def test_cell_rules_effects_and_readable_figures(tmp_path):
    clients = [CLIENT_HEADER,
               client("D-1", fee="100,005"),  # V101 money: reject
               client("D-2", wb.HETU[1], fee=-5.6),  # V103 money (a number): reject
               client("D-3", wb.HETU[2], days="24"),  # V103 money: reject
               client("D-4", wb.HETU[3], **{"Kykyviisari pvm": "31.11.2026", "Yksilöohjaus h": "25"}),  # warnings
               client("D-5", wb.HETU[4], fee="-0,01", Ateriat="2,5"),  # V103 and V101, money: reject
               client("D-6", "131052-308X"),  # V104: reject
               client("D-7", wb.HETU[0], fee=None),  # V102 money: reject
               client("D-1", wb.HETU[0]),  # V106: the later row rejected
               client("D-8", wb.HETU[1], **{"Setelin arvo €/pv": "#N/A"})]  # V107, not money: warning
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=clients), "xlsxwriter"))
    got = {(f.rule, f.location.ref): (f.severity, f.effect, f.expected, f.found) for f in inv.findings}
    assert got == {
        ("V101", "Asiakkaat!F2"): ("error", "reject", "12,50 €", "100,005"),
        ("V103", "Asiakkaat!F3"): ("error", "reject", "≥ 0,00 €", "-5,6"),
        ("V103", "Asiakkaat!D4"): ("error", "reject", "0–23", "24"),
        ("V101", "Asiakkaat!K5"): ("warning", "none", "3.11.2026", "31.11.2026"),
        ("V103", "Asiakkaat!J5"): ("warning", "none", "0–24 h", "25"),
        ("V103", "Asiakkaat!F6"): ("error", "reject", "≥ 0,00 €", "-0,01"),
        ("V101", "Asiakkaat!G6"): ("error", "reject", "3", "2,5"),
        ("V104", "Asiakkaat!B7"): ("error", "reject", "henkilötunnus", "131052-308X"),
        ("V102", "Asiakkaat!F8"): ("error", "reject", "Palvelumaksu €", ""),
        ("V106", "Asiakkaat!A9"): ("error", "reject", "", "D-1"),
        ("V107", "Asiakkaat!E10"): ("warning", "none", "12,50 €", "#N/A"),
    }
    assert inv.clients.select("row", "rejected").rows() == [
        (2, "V101"), (3, "V103"), (4, "V103"), (5, None), (6, "V101"), (7, "V104"), (8, "V102"), (9, "V106"), (10, None)]
    d4 = inv.clients.filter(inv.clients["decision_id"] == "D-4").row(0, named=True)
    assert (d4["kykyviisari_date"], d4["guidance_individual_h100"], d4["fee_cents"]) == (None, None, 10000)
    assert inv.clients.filter(inv.clients["row"] == 10)["day_value_cents"].item() is None
    assert not inv.fatal

    by = {f.location.ref: f for f in inv.findings}
    texts = {lang: {ref: messages.message(f, lang) for ref, f in by.items()} for lang in ("fi", "sv", "en")}
    assert texts["fi"]["Asiakkaat!F3"] == ("Solun F3 (Palvelumaksu €) arvo -5,6 on sallitun alueen ulkopuolella; "
                                           "sallittu: ≥ 0,00 €.")
    assert texts["sv"]["Asiakkaat!D4"] == ("Värdet 24 i cellen D4 (Läsnäolopäivät) ligger utanför det tillåtna "
                                           "intervallet; tillåtet: 0–23.")
    assert texts["en"]["Asiakkaat!J5"] == "The value 25 in cell J5 (Yksilöohjaus h) is out of range; allowed: 0–24 h."
    assert texts["fi"]["Asiakkaat!F2"] == ("Solun F2 (Palvelumaksu €) arvoa ”100,005” ei voi lukea. Odotettu: "
                                           "euromäärä, enintään kaksi desimaalia (esim. 12,50 €).")
    assert texts["sv"]["Asiakkaat!K5"] == ("Värdet ”31.11.2026” i cellen K5 (Kykyviisari pvm) kan inte läsas. "
                                           "Förväntat: ett datum (t.ex. 3.11.2026).")
    assert texts["en"]["Asiakkaat!G6"] == ("The value “2,5” in cell G6 (Ateriat) cannot be read. "
                                           "Expected: a whole number (e.g. 3).")
    assert texts["fi"]["Asiakkaat!F8"] == "Pakollinen tieto puuttuu solusta F8 (Palvelumaksu €)."
    assert texts["en"]["Asiakkaat!E10"] == ("The cell E10 (Setelin arvo €/pv) holds the error value #N/A, which cannot "
                                            "be used. Expected: an amount in euros with at most two decimals "
                                            "(e.g. €12.50).")  # an English reader's number form
    for lang, by_ref in texts.items():  # no Pandera check names, no cents
        for text in by_ref.values():
            assert "greater_than" not in text and "less_than" not in text and "-560" not in text, (lang, text)


def test_findings_name_the_header_as_the_workbook_spells_it(tmp_path):
    headers = [h if h != "Läsnäolopäivät" else "Attendance\ndays" for h in CLIENT_HEADER]
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=[headers, client(days="kolme")])))
    assert pairs(inv) == [("V101", "Asiakkaat!D2")]
    assert messages.message(inv.findings[0], "en") == ("The value “kolme” in cell D2 (Attendance days) cannot be read. "
                                                       "Expected: a whole number (e.g. 3).")


def test_day_cell_findings_read_well(tmp_path):
    grid = calendar([("D-1", wb.HETU[0], {2: "X", 3: "6", 10: "Q", 11: 24.5})])
    inv = read(write(tmp_path / "a.xlsx", invoice(clients=[CLIENT_HEADER, client()], attendance=grid)))
    assert pairs(inv) == [("V103", "Läsnäolo!M2"), ("V105", "Läsnäolo!L2")]
    v103, v105 = sorted(inv.findings, key=lambda f: f.rule)
    assert (v103.expected, v103.found, v105.expected, v105.found) == ("0–24 h", "24,5", "X, S, P, L, 0–24 h", "Q")
    assert messages.message(v103, "fi") == ("Solun M2 arvo 24,5 on sallitun alueen ulkopuolella; sallittu: 0–24 h.")
    assert messages.message(v105, "sv") == ("Cellen L2 för dagen 10.11.2026 innehåller ”Q”, som inte är en tillåten "
                                            "kod; dagen betalas inte.")


# -- the slow path and LibreOffice read the same ----------------------------------------


def varied_invoice() -> dict[str, list[list]]:
    """Odd headers, numbers and dates in every accepted form, formulas, error values, day codes."""
    headers = list(ODD_HEADERS)
    headers[3] = "Läsnäolopäivät\n"
    clients = [headers,
               client(fee=wb.Formula("=2*50", 100), **{"Kykyviisari pvm": "3.11.2026 8:15", "Yksilöohjaus h": 1.5}),
               client("D-2", wb.HETU[1], "3", " 1\u202f150,50 € ", **{"Kykyviisari pvm": dt.date(2026, 11, 4)}),
               client("D-3", wb.HETU[2], 1, "#REF!", Ateriat=-1, **{"Setelin arvo €/pv": 50}),
               client("D-4", "131052-308X", 1, "50,00", **{"Kykyviisari pvm": 46330}),
               [], ["Yhteensä", None, None, 7, None, "1 300,50"]]
    days = [1, "2", " 3. ", 4, dt.date(2026, 11, 5), "6", "7.11.2026", *range(8, 31)]
    attendance = calendar([("D-1", wb.HETU[0], {"2": "X", " 3. ": "6"}),
                           ("D-2", wb.HETU[1], {4: "x", dt.date(2026, 11, 5): 4.5, "6": "Q"}),
                           ("D-3", wb.HETU[2], {9: "#N/A", 10: "25", 11: "l"})], days)
    return invoice(lasku(Laskutuskausi="11/2026", **{"Yhteensä €": 1300.5}), clients, attendance)


VARIED_FINDINGS = [("V103", "Asiakkaat!G4"), ("V103", "Läsnäolo!L4"), ("V104", "Asiakkaat!B5"),
                   ("V105", "Läsnäolo!H3"), ("V105", "Läsnäolo!K4"), ("V107", "Asiakkaat!F4")]


def summary(inv) -> tuple:
    return (pairs(inv), inv.header.billing_month, inv.header.total_cents,
            inv.clients.select("row", "decision_id", "hetu", "days_claimed", "day_value_cents", "fee_cents", "meals",
                               "guidance_individual_h100", "kykyviisari_date", "rejected").rows(),
            inv.days.select("cell", "date", "code", "hours_h100", "raw").rows())


def test_varied_invoice_reads_exactly(tmp_path):
    inv = read(write(tmp_path / "a.xlsx", varied_invoice(), "xlsxwriter"))
    got = summary(inv)
    assert got[0] == VARIED_FINDINGS
    assert got[1:3] == (NOV, 130050)
    assert got[3] == [
        (2, "D-1", wb.HETU[0], 2, 5000, 10000, 0, 150, dt.date(2026, 11, 3), None),
        (3, "D-2", wb.HETU[1], 3, 5000, 115050, 0, 200, dt.date(2026, 11, 4), None),
        (4, "D-3", wb.HETU[2], 1, 5000, None, -1, 200, None, "V107"),
        (5, "D-4", "131052-308X", 1, 5000, 5000, 0, 200, dt.date(2026, 11, 4), "V104")]
    assert got[4] == [("D2", dt.date(2026, 11, 2), "X", None, "X"), ("E2", dt.date(2026, 11, 3), "H", 600, "6"),
                      ("F3", dt.date(2026, 11, 4), "X", None, "x"), ("G3", dt.date(2026, 11, 5), "H", 450, "4,5"),
                      ("H3", dt.date(2026, 11, 6), "?", None, "Q"), ("K4", dt.date(2026, 11, 9), "?", None, "#N/A"),
                      ("L4", dt.date(2026, 11, 10), "?", None, "25")]


def test_the_slow_path_reads_what_calamine_reads(tmp_path):
    """A sheet whose furthest cell is too far for calamine is read with openpyxl: the same invoice results."""
    fast = read(write(tmp_path / "a.xlsx", varied_invoice(), "xlsxwriter"))
    far = varied_invoice()
    far["Muistiinpanot"] = [[] for _ in range(199)] + [[None] * 16383 + ["kaukana"]]
    path = write(tmp_path / "b.xlsx", far, "xlsxwriter")
    sheets_scan = intake.examine(intake.submission(path), CFG.limits).sheets
    assert sheets_scan["Muistiinpanot"].max_col == 16384  # more than calamine is given: openpyxl reads it
    assert summary(read(path)) == summary(fast)


@pytest.mark.libreoffice
def test_saved_by_libreoffice_reads_the_same(tmp_path):
    (tmp_path / "src").mkdir()
    sources = [write(tmp_path / "src" / f"{engine}.xlsx", varied_invoice(), engine) for engine in ENGINES]
    expected = summary(read(sources[1]))
    saved = libreoffice(tmp_path, *sources)
    assert summary(read(sources[0]))[0] == sorted([("V102", "Asiakkaat!F2"), *VARIED_FINDINGS])  # no cached value
    assert summary(read(sources[2])) == expected
    for path in saved:
        assert summary(read(path)) == expected, path.name  # LibreOffice computes the formula openpyxl left bare
