"""The provider's invoice template: the blank workbook a provider fills in (CONTRACT.md 2.3, 6).

Sits before the pipeline, at the source: `reconcile template` writes, for one
provider and month, the workbook that the intake, reader and cross-checks
later receive. It is built from the same `schemas` models the reader uses, so
its sheet names and headers are the ones the reader looks for, in the
provider's language, and it is pre-filled from the registers with every
decision of that provider in force at any time in the month.

What the workbook does for the provider:
- `Lasku`: name, Y-tunnus and billing month filled in; the total is a formula.
- `Asiakkaat`: one row per decision; attendance days, fee, meals, meal
  compensation days, guidance hours and the row total are formulas over the
  calendar and the guidance log; every input column has a data validation.
- `Läsnäolo`: the month's days as columns `1`..`N` under a row of weekday
  names; weekends and Finnish public holidays shaded; days outside a
  decision's period greyed and locked; a validation that allows only the
  day codes (X, S, P, L) or hours 4-12; a count of attendance days per row;
  a week whose attendance exceeds the decided days per week turns red.
- `Ohjaus`: the guidance log, with drop-downs for the decision and the type.
- a short instructions sheet at the end.

The template and the checker agree (issue 15): a day cell counts as an
attendance day exactly when the checker counts it as claiming attendance
(anything but empty, S, P or L, whatever its case; hours typed as text with a
decimal comma included), and every figure the provider may type as text
(`12,50`, `1 234,50 €`, `4,5`) is read into the totals as the checker reads it,
with the locale-independent NUMBERVALUE, instead of turning them into
#VALUE!. Per-cell flags and converted hours live on a hidden helper sheet
(`Laskenta` / `Beräkning` / `Calculation`; the reader ignores hidden sheets),
so every formula is an ordinary one that Excel and LibreOffice compute alike.

Every sheet prints on A4 landscape, one page wide, with its header rows on
every page; headers wrap in columns wide enough for their longest word.

Formulas are written with their values for the blank workbook (all zero) as
cached results, so a reader that opens the blank template sees 0, not empty.
The library never asks the user anything: bad requests raise `JobError`
(`UsageError` for an `--out` that is neither an .xlsx file nor a folder).
The file is created readable by owner and group (0640 less the umask), like
the outbox.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import holidays
import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from reconcile.config import Config
from reconcile.errors import JobError, UsageError
from reconcile.model import Registers
from reconcile.periods import last_day, month_end
from reconcile.text.format import euros
from reconcile.write import FILE_MODE
from reconcile.write.xlsxutil import LINE_POINTS, lines_needed
from schemas import SHEETS, columns
from schemas.invoice import AttendanceKeys, Clients, GuidanceLog, InvoiceHeader
from schemas.registers import Decisions

LANG_INDEX = {"fi": 0, "sv": 1, "en": 2}
DAY_LIST_CODES = ("X", "S", "P", "L")  # the drop-down of a day cell, before the hours
GUIDANCE_ROWS = 300  # blank rows of the guidance log that carry validations
MIN_HOURS, MAX_HOURS = 4, 12  # hours a day cell may hold (contract: at least 4; 12 is the template's cap)
PAID_MAX_HOURS = 24  # the checker pays a day of 4-24 hours (more is V103)
# The hidden helper sheet: per Läsnäolo cell a "claims attendance" flag in the cell's own address,
# a "may be paid" flag ELIGIBLE_OFFSET columns to its right, and the Ohjaus log's hours as numbers
# in column GUIDANCE_HOURS_COL, on the log's own rows.
ELIGIBLE_OFFSET = 40
GUIDANCE_HOURS_COL = 80

# Colours of the calendar (the legend on the instructions sheet names them).
SATURDAY_FILL = "#DDEBF7"
HOLIDAY_FILL = "#FCE4D6"  # Sundays and public holidays (R207 warns about attendance on them)
OUTSIDE_FILL = "#A6A6A6"  # outside the decision's period: locked
INPUT_FILL = "#FFF2CC"  # cells the provider fills in
HEADER_FILL = "#D9D9D9"
OVER_WEEK_FILL = "#FFC7CE"  # a week with more attendance days than decided

TEXTS = {
    "fi": {
        "weekdays": ("ma", "ti", "ke", "to", "pe", "la", "su"),
        "guidance_types": ("yksilö", "ryhmä"),
        "instructions": "Ohje",
        "helper": "Laskenta",
        "fill_in": "täytä",
        "day_title": "Virheellinen merkintä",
        "day_prompt": "X = läsnä, tunnit 4–12 (esim. 4,5), S = sairas, P = poissa ilmoittamatta, L = loma",
        "day_error": "Kirjoita X, S, P, L tai tuntimäärä 4–12.",
        "prompt_title": "Päiväkoodi",
        "lines": [
            ("Palvelusetelilaskun pohja", "bold"),
            ("Täytä keltaiset solut. Harmaat solut on lukittu: ne ovat päätöksen voimassaolon ulkopuolella tai lasketaan kaavalla.", None),
            ("", None),
            ("Mitä täytetään", "bold"),
            ("Lasku: laskun numero ja laskun päivämäärä. Palveluntuottaja, Y-tunnus ja laskutuskausi on valmiiksi täytetty.", None),
            ("Läsnäolo: jokaiselle päivälle koodi tai tuntimäärä. Läsnäolopäivät lasketaan automaattisesti.", None),
            ("Asiakkaat: ateriat (jos eri kuin läsnäolopäivät), maksettu matkakorvaus, Kykyviisari- ja VAT-päivämäärät, lisätiedot.", None),
            ("Ohjaus: yksi rivi jokaisesta ohjauskerrasta (päätösnumero, päivämäärä, kesto tunteina, tyyppi). Ohjaustunnit siirtyvät Asiakkaat-välilehdelle.", None),
            ("", None),
            ("Päiväkoodit", "bold"),
            ("X = läsnä päätöksen mukaisen tuntimäärän", None),
            ("4–12 = läsnä näin monta tuntia (esim. 4,5)", None),
            ("S = sairas, P = poissa ilmoittamatta, L = loma (näistä ei laskuteta)", None),
            ("tyhjä = ei toimintaa", None),
            ("", None),
            ("Yleisimmät huomautusten syyt", "bold"),
            ("Enintään päätöksen mukainen määrä päiviä viikossa (ma–su), ei koskaan yli 4. Ylittävä viikko muuttuu punaiseksi.", None),
            ("Vähintään 4 tuntia päivässä: lyhyemmästä päivästä ei makseta.", None),
            ("Vähintään 2 tuntia yksilöohjausta kuukaudessa (tai päätöksen mukainen määrä).", None),
            ("Kykyviisari tai VAT jakson alussa ja lopussa: merkitse päivämäärä Asiakkaat-välilehdelle.", None),
            ("", None),
            ("Värit", "bold"),
            ("sininen = lauantai, oranssi = sunnuntai tai arkipyhä, harmaa = päätös ei voimassa", None),
        ],
    },
    "sv": {
        "weekdays": ("må", "ti", "on", "to", "fr", "lö", "sö"),
        "guidance_types": ("individuell", "grupp"),
        "instructions": "Anvisningar",
        "helper": "Beräkning",
        "fill_in": "fyll i",
        "day_title": "Ogiltig anteckning",
        "day_prompt": "X = närvarande, timmar 4–12 (t.ex. 4,5), S = sjuk, P = frånvarande utan anmälan, L = ledig",
        "day_error": "Skriv X, S, P, L eller ett antal timmar 4–12.",
        "prompt_title": "Dagkod",
        "lines": [
            ("Mall för servicesedelfaktura", "bold"),
            ("Fyll i de gula cellerna. Grå celler är låsta: de ligger utanför beslutets giltighetstid eller räknas med en formel.", None),
            ("", None),
            ("Vad fylls i", "bold"),
            ("Faktura: fakturanummer och fakturadatum. Serviceproducent, FO-nummer och faktureringsperiod är ifyllda.", None),
            ("Närvaro: en kod eller ett antal timmar för varje dag. Närvarodagarna räknas automatiskt.", None),
            ("Klienter: måltider (om de avviker från närvarodagarna), betald reseersättning, datum för Kykyviisari och VAT, tilläggsuppgifter.", None),
            ("Handledning: en rad per handledningstillfälle (beslutsnummer, datum, längd i timmar, typ). Timmarna förs över till Klienter.", None),
            ("", None),
            ("Dagkoder", "bold"),
            ("X = närvarande det antal timmar beslutet anger", None),
            ("4–12 = närvarande så många timmar (t.ex. 4,5)", None),
            ("S = sjuk, P = frånvarande utan anmälan, L = ledig (faktureras inte)", None),
            ("tom = ingen verksamhet", None),
            ("", None),
            ("De vanligaste orsakerna till anmärkningar", "bold"),
            ("Högst det antal dagar per vecka (må–sö) som beslutet anger, aldrig fler än 4. En vecka med för många dagar blir röd.", None),
            ("Minst 4 timmar per dag: en kortare dag ersätts inte.", None),
            ("Minst 2 timmar individuell handledning per månad (eller det antal beslutet anger).", None),
            ("Kykyviisari eller VAT i början och slutet av perioden: anteckna datumet på fliken Klienter.", None),
            ("", None),
            ("Färger", "bold"),
            ("blå = lördag, orange = söndag eller helgdag, grå = beslutet gäller inte", None),
        ],
    },
    "en": {
        "weekdays": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "guidance_types": ("individual", "group"),
        "instructions": "Instructions",
        "helper": "Calculation",
        "fill_in": "fill in",
        "day_title": "Invalid entry",
        "day_prompt": "X = present, hours 4-12 (e.g. 4.5), S = sick, P = absent without notice, L = on leave",
        "day_error": "Type X, S, P, L or a number of hours from 4 to 12.",
        "prompt_title": "Day code",
        "lines": [
            ("Service voucher invoice template", "bold"),
            ("Fill in the yellow cells. Grey cells are locked: they are outside the decision's period or computed by a formula.", None),
            ("", None),
            ("What to fill in", "bold"),
            ("Invoice: invoice number and invoice date. Provider, business id and billing month are filled in.", None),
            ("Attendance: a code or a number of hours for each day. Attendance days are counted automatically.", None),
            ("Clients: meals (if different from attendance days), travel paid, Kykyviisari and VAT dates, notes.", None),
            ("Guidance: one row per session (decision id, date, duration in hours, type). The hours are carried to Clients.", None),
            ("", None),
            ("Day codes", "bold"),
            ("X = present for the hours of the decision", None),
            ("4-12 = present for that many hours (e.g. 4.5)", None),
            ("S = sick, P = absent without notice, L = on leave (not billed)", None),
            ("empty = no activity", None),
            ("", None),
            ("What most often causes findings", "bold"),
            ("At most the decided days per week (Monday-Sunday), never more than 4. A week with too many days turns red.", None),
            ("At least 4 hours a day: a shorter day is not paid.", None),
            ("At least 2 hours of individual guidance a month (or what the decision says).", None),
            ("Kykyviisari or VAT at the start and at the end of the period: enter the date on Clients.", None),
            ("", None),
            ("Colours", "bold"),
            ("blue = Saturday, orange = Sunday or public holiday, grey = decision not in force", None),
        ],
    },
}


@dataclass(frozen=True)
class Client:
    """One decision in force in the month, as the template needs it."""

    decision_id: str
    hetu: str
    name: str
    first: dt.date  # first day of the month inside the decision's period
    last: dt.date  # last day of the month inside the decision's period
    start: dt.date  # the decision's start
    days_per_week: int
    day_value_cents: int
    meal: str  # tuottaja / korvaus / ei
    travel_per_day_cents: int


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, month_end(first)


def sheet_name(kind: str, lang: str) -> str:
    return SHEETS[kind][LANG_INDEX[lang]]


def _provider_row(registers: Registers, provider_id: str) -> dict:
    rows = registers.providers.filter(pl.col("provider_id") == provider_id).to_dicts()
    if not rows:
        raise JobError(
            f"Provider {provider_id} is not in the providers register.",
            "Check the Y-tunnus, or add the provider to register/providers.",
        )
    return rows[0]


def _approved_in(provider: dict, first: dt.date, last: dt.date) -> bool:
    return provider["approved_from"] <= last and (provider["approved_to"] is None or provider["approved_to"] >= first)


def clients_in_force(registers: Registers, provider_id: str, month: dt.date) -> list[Client]:
    """The provider's decisions in force at any time in the month, by decision number."""
    first, last = month_bounds(month)
    d = registers.decisions.filter(pl.col("provider_id") == provider_id)
    out = []
    for r in d.sort("decision_id").to_dicts():
        stop = last_day(r["end"], r["terminated"])
        if r["start"] > last or stop < first or stop < r["start"]:
            continue
        out.append(
            Client(
                decision_id=r["decision_id"],
                hetu=r["hetu"],
                name=r["name"] or "",
                first=max(first, r["start"]),
                last=min(last, stop),
                start=r["start"],
                days_per_week=r["days_per_week"],
                day_value_cents=r["day_value_cents"],
                meal=r["meal"],
                travel_per_day_cents=r["travel_per_day_cents"],
            )
        )
    return out


def write_template(registers: Registers, config: Config, provider_id: str, month: dt.date, out: Path,
                   lang: str | None = None) -> Path:
    """Write the invoice template of one provider for one month; returns the file written.

    `out` is a file (`*.xlsx`) or a folder, in which the file is named
    `<Y-tunnus>_<YYYY-MM>.xlsx`. `lang` overrides the provider's register
    language. Raises `JobError` for an unknown provider, one not approved in
    the month, or one with no decision in force in the month.
    """
    provider_id = provider_id.strip()
    first, last = month_bounds(month)
    provider = _provider_row(registers, provider_id)
    if not _approved_in(provider, first, last):
        raise JobError(f"Provider {provider_id} is not approved for {first:%Y-%m} in the providers register.")
    clients = clients_in_force(registers, provider_id, first)
    if not clients:
        raise JobError(
            f"Provider {provider_id} has no decision in force in {first:%Y-%m}; no template was written.",
            "Check the month, or the decisions register.",
        )
    lang = lang or provider["lang"] or "fi"
    out = template_path(Path(out), provider_id, first)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".template-", suffix=".xlsx", dir=out.parent)
    os.close(fd)
    try:
        _Builder(Path(tmp), config, provider, clients, first, last, lang).build()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, FILE_MODE & ~umask)  # mkstemp makes 0600; a template is shared like the outbox
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def template_path(out: Path, provider_id: str, first: dt.date) -> Path:
    """The file `--out` names: itself when it ends in `.xlsx`, else `<Y-tunnus>_<YYYY-MM>.xlsx` in the folder
    it names. A name with another extension (`x.xls`, `x.ods`) that is not an existing folder is refused:
    the template is an .xlsx workbook and is never written under a misleading name or as a folder."""
    if out.suffix.lower() == ".xlsx":
        return out
    if out.suffix and not out.is_dir():
        raise UsageError(f"--out {out} is neither an .xlsx file nor a folder.",
                         "Name a file ending in .xlsx, or a folder without an extension.")
    return out / f"{re.sub(r'[^A-Za-z0-9_-]', '_', provider_id)}_{first:%Y-%m}.xlsx"


def write_all_templates(registers: Registers, config: Config, month: dt.date, out_dir: Path,
                        lang: str | None = None) -> tuple[list[Path], list[str]]:
    """One template per provider approved in the month with a decision in force.

    Returns the files written and, for every provider skipped, one sentence
    saying why. Raises `JobError` when no template at all could be written.
    """
    first, last = month_bounds(month)
    written, skipped = [], []
    for provider in registers.providers.sort("provider_id").to_dicts():
        pid = provider["provider_id"]
        if not _approved_in(provider, first, last):
            skipped.append(f"{pid}: not approved for {first:%Y-%m}")
        elif not clients_in_force(registers, pid, first):
            skipped.append(f"{pid}: no decision in force in {first:%Y-%m}")
        else:
            written.append(write_template(registers, config, pid, first, Path(out_dir), lang))
    if not written:
        raise JobError(f"No provider has a decision in force in {first:%Y-%m}; no template was written.")
    return written, skipped


class _Builder:
    """Writes one template workbook with xlsxwriter (deterministic output)."""

    def __init__(self, path: Path, config: Config, provider: dict, clients: list[Client],
                 first: dt.date, last: dt.date, lang: str):
        self.provider, self.clients = provider, clients
        self.first, self.last, self.lang = first, last, lang
        self.t = TEXTS[lang]
        self.rates = config.rates_for(first)
        self.own_unit = bool(provider["own_unit"])
        self.days = [first + dt.timedelta(days=i) for i in range(last.day)]
        fi_holidays = holidays.Finland(years=first.year, language="fi")
        self.red_days = {d for d in self.days if d.weekday() == 6 or d in fi_holidays}
        self.names = {kind: sheet_name(kind, lang) for kind in SHEETS}
        # NUMBERVALUE and UNICHAR (Excel 2013) need their `_xlfn.` prefix in the file.
        self.wb = xlsxwriter.Workbook(str(path), {"use_future_functions": True})
        # Fixed creation time: the same registers, config and month give the same bytes.
        self.wb.set_properties({"created": dt.datetime(first.year, first.month, 1), "title": f"{provider['provider_id']} {first:%Y-%m}"})
        self._formats: dict[tuple, object] = {}
        # Column layout of the two data sheets, by normalised field name.
        self.ccol = {c.field: i for i, c in enumerate(columns(Clients))}
        self.first_client_row = 1  # 0-based: Asiakkaat data start below the header
        self.att_header_row = 1  # 0-based: weekday names on row 0, headers on row 1
        self.att_keys = [*columns(AttendanceKeys), self._spec(Clients, "name"), self._spec(Decisions, "days_per_week")]
        self.first_day_col = len(self.att_keys)
        self.count_col = self.first_day_col + len(self.days)

    @staticmethod
    def _spec(model: type, field: str):
        return next(c for c in columns(model) if c.field == field)

    def fmt(self, **props) -> object:
        """A cell format, created once per distinct set of properties."""
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format({"border": 1, "border_color": "#BFBFBF", **props})
        return self._formats[key]

    def build(self) -> None:
        invoice = self.wb.add_worksheet(self.names["invoice"])
        clients = self.wb.add_worksheet(self.names["clients"])
        attendance = self.wb.add_worksheet(self.names["attendance"])
        guidance = self.wb.add_worksheet(self.names["guidance"])
        instructions = self.wb.add_worksheet(self.t["instructions"])
        helper = self.wb.add_worksheet(self.t["helper"])
        self._attendance(attendance)
        self._clients(clients)
        self._invoice(invoice)
        self._guidance(guidance)
        self._instructions(instructions)
        self._helper(helper)
        for ws, header_rows in ((invoice, 0), (clients, 1), (attendance, self.att_header_row + 1), (guidance, 1),
                                (instructions, 0)):
            self._print(ws, header_rows)
        invoice.activate()
        self.wb.close()

    # --- Läsnäolo ---------------------------------------------------------

    def _day_cell(self, row: int, day: dt.date) -> str:
        return xl_rowcol_to_cell(row, self.first_day_col + day.day - 1)

    def _count_formula(self, row: int) -> str:
        """A row's attendance days: the day cells that claim attendance, as the checker counts them (R208)."""
        span = f"{self._day_cell(row, self.days[0])}:{self._day_cell(row, self.days[-1])}"
        return f"=SUM('{self.t['helper']}'!{span})"

    # --- the hidden helper sheet ------------------------------------------

    @staticmethod
    def _trimmed(ref: str) -> str:
        """A cell's text as the checker cleans it: no-break spaces made ordinary, trimmed."""
        return f'TRIM(SUBSTITUTE({ref},UNICHAR(160)," "))'

    @classmethod
    def _number(cls, ref: str) -> str:
        """A cell as the checker reads a number: a real number as it is; text with a decimal comma or point,
        spaces and a euro sign (`1 234,50 €`, `4,5`, `12.50`) by NUMBERVALUE, which does not depend on the
        spreadsheet's locale; empty or unreadable text as 0 (the checker reports it, V101)."""
        text = f'SUBSTITUTE(SUBSTITUTE({cls._trimmed(ref)},"€",""),".",",")'
        return f'IF(ISNUMBER({ref}),{ref},IFERROR(NUMBERVALUE({text},","," "),0))'

    def _helper(self, ws) -> None:
        att = self.names["attendance"]
        for n, client in enumerate(self.clients):
            r = self.att_header_row + 1 + n
            for day in self.days:
                c = self.first_day_col + day.day - 1
                ref = f"'{att}'!{xl_rowcol_to_cell(r, c)}"
                t = self._trimmed(ref)
                # Claims attendance (the checker's R208 count): an error value, any number, any text but S, P, L.
                ws.write_formula(r, c, (
                    f'=IF(ISERROR({ref}),1,IF(ISNUMBER({ref}),1,IF({t}="",0,'
                    f'IF(OR(UPPER({t})="S",UPPER({t})="P",UPPER({t})="L"),0,1))))'), None, 0)
                # May be paid (for the week's colour): X, or 4-24 hours cut to hundredths. |h - 14| <= 10.
                middle = (MIN_HOURS + PAID_MAX_HOURS) / 2
                ws.write_formula(r, c + ELIGIBLE_OFFSET, (
                    f'=IF(ISERROR({ref}),0,IF(UPPER({t})="X",1,'
                    f'IFERROR((ABS(TRUNC({self._number(ref)},2)-{middle:g})<={PAID_MAX_HOURS - middle:g})*1,0)))'),
                    None, 0)
        gd = self.names["guidance"]
        hours = self._guidance_col("hours_h100")
        for r in range(1, GUIDANCE_ROWS + 1):  # hours cut to hundredths, as the checker reads them
            ws.write_formula(r, GUIDANCE_HOURS_COL, f"=TRUNC({self._number(f'{chr(39)}{gd}{chr(39)}!{hours}{r + 1}')},2)",
                             None, 0)
        ws.very_hidden()
        ws.protect("")

    def _attendance(self, ws) -> None:
        hdr = self.fmt(bold=True, bg_color=HEADER_FILL, align="center", valign="top", text_wrap=True)
        ws.write_string(0, 0, f"{self.first:%Y-%m}", self.fmt(bold=True))
        for i, spec in enumerate(self.att_keys):
            ws.write_string(self.att_header_row, i, spec.header(self.lang), hdr)
        for day in self.days:
            c = self.first_day_col + day.day - 1
            shade = self._shade(day)
            ws.write_string(0, c, self.t["weekdays"][day.weekday()], self.fmt(align="center", bg_color=shade or "#FFFFFF"))
            ws.write_number(self.att_header_row, c, day.day, self.fmt(bold=True, align="center", bg_color=shade or HEADER_FILL))
            ws.set_column(c, c, 4.5)
        ws.write_string(self.att_header_row, self.count_col, self._spec(Clients, "days_claimed").header(self.lang), hdr)

        locked = self.fmt(bg_color=HEADER_FILL)
        for n, client in enumerate(self.clients):
            r = self.att_header_row + 1 + n
            ws.write_string(r, 0, client.decision_id, locked)
            ws.write_string(r, 1, client.hetu, locked)
            ws.write_string(r, 2, client.name, locked)
            ws.write_number(r, 3, client.days_per_week, self.fmt(bg_color=HEADER_FILL, align="center"))
            for day in self.days:
                if client.first <= day <= client.last:
                    style = self.fmt(bg_color=self._shade(day) or INPUT_FILL, locked=False, align="center")
                else:
                    style = self.fmt(bg_color=OUTSIDE_FILL)
                ws.write_blank(r, self.first_day_col + day.day - 1, None, style)
            ws.write_formula(r, self.count_col, self._count_formula(r), self.fmt(bold=True, bg_color=HEADER_FILL, align="center"), 0)

        top, bottom = self.att_header_row + 1, self.att_header_row + len(self.clients)
        left, right = self.first_day_col, self.count_col - 1
        # A drop-down of the contract's codes and whole hours. Its error style is
        # "warning": half hours (4,5) are valid contract values a list cannot hold,
        # so anything else typed is questioned, not refused; the reader decides.
        ws.data_validation(top, left, bottom, right, {
            "validate": "list",
            "source": [*DAY_LIST_CODES, *(str(h) for h in range(MIN_HOURS, MAX_HOURS + 1))],
            "ignore_blank": True,
            "error_type": "warning",
            "input_title": self.t["prompt_title"],
            "input_message": self.t["day_prompt"],
            "error_title": self.t["day_title"],
            "error_message": self.t["day_error"],
        })
        # A calendar week (Monday-Sunday, clipped to the month) with more attendance than decided turns red.
        over = self.fmt(bg_color=OVER_WEEK_FILL, font_color="#9C0006", bold=True)
        week_days_col = xl_col_to_name(3)
        helper = self.t["helper"]
        for week in self._weeks():
            a, b = self.first_day_col + week[0].day - 1, self.first_day_col + week[-1].day - 1
            span = (f"'{helper}'!${xl_col_to_name(a + ELIGIBLE_OFFSET)}{top + 1}"
                    f":${xl_col_to_name(b + ELIGIBLE_OFFSET)}{top + 1}")
            cell = xl_rowcol_to_cell(top, a)
            ws.conditional_format(top, a, bottom, b, {
                "type": "formula",
                "criteria": f'=AND({cell}<>"",SUM({span})>${week_days_col}{top + 1})',
                "format": over,
            })
        ws.freeze_panes(top, self.first_day_col)
        heads = {i: spec.header(self.lang) for i, spec in enumerate(self.att_keys)}
        heads[self.count_col] = self._spec(Clients, "days_claimed").header(self.lang)
        self._headers_fit(ws, self.att_header_row, heads, {0: 14, 1: 14, 2: 24, 3: 10, self.count_col: 12})
        ws.protect("", {"format_columns": True, "format_rows": True})

    def _shade(self, day: dt.date) -> str | None:
        """The fill of a day's column: Sundays and public holidays, Saturdays, else none."""
        if day in self.red_days:
            return HOLIDAY_FILL
        return SATURDAY_FILL if day.weekday() == 5 else None

    def _weeks(self) -> list[list[dt.date]]:
        weeks: list[list[dt.date]] = []
        for day in self.days:
            if not weeks or day.weekday() == 0:
                weeks.append([])
            weeks[-1].append(day)
        return weeks

    # --- Asiakkaat --------------------------------------------------------

    def _cell(self, field: str, row: int, absolute_col: bool = False) -> str:
        return xl_rowcol_to_cell(row, self.ccol[field], col_abs=absolute_col)

    def _clients(self, ws) -> None:
        hdr = self.fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, valign="top")
        for spec in columns(Clients):
            ws.write_string(0, self.ccol[spec.field], spec.header(self.lang), hdr)
        locked = self.fmt(bg_color=HEADER_FILL)
        locked_number = self.fmt(bg_color=HEADER_FILL, num_format="0.00")
        input_int = self.fmt(bg_color=INPUT_FILL, locked=False, num_format="0")
        input_money = self.fmt(bg_color=INPUT_FILL, locked=False, num_format="0.00")
        input_date = self.fmt(bg_color=INPUT_FILL, locked=False, num_format="d.m.yyyy")
        input_text = self.fmt(bg_color=INPUT_FILL, locked=False)
        att = self.names["attendance"]
        gd = self.names["guidance"]
        g_last = GUIDANCE_ROWS + 1
        g_dec, g_hours, g_type = (self._guidance_col(f) for f in ("decision_id", "hours_h100", "type"))
        individual, group = self.t["guidance_types"]
        meal_price, meal_comp = euros(self.rates.meal_price_cents), euros(self.rates.meal_compensation_cents)

        for n, client in enumerate(self.clients):
            r = self.first_client_row + n
            day_value = 0 if self.own_unit else client.day_value_cents
            days = self._cell("days_claimed", r)
            ws.write_string(r, self.ccol["decision_id"], client.decision_id, locked)
            ws.write_string(r, self.ccol["hetu"], client.hetu, locked)
            ws.write_string(r, self.ccol["name"], client.name, locked)
            att_count = xl_rowcol_to_cell(self.att_header_row + 1 + n, self.count_col)
            ws.write_formula(r, self.ccol["days_claimed"], f"='{att}'!{att_count}", self.fmt(bg_color=HEADER_FILL, num_format="0"), 0)
            ws.write_number(r, self.ccol["day_value_cents"], day_value / 100, locked_number)
            ws.write_formula(r, self.ccol["fee_cents"], f"=ROUND({days}*{self._cell('day_value_cents', r)},2)", locked_number, 0)
            for field, mode in (("meals", "tuottaja"), ("meal_comp_days", "korvaus")):
                if client.meal == mode:
                    ws.write_formula(r, self.ccol[field], f"={days}", input_int, 0)
                    top = f"={days}"
                else:
                    ws.write_number(r, self.ccol[field], 0, self.fmt(bg_color=HEADER_FILL, num_format="0"))
                    top = 0
                ws.data_validation(r, self.ccol[field], r, self.ccol[field], {
                    "validate": "integer", "criteria": "between", "minimum": 0, "maximum": top})
            ws.write_blank(r, self.ccol["travel_cents"], None, input_money)
            ws.data_validation(r, self.ccol["travel_cents"], r, self.ccol["travel_cents"], {
                "validate": "decimal", "criteria": "between", "minimum": 0,
                "maximum": f"=ROUND({days}*{euros(client.travel_per_day_cents)},2)"})
            helper = self.t["helper"]
            h_col = xl_col_to_name(GUIDANCE_HOURS_COL)
            for field, kind in (("guidance_individual_h100", individual), ("guidance_group_h100", group)):
                # The log's hours as numbers from the helper sheet: hours typed as text (`1,5`) count too.
                ws.write_formula(r, self.ccol[field], (
                    f"=ROUND(SUMIFS('{helper}'!${h_col}$2:${h_col}${g_last},'{gd}'!${g_dec}$2:${g_dec}${g_last},"
                    f"{self._cell('decision_id', r, absolute_col=True)},'{gd}'!${g_type}$2:${g_type}${g_last},\"{kind}\"),2)"),
                    locked_number, 0)
            for field in ("kykyviisari_date", "vat_date"):
                ws.write_blank(r, self.ccol[field], None, input_date)
                ws.data_validation(r, self.ccol[field], r, self.ccol[field], {
                    "validate": "date", "criteria": "between",
                    "minimum": dt.datetime.combine(client.start, dt.time()),
                    "maximum": dt.datetime.combine(self.last, dt.time())})
            # Items the provider may type as text (`12,50`) are read as the checker reads them, never #VALUE!.
            num = self._number
            ws.write_formula(r, self.ccol["total_cents"], (
                f"=ROUND({self._cell('fee_cents', r)}+{num(self._cell('meals', r))}*{meal_price}"
                f"+{num(self._cell('meal_comp_days', r))}*{meal_comp}+{num(self._cell('travel_cents', r))},2)"),
                self.fmt(bold=True, bg_color=HEADER_FILL, num_format="0.00"), 0)
            ws.write_blank(r, self.ccol["notes"], None, input_text)

        top, bottom = self.first_client_row, self.first_client_row + len(self.clients) - 1
        for field, rule in (
            ("days_claimed", {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": 23}),
            ("day_value_cents", {"validate": "decimal", "criteria": ">=", "value": 0}),
            ("fee_cents", {"validate": "decimal", "criteria": ">=", "value": 0}),
            ("guidance_individual_h100", {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 24}),
            ("guidance_group_h100", {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 24}),
            ("total_cents", {"validate": "decimal", "criteria": ">=", "value": 0}),
            ("notes", {"validate": "length", "criteria": "<=", "value": 500}),
        ):
            ws.data_validation(top, self.ccol[field], bottom, self.ccol[field], rule)
        ws.freeze_panes(1, self.ccol["days_claimed"])
        widths = {i: 13 for i in range(len(self.ccol))}
        widths.update({self.ccol["name"]: 24, self.ccol["notes"]: 30})
        self._headers_fit(ws, 0, {self.ccol[spec.field]: spec.header(self.lang) for spec in columns(Clients)}, widths)
        ws.protect("", {"format_columns": True, "format_rows": True})

    # --- Lasku ------------------------------------------------------------

    def _invoice(self, ws) -> None:
        label = self.fmt(bold=True, bg_color=HEADER_FILL)
        locked = self.fmt(bg_color=HEADER_FILL)
        total_col = xl_col_to_name(self.ccol["total_cents"])
        last_row = self.first_client_row + len(self.clients)
        for r, spec in enumerate(columns(InvoiceHeader)):
            ws.write_string(r, 0, spec.header(self.lang), label)
            if spec.field == "provider_name":
                ws.write_string(r, 1, self.provider["name"] or "", locked)
            elif spec.field == "provider_id":
                ws.write_string(r, 1, self.provider["provider_id"], locked)
            elif spec.field == "billing_month":
                ws.write_string(r, 1, f"{self.first:%Y-%m}", locked)
            elif spec.field == "invoice_no":
                ws.write_blank(r, 1, None, self.fmt(bg_color=INPUT_FILL, locked=False, num_format="@"))
                ws.data_validation(r, 1, r, 1, {"validate": "length", "criteria": "between", "minimum": 1, "maximum": 40})
                ws.write_string(r, 2, f"← {self.t['fill_in']}")
            elif spec.field == "invoice_date":
                ws.write_blank(r, 1, None, self.fmt(bg_color=INPUT_FILL, locked=False, num_format="d.m.yyyy"))
                ws.data_validation(r, 1, r, 1, {
                    "validate": "date", "criteria": "between",
                    "minimum": dt.datetime.combine(self.first, dt.time()),
                    "maximum": dt.datetime.combine(self.last + dt.timedelta(days=366), dt.time())})
                ws.write_string(r, 2, f"← {self.t['fill_in']}")
            elif spec.field == "total_cents":
                ws.write_formula(r, 1, f"=ROUND(SUM('{self.names['clients']}'!{total_col}2:{total_col}{last_row}),2)",
                                 self.fmt(bold=True, bg_color=HEADER_FILL, num_format="0.00"), 0)
        ws.set_column(0, 0, 22)
        ws.set_column(1, 1, 28)
        ws.set_column(2, 2, 12)
        ws.protect("", {"format_columns": True, "format_rows": True})

    # --- Ohjaus -----------------------------------------------------------

    def _guidance_col(self, field: str) -> str:
        return xl_col_to_name(next(i for i, c in enumerate(columns(GuidanceLog)) if c.field == field))

    def _guidance(self, ws) -> None:
        hdr = self.fmt(bold=True, bg_color=HEADER_FILL, text_wrap=True, valign="top")
        specs = columns(GuidanceLog)
        for i, spec in enumerate(specs):
            ws.write_string(0, i, spec.header(self.lang), hdr)
        idx = {c.field: i for i, c in enumerate(specs)}
        dec_col = xl_col_to_name(self.ccol["decision_id"])
        hetu_col = xl_col_to_name(self.ccol["hetu"])
        n = len(self.clients)
        clients_sheet = self.names["clients"]
        rules = {
            "decision_id": {"validate": "list", "source": f"='{clients_sheet}'!${dec_col}$2:${dec_col}${n + 1}"},
            "hetu": {"validate": "list", "source": f"='{clients_sheet}'!${hetu_col}$2:${hetu_col}${n + 1}"},
            "date": {"validate": "date", "criteria": "between",
                     "minimum": dt.datetime.combine(self.first, dt.time()),
                     "maximum": dt.datetime.combine(self.last, dt.time())},
            "hours_h100": {"validate": "decimal", "criteria": "between", "minimum": 0.25, "maximum": 12},
            "type": {"validate": "list", "source": list(self.t["guidance_types"])},
            "instructor": {"validate": "length", "criteria": "<=", "value": 100},
        }
        for field, rule in rules.items():
            ws.data_validation(1, idx[field], GUIDANCE_ROWS, idx[field], rule)
        ws.set_column(idx["date"], idx["date"], 12, self.fmt(num_format="d.m.yyyy"))
        self._headers_fit(ws, 0, {i: spec.header(self.lang) for i, spec in enumerate(specs)},
                          {i: 14 for i in range(len(specs))} | {idx["instructor"]: 24}, fmt=self.fmt(num_format="d.m.yyyy"),
                          fmt_cols={idx["date"]})
        ws.freeze_panes(1, 0)

    # --- Ohje -------------------------------------------------------------

    def _instructions(self, ws) -> None:
        bold = self.wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        plain = self.wb.add_format({"text_wrap": True, "valign": "top"})
        width = 100
        for r, (text, style) in enumerate(self.t["lines"]):
            if text:
                ws.write_string(r, 0, text, bold if style else plain)
                ws.set_row(r, LINE_POINTS * lines_needed(text, width))
        ws.set_column(0, 0, width)

    # --- layout shared by the sheets --------------------------------------

    @staticmethod
    def _headers_fit(ws, row: int, heads: dict[int, str], widths: dict[int, float], fmt=None,
                     fmt_cols: set[int] = frozenset()) -> None:
        """Columns at least as wide as their header's longest word, the header row tall enough for its
        wrapped headers: no header is clipped (`äivää viikoss`)."""
        lines = 1
        for col, width in widths.items():
            head = heads.get(col, "")
            width = max(width, max((len(w) for w in head.split()), default=0) + 3)
            ws.set_column(col, col, width, fmt if col in fmt_cols else None)
            lines = max(lines, lines_needed(head, int(width)))
        ws.set_row(row, LINE_POINTS * lines)

    @staticmethod
    def _print(ws, header_rows: int) -> None:
        """A4 landscape, one page wide, the header rows on every page."""
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        if header_rows:
            ws.repeat_rows(0, header_rows - 1)
