"""audit/compliance.xlsx: the figures of `report.compliance` laid out, one sheet per subject.

Last stage, once per batch, in the language of the audit files:

- summary (chart: approved against claimed by provider);
- findings by code (chart);
- client structure; register; benefit basis (see `report.compliance` for
  every figure's definition);
- register findings (R224), rendered from the findings.

Columns are found by their key in the report's tables, never by position.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from reconcile.config import Config
from reconcile.model import BatchResult
from reconcile.report.compliance import Label, Table, tables
from reconcile.text import messages
from reconcile.write.approval_xlsx import provider_names
from reconcile.write.xlsxutil import EURO_FORMAT, batch_time, fit_widths, for_print, normalise_zip, write_value

TEXT = {
    "summary": {"fi": "Yhteenveto", "sv": "Sammanfattning", "en": "Summary"},
    "structure": {"fi": "Asiakasrakenne", "sv": "Klientstruktur", "en": "Client structure"},
    "register": {"fi": "Rekisteri", "sv": "Register", "en": "Register"},
    "benefit": {"fi": "Etuusperuste", "sv": "Förmånsgrund", "en": "Benefit basis"},
    "register_findings": {"fi": "Rekisterin havainnot", "sv": "Registrets anmärkningar", "en": "Register findings"},
    "batch_all": {"fi": "Koko erä", "sv": "Hela omgången", "en": "Whole batch"},
    "clients": {"fi": "Asiakkaita", "sv": "Klienter", "en": "Clients billed"},
    "days_claimed": {"fi": "Päiviä laskutettu", "sv": "Dagar fakturerade", "en": "Days claimed"},
    "days_paid": {"fi": "Päiviä maksettu", "sv": "Dagar betalda", "en": "Days paid"},
    "days_held": {"fi": "Päiviä pidätetty", "sv": "Dagar innehållna", "en": "Days held"},
    "days_rejected": {"fi": "Päiviä hylätty", "sv": "Dagar avvisade", "en": "Days rejected"},
    "guidance_ok": {"fi": "Ohjauksen minimi täyttyy %", "sv": "Handledningsminimum uppfyllt %", "en": "Guidance minimum met %"},
    "ind_h": {"fi": "Yksilöohjaus h/asiakas", "sv": "Individuell handledning h/klient", "en": "Individual guidance h/client"},
    "grp_h": {"fi": "Ryhmäohjaus h/asiakas", "sv": "Grupphandledning h/klient", "en": "Group guidance h/client"},
    "assessed": {"fi": "Arviointi tehty %", "sv": "Bedömning gjord %", "en": "Assessment on record %"},
    "used_week": {"fi": "Päiviä/vko toteutunut", "sv": "Dagar/vecka använda", "en": "Days/week used"},
    "decided_week": {"fi": "Päiviä/vko päätetty", "sv": "Dagar/vecka beslutade", "en": "Days/week decided"},
    "male": {"fi": "Miehiä", "sv": "Män", "en": "Male"},
    "female": {"fi": "Naisia", "sv": "Kvinnor", "en": "Female"},
    "unknown": {"fi": "Ei tiedossa", "sv": "Okänt", "en": "Unknown"},
    "in_force": {"fi": "Päätöksiä voimassa", "sv": "Beslut i kraft", "en": "Decisions in force"},
    "mean_months": {"fi": "Jakson keskipituus kk", "sv": "Periodens medellängd mån", "en": "Mean period months"},
    "over_24": {"fi": "Yli 24 kk palvelussa", "sv": "Över 24 mån i tjänsten", "en": "Over 24 months in service"},
    "repeated": {"fi": "Toistuva jakso", "sv": "Upprepad period", "en": "Repeated period"},
    "ended": {"fi": "Päättyneitä jaksoja", "sv": "Avslutade perioder", "en": "Ended periods"},
    "len": {"fi": "Pituus kk", "sv": "Längd mån", "en": "Length months"},
    "next": {"fi": "Jatkopolku", "sv": "Fortsatt väg", "en": "Next step"},
    "not_recorded": {"fi": "ei kirjattu", "sv": "ej antecknad", "en": "not recorded"},
    "benefit_col": {"fi": "Etuus", "sv": "Förmån", "en": "Benefit"},
    "kind": {"fi": "Korvaus", "sv": "Ersättning", "en": "Compensation"},
    "rate": {"fi": "€/pv", "sv": "€/dag", "en": "€/day"},
    "participant_days": {"fi": "Osallistujapäivät", "sv": "Deltagardagar", "en": "Participant days"},
}


def write_compliance(result: BatchResult, out: Path, config: Config, lang: str) -> Path:
    def words(value):
        """A label in the audit language; any other value as it is."""
        if isinstance(value, Label):
            return (TEXT[value.key].get(lang) or TEXT[value.key]["fi"]) if value.own else messages.label(value.key, lang)
        return value

    def L(key: str) -> str:
        return messages.label(key, lang)

    pnames = provider_names(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    wb.set_properties({"title": "compliance", "author": "reconcile", "created": batch_time(result.batch)})
    fmt = {"head": wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True}),
           "plain": wb.add_format({}), "euro": wb.add_format({"num_format": EURO_FORMAT})}

    def sheet(name: str, headers: list[str], rows: list[list], euro_cols: tuple[int, ...] = ()) -> object:
        ws = wb.add_worksheet(name)
        widths = [min(len(h), 18) for h in headers]
        for col, h in enumerate(headers):
            write_value(ws, 0, col, h, fmt["head"])
        for r, values in enumerate(rows, 1):
            for col, v in enumerate(values):
                write_value(ws, r, col, v, fmt["euro"] if col in euro_cols else fmt["plain"])
                widths[col] = max(widths[col], len(v) if isinstance(v, str) else 8)
        fit_widths(ws, widths)
        ws.freeze_panes(1, 2)
        for_print(ws)
        ws.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)
        return ws

    def table(t: Table) -> object:
        """A report table as a sheet: headings and words in the audit language, cents as euros."""
        euro = tuple(i for i, c in enumerate(t.columns) if c.euro)
        rows = [[v / 100 if i in euro and isinstance(v, int) else words(v) for i, v in enumerate(values)]
                for values in t.rows]
        return sheet(words(t.name), ["".join(words(p) for p in c.heading) for c in t.columns], rows, euro)

    summary, by_rule, *figures = tables(result, config, pnames)
    ws = table(summary)
    if len(summary.rows) > 1:  # the batch and at least one provider
        name, last, who = words(summary.name), len(summary.rows), summary.index("provider_id")
        chart = wb.add_chart({"type": "column"})
        for key in ("approved", "claimed"):
            col = summary.index(key)
            chart.add_series({"name": L(key), "categories": [name, 2, who, last, who],
                              "values": [name, 2, col, last, col]})
        chart.set_title({"name": L("chart_approved")})
        chart.set_size({"width": 720, "height": 360})
        ws.insert_chart(len(summary.rows) + 3, 1, chart)

    ws = table(by_rule)
    codes = by_rule.columns[by_rule.index("provider") + 1:]
    if codes:
        name = words(by_rule.name)
        first, last = by_rule.index(codes[0].key), by_rule.index(codes[-1].key)
        chart = wb.add_chart({"type": "column"})
        chart.add_series({"name": words(Label("batch_all")), "categories": [name, 0, first, 0, last],
                          "values": [name, 1, first, 1, last]})
        chart.set_title({"name": L("chart_findings")})
        chart.set_legend({"none": True})
        chart.set_size({"width": 720, "height": 360})
        ws.insert_chart(len(by_rule.rows) + 3, 1, chart)

    for t in figures:
        table(t)

    # Register findings (R224): findings rendered, not figures.
    rows = [[f.provider_id or "", pnames.get(f.provider_id or "", ""), f.rule, f.decision_id or "",
             messages.date(f.date, lang), f.expected, f.found, messages.message(f, lang)]
            for f in result.register_findings]
    sheet(words(Label("register_findings")), [L("provider_id"), L("provider"), L("rule"), L("decision"), L("date"),
                                              L("expected"), L("found"), L("message")], rows)
    wb.close()
    normalise_zip(out, batch_time(result.batch))
    return out
