"""anomalies.xlsx: one finding a row, for the provider who sent the workbook.

Last stage, per submission (also for a workbook rejected as a whole). Written
with xlsxwriter in the provider's language: rule code, severity, sheet, cell
(`Läsnäolo!K7`), decision, name, date, expected, found, money effect (euros),
message and how to fix. Findings are grouped by client: the file's own
findings first, then one outline group per decision under a heading row.
Frozen header, filter, fitted widths, severity shown by colour.

Privacy: a client is named by decision number and the name the provider
itself wrote on `Asiakkaat`; a henkilötunnus is shortened to its birth date;
another provider's Y-tunnus reads "another provider".
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

import xlsxwriter

from reconcile.text import messages
from reconcile.findings import Finding
from reconcile.model import InvoiceResult
from reconcile.write.xlsxutil import EURO_FORMAT, FILLS, batch_time, fit_widths, for_print, write_value

COLUMNS = ("rule", "severity", "sheet", "cell", "decision", "name", "date", "expected", "found",
           "money_effect", "message", "fix")
SHEET_ORDER = {"invoice": 0, "clients": 1, "attendance": 2, "guidance": 3}
IN_MEMORY_ROWS = 5000


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
    """Write the findings of one submission as a table the provider can filter."""
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
    group = wb.add_format({"bold": True, "bg_color": "#F2F2F2"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    plain = wb.add_format({"valign": "top"})
    euro = wb.add_format({"num_format": EURO_FORMAT, "valign": "top"})
    by_effect = {e: wb.add_format({"bg_color": "#" + c, "valign": "top", "bold": True}) for e, c in FILLS.items()}

    titles = [messages.label(c, lang) for c in COLUMNS]
    widths = [len(t) for t in titles]
    for col, title in enumerate(titles):
        write_value(ws, 0, col, title, head)
    row = 1
    if not findings:
        write_value(ws, row, 0, messages.label("no_findings", lang), plain)
        row += 1
    for decision, members in groupby(findings, key=lambda f: f.decision_id or ""):
        members = list(members)
        level = 0
        if decision:
            heading = f"{messages.label('decision', lang)} {decision}"
            if names.get(decision):
                heading += f" – {names[decision]}"
            write_value(ws, row, 0, messages.provider_view(messages.redact(heading), own, lang), group)
            write_value(ws, row, 4, decision, group)
            ws.set_row(row, None, group)
            row += 1
            level = 1
        for f in members:
            expected, found = messages.provider_figures(f)
            values = [
                f.rule,
                messages.label(f.severity, lang),
                f.location.sheet or "",
                f.location.ref,
                f.decision_id or "",
                names.get(f.decision_id or "", ""),
                messages.date(f.date, lang),
                expected,
                found,
                f.amount_cents / 100 if f.amount_cents else 0,
                messages.message(f, lang),
                messages.fix(f, lang),
            ]
            for col, value in enumerate(values):
                if isinstance(value, str):
                    value = messages.provider_view(messages.redact(value), own, lang)
                fmt = by_effect.get(f.effect, plain) if col in (0, 1) else euro if col == 9 else wrap if col >= 10 else plain
                write_value(ws, row, col, value, fmt)
                widths[col] = max(widths[col], len(value) if isinstance(value, str) else 10)
            ws.set_row(row, None, None, {"level": level})
            row += 1
    fit_widths(ws, widths)
    ws.set_column(10, 11, 60, wrap)
    ws.freeze_panes(1, 0)
    for_print(ws)
    ws.autofilter(0, 0, max(row - 1, 1), len(COLUMNS) - 1)
    wb.close()
    return out
