"""Tiny-workbook builders for tests: write a real .xlsx (or .csv) from Python lists.

Keys of a row dict are the schemas' normalised field names (`decision_id`,
`fee_cents`, ...) or raw header text (anything that is not a field name is
written as the header as given). On `Läsnäolo`, an int key `7` writes the day
header as the number 7, a str key `"7"` as text, a `datetime.date` key as a
real date. Values are written exactly as given: `"2,5"` stays text, `2.5` is a
number, a `datetime.date` is a real date, `"#REF!"` is an error value (both
engines), `Formula("=B2*2", 5)` a formula with its cached result (xlsxwriter
only writes cached results; openpyxl writes the formula alone), `None` an
empty cell.

Layout (deterministic, so a test can name the cell it expects):
- `Lasku`: labels in column A, values in column B, from row `start_row` on,
  in the order of the header dict. `label_cell(header, key)` -> "B3".
- table sheets: `start_row - 1` rows above the header (the first holds
  `title` when given), the header on `start_row`, data rows below in order;
  columns A, B, ... in first-seen key order over all rows.
  `cell(rows, key, index, start_row)` -> "K7".

    write_invoice(path, header, clients, attendance, guidance=None, engine="openpyxl", lang="fi") -> Path
    write_decisions(path, rows, ...) / write_providers(path, rows, ...) -> Path  (.csv paths write CSV)
    write_sheets(path, {sheet: [[...], ...]}, engine=..., hidden=()) -> Path     (raw grids)
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from schemas import SHEETS, columns
from schemas.invoice import AttendanceKeys, Clients, GuidanceLog, InvoiceHeader
from schemas.registers import Decisions, Providers

LANG_INDEX = {"fi": 0, "sv": 1, "en": 2}
ERROR_VALUES = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")


@dataclass(frozen=True)
class Formula:
    """A formula cell; `cached` is the result stored with it (xlsxwriter only)."""

    text: str
    cached: Any = None


def sheet_name(kind: str, lang: str = "fi") -> str:
    return SHEETS[kind][LANG_INDEX[lang]]


def headers(model: type, lang: str = "fi") -> dict[str, str]:
    """Field name -> header text in `lang`."""
    return {c.field: c.header(lang) for c in columns(model)}


def keys_of(rows: Iterable[dict]) -> list:
    """The columns of a table: every key of every row, in first-seen order."""
    out: list = []
    for r in rows:
        for k in r:
            if k not in out:
                out.append(k)
    return out


def cell(rows: list[dict], key: Any, index: int, start_row: int = 1) -> str:
    """The cell (`K7`) where `rows[index][key]` was written by a table writer."""
    return f"{get_column_letter(keys_of(rows).index(key) + 1)}{start_row + 1 + index}"


def label_cell(header: dict, key: str, start_row: int = 1) -> str:
    """The `Lasku` value cell of `key` (`B3`)."""
    return f"B{start_row + list(header).index(key)}"


def _header_text(key: Any, names: dict[str, str]) -> Any:
    if isinstance(key, str):
        return names.get(key, key)
    return key  # day headers: int or date, written as such


def table(rows: list[dict], model: type | None, lang: str = "fi", start_row: int = 1, title: str | None = None) -> list[list]:
    """A grid: filler rows, the header row, then the data rows."""
    names = headers(model, lang) if model is not None else {}
    keys = keys_of(rows)
    grid: list[list] = [[] for _ in range(start_row - 1)]
    if title is not None and grid:
        grid[0] = [title]
    grid.append([_header_text(k, names) for k in keys])
    for r in rows:
        grid.append([r.get(k) for k in keys])
    return grid


def lasku(header: dict, lang: str = "fi", start_row: int = 1) -> list[list]:
    names = headers(InvoiceHeader, lang)
    grid: list[list] = [[] for _ in range(start_row - 1)]
    for k, v in header.items():
        grid.append([names.get(k, k), v])
    return grid


def write_sheets(path: Path, sheets: dict[str, list[list]], engine: str = "openpyxl", hidden: Iterable[str] = ()) -> Path:
    """Write raw grids, one sheet each, in the given order; `hidden` sheets are hidden."""
    path = Path(path)
    hidden = set(hidden)
    if engine == "openpyxl":
        wb = Workbook()
        wb.remove(wb.active)
        for name, grid in sheets.items():
            ws = wb.create_sheet(name)
            for r, values in enumerate(grid, start=1):
                for c, v in enumerate(values, start=1):
                    if v is None:
                        continue
                    ws.cell(row=r, column=c).value = v.text if isinstance(v, Formula) else v
                    if isinstance(v, (dt.date, dt.datetime)):
                        ws.cell(row=r, column=c).number_format = "d.m.yyyy"
            if name in hidden:
                ws.sheet_state = "hidden"
        wb.save(path)
        return path
    if engine in ("xlsxwriter", "inline"):
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path), {"constant_memory": engine == "inline"})  # inline: inline strings
        date_fmt = wb.add_format({"num_format": "d.m.yyyy"})
        for name, grid in sheets.items():
            ws = wb.add_worksheet(name)
            for r, values in enumerate(grid):
                for c, v in enumerate(values):
                    if v is None:
                        continue
                    if isinstance(v, Formula):
                        ws.write_formula(r, c, v.text, None, "" if v.cached is None else v.cached)
                    elif isinstance(v, (dt.date, dt.datetime)):
                        ws.write_datetime(r, c, v, date_fmt)
                    elif isinstance(v, str) and v in ERROR_VALUES:
                        ws.write_formula(r, c, "=" + {"#N/A": "NA()"}.get(v, "1/0"), None, v)
                    elif isinstance(v, str):
                        ws.write_string(r, c, v)
                    else:
                        ws.write(r, c, v)
            if name in hidden:
                ws.hide()
        wb.close()
        return path
    raise ValueError(f"unknown engine {engine!r}")


def write_invoice(
    path: Path,
    header: dict,
    clients: list[dict],
    attendance: list[dict],
    guidance: list[dict] | None = None,
    engine: str = "openpyxl",
    lang: str = "fi",
    start_row: int = 1,
    title: str | None = None,
    extra_sheets: dict[str, list[list]] | None = None,
    hidden: Iterable[str] = (),
    omit: Iterable[str] = (),
) -> Path:
    """An invoice workbook. `omit` drops sheet kinds ("clients", ...); `start_row` is
    the header row of the table sheets (and the first row of `Lasku`)."""
    omit = set(omit)
    sheets: dict[str, list[list]] = {}
    if "invoice" not in omit:
        sheets[sheet_name("invoice", lang)] = lasku(header, lang, start_row)
    if "clients" not in omit:
        sheets[sheet_name("clients", lang)] = table(clients, Clients, lang, start_row, title)
    if "attendance" not in omit:
        sheets[sheet_name("attendance", lang)] = table(attendance, AttendanceKeys, lang, start_row, title)
    if guidance is not None and "guidance" not in omit:
        sheets[sheet_name("guidance", lang)] = table(guidance, GuidanceLog, lang, start_row, title)
    sheets.update(extra_sheets or {})
    return write_sheets(path, sheets, engine=engine, hidden=hidden)


def _write_register(path: Path, kind: str, model: type, rows: list[dict], engine: str, lang: str,
                    start_row: int, sep: str, bom: bool) -> Path:
    path = Path(path)
    grid = table(rows, model, lang, start_row)
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter=sep)
            for values in grid:
                w.writerow(["" if v is None else v for v in values])
        return path
    return write_sheets(path, {sheet_name(kind, lang): grid}, engine=engine)


def write_decisions(path: Path, rows: list[dict], engine: str = "openpyxl", lang: str = "fi",
                    start_row: int = 1, sep: str = ";", bom: bool = False) -> Path:
    return _write_register(path, "decisions", Decisions, rows, engine, lang, start_row, sep, bom)


def write_providers(path: Path, rows: list[dict], engine: str = "openpyxl", lang: str = "fi",
                    start_row: int = 1, sep: str = ";", bom: bool = False) -> Path:
    return _write_register(path, "providers", Providers, rows, engine, lang, start_row, sep, bom)


# Valid sample values (check characters correct) for tests that need a clean workbook.
YTUNNUS = ("1234561-2", "7654321-2", "1234562-0")
HETU = ("131052-308T", "010190A123M", "150585-642B", "020202Y4564", "030303B456U")


def sample_invoice(month: dt.date = dt.date(2026, 11, 1), provider_id: str = YTUNNUS[0],
                   invoice_no: str = "2026-001") -> tuple[dict, list[dict], list[dict]]:
    """A clean invoice for two decisions: (header, clients, attendance), euros as text with a comma."""
    header = {"provider_name": "Testi Oy", "provider_id": provider_id, "invoice_no": invoice_no,
              "billing_month": month.strftime("%Y-%m"), "invoice_date": month.replace(day=28),
              "total_cents": "250,00"}
    clients = [
        {"decision_id": "D-1", "hetu": HETU[0], "name": "Asiakas Yksi", "days_claimed": 2,
         "day_value_cents": "50,00", "fee_cents": "100,00", "meals": 2, "meal_comp_days": 0,
         "travel_cents": "0,00", "guidance_individual_h100": "2,5", "total_cents": "113,60"},
        {"decision_id": "D-2", "hetu": HETU[1], "name": "Asiakas Kaksi", "days_claimed": 3,
         "day_value_cents": "50,00", "fee_cents": "150,00", "meals": 0, "meal_comp_days": 0,
         "travel_cents": "0,00", "guidance_individual_h100": 2, "total_cents": "150,00"},
    ]
    attendance = [
        {"decision_id": "D-1", "hetu": HETU[0], **{d: None for d in range(1, 32)}, 2: "X", 3: "6"},
        {"decision_id": "D-2", "hetu": HETU[1], **{d: None for d in range(1, 32)}, 4: "x", 5: 4.5, 6: "X", 9: "S"},
    ]
    return header, clients, attendance
