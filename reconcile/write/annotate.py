"""annotated.xlsx: the provider's own workbook, marked where the checks found something.

Last stage, per invoice that was processed (not rejected as a whole). The
workbook is loaded in full with openpyxl (`keep_links=False`, so links to other
workbooks never reach an output; a formula that points at another workbook is
replaced by its cached value), keeping formulas, formats and layout. Then:

- every cell behind a finding gets a fill by the strongest effect on it
  (reject #FFC7CE, hold #F8CBAD, adjust #FFEB9C, warning #BDD7EE) and one
  comment in the provider's language listing what is wrong and how to fix it;
- `Asiakkaat` gains `Hyväksytty €` and `Tila` after its last column;
- a new first sheet `Tarkastus` sums claimed, approved, held and rejected by
  item, with the batch, the run id and the rules version.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from reconcile import RULES_VERSION, messages
from reconcile.findings import Finding
from reconcile.model import ITEMS, BatchResult, InvoiceResult
from reconcile.write.xlsxutil import EURO_FORMAT, FILLS, STRENGTH, batch_time, normalise_zip, put_text

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


def _drop_external_formulas(path: Path, wb: openpyxl.Workbook) -> None:
    """Replace formulas that reach into other workbooks or the web by their cached values."""
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


def _mark_cells(wb: openpyxl.Workbook, result: InvoiceResult) -> None:
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in result.findings:
        sheet, cell = f.location.sheet, f.location.cell
        if sheet and cell and sheet in wb.sheetnames:
            by_cell[(sheet, cell.replace("$", "").upper())].append(f)
    for (sheet, ref), found in sorted(by_cell.items()):
        ws = wb[sheet]
        try:
            cell = ws[ref]
        except (ValueError, KeyError):
            continue
        if isinstance(cell, tuple):  # a range: mark its first cell
            continue
        strongest = max(found, key=lambda f: STRENGTH.get(f.effect, 0)).effect
        color = FILLS.get(strongest, FILLS["none"])
        cell.fill = PatternFill(fill_type="solid", start_color=color, end_color=color)
        text = comment_text(found, result.lang, result.provider_id)
        if cell.comment is not None and cell.comment.text:
            text = cell.comment.text.rstrip() + "\n\n" + text
        comment = Comment(text, AUTHOR)
        comment.width = 420
        comment.height = min(600, 80 + 18 * text.count("\n") + len(text) // 3)
        cell.comment = comment


def _add_client_columns(wb: openpyxl.Workbook, result: InvoiceResult) -> None:
    name = result.invoice.sheet_names.get("clients")
    header_row = result.invoice.header_rows.get("clients")
    if not name or name not in wb.sheetnames or not header_row:
        return
    ws = wb[name]
    lang = result.lang
    first = ws.max_column + 1
    head_font = Font(bold=True)
    for offset, key in enumerate(("approved_col", "status_col")):
        cell = ws.cell(header_row, first + offset)
        put_text(cell, messages.label(key, lang))
        cell.font = head_font
    ws.column_dimensions[get_column_letter(first)].width = 14
    ws.column_dimensions[get_column_letter(first + 1)].width = 16
    if result.rows is None:
        return
    for r in result.rows.iter_rows(named=True):
        approved = sum(r.get(f"{i}_approved") or 0 for i in ITEMS)
        cell = ws.cell(r["row"], first, approved / 100)
        cell.number_format = EURO_FORMAT
        put_text(ws.cell(r["row"], first + 1), messages.status(r.get("status"), lang))


def _add_review_sheet(wb: openpyxl.Workbook, result: InvoiceResult, batch: BatchResult) -> None:
    lang = result.lang
    ws = wb.create_sheet(messages.label("review", lang), 0)
    bold = Font(bold=True)
    facts = [
        ("provider_id", result.provider_id or ""),
        ("invoice_no", result.invoice_no or ""),
        ("billing_month", result.billing_month.strftime("%Y-%m") if result.billing_month else ""),
        ("batch", batch.batch),
        ("run_id", batch.run_id),
        ("rules_version", RULES_VERSION),
        ("status", messages.status(result.status, lang)),
    ]
    for row, (key, value) in enumerate(facts, 1):
        put_text(ws.cell(row, 1), messages.label(key, lang))
        ws.cell(row, 1).font = bold
        put_text(ws.cell(row, 2), value)
    top = len(facts) + 2
    heads = ("item", "claimed", "approved", "held", "rejected")
    for col, key in enumerate(heads, 1):
        put_text(ws.cell(top, col), messages.label(key, lang))
        ws.cell(top, col).font = bold
    lines = [(messages.label(i, lang), result.items[i]) for i in ITEMS]
    lines.append((messages.label("total", lang), result.total))
    for n, (title, money) in enumerate(lines, top + 1):
        put_text(ws.cell(n, 1), title)
        for col, cents in enumerate((money.claimed, money.approved, money.held, money.rejected), 2):
            ws.cell(n, col, cents / 100).number_format = EURO_FORMAT
    for col in range(1, 6):
        ws.cell(top + len(lines), col).font = bold
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 24
    for letter in "CDE":
        ws.column_dimensions[letter].width = 14
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


def write_annotated(result: InvoiceResult, batch: BatchResult, out: Path) -> Path:
    """Write the provider's workbook with fills, comments, added columns and the review sheet."""
    source = result.invoice.submission.path
    wb = openpyxl.load_workbook(source, keep_links=False)
    _drop_external_formulas(source, wb)
    _mark_cells(wb, result)
    _add_client_columns(wb, result)
    _add_review_sheet(wb, result, batch)
    when = batch_time(batch.batch)
    wb.properties.creator = AUTHOR
    wb.properties.lastModifiedBy = AUTHOR
    wb.properties.created = when
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    normalise_zip(out, when)
    return out
