"""The rule catalogue: every finding code, declared once (RULES.md, version 1).

Each rule has its severity and effect, the level it works at, and the
message and how-to-fix templates in Finnish, Swedish and English. Cell
comments, anomalies.xlsx, findings.csv and the README's rule table are all
rendered from here, and a test checks that every code here has an emitter
and every emitted code is here.

Templates use `str.format` fields from a finding's `params` plus the
finding's own `expected`, `found`, `date` and `decision_id`. A missing field
renders as an empty string, never as an error.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any, Mapping

SEVERITIES = ("error", "warning", "info")
EFFECTS = ("reject", "hold", "adjust", "none")
LANGUAGES = ("fi", "sv", "en")


@dataclass(frozen=True, slots=True)
class Text:
    message: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    level: str  # file, cell, row, day, amount, compliance, internal
    severity: str
    effect: str
    title: str  # English, for the README and logs
    texts: Mapping[str, Text] = field(default_factory=dict)

    def text(self, lang: str) -> Text:
        return self.texts.get(lang) or self.texts.get("fi") or Text(self.title)

    def heading(self, lang: str) -> str:
        """The rule's short title in a language, for report columns and charts."""
        return TITLES.get(self.code, {}).get(lang) or self.title


def _r(code, level, severity, effect, title, **texts: tuple[str, str]) -> Rule:
    return Rule(code, level, severity, effect, title, {k: Text(*v) for k, v in texts.items()})


CATALOGUE: dict[str, Rule] = {
    r.code: r
    for r in [
        # 1. File level: the invoice cannot be processed as a whole.
        _r("F001", "file", "error", "reject", "Not a readable .xlsx workbook",
            fi=('Tiedostoa {source_file} ei voi lukea Excel-työkirjana (.xlsx)[: {found}][ ({detail})].',
                'Tallenna lasku Excelissä muodossa Excel-työkirja (.xlsx) ilman salasanaa ja lähetä se uudelleen.'),
            sv=('Filen {source_file} kan inte läsas som en Excel-arbetsbok (.xlsx)[: {found}][ ({detail})].',
                'Spara fakturan i Excel som Excel-arbetsbok (.xlsx) utan lösenord och skicka den på nytt.'),
            en=('The file {source_file} cannot be read as an Excel workbook (.xlsx)[: {found}][ ({detail})].',
                'Save the invoice in Excel as an Excel Workbook (.xlsx) without a password and send it again.'),
        ),
        _r("F002", "file", "error", "reject", "Unsafe or too big to open",
            fi=('Tiedostoa {source_file} ei avattu, koska se on liian suuri tai ei turvallinen[: {found}][; raja {expected}][ ({detail})].',
                'Poista makrot ja ylimääräiset rivit ja tallenna lasku tavallisena Excel-työkirjana (.xlsx); lähetä se uudelleen.'),
            sv=('Filen {source_file} öppnades inte eftersom den är för stor eller osäker[: {found}][; gränsen är {expected}][ ({detail})].',
                'Ta bort makron och överflödiga rader, spara fakturan som en vanlig Excel-arbetsbok (.xlsx) och skicka den på nytt.'),
            en=('The file {source_file} was not opened because it is too big or unsafe[: {found}][; the limit is {expected}][ ({detail})].',
                'Remove macros and surplus rows, save the invoice as a plain Excel Workbook (.xlsx) and send it again.'),
        ),
        _r("F003", "file", "error", "reject", "A required sheet is missing",
            fi=('Työkirjasta puuttuu pakollinen välilehti[ {expected}][. Löytyneet välilehdet: {found}].',
                'Käytä kaupungin laskupohjaa tai anna välilehdelle oikea nimi[ ({expected})] ja lähetä lasku uudelleen.'),
            sv=('Arbetsboken saknar ett obligatoriskt blad[: {expected}][. Blad som hittades: {found}].',
                'Använd stadens fakturamall eller ge bladet rätt namn[ ({expected})] och skicka fakturan på nytt.'),
            en=('The workbook lacks a required sheet[: {expected}][. Sheets found: {found}].',
                "Use the city's invoice template or give the sheet its right name[ ({expected})], and send the invoice again."),
        ),
        _r("F004", "file", "error", "reject", "A required column is missing",
            fi=('Välilehdeltä[ {sheet}] puuttuu pakollinen sarake[ {expected}][; lähin löytynyt otsikko on ”{found}”].',
                'Lisää puuttuva sarake[ otsikolla {expected}] tai korjaa otsikon kirjoitusasu ja lähetä lasku uudelleen.'),
            sv=('Bladet[ {sheet}] saknar en obligatorisk kolumn[: {expected}][; närmaste rubrik som hittades är ”{found}”].',
                'Lägg till den saknade kolumnen[ med rubriken {expected}] eller rätta rubrikens stavning och skicka fakturan på nytt.'),
            en=('The sheet[ {sheet}] lacks a required column[: {expected}][; the closest header found is “{found}”].',
                "Add the missing column[ headed {expected}] or correct the header's spelling, and send the invoice again."),
        ),
        _r("F005", "file", "error", "reject", "Invoice header lacks Y-tunnus, invoice number or billing month",
            fi=('Lasku-välilehdeltä puuttuu pakollinen tieto tai se on virheellinen[: {expected}][ (löytyi: ”{found}”)].',
                'Täytä Lasku-välilehdelle Y-tunnus (muotoa 1234567-8), laskun numero ja laskutuskausi (esim. 2026-11) ja lähetä lasku uudelleen.'),
            sv=('På bladet Faktura saknas en obligatorisk uppgift eller är felaktig[: {expected}][ (hittades: ”{found}”)].',
                'Fyll i FO-nummer (formen 1234567-8), fakturanummer och faktureringsperiod (t.ex. 2026-11) på bladet Faktura och skicka fakturan på nytt.'),
            en=('The Invoice sheet lacks or garbles a required value[: {expected}][ (found: “{found}”)].',
                'Fill in the business id (like 1234567-8), the invoice number and the billing month (e.g. 2026-11) on the Invoice sheet and send the invoice again.'),
        ),
        _r("F006", "file", "error", "reject", "Provider unknown or not approved for the billed month",
            fi=('Palveluntuottaja[ {found}] ei ole kaupungin palveluntuottajarekisterissä tai sitä ei ole hyväksytty laskutetulle kuukaudelle[ ({expected})].',
                'Tarkista Lasku-välilehden Y-tunnus. Jos se on oikein, ota yhteyttä kaupungin palvelusetelitoimistoon.'),
            sv=('Serviceproducenten[ {found}] finns inte i stadens register eller är inte godkänd för den fakturerade månaden[ ({expected})].',
                'Kontrollera FO-numret på bladet Faktura. Om det är rätt, kontakta stadens servicesedelbyrå.'),
            en=("The provider[ {found}] is not in the city's register or is not approved for the billed month[ ({expected})].",
                "Check the business id on the Invoice sheet. If it is correct, please contact the city's voucher office."),
        ),
        _r("F007", "file", "error", "reject", "Duplicate invoice",
            fi=('Laskun numero[ {found}] on jo käsitelty aiemmin, tai tässä erässä on useampi tiedosto samalla palveluntuottajalla ja laskun numerolla[ ({expected})].',
                'Älä lähetä samaa laskua uudelleen. Korjattu tai uusi lasku tarvitsee uuden laskunumeron.'),
            sv=('Fakturanumret[ {found}] har redan behandlats, eller så finns det flera filer i denna omgång med samma serviceproducent och fakturanummer[ ({expected})].',
                'Skicka inte samma faktura igen. En rättad eller ny faktura behöver ett nytt fakturanummer.'),
            en=('The invoice number[ {found}] has already been processed, or this batch holds several files with the same provider and invoice number[ ({expected})].',
                'Please do not send the same invoice again. A corrected or new invoice needs a new invoice number.'),
        ),
        _r("F008", "file", "error", "reject", "Billed month is after the batch month",
            fi=('Laskutuskausi[ {found}] on erän kuukauden[ {expected}] jälkeen; tulevaa kuukautta ei voi vielä laskuttaa.',
                'Lähetä lasku vasta laskutetun kuukauden päätyttyä.'),
            sv=('Faktureringsperioden[ {found}] ligger efter omgångens månad[ {expected}]; en kommande månad kan inte faktureras ännu.',
                'Skicka fakturan först när den fakturerade månaden har tagit slut.'),
            en=('The billing month[ {found}] is after the batch month[ {expected}]; a month still to come cannot be billed yet.',
                'Please send the invoice once the billed month has ended.'),
        ),
        # 2. Cell level.
        _r("V101", "cell", "error", "reject", "Value cannot be read as its type",
            fi=('Solun[ {cell}][ ({column})] arvoa[ ”{found}”] ei voi lukea[. Odotettu: {what_fi}][ (esim. {expected})].',
                'Kirjoita pelkkä luku (esim. 2,5), kokonaisluku tai päivämäärä (esim. 3.11.2026) ilman muuta tekstiä.'),
            sv=('Värdet[ ”{found}”] i cellen[ {cell}][ ({column})] kan inte läsas[. Förväntat: {what_sv}][ (t.ex. {expected})].',
                'Skriv bara ett tal (t.ex. 2,5), ett heltal eller ett datum (t.ex. 3.11.2026) utan annan text.'),
            en=('The value[ “{found}”] in cell[ {cell}][ ({column})] cannot be read[. Expected: {what_en}][ (e.g. {expected})].',
                'Type just a number (e.g. 2.5), a whole number or a date (e.g. 3.11.2026) with no other text.'),
        ),
        _r("V102", "cell", "error", "reject", "Required value is empty",
            fi=('Pakollinen tieto puuttuu solusta[ {cell}][ ({column})].',
                'Täytä tieto. Jos riviä ei laskuteta, poista koko rivi.'),
            sv=('En obligatorisk uppgift saknas i cellen[ {cell}][ ({column})].',
                'Fyll i uppgiften. Om raden inte ska faktureras, ta bort hela raden.'),
            en=('A required value is missing in cell[ {cell}][ ({column})].',
                'Fill in the value. If the row is not billed, delete the whole row.'),
        ),
        _r("V103", "cell", "error", "reject", "Value out of range",
            fi=('Solun[ {cell}][ ({column})] arvo[ {found}] on sallitun alueen ulkopuolella[; sallittu: {expected}].',
                'Korjaa arvo: eurot eivät voi olla negatiivisia, läsnäolopäiviä on enintään 23 ja tunteja päivässä enintään 24.'),
            sv=('Värdet[ {found}] i cellen[ {cell}][ ({column})] ligger utanför det tillåtna intervallet[; tillåtet: {expected}].',
                'Rätta värdet: euro kan inte vara negativa, närvarodagar är högst 23 och timmar per dag högst 24.'),
            en=('The value[ {found}] in cell[ {cell}][ ({column})] is out of range[; allowed: {expected}].',
                'Correct the value: euros cannot be negative, attendance days are at most 23 and hours a day at most 24.'),
        ),
        _r("V104", "cell", "error", "reject", "Invalid henkilötunnus",
            fi=('Solun[ {cell}] henkilötunnus[ {found}] on virheellinen: muoto tai tarkistusmerkki ei täsmää.',
                'Tarkista henkilötunnus asiakkaan päätöksestä ja kirjoita se muodossa PPKKVV-NNNT.'),
            sv=('Personbeteckningen[ {found}] i cellen[ {cell}] är ogiltig: formen eller kontrolltecknet stämmer inte.',
                'Kontrollera personbeteckningen i klientens beslut och skriv den i formen DDMMÅÅ-NNNK.'),
            en=('The personal identity code[ {found}] in cell[ {cell}] is invalid: its format or check character is wrong.',
                "Check the code against the client's decision and write it as DDMMYY-NNNC."),
        ),
        _r("V105", "cell", "error", "reject", "Unknown code in a day cell",
            fi=('Päivän[ {date}] solussa[ {cell}] on merkintä[ ”{found}”], joka ei ole sallittu koodi; päivää ei makseta.',
                'Käytä vain merkintöjä X (läsnä), tuntimäärä (esim. 4,5), S (sairas), P (poissa ilmoittamatta) ja L (loma), tai jätä solu tyhjäksi.'),
            sv=('Cellen[ {cell}] för dagen[ {date}] innehåller[ ”{found}”], som inte är en tillåten kod; dagen betalas inte.',
                'Använd bara X (närvarande), ett antal timmar (t.ex. 4,5), S (sjuk), P (frånvarande utan anmälan) och L (ledig), eller lämna cellen tom.'),
            en=('The cell[ {cell}] for[ {date}] holds[ “{found}”], which is not an allowed code; the day is not paid.',
                'Use only X (present), a number of hours (e.g. 4.5), S (sick), P (absent without notice) and L (on leave), or leave the cell empty.'),
        ),
        _r("V106", "cell", "error", "reject", "Decision appears twice",
            fi=('Päätös[ {decision_id}] on välilehdellä[ {sheet}] useammin kuin kerran; myöhemmät rivit hylätään.',
                'Yhdistä päätöksen tiedot yhdelle riville.'),
            sv=('Beslutet[ {decision_id}] förekommer flera gånger på bladet[ {sheet}]; de senare raderna avvisas.',
                'Samla beslutets uppgifter på en rad.'),
            en=('The decision[ {decision_id}] appears more than once on the sheet[ {sheet}]; the later rows are rejected.',
                "Put the decision's figures on one row."),
        ),
        _r("V107", "cell", "error", "reject", "Cell holds an error value",
            fi=('Solussa[ {cell}][ ({column})] on virhearvo[ {found}], jota ei voi käyttää[. Odotettu: {what_fi}][ (esim. {expected})].',
                'Korjaa kaava, joka tuottaa virheen, tai kirjoita arvo suoraan soluun.'),
            sv=('Cellen[ {cell}][ ({column})] innehåller felvärdet[ {found}], som inte kan användas[. Förväntat: {what_sv}][ (t.ex. {expected})].',
                'Rätta formeln som ger felet, eller skriv värdet direkt i cellen.'),
            en=('The cell[ {cell}][ ({column})] holds the error value[ {found}], which cannot be used[. Expected: {what_en}][ (e.g. {expected})].',
                'Correct the formula that gives the error, or type the value into the cell.'),
        ),
        # 3. Reconciliation: rows.
        _r("R201", "row", "error", "reject", "Decision number not in the register",
            fi=('Päätösnumeroa[ {decision_id}] ei löydy kaupungin päätösrekisteristä; riviä ei makseta[ ({amount})].',
                'Tarkista päätösnumero asiakkaan päätöksestä.'),
            sv=('Beslutsnumret[ {decision_id}] finns inte i stadens beslutsregister; raden betalas inte[ ({amount})].',
                'Kontrollera beslutsnumret i klientens beslut.'),
            en=("The decision number[ {decision_id}] is not in the city's register of decisions; the row is not paid[ ({amount})].",
                "Check the decision number against the client's decision."),
        ),
        _r("R202", "row", "error", "reject", "Henkilötunnus is not the decision's",
            fi=('Rivin henkilötunnus ei ole päätöksen[ {decision_id}] asiakkaan; riviä ei makseta[ ({amount})].',
                'Tarkista, että päätösnumero ja henkilötunnus ovat saman asiakkaan.'),
            sv=('Radens personbeteckning hör inte till klienten i beslutet[ {decision_id}]; raden betalas inte[ ({amount})].',
                'Kontrollera att beslutsnumret och personbeteckningen gäller samma klient.'),
            en=("The row's personal identity code is not that of the client of decision[ {decision_id}]; the row is not paid[ ({amount})].",
                'Check that the decision number and the personal identity code belong to the same client.'),
        ),
        _r("R203", "row", "error", "reject", "Decision belongs to another provider",
            fi=('Päätös[ {decision_id}] on myönnetty toiselle palveluntuottajalle; riviä ei makseta tällä laskulla[ ({amount})].',
                'Poista rivi. Jos asiakas on siirtynyt teille, pyydä kaupungilta uusi päätös.'),
            sv=('Beslutet[ {decision_id}] gäller en annan serviceproducent; raden betalas inte på denna faktura[ ({amount})].',
                'Ta bort raden. Om klienten har flyttat till er, be staden om ett nytt beslut.'),
            en=('The decision[ {decision_id}] was granted to another provider; the row is not paid on this invoice[ ({amount})].',
                'Remove the row. If the client has moved to you, ask the city for a new decision.'),
        ),
        _r("R218", "row", "error", "hold", "Benefit not eligible for the service",
            fi=('Päätöksen[ {decision_id}] asiakkaan etuus[ ({found})] ei oikeuta kuntouttavaan työtoimintaan; rivi pidätetään kaupungin päätettäväksi[ ({amount})].',
                'Teiltä ei tarvita toimenpiteitä; kaupunki selvittää asian.'),
            sv=('Förmånen[ ({found})] för klienten i beslutet[ {decision_id}] ger inte rätt till arbetsverksamhet i rehabiliteringssyfte; raden innehålls tills staden avgör saken[ ({amount})].',
                'Ni behöver inte göra något; staden utreder saken.'),
            en=('The benefit[ ({found})] of the client of decision[ {decision_id}] does not qualify for the service; the row is held for the city to decide[ ({amount})].',
                'Nothing is needed from you; the city will look into it.'),
        ),
        _r("R223", "row", "error", "reject", "Client row and attendance row do not match",
            fi=('Päätös[ {decision_id}] on vain toisella välilehdellä Asiakkaat ja Läsnäolo[ (löytyi: {found})]; molemmilla pitää olla sama päätös.',
                'Lisää puuttuva rivi toiselle välilehdelle tai poista ylimääräinen rivi.'),
            sv=('Beslutet[ {decision_id}] finns bara på ett av bladen Klienter och Närvaro[ (hittades: {found})]; båda ska ha samma beslut.',
                'Lägg till den saknade raden på det andra bladet eller ta bort den överflödiga raden.'),
            en=('The decision[ {decision_id}] is on only one of the sheets Clients and Attendance[ (found: {found})]; both must list the same decisions.',
                'Add the missing row to the other sheet or remove the surplus row.'),
        ),
        # Days, in the order they are checked.
        _r("R222", "day", "error", "reject", "Not a day of the billed month",
            fi=('Sarake[ {found}] ei ole laskutetun kuukauden päivä[ (kuukaudessa on {expected} päivää)]; merkintää ei makseta.',
                'Poista merkintä tai siirrä se oikean päivän sarakkeeseen.'),
            sv=('Kolumnen[ {found}] är inte en dag i den fakturerade månaden[ (månaden har {expected} dagar)]; markeringen betalas inte.',
                'Ta bort markeringen eller flytta den till rätt dags kolumn.'),
            en=('The column[ {found}] is not a day of the billed month[ (the month has {expected} days)]; the mark is not paid.',
                "Remove the mark or move it to the right day's column."),
        ),
        _r("R204", "day", "error", "reject", "Day outside the decision's period",
            fi=('Päivä[ {date}] on päätöksen[ {decision_id}] voimassaolon ulkopuolella[ ({expected})]; päivää ei makseta.',
                'Merkitse vain päätöksen voimassaoloaikaiset päivät.'),
            sv=('Dagen[ {date}] ligger utanför beslutets[ {decision_id}] giltighetstid[ ({expected})]; dagen betalas inte.',
                'Markera bara dagar inom beslutets giltighetstid.'),
            en=('The day[ {date}] is outside the period of decision[ {decision_id}][ ({expected})]; the day is not paid.',
                "Mark only days inside the decision's period."),
        ),
        _r("R206", "day", "error", "reject", "Fewer than 4 hours",
            fi=('Päivälle[ {date}] on merkitty alle 4 tuntia[ ({found})]; maksettavassa päivässä on vähintään 4 tuntia.',
                'Tarkista tuntimäärä. Alle 4 tunnin päivää ei laskuteta.'),
            sv=('För dagen[ {date}] har färre än 4 timmar markerats[ ({found})]; en dag som betalas har minst 4 timmar.',
                'Kontrollera antalet timmar. En dag under 4 timmar faktureras inte.'),
            en=('Fewer than 4 hours are marked for[ {date}][ ({found})]; a paid day has at least 4 hours.',
                'Check the hours. A day under 4 hours is not billed.'),
        ),
        _r("R217", "day", "error", "reject", "Day already paid on another invoice",
            fi=('Asiakkaan päivä[ {date}] on jo maksettu toisella laskulla; samaa päivää ei makseta kahdesti.',
                'Poista päivä laskulta, jos se on jo laskutettu aiemmin.'),
            sv=('Klientens dag[ {date}] har redan betalats på en annan faktura; samma dag betalas inte två gånger.',
                'Ta bort dagen från fakturan om den redan har fakturerats.'),
            en=("The client's day[ {date}] has already been paid on another invoice; a day is never paid twice.",
                'Remove the day from the invoice if it was billed before.'),
        ),
        _r("R216", "day", "error", "hold", "Same client and date on another invoice of this batch",
            fi=('Sama asiakas on merkitty läsnä olevaksi päivänä[ {date}] myös toisella tämän kuun laskulla (toinen palveluntuottaja tai toinen päätös) tai aiemmassa erässä pidätettynä; päivä pidätetään, kunnes asia on selvitetty.',
                'Tarkista asiakkaan läsnäolo tältä päivältä. Kaupunki päättää pidätetystä päivästä.'),
            sv=('Samma klient är markerad närvarande[ {date}] också på en annan faktura i denna omgång (en annan serviceproducent eller ett annat beslut) eller innehållen i en tidigare omgång; dagen innehålls tills saken är utredd.',
                'Kontrollera klientens närvaro den dagen. Staden avgör om den innehållna dagen.'),
            en=('The same client is marked present on[ {date}] on another invoice of this batch too (another provider or another decision), or held in an earlier batch; the day is held until this is resolved.',
                "Check the client's attendance on that day. The city decides on the held day."),
        ),
        _r("R205", "day", "error", "reject", "More days than decided in a calendar week",
            fi=('Päätös[ {decision_id}] sallii[ {expected}] päivää viikossa; viikolla, johon päivä[ {date}] kuuluu, on merkitty enemmän[ ({found})]. Ylimenevä päivä hylätään.',
                'Merkitse kalenteriviikolle (ma–su) enintään päätöksen mukainen määrä päiviä.'),
            sv=('Beslutet[ {decision_id}] tillåter[ {expected}] dagar per vecka; veckan med dagen[ {date}] har fler[ ({found})]. Den överskjutande dagen avvisas.',
                'Markera högst beslutets antal dagar per kalendervecka (mån–sön).'),
            en=('The decision[ {decision_id}] allows[ {expected}] days a week; the week of[ {date}] has more[ ({found})]. The extra day is rejected.',
                "Mark at most the decision's number of days in a calendar week (Monday–Sunday)."),
        ),
        _r("R207", "day", "warning", "none", "Attendance on a Sunday or public holiday",
            fi=('Päivä[ {date}] on sunnuntai tai arkipyhä.',
                'Tarkista, että asiakas todella osallistui toimintaan tänä päivänä.'),
            sv=('Dagen[ {date}] är en söndag eller en helgdag.',
                'Kontrollera att klienten verkligen deltog den dagen.'),
            en=('The day[ {date}] is a Sunday or a public holiday.',
                'Please check that the client really took part that day.'),
        ),
        _r("R226", "day", "warning", "none", "More than 8 hours in a day",
            fi=('Päivälle[ {date}] on merkitty yli 8 tuntia[ ({found})].',
                'Tarkista tuntimäärä.'),
            sv=('För dagen[ {date}] har mer än 8 timmar markerats[ ({found})].',
                'Kontrollera antalet timmar.'),
            en=('More than 8 hours are marked for[ {date}][ ({found})].',
                'Please check the hours.'),
        ),
        # Amounts.
        _r("R208", "amount", "error", "adjust", "Attendance days differ from the calendar",
            fi=('Läsnäolopäiviä on laskutettu[ {found}], mutta Läsnäolo-välilehdellä on[ {expected}] läsnäolopäivää; vain merkityt päivät maksetaan[ (vähennys {amount})].',
                'Merkitse jokainen laskutettu päivä Läsnäolo-välilehdelle tai korjaa läsnäolopäivien määrä.'),
            sv=('Närvarodagar har fakturerats[ {found}], men bladet Närvaro har[ {expected}] närvarodagar; bara markerade dagar betalas[ (avdrag {amount})].',
                'Markera varje fakturerad dag på bladet Närvaro eller rätta antalet närvarodagar.'),
            en=('The row bills[ {found}] attendance days, but the Attendance sheet shows[ {expected}]; only marked days are paid[ (less {amount})].',
                'Mark every billed day on the Attendance sheet or correct the number of attendance days.'),
        ),
        _r("R209", "amount", "error", "adjust", "Day value differs from the decision",
            fi=('Setelin arvo on[ {found}], mutta päätöksen[ {decision_id}] arvo on[ {expected}]; maksu lasketaan päätöksen arvolla[ (vähennys {amount})].',
                'Käytä päätöksen mukaista setelin arvoa.'),
            sv=('Sedelns värde är[ {found}], men beslutets[ {decision_id}] värde är[ {expected}]; betalningen räknas med beslutets värde[ (avdrag {amount})].',
                'Använd sedelns värde enligt beslutet.'),
            en=("The day value is[ {found}], but decision[ {decision_id}] sets[ {expected}]; payment uses the decision's value[ (less {amount})].",
                'Use the day value of the decision.'),
        ),
        _r("R210", "amount", "error", "adjust", "Service fee differs from days × day value",
            fi=('Palvelumaksu on[ {found}], mutta läsnäolopäivät × setelin arvo on[ {expected}][ (vähennys {amount})].',
                'Laske palvelumaksu: läsnäolopäivät kertaa setelin arvo.'),
            sv=('Serviceavgiften är[ {found}], men närvarodagar × sedelns värde är[ {expected}][ (avdrag {amount})].',
                'Räkna serviceavgiften som närvarodagar gånger sedelns värde.'),
            en=('The service fee is[ {found}], but attendance days × day value is[ {expected}][ (less {amount})].',
                'Compute the service fee as attendance days times the day value.'),
        ),
        _r("R211", "amount", "error", "reject", "Meals or meal compensation not in the decision",
            fi=('Päätös[ {decision_id}] ei salli laskutettua erää[ ”{found}”][ (päätöksen ateria: {expected})]; erää ei makseta[ ({amount})].',
                'Laskuta aterioita vain, kun päätöksen ateria on ”tuottaja”, ja ateriakorvausta vain, kun se on ”korvaus”.'),
            sv=('Beslutet[ {decision_id}] tillåter inte den fakturerade posten[ ”{found}”][ (beslutets måltid: {expected})]; posten betalas inte[ ({amount})].',
                'Fakturera måltider bara när beslutet säger att producenten ordnar måltiderna, och måltidsersättning bara när beslutet ger måltidsersättning.'),
            en=("The decision[ {decision_id}] does not allow the billed item[ “{found}”][ (the decision's meal: {expected})]; the item is not paid[ ({amount})].",
                "Bill meals only when the decision says the provider serves the meals, and meal compensation only when the decision grants meal compensation."),
        ),
        _r("R212", "amount", "error", "reject", "More meals than days paid or held",
            fi=('Aterioita tai ateriakorvauspäiviä on[ {found}], enemmän kuin maksettuja tai pidätettyjä päiviä[ ({expected})]; ylimenevä osa hylätään[ ({amount})].',
                'Laskuta enintään yksi ateria tai ateriakorvaus läsnäolopäivää kohden.'),
            sv=('Måltider eller måltidsersättningsdagar är[ {found}], fler än betalda eller innehållna dagar[ ({expected})]; överskottet avvisas[ ({amount})].',
                'Fakturera högst en måltid eller måltidsersättning per närvarodag.'),
            en=('Meals or meal compensation days number[ {found}], more than the days paid or held[ ({expected})]; the excess is rejected[ ({amount})].',
                'Bill at most one meal or meal compensation per attended day.'),
        ),
        _r("R213", "amount", "error", "reject", "Travel above the decision's daily amount",
            fi=('Matkakorvausta on laskutettu[ {found}], enintään[ {expected}] (päivät × päätöksen matkakorvaus päivässä); ylimenevä osa hylätään[ ({amount})].',
                'Laskuta matkat edullisimman kulkutavan mukaan, enintään päätöksen päiväkohtainen summa läsnäolopäivää kohden.'),
            sv=('Reseersättning har fakturerats[ {found}], högst[ {expected}] (dagar × beslutets reseersättning per dag); överskottet avvisas[ ({amount})].',
                'Fakturera resor enligt det billigaste färdsättet, högst beslutets belopp per närvarodag.'),
            en=("Travel billed is[ {found}], at most[ {expected}] (days × the decision's travel per day); the excess is rejected[ ({amount})].",
                "Bill travel at the cheapest mode of travel, at most the decision's daily amount per attended day."),
        ),
        _r("R220", "amount", "warning", "none", "Invoice total differs from its rows",
            fi=('Lasku-välilehden Yhteensä on[ {found}], mutta rivien summa on[ {expected}]. Maksu lasketaan riveistä.',
                'Korjaa laskun loppusumma vastaamaan rivejä.'),
            sv=('Totalt på bladet Faktura är[ {found}], men radernas summa är[ {expected}]. Betalningen räknas från raderna.',
                'Rätta fakturans slutsumma så att den stämmer med raderna.'),
            en=("The Invoice sheet's total is[ {found}], but the rows add up to[ {expected}]. Payment is computed from the rows.",
                'Correct the invoice total to match the rows.'),
        ),
        _r("R221", "amount", "warning", "none", "Row total differs from its items",
            fi=('Rivin Yhteensä on[ {found}], mutta sen erien summa on[ {expected}].',
                'Korjaa rivin summa: palvelumaksu + ateriat + ateriakorvaus + matkakorvaus.'),
            sv=('Radens Totalt är[ {found}], men summan av dess poster är[ {expected}].',
                'Rätta radens summa: serviceavgift + måltider + måltidsersättning + reseersättning.'),
            en=("The row's total is[ {found}], but its items add up to[ {expected}].",
                "Correct the row's total: service fee + meals + meal compensation + travel."),
        ),
        # Compliance.
        _r("R214", "compliance", "warning", "none", "Individual guidance below the monthly minimum",
            fi=('Päätöksen[ {decision_id}] yksilöohjauksen tunnit[ ({found})] jäävät alle kuukauden vähimmäismäärän[ ({expected})].',
                'Järjestä asiakkaalle päätöksen mukainen yksilöohjaus ja kirjaa tunnit.'),
            sv=('Timmarna individuell handledning[ ({found})] för beslutet[ {decision_id}] understiger månadens minimum[ ({expected})].',
                'Ordna individuell handledning enligt beslutet och för in timmarna.'),
            en=('Individual guidance hours[ ({found})] for decision[ {decision_id}] are below the monthly minimum[ ({expected})].',
                'Arrange the individual guidance the decision requires and record the hours.'),
        ),
        _r("R215", "compliance", "warning", "none", "Guidance log differs from the row's hours",
            fi=('Ohjaus-välilehden tunnit[ ({found})] eivät täsmää Asiakkaat-rivin ohjaustunteihin[ ({expected})].',
                'Korjaa ohjausloki tai rivin tunnit niin, että ne täsmäävät.'),
            sv=('Timmarna på bladet Handledning[ ({found})] stämmer inte med radens handledningstimmar på bladet Klienter[ ({expected})].',
                'Rätta handledningsloggen eller radens timmar så att de stämmer.'),
            en=("The hours on the Guidance sheet[ ({found})] differ from the row's guidance hours on the Clients sheet[ ({expected})].",
                "Correct the guidance log or the row's hours so that they agree."),
        ),
        _r("R219", "compliance", "warning", "none", "Kykyviisari or VAT assessment missing",
            fi=('Päätökseltä[ {decision_id}] puuttuu Kykyviisari- tai VAT-arviointi[ ({expected})].',
                'Tee arviointi ja ilmoita sen päivämäärä sarakkeessa Kykyviisari pvm tai VAT pvm.'),
            sv=('För beslutet[ {decision_id}] saknas en Kykyviisari- eller VAT-bedömning[ ({expected})].',
                'Gör bedömningen och ange dess datum i kolumnen Kykyviisari datum eller VAT datum.'),
            en=('Decision[ {decision_id}] has no Kykyviisari or VAT assessment on record[ ({expected})].',
                'Carry out the assessment and report its date in the column Kykyviisari date or VAT date.'),
        ),
        _r("R224", "compliance", "warning", "none", "Decision period shorter than 3 or longer than 24 months",
            fi=('Päätöksen[ {decision_id}] jakson pituus on[ {found}]; lain mukaan jakso on 3–24 kuukautta.',
                'Tarkista päätöksen alku- ja loppupäivä päätösrekisterissä.'),
            sv=('Perioden för beslutet[ {decision_id}] är[ {found}] lång; enligt lagen är en period 3–24 månader.',
                'Kontrollera beslutets start- och slutdatum i beslutsregistret.'),
            en=('The period of decision[ {decision_id}] is[ {found}] long; the law allows 3 to 24 months.',
                "Check the decision's start and end dates in the register of decisions."),
        ),
        _r("R225", "compliance", "warning", "none", "Late invoice: billed month more than 3 months before the batch",
            fi=('Lasku koskee kuukautta[ {found}], yli 3 kuukautta ennen erää[ {expected}] (myöhästynyt lasku).',
                'Lähetä laskut kolmen kuukauden kuluessa laskutetusta kuukaudesta.'),
            sv=('Fakturan gäller månaden[ {found}], mer än 3 månader före omgången[ {expected}] (sen faktura).',
                'Skicka fakturor inom tre månader från den fakturerade månaden.'),
            en=('The invoice bills[ {found}], more than 3 months before the batch[ {expected}] (late invoice).',
                'Please send invoices within three months of the billed month.'),
        ),
        # Not in RULES.md: a bug in one check holds the invoice instead of killing the batch.
        _r("X900", "internal", "error", "hold", "Internal error while checking this invoice",
            fi=('Laskun tarkastuksessa tapahtui sisäinen virhe[ ({found})]; lasku pidätetään, kunnes asia on selvitetty.',
                'Teiltä ei tarvita toimenpiteitä; kaupunki selvittää asian ja ottaa tarvittaessa yhteyttä.'),
            sv=('Ett internt fel inträffade när fakturan granskades[ ({found})]; fakturan innehålls tills saken är utredd.',
                'Ni behöver inte göra något; staden utreder saken och kontaktar er vid behov.'),
            en=('An internal error occurred while checking this invoice[ ({found})]; the invoice is held until this is resolved.',
                'Nothing is needed from you; the city will look into it and contact you if needed.'),
        ),
    ]
}

# Short titles in Finnish and Swedish (the English one is `Rule.title`).
TITLES: dict[str, dict[str, str]] = {
    "F001": {"fi": 'Tiedosto ei ole luettava .xlsx-työkirja', "sv": 'Filen är inte en läsbar .xlsx-arbetsbok'},
    "F002": {"fi": 'Tiedosto on vaarallinen tai liian suuri avattavaksi', "sv": 'Filen är osäker eller för stor att öppna'},
    "F003": {"fi": 'Pakollinen välilehti puuttuu', "sv": 'Ett obligatoriskt blad saknas'},
    "F004": {"fi": 'Pakollinen sarake puuttuu', "sv": 'En obligatorisk kolumn saknas'},
    "F005": {"fi": 'Laskulta puuttuu Y-tunnus, laskun numero tai laskutuskausi', "sv": 'Fakturan saknar FO-nummer, fakturanummer eller faktureringsperiod'},
    "F006": {"fi": 'Palveluntuottaja tuntematon tai ei hyväksytty laskutuskaudelle', "sv": 'Serviceproducenten är okänd eller inte godkänd för perioden'},
    "F007": {"fi": 'Lasku on jo käsitelty (kaksoislasku)', "sv": 'Fakturan är redan behandlad (dubblett)'},
    "F008": {"fi": 'Laskutuskausi on erän kuukauden jälkeen', "sv": 'Faktureringsperioden är efter omgångens månad'},
    "V101": {"fi": 'Arvoa ei voi lukea', "sv": 'Värdet kan inte läsas'},
    "V102": {"fi": 'Pakollinen arvo puuttuu', "sv": 'Ett obligatoriskt värde saknas'},
    "V103": {"fi": 'Arvo sallitun rajan ulkopuolella', "sv": 'Värdet utanför tillåtet intervall'},
    "V104": {"fi": 'Virheellinen henkilötunnus', "sv": 'Ogiltig personbeteckning'},
    "V105": {"fi": 'Tuntematon merkintä päiväsolussa', "sv": 'Okänd anteckning i en dagcell'},
    "V106": {"fi": 'Päätös esiintyy kahdesti', "sv": 'Beslutet förekommer två gånger'},
    "V107": {"fi": 'Solussa on virhearvo', "sv": 'Cellen innehåller ett felvärde'},
    "R201": {"fi": 'Päätösnumeroa ei ole rekisterissä', "sv": 'Beslutsnumret finns inte i registret'},
    "R202": {"fi": 'Henkilötunnus ei ole päätöksen', "sv": 'Personbeteckningen hör inte till beslutet'},
    "R203": {"fi": 'Päätös kuuluu toiselle palveluntuottajalle', "sv": 'Beslutet hör till en annan serviceproducent'},
    "R218": {"fi": 'Etuus ei oikeuta palveluun', "sv": 'Förmånen ger inte rätt till tjänsten'},
    "R223": {"fi": 'Asiakasrivi ja läsnäolorivi eivät vastaa toisiaan', "sv": 'Klientraden och närvaroraden motsvarar inte varandra'},
    "R222": {"fi": 'Ei laskutuskauden päivä', "sv": 'Inte en dag i faktureringsperioden'},
    "R204": {"fi": 'Päivä päätöksen voimassaolon ulkopuolella', "sv": 'Dagen utanför beslutets period'},
    "R206": {"fi": 'Alle 4 tuntia', "sv": 'Under 4 timmar'},
    "R217": {"fi": 'Päivä on jo maksettu toisella laskulla', "sv": 'Dagen är redan betald på en annan faktura'},
    "R216": {"fi": 'Sama asiakas ja päivä toisella tämän erän laskulla', "sv": 'Samma klient och dag på en annan faktura i omgången'},
    "R205": {"fi": 'Enemmän päiviä kalenteriviikossa kuin päätetty', "sv": 'Fler dagar per kalendervecka än beslutat'},
    "R207": {"fi": 'Läsnäolo sunnuntaina tai arkipyhänä', "sv": 'Närvaro på en söndag eller helgdag'},
    "R226": {"fi": 'Yli 8 tuntia päivässä', "sv": 'Över 8 timmar per dag'},
    "R208": {"fi": 'Läsnäolopäivät poikkeavat kalenterista', "sv": 'Närvarodagarna avviker från kalendern'},
    "R209": {"fi": 'Setelin arvo poikkeaa päätöksestä', "sv": 'Sedelns värde avviker från beslutet'},
    "R210": {"fi": 'Palvelumaksu poikkeaa päivät × päivän arvo', "sv": 'Serviceavgiften avviker från dagar × dagsvärde'},
    "R211": {"fi": 'Ateriat tai ateriakorvaus eivät kuulu päätökseen', "sv": 'Måltider eller måltidsersättning ingår inte i beslutet'},
    "R212": {"fi": 'Aterioita enemmän kuin maksettuja päiviä', "sv": 'Fler måltider än betalda dagar'},
    "R213": {"fi": 'Matkakorvaus yli päätöksen päiväkohtaisen määrän', "sv": 'Reseersättning över beslutets belopp per dag'},
    "R220": {"fi": 'Laskun loppusumma poikkeaa riveistä', "sv": 'Fakturans totalsumma avviker från raderna'},
    "R221": {"fi": 'Rivin summa poikkeaa sen eristä', "sv": 'Radens summa avviker från dess poster'},
    "R214": {"fi": 'Yksilöohjaus alle kuukausiminimin', "sv": 'Individuell handledning under månadsminimum'},
    "R215": {"fi": 'Ohjausloki poikkeaa rivin ohjaustunneista', "sv": 'Handledningsloggen avviker från radens timmar'},
    "R219": {"fi": 'Kykyviisari- tai VAT-arviointi puuttuu', "sv": 'Kykyviisari- eller VAT-bedömning saknas'},
    "R224": {"fi": 'Päätöksen jakso alle 3 tai yli 24 kuukautta', "sv": 'Beslutets period under 3 eller över 24 månader'},
    "R225": {"fi": 'Myöhästynyt lasku: yli 3 kuukautta ennen erää', "sv": 'Sen faktura: över 3 månader före omgången'},
    "X900": {"fi": 'Sisäinen virhe laskun tarkastuksessa', "sv": 'Internt fel vid granskningen av fakturan'},
}



def get(code: str) -> Rule:
    return CATALOGUE[code]


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


_formatter = string.Formatter()


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill a template; unknown fields become empty, never an exception."""
    try:
        return _formatter.vformat(template, (), _Blank(values))
    except (ValueError, IndexError, AttributeError):
        return template


def markdown_table() -> str:
    """The README's rule table, rendered from the catalogue (a test keeps them equal)."""
    lines = ["| code | level | severity | effect | what |", "|---|---|---|---|---|"]
    for rule in CATALOGUE.values():
        lines.append(f"| {rule.code} | {rule.level} | {rule.severity} | {rule.effect} | {rule.title} |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m reconcile.rules: print the README's table
    print(markdown_table())
