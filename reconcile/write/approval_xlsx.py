"""finance/approval.xlsx: what finance approves, holds and rejects in a batch.

Last stage, once per batch, in the language of the finance files
(config.language, Finnish by default). Sheets:

- every invoice: claimed, approved, held, rejected, status, findings; batch total;
- per provider totals and the batch's, with a native chart of approved
  against claimed by provider;
- the held days that need finance's decision, one row per day with the euros it
  holds (its share of each item of its row), and the two columns finance fills
  (`Ratkaisu` with a drop-down, `Perustelu`): the only unlocked cells of the
  protected sheet; a day already answered shows its answer, locked;
- the days still held, unanswered, from earlier batches (answered with
  `reconcile resolve --batch <their batch>`); the payment rows (payments.csv);
- findings by rule with their money effect, with a native chart.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

import xlsxwriter

from reconcile.text import messages, rules
from reconcile.text.format import euros
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
        self.wrapped: set[int] = set()  # columns of long text, wrapped inside the cell instead of spilling over

    def add(self, values: list, bold: bool = False) -> None:
        for col, v in enumerate(values):
            is_euro = isinstance(v, float)
            fmt = self.formats["euro_bold" if bold else "euro"] if is_euro else self.formats["bold" if bold else "plain"]
            if col in self.wrapped and isinstance(v, str) and not bold:
                fmt = self.formats["wrap"]
            write_value(self.ws, self.row, col, v, fmt)
            self.widths[col] = max(self.widths[col], len(v) if isinstance(v, str) else 12)
        self.row += 1

    def finish(self) -> None:
        fit_widths(self.ws, self.widths)
        self.ws.freeze_panes(1, 0)
        for_print(self.ws)
        if self.row > 1:
            self.ws.autofilter(0, 0, self.row - 1, len(self.widths) - 1)


def sign_offs(result: BatchResult) -> dict[tuple, tuple[str, str]]:
    """(provider_id, invoice_no) -> (who, when) of the invoice's latest sign-off, from its payment rows."""
    out: dict[tuple, tuple[str, str]] = {}
    for p in sorted(result.payments, key=lambda p: p["signed_off_at"]):
        out[(p["provider_id"], p["invoice_no"])] = (p["signed_off_by"], p["signed_off_at"])
    return out


WHY_RULES = 3  # a partly approved invoice names its costliest rules, at most this many


def why(inv, lang: str) -> str:
    """The findings that decided an invoice, in words: the rule that rejected it as a whole, or the
    rules that cost it most with their euros (`R205: … (-45,00 €)`); empty when nothing was taken."""
    if inv.rejected_by:
        return f"{inv.rejected_by}: {rules.get(inv.rejected_by).heading(lang)}"
    cost: Counter[str] = Counter()
    for f in inv.findings:
        if f.amount_cents:
            cost[f.rule] += f.amount_cents
    top = sorted(cost.items(), key=lambda item: (item[1], item[0]))[:WHY_RULES]  # most negative first
    return "; ".join(f"{code}: {rules.get(code).heading(lang)} ({euros(cents, lang)})" for code, cents in top)


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
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "bold": wb.add_format({"bold": True}),
        "euro": wb.add_format({"num_format": EURO_FORMAT}),
        "euro_bold": wb.add_format({"num_format": EURO_FORMAT, "bold": True}),
    }
    money_heads = [L("claimed"), L("approved"), L("held"), L("rejected")]

    invoices = _Table(wb, L("invoices"), [L("batch"), L("provider_id"), L("provider"), L("invoice_no"),
                                          L("billing_month"), L("source_file"), *money_heads, L("status"),
                                          L("findings"), L("why"), L("signed_off_by"), L("signed_off_at")], formats)
    signed = sign_offs(result)
    invoices.wrapped.add(len(invoices.widths) - 3)  # the deciding findings
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
                      *_eur(money), messages.status(inv.status, lang), len(inv.findings), why(inv, lang),
                      *signed.get((inv.provider_id, inv.invoice_no), ("", ""))])
    invoices.add([L("total"), "", "", "", "", "", *_eur(total), "", len(result.findings), "", "", ""], bold=True)
    why_col = len(invoices.widths) - 3  # the deciding findings: readable in the cell, not widening the page
    invoices.widths[why_col] = min(invoices.widths[why_col], 38)
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

    _held_sheet(wb, result, lang, formats, pnames, dnames)
    _earlier_sheet(wb, result, lang, formats, pnames, dnames)
    _payments_sheet(wb, result, lang, formats)

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


ITEM_LABELS = ("fee", "meals", "meal_comp", "travel")


def _held_sheet(wb: xlsxwriter.Workbook, result: BatchResult, lang: str, formats: dict, pnames: dict,
                dnames: dict) -> None:
    """One row per held day of the batch; finance answers in the two unlocked columns."""
    from reconcile.resolve import money
    from reconcile.resolve.answers import word

    L = lambda key: messages.label(key, lang)  # noqa: E731
    heads = [L("provider_id"), L("provider"), L("invoice_no"), L("decision"), L("name"), L("date"), L("cell"),
             L("rule"), L("title"), *(L(i) + " €" for i in ITEM_LABELS), L("held_total"), L("resolution"),
             L("reason"), L("resolved_by"), L("resolved_at"), L("amount_moved")]
    table = _Table(wb, L("held_days"), heads, formats)
    ws = table.ws
    unlocked = wb.add_format({"locked": False, "bg_color": "#FFF2CC", "border": 1})
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    answers = {(r["provider_id"], r["invoice_no"], r["decision_id"], r["date"]): r
               for r in result.resolutions if r["resolution"] != "void"}
    answer_col = heads.index(L("resolution"))
    for inv in result.invoices:
        days = money.held_days(inv)
        # The cell as the provider's workbook names it (`Läsnäolo!G15`): the sheet of the day's finding.
        sheets = {(f.decision_id, f.date): f.location.sheet for f in inv.findings if f.date and f.location.sheet}
        for d in days.sort("decision_id", "date").iter_rows(named=True):
            sheet = sheets.get((d["decision_id"], d["date"]))
            cell = f"{sheet}!{d['cell']}" if sheet and d["cell"] else d["cell"] or ""
            rule = d["rule"] or ""
            key = (inv.provider_id or "", inv.invoice_no or "", d["decision_id"], d["date"].isoformat())
            done = answers.get(key)
            shares = [d[f"{i}_share"] / 100 for i in ITEM_LABELS]
            row = table.row
            table.add([inv.provider_id or "", pnames.get(inv.provider_id or "", ""), inv.invoice_no or "",
                       d["decision_id"] or "", dnames.get(d["decision_id"] or "", ""), "", cell, rule,
                       rules.get(rule).heading(lang) if rule in rules.CATALOGUE else "", *shares,
                       d["held_cents"] / 100])
            ws.write_datetime(row, heads.index(L("date")), dt.datetime.combine(d["date"], dt.time()), date_format)
            if done:
                for col, value in ((answer_col, word(done["resolution"], lang)), (answer_col + 1, done["reason"]),
                                   (answer_col + 2, done["resolved_by"]), (answer_col + 3, done["resolved_at"])):
                    write_value(ws, row, col, value, formats["plain"])
                write_value(ws, row, answer_col + 4, done["amount_cents"] / 100, formats["euro"])
            else:
                ws.write_blank(row, answer_col, None, unlocked)
                ws.write_blank(row, answer_col + 1, None, unlocked)
    for col, width in zip(range(answer_col, answer_col + 5), (10, 30, 12, 27, 10)):
        table.widths[col] = max(table.widths[col], width)
    table.widths[heads.index(L("date"))] = max(table.widths[heads.index(L("date"))], 11)
    last = table.row - 1
    if last >= 1:
        ws.data_validation(1, answer_col, last, answer_col, {
            "validate": "list", "source": [word("pay", lang), word("reject", lang)],
            "input_title": L("resolution"), "input_message": L("held_help").format(batch=result.batch)[:255],
        })
    table.finish()
    ws.protect("", {"autofilter": True, "sort": True, "format_columns": True, "format_rows": True})


def _earlier_sheet(wb: xlsxwriter.Workbook, result: BatchResult, lang: str, formats: dict, pnames: dict,
                   dnames: dict) -> None:
    """Days still held, unanswered, from earlier batches: their batch, invoice and euros."""
    L = lambda key: messages.label(key, lang)  # noqa: E731
    table = _Table(wb, L("earlier_held"), [L("batch"), L("provider_id"), L("provider"), L("invoice_no"),
                                            L("decision"), L("name"), L("date"), L("rule"), L("held")], formats)
    total = 0
    for d in result.earlier_held:
        total += d["held_cents"]
        table.add([d["batch"], d["provider_id"], pnames.get(d["provider_id"], ""), d["invoice_no"], d["decision_id"],
                   dnames.get(d["decision_id"], ""), d["date"], d["rule"], d["held_cents"] / 100])
    if result.earlier_held:
        table.add([L("total"), "", "", "", "", "", "", "", total / 100], bold=True)
    table.finish()


def _payments_sheet(wb: xlsxwriter.Workbook, result: BatchResult, lang: str, formats: dict) -> None:
    """The payment rows of the batch, as finance/payments.csv has them."""
    L = lambda key: messages.label(key, lang)  # noqa: E731
    table = _Table(wb, L("payments"), [L("batch"), L("provider_id"), L("provider"), L("invoice_no"), L("kind"),
                                        L("amount"), L("signed_off_by"), L("signed_off_at")], formats)
    total = 0
    for p in result.payments:
        total += p["amount_cents"]
        table.add([p["batch"], p["provider_id"], p["provider_name"], p["invoice_no"], p["kind"],
                   p["amount_cents"] / 100, p["signed_off_by"], p["signed_off_at"]])
    if result.payments:
        table.add([L("total"), "", "", "", "", total / 100, "", ""], bold=True)
    table.finish()
