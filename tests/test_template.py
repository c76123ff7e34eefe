"""The provider's invoice template (`reconcile template`): structure, language, and a LibreOffice round trip."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from reconcile import config
from reconcile.cli import main
from reconcile.errors import JobError, UsageError
from reconcile.model import Registers
from reconcile.template import clients_in_force, write_all_templates, write_template
from schemas import header_names
from schemas.invoice import Clients, GuidanceLog
from wb import HETU, YTUNNUS, write_decisions, write_providers

ROOT = Path(__file__).resolve().parents[1]
CONFIG = config.load(ROOT / "config")
NOV = dt.date(2026, 11, 1)
DEC = dt.date(2026, 12, 1)
P1, P2, P3 = YTUNNUS

DECISION_TYPES = {
    "decision_id": pl.Utf8, "hetu": pl.Utf8, "name": pl.Utf8, "provider_id": pl.Utf8, "voucher_no": pl.Utf8,
    "start": pl.Date, "end": pl.Date, "terminated": pl.Date, "days_per_week": pl.Int64,
    "hours_per_day_h100": pl.Int64, "day_value_cents": pl.Int64, "meal": pl.Utf8,
    "travel_per_day_cents": pl.Int64, "benefit": pl.Utf8, "guidance_min_h100": pl.Int64,
    "caseworker": pl.Utf8, "next_step": pl.Utf8,
}
PROVIDER_TYPES = {
    "provider_id": pl.Utf8, "name": pl.Utf8, "approved_from": pl.Date, "approved_to": pl.Date,
    "own_unit": pl.Boolean, "email": pl.Utf8, "lang": pl.Utf8,
}


def decision(decision_id: str, hetu: str, **kw) -> dict:
    d = {"decision_id": decision_id, "hetu": hetu, "name": f"Asiakas {decision_id}", "provider_id": P1,
         "voucher_no": None, "start": dt.date(2026, 9, 1), "end": dt.date(2027, 2, 28), "terminated": None,
         "days_per_week": 4, "hours_per_day_h100": 600, "day_value_cents": 5000, "meal": "tuottaja",
         "travel_per_day_cents": 500, "benefit": "työttömyysetuus", "guidance_min_h100": None,
         "caseworker": None, "next_step": None}
    d.update(kw)
    return d


def provider(provider_id: str, **kw) -> dict:
    p = {"provider_id": provider_id, "name": f"Tuottaja {provider_id}", "approved_from": dt.date(2025, 1, 1),
         "approved_to": None, "own_unit": False, "email": None, "lang": "fi"}
    p.update(kw)
    return p


def registers(decisions: list[dict], providers: list[dict]) -> Registers:
    d = pl.DataFrame(decisions, schema=DECISION_TYPES).with_row_index("row", 2).with_columns(pl.col("row").cast(pl.Int64))
    p = pl.DataFrame(providers, schema=PROVIDER_TYPES).with_row_index("row", 2).with_columns(pl.col("row").cast(pl.Int64))
    return Registers(decisions=d, providers=p)


# Three decisions of P1 in force in November 2026 (one from the 10th, one
# terminated on the 20th), and three that are not: ended, not yet started,
# terminated before the month. One decision of another provider.
DECISIONS = [
    decision("D-01", HETU[0]),
    decision("D-02", HETU[1], start=dt.date(2026, 11, 10), end=dt.date(2027, 5, 9), days_per_week=3,
             day_value_cents=4550, meal="korvaus", travel_per_day_cents=0),
    decision("D-03", HETU[2], start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31), terminated=dt.date(2026, 11, 20),
             days_per_week=2, meal="ei", travel_per_day_cents=320),
    decision("D-04", HETU[3], start=dt.date(2026, 1, 1), end=dt.date(2026, 10, 31)),
    decision("D-05", HETU[3], start=dt.date(2026, 12, 1), end=dt.date(2027, 5, 31)),
    decision("D-06", HETU[4], start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31), terminated=dt.date(2026, 10, 30)),
    decision("D-07", HETU[4], provider_id=P2, start=dt.date(2026, 11, 1), end=dt.date(2027, 4, 30)),
]
PROVIDERS = [provider(P1), provider(P2, lang="sv", own_unit=True), provider(P3)]


def day_cell(day: int, row: int) -> str:
    """Läsnäolo cell of a day: four key columns A-D, day 1 in column E."""
    return f"{openpyxl.utils.get_column_letter(4 + day)}{row}"


@pytest.fixture
def nov_template(tmp_path) -> Path:
    return write_template(registers(DECISIONS, PROVIDERS), CONFIG, P1, NOV, tmp_path / "t.xlsx")


def test_decisions_in_force_at_any_time_in_the_month():
    got = clients_in_force(registers(DECISIONS, PROVIDERS), P1, NOV)
    assert [(c.decision_id, c.first, c.last) for c in got] == [
        ("D-01", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        ("D-02", dt.date(2026, 11, 10), dt.date(2026, 11, 30)),
        ("D-03", dt.date(2026, 11, 1), dt.date(2026, 11, 20)),
    ]


def test_sheets_headers_and_prefilled_values(nov_template):
    wb = openpyxl.load_workbook(nov_template)
    assert wb.sheetnames == ["Lasku", "Asiakkaat", "Läsnäolo", "Ohjaus", "Ohje", "Laskenta"]
    assert [ws.sheet_state for ws in wb.worksheets] == ["visible"] * 5 + ["veryHidden"]  # the reader skips it
    lasku = wb["Lasku"]
    assert [(lasku[f"A{r}"].value, lasku[f"B{r}"].value) for r in range(1, 5)] == [
        ("Palveluntuottaja", f"Tuottaja {P1}"), ("Y-tunnus", P1), ("Laskun numero", None), ("Laskutuskausi", "2026-11")]
    assert lasku["B4"].data_type == "s"
    assert lasku["A6"].value == "Yhteensä €" and lasku["B6"].value == "=ROUND(SUM('Asiakkaat'!N2:N4),2)"

    asiakkaat = wb["Asiakkaat"]
    assert [c.value for c in asiakkaat[1]] == header_names(Clients, "fi")
    assert [[c.value for c in asiakkaat[r][:3]] for r in (2, 3, 4)] == [
        ["D-01", HETU[0], "Asiakas D-01"], ["D-02", HETU[1], "Asiakas D-02"], ["D-03", HETU[2], "Asiakas D-03"]]
    assert [asiakkaat[f"E{r}"].value for r in (2, 3, 4)] == [50, 45.5, 50]
    assert asiakkaat.max_row == 4
    # Formulas: days from the calendar, fee, meals by the decision's Ateria mode, guidance from the log, total.
    assert asiakkaat["D2"].value == "='Läsnäolo'!AI3"
    assert asiakkaat["F3"].value == "=ROUND(D3*E3,2)"
    assert (asiakkaat["G2"].value, asiakkaat["H2"].value) == ("=D2", 0)  # tuottaja: meals
    assert (asiakkaat["G3"].value, asiakkaat["H3"].value) == (0, "=D3")  # korvaus: meal compensation
    assert (asiakkaat["G4"].value, asiakkaat["H4"].value) == (0, 0)  # ei
    assert asiakkaat["J2"].value == "=ROUND(SUMIFS('Laskenta'!$CC$2:$CC$301,'Ohjaus'!$A$2:$A$301,$A2,'Ohjaus'!$E$2:$E$301,\"yksilö\"),2)"
    number = 'IF(ISNUMBER({0}),{0},IFERROR(_xlfn.NUMBERVALUE(SUBSTITUTE(SUBSTITUTE(TRIM(SUBSTITUTE({0},_xlfn.UNICHAR(160)," ")),"€",""),".",","),","," "),0))'.format
    # meal price and compensation of rates.toml; items typed as text are read, not #VALUE!
    assert asiakkaat["N2"].value == f"=ROUND(F2+{number('G2')}*6.80+{number('H2')}*5.00+{number('I2')},2)"

    att = wb["Läsnäolo"]
    assert [c.value for c in att[2]] == ["Päätösnumero", "Henkilötunnus", "Nimi", "Päivää viikossa", *range(1, 31), "Läsnäolopäivät"]
    assert [att[day_cell(d, 1)].value for d in (1, 2, 7)] == ["su", "ma", "la"]  # 1.11.2026 is a Sunday
    assert [[c.value for c in att[r][:4]] for r in (3, 4, 5)] == [
        ["D-01", HETU[0], "Asiakas D-01", 4], ["D-02", HETU[1], "Asiakas D-02", 3], ["D-03", HETU[2], "Asiakas D-03", 2]]
    assert att["AI3"].value == "=SUM('Laskenta'!E3:AH3)"  # the helper sheet's claim flags of the row
    helper = wb["Laskenta"]
    trimmed = 'TRIM(SUBSTITUTE(\'Läsnäolo\'!E3,_xlfn.UNICHAR(160)," "))'
    assert helper["E3"].value == (f"=IF(ISERROR('Läsnäolo'!E3),1,IF(ISNUMBER('Läsnäolo'!E3),1,IF({trimmed}=\"\",0,"
                                  f'IF(OR(UPPER({trimmed})="S",UPPER({trimmed})="P",UPPER({trimmed})="L"),0,1))))')
    assert [c.value for c in wb["Ohjaus"][1]] == header_names(GuidanceLog, "fi")


def test_calendar_validation_shading_and_locks(nov_template):
    wb = openpyxl.load_workbook(nov_template)
    att = wb["Läsnäolo"]
    [dv] = att.data_validations.dataValidation
    assert (dv.type, str(dv.sqref), dv.allow_blank, dv.errorStyle) == ("list", "E3:AH5", True, "warning")
    assert dv.formula1 == '"X,S,P,L,4,5,6,7,8,9,10,11,12"'
    assert not dv.showDropDown  # openpyxl's inverted flag: False means the in-cell arrow is shown
    assert att.protection.sheet and att.protection.password is None

    def fill(ref: str) -> str:
        return att[ref].fill.fgColor.rgb

    # D-01 in force all month: Monday 2.11. is an input cell, Saturday 7.11. and Sunday 1.11. are shaded.
    assert (fill(day_cell(2, 3)), att[day_cell(2, 3)].protection.locked) == ("FFFFF2CC", False)
    assert (fill(day_cell(7, 3)), att[day_cell(7, 3)].protection.locked) == ("FFDDEBF7", False)
    assert (fill(day_cell(1, 3)), att[day_cell(1, 3)].protection.locked) == ("FFFCE4D6", False)
    # D-02 starts on the 10th, D-03 is terminated on the 20th: the days outside are grey and locked.
    assert [(fill(day_cell(d, 4)), att[day_cell(d, 4)].protection.locked) for d in (9, 10)] == [("FFA6A6A6", True), ("FFFFF2CC", False)]
    assert [(fill(day_cell(d, 5)), att[day_cell(d, 5)].protection.locked) for d in (20, 21)] == [("FFFFF2CC", False), ("FFA6A6A6", True)]
    # Key columns and the count are locked.
    assert all(att[ref].protection.locked for ref in ("A3", "B3", "D3", "AI3"))
    # A week (Mon-Sun) with more attendance days than decided turns red: 2.-8.11. is columns F..L.
    rules = {str(cf.sqref): [r.formula for r in cf.rules] for cf in att.conditional_formatting}
    assert rules["F3:L5"] == [['AND(F3<>"",SUM(\'Laskenta\'!$AT3:$AZ3)>$D3)']]  # F..L plus 40 columns: "may be paid"
    assert len(rules) == 6  # 1.11. alone, four full weeks, 30.11. alone


def test_public_holidays_are_shaded(tmp_path):
    regs = registers([decision("D-01", HETU[0])], [provider(P1)])
    att = openpyxl.load_workbook(write_template(regs, CONFIG, P1, DEC, tmp_path / "dec.xlsx"))["Läsnäolo"]
    # 24.-25.12.2026 (Thu, Fri) are public holidays, 23.12. an ordinary Wednesday, 26.12. a holiday Saturday.
    assert [att[day_cell(d, 3)].fill.fgColor.rgb for d in (23, 24, 25, 26)] == ["FFFFF2CC", "FFFCE4D6", "FFFCE4D6", "FFFCE4D6"]
    assert att["AI2"].value == 31


def test_every_input_column_is_validated(nov_template):
    wb = openpyxl.load_workbook(nov_template)
    dvs = {}
    for dv in wb["Asiakkaat"].data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            dvs[rng] = (dv.type, dv.operator, dv.formula1, dv.formula2)
    assert dvs["D2:D4"] == ("whole", None, "0", "23")
    assert dvs["G2"] == ("whole", None, "0", "D2")  # meals at most the attendance days
    assert dvs["G3"] == ("whole", None, "0", "0")  # no meals under Ateria = korvaus
    assert dvs["I2"] == ("decimal", None, "0", "ROUND(D2*5.00,2)")  # travel at most days x travel per day
    assert dvs["L3"][0] == "date" and dvs["M3"][0] == "date"
    assert dvs["O2:O4"] == ("textLength", "lessThanOrEqual", "500", None)
    guidance = {str(dv.sqref): (dv.type, dv.formula1) for dv in wb["Ohjaus"].data_validations.dataValidation}
    assert guidance["A2:A301"] == ("list", "'Asiakkaat'!$A$2:$A$4")
    assert guidance["E2:E301"] == ("list", '"yksilö,ryhmä"')
    assert guidance["D2:D301"][0] == "decimal"
    lasku = {str(dv.sqref): dv.type for dv in wb["Lasku"].data_validations.dataValidation}
    assert lasku == {"B3": "textLength", "B5": "date"}
    assert wb["Lasku"]["B3"].protection.locked is False and wb["Lasku"]["B2"].protection.locked is True


def test_language_from_register_and_override(tmp_path):
    regs = registers(DECISIONS, [provider(P1, lang="sv")])
    wb = openpyxl.load_workbook(write_template(regs, CONFIG, P1, NOV, tmp_path / "sv.xlsx"))
    assert wb.sheetnames == ["Faktura", "Klienter", "Närvaro", "Handledning", "Anvisningar", "Beräkning"]
    assert [c.value for c in wb["Klienter"][1]] == header_names(Clients, "sv")
    assert wb["Närvaro"]["A2"].value == "Beslutsnummer" and wb["Närvaro"][day_cell(2, 1)].value == "må"
    wb = openpyxl.load_workbook(write_template(regs, CONFIG, P1, NOV, tmp_path / "en.xlsx", lang="en"))
    assert wb.sheetnames == ["Invoice", "Clients", "Attendance", "Guidance", "Instructions", "Calculation"]
    assert wb["Invoice"]["A2"].value == "Business id"
    assert wb["Clients"]["J2"].value.endswith('"individual"),2)')


def test_city_own_unit_bills_no_fee(tmp_path):
    regs = registers([decision("D-07", HETU[4], provider_id=P2, day_value_cents=5000)], PROVIDERS)
    wb = openpyxl.load_workbook(write_template(regs, CONFIG, P2, NOV, tmp_path / "own.xlsx"))
    assert wb["Klienter"]["E2"].value == 0


def test_out_folder_names_the_file(tmp_path):
    path = write_template(registers(DECISIONS, PROVIDERS), CONFIG, P1, NOV, tmp_path / "out")
    assert path == tmp_path / "out" / f"{P1}_2026-11.xlsx" and path.is_file()
    assert [p.name for p in (tmp_path / "out").iterdir()] == [path.name]  # no temporary file left behind


def test_out_names_the_file_or_a_folder_never_another_extension(tmp_path):
    regs = registers(DECISIONS, PROVIDERS)
    assert write_template(regs, CONFIG, P1, NOV, tmp_path / "x.XLSX") == tmp_path / "x.XLSX"
    with pytest.raises(UsageError) as e:
        write_template(regs, CONFIG, P1, NOV, tmp_path / "x.xls")
    assert e.value.exit_code == 2 and not (tmp_path / "x.xls").exists()  # neither a file nor a folder
    (tmp_path / "out.d").mkdir()  # an existing folder with a dot in its name is a folder
    assert write_template(regs, CONFIG, P1, NOV, tmp_path / "out.d") == tmp_path / "out.d" / f"{P1}_2026-11.xlsx"


def test_template_file_is_readable_by_owner_and_group(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_template(registers(DECISIONS, PROVIDERS), CONFIG, P1, NOV, tmp_path / "t.xlsx")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_every_sheet_prints_a4_landscape_one_page_wide_with_headers_unclipped(nov_template):
    wb = openpyxl.load_workbook(nov_template)
    for ws in wb.worksheets[:5]:
        assert (ws.page_setup.paperSize, ws.page_setup.orientation) == (9, "landscape"), ws.title
        # one page wide (fitToWidth absent means its default, 1), as many pages tall as needed
        assert ws.sheet_properties.pageSetUpPr.fitToPage and (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
    assert wb["Läsnäolo"].print_title_rows == "$1:$2" and wb["Asiakkaat"].print_title_rows == "$1:$1"
    # Every header's longest word fits its column (Excel's width unit is about one character), and the header
    # row is tall enough for the lines it wraps into: "Päivää viikossa" was clipped to "äivää viikoss".
    for ws, row in ((wb["Läsnäolo"], 2), (wb["Asiakkaat"], 1), (wb["Ohjaus"], 1)):
        for cell in ws[row]:
            if isinstance(cell.value, str):
                width = ws.column_dimensions[cell.column_letter].width
                assert width >= max(len(w) for w in cell.value.split()) + 1, (ws.title, cell.value, width)
                assert cell.alignment.wrap_text, (ws.title, cell.value)
    # "Päivää viikossa" in a column of 10 and "Kykyviisari pvm" in one of 13 wrap: two lines at least.
    assert wb["Läsnäolo"].row_dimensions[2].height >= 30 and wb["Asiakkaat"].row_dimensions[1].height >= 30


def test_same_inputs_give_the_same_bytes(tmp_path):
    regs = registers(DECISIONS, PROVIDERS)
    a = write_template(regs, CONFIG, P1, NOV, tmp_path / "a.xlsx")
    b = write_template(regs, CONFIG, P1, NOV, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    "provider_id, month, match",
    [
        ("9999999-9", NOV, "not in the providers register"),
        (P3, NOV, "no decision in force in 2026-11"),
        (P1, dt.date(2024, 11, 1), "not approved for 2024-11"),
        (P2, dt.date(2026, 10, 1), "no decision in force in 2026-10"),
    ],
)
def test_refuses_what_it_cannot_write(tmp_path, provider_id, month, match):
    with pytest.raises(JobError, match=match) as e:
        write_template(registers(DECISIONS, PROVIDERS), CONFIG, provider_id, month, tmp_path / "x.xlsx")
    assert e.value.exit_code == 3
    assert not (tmp_path / "x.xlsx").exists()


def test_all_providers_of_a_month(tmp_path):
    written, skipped = write_all_templates(registers(DECISIONS, PROVIDERS), CONFIG, NOV, tmp_path)
    assert [p.name for p in written] == [f"{P1}_2026-11.xlsx", f"{P2}_2026-11.xlsx"]
    assert skipped == [f"{P3}: no decision in force in 2026-11"]
    with pytest.raises(JobError, match="No provider"):
        write_all_templates(registers(DECISIONS, PROVIDERS), CONFIG, dt.date(2025, 1, 1), tmp_path)


# --- the command line: registers read from an inbox -------------------------------------


def register_rows() -> tuple[list[dict], list[dict]]:
    """DECISIONS and PROVIDERS as register rows, money and hours as Finnish text."""
    decisions = []
    for d in DECISIONS:
        row = {k: v for k, v in d.items() if v is not None}
        row["day_value_cents"] = f"{d['day_value_cents'] / 100:.2f}".replace(".", ",")
        row["travel_per_day_cents"] = f"{d['travel_per_day_cents'] / 100:.2f}".replace(".", ",")
        row["hours_per_day_h100"] = d["hours_per_day_h100"] // 100
        decisions.append(row)
    providers = [{**{k: v for k, v in p.items() if v is not None}, "own_unit": "kyllä" if p["own_unit"] else "ei"} for p in PROVIDERS]
    return decisions, providers


@pytest.fixture
def inbox(tmp_path) -> Path:
    pytest.importorskip("reconcile.read.registers", reason="the register reader is not there yet")
    decisions, providers = register_rows()
    (tmp_path / "inbox" / "register").mkdir(parents=True)
    write_decisions(tmp_path / "inbox" / "register" / "decisions.xlsx", decisions)
    write_providers(tmp_path / "inbox" / "register" / "providers.xlsx", providers)
    return tmp_path / "inbox"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["template", "--config", str(ROOT / "config"), *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_writes_one_template(inbox, tmp_path):
    code, out, _ = run("--inbox", str(inbox), "--provider", P1, "--month", "2026-11", "--out", str(tmp_path / "t.xlsx"))
    assert (code, out.strip()) == (0, str(tmp_path / "t.xlsx"))
    assert openpyxl.load_workbook(tmp_path / "t.xlsx")["Asiakkaat"]["A4"].value == "D-03"


def test_cli_all_providers_default_folder(inbox, tmp_path):
    code, out, err = run("--inbox", str(inbox), "--outbox", str(tmp_path / "outbox"), "--all", "--month", "2026-11")
    folder = tmp_path / "outbox" / "templates" / "2026-11"
    assert code == 0
    assert out.split() == [str(folder / f"{P1}_2026-11.xlsx"), str(folder / f"{P2}_2026-11.xlsx")]
    assert err.strip() == f"skipped {P3}: no decision in force in 2026-11"


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--provider", P3, "--month", "2026-11"], 3, f"Provider {P3} has no decision in force in 2026-11"),
        (["--provider", "9999999-9", "--month", "2026-11"], 3, "not in the providers register"),
        (["--provider", P1, "--month", "11/2026"], 2, "--month must be a month like 2026-11"),
        (["--month", "2026-11"], 2, "Give either --provider Y-TUNNUS or --all"),
        (["--all", "--provider", P1, "--month", "2026-11"], 2, "Give either --provider Y-TUNNUS or --all"),
        (["--all", "--month", "2026-11", "--out", "x.xlsx"], 2, "--out is a folder"),
    ],
)
def test_cli_exit_codes(inbox, tmp_path, args, code, message):
    got, _, err = run("--inbox", str(inbox), "--outbox", str(tmp_path / "outbox"), *args)
    assert got == code
    assert message in err and "Traceback" not in err


def test_cli_missing_register_is_exit_3(tmp_path):
    pytest.importorskip("reconcile.read.registers", reason="the register reader is not there yet")
    code, _, err = run("--inbox", str(tmp_path / "empty"), "--provider", P1, "--month", "2026-11")
    assert code == 3 and "decisions" in err


# --- LibreOffice: the template as a provider's spreadsheet program sees it ---------------

def soffice(test):
    """LibreOffice tests: marked, and skipped with a reason when soffice is missing."""
    skip = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
    return pytest.mark.libreoffice(skip(test))


def convert(path: Path, fmt: str, out_dir: Path) -> Path:
    """Open `path` in LibreOffice headless and save it as `fmt`: formulas get cached values."""
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{out_dir / 'profile'}", "--headless",
                    "--convert-to", fmt, "--outdir", str(out_dir), str(path)],
                   check=True, capture_output=True, timeout=180)
    result = out_dir / f"{path.stem}.{fmt.split(':')[0]}"
    assert result.is_file(), f"LibreOffice did not write {result.name}"
    return result


@pytest.mark.slow
@soffice
def test_blank_template_opens_in_libreoffice(nov_template, tmp_path):
    xlsx = convert(nov_template, "xlsx", tmp_path / "lo")
    wb = openpyxl.load_workbook(xlsx, data_only=True)
    assert wb.sheetnames == ["Lasku", "Asiakkaat", "Läsnäolo", "Ohjaus", "Ohje", "Laskenta"]
    assert [wb["Asiakkaat"][f"{c}2"].value for c in "DFGN"] == [0, 0, 0, 0]
    assert wb["Lasku"]["B6"].value == 0
    assert wb["Läsnäolo"].protection.sheet


GUIDANCE_TYPES = {"fi": ("yksilö", "ryhmä"), "sv": ("individuell", "grupp"), "en": ("individual", "group")}


def fill(template: Path, out: Path, days: dict[int, dict[int, object]], lang: str = "fi") -> Path:
    """Fill a template as a provider would: header, day codes per Läsnäolo row, travel, a guidance log."""
    wb = openpyxl.load_workbook(template)
    lasku, asiakkaat, att, log = wb.worksheets[:4]
    lasku["B3"] = "INV-2026-11"
    lasku["B5"] = dt.date(2026, 11, 30)
    for row, codes in days.items():
        for day, code in codes.items():
            att[day_cell(day, row)] = code
    asiakkaat["I2"] = 20
    asiakkaat["L4"] = dt.date(2026, 11, 16)
    individual, group = GUIDANCE_TYPES[lang]
    for i, (decision_id, day, hours, kind) in enumerate([
        ("D-01", 3, 1.5, individual), ("D-01", 17, 1, individual), ("D-01", 5, 2, group),
        ("D-02", 12, 2.25, individual), ("D-03", 4, 2, individual),
    ], start=2):
        log[f"A{i}"], log[f"C{i}"], log[f"D{i}"], log[f"E{i}"], log[f"F{i}"] = decision_id, dt.date(2026, 11, day), hours, kind, "Ohjaaja"
    wb.save(out)
    return out


# November 2026: Mondays are 2, 9, 16, 23, 30. D-01 (4 days a week), D-02 (3, from the 10th), D-03 (2, to the 20th).
CLEAN_DAYS = {
    3: {2: "X", 3: "x", 4: 6, 5: 4.5, 9: "X", 10: "X", 11: "S", 12: "X", 16: "X", 17: "P", 23: "X", 24: "X"},
    4: {10: "X", 11: "X", 12: "L", 17: 5, 18: "X"},
    5: {3: "X", 5: "X", 16: "X"},
}


@pytest.mark.slow
@soffice
def test_filled_template_computes_the_invoice(nov_template, tmp_path):
    filled = fill(nov_template, tmp_path / "filled.xlsx", CLEAN_DAYS)
    wb = openpyxl.load_workbook(convert(filled, "xlsx", tmp_path / "lo"), data_only=True)
    asiakkaat = wb["Asiakkaat"]
    # days, day value, fee, meals, meal comp days, travel, individual h, group h, total
    got = [[asiakkaat[f"{c}{r}"].value for c in "DEFGHIJKN"] for r in (2, 3, 4)]
    assert got == [
        [10, 50, 500, 10, 0, 20, 2.5, 2, 588],  # 500 + 10 x 6.80 + 20
        [4, 45.5, 182, 0, 4, None, 2.25, 0, 202],  # 182 + 4 x 5.00
        [3, 50, 150, 0, 0, None, 2, 0, 150],
    ]
    assert [wb["Läsnäolo"][f"AI{r}"].value for r in (3, 4, 5)] == [10, 4, 3]
    assert wb["Lasku"]["B6"].value == 940


def check(path: Path, inbox: Path, outbox: Path) -> tuple[int, list[tuple[str, str]], str]:
    """`reconcile check FILE`: exit status, (rule, cell) of each finding printed, and the summary line."""
    result = CliRunner().invoke(main, ["check", "--config", str(ROOT / "config"), "--inbox", str(inbox),
                                       "--outbox", str(outbox), str(path)])
    lines = result.stdout.strip().splitlines()
    findings = sorted((line.split()[0], line.split()[2].rstrip(":")) for line in lines[:-1] if not line.startswith(" "))
    return result.exit_code, findings, lines[-1]


@pytest.mark.slow
@soffice
def test_round_trip_through_reconcile_check(inbox, tmp_path):
    from reconcile.read import registers as registers_mod

    regs = registers_mod.read_registers(inbox, CONFIG)
    template = write_template(regs, CONFIG, P1, NOV, tmp_path / "t.xlsx")
    clean = convert(fill(template, tmp_path / "clean.xlsx", CLEAN_DAYS), "xlsx", tmp_path / "lo-clean")
    code, findings, summary = check(clean, inbox, tmp_path / "outbox")
    assert (code, findings) == (0, [])
    assert "laskutettu 940,00\u00a0€, hyväksytty 940,00\u00a0€, pidätetty 0,00\u00a0€, hylätty 0,00\u00a0€; tila: hyväksytty" in summary

    planted = {row: dict(codes) for row, codes in CLEAN_DAYS.items()}
    planted[3][6] = "X"  # a fifth day in the week of 2.-8.11. for D-01 (4 days a week); its meal follows
    planted[4][19] = 3  # a 3-hour day for D-02
    planted[5][4] = "Z"  # not a day code, for D-03
    bad = convert(fill(template, tmp_path / "bad.xlsx", planted), "xlsx", tmp_path / "lo-bad")
    code, findings, summary = check(bad, inbox, tmp_path / "outbox")
    assert code == 1
    # The template counts the 3-hour day and the unknown code as the checker does (they claim attendance),
    # so no R208: each is rejected on its own cell.
    assert findings == [
        ("R205", f"Läsnäolo!{day_cell(6, 3)}"),
        ("R206", f"Läsnäolo!{day_cell(19, 4)}"),
        ("R212", "Asiakkaat!G2"),  # the fifth day's meal exceeds the days paid
        ("R212", "Asiakkaat!H3"),  # the 3-hour day's meal compensation exceeds the days paid
        ("V105", f"Läsnäolo!{day_cell(4, 5)}"),
    ]
    # By hand: D-01 11 days: 550.00 + 11 x 6.80 + 20.00 = 644.80, the fifth day's 50.00 and a meal 6.80 rejected;
    # D-02 5 days: 227.50 + 5 x 5.00 = 252.50, the 3-hour day's 45.50 and 5.00 rejected; D-03 4 days: 200.00,
    # the unknown code's 50.00 rejected. Claimed 1 097.30, rejected 157.30, approved 940.00.
    assert "laskutettu 1\u00a0097,30\u00a0€, hyväksytty 940,00\u00a0€, pidätetty 0,00\u00a0€, hylätty 157,30\u00a0€" in summary


@pytest.mark.slow
@soffice
def test_values_typed_as_text_count_and_add_up_as_the_checker_reads_them(inbox, tmp_path):
    """Issue 15, items 1 and 2: hours and money typed as text (as many locales store them, or pasted)
    are counted and summed as the checker reads them, after a save through LibreOffice."""
    from reconcile.read import registers as registers_mod

    template = write_template(registers_mod.read_registers(inbox, CONFIG), CONFIG, P1, NOV, tmp_path / "t.xlsx")
    days = {row: dict(codes) for row, codes in CLEAN_DAYS.items()}
    days[3][5] = "4,5"  # a half-hour day as text: a day for the checker
    days[3][11] = " s "  # sick, typed loosely: not a day
    days[4][17] = "5.0"  # hours as text with a point
    filled = fill(template, tmp_path / "filled.xlsx", days)
    wb = openpyxl.load_workbook(filled)
    asiakkaat, log = wb["Asiakkaat"], wb["Ohjaus"]
    asiakkaat["I2"] = "12,50"  # travel as text with a decimal comma
    asiakkaat["H3"] = "4"  # meal compensation days typed over the formula, as text
    asiakkaat["I4"] = "6,40 €"
    log["D2"] = "1,5"  # guidance hours as text
    wb.save(filled)
    lo = openpyxl.load_workbook(convert(filled, "xlsx", tmp_path / "lo"), data_only=True)
    asiakkaat = lo["Asiakkaat"]
    # By hand: D-01 10 days (S and P are not days): 500.00 + 10 x 6.80 + 12.50 = 580.50, guidance 1.5 + 1 = 2.5 h;
    # D-02 4 days: 182.00 + 4 x 5.00 = 202.00; D-03 3 days: 150.00 + 6.40 = 156.40. Invoice 938.90.
    assert [lo["Läsnäolo"][f"AI{r}"].value for r in (3, 4, 5)] == [10, 4, 3]
    assert [asiakkaat[f"N{r}"].value for r in (2, 3, 4)] == [580.5, 202, 156.4]
    assert asiakkaat["J2"].value == 2.5
    assert lo["Lasku"]["B6"].value == 938.9
    code, findings, summary = check(convert(filled, "xlsx", tmp_path / "lo"), inbox, tmp_path / "outbox")
    assert (code, findings) == (0, [])
    assert "laskutettu 938,90\u00a0€, hyväksytty 938,90\u00a0€" in summary


@pytest.mark.slow
@soffice
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_round_trip_in_swedish_and_english(inbox, tmp_path, lang):
    from reconcile.read import registers as registers_mod

    template = write_template(registers_mod.read_registers(inbox, CONFIG), CONFIG, P1, NOV, tmp_path / "t.xlsx", lang=lang)
    filled = convert(fill(template, tmp_path / "filled.xlsx", CLEAN_DAYS, lang), "xlsx", tmp_path / "lo")
    code, findings, summary = check(filled, inbox, tmp_path / "outbox")
    assert (code, findings) == (0, [])
    assert "laskutettu 940,00\u00a0€, hyväksytty 940,00\u00a0€" in summary  # P1 writes Finnish in the register


@pytest.mark.slow
@soffice
def test_template_prints_one_page_a_sheet_in_libreoffice(nov_template, tmp_path):
    pdf = convert(nov_template, "pdf", tmp_path / "pdf")
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+5$", pages, re.M), pages  # the five visible sheets, the helper not printed
