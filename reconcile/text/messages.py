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

Privacy: every value filled in passes through `redact`, which shortens a
henkilötunnus to its birth date (`010190-****`), so a message never prints a
full personal identity code.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Any

from reconcile.text import rules
from reconcile.findings import Finding

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


def values(f: Finding, lang: str) -> dict[str, str]:
    """Every template field of a finding, formatted for `lang`."""
    out: dict[str, str] = {}
    for key, value in (f.params or {}).items():
        if key.endswith("_cents") and isinstance(value, int):
            out[key[: -len("_cents")] + "_eur"] = euros(value, lang)
        if key.endswith("_h100") and isinstance(value, int):
            out[key[: -len("_h100")] + "_h"] = hours(value, lang)
        out[key] = _shown(value, lang)
    out.update(
        expected=_shown(f.expected, lang),
        found=_shown(f.found, lang),
        decision_id=_shown(f.decision_id, lang),
        date=date(f.date, lang),
        amount=euros(abs(f.amount_cents), lang) if f.amount_cents else "",
        sheet=f.location.sheet or "",
        cell=f.location.cell or "",
        source_file=f.location.source_file,
    )
    kind = (f.params or {}).get("kind")
    reason = INTAKE_REASONS.get(lang, {}).get(kind) if f.rule in ("F001", "F002") else None
    if reason:
        out["found"] = rules.render(reason, out)
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


def status(value: str | None, lang: str) -> str:
    """A status word (`approved`, `partly_approved`, `adjusted`, ...) in `lang`."""
    key = f"status_{value}"
    return label(key, lang) if key in LABELS else (value or "")


# Findings whose expected/found describe another invoice (perhaps another provider's client):
# a provider's own files leave those figures out and the message says "another invoice".
CROSS_INVOICE = frozenset({"R216", "R217"})


def provider_figures(f: Finding) -> tuple[str, str]:
    """(expected, found) as a provider may see them."""
    if f.rule in CROSS_INVOICE:
        return "", ""
    return f.expected, f.found


def provider_view(text: str, own_provider: str | None, lang: str) -> str:
    """Text for a provider's own files: any other provider's Y-tunnus becomes "another provider"."""
    other = label("another_provider", lang)
    return YTUNNUS_RE.sub(lambda m: m.group(0) if m.group(0) == own_provider else other, text)
