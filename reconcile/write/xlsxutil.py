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


# --- the package-validity check every annotated copy passes before it is shipped -----------------

_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_SHEET_TYPES = ("spreadsheetml.worksheet+xml", "spreadsheetml.comments+xml", "spreadsheetml.table+xml",
                "spreadsheetml.pivotTable+xml", "spreadsheetml.chartsheet+xml", "spreadsheetml.dialogsheet+xml")
# A reference attribute (r, ref, sqref) naming a column past XFD: four letters, or three after XFD.
_FAR_COLUMN_RE = re.compile(rb"\s(?:r|ref|sqref)=\"[^\"]*?(?<![A-Za-z])\$?(?:[A-Z]{4,}|[Y-Z][A-Z]{2}|X[G-Z][A-Z]|XF[E-Z])"
                            rb"\$?[0-9]")
# A row number of seven digits or more in a reference attribute (checked against 1,048,576 one by one).
_BIG_ROW_RE = re.compile(rb"\s(?:r|ref|sqref)=\"[^\"]*?(?<![0-9])([0-9]{7,})")
_COL_SPAN_RE = re.compile(rb"<(?:\w+:)?col\b[^>]*?\s(?:min|max)=\"([0-9]{5,})\"")
_SQREF_TEXT_RE = re.compile(rb"<(?:\w+:)?sqref>([^<]*)<")
_MAX_ROW, _MAX_COL = 1_048_576, 16_384
_STYLE_RE = re.compile(rb"<(?:\w+:)?c\b[^>]*?\ss=\"([0-9]+)\"")
_CELL_XFS_RE = re.compile(rb"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", re.DOTALL)
_XF_RE = re.compile(rb"<(?:\w+:)?xf\b")


def package_problems(path: Path) -> list[str]:
    """What would make Excel refuse (or offer to repair) the .xlsx at `path`; empty when none.

    Checked: the zip and each XML part's well-formedness (expat, no DTD);
    a content type for every part (an Override or a Default by extension);
    every internal relationship's source and target present; no cell,
    row or column reference beyond XFD1048576 in worksheets, comments,
    tables and pivot tables. The checks are regular expressions over the
    bytes and expat without handlers, so a large sheet costs little.
    """
    from urllib.parse import unquote
    from xml.parsers import expat

    from defusedxml import ElementTree as SafeET

    problems: list[str] = []
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        return [f"not a zip archive ({e})"]
    with archive:
        names = [i.filename for i in archive.infolist() if not i.filename.endswith("/")]
        folded = {n.casefold(): n for n in names}
        if len(folded) != len(names):
            problems.append("two parts share a name")
        if "[Content_Types].xml" not in names:
            return problems + ["no [Content_Types].xml"]
        types = SafeET.fromstring(archive.read("[Content_Types].xml"), forbid_dtd=True)
        defaults = {el.get("Extension", "").casefold(): el.get("ContentType", "") for el in types
                    if el.tag == _CT_NS + "Default"}
        overrides = {el.get("PartName", "").lstrip("/").casefold(): el.get("ContentType", "") for el in types
                     if el.tag == _CT_NS + "Override"}
        for name in overrides:
            if name not in folded:
                problems.append(f"a content type for the missing part {name}")
        styles = next((folded[n] for n, kind in overrides.items() if kind.endswith("spreadsheetml.styles+xml")
                       and n in folded), None)
        cell_styles = _cell_style_count(archive.read(styles)) if styles else 1
        for name in names:
            if name == "[Content_Types].xml":
                continue
            kind = overrides.get(name.casefold()) or defaults.get(name.rpartition(".")[2].casefold())
            if not kind:
                problems.append(f"no content type for {name}")
                continue
            if not (kind.endswith("xml") or name.endswith((".rels", ".xml"))):  # VML is often not XML
                continue
            data = archive.read(name)
            parser = expat.ParserCreate()
            parser.StartDoctypeDeclHandler = lambda *a: (_ for _ in ()).throw(ValueError("a DTD"))
            try:
                parser.Parse(data, True)
            except (expat.ExpatError, ValueError) as e:
                problems.append(f"{name} is not well-formed XML ({e})")
                continue
            if name.endswith(".rels"):
                problems.extend(_relationship_problems(name, data, folded, unquote, SafeET))
            elif kind.endswith(_SHEET_TYPES):
                problems.extend(_reference_problems(name, data))
                used = {int(n) for n in _STYLE_RE.findall(data)} if kind.endswith("worksheet+xml") else set()
                if used and max(used) >= cell_styles:
                    problems.append(f"{name} uses cell style {max(used)}; the stylesheet has {cell_styles}")
        if "_rels/.rels" not in names:
            problems.append("no package relationships (_rels/.rels)")
    return problems


def _relationship_problems(name: str, data: bytes, folded: dict[str, str], unquote, SafeET) -> list[str]:
    """A rels part's source part must exist, and every internal target."""
    import posixpath

    folder, _, file = name.rpartition("_rels/")
    source = folder + file[: -len(".rels")]
    out = []
    if source and source.casefold() not in folded:
        out.append(f"{name} belongs to the missing part {source}")
    for rel in SafeET.fromstring(data, forbid_dtd=True):
        if rel.tag != _REL_NS + "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = unquote(rel.get("Target", "").split("#")[0])
        if not target:
            continue
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        if part.casefold() not in folded:
            out.append(f"{name} points at the missing part {part}")
    return out


def _reference_problems(name: str, data: bytes) -> list[str]:
    """Cell, row and column references beyond XFD1048576."""
    out = []
    far = _FAR_COLUMN_RE.search(data)
    if far:
        out.append(f"{name} references a column beyond XFD ({far.group(0).strip().decode(errors='replace')[:40]})")
    if any(int(m) > _MAX_ROW for m in _BIG_ROW_RE.findall(data)):
        out.append(f"{name} references a row beyond {_MAX_ROW}")
    if any(int(m) > _MAX_COL for m in _COL_SPAN_RE.findall(data)):
        out.append(f"{name} declares a column beyond XFD")
    for text in _SQREF_TEXT_RE.findall(data):  # conditional formats and validations of newer Excel (extLst)
        for token in re.split(rb"[\s:]+", text.replace(b"$", b"")):
            m = re.fullmatch(rb"([A-Z]{0,4})([0-9]{0,8})", token)
            if m and ((m.group(1) and _column(m.group(1)) > _MAX_COL) or (m.group(2) and int(m.group(2)) > _MAX_ROW)):
                out.append(f"{name} references {token.decode()} beyond XFD1048576")
                break
    return out


def _cell_style_count(styles: bytes) -> int:
    """How many cell formats (cellXfs entries) a stylesheet holds; a cell's `s` must be below it."""
    m = _CELL_XFS_RE.search(styles)
    return len(_XF_RE.findall(m.group(1))) if m else 0


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


# What a workbook holds beyond cells, by kind, to name what a copy lost (`content_kinds`).
_KIND_OF_TYPE = (("image/", "pictures"), ("drawingml.chart+xml", "charts"), ("drawing+xml", "drawings"),
                 ("threadedcomments+xml", "threaded_comments"), ("controlproperties+xml", "form_controls"),
                 ("pivotTable+xml", "pivot_tables"), ("slicer+xml", "slicers"), ("timeline+xml", "slicers"),
                 ("customXml", "other"), ("ms-office.activeX", "form_controls"), ("oleObject", "other"),
                 ("ms-excel.person+xml", "threaded_comments"))
_CONTROL_RE = re.compile(rb"ObjectType=\"(?!Note\")")
_HF_RE = re.compile(rb"<(?:\w+:)?legacyDrawingHF\b")


def content_kinds(path: Path) -> dict[str, int]:
    """How many parts of each kind beyond cells a workbook holds: pictures, charts, drawings, header and
    footer pictures, form controls, threaded comments, pivot tables, slicers, other."""
    from defusedxml import ElementTree as SafeET

    counts: dict[str, int] = {}
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        types = SafeET.fromstring(archive.read("[Content_Types].xml"), forbid_dtd=True)
        defaults = {el.get("Extension", "").casefold(): el.get("ContentType", "") for el in types
                    if el.tag == _CT_NS + "Default"}
        overrides = {el.get("PartName", "").lstrip("/").casefold(): el.get("ContentType", "") for el in types
                     if el.tag == _CT_NS + "Override"}
        for name in names:
            kind = overrides.get(name.casefold()) or defaults.get(name.rpartition(".")[2].casefold(), "")
            label = next((label for key, label in _KIND_OF_TYPE if key in kind), None)
            if name.lower().endswith(".vml"):
                data = archive.read(name)
                label = "form_controls" if _CONTROL_RE.search(data) else None
            elif kind.endswith("worksheet+xml") and _HF_RE.search(archive.read(name)):
                label = "header_pictures"
            if label:
                counts[label] = counts.get(label, 0) + 1
    return counts
