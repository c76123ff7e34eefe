"""audit/compliance.xlsx: the figures of `report.compliance` laid out, one sheet per subject.

Last stage, once per batch, in the language of the audit files (fi, sv or
en, every word of it: labels, register codes such as benefits and next steps,
and the definitions):

- summary (chart: approved against claimed by provider);
- findings by code (chart);
- client structure; register; benefit basis (which names clients: its
  heading says so); register findings (R224);
- definitions: what every column of every sheet counts, then the rate block
  applied to each billed month (the manifest's `rates_applied`).

Every sheet opens with a heading row (the sheet's subject and the batch),
then the column headings and one row per provider. Columns are found by
their key in the report's tables, never by position.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from reconcile.config import Config
from reconcile.model import BatchResult
from reconcile.report.compliance import Label, Said, Table, rates, tables
from reconcile.text import messages, rules
from reconcile.write.approval_xlsx import provider_names
from reconcile.write.manifest import rates_applied
from reconcile.write.xlsxutil import EURO_FORMAT, batch_time, fit_widths, for_print, normalise_zip, write_value

# The report's own words (`report.compliance.T`), by key; register codes by their value.
TEXT = {
    "summary": {"fi": "Yhteenveto", "sv": "Sammanfattning", "en": "Summary"},
    "structure": {"fi": "Asiakasrakenne", "sv": "Klientstruktur", "en": "Client structure"},
    "register": {"fi": "Rekisteri", "sv": "Register", "en": "Register"},
    "benefit": {"fi": "Etuusperuste", "sv": "Förmånsgrund", "en": "Benefit basis"},
    "register_findings": {"fi": "Rekisterin havainnot", "sv": "Registrets anmärkningar", "en": "Register findings"},
    "definitions": {"fi": "Määritelmät", "sv": "Definitioner", "en": "Definitions"},
    "rates": {"fi": "Sovelletut hinnat", "sv": "Tillämpade taxor", "en": "Rates applied"},
    "batch_of": {"fi": "erä", "sv": "omgång", "en": "batch"},
    "batch_all": {"fi": "Koko erä", "sv": "Hela omgången", "en": "Whole batch"},
    "all_sheets": {"fi": "Kaikki välilehdet", "sv": "Alla blad", "en": "All sheets"},
    "column": {"fi": "Sarake", "sv": "Kolumn", "en": "Column"},
    "rate_item": {"fi": "Hinta", "sv": "Taxa", "en": "Rate"},
    "value": {"fi": "Arvo", "sv": "Värde", "en": "Value"},
    "meaning": {"fi": "Mitä se laskee", "sv": "Vad den räknar", "en": "What it counts"},
    "names_note": {"fi": "Sisältää asiakkaiden nimet (henkilötietoja): vain tarkastuksen käyttöön, ei jaettavaksi.",
                   "sv": "Innehåller klienternas namn (personuppgifter): endast för granskning, får inte spridas.",
                   "en": "Names clients (personal data): for audit only, not to be shared."},
    "clients": {"fi": "Asiakkaita", "sv": "Klienter", "en": "Clients billed"},
    "days_claimed": {"fi": "Päiviä laskutettu", "sv": "Dagar fakturerade", "en": "Days claimed"},
    "days_paid": {"fi": "Päiviä maksettu", "sv": "Dagar betalda", "en": "Days paid"},
    "days_held": {"fi": "Päiviä pidätetty", "sv": "Dagar innehållna", "en": "Days held"},
    "days_rejected": {"fi": "Päiviä hylätty", "sv": "Dagar avvisade", "en": "Days rejected"},
    "guidance_ok": {"fi": "Ohjauksen minimi täyttyy, % asiakkaista", "sv": "Handledningsminimum uppfyllt, % av klienterna",
                    "en": "Guidance minimum met, % of clients"},
    "ind_h": {"fi": "Yksilöohjaus h/asiakas", "sv": "Individuell handledning h/klient", "en": "Individual guidance h/client"},
    "grp_h": {"fi": "Ryhmäohjaus h/asiakas", "sv": "Grupphandledning h/klient", "en": "Group guidance h/client"},
    "assessed": {"fi": "Kykyviisari tai VAT kirjattu, % päätöksistä", "sv": "Kykyviisari eller VAT antecknad, % av besluten",
                 "en": "Kykyviisari or VAT on record, % of decisions"},
    "used_week": {"fi": "Päiviä/vko toteutunut", "sv": "Dagar/vecka använda", "en": "Days/week used"},
    "decided_week": {"fi": "Päiviä/vko päätetty", "sv": "Dagar/vecka beslutade", "en": "Days/week decided"},
    "male": {"fi": "Miehiä", "sv": "Män", "en": "Male"},
    "female": {"fi": "Naisia", "sv": "Kvinnor", "en": "Female"},
    "unknown": {"fi": "Ei tiedossa", "sv": "Okänt", "en": "Unknown"},
    "in_force": {"fi": "Päätöksiä voimassa", "sv": "Beslut i kraft", "en": "Decisions in force"},
    "mean_months": {"fi": "Jakson keskipituus kk", "sv": "Periodens medellängd mån", "en": "Mean period months"},
    "over_24": {"fi": "Asiakkaita yli 24 kk palvelussa", "sv": "Klienter över 24 mån i tjänsten",
                "en": "Clients over 24 months in service"},
    "repeated": {"fi": "Asiakkaita toistuvalla jaksolla", "sv": "Klienter på upprepad period",
                 "en": "Clients on a repeated period"},
    "ended": {"fi": "Jaksoja päättyi erän kuussa", "sv": "Perioder avslutade under månaden",
              "en": "Periods ended in the month"},
    "len": {"fi": "Pituus kk", "sv": "Längd mån", "en": "Length months"},
    "next": {"fi": "Jatkopolku", "sv": "Fortsatt väg", "en": "Next step"},
    "step työ": {"fi": "työ", "sv": "arbete", "en": "work"},
    "step koulutus": {"fi": "koulutus", "sv": "utbildning", "en": "education"},
    "step työkokeilu": {"fi": "työkokeilu", "sv": "arbetsprövning", "en": "work trial"},
    "step te-palvelu": {"fi": "TE-palvelu", "sv": "TE-tjänst", "en": "TE service"},
    "step uusi jakso": {"fi": "uusi jakso", "sv": "ny period", "en": "new period"},
    "step muu": {"fi": "muu", "sv": "annat", "en": "other"},
    "step ": {"fi": "ei kirjattu", "sv": "ej antecknad", "en": "not recorded"},
    "benefit_col": {"fi": "Etuus", "sv": "Förmån", "en": "Benefit"},
    "kind": {"fi": "Korvaus", "sv": "Ersättning", "en": "Compensation"},
    "rate": {"fi": "€/pv", "sv": "€/dag", "en": "€/day"},
    "participant_days": {"fi": "Osallistujapäivät", "sv": "Deltagardagar", "en": "Participant days"},
    "työttömyysetuus": {"fi": "työttömyysetuus", "sv": "arbetslöshetsförmån", "en": "unemployment benefit"},
    "toimeentulotuki": {"fi": "toimeentulotuki", "sv": "utkomststöd", "en": "social assistance"},
    "kuntoutustuki": {"fi": "kuntoutustuki", "sv": "rehabiliteringsstöd", "en": "rehabilitation allowance"},
    "eläke": {"fi": "eläke", "sv": "pension", "en": "pension"},
    "kulukorvaus": {"fi": "kulukorvaus", "sv": "kostnadsersättning", "en": "expense allowance"},
    "toimintaraha": {"fi": "toimintaraha", "sv": "verksamhetspenning", "en": "activity allowance"},
    "start": {"fi": "Alkupäivä", "sv": "Startdatum", "en": "Start"},
    "last_day": {"fi": "Viimeinen päivä", "sv": "Sista dag", "en": "Last day"},
    "length_months": {"fi": "Pituus kk", "sv": "Längd mån", "en": "Length months"},
    "month": {"fi": "Laskutettu kuukausi", "sv": "Fakturerad månad", "en": "Billed month"},
    "valid_from": {"fi": "Voimassa alkaen", "sv": "Gäller från", "en": "Valid from"},
    "meal_price": {"fi": "Ateria €", "sv": "Måltid €", "en": "Meal €"},
    "meal_compensation": {"fi": "Ateriakorvaus €/pv", "sv": "Måltidsersättning €/dag", "en": "Meal compensation €/day"},
    "expense_compensation": {"fi": "Kulukorvaus ja toimintaraha €/pv",
                             "sv": "Kostnadsersättning och verksamhetspenning €/dag",
                             "en": "Expense and activity allowance €/day"},
    "guidance_min": {"fi": "Ohjauksen minimi h/kk", "sv": "Handledningsminimum h/mån", "en": "Guidance minimum h/month"},
}

# What each column counts, by column key (a key of the form "age …", "len …", "next …" or a rule
# code takes the definition of its kind); the first entries are about every sheet.
DEFINITIONS = {
    "<5": {"fi": "Jokainen henkilöitä kuvaava luku (asiakkaat, sukupuolet, ikäryhmät; rekisterin päätökset, "
                 "asiakkaat ja jaksot) näytetään alle viiden, myös nolla, muodossa <5 jokaisella välilehdellä. "
                 "Osuudet, keskiarvot, päivät, eurot ja havainnot eivät ole henkilömääriä.",
           "sv": "Varje tal som beskriver personer (klienter, kön, åldersgrupper; registrets beslut, klienter "
                 "och perioder) visas under fem, noll medräknat, som <5 på varje blad. Andelar, medelvärden, "
                 "dagar, euro och anmärkningar är inte antal personer.",
           "en": "Every count that describes people (clients, sexes, age bands; the register's decisions, clients "
                 "and periods) below five, zero included, shows as <5 on every sheet. Shares, means, days, euros "
                 "and findings are not counts of people."},
    "batch_all": {"fi": "Koko erä: kaikki tuottajat yhdessä. Henkilö lasketaan kerran, vaikka kaksi tuottajaa "
                        "laskuttaisi samaa henkilöä, joten erän asiakasmäärä voi olla pienempi kuin tuottajien "
                        "lukujen summa.",
                  "sv": "Hela omgången: alla producenter tillsammans. En person räknas en gång, även när två "
                        "producenter fakturerar samma person, så omgångens antal klienter kan vara mindre än "
                        "summan av producenternas.",
                  "en": "Whole batch: every provider together. A person counts once, even when two providers "
                        "bill the same person, so the batch's clients can be fewer than the providers' added up."},
    "provider_id": {"fi": "Palveluntuottajan Y-tunnus.", "sv": "Serviceproducentens FO-nummer.",
                    "en": "The provider's business id (Y-tunnus)."},
    "provider": {"fi": "Palveluntuottajan nimi palveluntuottajarekisteristä.",
                 "sv": "Serviceproducentens namn i producentregistret.",
                 "en": "The provider's name in the register of providers."},
    "invoices": {"fi": "Erän laskut (tiedostot), myös kokonaan hylätyt.",
                 "sv": "Omgångens fakturor (filer), även de som avvisats helt.",
                 "en": "The batch's invoices (files), those rejected as a whole included."},
    "clients": {"fi": "Henkilöt (henkilötunnus), joilla on asiakasrivi käsitellyllä laskulla (ei kokonaan "
                      "hylätyllä). Henkilö on päätöksen henkilö päätösrekisterissä, muuten rivin henkilötunnus.",
                "sv": "Personer (personbeteckning) med en klientrad på en behandlad faktura (inte helt avvisad). "
                      "Personen är beslutets person i beslutsregistret, annars radens personbeteckning.",
                "en": "Persons (henkilötunnus) with a client row on a processed invoice (not rejected as a "
                      "whole): the decision's person in the register, else the row's henkilötunnus."},
    "days_claimed": {"fi": "Laskutetut läsnäolopäivät kaikilta laskuilta; kokonaan hylätyn laskun päivät ovat "
                           "hylättyjä.",
                     "sv": "Fakturerade närvarodagar på alla fakturor; dagarna på en helt avvisad faktura är "
                           "avvisade.",
                     "en": "Attendance days claimed on every invoice; a file rejected as a whole has all its days "
                           "rejected."},
    "days_paid": {"fi": "Maksettavaksi hyväksytyt päivät.", "sv": "Dagar godkända för betalning.",
                  "en": "Days approved for payment."},
    "days_held": {"fi": "Taloushallinnon päätöstä odottavat päivät.", "sv": "Dagar som väntar på ekonomins beslut.",
                  "en": "Days held for finance's decision."},
    "days_rejected": {"fi": "Laskutetut − maksetut − pidätetyt päivät.",
                      "sv": "Fakturerade − betalda − innehållna dagar.",
                      "en": "Days claimed − paid − held."},
    "claimed": {"fi": "Laskutetut eurot (laskujen rivien erät), kuten approval.csv:ssä.",
                "sv": "Fakturerade euro (fakturornas poster), som i approval.csv.",
                "en": "Euros claimed (the invoices' items), as in approval.csv."},
    "approved": {"fi": "Hyväksytyt eurot.", "sv": "Godkända euro.", "en": "Euros approved."},
    "held": {"fi": "Pidätetyt eurot.", "sv": "Innehållna euro.", "en": "Euros held."},
    "rejected": {"fi": "Hylätyt eurot.", "sv": "Avvisade euro.", "en": "Euros rejected."},
    "guidance_ok": {"fi": "Asiakkaista se osuus, jonka yhdenkään päätöksen yksilöohjaus ei jää kuukausiminimin "
                          "alle (ei R214-havaintoa).",
                    "sv": "Andelen av klienterna vars individuella handledning inte understiger månadsminimum "
                          "för något beslut (ingen R214-anmärkning).",
                    "en": "Of the clients, the share none of whose decisions has individual guidance below the "
                          "monthly minimum (no R214 finding)."},
    "ind_h": {"fi": "Ilmoitetut yksilöohjauksen tunnit ÷ asiakkaat.",
              "sv": "Rapporterade timmar individuell handledning ÷ klienter.",
              "en": "Individual guidance hours reported ÷ clients."},
    "grp_h": {"fi": "Ilmoitetut ryhmäohjauksen tunnit ÷ asiakkaat.",
              "sv": "Rapporterade timmar grupphandledning ÷ klienter.",
              "en": "Group guidance hours reported ÷ clients."},
    "assessed": {"fi": "Laskutetuista päätöksistä se osuus, jolla on Kykyviisari- tai VAT-arvioinnin päivä "
                       "viimeistään erän kuun viimeisenä päivänä: tämän erän asiakasrivillä tai aiemmasta erästä "
                       "pääkirjassa. Päätöksiä, ei henkilöitä.",
                 "sv": "Andelen av de fakturerade besluten med ett datum för en Kykyviisari- eller VAT-bedömning "
                       "senast månadens sista dag: på klientraden i denna omgång eller från en tidigare omgång i "
                       "huvudboken. Beslut, inte personer.",
                 "en": "Of the decisions billed, the share with a Kykyviisari or VAT assessment date on or before "
                       "the batch month's last day: on the client row of this batch or kept by the ledger from an "
                       "earlier batch. Decisions, not persons."},
    "used_week": {"fi": "Maksetut päivät ÷ (päätöksen voimassaolopäivät laskutetussa kuussa ÷ 7), päätöksittäin ja "
                        "kuukausittain, keskiarvona.",
                  "sv": "Betalda dagar ÷ (beslutets dagar i den fakturerade månaden ÷ 7), per beslut och månad, "
                        "som medelvärde.",
                  "en": "Days paid ÷ (days of the decision's period in the billed month ÷ 7), per decision and "
                        "month, averaged."},
    "decided_week": {"fi": "Päätöksen päiviä viikossa, samojen päätösten keskiarvona.",
                     "sv": "Beslutets dagar per vecka, som medelvärde över samma beslut.",
                     "en": "The decision's days per week, averaged over the same decisions."},
    "rule_code": {"fi": "Havaintoja säännöstä {code}: {title}.", "sv": "Anmärkningar enligt regel {code}: {title}.",
             "en": "Findings of rule {code}: {title}."},
    "male": {"fi": "Asiakkaat, joiden henkilötunnuksen yksilönumero on pariton.",
             "sv": "Klienter vars individnummer i personbeteckningen är udda.",
             "en": "Clients whose henkilötunnus has an odd individual number."},
    "female": {"fi": "Asiakkaat, joiden henkilötunnuksen yksilönumero on parillinen.",
               "sv": "Klienter vars individnummer i personbeteckningen är jämnt.",
               "en": "Clients whose henkilötunnus has an even individual number."},
    "age": {"fi": "Asiakkaat ikäryhmässä {band} (ikä erän kuun viimeisenä päivänä).",
            "sv": "Klienter i åldersgruppen {band} (ålder den sista dagen i omgångens månad).",
            "en": "Clients aged {band} (age on the last day of the batch month)."},
    "unknown": {"fi": "Asiakkaat, joiden henkilötunnuksesta ei voi lukea syntymäaikaa.",
                "sv": "Klienter vars födelsedatum inte kan läsas ur personbeteckningen.",
                "en": "Clients whose date of birth cannot be read from the henkilötunnus."},
    "in_force": {"fi": "Rekisterin päätökset, jotka ovat voimassa jonakin erän kuun päivänä.",
                 "sv": "Registrets beslut som gäller någon dag i omgångens månad.",
                 "en": "The register's decisions in force on any day of the batch month."},
    "mean_months": {"fi": "Voimassa olevien jaksojen keskipituus alusta päättymiseen, kuukausina (365,25 / 12 pv).",
                    "sv": "Medellängden för perioderna i kraft, från start till slut, i månader (365,25 / 12 dagar).",
                    "en": "The mean length of the periods in force, start to end, in months of 365.25 / 12 days."},
    "len": {"fi": "Voimassa olevat päätökset, joiden jakson pituus on {band} kk.",
            "sv": "Beslut i kraft vars period är {band} mån lång.",
            "en": "Decisions in force whose period is {band} months long."},
    "over_24": {"fi": "Voimassa olevien päätösten asiakkaat, joilla on yli 24 kk palvelua kaikista jaksoista "
                      "yhteensä erän kuun loppuun mennessä.",
                "sv": "Klienter med beslut i kraft som har över 24 månader i tjänsten sammanlagt över alla "
                      "perioder till slutet av omgångens månad.",
                "en": "Clients of the decisions in force with more than 24 months in the service across all "
                      "their periods, to the end of the batch month."},
    "repeated": {"fi": "Voimassa olevien päätösten asiakkaat, joilla on rekisterissä useampi kuin yksi jakso.",
                 "sv": "Klienter med beslut i kraft som har fler än en period i registret.",
                 "en": "Clients of the decisions in force with more than one period in the register."},
    "ended": {"fi": "Päätökset, joiden viimeinen päivä (päättymispäivä, muuten loppupäivä) on erän kuussa.",
              "sv": "Beslut vars sista dag (avslutad, annars slutdatum) infaller i omgångens månad.",
              "en": "Decisions whose last day (termination, else end) falls in the batch month."},
    "next": {"fi": "Erän kuussa päättyneet jaksot, joiden jatkopolku on {band}.",
             "sv": "Perioder avslutade under omgångens månad vars fortsatta väg är {band}.",
             "en": "Periods ended in the batch month whose next step is {band}."},
    "invoice_no": {"fi": "Laskun numero.", "sv": "Fakturanummer.", "en": "The invoice number."},
    "decision": {"fi": "Päätösnumero.", "sv": "Beslutsnummer.", "en": "The decision number."},
    "name": {"fi": "Asiakkaan nimi päätösrekisteristä (henkilötieto).",
             "sv": "Klientens namn i beslutsregistret (personuppgift).",
             "en": "The client's name in the register of decisions (personal data)."},
    "benefit_col": {"fi": "Päätöksen etuus.", "sv": "Beslutets förmån.", "en": "The decision's benefit."},
    "kind": {"fi": "Etuuden mukainen korvaus: kulukorvaus työttömyysetuudelle, toimintaraha toimeentulotuelle.",
             "sv": "Ersättningen enligt förmånen: kostnadsersättning för arbetslöshetsförmån, verksamhetspenning "
                   "för utkomststöd.",
             "en": "The compensation the benefit earns: expense allowance for unemployment benefit, activity "
                   "allowance for social assistance."},
    "rate": {"fi": "Laskutetun kuun hinta päivältä (alla).", "sv": "Den fakturerade månadens taxa per dag (nedan).",
             "en": "The billed month's rate per day (below)."},
    "cents": {"fi": "Maksetut päivät × hinta.", "sv": "Betalda dagar × taxa.", "en": "Days paid × rate."},
    "participant_days": {"fi": "Erän maksetut päivät yhteensä, valtion päiväkohtaista korvausta varten.",
                         "sv": "Omgångens betalda dagar sammanlagt, för statens ersättning per dag.",
                         "en": "The batch's days paid, for the state's per-day reimbursement."},
    "start": {"fi": "Päätöksen alkupäivä rekisterissä.", "sv": "Beslutets startdatum i registret.",
              "en": "The decision's start in the register."},
    "last_day": {"fi": "Päättymispäivä, muuten loppupäivä.", "sv": "Avslutad, annars slutdatum.",
                 "en": "Termination, else end."},
    "length_months": {"fi": "Jakson pituus kuukausina (365,25 / 12 pv); laki sallii 3–24 kk.",
                      "sv": "Periodens längd i månader (365,25 / 12 dagar); lagen tillåter 3–24 mån.",
                      "en": "The period's length in months of 365.25 / 12 days; the law allows 3 to 24."},
    "rule": {"fi": "Säännön koodi (R224: päätöksen jakso alle 3 tai yli 24 kuukautta).",
             "sv": "Regelns kod (R224: beslutets period under 3 eller över 24 månader).",
             "en": "The rule's code (R224: a decision's period shorter than 3 or longer than 24 months)."},
    "message": {"fi": "Havainto sanoin.", "sv": "Anmärkningen i ord.", "en": "The finding in words."},
    "month": {"fi": "Kuukausi, jota erän laskut laskuttavat (ja erän oma kuukausi).",
              "sv": "En månad som omgångens fakturor fakturerar (och omgångens egen månad).",
              "en": "A month the batch's invoices bill (and the batch's own month)."},
    "valid_from": {"fi": "Hintalohko, joka on voimassa kuun ensimmäisenä päivänä (config/rates.toml).",
                   "sv": "Taxeblocket i kraft den första dagen i månaden (config/rates.toml).",
                   "en": "The rate block in force on the month's first day (config/rates.toml)."},
    "meal_price": {"fi": "Tuottajan tarjoaman aterian hinta.", "sv": "Priset för en måltid som producenten serverat.",
                   "en": "The price of a meal the provider served."},
    "meal_compensation": {"fi": "Ateriakorvaus maksetulta päivältä.", "sv": "Måltidsersättning per betald dag.",
                          "en": "Meal compensation per day paid."},
    "expense_compensation": {"fi": "Kulukorvaus tai toimintaraha osallistumispäivältä (Etuusperuste).",
                             "sv": "Kostnadsersättning eller verksamhetspenning per deltagardag (Förmånsgrund).",
                             "en": "Expense or activity allowance per day attended (Benefit basis)."},
    "guidance_min": {"fi": "Yksilöohjauksen kuukausiminimi, kun päätös ei nimeä omaansa (R214).",
                     "sv": "Månadsminimum för individuell handledning när beslutet inte anger något eget (R214).",
                     "en": "The monthly minimum of individual guidance when the decision names none (R214)."},
}


def _kind(key: str) -> tuple[str, str]:
    """(definition key, the part of the column its definition names) for a column key."""
    for prefix in ("age", "len", "next"):
        if key.startswith(prefix + " "):
            return prefix, key[len(prefix) + 1:]
    if key in rules.CATALOGUE:
        return "rule_code", key
    return key, ""


def write_compliance(result: BatchResult, out: Path, config: Config, lang: str) -> Path:
    def own(key: str) -> str:
        texts = TEXT[key]
        return texts.get(lang) or texts["fi"]

    def words(value):
        """A label or message in the audit language; any other value as it is."""
        if isinstance(value, Label):
            return own(value.key) if value.own else messages.label(value.key, lang)
        if isinstance(value, Said):
            return messages.message(value.finding, lang)
        return value

    def L(key: str) -> str:
        return messages.label(key, lang)

    pnames = provider_names(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    wb.set_properties({"title": "compliance", "author": "reconcile", "created": batch_time(result.batch)})
    fmt = {"title": wb.add_format({"bold": True, "font_size": 12}),
           "head": wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True}),
           "plain": wb.add_format({}), "euro": wb.add_format({"num_format": EURO_FORMAT}),
           "date": wb.add_format({"num_format": "yyyy-mm-dd" if lang == "en" else "d.m.yyyy"}),
           "wrap": wb.add_format({"text_wrap": True, "valign": "top"}), "left": wb.add_format({"align": "left"}),
           "count": wb.add_format({"align": "right"}),  # `<5` beside the numbers it stands for
           "euro_left": wb.add_format({"num_format": EURO_FORMAT, "align": "left"}),
           "date_left": wb.add_format({"num_format": "yyyy-mm-dd" if lang == "en" else "d.m.yyyy", "align": "left"})}

    def put(ws, r: int, col: int, v, cell_fmt) -> int:
        """One value; dates as dates; returns the width it needs."""
        if isinstance(v, dt.date):
            ws.write_datetime(r, col, dt.datetime(v.year, v.month, v.day), fmt["date"])
            return 10
        write_value(ws, r, col, v, cell_fmt)
        return len(v) if isinstance(v, str) else 8

    def table(t: Table) -> tuple[object, str]:
        """A report table as a sheet: a heading row, then the column headings and the rows."""
        name = words(t.name)
        ws = wb.add_worksheet(name)
        title = f"{name} · {own('batch_of')} {result.batch}" + (f" · {words(t.note)}" if t.note else "")
        ws.write_string(0, 0, title, fmt["title"])
        headers = ["".join(words(p) for p in c.heading) for c in t.columns]
        widths = [min(len(h), 18) for h in headers]
        for col, h in enumerate(headers):
            write_value(ws, 1, col, h, fmt["head"])
        ws.set_row(1, 15 * max(1 + len(h) // 19 for h in headers))  # room for headings wrapped at width 18
        for r, values in enumerate(t.rows, 2):
            for col, (c, v) in enumerate(zip(t.columns, values)):
                v = v / 100 if c.euro and isinstance(v, int) else words(v)
                cell_fmt = fmt["euro"] if c.euro else fmt["count"] if c.people else fmt["plain"]
                widths[col] = max(widths[col], put(ws, r, col, v, cell_fmt))
        fit_widths(ws, widths)
        ws.freeze_panes(2, 2)
        for_print(ws)
        ws.repeat_rows(0, 1)  # the heading row and the column headings on every page
        ws.autofilter(1, 0, max(len(t.rows), 1) + 1, len(headers) - 1)
        return ws, name

    summary, by_rule, *figures = tables(result, config, pnames)
    ws, name = table(summary)
    if len(summary.rows) > 1:  # the batch (first) and at least one provider
        first, last, who = 3, len(summary.rows) + 1, summary.index("provider_id")
        chart = wb.add_chart({"type": "column"})
        for key in ("approved", "claimed"):
            col = summary.index(key)
            chart.add_series({"name": L(key), "categories": [name, first, who, last, who],
                              "values": [name, first, col, last, col]})
        chart.set_title({"name": L("chart_approved")})
        chart.set_size({"width": 720, "height": 360})
        ws.insert_chart(len(summary.rows) + 4, 1, chart)

    ws, name = table(by_rule)
    codes = by_rule.columns[by_rule.index("provider") + 1:]
    if codes:
        first, last = by_rule.index(codes[0].key), by_rule.index(codes[-1].key)
        chart = wb.add_chart({"type": "column"})
        chart.add_series({"name": own("batch_all"), "categories": [name, 1, first, 1, last],
                          "values": [name, 2, first, 2, last]})
        chart.set_title({"name": L("chart_findings")})
        chart.set_legend({"none": True})
        chart.set_size({"width": 720, "height": 360})
        ws.insert_chart(len(by_rule.rows) + 4, 1, chart)

    for t in figures:
        table(t)
    definitions(wb, fmt, [summary, by_rule, *figures], rates(rates_applied(result, config)), words, own,
                f"{own('definitions')} · {own('batch_of')} {result.batch}", lang)
    wb.close()
    normalise_zip(out, batch_time(result.batch))
    return out


def definitions(wb, fmt: dict, shown: list[Table], applied: Table, words, own, title: str, lang: str) -> None:
    """The definitions sheet: what every column of every sheet counts, then the rates applied."""

    def text(key: str) -> str:
        return DEFINITIONS[key].get(lang) or DEFINITIONS[key]["fi"]

    ws = wb.add_worksheet(own("definitions"))
    ws.write_string(0, 0, title, fmt["title"])
    for col, h in enumerate((messages.label("sheet", lang), own("column"), own("meaning"))):
        ws.write_string(1, col, h, fmt["head"])
    # (column heading, definition) -> the sheets showing it: a column defined alike on several
    # sheets is one row, as it is one figure.
    where: dict[tuple[str, str], list[str]] = {}
    for t in [*shown, applied]:
        for c in t.columns:
            key, part = _kind(c.key)
            if key not in DEFINITIONS:
                continue
            band = part if key in ("age", "len") else words(c.heading[-1]) if key == "next" else ""
            code = {"code": part, "title": rules.get(part).heading(lang)} if key == "rule_code" else {}
            heading = "".join(words(p) for p in c.heading)
            where.setdefault((heading, text(key).format(band=band, **code)), []).append(words(t.name))
        if t.name.key == "benefit":  # a row of the sheet, not a column
            where[(own("participant_days"), text("participant_days"))] = [words(t.name)]
    every = len(shown)
    rows = [(own("all_sheets"), "<5", text("<5")), (own("all_sheets"), own("batch_all"), text("batch_all"))]
    rows += [(own("all_sheets") if len(sheets) == every else ", ".join(sheets), heading, meaning)
             for (heading, meaning), sheets in where.items()]
    for r, values in enumerate(rows, 2):
        for col, v in enumerate(values):
            ws.write_string(r, col, v, fmt["wrap"])
        # Rows tall enough for the wrapped text (spreadsheets do not grow them on opening).
        ws.set_row(r, 15 * max(-(-len(v) // width) for v, width in zip(values, (24, 36, 95))))

    # The rates: one row per billed month and rate, its value as a number (or date) in the third column.
    r = len(rows) + 3
    ws.write_string(r, 0, words(applied.name), fmt["title"])
    month, *items = applied.columns
    for col, h in enumerate((words(month.heading[0]), own("rate_item"), own("value"))):
        ws.write_string(r + 1, col, h, fmt["head"])
    r += 2
    for values in applied.rows:
        for c, v in zip(items, values[1:]):
            ws.write_string(r, 0, values[0])
            ws.write_string(r, 1, "".join(words(p) for p in c.heading))
            if isinstance(v, dt.date):
                ws.write_datetime(r, 2, dt.datetime(v.year, v.month, v.day), fmt["date_left"])
            else:
                ws.write_number(r, 2, v / 100 if c.euro else v, fmt["euro_left"] if c.euro else fmt["left"])
            r += 1
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 100)
    ws.freeze_panes(2, 0)
    for_print(ws)
    ws.repeat_rows(0, 1)
