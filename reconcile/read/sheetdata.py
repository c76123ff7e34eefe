"""Intake's short cut for the bulk of a worksheet: the inside of its `<sheetData>` judged by one grammar.

`intake` must know, before any reader parses a worksheet as a whole, that
it is well-formed XML, how deep its elements nest, how many rows hold
values, how far its furthest cell lies and which cells hold error values.
Its exact scan learns this from one Python call per XML element, which on
a batch of workbooks costs more than reading them. But spreadsheet
programs write the rows of a sheet in one plain shape::

    <row r="2" spans="1:3"><c r="A2" s="1" t="s"><v>0</v></c><c r="B2"><f>A2*2</f><v>2</v></c></row>

`GRAMMAR` is that shape as a regular expression: rows of cells, each with
its reference, an optional formula, value and inline string (plain or in
rich-text runs), attributes in the order the standard (ECMA-376,
`CT_Row`, `CT_Cell`, `CT_CellFormula`) lists them, each at most once, text
escaped as every writer escapes it, white space between elements. Rust's
regex engine (through Polars) matches it in linear time, with no call per
element. When the inside of a part's `<sheetData>` matches it, the answers
of the exact scan follow from the text alone:

- it is well-formed XML by itself: elements balanced, no attribute twice,
  no character XML forbids, no reference but the five named ones and tab,
  line feed and carriage return by number;
- no element inside `<sheetData>` nests deeper than `DEPTH`;
- every cell holds its reference within the rectangle of a `TIERS` entry
  (A1:BZ19999, an invoice's sheet; or A1:T99999, a register's), so no cell
  lies beyond that rectangle's last row and column (a bound, where the
  exact scan gives the furthest cell): calamine is never handed more than
  two million cells for the sheet;
- no cell is of error type (`t="e"`), whose text only the exact scan records;
- no more rows hold values than there are `<row` tags.

Anything else (comments, prefixed names, a cell without its reference or
outside both rectangles, an error cell, attributes in another order, a part in
another encoding than UTF-8) is left to the exact scan: `plain` only ever
answers "the exact scan would find nothing more here" or "ask it".
`tests/test_intake_fast.py` compares the two on workbooks from every
writer the tests know, hostile ones included.
"""

from __future__ import annotations

S = r"[ \t\r\n]"  # XML's white space (Rust's \s would also take a no-break space)
FORBIDDEN = r"\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}"  # characters XML 1.0 does not allow
REFERENCE = r"&(?:amp|lt|gt|quot|apos|#9|#10|#13|#x9|#xA|#xD|#xa|#xd);"
CHARS = rf"(?:[^<>&{FORBIDDEN}]|{REFERENCE})*"  # text (every writer escapes > too)
VALUE = rf"\"(?:[^\"<&{FORBIDDEN}]|{REFERENCE})*\""


def attributes(*names: str, **fixed: str) -> str:
    """Optional attributes in this order, each at most once; `fixed` gives a name a stricter value."""
    return "".join(rf"(?:{S}+{name}{S}*={S}*{fixed.get(name, VALUE)})?" for name in names)


# (last row, last column, a reference inside that rectangle): the first tier a sheet fits in bounds it.
TIERS = (
    (19_999, 78, r'"(?:[AB][A-Z]|[A-Z])(?:[1-9][0-9]{0,3}|1[0-9]{4})"'),  # A1:BZ19999, wide enough for an invoice
    (99_999, 20, r'"[A-T][1-9][0-9]{0,4}"'),  # A1:T99999, long enough for a register
)
CELL_TYPE = r'"(?:b|d|n|s|str|inlineStr)"'  # every type but e, an error
TEXT = rf"<t{attributes('xml:space')}{S}*(?:/>|>{CHARS}</t{S}*>)"
# The run properties of rich text: only the elements the standard allows there, so none is taken for a cell's.
RUN_PROPERTY = r"(?:b|i|strike|condense|extend|outline|shadow|u|vertAlign|sz|color|rFont|family|charset|scheme)"
RUN_PROPERTY_ATTRIBUTES = attributes("val", "rgb", "theme", "tint", "indexed", "auto")
RPR = rf"<rPr{S}*>(?:{S}*<{RUN_PROPERTY}{RUN_PROPERTY_ATTRIBUTES}{S}*/>)*{S}*</rPr{S}*>"
RUN = rf"<r{S}*>{S}*(?:{RPR}{S}*)?{TEXT}{S}*</r{S}*>"
INLINE = rf"<is{S}*>(?:{S}*(?:{TEXT}|{RUN}))*{S}*</is{S}*>"
FORMULA_ATTRIBUTES = attributes("t", "aca", "ref", "dt2D", "dtr", "del1", "del2", "r1", "r2", "ca", "si", "bx")
FORMULA = rf"<f{FORMULA_ATTRIBUTES}{S}*(?:/>|>{CHARS}</f{S}*>)"
CELL_VALUE = rf"<v{S}*(?:/>|>{CHARS}</v{S}*>)"
ROW_ATTRIBUTES = attributes("r", "spans", "s", "customFormat", "ht", "hidden", "customHeight", "outlineLevel",
                            "collapsed", "thickTop", "thickBot", "ph", "x14ac:dyDescent")


def grammar(ref: str) -> str:
    """The plain shape of the rows of a sheet whose every cell reference matches `ref`."""
    cell_attributes = rf"{S}+r{S}*={S}*{ref}" + attributes("s", "t", "cm", "vm", "ph", t=CELL_TYPE)
    cell = (rf"<c{cell_attributes}{S}*"
            rf"(?:/>|>{S}*(?:{FORMULA}{S}*)?(?:{CELL_VALUE}{S}*)?(?:{INLINE}{S}*)?</c{S}*>)")
    row = rf"<row{ROW_ATTRIBUTES}{S}*(?:/>|>(?:{S}*{cell})*{S}*</row{S}*>)"
    return rf"^(?:{S}*{row})*{S}*$"


GRAMMARS = [grammar(ref) for _, _, ref in TIERS]
DEPTH = 6  # row > c > is > r > rPr > b


def plain(inners: list[bytes]) -> list[tuple[int, int] | None]:
    """For each text between a part's `<sheetData>` and `</sheetData>`: the (row, column) bound of the
    tier whose plain shape it has, or None.

    One call for all the worksheets of a workbook (a call into Polars costs
    more than matching a small sheet); a longer tier is tried only on a
    sheet with more rows than the tier before allows.
    """
    import polars as pl

    texts: list[str | None] = []
    for inner in inners:
        try:
            texts.append(inner.decode("utf-8"))
        except UnicodeDecodeError:  # a part in another encoding, or not text
            texts.append(None)
    bounds: list[tuple[int, int] | None] = [None] * len(texts)
    todo = list(range(len(texts)))
    for (rows, columns, _), pattern in zip(TIERS, GRAMMARS):
        if not todo:
            break
        fits = pl.Series([texts[i] for i in todo], dtype=pl.String).str.contains(pattern).to_list()
        for i, fit in zip(todo, fits):
            if fit:
                bounds[i] = (rows, columns)
        todo = [i for i in todo if bounds[i] is None and inners[i].count(b"<row") > rows]
    return bounds
