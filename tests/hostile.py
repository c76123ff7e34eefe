"""Hostile input files, made at test time (no committed binaries).

Each `Case` writes one broken or malicious file into a folder and says what
`intake.inspect` must answer: the rule (`F001`, `F002`, or None for a file
that is safe to open) and the finding's `params["kind"]`. Zips are built by
taking a valid workbook (`base_workbook`, or any workbook the caller passes,
such as a real invoice for the reliability tests) and rewriting its parts
with `zipfile`. `write_all(folder)` writes every case at once.

    from hostile import CASES, write_all    (tests/ is on sys.path under pytest)
"""

from __future__ import annotations

import random
import re
import shutil
import struct
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import openpyxl

MIB = 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
CONTENT_TYPES = "[Content_Types].xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def base_workbook(path: Path) -> Path:
    """A small valid invoice-shaped workbook written by openpyxl (with a sharedStrings part)."""
    wb = openpyxl.Workbook()
    lasku = wb.active
    lasku.title = "Lasku"
    for row in [("Palveluntuottaja", "Paja Oy"), ("Y-tunnus", "1572860-0"), ("Laskun numero", "2026-11-001"),
                ("Laskutuskausi", "11/2026"), ("Yhteensä €", 123.45)]:
        lasku.append(row)
    clients = wb.create_sheet("Asiakkaat")
    clients.append(["Päätösnumero", "Henkilötunnus", "Läsnäolopäivät", "Palvelumaksu €"])
    clients.append(["P-1", "010190-900P", 1, 45.0])
    attendance = wb.create_sheet("Läsnäolo")
    attendance.append(["Päätösnumero", "Henkilötunnus", *range(1, 31)])
    attendance.append(["P-1", "010190-900P", "X"])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def rewrite(base: Path, out: Path, parts: dict[str, bytes | None], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """Copy `base` to `out`, replacing the parts named in `parts` (None drops a part; a new name adds it)."""
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", compression) as dst:
        for info in src.infolist():
            if info.filename in parts:
                continue
            dst.writestr(info.filename, src.read(info.filename))
        for name, data in parts.items():
            if data is not None:
                dst.writestr(name, data)
    return out


def part(base: Path, name: str) -> bytes:
    with zipfile.ZipFile(base) as z:
        return z.read(name)


def with_override(base: Path, part_name: str, content_type: str) -> bytes:
    """[Content_Types].xml of `base` with one more Override."""
    types = part(base, CONTENT_TYPES)
    override = f'<Override PartName="/{part_name}" ContentType="{content_type}"/>'.encode()
    return types.replace(b"</Types>", override + b"</Types>")


def cfb(streams: list[str]) -> bytes:
    """A minimal OLE compound file (what .xls and encrypted .xlsx are) whose directory names `streams`."""
    free, end, fat_sector, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end)  # 1 FAT sector, directory at 1
    struct.pack_into("<I", header, 68, 0)  # no DIFAT sectors
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int, right: int, child: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        e = bytearray(128)
        e[0:len(raw)] = raw
        struct.pack_into("<HBBIII", e, 64, len(raw), kind, 1, no_stream, right, child)
        struct.pack_into("<IQ", e, 116, end, 0)
        return bytes(e)

    entries = [entry("Root Entry", 5, no_stream, 1 if streams else no_stream)]
    for i, name in enumerate(streams, 1):
        entries.append(entry(name, 2, i + 1 if i < len(streams) else no_stream, no_stream))
    directory = b"".join(entries).ljust(512 * -(-len(entries) // 4), b"\0")
    return bytes(header) + fat + directory


def nested(depth: int) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
        + b"<x>" * depth + b"</x>" * depth + b"</sheetData></worksheet>"
    )


def rows_sheet(n: int) -> bytes:
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, n + 1))
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>{body}</sheetData></worksheet>'.encode()


def zeros_part(out: Path, base: Path, name: str, size: int) -> Path:
    """`base` plus a part of `size` zero bytes, deflated in chunks (never held whole)."""
    rewrite(base, out, {})
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z, z.open(name, "w") as f:
        block = b"\0" * MIB
        for _ in range(size // MIB):
            f.write(block)
    return out


def patch_headers(path: Path, name: str, local_at: int, central_at: int, value: int) -> Path:
    """Overwrite a 4-byte (sizes) or 2-byte (flags, offset 6/8) field of part `name` in its local and central headers."""
    data = bytearray(path.read_bytes())
    fmt = "<H" if local_at == 6 else "<I"
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    struct.pack_into(fmt, data, info.header_offset + local_at, value)
    encoded = name.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len] == encoded:
            struct.pack_into(fmt, data, at + central_at, value)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path


def lie_about_size(path: Path, name: str, declared: int) -> Path:
    """Make part `name` declare `declared` unpacked bytes, whatever it really holds."""
    return patch_headers(path, name, 22, 24, declared)


# Each maker takes the folder and the base workbook and returns the file it wrote.
def _empty(d: Path, base: Path) -> Path:
    (p := d / "empty.xlsx").write_bytes(b"")
    return p


def _truncated(d: Path, base: Path) -> Path:
    data = base.read_bytes()
    (p := d / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    return p


def _random_bytes(d: Path, base: Path) -> Path:
    data = random.Random(8).randbytes(4096)
    (p := d / "random.xlsx").write_bytes(b"\x00\x01" + data)
    return p


def _xls(d: Path, base: Path) -> Path:
    (p := d / "old excel.xlsx").write_bytes(cfb(["Workbook", "\x05SummaryInformation"]))
    return p


def _encrypted(d: Path, base: Path) -> Path:
    streams = ["\x06DataSpaces", "EncryptionInfo", "EncryptedPackage"]
    (p := d / "encrypted.xlsx").write_bytes(cfb(streams))
    return p


def _ods(d: Path, base: Path) -> Path:
    p = d / "calc.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("content.xml", '<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>')
        z.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest/>')
    return p


def _csv(d: Path, base: Path) -> Path:
    text = "Päätösnumero;Henkilötunnus;Läsnäolopäivät\nP-1;010190-900P;12\nP-2;020290-901R;3\n"
    (p := d / "export.xlsx").write_text(text, encoding="utf-8")
    return p


def _html(d: Path, base: Path) -> Path:
    text = "<!DOCTYPE html>\n<html><head><meta charset='utf-8'></head><body><table><tr><td>Päätösnumero</td></tr></table></body></html>"
    (p := d / "web export.xlsx").write_text(text, encoding="utf-8")
    return p


def _spreadsheet_xml(d: Path, base: Path) -> Path:
    text = '<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="Lasku"/></Workbook>'
    (p := d / "xml2003.xlsx").write_text(text, encoding="utf-8")
    return p


def _empty_zip(d: Path, base: Path) -> Path:
    p = d / "empty zip.xlsx"
    zipfile.ZipFile(p, "w").close()
    return p


def _xlsm(d: Path, base: Path) -> Path:
    types = with_override(base, "xl/vbaProject.bin", "application/vnd.ms-office.vbaProject")
    return rewrite(base, d / "macros.xlsm", {CONTENT_TYPES: types, "xl/vbaProject.bin": cfb(["VBA", "PROJECT"])})


def _vba_named_xlsx(d: Path, base: Path) -> Path:
    return rewrite(base, d / "innocent.xlsx", {"xl/media/VbaProject.bin": b"\0" * 512})


def _macro_content_type(d: Path, base: Path) -> Path:
    types = part(base, CONTENT_TYPES).replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    return rewrite(base, d / "macro type.xlsx", {CONTENT_TYPES: types})


def _zip_bomb(d: Path, base: Path) -> Path:
    return zeros_part(d / "bomb.xlsx", base, "xl/media/image1.png", 200 * MIB)


def _ratio_bomb(d: Path, base: Path) -> Path:
    return zeros_part(d / "ratio bomb.xlsx", base, "xl/media/image1.png", 40 * MIB)


def _lying_bomb(d: Path, base: Path) -> Path:
    p = zeros_part(d / "lying bomb.xlsx", base, "xl/media/image1.png", 100 * MIB)
    return lie_about_size(p, "xl/media/image1.png", 1000)


def _billion_laughs(d: Path, base: Path) -> Path:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    xml = (f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]>'
           f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>')
    return rewrite(base, d / "laughs.xlsx", {SHARED_STRINGS: xml.encode()})


def _external_entity(d: Path, base: Path) -> Path:
    sheet = part(base, SHEET)
    sheet = re.sub(rb"^(<\?xml[^>]*\?>)?", rb'\1<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', sheet, count=1)
    sheet = sheet.replace(b"<sheetData>", b'<sheetData><row r="99"><c r="A99" t="inlineStr"><is><t>&xxe;</t></is></c></row>', 1)
    return rewrite(base, d / "xxe.xlsx", {SHEET: sheet})


def _no_content_types(d: Path, base: Path) -> Path:
    return rewrite(base, d / "no types.xlsx", {CONTENT_TYPES: None})


def _no_workbook(d: Path, base: Path) -> Path:
    return rewrite(base, d / "no workbook.xlsx", {"xl/workbook.xml": None})


def _invalid_utf8(d: Path, base: Path) -> Path:
    sheet = part(base, SHEET).replace(
        b"<sheetData>", b'<sheetData><row r="99"><c r="A99" t="inlineStr"><is><t>caf\xe9 \xff</t></is></c></row>', 1
    )
    return rewrite(base, d / "latin1.xlsx", {SHEET: sheet})


def _bad_xml(d: Path, base: Path) -> Path:
    sheet = part(base, SHEET)
    return rewrite(base, d / "broken xml.xlsx", {SHEET: sheet[: len(sheet) // 2]})


def _deep(d: Path, base: Path) -> Path:
    return rewrite(base, d / "deep.xlsx", {SHEET: nested(10_000)})


def _declared_rows(d: Path, base: Path) -> Path:
    sheet = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', part(base, SHEET), count=1)
    assert b"XFD1048576" in sheet
    return rewrite(base, d / "declared rows.xlsx", {SHEET: sheet})


def _many_rows(d: Path, base: Path) -> Path:
    return rewrite(base, d / "many rows.xlsx", {SHEET: rows_sheet(100_000)})


def _long_cells(d: Path, base: Path) -> Path:
    rng = random.Random(32767)
    wb = openpyxl.load_workbook(base)
    ws = wb["Asiakkaat"]
    ws["E2"] = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzåäö ") for _ in range(32767))
    ws["F2"] = "x" * 32767
    p = d / "long cells.xlsx"
    wb.save(p)
    return p


def _duplicate_part(d: Path, base: Path) -> Path:
    p = rewrite(base, d / "twice.xlsx", {})
    with zipfile.ZipFile(p, "a") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, and writes it
        z.writestr(SHEET, part(base, SHEET))
    return p


def _too_many_parts(d: Path, base: Path) -> Path:
    p = rewrite(base, d / "many parts.xlsx", {})
    with zipfile.ZipFile(p, "a") as z:
        for i in range(10_001):
            z.writestr(f"xl/media/p{i}.bin", b"")
    return p


def _bzip2(d: Path, base: Path) -> Path:
    return rewrite(base, d / "bzip2.xlsx", {}, compression=zipfile.ZIP_BZIP2)


def _encrypted_zip(d: Path, base: Path) -> Path:
    p = rewrite(base, d / "zip password.xlsx", {"xl/media/secret.bin": b"\0" * 64})
    return patch_headers(p, "xl/media/secret.bin", 6, 8, 0x1)  # general purpose flag bit 0: encrypted


def _external_link(d: Path, base: Path) -> Path:
    link = (f'<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="{MAIN_NS}">'
            '<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1"/>'
            "</externalLink>").encode()
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
            b'Target="file:///C:/salaiset/palkat.xlsx" TargetMode="External"/></Relationships>')
    types = with_override(base, "xl/externalLinks/externalLink1.xml",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml")
    return rewrite(base, d / "external link.xlsx", {
        CONTENT_TYPES: types,
        "xl/externalLinks/externalLink1.xml": link,
        "xl/externalLinks/_rels/externalLink1.xml.rels": rels,
    })


def _copy_as(name: str) -> Callable[[Path, Path], Path]:
    def make(d: Path, base: Path) -> Path:
        return Path(shutil.copyfile(base, d / name))

    return make


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path, Path], Path]
    rule: str | None  # what intake.inspect must answer
    kind: str | None  # the finding's params["kind"]


CASES: list[Case] = [
    Case("empty", _empty, "F001", "empty"),
    Case("truncated", _truncated, "F001", "corrupt_zip"),
    Case("random_bytes", _random_bytes, "F001", "binary"),
    Case("xls_renamed", _xls, "F001", "xls"),
    Case("encrypted_cfb", _encrypted, "F001", "encrypted"),
    Case("ods_renamed", _ods, "F001", "ods"),
    Case("csv_renamed", _csv, "F001", "text"),
    Case("html_renamed", _html, "F001", "html"),
    Case("xml_2003_renamed", _spreadsheet_xml, "F001", "xml"),
    Case("empty_zip", _empty_zip, "F001", "no_content_types"),
    Case("no_content_types", _no_content_types, "F001", "no_content_types"),
    Case("no_workbook", _no_workbook, "F001", "no_workbook"),
    Case("invalid_utf8", _invalid_utf8, "F001", "invalid_utf8"),
    Case("broken_xml", _bad_xml, "F001", "bad_xml"),
    Case("bzip2_parts", _bzip2, "F001", "compression"),
    Case("zip_password", _encrypted_zip, "F001", "encrypted_zip"),
    Case("lying_size_bomb", _lying_bomb, "F001", "corrupt_zip"),
    Case("xlsm_macros", _xlsm, "F002", "macros"),
    Case("vba_part_in_xlsx", _vba_named_xlsx, "F002", "macros"),
    Case("macro_content_type", _macro_content_type, "F002", "macros"),
    Case("zip_bomb", _zip_bomb, "F002", "uncompressed_size"),
    Case("ratio_bomb", _ratio_bomb, "F002", "compression_ratio"),
    Case("billion_laughs", _billion_laughs, "F002", "doctype"),
    Case("external_entity", _external_entity, "F002", "doctype"),
    Case("deep_nesting", _deep, "F002", "depth"),
    Case("many_rows", _many_rows, "F002", "rows"),
    Case("duplicate_part", _duplicate_part, "F002", "duplicate_part"),
    Case("too_many_parts", _too_many_parts, "F002", "parts"),
    Case("declared_rows", _declared_rows, None, None),
    Case("long_cells", _long_cells, None, None),
    Case("external_link", _external_link, None, None),
    Case("name_spaces_semicolons", _copy_as("lasku marras; 2026 (1).xlsx"), None, None),
    Case("name_non_ascii", _copy_as("Läsnäolo–Åbo ärende 😀.xlsx"), None, None),
    Case("name_leading_dot", _copy_as(".lasku.xlsx"), None, None),
    Case("name_no_extension", _copy_as("lasku"), None, None),
]


def write_all(folder: Path, base: Path | None = None) -> dict[str, Path]:
    """Every case into `folder`; returns case name -> file written."""
    folder.mkdir(parents=True, exist_ok=True)
    base = base or base_workbook(folder.parent / f"{folder.name}-base" / "base.xlsx")
    return {c.name: c.make(folder, base) for c in CASES}

