"""The fast annotated.xlsx: patch the provider's .xlsx part by part instead of a full openpyxl load and save.

Last stage, called by `write.annotate.write_annotated` with a `Plan` (what to
mark, which columns to add, the review sheet). The provider's zip is copied
member by member, keeping the compressed bytes of every part that does not
change. Only these parts are rewritten:

- the worksheet XML of sheets with marks or added cells (a cell's `s` style
  index points at a clone of its old cellXfs entry with a new solid fill;
  new cells are inline strings or numbers, never formulas) and of sheets
  whose `tabSelected` must go;
- `xl/styles.xml` (new fills, a bold font, new cellXfs entries);
- the comments of each marked sheet: added to its existing comments part
  (appended to a cell's own comment) and to its legacy VML drawing (comment
  boxes, form buttons; a sheet has one), or new parts `xl/commentsN.xml`, a
  VML drawing, the sheet's rels and a `legacyDrawing` element; header and
  footer pictures (`legacyDrawingHF`) are another drawing and stay as they are;
- a sheet with a formula reaching the web or the file system (`https://`,
  `file:`): the formula is dropped and its cached value kept, as the
  openpyxl path does; rows and cells without their `r` reference get one;
  a workbook without a stylesheet gets the plainest one;
- a new first sheet (the review sheet): a worksheet part, `workbook.xml`
  (sheet list, defined names' `localSheetId`, active tab), its rels and
  `[Content_Types].xml`; `docProps/app.xml` loses its sheet title list
  (optional, Excel rebuilds it) and `docProps/core.xml` is replaced by
  fixed properties.

Edits are textual on the serialised XML, so namespace prefixes,
`mc:Ignorable` declarations and everything the program does not understand
stay as they were. XML is only ever parsed with defusedxml (rels, content
types, sheet list) or expat without DTDs. A workbook whose structure is not
the plain one this module expects raises `Unsupported`, and the caller falls
back to the openpyxl path for that workbook: strict OOXML, prefixed sheet
XML, links to other workbooks (or a formula pointing at one), a shared
formula reaching the web, a comments part or VML drawing of unusual form,
or a sheet already named like the review sheet.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import posixpath
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree as SafeET

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RT_WORKSHEET = REL_NS + "/worksheet"
RT_COMMENTS = REL_NS + "/comments"
RT_VML = REL_NS + "/vmlDrawing"
RT_OFFICE_DOC = REL_NS + "/officeDocument"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAX_ROW, MAX_COL = 1_048_576, 16_384  # a sheet's last cell, XFD1048576
EURO_NUMFMT = 4  # built-in "#,##0.00"

# Case-sensitive `<f` (XML tag names are), so the search skips ahead to each formula quickly.
EXTERNAL_FORMULA_RE = re.compile(r"<f\b[^>]*>[^<]*?(?i:\[\d+\]|https?://|file:)")
WEB_RE = re.compile(r"(?i:https?://|file:)")
LINK_RE = re.compile(r"\[\d+\]")
FORMULA_RE = re.compile(r"<f\b([^>]*?)(?:/>|>([^<]*)</f>)")
VALUE_RE = re.compile(r"<v>([^<]*)</v>|<v\s*/>")
ATTR_T_RE = re.compile(r"\s+t=\"(\w+)\"")
UNNUMBERED_RE = re.compile(r"<(?:row|c)(?=[\s>/])(?![^>]*\sr=)")
SHEET_DATA_RE = re.compile(r"<sheetData\b[^>]*?(?:/>|>(.*?)</sheetData>)", re.DOTALL)
ROW_RE = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.DOTALL)
CELL_RE = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
CELL_COL_RE = re.compile(r"<c\b[^>]*?\br=\"([A-Z]{1,3})\d+\"")
ATTR_R_RE = re.compile(r"\br=\"([A-Z]{0,3})(\d+)\"")
ATTR_S_RE = re.compile(r"\bs=\"(\d+)\"")
SPANS_RE = re.compile(r"\s+spans=\"[^\"]*\"")
TAB_SELECTED_RE = re.compile(r"\s+tabSelected=\"(?:1|true)\"")
XF_RE = re.compile(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.DOTALL)
FONT_RE = re.compile(r"<font\b[^>]*?(?:/>|>.*?</font>)", re.DOTALL)
MERGE_RE = re.compile(r"<mergeCell\b[^>]*?\bref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")
SHEET_STATE_RE = re.compile(r"(<(?:\w+:)?sheet\b[^>]*?\sstate=)([\"'])(?!(?:visible|hidden|veryHidden)\2)[^\"']*\2")
CONTENT_RE = re.compile(r"<(?:\w+:)?(?:v|is|f)\b")
ROOT_TAG_RE = re.compile(r"<(?![?!])[^>]*>")
ILLEGAL_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
TAIL_ELEMENTS = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                 "tableParts", "extLst")


class Unsupported(Exception):
    """The workbook's structure is not one this module patches; use the openpyxl path."""


@dataclass
class Note:
    color: str  # "FFC7CE"
    text: str
    width: int
    height: int


Value = tuple[object, "str | None"]  # a new cell: its value (str or number) and style (None, bold, euro, bold_euro)


@dataclass
class Columns:
    """Columns added after the last column holding a header or value in the table's rows, each with a width.

    When they would not fit before XFD they go on the review sheet instead
    (`Plan.columns_to_review`), each row keyed by `keys[row]` (its decision),
    under `moved_note`.
    """

    sheet: str
    header_row: int
    heads: list[Value]
    rows: dict[int, list[Value]]
    widths: list[float]
    keys: dict[int, str] = field(default_factory=dict)
    moved_note: str = ""
    key_heads: tuple[str, str] = ("", "")  # the review table's headers for the row number and the decision


@dataclass
class Plan:
    """Everything the annotation changes, independent of how it is written (openpyxl or this module)."""

    marks: dict[str, dict[str, Note]] = field(default_factory=dict)  # sheet -> cell ref -> note
    columns: Columns | None = None
    review_name: str = ""
    review_cells: dict[tuple[int, int], Value] = field(default_factory=dict)  # (row, col) -> value
    review_widths: dict[int, float] = field(default_factory=dict)
    author: str = "reconcile"
    lang: str = "fi"

    def review_note(self, text: str) -> int:
        """A line of text below what the review sheet holds (after one blank row); returns its row."""
        row = max((r for r, _ in self.review_cells), default=0) + 2
        self.review_cells[(row, 1)] = (text, "bold")
        return row

    def columns_to_review(self) -> None:
        """No room for the added columns on their sheet: put them on the review sheet, saying so."""
        add, self.columns = self.columns, None
        if add is None:
            return
        top = self.review_note(add.moved_note) + 1
        heads = [(add.key_heads[0], "bold"), (add.key_heads[1], "bold"), *add.heads]
        for col, value in enumerate(heads, 1):
            self.review_cells[(top, col)] = value
        for n, row in enumerate(sorted(add.rows), top + 1):
            line = [(row, None), (add.keys.get(row, ""), None), *add.rows[row]]
            for col, value in enumerate(line, 1):
                self.review_cells[(n, col)] = value


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_ref(ref: str) -> tuple[int, int]:
    """(row, column) of a plain cell reference (`K7`) inside A1:XFD1048576; ValueError otherwise."""
    m = re.fullmatch(r"([A-Z]{1,3})([1-9]\d{0,6})", ref)
    if not m:
        raise ValueError(ref)
    row, col = int(m.group(2)), col_index(m.group(1))
    if row > MAX_ROW or col > MAX_COL:
        raise ValueError(ref)
    return row, col


def _plain_ref(ref: str) -> bool:
    try:
        split_ref(ref)
    except ValueError:
        return False
    return True


def first_free_column(used: set[int], count: int) -> int | None:
    """The first column after every used one, when `count` columns fit there before XFD; else None."""
    first = max(used, default=0) + 1
    return first if first + count - 1 <= MAX_COL else None


def _text(value: str) -> str:
    return escape(ILLEGAL_XML_RE.sub("", value))


def _number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


# --- the zip container ---------------------------------------------------------------------------

@dataclass
class _Member:
    name: str
    raw: bytes | None  # compressed bytes copied as they are
    method: int
    crc: int
    size: int
    data: bytes | None = None  # new content, compressed on write


def _read_members(path: Path) -> list[_Member]:
    """Every member of a zip with its compressed bytes, from the central directory."""
    import zipfile

    blob = path.read_bytes()
    members = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise Unsupported(f"zip member {info.filename} is encrypted or oddly compressed")
            start = info.header_offset
            if blob[start:start + 4] != b"PK\x03\x04":
                raise Unsupported("bad local header")
            name_len, extra_len = struct.unpack("<HH", blob[start + 26:start + 30])
            begin = start + 30 + name_len + extra_len
            members.append(_Member(info.filename, blob[begin:begin + info.compress_size], info.compress_type,
                                   info.CRC, info.file_size))
    return members


def _write_members(path: Path, members: list[_Member], when: dt.datetime) -> None:
    """A deterministic zip: fixed dates, modes 0600, new parts deflated at level 6."""
    dos_time = (when.hour << 11) | (when.minute << 5) | (when.second // 2)
    dos_date = ((when.year - 1980) << 9) | (when.month << 5) | when.day
    central = []
    offset = 0
    with open(path, "wb") as out:
        for m in members:
            if m.data is not None:
                squash = zlib.compressobj(6, zlib.DEFLATED, -15)
                raw = squash.compress(m.data) + squash.flush()
                method, crc, size = 8, zlib.crc32(m.data), len(m.data)
            else:
                raw, method, crc, size = m.raw, m.method, m.crc, m.size
            name = m.name.encode("utf-8")
            flags = 0x800 if not m.name.isascii() else 0
            header = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, dos_time, dos_date, crc,
                                 len(raw), size, len(name), 0)
            out.write(header + name)
            out.write(raw)
            central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 0x0314, 20, flags, method, dos_time,
                                       dos_date, crc, len(raw), size, len(name), 0, 0, 0, 0, 0o600 << 16, offset)
                           + name)
            offset += len(header) + len(name) + len(raw)
        directory = b"".join(central)
        out.write(directory)
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory),
                              offset, 0))


class _Package:
    """The parts of one workbook, read lazily, with the changed ones kept as text."""

    def __init__(self, path: Path):
        self.members = _read_members(path)
        self.by_name = {m.name: m for m in self.members}
        self.changed: dict[str, str] = {}

    def has(self, name: str) -> bool:
        return name in self.by_name or name in self.changed

    def text(self, name: str) -> str:
        if name in self.changed:
            return self.changed[name]
        m = self.by_name.get(name)
        if m is None:
            raise Unsupported(f"missing part {name}")
        data = m.raw if m.method == 0 else zlib.decompress(m.raw, -15)
        return data.decode("utf-8")

    def put(self, name: str, text: str) -> None:
        self.changed[name] = text

    def save(self, out: Path, when: dt.datetime) -> None:
        members = []
        for m in self.members:
            if m.name in self.changed:
                m = _Member(m.name, None, 8, 0, 0, self.changed[m.name].encode("utf-8"))
            members.append(m)
        for name, text in self.changed.items():
            if name not in self.by_name:
                members.append(_Member(name, None, 8, 0, 0, text.encode("utf-8")))
        _write_members(out, members, when)

    def free_name(self, pattern: str) -> str:
        n = 1
        while self.has(pattern.format(n)):
            n += 1
        return pattern.format(n)


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def _relationships(pkg: _Package, part: str) -> list[dict[str, str]]:
    name = _rels_path(part)
    if not pkg.has(name):
        return []
    root = SafeET.fromstring(pkg.text(name).encode("utf-8"), forbid_dtd=True)
    return [dict(el.attrib) for el in root if el.tag == f"{{{PKG_REL_NS}}}Relationship"]


def _add_relationship(pkg: _Package, part: str, rel_type: str, target: str) -> str:
    """Add a relationship to a part's rels (created when missing); returns its new Id."""
    name = _rels_path(part)
    taken = {r.get("Id") for r in _relationships(pkg, part)}
    n = len(taken) + 1
    while f"rId{n}" in taken:
        n += 1
    rid = f"rId{n}"
    line = f'<Relationship Id="{rid}" Type="{rel_type}" Target={quoteattr(target)}/>'
    if pkg.has(name):
        text = pkg.text(name)
        if "</Relationships>" not in text:
            raise Unsupported(f"unexpected {name}")
        pkg.put(name, text.replace("</Relationships>", line + "</Relationships>", 1))
    else:
        pkg.put(name, f'{XML_HEAD}<Relationships xmlns="{PKG_REL_NS}">{line}</Relationships>')
    return rid


def _add_content_type(pkg: _Package, element: str, key: str) -> None:
    text = pkg.text("[Content_Types].xml")
    if key in text:
        return
    if "</Types>" not in text:
        raise Unsupported("unexpected [Content_Types].xml")
    pkg.put("[Content_Types].xml", text.replace("</Types>", element + "</Types>", 1))


def _relative(from_part: str, to_part: str) -> str:
    return posixpath.relpath(to_part, posixpath.dirname(from_part))


# --- styles ----------------------------------------------------------------------------------------

class _Styles:
    """New fills, a bold font and cellXfs clones, appended to xl/styles.xml."""

    def __init__(self, pkg: _Package, part: str):
        self.pkg, self.part = pkg, part
        text = pkg.text(part)
        self.text = text
        self.xfs = self._section("cellXfs", XF_RE)
        self.fonts = self._section("fonts", FONT_RE)
        fills = re.search(r"<fills\b[^>]*>(.*?)</fills>", text, re.DOTALL)
        if not self.xfs or not self.fonts or fills is None:
            raise Unsupported("styles.xml without fonts, fills or cellXfs")
        self.fill_count = len(re.findall(r"<fill\b", fills.group(1)))
        self.new_fills: list[str] = []
        self.new_fonts: list[str] = []
        self.new_xfs: list[str] = []
        self.fill_of: dict[str, int] = {}
        self.clone_of: dict[tuple[int, str], int] = {}
        self.named: dict[str, int] = {}
        self.bold_font: int | None = None

    def _section(self, tag: str, item: re.Pattern) -> list[str]:
        m = re.search(rf"<{tag}\b[^>]*>(.*?)</{tag}>", self.text, re.DOTALL)
        return item.findall(m.group(1)) if m else []

    def _fill(self, color: str) -> int:
        if color not in self.fill_of:
            argb = "FF" + color
            self.new_fills.append(f'<fill><patternFill patternType="solid"><fgColor rgb="{argb}"/>'
                                  f'<bgColor rgb="{argb}"/></patternFill></fill>')
            self.fill_of[color] = self.fill_count + len(self.new_fills) - 1
        return self.fill_of[color]

    def filled(self, style: int, color: str) -> int:
        """The index of a cellXfs entry like `style` with a solid fill of `color`."""
        key = (style, color)
        if key not in self.clone_of:
            if style >= len(self.xfs):
                raise Unsupported(f"cell style {style} out of range")
            xf = self.xfs[style]
            head_end = xf.index(">")
            head = xf[:head_end]
            head = re.sub(r"\s+(fillId|applyFill)=\"[^\"]*\"", "", head)
            head = head.rstrip("/") + f' fillId="{self._fill(color)}" applyFill="1"'
            head = head + ("/" if xf[head_end - 1] == "/" else "")
            self.new_xfs.append(head + xf[head_end:])
            self.clone_of[key] = len(self.xfs) + len(self.new_xfs) - 1
        return self.clone_of[key]

    def named_style(self, name: str | None) -> int | None:
        """New cells' styles: None (default), "bold", "euro", "bold_euro"."""
        if name is None:
            return None
        if name not in self.named:
            font = 0
            if "bold" in name:
                if self.bold_font is None:
                    base = self.fonts[0]
                    if re.search(r"<b\s*/>|<b\s", base):
                        bold = base
                    elif base.endswith("/>"):
                        bold = base[:-2] + "><b/></font>"
                    else:
                        bold = re.sub(r"(<font\b[^>]*>)", r"\1<b/>", base, count=1)
                    self.new_fonts.append(bold)
                    self.bold_font = len(self.fonts) + len(self.new_fonts) - 1
                font = self.bold_font
            numfmt = EURO_NUMFMT if "euro" in name else 0
            self.new_xfs.append(f'<xf numFmtId="{numfmt}" fontId="{font}" fillId="0" borderId="0" xfId="0"'
                                f'{" applyNumberFormat=" + chr(34) + "1" + chr(34) if numfmt else ""}'
                                f'{" applyFont=" + chr(34) + "1" + chr(34) if font else ""}/>')
            self.named[name] = len(self.xfs) + len(self.new_xfs) - 1
        return self.named[name]

    def save(self) -> None:
        text = self.text
        for tag, new, total in (("fills", self.new_fills, self.fill_count), ("fonts", self.new_fonts, len(self.fonts)),
                                ("cellXfs", self.new_xfs, len(self.xfs))):
            if not new:
                continue
            m = re.search(rf"(<{tag}\b[^>]*>)(.*?)(</{tag}>)", text, re.DOTALL)
            head = re.sub(r"\s+count=\"\d+\"", "", m.group(1))
            head = head[:-1] + f' count="{total + len(new)}">'
            text = text[:m.start()] + head + m.group(2) + "".join(new) + m.group(3) + text[m.end():]
        self.pkg.put(self.part, text)


# --- worksheets -------------------------------------------------------------------------------------

MINIMAL_STYLES = (f'{XML_HEAD}<styleSheet xmlns="{MAIN_NS}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
                  '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
                  'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/>'
                  '<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
                  'borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
                  'xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
                  '</cellStyles></styleSheet>')


def _drop_outside_formulas(text: str) -> str:
    """Formulas reaching the web or the file system replaced by their cached values, as the openpyxl path does.

    A formula holding `https://` or `file:` (HYPERLINK, WEBSERVICE) keeps
    its last value: a text result becomes an inline string. A formula
    pointing at another workbook (`[1]Sheet!A1`), or one shared with other
    cells, is left to the openpyxl path (`Unsupported`).
    """
    m = SHEET_DATA_RE.search(text)
    inner = m.group(1) or ""

    def cell(c: re.Match) -> str:
        body = c.group(2)
        f = FORMULA_RE.search(body) if body else None
        if f is None or not WEB_RE.search(f.group(2) or ""):
            return c.group(0)
        if LINK_RE.search(f.group(2)):
            raise Unsupported("a formula pointing at another workbook")
        if re.search(r"\bt=\"shared\"", f.group(1)):
            raise Unsupported("a shared formula reaching the web")
        attrs = c.group(1)
        kind = ATTR_T_RE.search(attrs)
        value = VALUE_RE.search(body)
        if kind and kind.group(1) == "str":
            attrs = ATTR_T_RE.sub("", attrs)
            if value is not None and value.group(1):
                return f'<c{attrs} t="inlineStr"><is><t xml:space="preserve">{value.group(1)}</t></is></c>'
            return f"<c{attrs}/>"
        rest = body[:f.start()] + body[f.end():]
        return f"<c{attrs}>{rest}</c>" if rest else f"<c{attrs}/>"

    inner = CELL_RE.sub(cell, inner)
    return text[:m.start(1)] + inner + text[m.end(1):] if m.group(1) is not None else text


def _with_references(text: str) -> str:
    """Every row and cell given its `r` reference (a row without one follows the previous row, a cell the previous cell)."""
    m = SHEET_DATA_RE.search(text)
    if m is None or m.group(1) is None:
        return text
    inner = m.group(1)
    out: list[str] = []
    pos = row = 0
    for rm in ROW_RE.finditer(inner):
        attrs = rm.group(1)
        r = ATTR_R_RE.search(attrs)
        if r is not None and not r.group(1):
            row = int(r.group(2))
        else:
            row += 1
            attrs = f' r="{row}"' + attrs
        body = rm.group(2)
        if body is None:
            new = f"<row{attrs}/>"
        else:
            cells: list[str] = []
            cpos = col = 0
            for cm in CELL_RE.finditer(body):
                ref = ATTR_R_RE.search(cm.group(1))
                if ref is not None and ref.group(1):
                    col = col_index(ref.group(1))
                    cells.append(body[cpos:cm.end()])
                else:
                    col += 1
                    cells.append(body[cpos:cm.start()] + f'<c r="{col_letters(col)}{row}"' + cm.group(0)[2:])
                cpos = cm.end()
            new = f"<row{attrs}>" + "".join(cells) + body[cpos:] + "</row>"
        out.append(inner[pos:rm.start()] + new)
        pos = rm.end()
    out.append(inner[pos:])
    return text[:m.start(1)] + "".join(out) + text[m.end(1):]

def _cell_xml(row: int, col: int, value: object, style: int | None) -> str:
    ref = f"{col_letters(col)}{row}"
    s = f' s="{style}"' if style is not None else ""
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, str):
        return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
    return f'<c r="{ref}"{s}><v>{_number(value)}</v></c>'


CellEdit = Callable[[str | None], str]


def _edit_rows(data: str, edits: dict[int, dict[int, CellEdit]]) -> str:
    """Apply cell edits to sheetData's inner XML; missing rows and cells are created in order."""
    out: list[str] = []
    pending = sorted(edits)
    pos = 0
    at = 0
    for m in ROW_RE.finditer(data):
        r = ATTR_R_RE.search(m.group(1))
        if r is None or r.group(1):
            raise Unsupported("a row without its r attribute")
        number = int(r.group(2))
        while at < len(pending) and pending[at] < number:
            out.append(data[pos:m.start()])
            pos = m.start()
            out.append(_new_row(pending[at], edits[pending[at]]))
            at += 1
        if at < len(pending) and pending[at] == number:
            out.append(data[pos:m.start()])
            out.append(_edit_row(m, number, edits[number]))
            pos = m.end()
            at += 1
    out.append(data[pos:])
    out.extend(_new_row(n, edits[n]) for n in pending[at:])
    return "".join(out)


def _new_row(number: int, cells: dict[int, CellEdit]) -> str:
    return f'<row r="{number}">' + "".join(cells[c](None) for c in sorted(cells)) + "</row>"


def _edit_row(m: re.Match, number: int, cells: dict[int, CellEdit]) -> str:
    attrs = SPANS_RE.sub("", m.group(1))
    inner = m.group(2) or ""
    todo = sorted(cells)
    last = _last_column(inner, number)
    if last is not None and last < todo[0]:  # the usual case, added columns: new cells go after the last one
        return f"<row{attrs}>" + inner + "".join(cells[c](None) for c in todo) + "</row>"
    out: list[str] = []
    at = 0
    pos = 0
    for c in CELL_RE.finditer(inner):
        r = ATTR_R_RE.search(c.group(1))
        if r is None or not r.group(1) or int(r.group(2)) != number:
            raise Unsupported("a cell without its r attribute")
        col = col_index(r.group(1))
        while at < len(todo) and todo[at] < col:
            out.append(inner[pos:c.start()])
            pos = c.start()
            out.append(cells[todo[at]](None))
            at += 1
        if at < len(todo) and todo[at] == col:
            out.append(inner[pos:c.start()])
            out.append(cells[col](c.group(0)))
            pos = c.end()
            at += 1
    out.append(inner[pos:])
    out.extend(cells[c](None) for c in todo[at:])
    return f"<row{attrs}>" + "".join(out) + "</row>"


def _last_column(inner: str, number: int) -> int | None:
    """The column of a row's last cell (0 for a row without cells); None when that cell's `r` is not plain."""
    at = inner.rfind("<c ")
    if at < 0:
        return None if "<c" in inner else 0
    r = ATTR_R_RE.search(inner, at, inner.find(">", at))
    if r is None or not r.group(1) or int(r.group(2)) != number:
        return None
    return col_index(r.group(1))


def _restyle(existing: str | None, row: int, col: int, styles: _Styles, color: str) -> str:
    if existing is None:
        return _cell_xml(row, col, None, styles.filled(0, color))
    head_end = existing.index(">")
    head = existing[:head_end]
    s = ATTR_S_RE.search(head)
    new = styles.filled(int(s.group(1)) if s else 0, color)
    if s:
        head = head[:s.start()] + f's="{new}"' + head[s.end():]
    else:
        head = head.rstrip("/") + f' s="{new}"' + ("/" if head.endswith("/") else "")
    return head + existing[head_end:]


def _top_level(text: str) -> list[tuple[str, int]]:
    """(name, start offset) of each child of the root element, found with expat (no DTD)."""
    parser = expat.ParserCreate()
    found: list[tuple[str, int]] = []
    depth = 0
    encoded = text.encode("utf-8")

    def start(name: str, attrs: dict) -> None:
        nonlocal depth
        depth += 1
        if depth == 2:
            found.append((name, parser.CurrentByteIndex))

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    def no_dtd(*args: object) -> None:
        raise Unsupported("a DTD in a worksheet")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    parser.Parse(encoded, True)
    # Byte offsets back to character offsets.
    return [(name, len(encoded[:at].decode("utf-8"))) for name, at in found]


def _patch_sheet(text: str, edits: dict[int, dict[int, CellEdit]], legacy_rid: str | None,
                 widths: dict[int, float], new_max: tuple[int, int]) -> str:
    """Rewrite one worksheet: cell edits, column widths, the dimension, a legacyDrawing element."""
    m = SHEET_DATA_RE.search(text)
    if m is None:
        raise Unsupported("no sheetData (prefixed or strict worksheet XML)")
    inner = _edit_rows(m.group(1) or "", edits) if edits else (m.group(1) or "")
    open_tag = re.match(r"<sheetData\b[^>]*?/?>", m.group(0)).group(0)
    open_tag = open_tag[:-2] + ">" if open_tag.endswith("/>") else open_tag
    head, tail = text[:m.start()], text[m.end():]
    if widths:
        head = _add_widths(head, widths)
    max_row, max_col = new_max
    dim = re.search(r"<dimension\b[^>]*?\bref=\"([^\"]*)\"", head)
    if dim and (max_row or max_col):
        parts = dim.group(1).split(":")  # LibreOffice may write a row-only "1:4"
        first = parts[0] if _plain_ref(parts[0]) else "A1"
        last_row, last_col = split_ref(parts[-1]) if _plain_ref(parts[-1]) else (1, 1)
        last = f"{col_letters(max(last_col, max_col))}{max(last_row, max_row)}"
        head = head[:dim.start(1)] + f"{first}:{last}" + head[dim.end(1):]
    if legacy_rid:
        if re.search(r"<legacyDrawing\b", tail):
            raise Unsupported("the sheet already has a legacy drawing")
        skeleton = head + "<sheetData/>" + tail
        children = _top_level(skeleton)
        offset = len(head) + len("<sheetData/>")
        where = next((at for name, at in children if name in TAIL_ELEMENTS and at >= offset), None)
        if where is None:
            where = skeleton.rindex("</")
        where -= offset
        prefix = _prefix_for(text, REL_NS)
        element = (f'<legacyDrawing {prefix}:id="{legacy_rid}"/>' if prefix else
                   f'<legacyDrawing xmlns:r="{REL_NS}" r:id="{legacy_rid}"/>')
        tail = tail[:where] + element + tail[where:]
    return head + open_tag + inner + "</sheetData>" + tail


def _prefix_for(text: str, namespace: str) -> str | None:
    """The prefix the root element binds to `namespace`, if any."""
    root = ROOT_TAG_RE.search(text)
    m = re.search(r'xmlns:([\w.-]+)="' + re.escape(namespace) + '"', root.group(0)) if root else None
    return m.group(1) if m else None


def _add_widths(head: str, widths: dict[int, float]) -> str:
    """New `<col>` entries, only where no existing entry already covers those columns."""
    spans = [(int(a), int(b)) for a, b in re.findall(r"<col\b[^>]*?\bmin=\"(\d+)\"[^>]*?\bmax=\"(\d+)\"", head)]
    spans += [(int(a), int(b)) for b, a in re.findall(r"<col\b[^>]*?\bmax=\"(\d+)\"[^>]*?\bmin=\"(\d+)\"", head)]
    wanted = {c: w for c, w in widths.items() if not any(lo <= c <= hi for lo, hi in spans)}
    if not wanted:
        return head
    cols = re.search(r"<cols\b[^>]*>(.*?)</cols>", head, re.DOTALL)
    entries = re.findall(r"<col\b[^>]*?/>|<col\b[^>]*?>.*?</col>", cols.group(1), re.DOTALL) if cols else []
    keyed = [(int(re.search(r"\bmin=\"(\d+)\"", e).group(1)), e) for e in entries]
    keyed += [(c, f'<col min="{c}" max="{c}" width="{_number(float(w))}" customWidth="1"/>') for c, w in wanted.items()]
    block = "<cols>" + "".join(e for _, e in sorted(keyed, key=lambda k: k[0])) + "</cols>"
    if cols:
        return head[:cols.start()] + block + head[cols.end():]
    return head + block  # head ends right before <sheetData


# --- comments ------------------------------------------------------------------------------------

def _comments_xml(notes: dict[str, Note], author: str) -> str:
    items = "".join(
        f'<comment ref="{ref}" authorId="0"><text><t xml:space="preserve">{_text(note.text)}</t></text></comment>'
        for ref, note in sorted(notes.items(), key=lambda kv: split_ref(kv[0])))
    return (f'{XML_HEAD}<comments xmlns="{MAIN_NS}"><authors><author>{_text(author)}</author></authors>'
            f"<commentList>{items}</commentList></comments>")


SHAPETYPE_202 = ('<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
                 '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')
VML_NAMESPACES = ('xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
                  'xmlns:x="urn:schemas-microsoft-com:office:excel"')
IDMAP_RE = re.compile(r"<\w+:idmap\b[^>]*?\bdata=\"([^\"]*)\"")
SHAPE_ID_RE = re.compile(r"\bid=\"_x0000_s(\d+)\"")
NOTE_PLACE_RE = re.compile(r"<\w+:ClientData\b[^>]*ObjectType=\"Note\"[^>]*>(?:(?!</\w+:ClientData>).)*?"
                           r"<\w+:Row>(\d+)</\w+:Row>(?:(?!</\w+:ClientData>).)*?<\w+:Column>(\d+)</\w+:Column>",
                           re.DOTALL)
VML_ROOT_RE = re.compile(r"<xml\b[^>]*>")
VML_PREFIXES = (("v", "urn:schemas-microsoft-com:vml"), ("o", "urn:schemas-microsoft-com:office:office"),
                ("x", "urn:schemas-microsoft-com:office:excel"))
SHAPES_PER_BLOCK = 1024


def _vml_shapes(notes: dict[str, Note], ids: list[int], z_from: int = 1) -> str:
    """One hidden comment box per note (the legacy VML shapes Excel needs to show the comments)."""
    shapes = []
    for n, (shape_id, (ref, note)) in enumerate(zip(ids, sorted(notes.items(), key=lambda kv: split_ref(kv[0])))):
        row, col = split_ref(ref)
        shapes.append(
            f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" style="position:absolute;'
            f"margin-left:59.25pt;margin-top:1.5pt;width:{note.width}px;height:{note.height}px;z-index:{z_from + n};"
            f'visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            f'<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            f'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
            f'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{col}, 15, {max(row - 2, 0)}, 10, {col + 4}, 15, {row + 6}, 4</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{row - 1}</x:Row><x:Column>{col - 1}</x:Column>"
            f"</x:ClientData></v:shape>")
    return "".join(shapes)


def _vml_xml(notes: dict[str, Note], blocks: list[int]) -> str:
    """A new VML drawing for a sheet's comment boxes; its shapes are numbered within `blocks`."""
    ids = [blocks[i // SHAPES_PER_BLOCK] * SHAPES_PER_BLOCK + i % SHAPES_PER_BLOCK + 1 for i in range(len(notes))]
    return (f'<xml {VML_NAMESPACES}><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" '
            f'data="{",".join(map(str, blocks))}"/></o:shapelayout>{SHAPETYPE_202}{_vml_shapes(notes, ids)}</xml>')


def _blocks_needed(count: int) -> int:
    return max(1, math.ceil((count + 1) / SHAPES_PER_BLOCK))


class _ShapeBlocks:
    """The VML shape-id blocks (`o:idmap`) of every drawing of the workbook, so that new ones never clash."""

    def __init__(self, pkg: "_Package"):
        self.used: set[int] = set()
        for m in pkg.members:
            if m.name.lower().endswith(".vml"):
                for data in IDMAP_RE.findall(_vml_text(pkg, m.name)):
                    self.used.update(int(b) for b in re.findall(r"\d+", data))

    def take(self, count: int) -> list[int]:
        out, n = [], 1
        while len(out) < count:
            if n not in self.used:
                out.append(n)
                self.used.add(n)
            n += 1
        return out


def _vml_text(pkg: "_Package", name: str) -> str:
    try:
        return pkg.text(name)
    except UnicodeDecodeError:
        raise Unsupported(f"{name} is not UTF-8") from None


def _add_vml_shapes(vml: str, notes: dict[str, Note], blocks: _ShapeBlocks) -> str:
    """An existing VML drawing (form buttons, comment boxes) with comment boxes for `notes` added.

    Notes on cells that already have a comment box keep it. New shapes get
    ids after the drawing's highest, within its idmap blocks, extended by
    fresh blocks when they run out.
    """
    boxed = {(int(r) + 1, int(c) + 1) for r, c in NOTE_PLACE_RE.findall(vml)}
    notes = {ref: note for ref, note in notes.items() if split_ref(ref) not in boxed}
    if not notes:
        return vml
    idmap = IDMAP_RE.search(vml)
    if idmap is None or "</xml>" not in vml:
        raise Unsupported("a VML drawing without an idmap")
    own = [int(b) for b in re.findall(r"\d+", idmap.group(1))]
    next_id = max([int(i) for i in SHAPE_ID_RE.findall(vml)] + [min(own, default=0) * SHAPES_PER_BLOCK])
    ids = []
    for _ in notes:
        next_id += 1
        if next_id // SHAPES_PER_BLOCK not in own:
            block = blocks.take(1)[0]
            own.append(block)
            next_id = block * SHAPES_PER_BLOCK + 1
        ids.append(next_id)
    vml = vml[:idmap.start(1)] + ",".join(map(str, own)) + vml[idmap.end(1):]
    root = VML_ROOT_RE.search(vml)
    if root is None:
        raise Unsupported("a VML drawing without its xml root")
    declare = ""
    for prefix, uri in VML_PREFIXES:  # our shapes are written with v:, o: and x: (openpyxl writes ns0: ...)
        if f'xmlns:{prefix}="{uri}"' not in root.group(0):
            if f"xmlns:{prefix}=" in root.group(0):
                raise Unsupported(f"a VML drawing binding {prefix}: otherwise")
            declare += f' xmlns:{prefix}="{uri}"'
    vml = vml[:root.end() - 1] + declare + vml[root.end() - 1:]
    head = "" if 'id="_x0000_t202"' in vml else SHAPETYPE_202
    z = len(re.findall(r"<v:shape\b", vml)) + 1
    at = vml.rindex("</xml>")
    return vml[:at] + head + _vml_shapes(notes, ids, z) + vml[at:]


# --- comments already on a sheet----------------------------------------------------------------

COMMENT_RE = re.compile(r"<(?:\w+:)?comment\b[^>]*?\bref=\"([A-Z]+[0-9]+)\"[^>]*>(.*?)</(?:\w+:)?comment>", re.DOTALL)


def _merge_comments(xml: str, notes: dict[str, Note], author: str) -> tuple[str, dict[str, Note]]:
    """An existing comments part with the notes added: appended to a cell's comment, or new comments.

    Returns the part and the notes that got a new comment (they need a box in
    the VML drawing). The provider's text comes first, then ours, as the
    openpyxl path writes it.
    """
    if re.search(r"<\w+:comments\b", xml) or "</commentList>" not in xml or "</authors>" not in xml:
        raise Unsupported("a comments part of unusual form")
    authors = re.findall(r"<author>(.*?)</author>", re.search(r"<authors>(.*?)</authors>", xml, re.DOTALL).group(1),
                         re.DOTALL)
    mine = _text(author)
    if mine not in authors:
        xml = xml.replace("</authors>", f"<author>{mine}</author></authors>", 1)
        authors.append(mine)
    author_id = authors.index(mine)
    existing = {m.group(1): m for m in COMMENT_RE.finditer(xml)}
    fresh: dict[str, Note] = {}
    edits: list[tuple[int, int, str]] = []
    for ref, note in notes.items():
        found = existing.get(ref)
        if found is None:
            fresh[ref] = note
            continue
        body = found.group(2)
        end = body.rfind("</text>")
        if end < 0:
            raise Unsupported("a comment without text")
        tail = re.search(r"<(?:rPh|phoneticPr)\b", body[:end])
        at = tail.start() if tail else end
        run = f'<r><t xml:space="preserve">\n\n{_text(note.text)}</t></r>'
        start = found.start(2) + at
        edits.append((start, start, run))
    for start, end, new in sorted(edits, reverse=True):
        xml = xml[:start] + new + xml[end:]
    items = "".join(f'<comment ref="{ref}" authorId="{author_id}"><text><t xml:space="preserve">{_text(n.text)}</t>'
                    f"</text></comment>" for ref, n in sorted(fresh.items(), key=lambda kv: split_ref(kv[0])))
    at = xml.rindex("</commentList>")
    return xml[:at] + items + xml[at:], fresh


# --- the review sheet ------------------------------------------------------------------------------

def _review_xml(plan: Plan, styles: _Styles) -> str:
    rows: dict[int, dict[int, tuple[object, str | None]]] = {}
    for (r, c), cell in plan.review_cells.items():
        rows.setdefault(r, {})[c] = cell
    body = "".join(
        f'<row r="{r}">' + "".join(_cell_xml(r, c, v, styles.named_style(s)) for c, (v, s) in sorted(rows[r].items()))
        + "</row>" for r in sorted(rows))
    last = f"{col_letters(max(c for _, c in plan.review_cells))}{max(r for r, _ in plan.review_cells)}"
    cols = "".join(f'<col min="{c}" max="{c}" width="{_number(float(w))}" customWidth="1"/>'
                   for c, w in sorted(plan.review_widths.items()))
    return (f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            f'<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><dimension ref="A1:{last}"/>'
            '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>{body}</sheetData>'
            '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
            '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>')


def _core_xml(author: str, when: dt.datetime) -> str:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f'{XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:creator>{_text(author)}</dc:creator><cp:lastModifiedBy>{_text(author)}</cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>')


# --- the whole workbook ---------------------------------------------------------------------------

def _workbook_part(pkg: _Package) -> str:
    for rel in _relationships(pkg, ""):
        if rel.get("Type") == RT_OFFICE_DOC:
            return _resolve("", rel["Target"])
    raise Unsupported("no officeDocument relationship (strict OOXML?)")


def _sheet_parts(pkg: _Package, workbook: str) -> list[tuple[str, str]]:
    """(sheet name, worksheet part) in workbook order; chart sheets have part ''."""
    root = SafeET.fromstring(pkg.text(workbook).encode("utf-8"), forbid_dtd=True)
    if root.tag != f"{{{MAIN_NS}}}workbook":
        raise Unsupported("not a transitional SpreadsheetML workbook")
    rels = {r["Id"]: r for r in _relationships(pkg, workbook)}
    out = []
    for sheet in root.iter(f"{{{MAIN_NS}}}sheet"):
        rel = rels.get(sheet.get(f"{{{REL_NS}}}id", ""), {})
        part = _resolve(workbook, rel["Target"]) if rel.get("Type") == RT_WORKSHEET else ""
        out.append((sheet.get("name", ""), part))
    if root.find(f"{{{MAIN_NS}}}externalReferences") is not None:
        raise Unsupported("links to other workbooks")
    return out


def _used_columns(text: str, rows: set[int]) -> set[int]:
    """Columns of the cells holding a value, inline string or formula on `rows`, and of merges reaching them.

    A cell that is only formatted (`<c r="XFD1048576" s="3"/>`) is not used:
    a stray format must not push the added columns past the last column.
    """
    used: set[int] = set()
    data = SHEET_DATA_RE.search(text)
    for m in ROW_RE.finditer(data.group(1) or "") if data else ():
        r = ATTR_R_RE.search(m.group(1))
        if r is None or r.group(1):
            raise Unsupported("a row without its r attribute")
        number = int(r.group(2))
        if number not in rows or not m.group(2):
            continue
        for c in CELL_RE.finditer(m.group(2)):
            if c.group(2) and CONTENT_RE.search(c.group(2)):
                ref = ATTR_R_RE.search(c.group(1))
                if ref is None or not ref.group(1):
                    raise Unsupported("a cell without its r attribute")
                used.add(col_index(ref.group(1)))
    for first_col, first_row, last_col, last_row in MERGE_RE.findall(text):
        low, high = int(first_row), int(last_row or first_row)
        if any(low <= r <= high for r in rows):
            used.add(col_index(last_col or first_col))
    return used


def _added_cells(text: str, plan: Plan, sheet: str) -> tuple[dict[tuple[int, int], Value], dict[int, float]]:
    """The plan's added columns on this sheet, after the last column used or marked in the table's rows.

    When they do not fit before XFD, they are moved to the review sheet
    (`Plan.columns_to_review`) and nothing is added here.
    """
    add = plan.columns
    if add is None or add.sheet != sheet:
        return {}, {}
    rows = {add.header_row, *add.rows}
    used = _used_columns(text, rows)
    used.update(col for row, col in map(split_ref, plan.marks.get(sheet, {})) if row in rows)
    first = first_free_column(used, len(add.heads))
    if first is None:
        plan.columns_to_review()
        return {}, {}
    cells = {(add.header_row, first + i): v for i, v in enumerate(add.heads)}
    for row, values in add.rows.items():
        cells.update({(row, first + i): v for i, v in enumerate(values)})
    return cells, {first + i: w for i, w in enumerate(add.widths)}


def patch(source: Path, out: Path, plan: Plan, when: dt.datetime) -> None:
    """Write `source` with the plan applied to `out`; raises Unsupported before writing anything."""
    plan = copy.deepcopy(plan)  # moving the added columns to the review sheet must not reach the fallback's plan
    pkg = _Package(source)
    if any(m.name.startswith("xl/externalLinks/") for m in pkg.members):
        raise Unsupported("links to other workbooks")
    workbook = _workbook_part(pkg)
    sheets = _sheet_parts(pkg, workbook)
    names = {name for name, _ in sheets}
    if plan.review_name.casefold() in {n.casefold() for n in names}:
        raise Unsupported(f"a sheet is already named {plan.review_name}")
    styles_part = next((_resolve(workbook, r["Target"]) for r in _relationships(pkg, workbook)
                        if r.get("Type") == REL_NS + "/styles"), None)
    if styles_part is None:  # a workbook without a stylesheet: give it the plainest one
        styles_part = "xl/styles.xml" if not pkg.has("xl/styles.xml") else pkg.free_name("xl/styles{}.xml")
        pkg.put(styles_part, MINIMAL_STYLES)
        _add_relationship(pkg, workbook, REL_NS + "/styles", _relative(workbook, styles_part))
        _add_content_type(pkg, f'<Override PartName="/{styles_part}" ContentType="{CT_STYLES}"/>', f"/{styles_part}\"")
    styles = _Styles(pkg, styles_part)

    blocks = _ShapeBlocks(pkg)
    for name, part in sheets:
        if not part:
            continue
        text = original = pkg.text(part)
        if EXTERNAL_FORMULA_RE.search(text):
            text = _drop_outside_formulas(text)
        if UNNUMBERED_RE.search(text):
            text = _with_references(text)
        notes = plan.marks.get(name, {})
        new_cells, widths = _added_cells(text, plan, name)
        cut = text.find("<sheetData")  # tabSelected lives in sheetViews, before the cells
        views = text if cut < 0 else text[:cut]
        selected = TAB_SELECTED_RE.search(views) is not None
        if not notes and not new_cells and not selected:
            if text != original:
                pkg.put(part, text)
            continue
        if selected:
            text = TAB_SELECTED_RE.sub("", views) + text[len(views):]
        edits: dict[int, dict[int, CellEdit]] = {}
        max_row = max_col = 0
        for ref, note in notes.items():
            row, col = split_ref(ref)
            edits.setdefault(row, {})[col] = (
                lambda old, r=row, c=col, color=note.color: _restyle(old, r, c, styles, color))
            max_row, max_col = max(max_row, row), max(max_col, col)
        for (row, col), (value, style) in new_cells.items():
            edits.setdefault(row, {})[col] = (
                lambda old, r=row, c=col, v=value, s=style: _cell_xml(r, c, v, styles.named_style(s)))
            max_row, max_col = max(max_row, row), max(max_col, col)
        rid = _add_comments(pkg, part, text, notes, plan.author, blocks) if notes else None
        if notes:
            _reply_to_threads(pkg, workbook, part, notes, plan.author, when)
        pkg.put(part, _patch_sheet(text, edits, rid, widths, (max_row, max_col)))

    review = pkg.free_name("xl/worksheets/sheet{}.xml")
    pkg.put(review, _review_xml(plan, styles))
    styles.save()
    rid = _add_relationship(pkg, workbook, RT_WORKSHEET, _relative(workbook, review))
    _add_content_type(pkg, f'<Override PartName="/{review}" ContentType="{CT_WORKSHEET}"/>', f"/{review}\"")
    pkg.put(workbook, _first_sheet(pkg.text(workbook), plan.review_name, rid))
    if pkg.has("docProps/app.xml"):
        app = pkg.text("docProps/app.xml")
        app = re.sub(r"<(\w+:)?(HeadingPairs|TitlesOfParts)\b.*?</\1?\2>", "", app, flags=re.DOTALL)
        pkg.put("docProps/app.xml", app)
    if pkg.has("docProps/core.xml"):
        pkg.put("docProps/core.xml", _core_xml(plan.author, when))
    pkg.save(out, when)


RT_THREADED = "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"
RT_PERSON = "http://schemas.microsoft.com/office/2017/10/relationships/person"
THREAD_RE = re.compile(r"<threadedComment\b([^>]*)>")


def _reply_to_threads(pkg: _Package, workbook: str, part: str, notes: dict[str, Note], author: str,
                      when: dt.datetime) -> None:
    """A note on a cell holding a threaded comment (Excel 365) becomes a reply in its thread as well.

    Excel 365 shows the thread, not the legacy comment our note was appended
    to. The reply's author is added to the workbook's persons part; ids are
    derived from the cell, so the same inputs give the same bytes.
    """
    import uuid

    threads = [r for r in _relationships(pkg, part) if r.get("Type") == RT_THREADED]
    persons = [r for r in _relationships(pkg, workbook) if r.get("Type") == RT_PERSON]
    if not threads:
        return
    if not persons:
        raise Unsupported("threaded comments without a persons part")
    people = _resolve(workbook, persons[0]["Target"])
    person_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "reconcile:person")).upper() + "}"
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.00")
    for rel in threads:
        name = _resolve(part, rel["Target"])
        xml = pkg.text(name)
        tops = {}
        for m in THREAD_RE.finditer(xml):
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            if "parentId" not in attrs and "ref" in attrs and "id" in attrs:
                tops.setdefault(attrs["ref"], attrs["id"])
        replies = []
        for ref, note in sorted(notes.items(), key=lambda kv: split_ref(kv[0])):
            if ref in tops:
                reply = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"reconcile:{name}:{ref}")).upper() + "}"
                replies.append(f'<threadedComment ref="{ref}" dT="{stamp}" personId="{person_id}" id="{reply}" '
                               f'parentId="{tops[ref]}"><text>{_text(note.text)}</text></threadedComment>')
        if not replies:
            continue
        if "</ThreadedComments>" not in xml:
            raise Unsupported("a threaded comments part of unusual form")
        pkg.put(name, xml.replace("</ThreadedComments>", "".join(replies) + "</ThreadedComments>", 1))
        listing = pkg.text(people)
        if person_id not in listing:
            if "</personList>" not in listing:
                raise Unsupported("a persons part of unusual form")
            listing = listing.replace("</personList>", f'<person displayName="{_text(author)}" id="{person_id}" '
                                      f'userId="{_text(author)}" providerId="None"/></personList>', 1)
            pkg.put(people, listing)


LEGACY_DRAWING_RE = re.compile(r"<(?:\w+:)?legacyDrawing\b[^>]*?\b\w+:id=\"([^\"]+)\"")  # not legacyDrawingHF


def _add_comments(pkg: _Package, part: str, sheet: str, notes: dict[str, Note], author: str,
                  blocks: _ShapeBlocks) -> str | None:
    """The notes of one sheet into its comments part and VML drawing, new or existing.

    A sheet that already has comments gets ours added to its comments part
    (appended to a cell's own comment); a sheet that already has a legacy
    drawing (comment boxes, form buttons) gets our boxes added to that
    drawing, as a sheet has only one. Returns the relationship id of a new
    VML drawing for `_patch_sheet` to reference, or None when the sheet's
    own drawing took the boxes.
    """
    rels = _relationships(pkg, part)
    by_id = {r.get("Id"): r for r in rels}
    known = next((r for r in rels if r.get("Type") == RT_COMMENTS), None)
    boxes = notes
    if known is not None:
        comments = _resolve(part, known["Target"])
        merged, boxes = _merge_comments(pkg.text(comments), notes, author)
        pkg.put(comments, merged)
    else:
        comments = pkg.free_name("xl/comments{}.xml")
        pkg.put(comments, _comments_xml(notes, author))
        _add_relationship(pkg, part, RT_COMMENTS, _relative(part, comments))
        _add_content_type(pkg, f'<Override PartName="/{comments}" ContentType="{CT_COMMENTS}"/>', f"/{comments}\"")
    legacy = LEGACY_DRAWING_RE.search(sheet, SHEET_DATA_RE.search(sheet).end())
    if legacy is not None:
        rel = by_id.get(legacy.group(1))
        if rel is None or rel.get("Type") != RT_VML or rel.get("TargetMode") == "External":
            raise Unsupported("a legacy drawing that is not a VML part of the package")
        vml = _resolve(part, rel["Target"])
        pkg.put(vml, _add_vml_shapes(_vml_text(pkg, vml), boxes, blocks))
        return None
    if known is not None:  # comments without boxes: give the provider's their boxes too
        boxes = {ref: notes.get(ref) or Note("", "", 144, 80) for ref, _ in COMMENT_RE.findall(merged)}
    vml = pkg.free_name("xl/drawings/vmlDrawing{}.vml")
    pkg.put(vml, _vml_xml(boxes, blocks.take(_blocks_needed(len(boxes)))))
    _add_content_type(pkg, f'<Default Extension="vml" ContentType="{CT_VML}"/>', 'Extension="vml"')
    return _add_relationship(pkg, part, RT_VML, _relative(part, vml))


def _first_sheet(text: str, name: str, rid: str) -> str:
    """workbook.xml with the review sheet first, local names shifted, the first tab active."""
    ids = [int(i) for i in re.findall(r"<sheet\b[^>]*?\bsheetId=\"(\d+)\"", text)]
    prefix = _prefix_for(text, REL_NS)
    rel_attr = f'{prefix}:id="{rid}"' if prefix else f'xmlns:r="{REL_NS}" r:id="{rid}"'
    element = f"<sheet name={quoteattr(ILLEGAL_XML_RE.sub('', name))} sheetId=\"{max(ids, default=0) + 1}\" {rel_attr}/>"
    m = re.search(r"<sheets\b[^>]*>", text)
    if m is None:
        raise Unsupported("workbook.xml without sheets")
    text = text[:m.end()] + element + text[m.end():]
    text = SHEET_STATE_RE.sub(r"\1\2visible\2", text)  # a state beyond the standard ("show") is read as visible
    text = re.sub(r"\blocalSheetId=\"(\d+)\"", lambda k: f'localSheetId="{int(k.group(1)) + 1}"', text)
    return re.sub(r"<workbookView\b[^>]*>", lambda v: re.sub(r"\s+(?:activeTab|firstSheet)=\"\d+\"", "", v.group(0)), text)
