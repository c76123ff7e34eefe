"""finance/approval.xlsx: what finance approves, holds and rejects in a batch.

Last stage, once per batch, in the language of the finance files
(config.language, Finnish by default). Sheets:

- every invoice: claimed, approved, held, rejected, status, findings; batch total;
- per provider totals and the batch's, with a native chart of approved
  against claimed by provider;
- the held days that need finance's decision (from each invoice's day outcomes);
- findings by rule with their money effect, with a native chart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import xlsxwriter

from reconcile.text import messages, rules
from reconcile.model import BatchResult, Money
from reconcile.write.xlsxutil import EURO_FORMAT, batch_time, fit_widths, for_print, write_value


def provider_names(result: BatchResult) -> dict[str, str]:
    providers = result.registers.providers
    if providers is None or providers.is_empty():
        return {}
    return {r["provider_id"]: r.get("name") or "" for r in providers.select("provider_id", "name").iter_rows(named=True)}


def decision_names(result: BatchResult) -> dict[str, str]:
    decisions = result.registers.decisions
    if decisions is None or decisions.is_empty():
        return {}
    return {r["decision_id"]: r.get("name") or "" for r in decisions.select("decision_id", "name").iter_rows(named=True)}


class _Table:
    """A sheet written row by row with a bold header, tracking column widths."""

    def __init__(self, wb: xlsxwriter.Workbook, name: str, headers: list[str], formats: dict):
        self.ws = wb.add_worksheet(name)
        self.formats = formats
        self.widths = [len(h) for h in headers]
        for col, h in enumerate(headers):
            write_value(self.ws, 0, col, h, formats["head"])
        self.row = 1

    def add(self, values: list, bold: bool = False) -> None:
        for col, v in enumerate(values):
            is_euro = isinstance(v, float)
            fmt = self.formats["euro_bold" if bold else "euro"] if is_euro else self.formats["bold" if bold else "plain"]
            write_value(self.ws, self.row, col, v, fmt)
            self.widths[col] = max(self.widths[col], len(v) if isinstance(v, str) else 12)
        self.row += 1

    def finish(self) -> None:
        fit_widths(self.ws, self.widths)
        self.ws.freeze_panes(1, 0)
        for_print(self.ws)
        if self.row > 1:
            self.ws.autofilter(0, 0, self.row - 1, len(self.widths) - 1)


def _eur(m: Money) -> list[float]:
    return [m.claimed / 100, m.approved / 100, m.held / 100, m.rejected / 100]


def write_approval(result: BatchResult, out: Path, lang: str) -> Path:
    L = lambda key: messages.label(key, lang)  # noqa: E731
    pnames = provider_names(result)
    dnames = decision_names(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False, "constant_memory": True})
    wb.set_properties({"title": "approval", "author": "reconcile", "created": batch_time(result.batch)})
    formats = {
        "head": wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1}),
        "plain": wb.add_format({}),
        "bold": wb.add_format({"bold": True}),
        "euro": wb.add_format({"num_format": EURO_FORMAT}),
        "euro_bold": wb.add_format({"num_format": EURO_FORMAT, "bold": True}),
    }
    money_heads = [L("claimed"), L("approved"), L("held"), L("rejected")]

    invoices = _Table(wb, L("invoices"), [L("batch"), L("provider_id"), L("provider"), L("invoice_no"),
                                          L("billing_month"), L("source_file"), *money_heads, L("status"),
                                          L("findings")], formats)
    total = Money()
    per_provider: dict[str, Money] = defaultdict(Money)
    count: Counter[str] = Counter()
    for inv in result.invoices:
        money = inv.total
        total = total + money
        key = inv.provider_id or ""
        per_provider[key] = per_provider[key] + money
        count[key] += 1
        invoices.add([result.batch, inv.provider_id or "", pnames.get(inv.provider_id or "", ""), inv.invoice_no or "",
                      inv.billing_month.strftime("%Y-%m") if inv.billing_month else "", inv.source_file,
                      *_eur(money), messages.status(inv.status, lang), len(inv.findings)])
    invoices.add([L("total"), "", "", "", "", "", *_eur(total), "", len(result.findings)], bold=True)
    invoices.finish()

    providers = _Table(wb, L("providers"), [L("provider_id"), L("provider"), L("invoices"), *money_heads], formats)
    keys = sorted(per_provider)
    for key in keys:
        providers.add([key or L("unknown"), pnames.get(key, ""), count[key], *_eur(per_provider[key])])
    providers.add([L("total"), "", len(result.invoices), *_eur(total)], bold=True)
    providers.finish()
    if keys:
        chart = wb.add_chart({"type": "column"})
        sheet = L("providers")
        for col, key in ((4, "approved"), (3, "claimed")):
            chart.add_series({"name": L(key), "categories": [sheet, 1, 0, len(keys), 0],
                              "values": [sheet, 1, col, len(keys), col]})
        chart.set_title({"name": L("chart_approved")})
        chart.set_size({"width": 720, "height": 360})
        providers.ws.insert_chart(providers.row + 2, 1, chart)

    held = _Table(wb, L("held_days"), [L("provider_id"), L("invoice_no"), L("decision"), L("name"), L("date"),
                                       L("cell"), L("rule"), L("title")], formats)
    for inv in result.invoices:
        days = inv.day_outcomes
        if days is None or days.is_empty():
            continue
        for d in days.filter(days["outcome"] == "held").sort("decision_id", "date").iter_rows(named=True):
            rule = d.get("rule") or ""
            held.add([inv.provider_id or "", inv.invoice_no or "", d.get("decision_id") or "",
                      dnames.get(d.get("decision_id") or "", ""), d["date"].isoformat() if d.get("date") else "",
                      d.get("cell") or "", rule, rules.get(rule).heading(lang) if rule in rules.CATALOGUE else ""])
    held.finish()

    by_rule = _Table(wb, L("findings_by_rule"), [L("rule"), L("title"), L("severity"), L("count"),
                                                  L("money_effect")], formats)
    counts = Counter(f.rule for f in result.findings)
    money = Counter()
    for f in result.findings:
        money[f.rule] += f.amount_cents
    codes = [c for c in rules.CATALOGUE if counts[c]]
    for code in codes:
        rule = rules.get(code)
        by_rule.add([code, rule.heading(lang), L(rule.severity), counts[code], money[code] / 100])
    by_rule.finish()
    if codes:
        chart = wb.add_chart({"type": "bar"})
        sheet = L("findings_by_rule")
        chart.add_series({"name": L("count"), "categories": [sheet, 1, 0, len(codes), 0],
                          "values": [sheet, 1, 3, len(codes), 3]})
        chart.set_title({"name": L("chart_findings")})
        chart.set_legend({"none": True})
        chart.set_size({"width": 720, "height": max(300, 24 * len(codes))})
        by_rule.ws.insert_chart(1, 6, chart)
    wb.close()
    return out
