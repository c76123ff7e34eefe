"""providers/<Y-tunnus>/<invoice>/resolution.xlsx: finance's answers on an invoice's held days.

Last stage, for each invoice with at least one answer (CONTRACT.md section
7), in the provider's language. One sheet: the invoice's totals after the
answers, then one row per answer (decision, date, rule, answer, reason, the
euros it moved). Only the provider's own decisions appear; a double billing
is never explained beyond its rule, so no other provider is named.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from reconcile.model import InvoiceResult
from reconcile.text import messages, rules
from reconcile.write import make_dirs
from reconcile.write.xlsxutil import EURO_FORMAT, batch_time, fit_widths, for_print, write_value


def write_resolution(inv: InvoiceResult, batch: str, resolutions: list[dict], out: Path) -> Path:
    lang = inv.lang
    L = lambda key: messages.label(key, lang)  # noqa: E731
    make_dirs(out.parent)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    wb.set_properties({"title": "resolution", "author": "reconcile", "created": batch_time(batch)})
    head = wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1})
    euro = wb.add_format({"num_format": EURO_FORMAT})
    bold = wb.add_format({"bold": True})
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet(L("resolutions"))
    total = inv.total
    summary = [(L("batch"), batch), (L("provider_id"), inv.provider_id or ""), (L("invoice_no"), inv.invoice_no or ""),
               (L("claimed"), total.claimed / 100), (L("approved"), total.approved / 100),
               (L("held"), total.held / 100), (L("rejected"), total.rejected / 100),
               (L("status"), messages.status(inv.status, lang))]
    for r, (label, value) in enumerate(summary):
        write_value(ws, r, 0, label, bold)
        write_value(ws, r, 1, value, euro if isinstance(value, float) else None)
    heads = [L("decision"), L("date"), L("rule"), L("title"), L("resolution"), L("reason"), L("amount_moved"),
             L("resolved_at")]
    top = len(summary) + 1
    for c, h in enumerate(heads):
        write_value(ws, top, c, h, head)
    widths = [len(h) for h in heads]
    for n, r in enumerate(sorted(resolutions, key=lambda r: (r["decision_id"], r["date"], r["resolved_at"])), 1):
        rule = r["rule"]
        values = [r["decision_id"], None, rule, rules.get(rule).heading(lang) if rule in rules.CATALOGUE else "",
                  messages.label(f"answer_{r['resolution']}", lang), messages.redact(r["reason"] or ""),
                  r["amount_cents"] / 100, r["resolved_at"]]
        for c, v in enumerate(values):
            write_value(ws, top + n, c, v, euro if c == 6 else None)
            widths[c] = max(widths[c], len(v) if isinstance(v, str) else 12)
        ws.write_datetime(top + n, 1, dt.datetime.combine(dt.date.fromisoformat(r["date"]), dt.time()), date_format)
    widths[0] = max(widths[0], max(len(s[0]) for s in summary))
    fit_widths(ws, widths)
    ws.freeze_panes(top + 1, 0)
    for_print(ws)
    wb.close()
    return out

