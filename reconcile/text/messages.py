"""Words for people: a finding's message and how-to-fix, and the labels of the output workbooks.

Sits between the checks and the writers. A `Finding` carries figures
(expected, found, date, amount in cents, `params`); this module fills the
rule catalogue's fi/sv/en templates (`rules.py`) with them, formatted the way a
reader of that language expects (`45,00 €` and `1.11.2026` in Finnish and
Swedish, `€45.00` and `2026-11-01` in English).

Template fields: `expected`, `found`, `decision_id`, `date`, `amount` (the
money effect in euros, without sign), `sheet`, `cell`, `source_file`, and every
key of `params`. A param ending in `_cents` also gives `<name>_eur` in euros,
one ending in `_h100` gives `<name>_h` in hours, a date param is formatted.
A missing field renders empty, never as an error, and a part of a template
written in square brackets (`[ (found: {found})]`) is left out when a field
inside it is empty, so a message never shows an empty figure.

A finding's `expected` and `found` are written language-neutral by the checks
(`83.20`, `2026-11-05`, `henkilötunnus`, `työttömyysetuus`, a sheet's or
column's Finnish name) for findings.csv; `figure` renders them for a reader of
one language: euros and hours with that language's decimal sign, dates its
way, the program's own words (sheet and column names, benefits, weekdays and
holidays, meal codes) in that language. What a provider typed (`found` of a
V rule, a file or sheet name it used) is shown as typed.

Privacy: every value filled in passes through `redact`, which shortens a
henkilötunnus to its birth date (`010190-****`), so a message never prints a
full personal identity code.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from decimal import Decimal
from typing import Any

import holidays
from stdnum.fi import ytunnus as _ytunnus

from reconcile.text import rules
from reconcile.findings import Finding
from schemas import SHEETS, columns
from schemas.invoice import AttendanceKeys, Clients, GuidanceLog, InvoiceHeader

HETU_RE = re.compile(r"\b(\d{6})[-+A-FU-Y](\d{3}[0-9A-Y])\b", re.IGNORECASE)
YTUNNUS_RE = re.compile(r"\b\d{7}-\d\b")
SPACES_RE = re.compile(r"[ \t\r\n]+")
OPTIONAL_RE = re.compile(r"\[([^\[\]]*)\]")
_formatter = string.Formatter()


def euros(cents: int | None, lang: str) -> str:
    """Cents as euros: `1 234,50 €` (fi, sv) or `€1,234.50` (en); empty for None."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    if lang == "en":
        return f"{sign}€{whole:,}.{frac:02d}"
    grouped = f"{whole:,}".replace(",", "\u00a0")
    return f"{sign}{grouped},{frac:02d}\u00a0€"


def hours(h100: int | None, lang: str) -> str:
    """Hundredths of an hour as hours: `4,5` (fi, sv) or `4.5` (en)."""
    if h100 is None:
        return ""
    text = f"{h100 / 100:.2f}".rstrip("0").rstrip(".") if h100 % 100 else str(h100 // 100)
    return text if lang == "en" else text.replace(".", ",")


def date(d: dt.date | None, lang: str) -> str:
    if d is None:
        return ""
    return d.isoformat() if lang == "en" else f"{d.day}.{d.month}.{d.year}"


def redact(text: str) -> str:
    """Shorten every henkilötunnus in a text to its birth date: `010190-123A` -> `010190-****`."""
    return HETU_RE.sub(lambda m: m.group(0)[:7] + "****", text)


def _shown(value: Any, lang: str) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return date(value, lang)
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(_shown(v, lang) for v in value)
    return redact("" if value is None else str(value))


LANGS = ("fi", "sv", "en")
ISO_DATE_RE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
DMY_DATE_RE = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d])")
NUMBER_RE = re.compile(r"-?\d+(?:[.,]\d+)?")
FI_EURO_RE = re.compile(r"(-?\d[\d\u00a0 ]*),(\d{2})\s?€")
EURO_FIGURES = frozenset({"R209", "R210", "R213", "R220", "R221"})  # expected and found are euros
HOUR_FIGURES = frozenset({"R206", "R214", "R215", "R226"})  # expected and found are hours
WEEKDAYS = {"fi": ("maanantai", "tiistai", "keskiviikko", "torstai", "perjantai", "lauantai", "sunnuntai"),
            "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
            "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
HOLIDAY_LANGS = {"fi": "fi", "sv": "sv_FI", "en": "en_US"}


def _words() -> dict[str, dict[str, str]]:
    """The program's own words in expected/found values, by any of their spellings -> by language."""
    out: dict[str, dict[str, str]] = {}
    for names in SHEETS.values():
        for name in names:
            out[name.casefold()] = dict(zip(LANGS, names))
    for model in (InvoiceHeader, Clients, AttendanceKeys, GuidanceLog):
        for spec in columns(model):
            for name in (spec.fi, spec.sv, spec.en):
                out.setdefault(name.casefold(), {"fi": spec.fi, "sv": spec.sv, "en": spec.en})
    for fi, sv, en in (
        ("henkilötunnus", "personbeteckning", "personal identity code"),
        ("työttömyysetuus", "arbetslöshetsförmån", "unemployment benefit"),
        ("toimeentulotuki", "utkomststöd", "social assistance"),
        ("kuntoutustuki", "rehabiliteringsstöd", "rehabilitation allowance"),
        ("eläke", "pension", "pension"),
        ("3–24 kuukautta", "3–24 månader", "3–24 months"),
        ("toinen palveluntuottaja", "en annan serviceproducent", "another provider"),
        ("toinen lasku", "en annan faktura", "another invoice"),
        ("toinen päätös", "ett annat beslut", "another decision"),
    ):
        for name in (fi, sv, en):
            out.setdefault(name.casefold(), {"fi": fi, "sv": sv, "en": en})
    return out


# The decision's `Ateria` code (R211's expected), as a reader of each language understands it.
MEAL_WORDS = {
    "tuottaja": {"fi": "tuottaja (ateriat)", "sv": "måltider av producenten", "en": "meals by the provider"},
    "korvaus": {"fi": "korvaus (ateriakorvaus)", "sv": "måltidsersättning", "en": "meal compensation"},
    "ei": {"fi": "ei (ei aterioita)", "sv": "inga måltider", "en": "no meals"},
}


def _number(text: str, lang: str) -> str:
    return text.replace(",", ".") if lang == "en" else text.replace(".", ",")


def _fi_cents(m: re.Match) -> int:
    """`1 234,50 €` matched by FI_EURO_RE as cents."""
    whole = m[1].replace(" ", "").replace("\u00a0", "")
    cents = abs(int(whole)) * 100 + int(m[2])
    return -cents if whole.startswith("-") else cents


def _dates(text: str, lang: str) -> str:
    def iso(m: re.Match) -> str:
        try:
            return date(dt.date(int(m[1]), int(m[2]), int(m[3])), lang)
        except ValueError:
            return m[0]

    def dmy(m: re.Match) -> str:
        try:
            return date(dt.date(int(m[3]), int(m[2]), int(m[1])), lang)
        except ValueError:
            return m[0]

    return DMY_DATE_RE.sub(dmy, ISO_DATE_RE.sub(iso, text))


def figure(f: Finding, which: str, lang: str) -> str:
    """A finding's `expected` or `found` as a reader of `lang` reads it (redacted)."""
    raw = f.expected if which == "expected" else f.found
    text = _shown(raw, lang)
    if not text:
        return text
    if f.rule in ("F001", "F002") and which == "found":
        reason = INTAKE_REASONS.get(lang, {}).get((f.params or {}).get("kind"))
        return rules.render(reason, _params(f, lang)) if reason else text
    if f.rule == "R207" and which == "found" and f.date is not None:
        name = holidays.Finland(years=f.date.year, language=HOLIDAY_LANGS[lang]).get(f.date)
        return name or WEEKDAYS[lang][f.date.weekday()]
    if f.rule == "R211" and which == "expected":
        return MEAL_WORDS.get(text.casefold(), {}).get(lang, text)
    typed = f.rule.startswith("V") and which == "found" or f.rule.startswith("F") and which == "found"
    if typed:  # what the provider typed or named, as it typed it
        return text
    words = WORDS
    parts = [words.get(part.casefold(), {}).get(lang, part) for part in text.split(", ")]
    text = ", ".join(parts)
    if f.rule.startswith("F"):  # file names and months: nothing more to render
        return text
    if f.rule in EURO_FIGURES and NUMBER_RE.fullmatch(text):
        cents = int((Decimal(text.replace(",", ".")) * 100).to_integral_value())
        return euros(cents, lang)
    if f.rule in HOUR_FIGURES and NUMBER_RE.fullmatch(text):
        h100 = int((Decimal(text.replace(",", ".")) * 100).to_integral_value())
        return hours(h100, lang) + " h"
    text = _dates(text, lang)
    if lang == "en":  # the reader's own examples (`12,50 €`) are written the Finnish way already
        text = FI_EURO_RE.sub(lambda m: euros(_fi_cents(m), lang), text)
    if NUMBER_RE.fullmatch(text):
        return _number(text, lang)
    return text


# Intake's reasons (F001, F002) by `params["kind"]`, for Finnish and Swedish
# readers; English readers get intake's own sentence, which has every figure.
INTAKE_REASONS: dict[str, dict[str, str]] = {
    "fi": {
        "unreadable": "tiedostoa ei voitu lukea", "empty": "tiedosto on tyhjä",
        "xls": "tiedosto on vanha .xls-muoto (Excel 97–2003)", "encrypted": "työkirja on suojattu salasanalla",
        "ods": "tiedosto on OpenDocument-taulukko (.ods)", "html": "tiedosto on HTML-sivu",
        "xml": "tiedosto on XML-asiakirja", "text": "tiedosto on tekstiä (CSV tai muu teksti)",
        "binary": "tiedosto ei ole zip-paketti", "corrupt_zip": "zip-paketti on katkennut tai vioittunut",
        "encrypted_zip": "zip-paketti on suojattu salasanalla",
        "compression": "osa {part} on pakattu tavalla, jota Excel ei käytä",
        "no_content_types": "paketista puuttuu [Content_Types].xml", "no_workbook": "paketista puuttuu xl/workbook.xml",
        "invalid_utf8": "osa {part} ei ole kelvollista UTF-8-tekstiä", "bad_xml": "osa {part} ei ole kelvollista XML:ää",
        "file_size": "tiedosto on {size_mib} MiB, raja on {limit_mib} MiB",
        "uncompressed_size": "osat purkautuvat {size_mib} MiB:ksi, raja on {limit_mib} MiB",
        "compression_ratio": "osa {part} purkautuu {ratio}-kertaiseksi, raja on {limit}",
        "parts": "paketissa on {parts} osaa, raja on {limit}", "duplicate_part": "paketissa on kaksi osaa nimeltä {part}",
        "macros": "työkirjassa on makroja ({part})", "doctype": "osassa {part} on DOCTYPE- tai entiteettimäärittely",
        "depth": "osan {part} rakenne on sisäkkäinen yli {limit} tasoa",
        "rows": "välilehdellä ({part}) on arvoja yli {limit} rivillä",
    },
    "sv": {
        "unreadable": "filen kunde inte läsas", "empty": "filen är tom",
        "xls": "filen är i det gamla .xls-formatet (Excel 97–2003)", "encrypted": "arbetsboken är lösenordsskyddad",
        "ods": "filen är ett OpenDocument-kalkylblad (.ods)", "html": "filen är en HTML-sida",
        "xml": "filen är ett XML-dokument", "text": "filen är text (CSV eller annan text)",
        "binary": "filen är inte ett zip-paket", "corrupt_zip": "zip-paketet är avbrutet eller skadat",
        "encrypted_zip": "zip-paketet är lösenordsskyddat",
        "compression": "delen {part} är packad på ett sätt som Excel inte använder",
        "no_content_types": "paketet saknar [Content_Types].xml", "no_workbook": "paketet saknar xl/workbook.xml",
        "invalid_utf8": "delen {part} är inte giltig UTF-8-text", "bad_xml": "delen {part} är inte giltig XML",
        "file_size": "filen är {size_mib} MiB, gränsen är {limit_mib} MiB",
        "uncompressed_size": "delarna packas upp till {size_mib} MiB, gränsen är {limit_mib} MiB",
        "compression_ratio": "delen {part} packas upp {ratio} gånger sin storlek, gränsen är {limit}",
        "parts": "paketet har {parts} delar, gränsen är {limit}", "duplicate_part": "paketet har två delar med namnet {part}",
        "macros": "arbetsboken innehåller makron ({part})", "doctype": "delen {part} har en DOCTYPE- eller entitetsdefinition",
        "depth": "delen {part} är nästlad mer än {limit} nivåer djupt",
        "rows": "bladet ({part}) har värden på fler än {limit} rader",
    },
}


def _params(f: Finding, lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (f.params or {}).items():
        if key.endswith("_cents") and isinstance(value, int):
            out[key[: -len("_cents")] + "_eur"] = euros(value, lang)
        if key.endswith("_h100") and isinstance(value, int):
            out[key[: -len("_h100")] + "_h"] = hours(value, lang)
        out[key] = _shown(value, lang)
    return out


def values(f: Finding, lang: str) -> dict[str, str]:
    """Every template field of a finding, formatted for `lang`."""
    out = _params(f, lang)
    out.update(
        expected=figure(f, "expected", lang),
        found=figure(f, "found", lang),
        decision_id=_shown(f.decision_id, lang),
        date=date(f.date, lang),
        amount=euros(abs(f.amount_cents), lang) if f.amount_cents else "",
        sheet=f.location.sheet or "",
        cell=f.location.cell or "",
        source_file=f.location.source_file,
    )
    return out


def fill(template: str, vals: dict[str, str]) -> str:
    """Fill a template; a `[...]` segment is left out when any field inside it is empty."""
    out = []
    for i, piece in enumerate(OPTIONAL_RE.split(template)):
        if i % 2:  # the inside of a [...] segment
            try:
                names = [name for _, name, _, _ in _formatter.parse(piece) if name]
            except ValueError:
                names = []
            if not all(vals.get(n) for n in names):
                continue
        out.append(rules.render(piece, vals))
    return SPACES_RE.sub(" ", "".join(out)).strip()


def _render(f: Finding, lang: str, part: str) -> str:
    rule = rules.get(f.rule)
    template = getattr(rule.text(lang), part)
    if not template:
        return rule.title if part == "message" else ""
    return fill(template, values(f, lang))


def message(f: Finding, lang: str) -> str:
    """What is wrong, with the finding's figures, in fi, sv or en."""
    return _render(f, lang, "message")


def fix(f: Finding, lang: str) -> str:
    """How to fix it, in fi, sv or en (empty when nothing needs doing)."""
    return _render(f, lang, "fix")


# Labels of the output workbooks, by language.
LABELS: dict[str, dict[str, str]] = {
    "review": {"fi": "Tarkastus", "sv": "Granskning", "en": "Review"},
    "approved_col": {"fi": "Hyväksytty €", "sv": "Godkänt €", "en": "Approved €"},
    "status_col": {"fi": "Tila", "sv": "Status", "en": "Status"},
    "findings": {"fi": "Havainnot", "sv": "Anmärkningar", "en": "Findings"},
    "item": {"fi": "Erä", "sv": "Post", "en": "Item"},
    "claimed": {"fi": "Laskutettu €", "sv": "Fakturerat €", "en": "Claimed €"},
    "approved": {"fi": "Hyväksytty €", "sv": "Godkänt €", "en": "Approved €"},
    "held": {"fi": "Pidätetty €", "sv": "Innehållet €", "en": "Held €"},
    "rejected": {"fi": "Hylätty €", "sv": "Avvisat €", "en": "Rejected €"},
    "fee": {"fi": "Palvelumaksu", "sv": "Serviceavgift", "en": "Service fee"},
    "meals": {"fi": "Ateriat", "sv": "Måltider", "en": "Meals"},
    "meal_comp": {"fi": "Ateriakorvaus", "sv": "Måltidsersättning", "en": "Meal compensation"},
    "travel": {"fi": "Matkakorvaus", "sv": "Reseersättning", "en": "Travel"},
    "total": {"fi": "Yhteensä", "sv": "Totalt", "en": "Total"},
    "batch": {"fi": "Erä (kuukausi)", "sv": "Omgång (månad)", "en": "Batch (month)"},
    "run_id": {"fi": "Ajon tunniste", "sv": "Körningens id", "en": "Run id"},
    "rules_version": {"fi": "Sääntöjen versio", "sv": "Reglernas version", "en": "Rules version"},
    "provider": {"fi": "Palveluntuottaja", "sv": "Serviceproducent", "en": "Provider"},
    "provider_id": {"fi": "Y-tunnus", "sv": "FO-nummer", "en": "Business id"},
    "invoice_no": {"fi": "Laskun numero", "sv": "Fakturanummer", "en": "Invoice number"},
    "billing_month": {"fi": "Laskutuskausi", "sv": "Faktureringsperiod", "en": "Billing month"},
    "source_file": {"fi": "Tiedosto", "sv": "Fil", "en": "File"},
    "status": {"fi": "Tila", "sv": "Status", "en": "Status"},
    "rule": {"fi": "Sääntö", "sv": "Regel", "en": "Rule"},
    "severity": {"fi": "Vakavuus", "sv": "Allvarlighet", "en": "Severity"},
    "effect": {"fi": "Vaikutus", "sv": "Verkan", "en": "Effect"},
    "sheet": {"fi": "Välilehti", "sv": "Blad", "en": "Sheet"},
    "cell": {"fi": "Solu", "sv": "Cell", "en": "Cell"},
    "decision": {"fi": "Päätös", "sv": "Beslut", "en": "Decision"},
    "name": {"fi": "Nimi", "sv": "Namn", "en": "Name"},
    "date": {"fi": "Päivä", "sv": "Datum", "en": "Date"},
    "expected": {"fi": "Odotettu", "sv": "Förväntat", "en": "Expected"},
    "found": {"fi": "Löytyi", "sv": "Hittat", "en": "Found"},
    "money_effect": {"fi": "Vaikutus €", "sv": "Effekt €", "en": "Money effect €"},
    "message": {"fi": "Mikä on vialla", "sv": "Vad är fel", "en": "What is wrong"},
    "fix": {"fi": "Miten korjata", "sv": "Hur rätta", "en": "How to fix"},
    "count": {"fi": "Määrä", "sv": "Antal", "en": "Count"},
    "title": {"fi": "Kuvaus", "sv": "Beskrivning", "en": "Description"},
    "invoices": {"fi": "Laskut", "sv": "Fakturor", "en": "Invoices"},
    "providers": {"fi": "Palveluntuottajat", "sv": "Serviceproducenter", "en": "Providers"},
    "unknown": {"fi": "(tuntematon)", "sv": "(okänd)", "en": "(unknown)"},
    "held_days": {"fi": "Pidätetyt päivät", "sv": "Innehållna dagar", "en": "Held days"},
    "resolution": {"fi": "Ratkaisu", "sv": "Avgörande", "en": "Resolution"},
    "reason": {"fi": "Perustelu", "sv": "Motivering", "en": "Reason"},
    "resolved_by": {"fi": "Ratkaisija", "sv": "Avgjord av", "en": "Resolved by"},
    "resolved_at": {"fi": "Ratkaistu", "sv": "Avgjord", "en": "Resolved at"},
    "amount_moved": {"fi": "Siirtyi €", "sv": "Flyttat €", "en": "Moved €"},
    "held_total": {"fi": "Pidätetty yhteensä €", "sv": "Innehållet totalt €", "en": "Held in all €"},
    "earlier_held": {"fi": "Aiemmin pidätetyt", "sv": "Tidigare innehållna", "en": "Held earlier"},
    "payments": {"fi": "Maksut", "sv": "Betalningar", "en": "Payments"},
    "kind": {"fi": "Laji", "sv": "Slag", "en": "Kind"},
    "amount": {"fi": "Summa €", "sv": "Belopp €", "en": "Amount €"},
    "signed_off_by": {"fi": "Hyväksyjä", "sv": "Godkänd av", "en": "Signed off by"},
    "signed_off_at": {"fi": "Hyväksytty", "sv": "Godkänd", "en": "Signed off at"},
    "resolutions": {"fi": "Ratkaisut", "sv": "Avgöranden", "en": "Resolutions"},
    "answer_pay": {"fi": "maksa", "sv": "betala", "en": "pay"},
    "answer_reject": {"fi": "hylkää", "sv": "avvisa", "en": "reject"},
    "answer_void": {"fi": "mitätön", "sv": "ogiltig", "en": "void"},
    "held_help": {"fi": "Valitse Ratkaisu-sarakkeesta maksa tai hylkää; hylkäys tarvitsee perustelun. Tallenna ja aja: reconcile resolve --batch {batch}",
                  "sv": "Välj betala eller avvisa i kolumnen Avgörande; avvisning kräver motivering. Spara och kör: reconcile resolve --batch {batch}",
                  "en": "Choose pay or reject in the Resolution column; a rejection needs a reason. Save, then run: reconcile resolve --batch {batch}"},
    "findings_by_rule": {"fi": "Havainnot säännöittäin", "sv": "Anmärkningar per regel", "en": "Findings by rule"},
    "chart_approved": {"fi": "Hyväksytty ja laskutettu palveluntuottajittain", "sv": "Godkänt och fakturerat per serviceproducent", "en": "Approved against claimed by provider"},
    "chart_findings": {"fi": "Havainnot säännöittäin", "sv": "Anmärkningar per regel", "en": "Findings by rule"},
    "no_findings": {"fi": "Ei havaintoja.", "sv": "Inga anmärkningar.", "en": "No findings."},
    "another_provider": {"fi": "toinen palveluntuottaja", "sv": "en annan serviceproducent", "en": "another provider"},
    # severities, effects and statuses
    "error": {"fi": "virhe", "sv": "fel", "en": "error"},
    "warning": {"fi": "varoitus", "sv": "varning", "en": "warning"},
    "info": {"fi": "tieto", "sv": "information", "en": "info"},
    "reject": {"fi": "hylätään", "sv": "avvisas", "en": "reject"},
    "hold": {"fi": "pidätetään", "sv": "innehålls", "en": "hold"},
    "adjust": {"fi": "korjataan", "sv": "justeras", "en": "adjust"},
    "none": {"fi": "ei vaikutusta", "sv": "ingen verkan", "en": "none"},
    "status_approved": {"fi": "hyväksytty", "sv": "godkänd", "en": "approved"},
    "status_partly_approved": {"fi": "osin hyväksytty", "sv": "delvis godkänd", "en": "partly approved"},
    "status_adjusted": {"fi": "korjattu", "sv": "justerad", "en": "adjusted"},
    "status_held": {"fi": "pidätetty", "sv": "innehållen", "en": "held"},
    "status_rejected": {"fi": "hylätty", "sv": "avvisad", "en": "rejected"},
    "status_duplicate": {"fi": "kaksoislasku", "sv": "dubblettfaktura", "en": "duplicate"},
}


def label(key: str, lang: str) -> str:
    """An output label in `lang` (Finnish when the language is unknown)."""
    texts = LABELS[key]
    return texts.get(lang) or texts["fi"]


def review_footer(batch: str, run_id: str, rules_version: str, lang: str) -> str:
    """The one line at the foot of the annotated copy's review sheet (`Tarkastus`) that keeps what only
    finance needs (batch, run id, rules version) out of the provider's way."""
    return (f"{label('batch', lang)} {batch} · {label('run_id', lang)} {run_id} · "
            f"{label('rules_version', lang)} {rules_version}")


def status(value: str | None, lang: str) -> str:
    """A status word (`approved`, `partly_approved`, `adjusted`, ...) in `lang`."""
    key = f"status_{value}"
    return label(key, lang) if key in LABELS else (value or "")


# Findings whose expected/found describe another invoice (perhaps another provider's client):
# a provider's own files leave those figures out and the message says "another invoice".
CROSS_INVOICE = frozenset({"R216", "R217"})


def provider_figures(f: Finding, lang: str | None = None) -> tuple[str, str]:
    """(expected, found) as a provider may see them; in `lang`'s words and number forms when given."""
    if f.rule in CROSS_INVOICE:
        return "", ""
    if lang is None:
        return f.expected, f.found
    return figure(f, "expected", lang), figure(f, "found", lang)


def provider_view(text: str, own_provider: str | None, lang: str) -> str:
    """Text for a provider's own files: any other provider's Y-tunnus becomes "another provider".

    Only a valid Y-tunnus is replaced: the catalogue's example `1234567-8` has no
    valid check digit and stays as written."""
    other = label("another_provider", lang)

    def swap(m: re.Match) -> str:
        found = m.group(0)
        return found if found == own_provider or not _ytunnus.is_valid(found) else other

    return YTUNNUS_RE.sub(swap, text)


WORDS = _words()


# `reconcile check`'s summary line, in the provider's language.
SUMMARY = {
    "fi": ("{file}: {errors}, {others}; laskutettu {claimed}, hyväksytty {approved}, pidätetty {held}, hylätty {rejected}; "
           "tila: {status}."),
    "sv": ("{file}: {errors}, {others}; fakturerat {claimed}, godkänt {approved}, innehållet {held}, avvisat {rejected}; "
           "status: {status}."),
    "en": "{file}: {errors}, {others}; claimed {claimed}, approved {approved}, held {held}, rejected {rejected}; status: {status}.",
}
COUNTS = {  # (one, many) of errors and of other findings
    "fi": (("{n} virhe", "{n} virhettä"), ("{n} muu havainto", "{n} muuta havaintoa")),
    "sv": (("{n} fel", "{n} fel"), ("{n} annan anmärkning", "{n} andra anmärkningar")),
    "en": (("{n} error", "{n} errors"), ("{n} other finding", "{n} other findings")),
}


def check_lines(result: Any) -> list[str]:
    """`reconcile check`'s report of one invoice, wholly in the provider's language (Finnish when unknown).

    One line per finding, `RULE severity Sheet!Cell: message`, with its how-to-fix
    indented on the next line, then the summary line. Another provider's Y-tunnus
    reads "another provider"; a henkilötunnus only as its birth date."""
    lang = result.lang if result.lang in LANGS else "fi"
    own = result.provider_id

    def key(f: Finding) -> tuple:
        cell = f.location.cell or ""
        letters = cell.rstrip("0123456789")
        number = int(cell[len(letters):] or 0)
        return f.location.sheet or "", len(letters), letters, number, f.rule

    lines = []
    for f in sorted(result.findings, key=key):
        where = f.location.ref or f.location.sheet or f.location.source_file
        lines.append(f"{f.rule} {label(f.severity, lang):8} {where}: {provider_view(message(f, lang), own, lang)}")
        how = fix(f, lang)
        if how:
            lines.append(f"    {label('fix', lang)}: {provider_view(how, own, lang)}")
    errors = sum(1 for f in result.findings if f.is_error)
    others = len(result.findings) - errors
    (one_error, many_errors), (one_other, many_others) = COUNTS[lang]
    total = result.total
    lines.append(SUMMARY[lang].format(
        file=result.source_file,
        errors=(one_error if errors == 1 else many_errors).format(n=errors),
        others=(one_other if others == 1 else many_others).format(n=others),
        claimed=euros(total.claimed, lang), approved=euros(total.approved, lang), held=euros(total.held, lang),
        rejected=euros(total.rejected, lang), status=status(result.status, lang)))
    return lines
