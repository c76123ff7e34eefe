"""A corpus of real-world workbook shapes, made at test time: what Excel, LibreOffice and other programs write.

Every file is provider k's invoice of `reliability.Control` (two decisions,
263.60 euros claimed) with three days claimed for D-k-1 where two are marked
on `Läsnäolo`, so each one has exactly two findings on `Asiakkaat`: R208 at
D2 (days) and R210 at F2 (a fee of 100.00 for 3 x 50.00), and all of it is
approved. Then each is given one thing real workbooks carry, by openpyxl,
xlsxwriter, LibreOffice or by editing the XML:

    row-only dimension   <dimension ref="1:4"/> on Asiakkaat, as LibreOffice Calc writes it
    sheet state show     <sheet state="show">, which calamine and openpyxl refuse
    far styled cells     a bold empty cell at XFD1048576 on Asiakkaat and on Läsnäolo
    inline strings       xlsxwriter's constant-memory mode (no shared strings)
    shared formulas      a column of formulas stored as one shared formula, with cached values
    1904 dates           the 1904 date system (Excel for Mac), the invoice date a real date
    locale date formats  [$-40B]d.m.yyyy and dd/mm/yyyy on the invoice date
    legacy comments      the provider's own notes on Asiakkaat A1 and D2 (the marked cell)
    threaded comments    a threaded comment (Excel 365) with its legacy stand-in, and its persons part
    header picture       a logo in the page header of Asiakkaat (a VML drawing for headers and footers)
    form button          a form button on Asiakkaat (a legacy VML drawing without comments)
    picture in sheet     a picture anchored on Lasku (a DrawingML drawing and its media)
    web formula text     a formula whose text merely holds https://, with its cached value
    renamed workbook     the workbook part at xl/main.xml, found only through _rels/.rels
    rows without r       Asiakkaat's rows and cells without their r references (allowed, rarely written)
    no stylesheet        no xl/styles.xml at all (allowed; some generators write none)
    libreoffice          the invoice as LibreOffice Calc saves it (only where soffice is installed)

`build(folder, ctl)` writes them all into `folder`, one provider each
(k = 1, 2, ...; k = 0 is left for a control invoice), and returns
{file name: (k, kind)}.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import hostile
import openpyxl
import wb
from openpyxl.comments import Comment
from openpyxl.styles import Font
from reliability import Control

ASIAKKAAT = "xl/worksheets/sheet2.xml"
LASNAOLO = "xl/worksheets/sheet3.xml"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
VML_NS = 'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" ' \
         'xmlns:x="urn:schemas-microsoft-com:office:excel"'


def png() -> bytes:
    """A 2 x 2 red PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def invoice(ctl: Control, k: int, path: Path, engine: str = "openpyxl", extra: dict | None = None,
            text_date: bool = False) -> Path:
    """Provider k's invoice with R208 and R210 on Asiakkaat (3 days claimed, 2 marked, fee 100.00)."""
    header, clients, attendance = ctl.invoice(k, f"K-{k}")
    clients[0]["days_claimed"] = 3
    if text_date:
        header["invoice_date"] = header["invoice_date"].strftime("%-d.%-m.%Y")
    for key, value in (extra or {}).items():
        clients[1][key] = value
    return wb.write_invoice(path, header, clients, attendance, engine=engine)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def edit(path: Path, changes: dict) -> Path:
    """Rewrite parts in place: a value is new bytes, None drops the part, a callable maps the old text."""
    old = parts(path)
    new = {}
    for name, change in changes.items():
        new[name] = change(old[name].decode()).encode() if callable(change) else change
    scratch = path.with_name(path.name + ".src")
    path.rename(scratch)
    hostile.rewrite(scratch, path, new)
    scratch.unlink()
    return path


def add_types(*entries: str):
    return lambda xml: xml.replace("</Types>", "".join(entries) + "</Types>")


def after_page_setup(element: str):
    """Insert `element` into a worksheet after its pageMargins or pageSetup (where headerFooter and drawings follow)."""
    def change(xml: str) -> str:
        last = list(re.finditer(r"<(pageMargins|pageSetup)\b[^>]*?(?:/>|>.*?</\1>)", xml, re.DOTALL))[-1]
        return xml[:last.end()] + element + xml[last.end():]
    return change


def with_rels(xml: str | None, *rels: str) -> bytes:
    body = "".join(rels)
    if xml is None:
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
                f'"http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>').encode()
    return xml.replace("</Relationships>", body + "</Relationships>").encode()


# --- the kinds --------------------------------------------------------------------------------------

def row_only_dimension(ctl, k, path):
    invoice(ctl, k, path)
    return edit(path, {ASIAKKAAT: lambda x: re.sub(r"<dimension ref=\"[^\"]*\"\s*/>", '<dimension ref="1:4"/>', x)})


def sheet_state_show(ctl, k, path):
    invoice(ctl, k, path)
    return edit(path, {"xl/workbook.xml": lambda x: x.replace('state="visible"', 'state="show"')})


def far_styled_cells(ctl, k, path):
    invoice(ctl, k, path)
    book = openpyxl.load_workbook(path)
    for name in ("Asiakkaat", "Läsnäolo"):
        book[name]["XFD1048576"].font = Font(bold=True)
    book.save(path)
    return path


def inline_strings(ctl, k, path):
    return invoice(ctl, k, path, engine="inline")


def shared_formulas(ctl, k, path):
    invoice(ctl, k, path)

    def change(xml: str) -> str:
        xml = xml.replace("</row>", '<c r="L1" t="inlineStr"><is><t>Tarkistus</t></is></c></row>', 1)
        xml = re.sub(r'(<row r="2"[^>]*>.*?)</row>', r'\1<c r="L2"><f t="shared" ref="L2:L3" si="0">D2*2</f><v>6</v></c></row>',
                     xml, count=1, flags=re.DOTALL)
        return re.sub(r'(<row r="3"[^>]*>.*?)</row>', r'\1<c r="L3"><f t="shared" si="0"/><v>6</v></c></row>',
                      xml, count=1, flags=re.DOTALL)
    return edit(path, {ASIAKKAAT: change})


def dates_1904(ctl, k, path):
    invoice(ctl, k, path)
    book = openpyxl.load_workbook(path)
    book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    book.save(path)
    return path


def locale_date_formats(ctl, k, path):
    invoice(ctl, k, path)
    book = openpyxl.load_workbook(path)
    book["Lasku"]["B5"].number_format = "[$-40B]d\\.m\\.yyyy;@"
    book["Asiakkaat"]["L2"] = book["Lasku"]["B5"].value
    book["Asiakkaat"]["L2"].number_format = "dd/mm/yyyy"
    book["Asiakkaat"]["L1"] = "Alkaen"
    book.save(path)
    return path


def legacy_comments(ctl, k, path):
    invoice(ctl, k, path)
    book = openpyxl.load_workbook(path)
    book["Asiakkaat"]["A1"].comment = Comment("Päätösnumero kaupungin kirjeestä", "Tuottaja")
    book["Asiakkaat"]["D2"].comment = Comment("Yksi päivä puhelimitse", "Tuottaja")
    book.save(path)
    return path


THREAD_ID = "{6B2F0C7D-1D39-4C5E-9E36-5A8E2F0B1C11}"
PERSON_ID = "{0F8A7D57-9E1A-4C36-A5B8-3E2E94C0D2AA}"


def threaded_comments(ctl, k, path):
    legacy_comments(ctl, k, path)
    threaded = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
                f'<threadedComment ref="A1" dT="2026-11-20T10:00:00.00" personId="{PERSON_ID}" id="{THREAD_ID}">'
                '<text>Päätösnumero kaupungin kirjeestä</text></threadedComment></ThreadedComments>')
    persons = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
               f'<person displayName="Tuottaja" id="{PERSON_ID}" userId="tuottaja@example.fi" providerId="None"/>'
               '</personList>')
    old = parts(path)
    return edit(path, {
        "xl/threadedComments/threadedComment1.xml": threaded.encode(),
        "xl/persons/person.xml": persons.encode(),
        "xl/worksheets/_rels/sheet2.xml.rels": with_rels(
            old["xl/worksheets/_rels/sheet2.xml.rels"].decode(),
            '<Relationship Id="rIdT1" Type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment" '
            'Target="../threadedComments/threadedComment1.xml"/>'),
        "xl/_rels/workbook.xml.rels": with_rels(
            old["xl/_rels/workbook.xml.rels"].decode(),
            '<Relationship Id="rIdP1" Type="http://schemas.microsoft.com/office/2017/10/relationships/person" '
            'Target="persons/person.xml"/>'),
        "[Content_Types].xml": add_types(
            '<Override PartName="/xl/threadedComments/threadedComment1.xml" '
            'ContentType="application/vnd.ms-excel.threadedcomments+xml"/>',
            '<Override PartName="/xl/persons/person.xml" ContentType="application/vnd.ms-excel.person+xml"/>'),
    })


def header_picture(ctl, k, path):
    return add_header_picture(invoice(ctl, k, path))


def add_header_picture(path: Path) -> Path:
    """A logo in the page header of Asiakkaat (VML for headers and footers, and its picture)."""
    vml = (f'<xml {VML_NS}><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
           '<v:shapetype id="_x0000_t75" coordsize="21600,21600" o:spt="75" o:preferrelative="t" '
           'path="m@4@5l@4@11@9@11@9@5xe" filled="f" stroked="f"><v:stroke joinstyle="miter"/></v:shapetype>'
           '<v:shape id="LH" o:spid="_x0000_s1025" type="#_x0000_t75" style="position:absolute;margin-left:0;'
           'margin-top:0;width:48pt;height:24pt;z-index:1"><v:imagedata o:relid="rId1" o:title="logo"/>'
           '<o:lock v:ext="edit" rotation="t"/></v:shape></xml>')
    return edit(path, {
        ASIAKKAAT: after_page_setup('<headerFooter><oddHeader>&amp;L&amp;G&amp;CLasku</oddHeader></headerFooter>'
                                    f'<legacyDrawingHF xmlns:r="{REL_NS}" r:id="rIdHF1"/>'),
        "xl/drawings/vmlDrawingHF1.vml": vml.encode(),
        "xl/drawings/_rels/vmlDrawingHF1.vml.rels": with_rels(
            None, f'<Relationship Id="rId1" Type="{REL_NS}/image" Target="../media/logo1.png"/>'),
        "xl/media/logo1.png": png(),
        "xl/worksheets/_rels/sheet2.xml.rels": with_rels(
            parts(path).get("xl/worksheets/_rels/sheet2.xml.rels", b"").decode() or None,
            f'<Relationship Id="rIdHF1" Type="{REL_NS}/vmlDrawing" Target="../drawings/vmlDrawingHF1.vml"/>'),
        "[Content_Types].xml": add_types(
            '<Default Extension="png" ContentType="image/png"/>',
            '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'),
    })


def form_button(ctl, k, path):
    return add_form_button(invoice(ctl, k, path))


def add_form_button(path: Path) -> Path:
    """A form button on Asiakkaat (a legacy VML drawing; the sheet must have none yet)."""
    vml = (f'<xml {VML_NS}><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
           '<v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">'
           '<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" '
           'o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/></v:shapetype>'
           '<v:shape id="Button 1" o:spid="_x0000_s1025" type="#_x0000_t201" style="position:absolute;'
           'margin-left:400pt;margin-top:30pt;width:90pt;height:24pt;z-index:1" fillcolor="buttonFace [67]" '
           'strokecolor="windowText [64]" o:insetmode="auto"><v:textbox style="mso-direction-alt:auto" o:singleclick="f">'
           '<div style="text-align:center"><font face="Calibri" size="220" color="#000000">Laske</font></div>'
           '</v:textbox><x:ClientData ObjectType="Button"><x:Anchor>12, 0, 2, 0, 14, 0, 3, 10</x:Anchor>'
           '<x:PrintObject>False</x:PrintObject><x:AutoFill>False</x:AutoFill><x:TextHAlign>Center</x:TextHAlign>'
           '<x:TextVAlign>Center</x:TextVAlign></x:ClientData></v:shape></xml>')
    return edit(path, {
        ASIAKKAAT: after_page_setup(f'<legacyDrawing xmlns:r="{REL_NS}" r:id="rIdB1"/>'),
        "xl/drawings/vmlDrawing1.vml": vml.encode(),
        "xl/worksheets/_rels/sheet2.xml.rels": with_rels(
            None, f'<Relationship Id="rIdB1" Type="{REL_NS}/vmlDrawing" Target="../drawings/vmlDrawing1.vml"/>'),
        "[Content_Types].xml": add_types(
            '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'),
    })


def picture_in_sheet(ctl, k, path):
    import xlsxwriter

    header, clients, attendance = ctl.invoice(k, f"K-{k}")
    clients[0]["days_claimed"] = 3
    grids = {wb.sheet_name("invoice"): wb.lasku(header),
             wb.sheet_name("clients"): wb.table(clients, wb.Clients),
             wb.sheet_name("attendance"): wb.table(attendance, wb.AttendanceKeys)}
    logo = path.with_suffix(".png")
    logo.write_bytes(png())
    book = xlsxwriter.Workbook(str(path))
    for name, grid in grids.items():
        ws = book.add_worksheet(name)
        for r, values in enumerate(grid):
            for c, v in enumerate(values):
                if v is not None:
                    ws.write_string(r, c, v) if isinstance(v, str) else ws.write(r, c, v)
        if name == "Lasku":
            ws.insert_image("D1", str(logo))
    book.close()
    logo.unlink()
    return path


def web_formula_text(ctl, k, path):
    return invoice(ctl, k, path, engine="xlsxwriter",
                   extra={"Lisätiedot": wb.Formula('=HYPERLINK("https://example.com/ohje","ohje")', "ohje")})


def renamed_workbook(ctl, k, path):
    invoice(ctl, k, path)
    old = parts(path)
    return edit(path, {
        "xl/workbook.xml": None, "xl/main.xml": old["xl/workbook.xml"],
        "xl/_rels/workbook.xml.rels": None, "xl/_rels/main.xml.rels": old["xl/_rels/workbook.xml.rels"],
        "_rels/.rels": lambda x: x.replace("xl/workbook.xml", "xl/main.xml"),
        "[Content_Types].xml": lambda x: x.replace("/xl/workbook.xml", "/xl/main.xml"),
    })


def rows_without_r(ctl, k, path):
    invoice(ctl, k, path)

    def change(xml: str) -> str:
        start, end = xml.index("<sheetData>"), xml.index("</sheetData>")
        return xml[:start] + re.sub(r' r="[A-Z]*[0-9]+"', "", xml[start:end]) + xml[end:]
    return edit(path, {ASIAKKAAT: change})


def no_stylesheet(ctl, k, path):
    invoice(ctl, k, path, text_date=True)
    unstyled = lambda xml: re.sub(r' s="[0-9]+"', "", xml)  # noqa: E731
    return edit(path, {
        "xl/styles.xml": None,
        "xl/_rels/workbook.xml.rels": lambda x: re.sub(r"<Relationship [^>]*styles[^>]*/>", "", x),
        "[Content_Types].xml": lambda x: re.sub(r"<Override [^>]*styles\.xml[^>]*/>", "", x),
        "xl/worksheets/sheet1.xml": unstyled, ASIAKKAAT: unstyled, LASNAOLO: unstyled,
    })


def libreoffice(ctl, k, path):
    invoice(ctl, k, path)
    out = path.parent / ".lo"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{path.parent / '.lo-profile'}",
                    "--convert-to", "xlsx", "--outdir", str(out), str(path)], check=True, timeout=180,
                   capture_output=True)
    shutil.move(out / path.name, path)
    shutil.rmtree(out)
    shutil.rmtree(path.parent / ".lo-profile", ignore_errors=True)
    return path


KINDS = {
    "row-only dimension": row_only_dimension,
    "sheet state show": sheet_state_show,
    "far styled cells": far_styled_cells,
    "inline strings": inline_strings,
    "shared formulas": shared_formulas,
    "1904 dates": dates_1904,
    "locale date formats": locale_date_formats,
    "legacy comments": legacy_comments,
    "threaded comments": threaded_comments,
    "header picture": header_picture,
    "form button": form_button,
    "picture in sheet": picture_in_sheet,
    "web formula text": web_formula_text,
    "renamed workbook": renamed_workbook,
    "rows without r": rows_without_r,
    "no stylesheet": no_stylesheet,
    "libreoffice": libreoffice,
}


def build(folder: Path, ctl: Control) -> dict[str, tuple[int, str]]:
    """Every kind into `folder` (LibreOffice's only where soffice is installed): {file name: (k, kind)}."""
    made = {}
    for k, (kind, builder) in enumerate(KINDS.items(), 1):
        if kind == "libreoffice" and shutil.which("soffice") is None:
            continue
        name = f"{kind}.xlsx"
        builder(ctl, k, folder / name)
        made[name] = (k, kind)
    return made
