"""anomalies.xlsx: one finding a row, for the provider who sent the workbook.

Last stage, per submission (also for a workbook rejected as a whole). Written
with xlsxwriter in the provider's language: rule code, severity, sheet, cell
(`Läsnäolo!K7`), decision, name, date, expected, found, money effect (euros),
message and how to fix. A plain table (CONTRACT.md version 2, section 3): the
header row, then exactly one row per finding and nothing else, so sorting and
filtering work. Findings are sorted by decision (the file's own findings
first); each decision's rows share a band (every other decision shaded) and
a decision's first row has a rule above it. Frozen header, filter, fitted
widths, severity shown by colour, A4 landscape one page wide.

Row heights: LibreOffice does not grow a row for wrapped text in a file that
states no height, so wrapped cells would spill over the next row; every row
gets the height its longest wrapped cell needs (`xlsxutil.lines_needed`).

Privacy: a client is named by decision number and the name the provider
itself wrote on `Asiakkaat`; a henkilötunnus is shortened to its birth date;
another provider's Y-tunnus reads "another provider".
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from reconcile.text import messages
from reconcile.findings import Finding
from reconcile.model import InvoiceResult
from reconcile.write.xlsxutil import EURO_FORMAT, FILLS, LINE_POINTS, batch_time, for_print, lines_needed, write_value

COLUMNS = ("rule", "severity", "sheet", "cell", "decision", "name", "date", "expected", "found",
           "money_effect", "message", "fix")
# Widths (characters) of the columns whose text wraps; the others fit their longest value.
WRAPPED = {"name": 24, "expected": 28, "found": 28, "message": 60, "fix": 50}
SHEET_ORDER = {"invoice": 0, "clients": 1, "attendance": 2, "guidance": 3}
IN_MEMORY_ROWS = 5000
BAND_FILL = "#F2F2F2"  # every other decision's rows
GROUP_RULE = "#808080"  # the line above a decision's first row


def client_names(result: InvoiceResult) -> dict[str, str]:
    """Decision number -> the name the provider wrote on its own `Asiakkaat` sheet."""
    clients = result.invoice.clients
    if clients is None or "name" not in clients.columns:
        return {}
    out: dict[str, str] = {}
    for r in clients.select("decision_id", "name").iter_rows():
        if r[0] and r[1] and r[0] not in out:
            out[r[0]] = r[1]
    return out


def _order(result: InvoiceResult, f: Finding) -> tuple:
    kinds = {name: kind for kind, name in result.invoice.sheet_names.items()}
    sheet_rank = SHEET_ORDER.get(kinds.get(f.location.sheet or "", ""), 9)
    return (f.decision_id or "", f.date.isoformat() if f.date else "", sheet_rank, f.row or 0,
            f.location.cell or "", f.rule)


def write_anomalies(result: InvoiceResult, batch: str, out: Path) -> Path:
    """Write the findings of one submission as a plain table the provider can sort and filter."""
    lang = result.lang
    own = result.provider_id
    names = client_names(result)
    findings = sorted(result.findings, key=lambda f: _order(result, f))
    out.parent.mkdir(parents=True, exist_ok=True)
    # A usual table is small and faster built in memory; a huge one streams row by row through a
    # temporary file (xlsxwriter's constant_memory, which in_memory switches off).
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False, "constant_memory": True,
                                        "in_memory": len(findings) < IN_MEMORY_ROWS})
    wb.set_properties({"title": "anomalies", "author": "reconcile", "created": batch_time(batch)})
    ws = wb.add_worksheet(messages.label("findings", lang))
    head = wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True, "valign": "top"})
    formats: dict[tuple, object] = {}

    def fmt(kind: str, band: bool, first: bool, effect: str | None = None) -> object:
        key = (kind, band, first, effect)
        if key not in formats:
            props: dict = {"valign": "top"}
            if band:
                props["bg_color"] = BAND_FILL
            if first:
                props.update(top=1, top_color=GROUP_RULE)
            if kind == "wrap":
                props["text_wrap"] = True
            elif kind == "euro":
                props["num_format"] = EURO_FORMAT
            elif kind == "severity":
                props.update(bold=True, bg_color="#" + FILLS.get(effect or "", "FFFFFF"))
            formats[key] = wb.add_format(props)
        return formats[key]

    titles = [messages.label(c, lang) for c in COLUMNS]
    widths = [WRAPPED.get(c, len(t)) for c, t in zip(COLUMNS, titles)]
    fixed = [c in WRAPPED for c in COLUMNS]
    for col, title in enumerate(titles):
        write_value(ws, 0, col, title, head)
    rows: list[list] = []
    if not findings:
        write_value(ws, 1, 0, messages.label("no_findings", lang), fmt("plain", False, False))
    band, previous = True, object()
    for f in findings:
        decision = f.decision_id or ""
        first = decision != previous
        if first:
            band = not band
            previous = decision
        expected, found = messages.provider_figures(f, lang)
        values = [
            f.rule,
            messages.label(f.severity, lang),
            f.location.sheet or "",
            f.location.ref,
            decision,
            names.get(decision, ""),
            messages.date(f.date, lang),
            expected,
            found,
            f.amount_cents / 100 if f.amount_cents else 0,
            messages.message(f, lang),
            messages.fix(f, lang),
        ]
        values = [messages.provider_view(messages.redact(v), own, lang) if isinstance(v, str) else v for v in values]
        for col, value in enumerate(values):
            if not fixed[col]:
                widths[col] = max(widths[col], len(value) if isinstance(value, str) else 10)
        rows.append([values, f.effect, band, first and len(rows) > 0])
    for col, width in enumerate(widths):  # final widths first: the heights depend on them
        widths[col] = width if fixed[col] else max(6, min(60, width + 2))
    for n, (values, effect, band, first) in enumerate(rows, 1):
        lines = 1
        for col, value in enumerate(values):
            name = COLUMNS[col]
            kind = "severity" if col in (0, 1) else "euro" if name == "money_effect" else "wrap" if name in WRAPPED else "plain"
            write_value(ws, n, col, value, fmt(kind, band, first, effect if kind == "severity" else None))
            if name in WRAPPED and isinstance(value, str) and value:
                lines = max(lines, lines_needed(value, widths[col]))
        ws.set_row(n, LINE_POINTS * lines)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    ws.set_row(0, LINE_POINTS * max(lines_needed(t, widths[c]) for c, t in enumerate(titles)))
    ws.freeze_panes(1, 0)
    for_print(ws)
    ws.autofilter(0, 0, max(len(rows), 1), len(COLUMNS) - 1)
    wb.close()
    return out
