"""Helpers shared by the workbook writers (the last stage: results into .xlsx for people).

- safe path parts for the outbox (`safe_name`);
- text that came from a workbook is always written as a text cell, never a
  formula (`put_text` for openpyxl, `write_value` for xlsxwriter);
- deterministic files, so the same inputs give byte-identical workbooks:
  xlsxwriter already stamps fixed zip entry dates (1 January 1980 in memory,
  31 January 1980 through its temporary files) and writes the `created`
  property given to `set_properties` as both created and modified, so its
  workbooks need nothing more; openpyxl stamps the time of saving, which
  `normalise_zip` rewrites to fixed dates.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # openpyxl is only loaded on the annotation fallback
    from openpyxl.cell.cell import Cell

CORE_TIME_RE = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")
FILLS = {"reject": "FFC7CE", "hold": "F8CBAD", "adjust": "FFEB9C", "none": "BDD7EE"}
STRENGTH = {"reject": 3, "hold": 2, "adjust": 1, "none": 0}  # the strongest effect colours a shared cell
EURO_FORMAT = "#,##0.00"
LINE_POINTS = 15  # one line of 11-point text, as Excel and LibreOffice space it


def safe_name(text: str | None) -> str:
    """A path part (CONTRACT.md section 3): anything but letters, digits, `-` and `_`
    becomes `_`. Letters are Unicode letters, so `Åbo` stays `Åbo`; `.` and `/` never
    survive, so `../../x` stays inside its folder."""
    return "".join(c if c.isalpha() or c.isdecimal() or c in "-_" else "_" for c in text or "") or "_"


def batch_time(batch: str) -> dt.datetime:
    """The fixed time stamped into every output of a batch: the first day of its month."""
    year, month = (int(p) for p in batch.split("-")[:2])
    return dt.datetime(year, month, 1)


def put_text(cell: Cell, value: str) -> None:
    """Write a string into an openpyxl cell as text, even when it starts with `=`."""
    cell.value = value
    cell.data_type = "s"


def write_value(ws: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """xlsxwriter: a string always with `write_string`, numbers as numbers, None as blank."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, dt.date):
        ws.write_string(row, col, value.isoformat(), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def normalise_zip(path: Path, when: dt.datetime) -> None:
    """Rewrite a saved workbook with fixed zip dates and fixed core-property times."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as zin:
        parts = [(info.filename, zin.read(info)) for info in zin.infolist()]
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts:
            if name == "docProps/core.xml":
                data = CORE_TIME_RE.sub(lambda m: m.group(1) + stamp + m.group(3), data)
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zout.writestr(info, data)
    tmp.replace(path)


def fit_widths(ws: Any, widths: list[int], low: int = 6, high: int = 60) -> None:
    """xlsxwriter: set each column's width from the longest text written in it."""
    for col, width in enumerate(widths):
        ws.set_column(col, col, max(low, min(high, width + 2)))


def for_print(ws) -> None:
    """An xlsxwriter sheet prints on A4 landscape, one page wide, its header row on every page."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)


def lines_needed(text: str, width: int) -> int:
    """How many lines `text` takes wrapped in a column `width` characters wide.

    Words are wrapped whole, as a spreadsheet wraps them; a word longer than
    the line is broken. Slightly pessimistic (a proportional font fits more
    than `width` average characters), so the text is never cut off."""
    usable = max(1, width - 2)
    lines = 0
    for paragraph in text.split("\n"):
        line = 0
        count = 1
        for word in paragraph.split(" "):
            size = len(word)
            if line and line + 1 + size > usable:
                count += 1
                line = 0
            while size > usable:
                count += 1
                size -= usable
            line += size + (1 if line else 0)
        lines += count
    return lines
