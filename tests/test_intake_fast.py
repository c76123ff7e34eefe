"""Intake's short cut (reconcile/sheetdata.py) answers as the exact scan does, or leaves the part to it.

Every file is examined twice: as a batch run does (the short cut tried on
each worksheet) and with the short cut turned off (`PLAIN_PART_BYTES`
below every part's size), so that each worksheet takes the exact,
element-by-element scan. The two must agree on the refusal (rule, kind and
reason), on which sheets map to which parts, on the error cells, and on
whether calamine may be given each sheet; where the short cut vouched for a
sheet, its furthest row and column are bounds of the exact ones.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile
import wb
from reconcile import config
from reconcile.read import intake, sheetdata, sheets

ROOT = Path(__file__).resolve().parents[1]
LIMITS = config.load(ROOT / "config").limits
INVOICE_BOUND, REGISTER_BOUND = [(rows, columns) for rows, columns, _ in sheetdata.TIERS]


def examine(path: Path, limits=LIMITS, short_cut: bool = True) -> intake.Inspection:
    saved = intake.PLAIN_PART_BYTES
    intake.PLAIN_PART_BYTES = saved if short_cut else -1
    try:
        return intake.examine(intake.submission(path), limits)
    finally:
        intake.PLAIN_PART_BYTES = saved


def verdict(ins: intake.Inspection):
    f = ins.finding
    return None if f is None else (f.rule, f.params.get("kind"), f.found)


def calamine_safe(scan: intake.SheetScan) -> bool:
    return scan.exact and scan.max_row * scan.max_col <= sheets.MAX_DENSE_CELLS


def agree(path: Path, limits=LIMITS) -> tuple[intake.Inspection, intake.Inspection]:
    """Both examinations of the file, asserted to agree; returned for further checks."""
    fast, exact = examine(path, limits), examine(path, limits, short_cut=False)
    assert verdict(fast) == verdict(exact), path.name
    assert fast.mapped == exact.mapped and fast.sheets.keys() == exact.sheets.keys()
    for name, f in fast.sheets.items():
        e = exact.sheets[name]
        assert (f.part, f.errors, f.exact) == (e.part, e.errors, e.exact), (path.name, name)
        assert f.max_row >= e.max_row and f.max_col >= e.max_col, (path.name, name)
        assert calamine_safe(f) == calamine_safe(e), (path.name, name)
    return fast, exact


def short_cut_taken(fast: intake.Inspection, exact: intake.Inspection, name: str) -> bool:
    """Whether the short cut vouched for a sheet: a tier's bound stands where the exact scan found less."""
    f, e = fast.sheets[name], exact.sheets[name]
    bounds = (INVOICE_BOUND, REGISTER_BOUND)
    return (f.max_row, f.max_col) in bounds and (e.max_row, e.max_col) not in bounds


# -- whole workbooks ------------------------------------------------------------


@pytest.mark.parametrize("engine", ["openpyxl", "xlsxwriter"])
def test_invoices_of_both_writers_take_the_short_cut_and_agree(tmp_path, engine):
    header, clients, attendance = wb.sample_invoice()
    clients[0]["meals"] = "=1+1"  # a formula
    path = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance, engine=engine,
                            extra_sheets={"Muistiinpanot": [["Huom: <tärkeä> & \"lainattu\"", "rivi\nvaihto"]]})
    fast, exact = agree(path)
    assert fast.finding is None
    assert all(short_cut_taken(fast, exact, name) for name in fast.sheets)


def test_committed_sample_inbox_agrees():
    files = sorted((ROOT / "inbox").rglob("*.xlsx"))
    assert files
    for path in files:
        agree(path)


def test_hostile_files_get_the_same_finding(tmp_path):
    for name, path in hostile.write_all(tmp_path).items():
        agree(path)


def test_error_cells_leave_their_sheet_to_the_exact_scan(tmp_path):
    header, clients, attendance = wb.sample_invoice()
    clients[1]["meals"] = "#N/A"
    path = wb.write_invoice(tmp_path / "a.xlsx", header, clients, attendance, engine="xlsxwriter")
    fast, exact = agree(path)
    assert fast.sheets["Asiakkaat"].errors == {(3, 7): "#N/A"}
    assert not short_cut_taken(fast, exact, "Asiakkaat") and short_cut_taken(fast, exact, "Lasku")


@pytest.mark.libreoffice
def test_saved_by_libreoffice_takes_the_short_cut_and_agrees(tmp_path):
    from test_conformance_reading import libreoffice

    header, clients, attendance = wb.sample_invoice()
    (tmp_path / "src").mkdir()
    src = wb.write_invoice(tmp_path / "src" / "a.xlsx", header, clients, attendance, engine="openpyxl")
    saved, = libreoffice(tmp_path, src)
    fast, exact = agree(saved)
    assert fast.finding is None and all(short_cut_taken(fast, exact, name) for name in fast.sheets)


# -- one worksheet, its rows written by hand ---------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return hostile.base_workbook(tmp_path_factory.mktemp("base") / "base.xlsx")


def with_rows(base: Path, out: Path, inner: bytes, before: bytes = b"", after: bytes = b"") -> Path:
    """The base workbook with its first sheet's rows replaced (and markup put around <sheetData>)."""
    sheet = hostile.part(base, hostile.SHEET)
    sheet = re.sub(rb"<sheetData>.*</sheetData>|<sheetData\s*/>",
                   lambda _: before + b"<sheetData>" + inner + b"</sheetData>" + after, sheet, flags=re.S)
    return hostile.rewrite(base, out, {hostile.SHEET: sheet})


EXCEL_ROWS = (
    b'<row r="1" spans="1:3" s="1" customFormat="1" ht="30" customHeight="1" x14ac:dyDescent="0.25">'
    b'<c r="A1" s="1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><r><rPr><b/><sz val="11"/>'
    b'<color rgb="FFFF0000"/><rFont val="Calibri"/></rPr><t xml:space="preserve">rich </t></r>'
    b'<r><t>text &amp; &lt;more&gt; &#10;</t></r></is></c>'
    b'<c r="C1"><f t="shared" ref="C1:C2" si="0">A1*2</f><v>0</v></c></row>\n'
    b'<row r="2"><c r="C2"><f t="shared" si="0"/><v>0</v></c><c r="D2" s="3"/></row>'
)

# (name, rows, the bound the short cut gives them, or None: it leaves them to the exact scan)
SHAPES = [
    ("excel_shapes", EXCEL_ROWS, INVOICE_BOUND),
    ("pretty_printed", b'\n  <row r="1">\n    <c r="A1">\n      <v>1</v>\n    </c>\n  </row>\n', INVOICE_BOUND),
    ("empty_rows", b'<row r="1"/><row r="2" spans="1:1"></row>', INVOICE_BOUND),
    ("furthest_plain_cell", b'<row r="19999"><c r="BZ19999"><v>1</v></c></row>', INVOICE_BOUND),
    ("column_beyond_bz", b'<row r="1"><c r="CA1"><v>1</v></c></row>', None),
    ("row_beyond_19999", b'<row r="20000"><c r="A20000"><v>1</v></c></row>', None),
    ("far_away_cell", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', None),
    ("lower_case_reference", b'<row r="1"><c r="a1"><v>1</v></c></row>', None),
    ("cell_without_reference", b'<row r="1"><c t="n"><v>1</v></c></row>', None),
    ("reference_not_first", b'<row r="1"><c s="1" r="A1"><v>1</v></c></row>', None),
    ("error_cell", b'<row r="1"><c r="A1" t="e"><v>#REF!</v></c></row>', None),
    ("error_cell_single_quotes", b"<row r='1'><c r='A1' t='e'><v>#DIV/0!</v></c></row>", None),
    ("error_cell_spaced", b'<row r="1"><c r="A1" t = "e"><v>#N/A</v></c></row>', None),
    ("duplicate_attribute", b'<row r="1"><c r="A1" s="1" s="2"><v>1</v></c></row>', None),
    ("control_character", b'<row r="1"><c r="A1" t="inlineStr"><is><t>a\x01b</t></is></c></row>', None),
    ("undefined_entity", b'<row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;</t></is></c></row>', None),
    ("nul_reference", b'<row r="1"><c r="A1" t="inlineStr"><is><t>&#0;</t></is></c></row>', None),
    ("cdata_end_in_text", b'<row r="1"><c r="A1" t="inlineStr"><is><t>a]]>b</t></is></c></row>', None),
    ("comment", b'<row r="1"><!-- a comment --><c r="A1"><v>1</v></c></row>', None),
    ("processing_instruction", b'<row r="1"><?pi x?><c r="A1"><v>1</v></c></row>', None),
    ("cdata", b'<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[<x>]]></t></is></c></row>', None),
    ("prefixed_cell", b'<row r="1"><x:c xmlns:x="urn:x" r="A1"><x:v>1</x:v></x:c></row>', None),
    ("nested_rows", b'<row r="1"><row r="2"><c r="A2"><v>1</v></c></row></row>', None),
    ("foreign_element", b'<row r="1"><c r="A1"><v>1</v><x/></c></row>', None),
    ("run_property_named_like_a_cell", b'<row r="1"><c r="A1" t="inlineStr"><is><r><rPr><c/></rPr><t>x</t></r>'
                                       b'</is></c></row>', None),
    ("unbalanced", b'<row r="1"><c r="A1"><v>1</v></row>', None),
    ("invalid_utf8", b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xff</t></is></c></row>', None),
    ("deep_inside", b"<x>" * 100 + b"</x>" * 100, None),
]


@pytest.mark.parametrize("name, inner, bound", SHAPES, ids=[s[0] for s in SHAPES])
def test_row_shapes(tmp_path, base, name, inner, bound):
    path = with_rows(base, tmp_path / f"{name}.xlsx", inner)
    fast, exact = agree(path)
    assert sheetdata.plain([inner]) == [bound]
    if bound:
        assert fast.finding is None


def tall(rows: int, column: str = "C") -> bytes:
    return b"".join(b'<row r="%d"><c r="A%d" t="s"><v>1</v></c><c r="%s%d"><v>2</v></c></row>'
                    % (r, r, column.encode(), r) for r in range(1, rows + 1))


@pytest.mark.parametrize("inner, bound", [
    (tall(25_000), REGISTER_BOUND),  # a register's length: the longer, narrower tier
    (tall(25_000, "U"), None),  # too wide for that tier
    (tall(19_999, "U"), INVOICE_BOUND),  # an invoice's tier is tried first
], ids=["register", "register_too_wide", "invoice_wide"])
def test_tall_sheets_take_the_register_tier(tmp_path, base, inner, bound):
    limits = config.Limits(max_rows=100_000)
    fast, exact = agree(with_rows(base, tmp_path / "tall.xlsx", inner), limits)
    assert sheetdata.plain([inner]) == [bound]
    assert fast.finding is None and calamine_safe(fast.sheets["Lasku"])


def test_malformed_rows_are_refused_as_before(tmp_path, base):
    kinds = {name: verdict(examine(with_rows(base, tmp_path / f"{name}.xlsx", inner)))
             for name, inner, _ in SHAPES}
    for name in ("duplicate_attribute", "control_character", "undefined_entity", "nul_reference",
                 "cdata_end_in_text", "unbalanced"):
        assert kinds[name][:2] == ("F001", "bad_xml"), name
    assert kinds["invalid_utf8"][:2] == ("F001", "invalid_utf8")
    assert kinds["deep_inside"][:2] == ("F002", "depth")


@pytest.mark.parametrize("depth, refused", [(62, False), (63, True)])
def test_depth_outside_sheet_data_counts_with_the_rows(tmp_path, base, depth, refused):
    """Deep nesting after <sheetData> (in its own extLst) is judged with the rows' depth, as a whole."""
    deep = b"<extLst>" + b"<x>" * depth + b"</x>" * depth + b"</extLst>"
    path = with_rows(base, tmp_path / "deep.xlsx", EXCEL_ROWS, after=deep)
    fast, _ = agree(path, config.Limits(max_xml_depth=64))
    assert (verdict(fast)[1] if fast.finding else None) == ("depth" if refused else None)


@pytest.mark.parametrize("declaration, refused", [
    (b'<?xml version="1.0" encoding="US-ASCII"?>', "bad_xml"),  # the rows' ä is not ASCII: expat refuses
    (b'<?xml version="1.0" encoding="ISO-8859-1"?>', None),  # the same bytes are other letters, well-formed
    (b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>", None),  # a byte-order mark, single quotes
    (b'  <?xml version="1.0"?>', "bad_xml"),  # white space before the declaration: not well-formed
], ids=["ascii", "latin1", "bom", "space_before"])
def test_declared_encoding_is_the_exact_scans_to_judge(tmp_path, base, declaration, refused):
    rows = with_rows(base, tmp_path / "rows.xlsx", '<row r="1"><c r="A1" t="inlineStr"><is><t>ä</t></is></c></row>'
                     .encode("utf-8"))
    sheet = declaration + re.sub(rb"^<\?xml.*?\?>", b"", hostile.part(rows, hostile.SHEET), flags=re.S)
    fast, _ = agree(hostile.rewrite(rows, tmp_path / "declared.xlsx", {hostile.SHEET: sheet}))
    assert (verdict(fast)[1] if fast.finding else None) == refused


def test_markup_hiding_sheet_data_leaves_the_part_to_the_exact_scan(tmp_path, base):
    """A <sheetData> tag inside a comment before the real element is never taken for the element."""
    path = with_rows(base, tmp_path / "hidden.xlsx", b'<row r="1"><c r="A1"><v>1</v></c></row>',
                     before=b"<!-- <sheetData></sheetData> -->")
    fast, exact = agree(path)
    assert not short_cut_taken(fast, exact, "Lasku")


NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


@pytest.mark.parametrize("part", [
    # a processing instruction whose target begins with "xml" holds the tag; ?> in a value ends it early
    b'<?xml-stylesheet <sheetData><row spans="?>"/></sheetData>?>' + NS + b"</worksheet>",
    b'<?xml-stylesheet <sheetData><row r="1"/></sheetData>?>' + NS + b"</worksheet>",
    b'<?xml version="1.0"?><?pi <sheetData><row r="1"/></sheetData>?>' + NS + b"</worksheet>",
], ids=["pi_ends_in_a_value", "pi_holds_the_tag", "pi_after_declaration"])
def test_a_tag_inside_a_processing_instruction_is_not_the_element(tmp_path, base, part):
    agree(hostile.rewrite(base, tmp_path / "pi.xlsx", {hostile.SHEET: part}))


def utf16_hiding(rows: bytes) -> bytes:
    """A UTF-16 sheet one of whose texts is, byte for byte, `<sheetData>` + rows in ASCII."""
    for pad in range(4):
        hidden = b"<sheetData>" + rows.replace(b"<v>", b"<v>" + b" " * pad) + b"</sheetData>"
        hidden += b"N" * (len(hidden) % 2)
        try:
            text = hidden.decode("utf-16-le")
        except UnicodeDecodeError:
            continue
        if all(0x20 <= ord(c) < 0xD800 or 0xE000 <= ord(c) < 0xFFFE for c in text) and not set(text) & set("<&"):
            break
    else:
        raise AssertionError("no alignment found")
    head = NS.decode() + '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
    tail = "</t></is></c></row></sheetData></worksheet>"
    return b"\xff\xfe" + head.encode("utf-16-le") + hidden + tail.encode("utf-16-le")


def test_utf16_sheet_is_never_given_to_calamine(tmp_path, base):
    """calamine reads a sheet as UTF-8: the ASCII bytes of a UTF-16 text would be rows to it (3 million cells)."""
    path = hostile.rewrite(base, tmp_path / "utf16.xlsx",
                           {hostile.SHEET: utf16_hiding(b'<row r="30000"><c r="CV30000"><v>7</v></c></row>')})
    fast, _ = agree(path)
    assert fast.finding is None and not fast.sheets["Lasku"].exact
    book = sheets.open_book(fast)  # openpyxl, which reads UTF-16 as UTF-16
    assert [(n, len(v)) for n, v in sheets.find_sheet(book, "invoice").rows] == [(1, 1)]


def test_a_later_part_failing_otherwise_does_not_hide_an_earlier_sheets_reason(tmp_path, base):
    """A pending worksheet's own refusal comes first whatever stops the scan of a later part."""
    duplicate = hostile.part(with_rows(base, tmp_path / "d.xlsx", b'<row r="1"><c r="A1" s="1" s="2"/></row>'),
                             hostile.SHEET)
    second = "xl/worksheets/sheet2.xml"
    unknown = b'<?xml version="1.0" encoding="x-unknown"?>' + hostile.part(base, second)
    both = agree(hostile.rewrite(base, tmp_path / "both.xlsx", {hostile.SHEET: duplicate, second: unknown}))[0]
    assert verdict(both)[2].startswith(f"part {hostile.SHEET} is not well-formed XML (line 1")  # the first sheet's own reason
    alone = agree(hostile.rewrite(base, tmp_path / "alone.xlsx", {second: unknown}))[0]
    assert verdict(alone) == ("F001", "bad_xml", f"part {second} declares an unknown encoding")


@pytest.mark.parametrize("before, after", [
    (b'<sheetPr><c r="C3" t="e"/></sheetPr>', b"<extLst><v>#REF!</v></extLst>"),
    (b"<sheetPr><c/></sheetPr>", b"<extLst><ext><xm:f>A1</xm:f></ext></extLst>"),
    (b"", b'<extLst><c r="CW1"><v>1</v></c></extLst>'),
], ids=["error_cell_before", "cell_without_reference_before", "wide_cell_after"])
def test_cells_outside_sheet_data_leave_the_part_to_the_exact_scan(tmp_path, base, before, after):
    """The exact scan reads a part as one (a cell's state carries across <sheetData>): so does the verdict."""
    path = with_rows(base, tmp_path / "outside.xlsx", b'<row r="1"><c r="A1"><v>5</v></c></row>', before, after)
    fast, exact = agree(path)
    assert not short_cut_taken(fast, exact, "Lasku")


def test_rows_over_the_limit_are_counted_exactly(tmp_path, base):
    """More <row> tags than the limit: the exact scan counts those holding values (empty rows do not)."""
    empty = b"".join(b'<row r="%d"/>' % r for r in range(1, 31))
    valued = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(31, 41))
    path = with_rows(base, tmp_path / "rows.xlsx", empty + valued)
    assert verdict(agree(path, config.Limits(max_rows=10))[0]) is None
    assert verdict(agree(path, config.Limits(max_rows=9))[0])[1] == "rows"


# -- random rows ---------------------------------------------------------------------

PLAIN_TEXT = st.sampled_from(["a", "ä", "1,5", " ", "&amp;", "&lt;", "&#10;", "&quot;", "'", '"', "/", "€"])
ODD_TEXT = st.sampled_from([">", "]]>", "&#x263A;", "\x01", "\t", "&bogus;", "&#0;", "\ufffe"])
TEXTS = st.lists(st.one_of(*[PLAIN_TEXT] * 8, ODD_TEXT), max_size=4).map("".join)
ATTRIBUTE_VALUES = st.sampled_from(["1", "0", "s", "n", "e", "str", "inlineStr", "1:3", "a&amp;b", "x/y", "", "<"])


@st.composite
def cells_of(draw, row: int) -> bytes:
    col = draw(st.sampled_from(["A", "B", "Z", "AA", "BZ"] * 4 + ["CA", "XFD", "a"]))
    if draw(st.integers(0, 3)):  # mostly as writers write them: reference, style, type, in that order
        attrs = [("r", f"{col}{row}")]
        if draw(st.booleans()):
            attrs.append(("s", draw(st.sampled_from(["0", "1", "12"]))))
        if draw(st.booleans()):
            attrs.append(("t", draw(st.sampled_from(["s", "n", "str", "inlineStr", "b"] * 3 + ["e"]))))
    else:
        attrs = [("r", f"{col}{row}")] if draw(st.integers(0, 5)) else []
        for name in draw(st.lists(st.sampled_from(["s", "t", "cm", "vm", "ph", "r", "x"]), max_size=3)):
            attrs.append((name, draw(ATTRIBUTE_VALUES)))
        attrs = draw(st.permutations(attrs))
    head = "<c" + "".join(f' {k}="{v}"' for k, v in attrs)
    kind = draw(st.sampled_from(["empty", "value", "formula", "inline", "rich"] * 3 + ["junk"]))
    text = draw(TEXTS)
    body = {
        "empty": None,
        "value": f"<v>{text}</v>",
        "formula": f"<f>{text}</f><v>1</v>",
        "inline": f"<is><t>{text}</t></is>",
        "rich": f"<is><r><rPr><b/></rPr><t>{text}</t></r></is>",
        "junk": f"<x>{text}</x>",
    }[kind]
    return (head + ("/>" if body is None else f">{body}</c>")).encode("utf-8")


@st.composite
def sheet_rows(draw) -> bytes:
    rows = []
    for r in draw(st.lists(st.sampled_from([1, 2, 3, 19999] * 3 + [20000]), max_size=4)):
        cells = draw(st.lists(cells_of(r), max_size=3))
        rows.append(f'<row r="{r}">'.encode() + b"".join(cells) + b"</row>")
    return b"".join(rows)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inner=sheet_rows())
def test_random_rows_agree(tmp_path, base, inner):
    agree(with_rows(base, tmp_path / "random.xlsx", inner))
