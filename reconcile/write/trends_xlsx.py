"""outbox/reports/<from>_<to>/trends.xlsx and trends.csv: the trends report (CONTRACT.md section 9).

Last stage of `reconcile report`: `report.trends.compute` has made every
figure; this module lays them out. `trends.csv` is the long form of the
contract (`month,provider_id,measure,value`). `trends.xlsx` is for people, in
the language asked for:

- the city's overview: every measure for the whole city, months as columns,
  and three native line charts (clients and days; euros and euros per paid
  day; next steps and repeat periods), printable on A4 landscape;
- a sheet per subject (clients and days, euros, guidance and assessments,
  next steps, client structure) with the city and every provider, months as
  columns, frozen headers, a filter, A4 landscape one page wide;
- notes: what the figures mean and what this ledger could not tell.

Counts below 5 are `<5` in both files (also in the charts' cells, which chart
them as gaps); an unknown figure is an empty cell. Both files are written to a
temporary name and moved into place, so a reader never sees half a report.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import polars as pl
import xlsxwriter

from reconcile.report.trends import (AGE_BANDS, CITY, COUNTS, EUROS, MEASURES, NEXT_MEASURES, ROW_MEASURES, SEXES,
                                     SHARES, Trends)
from reconcile.write import make_dirs
from reconcile.write.xlsxutil import EURO_FORMAT, batch_time, fit_widths, for_print, write_value

CSV_COLUMNS = ("month", "provider_id", "measure", "value")
AGES = tuple(label for _, _, label in AGE_BANDS)
SUBJECTS = (
    ("clients_days", ("clients_billed", "periods_started", "periods_ended", "days_paid", "days_held", "days_rejected")),
    ("euros", ("euros_approved", "euros_per_paid_day")),
    ("guidance", ("guidance_met_share", "assessment_share")),
    ("next_steps", ("periods_ended", *NEXT_MEASURES, "repeat_within_6_months")),
    ("structure", (*SEXES, *AGES)),
)
CHARTS = (  # title, measures on the primary axis, measures on the secondary axis
    ("chart_clients_days", ("clients_billed",), ("days_paid", "days_held", "days_rejected")),
    ("chart_euros", ("euros_approved",), ("euros_per_paid_day",)),
    ("chart_next_steps", (*NEXT_MEASURES, "repeat_within_6_months"), ()),
)

TEXT = {
    "overview": {"fi": "Kaupunki", "sv": "Staden", "en": "City"},
    "clients_days": {"fi": "Asiakkaat ja päivät", "sv": "Klienter och dagar", "en": "Clients and days"},
    "euros": {"fi": "Eurot", "sv": "Euro", "en": "Euros"},
    "guidance": {"fi": "Ohjaus ja arviointi", "sv": "Handledning och bedömning", "en": "Guidance and assessment"},
    "next_steps": {"fi": "Jatkopolut", "sv": "Fortsatta vägar", "en": "Next steps"},
    "structure": {"fi": "Asiakasrakenne", "sv": "Klientstruktur", "en": "Client structure"},
    "notes": {"fi": "Selitteet", "sv": "Förklaringar", "en": "Notes"},
    "provider_id": {"fi": "Y-tunnus", "sv": "FO-nummer", "en": "Business id"},
    "provider": {"fi": "Palveluntuottaja", "sv": "Serviceproducent", "en": "Provider"},
    "measure": {"fi": "Mittari", "sv": "Mått", "en": "Measure"},
    "city": {"fi": "Koko kaupunki", "sv": "Hela staden", "en": "Whole city"},
    "chart_clients_days": {"fi": "Asiakkaat (vasen) ja päivät (oikea)", "sv": "Klienter (vänster) och dagar (höger)",
                           "en": "Clients (left) and days (right)"},
    "chart_euros": {"fi": "Hyväksytyt eurot (vasen) ja €/maksettu päivä (oikea)",
                    "sv": "Godkända euro (vänster) och €/betald dag (höger)",
                    "en": "Euros approved (left) and € per paid day (right)"},
    "chart_next_steps": {"fi": "Päättyneiden jaksojen jatkopolut ja uudet jaksot 6 kk:n sisällä",
                         "sv": "Avslutade perioders fortsatta vägar och nya perioder inom 6 mån",
                         "en": "Next steps of ended periods and new periods within 6 months"},
    "clients_billed": {"fi": "Laskutetut asiakkaat", "sv": "Fakturerade klienter", "en": "Clients billed"},
    "periods_started": {"fi": "Alkaneet jaksot", "sv": "Påbörjade perioder", "en": "Periods started"},
    "periods_ended": {"fi": "Päättyneet jaksot", "sv": "Avslutade perioder", "en": "Periods ended"},
    "days_paid": {"fi": "Päiviä maksettu", "sv": "Dagar betalda", "en": "Days paid"},
    "days_held": {"fi": "Päiviä pidätetty", "sv": "Dagar innehållna", "en": "Days held"},
    "days_rejected": {"fi": "Päiviä hylätty", "sv": "Dagar avvisade", "en": "Days rejected"},
    "euros_approved": {"fi": "Hyväksytty €", "sv": "Godkänt €", "en": "Euros approved"},
    "euros_per_paid_day": {"fi": "€ / maksettu päivä", "sv": "€ / betald dag", "en": "Euros per paid day"},
    "guidance_met_share": {"fi": "Ohjauksen minimi täyttyi (osuus asiakkaista)",
                           "sv": "Handledningsminimum uppfyllt (andel klienter)",
                           "en": "Guidance minimum met (share of clients)"},
    "assessment_share": {"fi": "Kykyviisari tai VAT kirjattu (osuus päätöksistä)",
                         "sv": "Kykyviisari eller VAT antecknad (andel beslut)",
                         "en": "Kykyviisari or VAT on record (share of decisions)"},
    "next_step": {"fi": "Jatkopolku", "sv": "Fortsatt väg", "en": "Next step"},
    "repeat_within_6_months": {"fi": "Uusi jakso 6 kk:n sisällä", "sv": "Ny period inom 6 mån",
                               "en": "New period within 6 months"},
    "sex:female": {"fi": "Naiset", "sv": "Kvinnor", "en": "Women"},
    "sex:male": {"fi": "Miehet", "sv": "Män", "en": "Men"},
    "age": {"fi": "Ikä", "sv": "Ålder", "en": "Age"},
}

NOTES = {
    "fi": [
        "Raportti {first}–{last}, laskettu pääkirjasta ja rekistereistä (laskutyökirjoja ei lueta uudelleen).",
        "Kuukausi on erä: kuukauden luvut ovat sen erän laskuista (myös myöhässä tulleista) ja rekisterin "
        "kyseisen kuukauden jaksoista. Kuukausi, jolta ei ole erää, puuttuu.",
        "Asiakas on henkilö (henkilötunnus): kaupungin luvuissa kukin kerran, vaikka kaksi tuottajaa laskuttaisi häntä.",
        "Kokonaan hylätyt laskut (F-säännöt) eivät tuo asiakkaita eikä päiviä.",
        "Alle 5:n lukumäärät näytetään muodossa <5 (myös nolla). Tyhjä solu: luku ei ole tiedossa.",
        "Uusi jakso 6 kk:n sisällä: päättyneistä jaksoista ne, joiden asiakkaalla alkaa uusi jakso "
        "6 kuukauden kuluessa päättymisestä. Tiedossa vasta, kun 6 kuukautta kuukauden lopusta on kulunut "
        "raportin viimeisen kuukauden loppuun mennessä.",
        "Pidätettyjen päivien ratkaisuja ei vielä ole pääkirjassa: päivät ovat kuten ajo ne kirjasi.",
    ],
    "sv": [
        "Rapport {first}–{last}, beräknad ur huvudboken och registren (fakturaarbetsböckerna läses inte om).",
        "En månad är en omgång: månadens siffror kommer från omgångens fakturor (även sena) och registrets "
        "perioder för månaden. En månad utan omgång saknas.",
        "En klient är en person (personbeteckning): i stadens siffror en gång, även om två producenter fakturerar.",
        "Fakturor som avvisats i sin helhet (F-regler) ger inga klienter och inga dagar.",
        "Antal under 5 visas som <5 (även noll). Tom cell: siffran är inte känd.",
        "Ny period inom 6 mån: av de avslutade perioderna de vars klient börjar en ny period inom 6 månader "
        "efter slutet. Känd först när 6 månader efter månadens slut har gått före rapportens sista månads slut.",
        "Avgöranden om innehållna dagar finns ännu inte i huvudboken: dagarna är som körningen bokförde dem.",
    ],
    "en": [
        "Report {first} to {last}, computed from the ledger and the registers (invoice workbooks are not read again).",
        "A month is a batch: a month's figures come from its batch's invoices (late ones included) and the "
        "register's periods of that month. A month without a batch is left out.",
        "A client is a person (henkilötunnus): counted once in the city's figures, even when two providers bill them.",
        "Invoices rejected as a whole (F rules) count no clients and no days.",
        "Counts below 5 are shown as <5 (zero included). An empty cell: the figure is not known.",
        "New period within 6 months: of the periods that ended, those whose client begins a new period within "
        "6 months of the end. Known once 6 months after the month's last day have passed by the last day of "
        "the report's last month.",
        "Resolutions of held days are not in the ledger yet: days are counted as the run recorded them.",
    ],
}
MISSING = {
    "fi": "Erät {months} on kirjattu ennen kuin pääkirja tallensi raportin tarvitsemat rivitiedot: niiltä puuttuvat "
          "{measures}. Aja erät uudelleen, niin luvut täydentyvät.",
    "sv": "Omgångarna {months} bokfördes innan huvudboken sparade radernas uppgifter för rapporten: för dem saknas "
          "{measures}. Kör omgångarna på nytt så fylls siffrorna i.",
    "en": "Batches {months} were recorded before the ledger kept the per-row record this report needs: they lack "
          "{measures}. Run those batches again to fill them in.",
}
UNKNOWN_REPEATS = {
    "fi": "Uudet jaksot 6 kk:n sisällä eivät ole vielä tiedossa kuukausille {months}.",
    "sv": "Nya perioder inom 6 mån är ännu inte kända för månaderna {months}.",
    "en": "New periods within 6 months are not known yet for the months {months}.",
}


def T(key: str, lang: str) -> str:
    texts = TEXT[key]
    return texts.get(lang) or texts["fi"]


def measure_label(measure: str, lang: str) -> str:
    if measure.startswith("next_step:"):
        return f"{T('next_step', lang)}: {measure.split(':', 1)[1]}"
    if measure.startswith("age:"):
        return f"{T('age', lang)} {measure.split(':', 1)[1]}"
    return T(measure, lang)


def missing_text(trends: Trends, lang: str) -> list[str]:
    """What this ledger could not tell, in `lang` (also printed by the command)."""
    out = []
    if trends.missing:
        measures = ", ".join(dict.fromkeys(measure_label(m, lang) for m in ROW_MEASURES if not m.startswith(("sex:", "age:"))))
        measures += ", " + T("structure", lang).lower()
        out.append((MISSING.get(lang) or MISSING["fi"]).format(months=", ".join(trends.missing), measures=measures))
    if trends.repeats_unknown:
        out.append((UNKNOWN_REPEATS.get(lang) or UNKNOWN_REPEATS["fi"]).format(months=", ".join(trends.repeats_unknown)))
    return out


def write_csv(trends: Trends, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(trends.frame.select(CSV_COLUMNS).iter_rows())
    os.replace(tmp, path)


def write_xlsx(trends: Trends, names: dict[str, str], path: Path, lang: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    wb.set_properties({"title": f"trends {trends.first}–{trends.last}", "author": "reconcile",
                       "created": batch_time(trends.first)})
    fmt = {
        "head": wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True, "valign": "top"}),
        "month": wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "align": "right"}),
        "text": wb.add_format({}),
        "city": wb.add_format({"bold": True}),
        "count": wb.add_format({"num_format": "#,##0"}),
        "euros": wb.add_format({"num_format": EURO_FORMAT}),
        "share": wb.add_format({"num_format": "0.0%"}),
        "masked": wb.add_format({"align": "right", "font_color": "#595959"}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
    }
    months = trends.months
    cells = {(r[0], r[1], r[2]): (r[3], r[4]) for r in trends.frame.iter_rows()}

    def put(ws, row: int, col: int, month: str, provider: str, measure: str) -> None:
        value, number = cells.get((month, provider, measure), ("", None))
        if number is not None:
            kind = "euros" if measure in EUROS else "share" if measure in SHARES else "count"
            ws.write_number(row, col, number, fmt[kind])
        elif value:
            ws.write_string(row, col, value, fmt["masked"])
        else:
            ws.write_blank(row, col, None)

    # The city's overview, with the charts.
    name = T("overview", lang)
    ws = wb.add_worksheet(name)
    ws.write_string(0, 0, T("measure", lang), fmt["head"])
    for col, month in enumerate(months, 1):
        ws.write_string(0, col, month, fmt["month"])
    where = {}
    for row, measure in enumerate(MEASURES, 1):
        ws.write_string(row, 0, measure_label(measure, lang), fmt["text"])
        where[measure] = row
        for col, month in enumerate(months, 1):
            put(ws, row, col, month, CITY, measure)
    ws.set_column(0, 0, 44)
    ws.set_column(1, max(len(months), 1), 11)
    ws.freeze_panes(1, 1)
    for_print(ws)
    ws.fit_to_pages(1, 1)  # the overview is one page: the city's table and its charts
    top = len(MEASURES) + 2
    for i, (title, primary, secondary) in enumerate(CHARTS):
        chart = wb.add_chart({"type": "line"})
        for measures, axis in ((primary, False), (secondary, True)):
            for measure in measures:
                series = {"name": [name, where[measure], 0], "values": [name, where[measure], 1, where[measure], len(months)],
                          "categories": [name, 0, 1, 0, len(months)], "marker": {"type": "circle", "size": 4}}
                if axis:
                    series["y2_axis"] = True
                    series["line"] = {"dash_type": "dash"}
                chart.add_series(series)
        chart.set_title({"name": T(title, lang), "name_font": {"size": 11}})
        chart.set_legend({"position": "bottom"})
        chart.set_y_axis({"min": 0, "num_font": {"size": 8}, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        if secondary:
            chart.set_y2_axis({"min": 0, "num_font": {"size": 8}})
        chart.set_x_axis({"num_font": {"size": 8}})
        chart.show_blanks_as("gap")
        chart.set_size({"width": 620, "height": 330})
        ws.insert_chart(top + (i // 2) * 18, 0, chart, {"x_offset": (i % 2) * 630})  # two abreast, never overlapping

    # One sheet per subject: the city and every provider.
    keys = [CITY, *trends.providers]
    for subject, measures in SUBJECTS:
        ws = wb.add_worksheet(T(subject, lang))
        heads = [T("provider_id", lang), T("provider", lang), T("measure", lang)]
        for col, h in enumerate(heads):
            ws.write_string(0, col, h, fmt["head"])
        for col, month in enumerate(months, 3):
            ws.write_string(0, col, month, fmt["month"])
        widths = [len(h) for h in heads]
        row = 1
        for key in keys:
            label = names.get(key, "") if key else T("city", lang)
            style = fmt["city"] if key == CITY else fmt["text"]
            for measure in measures:
                write_value(ws, row, 0, key, style)
                write_value(ws, row, 1, label, style)
                text = measure_label(measure, lang)
                ws.write_string(row, 2, text, style)
                widths = [max(widths[0], len(key)), max(widths[1], len(label)), max(widths[2], len(text))]
                for col, month in enumerate(months, 3):
                    put(ws, row, col, month, key, measure)
                row += 1
        fit_widths(ws, [widths[0], min(widths[1], 30), min(widths[2], 44)])
        ws.set_column(3, 2 + max(len(months), 1), 11)
        ws.freeze_panes(1, 3)
        ws.autofilter(0, 0, max(row - 1, 1), 2 + max(len(months), 1))
        for_print(ws)

    # Notes.
    ws = wb.add_worksheet(T("notes", lang))
    lines = [line.format(first=trends.first, last=trends.last) for line in NOTES.get(lang) or NOTES["fi"]]
    lines += missing_text(trends, lang)
    ws.set_column(0, 0, 110)
    for row, line in enumerate(lines):
        ws.write_string(row, 0, line, fmt["wrap"])
        ws.set_row(row, 15 * (len(line) // 100 + 1))  # wrapped text gets its height (no program computes it)
    for_print(ws)
    wb.close()
    os.replace(tmp, path)


def write_report(trends: Trends, providers: pl.DataFrame, folder: Path, lang: str) -> None:
    """Both files of the report into `folder` (created)."""
    make_dirs(folder)
    names = dict(zip(providers.get_column("provider_id"), providers.get_column("name")))
    write_csv(trends, folder / "trends.csv")
    write_xlsx(trends, names, folder / "trends.xlsx", lang)
