"""Stage 1a of reading: a workbook's visible sheets as grids, and tables found by header text.

`open_book` is the one place that touches a spreadsheet library (openpyxl in
read-only, values-only mode, external links not kept); everything after it
sees a `Grid`: a sheet name and its rows as (spreadsheet row number, raw
values), error values as `cells.CellError`. A faster backend can replace
`open_book` without touching the rest.

`find_sheet` finds a sheet by its fi/sv/en name (hidden sheets never count);
`find_table` finds the header row (the first row among the first 20 holding
the model's key header), maps each model column to its column letter by
header text, and yields the data rows with their spreadsheet row numbers,
blank rows and a trailing totals row left out. The declared <dimension> of a
sheet is never trusted: rows are read as they are stored.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from reconcile import cells
from schemas import SHEETS, ColumnSpec

HEADER_SEARCH_ROWS = 20
TOTALS = ("yhteensä", "totalt", "total")


def norm(value: Any) -> str:
    """Header text for comparison: trimmed, case-folded, inner white space collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", cells.clean(str(value))).casefold()


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


def open_book(path: Path) -> Book:
    """Read every visible sheet of an .xlsx file into memory and close the file."""
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
                    rows.append((n, tuple(_raw(v) for v in values)))
            grids.append(Grid(ws.title, rows))
        return Book(grids, hidden)
    finally:
        wb.close()


def read_csv(path: Path, name: str) -> Book:
    """A register as CSV (UTF-8 with or without BOM, `;` or `,` separated) as a one-sheet book."""
    data = path.read_bytes().decode("utf-8-sig")
    first = data.split("\n", 1)[0]
    sep = ";" if first.count(";") >= first.count(",") else ","
    rows = []
    for n, values in enumerate(csv.reader(io.StringIO(data, newline=""), delimiter=sep), start=1):
        values = tuple(_raw(v) if v != "" else None for v in values)
        if any(v is not None for v in values):
            rows.append((n, values))
    return Book([Grid(name, rows)])


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
    key_names = {norm(n) for k in keys for n in k.names}
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
        names = {norm(n) for n in spec.names}
        index = next((i for i, h in enumerate(normed) if h in names), None)
        if index is None:
            missing.append(spec)
        else:
            columns[spec.field] = index
    rows = list(rows_with_values([(n, v) for n, v in grid.rows if n > header_row]))
    key = next(k for k in keys if k.field in columns)
    if rows:
        last = rows[-1][1]
        first = value(last, columns[key.field])
        if cells.is_empty(first) or norm(first) in TOTALS:
            rows = rows[:-1]
    return Table(grid, header_row, header, columns, missing, rows)


def labels(grid: Grid, specs: list[ColumnSpec]) -> dict[str, tuple[int, Any]]:
    """A label/value block (labels in column A, values in column B): field -> (row, raw value)."""
    out: dict[str, tuple[int, Any]] = {}
    for spec in specs:
        names = {norm(n) for n in spec.names}
        for n, values in grid.rows:
            if norm(value(values, 0)) in names:
                out[spec.field] = (n, value(values, 1))
                break
    return out


def rows_with_values(rows: list[tuple[int, tuple]]) -> Iterator[tuple[int, tuple]]:
    """Rows holding something other than empty text (a cell of spaces is blank)."""
    for n, values in rows:
        if any(not cells.is_empty(v) for v in values):
            yield n, values
