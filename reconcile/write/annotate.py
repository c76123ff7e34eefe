"""annotated.xlsx: the provider's own workbook, marked where the checks found something.

Last stage, per invoice that was processed (not rejected as a whole). What
changes is decided once, as an `xlsxpatch.Plan`:

- every cell behind a finding gets a fill by the strongest effect on it
  (reject #FFC7CE, hold #F8CBAD, adjust #FFEB9C, warning #BDD7EE) and one
  comment in the provider's language listing what is wrong and how to fix it;
- `Asiakkaat` gains `Hyväksytty €` and `Tila` after its last column;
- a new first sheet `Tarkastus` sums claimed, approved, held and rejected by
  item, with the batch, the run id and the rules version.

The plan is then written by `xlsxpatch.patch`, which copies the provider's
zip and rewrites only the parts that change. When that module does not
handle a workbook's structure (`xlsxpatch.Unsupported`: links to other
workbooks, existing comments on a marked sheet, ...), the workbook is loaded
in full with openpyxl instead (`keep_links=False`, so links never reach an
output; a formula that points at another workbook or the web is replaced by
its cached value), keeping formulas, formats and layout, and the same plan
is applied to it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from reconcile import RULES_VERSION
from reconcile.text import messages
from reconcile.findings import Finding
from reconcile.model import ITEMS, BatchResult, InvoiceResult
from reconcile.write.xlsxpatch import Columns, Note, Plan, Unsupported, patch, split_ref
from reconcile.write.xlsxutil import EURO_FORMAT, FILLS, STRENGTH, batch_time, normalise_zip, put_text

if TYPE_CHECKING:  # openpyxl is imported only when a workbook takes the fallback path
    import openpyxl
    from openpyxl.cell.cell import Cell

EXTERNAL_RE = re.compile(r"\[\d+\]|https?://|file:", re.IGNORECASE)
AUTHOR = "reconcile"


def comment_text(findings: list[Finding], lang: str, provider_id: str | None) -> str:
    """One comment for the findings on a cell: each finding's code, message and fix."""
    parts = []
    for f in findings:
        head = f"{f.rule} ({messages.label(f.severity, lang)}, {messages.label(f.effect, lang)})"
        text = f"{head}: {messages.message(f, lang)}"
        how = messages.fix(f, lang)
        if how:
            text += f"\n{messages.label('fix', lang)}: {how}"
        parts.append(messages.provider_view(text, provider_id, lang))
    return "\n\n".join(parts)


def comment_size(text: str) -> tuple[int, int]:
    """Width and height (px) of a comment box that shows `text`."""
    return 420, min(600, 80 + 18 * text.count("\n") + len(text) // 3)


def build_plan(result: InvoiceResult, batch: BatchResult) -> Plan:
    """What annotating this invoice's workbook changes: marks, added columns, the review sheet."""
    lang = result.lang
    plan = Plan(review_name=messages.label("review", lang), author=AUTHOR)
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in result.findings:
        sheet, cell = f.location.sheet, f.location.cell
        if sheet and cell:
            by_cell[(sheet, cell.replace("$", "").upper())].append(f)
    for (sheet, ref), found in sorted(by_cell.items()):
        try:
            split_ref(ref)
        except ValueError:  # a range or garbage: nothing to mark
            continue
        strongest = max(found, key=lambda f: STRENGTH.get(f.effect, 0)).effect
        text = comment_text(found, lang, result.provider_id)
        width, height = comment_size(text)
        plan.marks.setdefault(sheet, {})[ref] = Note(FILLS.get(strongest, FILLS["none"]), text, width, height)

    name = result.invoice.sheet_names.get("clients")
    header_row = result.invoice.header_rows.get("clients")
    if name and header_row:
        rows: dict[int, list] = {}
        if result.rows is not None:
            for r in result.rows.iter_rows(named=True):
                approved = sum(r.get(f"{i}_approved") or 0 for i in ITEMS)
                rows[r["row"]] = [(approved / 100, "euro"), (messages.status(r.get("status"), lang), None)]
        heads = [(messages.label("approved_col", lang), "bold"), (messages.label("status_col", lang), "bold")]
        plan.columns = Columns(name, header_row, heads, rows, [14, 16])

    facts = [
        ("provider_id", result.provider_id or ""),
        ("invoice_no", result.invoice_no or ""),
        ("billing_month", result.billing_month.strftime("%Y-%m") if result.billing_month else ""),
        ("batch", batch.batch),
        ("run_id", batch.run_id),
        ("rules_version", RULES_VERSION),
        ("status", messages.status(result.status, lang)),
    ]
    cells = plan.review_cells
    for row, (key, value) in enumerate(facts, 1):
        cells[(row, 1)] = (messages.label(key, lang), "bold")
        cells[(row, 2)] = (value, None)
    top = len(facts) + 2
    for col, key in enumerate(("item", "claimed", "approved", "held", "rejected"), 1):
        cells[(top, col)] = (messages.label(key, lang), "bold")
    lines = [(messages.label(i, lang), result.items[i]) for i in ITEMS]
    lines.append((messages.label("total", lang), result.total))
    last = top + len(lines)
    for n, (title, money) in enumerate(lines, top + 1):
        cells[(n, 1)] = (title, "bold" if n == last else None)
        for col, cents in enumerate((money.claimed, money.approved, money.held, money.rejected), 2):
            cells[(n, col)] = (cents / 100, "bold_euro" if n == last else "euro")
    plan.review_widths = {1: 24, 2: 24, 3: 14, 4: 14, 5: 14}
    return plan


def _drop_external_formulas(path: Path, wb: openpyxl.Workbook) -> None:
    """Replace formulas that reach into other workbooks or the web by their cached values."""
    import openpyxl

    cached = None
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str) and EXTERNAL_RE.search(cell.value):
                    if cached is None:
                        cached = openpyxl.load_workbook(path, data_only=True, keep_links=False)
                    value = cached[ws.title][cell.coordinate].value
                    if isinstance(value, str):
                        put_text(cell, value)
                    else:
                        cell.value = value


def _put(cell: Cell, value: object, style: str | None) -> None:
    from openpyxl.styles import Font

    if isinstance(value, str):
        put_text(cell, value)
    else:
        cell.value = value
    if style and "bold" in style:
        cell.font = Font(bold=True)
    if style and "euro" in style:
        cell.number_format = EURO_FORMAT


def _apply_with_openpyxl(wb: openpyxl.Workbook, plan: Plan) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    for sheet, notes in plan.marks.items():
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        for ref, note in notes.items():
            cell = ws[ref]
            cell.fill = PatternFill(fill_type="solid", start_color=note.color, end_color=note.color)
            text = note.text
            if cell.comment is not None and cell.comment.text:
                text = cell.comment.text.rstrip() + "\n\n" + text
            comment = Comment(text, plan.author)
            comment.width, comment.height = comment_size(text)
            cell.comment = comment
    add = plan.columns
    if add is not None and add.sheet in wb.sheetnames:
        ws = wb[add.sheet]
        first = ws.max_column + 1
        for offset, (value, style) in enumerate(add.heads):
            _put(ws.cell(add.header_row, first + offset), value, style)
        for offset, width in enumerate(add.widths):
            ws.column_dimensions[get_column_letter(first + offset)].width = width
        for row, values in add.rows.items():
            for offset, (value, style) in enumerate(values):
                _put(ws.cell(row, first + offset), value, style)
    ws = wb.create_sheet(plan.review_name, 0)
    for (row, col), (value, style) in plan.review_cells.items():
        _put(ws.cell(row, col), value, style)
    for col, width in plan.review_widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.page_setup.paperSize, ws.page_setup.orientation = 9, "landscape"  # A4, one page wide, as the fast path
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


def write_with_openpyxl(source: Path, plan: Plan, out: Path, when: dt.datetime) -> None:
    """The slow, general path: full load, apply the plan, save."""
    import openpyxl

    wb = openpyxl.load_workbook(source, keep_links=False)
    _drop_external_formulas(source, wb)
    _apply_with_openpyxl(wb, plan)
    wb.properties.creator = plan.author
    wb.properties.lastModifiedBy = plan.author
    wb.properties.created = when
    wb.save(out)
    normalise_zip(out, when)


def write_annotated(result: InvoiceResult, batch: BatchResult, out: Path) -> Path:
    """Write the provider's workbook with fills, comments, added columns and the review sheet."""
    source = result.invoice.submission.path
    plan = build_plan(result, batch)
    when = batch_time(batch.batch)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        patch(source, out, plan, when)
    except Unsupported:
        write_with_openpyxl(source, plan, out, when)
    return out
