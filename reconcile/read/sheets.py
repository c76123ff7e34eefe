"""Stage 1a of reading: a workbook's visible sheets as grids, and tables found by header text.

`open_book` is the one place that touches a spreadsheet library; everything
after it sees a `Grid`: a sheet name and its rows as (spreadsheet row number,
raw values, an empty cell as None), error values as `cells.CellError`.

It reads with python-calamine (Rust), which is many times faster than
openpyxl, and is given only what intake's scan (`intake.examine`) has
already proved safe: no DOCTYPE or entities, bounded depth, size and rows.
Two things calamine does not do as the contract needs are made good from
that same scan: error cells (calamine reads `#REF!` as an empty string) are
put back from the cached texts the scan recorded, by the sheet's part; and a
sheet whose furthest cell would make calamine allocate a rectangle of more
than `MAX_DENSE_CELLS` cells (one value at XFD1048576 is 17 billion cells,
and a failed allocation aborts the process) is never handed to calamine.
Such a workbook, or one whose sheets the scan could not trace to their
parts, is read the slow way, with openpyxl in read-only, values-only mode
(external links not kept), which streams rows as they are stored. Both
paths give the same grids: calamine's row and column offsets are kept
(`skip_empty_area=False`, so row 1 is the first row) and its empty strings
become None, as openpyxl gives them; openpyxl's read-only mode leaves the
`_x000D_` escapes of OOXML strings (a carriage return in an Alt+Enter header
written by xlsxwriter) in the text, which `_raw_openpyxl` undoes, as calamine
does. One difference is deliberate and harmless: calamine reads every number as a float (openpyxl gives 2 for 2.0)
and a date without a time as a date; `cells` reads both alike.

`find_sheet` finds a sheet by its fi/sv/en name (hidden sheets never count);
`find_table` finds the header row (the first row among the first 20 holding
the model's key header), maps each model column to its column letter by
header text, and yields the data rows with their spreadsheet row numbers,
blank rows and a trailing totals row left out (`_totals`). The declared <dimension> of a
sheet is never trusted: rows are read as they are stored.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from defusedxml import ElementTree as SafeET
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.escape import unescape
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from reconcile.read import cells
from reconcile.read.intake import Inspection
from schemas import SHEETS, ColumnSpec

HEADER_SEARCH_ROWS = 20
# The largest rectangle (rows x columns, from A1 to a sheet's furthest cell)
# handed to calamine: about 64 MB in calamine and 16 MB of Python lists. A
# full invoice (20,000 rows of 40 columns) is 800,000 cells.
MAX_DENSE_CELLS = 2_000_000
TOTALS = ("yhteensä", "totalt", "total")


def norm(value: Any) -> str:
    """Header text for comparison: trimmed, case-folded, inner white space collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", cells.clean(str(value))).casefold()


@functools.cache
def names_of(spec: ColumnSpec) -> frozenset[str]:
    """A column's accepted header texts, as `norm` gives them."""
    return frozenset(norm(n) for n in spec.names)


@dataclass
class Grid:
    """One sheet's stored rows: (1-based row number, raw values from column A on)."""

    name: str
    rows: list[tuple[int, tuple]]


@dataclass
class Book:
    """The visible sheets of a workbook, in workbook order; `hidden` names the others."""

    grids: list[Grid]
    hidden: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [g.name for g in self.grids]


def _raw(value: Any) -> Any:
    if isinstance(value, str) and value.strip().upper() in cells.ERROR_VALUES:
        return cells.CellError(value.strip().upper())
    return value


def _raw_openpyxl(value: Any) -> Any:
    """As `_raw`, with the `_x000D_` escapes of OOXML strings undone (openpyxl's read-only mode keeps them)."""
    if isinstance(value, str) and "_x" in value:
        value = unescape(value)
    return _raw(value)


class Unreadable(Exception):
    """Neither calamine nor openpyxl could read a workbook that intake found safe to open."""


def open_book(inspection: Inspection) -> Book:
    """Read every visible sheet of a file `intake.examine` found safe into memory and close the file.

    Any error of calamine (a LibreOffice row-only `<dimension ref="1:4"/>`,
    a sheet `state="show"`, a workbook part under another name) falls back
    to openpyxl; only a file neither can read raises `Unreadable`.
    """
    if inspection.mapped and all(s.exact and s.max_row * s.max_col <= MAX_DENSE_CELLS
                                 for s in inspection.sheets.values()):
        try:
            book = _open_calamine(inspection)
        except Exception:  # noqa: BLE001 - any error of the fast reader: the slow one decides
            book = None
        except BaseException as e:  # a Rust panic arrives as pyo3's PanicException, a BaseException
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            book = None
        if book is not None:
            return book
    try:
        return _open_openpyxl(inspection.path)
    except Exception as first:  # noqa: BLE001
        try:
            return _open_openpyxl(tolerant(inspection.path))
        except Exception:  # noqa: BLE001
            raise Unreadable(f"neither calamine nor openpyxl can read it ({type(first).__name__})") from first


SHEET_STATE_RE = re.compile(rb"(<(?:\w+:)?sheet\b[^>]*?\sstate=)([\"'])(?!(?:visible|hidden|veryHidden)\2)[^\"']*\2")


def tolerant(path: Path) -> io.BytesIO:
    """The package with what some programs write beyond the standard made standard, in memory.

    A sheet `state` other than visible, hidden or veryHidden (`"show"`) is
    read as visible, as Excel and LibreOffice read it. Only workbook parts
    (found through `[Content_Types].xml`) are touched; everything else is
    copied as it is.
    """
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        types = SafeET.fromstring(src.read("[Content_Types].xml"), forbid_dtd=True)
        workbooks = {el.get("PartName", "").lstrip("/") for el in types
                     if el.get("ContentType", "").endswith((".sheet.main+xml", ".template.main+xml"))}
        for info in src.infolist():
            data = src.read(info)
            if info.filename in workbooks:
                data = SHEET_STATE_RE.sub(rb'\1\2visible\2', data)
            dst.writestr(info, data)
    out.seek(0)
    return out


def _open_calamine(inspection: Inspection) -> Book | None:
    """The book through calamine, error cells put back; None when its sheets are not the scan's."""
    wb = CalamineWorkbook.from_path(str(inspection.path))
    try:
        sheets = [m for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        if any(m.name not in inspection.sheets for m in sheets):
            return None
        grids, hidden = [], []
        for meta in sheets:
            if meta.visible != SheetVisibleEnum.Visible:
                hidden.append(meta.name)
                continue
            data = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            for (row, col), text in inspection.sheets[meta.name].errors.items():
                while len(data) < row:
                    data.append([])
                values = data[row - 1]
                values.extend([""] * (col - len(values)))
                values[col - 1] = text
            rows = []
            for n, values in enumerate(data, start=1):
                values = tuple([None if v == "" else _raw(v) if v.__class__ is str and "#" in v else v
                                for v in values])
                if values.count(None) != len(values):
                    rows.append((n, values))
            grids.append(Grid(meta.name, rows))
        return Book(grids, hidden)
    finally:
        wb.close()


def _open_openpyxl(path: Path | io.BytesIO) -> Book:
    """The book through openpyxl in read-only mode: slower, streaming, for what calamine is not given."""
    wb = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        grids, hidden = [], []
        for ws in wb.worksheets:
            if ws.sheet_state != "visible":
                hidden.append(ws.title)
                continue
            ws.reset_dimensions()  # never trust the declared <dimension>
            rows = []
            for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if any(v is not None for v in values):
                    rows.append((n, tuple(_raw_openpyxl(v) for v in values)))
            grids.append(Grid(ws.title, rows))
        return Book(grids, hidden)
    finally:
        wb.close()


def read_csv(path: Path, name: str) -> Book:
    """A register as CSV (UTF-8 with or without BOM, `;` or `,` separated) as a one-sheet book."""
    data = path.read_bytes().decode("utf-8-sig")
    sep = max((";", ","), key=lambda s: _widest(data, s))  # ";" when both are as wide
    rows = []
    for n, values in enumerate(csv.reader(io.StringIO(data, newline=""), delimiter=sep), start=1):
        values = tuple(_raw(v) if v != "" else None for v in values)
        if any(v is not None for v in values):
            rows.append((n, values))
    return Book([Grid(name, rows)])


def _widest(data: str, sep: str) -> int:
    """The most fields in one of the first rows when split by `sep` (a title line above the header has one)."""
    rows = csv.reader(io.StringIO(data, newline=""), delimiter=sep)
    return max((len(r) for r in itertools.islice(rows, HEADER_SEARCH_ROWS)), default=0)


def find_sheet(book: Book, kind: str) -> Grid | None:
    """The visible sheet named by one of the kind's fi/sv/en names, trimmed and case-folded."""
    wanted = {norm(n) for n in SHEETS[kind]}
    for g in book.grids:
        if norm(g.name) in wanted:
            return g
    return None


@dataclass
class Table:
    """A sheet's table: where its header is and where each model column sits."""

    grid: Grid
    header_row: int
    header: tuple  # the header row's raw values
    columns: dict[str, int]  # field -> 0-based column index
    missing: list[ColumnSpec]  # model columns not found
    rows: list[tuple[int, tuple]]  # data rows (blank rows and a trailing totals row left out)

    def letter(self, field_name: str) -> str:
        return get_column_letter(self.columns[field_name] + 1)

    def cell(self, field_name: str, row: int) -> str:
        return f"{self.letter(field_name)}{row}"

    def title(self, field_name: str) -> str:
        """A column's header as the workbook spells it, white space made single spaces."""
        return re.sub(r"\s+", " ", cells.clean(str(self.header[self.columns[field_name]])))

    def letters(self) -> dict[str, str]:
        return {f: get_column_letter(i + 1) for f, i in self.columns.items()}

    def closest(self, spec: ColumnSpec) -> str:
        """The header text found that is closest to a missing column's name (for F004)."""
        return closest(spec, self.header)


def closest(spec: ColumnSpec, found: Any) -> str:
    """Of the values `found`, the text closest to one of the column's names (difflib)."""
    texts = {norm(h): cells.clean(str(h)) for h in found if not cells.is_empty(h)}
    best, score = "", 0.0
    for name in spec.names:
        for n, h in texts.items():
            s = difflib.SequenceMatcher(None, norm(name), n).ratio()
            if s > score:
                best, score = h, s
    return best


def value(row: tuple, index: int | None) -> Any:
    if index is None or index >= len(row):
        return None
    return row[index]


def find_table(grid: Grid, specs: list[ColumnSpec]) -> Table | None:
    """The table of a sheet, or None when no row among the first 20 holds a key header."""
    keys = [s for s in specs if s.key]  # Ohjaus: Päätösnumero or Henkilötunnus
    key_names = set().union(*map(names_of, keys))
    header_row, header = None, ()
    for n, values in grid.rows:
        if n > HEADER_SEARCH_ROWS:
            break
        if any(norm(v) in key_names for v in values):
            header_row, header = n, values
            break
    if header_row is None:
        return None
    normed = [norm(h) for h in header]
    columns, missing = {}, []
    for spec in specs:
        names = names_of(spec)
        index = next((i for i, h in enumerate(normed) if h in names), None)
        if index is None:
            missing.append(spec)
        else:
            columns[spec.field] = index
    rows = list(rows_with_values([(n, v) for n, v in grid.rows if n > header_row]))
    if rows and _totals(rows[-1][1], [columns[k.field] for k in keys if k.field in columns]):
        rows = rows[:-1]
    return Table(grid, header_row, header, columns, missing, rows)


def _totals(row: tuple, key_columns: list[int]) -> bool:
    """A trailing totals row: its key cells empty, or one saying `Yhteensä`, `Totalt` or `Total`.

    A sheet with two key columns (Ohjaus: Päätösnumero or Henkilötunnus)
    keeps a last row that fills only the second. A colon after the word
    (`Yhteensä:`) is allowed, as a clerk writes it.
    """
    keys = [value(row, i) for i in key_columns]
    return all(cells.is_empty(k) for k in keys) or any(norm(k).rstrip(":").rstrip() in TOTALS for k in keys)


def labels(grid: Grid, specs: list[ColumnSpec]) -> dict[str, tuple[int, Any]]:
    """A label/value block (labels in column A, values in column B): field -> (row, raw value).

    A label may end in a colon (`Y-tunnus:`), as a clerk often writes it.
    """
    out: dict[str, tuple[int, Any]] = {}
    for spec in specs:
        names = names_of(spec)
        for n, values in grid.rows:
            if norm(value(values, 0)).rstrip(":").rstrip() in names:
                out[spec.field] = (n, value(values, 1))
                break
    return out


def rows_with_values(rows: list[tuple[int, tuple]]) -> Iterator[tuple[int, tuple]]:
    """Rows holding something other than empty text (a cell of spaces is blank)."""
    for n, values in rows:
        if any(not cells.is_empty(v) for v in values):
            yield n, values
