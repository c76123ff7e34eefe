"""The demo inbox (`reconcile demo`): a realistic synthetic registers-and-invoices inbox.

This module stands before the pipeline, not in it: it writes what the
pipeline reads (CONTRACT.md section 2), so the program can be tried, shown
and benchmarked without real clients' data.

`generate()` plans everything in memory and is pure: the registers, one
invoice per provider and batch month, and, when `anomaly_rate > 0`, the
mistakes it planted (`Plan.anomalies`, each with its rule code, batch, file,
decision and date). `write_inbox()` writes a plan as `register/decisions.xlsx`,
`register/providers.xlsx` and one folder of provider workbooks per batch.

Clean data (rate 0) respects every rule of RULES.md: attendance only inside
the decision's period, on weekdays that are not Finnish public holidays, at
most the decided days per Monday-Sunday week (a week spanning two batch
months included), 4-8 hours a day; meals, meal compensation and travel within
the decision and `config/rates.toml`; individual guidance at least the
monthly minimum times the month's share in the period; Kykyviisari and VAT
dates at the start and end of periods; row and invoice totals that add up.
Every random choice comes from generators seeded by `seed` (per decision
where it matters) and every workbook has fixed properties, so the same
arguments give byte-identical files.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import io
import itertools
import random
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import holidays
import xlsxwriter

from reconcile import config as config_mod, periods
from reconcile.periods import month_end
from reconcile.config import Config, Rates
from reconcile.errors import UsageError
from schemas import SHEETS, columns
from schemas.invoice import AttendanceKeys, Clients, GuidanceLog, InvoiceHeader
from schemas.registers import NEXT_STEPS, Decisions, Providers

FIXED_TIME = dt.datetime(2026, 1, 1, 8, 0, 0)  # workbook "created" property: same bytes every run
LANG_INDEX = {"fi": 0, "sv": 1, "en": 2}
TOTAL_LABEL = {"fi": "Yhteensä", "sv": "Totalt", "en": "Total"}
GUIDANCE_TYPE = {"fi": ("yksilö", "ryhmä"), "sv": ("individuell", "grupp"), "en": ("individual", "group")}
TITLE = {"fi": "Asiakkaat", "sv": "Klienter", "en": "Clients"}
MONTH_WORD = ["tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesakuu",
              "heinakuu", "elokuu", "syyskuu", "lokakuu", "marraskuu", "joulukuu"]
HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
YTUNNUS_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)

# Kinds of mistake planted in invoice rows, in the order they are handed out.
ROW_KINDS = ("V101", "V102", "V103", "V104", "V105", "V106", "V107", "R201", "R202", "R203", "R204",
             "R205", "R206", "R207", "R208", "R209", "R210", "R211", "R212", "R213", "R214", "R215",
             "R221", "R222", "R223", "R226")
# Everything RULES.md names that a workbook or register can carry (F002 as a macro part).
PLANTABLE = ROW_KINDS + ("F001", "F002", "F003", "F004", "F005", "F006", "F007", "F008",
                         "R216", "R217", "R218", "R219", "R220", "R224", "R225")

FIRST_FI = ["Aino", "Eino", "Helmi", "Juhani", "Kaisa", "Lauri", "Maria", "Mikko", "Niina", "Oskari", "Pirjo",
            "Sami", "Tiina", "Ville", "Anneli", "Jari", "Katja", "Markku", "Riikka", "Timo", "Sanna", "Petri",
            "Leena", "Antti", "Hanna", "Jussi", "Minna", "Tuomas", "Satu", "Kari"]
LAST_FI = ["Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
           "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen", "Niemi",
           "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Salo", "Laitinen", "Tuominen", "Rantanen"]
FIRST_SV = ["Anders", "Britt", "Elin", "Fredrik", "Gunilla", "Henrik", "Ingrid", "Johan", "Karin", "Lars",
            "Maja", "Nils", "Sofia", "Stefan", "Ulla"]
LAST_SV = ["Andersson", "Björklund", "Ekström", "Forsman", "Granholm", "Holmström", "Lindqvist", "Lindroos",
           "Nyberg", "Sjöberg", "Söderholm", "Westerlund"]
PROVIDER_WORDS = ["Aura", "Kupittaa", "Martti", "Hirvensalo", "Runosmäki", "Varissuo", "Nummi", "Skanssi",
                  "Pansio", "Halinen", "Itäharju", "Kurala", "Moisio", "Lauste", "Jäkärlä", "Maaria"]
PROVIDER_KINDS = ["Työpaja", "Kierrätyskeskus", "Puutyöverstas", "Kahvila", "Tekstiilipaja", "Viherpalvelut",
                  "Kädentaidot", "Toimintakeskus"]
PROVIDER_FORMS = ["Oy", "ry", "Osuuskunta", "säätiö sr"]
CASEWORKERS = ["Laine Riikka", "Nurmi Jaana", "Aalto Petri", "Koivisto Outi", "Lindholm Eva", "Suominen Tero"]
INSTRUCTORS = ["Heli", "Markus", "Päivi", "Tommi", "Susanna", "Arto"]


# ---------------------------------------------------------------- plan records


@dataclass
class Provider:
    provider_id: str
    name: str
    approved_from: dt.date
    approved_to: dt.date | None
    own_unit: bool
    email: str
    lang: str
    day_value_cents: int  # for 4-5 hour days; longer days are worth 5.00 more
    slug: str  # for file names
    title_rows: int = 0  # rows above the Asiakkaat header
    totals_row: bool = False  # a trailing Yhteensä row on Asiakkaat
    guidance_sheet: bool = True
    text_numbers: bool = False  # types some euros and hours as text with a decimal comma
    text_dates: bool = False  # types some dates as text d.m.yyyy
    lower_x: bool = False  # types x instead of X
    month_style: int = 0  # how Laskutuskausi is typed


@dataclass
class Decision:
    decision_id: str
    hetu: str
    name: str
    provider_id: str
    voucher_no: str
    start: dt.date
    end: dt.date
    terminated: dt.date | None
    days_per_week: int
    hours_h100: int
    day_value_cents: int
    meal: str
    travel_per_day_cents: int
    benefit: str
    guidance_min_h100: int | None
    caseworker: str
    next_step: str | None

    @property
    def last_day(self) -> dt.date:
        return periods.last_day(self.end, self.terminated)

    def in_force(self, first: dt.date, last: dt.date) -> bool:
        return self.start <= last and self.last_day >= first


@dataclass
class Row:
    """One decision on an invoice: its Asiakkaat row, Läsnäolo row and guidance sessions, as typed."""

    decision_id: str
    hetu: str
    name: str
    values: dict[str, Any]  # Clients field -> cell value as written (None: empty)
    days: dict[int, Any]  # Läsnäolo day header -> cell value as written
    sessions: list[tuple[Any, Any, str, str]] = field(default_factory=list)  # date, hours, type, instructor
    attendance_row: bool = True  # False: no Läsnäolo row (R223)
    planted: bool = False  # already carries a planted mistake


@dataclass
class InvoicePlan:
    batch: str
    file: str
    provider_id: str
    lang: str
    billing_month: dt.date
    invoice_no: str
    header: dict[str, Any]  # InvoiceHeader field -> value as written
    rows: list[Row]
    day_headers: list[int]
    drop_sheet: str | None = None  # sheet kind left out (F003)
    drop_column: str | None = None  # Clients field left out (F004)
    damage: str | None = None  # "truncate" (F001) or "macro" (F002), applied to the written file
    genuine: bool = True  # the provider's one ordinary invoice of its batch


@dataclass(frozen=True)
class Anomaly:
    kind: str  # the rule code the checker should report
    batch: str
    file: str  # source file name: an invoice in the batch folder, or "decisions.xlsx" in register/
    decision_id: str | None = None
    date: dt.date | None = None
    note: str = ""


@dataclass
class Plan:
    batches: list[dt.date]
    providers: list[Provider]
    decisions: list[Decision]
    invoices: list[InvoicePlan]
    anomalies: list[Anomaly]

    def kinds(self) -> set[str]:
        return {a.kind for a in self.anomalies}


@dataclass(frozen=True)
class ErrorValue:
    """A cell holding an Excel error value, written as a formula whose cached result is the error."""

    text: str


@dataclass(frozen=True)
class Formula:
    text: str
    cached: Any


# ---------------------------------------------------------------- small helpers


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def month_key(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def parse_batches(text: str) -> list[dt.date]:
    """`2026-10..2026-11` or `2026-11` -> the first days of the months, in order."""
    m = re.fullmatch(r"\s*(\d{4})-(\d{2})\s*(?:\.\.\s*(\d{4})-(\d{2})\s*)?", text)
    if not m or not 1 <= int(m[2]) <= 12 or (m[3] and not 1 <= int(m[4]) <= 12):
        raise UsageError(f"--batches {text!r} is not YYYY-MM or YYYY-MM..YYYY-MM.")
    first = dt.date(int(m[1]), int(m[2]), 1)
    last = dt.date(int(m[3]), int(m[4]), 1) if m[3] else first
    n = (last.year - first.year) * 12 + last.month - first.month + 1
    if not 1 <= n <= 24:
        raise UsageError(f"--batches {text!r} must name 1 to 24 months, the first one first.")
    return [add_months(first, i) for i in range(n)]


def hetu_check(ddmmyy: str, individual: int) -> str:
    return HETU_CHECK[int(f"{ddmmyy}{individual:03d}") % 31]


def make_hetu(rng: random.Random, taken: set[str]) -> str:
    """A valid henkilötunnus of an adult (18-65), sometimes with a century sign of 2023."""
    while True:
        born = dt.date(1961, 1, 1) + dt.timedelta(days=rng.randrange(46 * 365))
        if born.year >= 2000:
            sign = rng.choice("AAAABCDEF")
        else:
            sign = rng.choice("------YXWVU")
        individual = rng.randrange(2, 900)
        ddmmyy = born.strftime("%d%m%y")
        hetu = f"{ddmmyy}{sign}{individual:03d}{hetu_check(ddmmyy, individual)}"
        if hetu not in taken:
            taken.add(hetu)
            return hetu


def make_ytunnus(rng: random.Random, taken: set[str]) -> str:
    """A valid Y-tunnus: seven digits and the mod-11 check digit."""
    while True:
        digits = f"{rng.randrange(0, 3400000):07d}"
        rest = sum(int(c) * w for c, w in zip(digits, YTUNNUS_WEIGHTS)) % 11
        if rest == 1:
            continue
        ytunnus = f"{digits}-{0 if rest == 0 else 11 - rest}"
        if ytunnus not in taken:
            taken.add(ytunnus)
            return ytunnus


def period_end(start: dt.date, months: int) -> dt.date:
    """End of a period of `months` months, kept clear of the 3- and 24-month limits (R224)."""
    end = add_months(start, months) - dt.timedelta(days=1)
    if months <= 3:
        end += dt.timedelta(days=14)
    elif months >= 24:
        end -= dt.timedelta(days=14)
    return end


def claims(value: Any) -> bool:
    """Does a day cell as written claim attendance (X or a number)?"""
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and (value.strip().upper() == "X" or bool(re.fullmatch(r"\s*\d+([,.]\d+)?\s*", value)))


def decimal_comma(h100_or_cents: int) -> str:
    sign = "-" if h100_or_cents < 0 else ""
    whole, frac = divmod(abs(h100_or_cents), 100)
    return f"{sign}{whole},{frac:02d}"


class Typist:
    """How one provider types values: numbers or text with a decimal comma, real dates or text."""

    def __init__(self, provider: Provider, rng: random.Random):
        self.p = provider
        self.rng = rng

    def euros(self, cents: int) -> Any:
        if self.p.text_numbers and self.rng.random() < 0.5:
            return decimal_comma(cents)
        return cents / 100

    def hours(self, h100: int) -> Any:
        if h100 % 100 == 0:
            return h100 // 100
        if self.p.text_numbers and self.rng.random() < 0.6:
            return decimal_comma(h100).rstrip("0").rstrip(",") if h100 % 10 == 0 else decimal_comma(h100)
        return h100 / 100

    def date(self, d: dt.date | None) -> Any:
        if d is None:
            return None
        if self.p.text_dates and self.rng.random() < 0.5:
            return f"{d.day}.{d.month}.{d.year}"
        return d

    def month(self, month: dt.date) -> Any:
        style = self.p.month_style
        return [month_key(month), f"{month.month}/{month.year}", f"{month.month}.{month.year}", month][style]


# ---------------------------------------------------------------- registers


def _providers(rng: random.Random, n: int, batches: list[dt.date], lapses: bool) -> list[Provider]:
    taken: set[str] = set()
    slugs: set[str] = set()
    out = []
    last_batch = batches[-1]
    for i in range(n):
        pid = make_ytunnus(rng, taken)
        approved_from = dt.date(rng.randrange(2018, 2025), rng.randrange(1, 13), 1)
        approved_to = None if rng.random() < 0.7 else dt.date(last_batch.year + 2, 12, 31)
        lang, own = "fi", False
        if i == 0:
            name = "Turun kaupunki, Työllisyyspalvelukeskus (oma yksikkö)"
            own, approved_to = True, None
        elif i == 1:
            name = f"Föreningen {rng.choice(['Arbetsstugan', 'Verkstaden', 'Gemenskapen'])} i Åbo rf"
            lang = "sv"
        else:
            name = f"{PROVIDER_WORDS[i % len(PROVIDER_WORDS)]}n {rng.choice(PROVIDER_KINDS).lower()} {rng.choice(PROVIDER_FORMS)}"
            if i >= len(PROVIDER_WORDS):
                name = f"{name} {i // len(PROVIDER_WORDS) + 1}"
            if i == 3:
                lang = "en"  # an English-speaking association: every language of the contract occurs
            if i == 2:
                # Its approval lapses: before the last batch month when mistakes are planted (F006),
                # else at the end of it.
                approved_to = (last_batch - dt.timedelta(days=1)) if lapses else month_end(last_batch)
        slug = re.sub(r"[^a-z0-9]+", "_", name.lower().replace("ä", "a").replace("ö", "o").replace("å", "a")).strip("_")[:28].strip("_")
        if slug in slugs:  # file names of different providers must never collide
            slug = f"{slug}_{i}"
        slugs.add(slug)
        out.append(Provider(
            provider_id=pid, name=name, approved_from=approved_from, approved_to=approved_to, own_unit=own,
            email=f"laskutus@{slug.split('_')[0]}.fi", lang=lang,
            day_value_cents=0 if own else rng.choice([3200, 3500, 3800, 4000, 4200, 4500]),
            slug=slug, title_rows=rng.choice([0, 0, 2]), totals_row=rng.random() < 0.4,
            guidance_sheet=rng.random() < 0.7, text_numbers=rng.random() < 0.35, text_dates=rng.random() < 0.3,
            lower_x=rng.random() < 0.2, month_style=rng.randrange(4),
        ))
    return out


class DecisionMaker:
    def __init__(self, rng: random.Random, batches: list[dt.date], providers: list[Provider]):
        self.rng = rng
        self.first = batches[0]
        self.last = month_end(batches[-1])
        self.providers = providers
        self.hetus: set[str] = set()
        self.seq = 0
        # Provider sizes: a few big, many small; the own unit mid-sized.
        self.weights = [min(rng.paretovariate(1.5), 8.0) for _ in providers]

    def person(self, provider: Provider) -> tuple[str, str]:
        first, last = (FIRST_SV, LAST_SV) if provider.lang == "sv" and self.rng.random() < 0.7 else (FIRST_FI, LAST_FI)
        return make_hetu(self.rng, self.hetus), f"{self.rng.choice(last)} {self.rng.choice(first)}"

    def provider(self, exclude: tuple[str, ...] = ()) -> Provider:
        while True:
            p = self.rng.choices(self.providers, self.weights)[0]
            if p.provider_id not in exclude:
                return p

    def decision(self, hetu: str, name: str, provider: Provider, start: dt.date, end: dt.date,
                 terminated: dt.date | None = None, benefit: str | None = None, next_step: str | None = None) -> Decision:
        rng = self.rng
        self.seq += 1
        hours = rng.choice([400, 400, 450, 500, 600, 600, 700, 800])
        meal = "ei" if provider.own_unit else rng.choice(["tuottaja"] * 6 + ["korvaus"] * 3 + ["ei"])
        return Decision(
            decision_id=f"KT{start.year}-{self.seq:05d}",
            hetu=hetu, name=name, provider_id=provider.provider_id,
            voucher_no="" if provider.own_unit else f"PS{start.year % 100:02d}{self.seq:06d}",
            start=start, end=end, terminated=terminated,
            days_per_week=rng.choice([1, 2, 2, 3, 3, 3, 4, 4]), hours_h100=hours,
            day_value_cents=0 if provider.own_unit else provider.day_value_cents + (500 if hours >= 600 else 0),
            meal=meal,
            travel_per_day_cents=0 if provider.own_unit else rng.choice([0, 0, 280, 320, 320, 560, 640, 800]),
            benefit=benefit or rng.choice(["työttömyysetuus"] * 7 + ["toimeentulotuki"] * 3),
            guidance_min_h100=rng.choice([None, None, None, 300, 400]),
            caseworker=rng.choice(CASEWORKERS), next_step=next_step,
        )

    def client(self) -> list[Decision]:
        """One client: a current period overlapping the batch months, sometimes an earlier one."""
        rng = self.rng
        provider = self.provider()
        hetu, name = self.person(provider)
        while True:
            months = rng.choice([3, 4, 6, 6, 6, 9, 12, 12, 12, 18, 24])
            lo = add_months(self.first, -months) + dt.timedelta(days=20)
            hi = self.last - dt.timedelta(days=10)
            start = lo + dt.timedelta(days=rng.randrange((hi - lo).days + 1))
            snap = rng.random()
            start = start - dt.timedelta(days=start.weekday()) if snap < 0.5 else start.replace(day=1) if snap < 0.8 else start
            end = period_end(start, months)
            if start <= self.last and end >= self.first:
                break
        terminated = None
        if rng.random() < 0.12 and (end - start).days > 130:
            terminated = start + dt.timedelta(days=rng.randrange(110, (end - start).days - 10))
        last_day = terminated or end
        next_step = None
        if last_day <= self.last and rng.random() < 0.75:
            next_step = rng.choice([s for s in NEXT_STEPS if s != "uusi jakso"] + ["työ", "työkokeilu"])
            next_step = "TE-palvelu" if next_step == "te-palvelu" else next_step
        out = [self.decision(hetu, name, provider, start, end, terminated, next_step=next_step)]
        if rng.random() < 0.15:
            prev_end = start - dt.timedelta(days=rng.randrange(1, 46))
            prev_months = rng.choice([3, 6, 6, 9, 12])
            # Kept clear of the 3-month limit (R224) by starting earlier, never by ending later.
            prev_start = add_months(prev_end + dt.timedelta(days=1), -prev_months) - dt.timedelta(days=14 if prev_months <= 3 else 0)
            old = prev_end < add_months(self.first, -5)
            benefit = "kuntoutustuki" if old and rng.random() < 0.15 else None
            same = rng.random() < 0.7
            prev_provider = provider if same else self.provider(exclude=(provider.provider_id,))
            out.append(self.decision(hetu, name, prev_provider, prev_start, prev_end, benefit=benefit, next_step="uusi jakso"))
        return out


# ---------------------------------------------------------------- attendance


def attendance(d: Decision, first: dt.date, last: dt.date, closed: set[dt.date], rng: random.Random) -> dict[dt.date, Any]:
    """The decision's calendar from `first` to `last`: date -> "X", "S", "P", "L" or hours (h100).

    The client keeps fixed weekdays, so no Monday-Sunday week ever holds more
    than the decided days, whatever month the week falls in.
    """
    lo, hi = max(first, d.start), min(last, d.last_day)
    cal: dict[dt.date, Any] = {}
    if lo > hi:
        return cal
    pattern = sorted(rng.sample(range(5), d.days_per_week))
    monday = lo - dt.timedelta(days=lo.weekday())
    while monday <= hi:
        leave_week = rng.random() < 0.04
        for wd in pattern:
            day = monday + dt.timedelta(days=wd)
            r = rng.random()
            if not lo <= day <= hi or day in closed:
                continue
            if leave_week:
                cal[day] = "L"
            elif r < 0.07:
                cal[day] = "S"
            elif r < 0.10:
                cal[day] = "P"
            elif r < 0.35:
                cal[day] = rng.randrange(max(400, d.hours_h100 - 100), min(800, d.hours_h100 + 100) + 1, 50)
            else:
                cal[day] = "X"
        monday += dt.timedelta(days=7)
    return cal


# ---------------------------------------------------------------- invoices


class InvoiceMaker:
    def __init__(self, seed: int, config: Config, decisions: list[Decision], closed: set[dt.date]):
        self.seed = seed
        self.config = config
        self.closed = closed
        self.numbers: dict[str, int] = {}
        self.by_provider: dict[str, list[Decision]] = {}
        for d in decisions:
            self.by_provider.setdefault(d.provider_id, []).append(d)
        self.calendars: dict[tuple[str, dt.date], dict[dt.date, Any]] = {}
        self.no_assessment: set[str] = set()  # decisions whose rows report no Kykyviisari or VAT date (R219)
        self.keep: set[str] = set()  # decisions billed although their benefit is not eligible (R218)

    def calendar_for(self, d: Decision, first: dt.date, last: dt.date) -> dict[dt.date, Any]:
        key = (d.decision_id, first)
        if key not in self.calendars:
            self.calendars[key] = attendance(d, first, last, self.closed, random.Random(f"{self.seed}:{d.decision_id}:{first}"))
        return self.calendars[key]

    def number(self, p: Provider, rng: random.Random) -> str:
        if p.provider_id not in self.numbers:
            self.numbers[p.provider_id] = rng.randrange(100, 9000)
        self.numbers[p.provider_id] += 1
        prefix = {0: "", 1: "L", 2: "KT-", 3: "2026/"}[p.month_style]
        return f"{prefix}{self.numbers[p.provider_id]}"

    def row(self, d: Decision, p: Provider, month: dt.date, cal: dict[dt.date, Any], rates: Rates, rng: random.Random) -> Row:
        typist = Typist(p, rng)
        last = month_end(month)
        days: dict[int, Any] = {}
        attended = []
        for day, code in sorted(cal.items()):
            if month <= day <= last:
                if isinstance(code, int):
                    days[day.day] = typist.hours(code)
                else:
                    days[day.day] = code.lower() if (code == "X" and p.lower_x) else code
                if code == "X" or isinstance(code, int):
                    attended.append(day)
        n = len(attended)
        meals = (n - (1 if n and rng.random() < 0.1 else 0)) if d.meal == "tuottaja" else 0
        comp = n if d.meal == "korvaus" else 0
        travel = d.travel_per_day_cents * (n - (1 if n > 1 and rng.random() < 0.15 else 0))
        # Individual guidance: at least the monthly minimum times the month's share in the period.
        inside = (min(last, d.last_day) - max(month, d.start)).days + 1
        minimum = d.guidance_min_h100 if d.guidance_min_h100 is not None else int(rates.guidance_min_hours * 100)
        need = -(-minimum * inside // last.day)
        individual = -(-need // 50) * 50 + rng.choice([0, 0, 50, 100, 150])
        group = rng.choice([0, 0, 100, 200, 300, 400])
        session_days = attended or [d_ for d_ in (month + dt.timedelta(days=i) for i in range(last.day))
                                    if d.start <= d_ <= d.last_day and d_.weekday() < 5 and d_ not in self.closed] \
            or [max(month, d.start)]
        types = GUIDANCE_TYPE[p.lang]
        sessions = []
        for total, kind, sizes in ((individual, types[0], (50, 100, 100, 150, 200)), (group, types[1], (100, 200))):
            while total > 0:
                h = min(total, rng.choice(sizes))
                total -= h
                sessions.append((typist.date(rng.choice(session_days)), typist.hours(h), kind, rng.choice(INSTRUCTORS)))
        sessions.sort(key=lambda s: (s[0] if isinstance(s[0], dt.date) else dt.datetime.strptime(s[0], "%d.%m.%Y").date()))
        # Assessments: Kykyviisari soon after the start, VAT in the last weeks of the period.
        kyky = vat = None
        if d.decision_id not in self.no_assessment:
            k = min(d.start + dt.timedelta(days=rng.randrange(0, 10)), d.last_day)
            if k <= last and month <= add_months(d.start, 2):
                kyky = k
            v = max(d.last_day - dt.timedelta(days=rng.randrange(0, 21)), d.start)
            if v <= last and month >= v.replace(day=1):
                vat = v
        total = d.day_value_cents * n + meals * rates.meal_price_cents + comp * rates.meal_compensation_cents + travel
        values = {
            "decision_id": d.decision_id, "hetu": d.hetu, "name": d.name, "days_claimed": n,
            "day_value_cents": typist.euros(d.day_value_cents), "fee_cents": typist.euros(d.day_value_cents * n),
            "meals": meals, "meal_comp_days": comp, "travel_cents": typist.euros(travel),
            "guidance_individual_h100": typist.hours(individual), "guidance_group_h100": typist.hours(group),
            "kykyviisari_date": typist.date(kyky), "vat_date": typist.date(vat),
            "total_cents": typist.euros(total), "notes": None,
        }
        return Row(d.decision_id, d.hetu, d.name, values, days, sessions)

    def invoice(self, p: Provider, month: dt.date, batch: str, cal_first: dt.date, cal_last: dt.date,
                rates: Rates, rng: random.Random, file_suffix: str = "") -> InvoicePlan | None:
        last = month_end(month)
        rows = []
        for d in self.by_provider.get(p.provider_id, []):
            eligible = d.benefit in ("työttömyysetuus", "toimeentulotuki") or d.decision_id in self.keep
            if eligible and d.in_force(month, last):
                cal = self.calendar_for(d, cal_first, cal_last)
                rows.append(self.row(d, p, month, cal, rates, random.Random(f"{self.seed}:{d.decision_id}:{month}:row")))
        if not rows:
            return None
        rows.sort(key=lambda r: (r.name, r.decision_id))
        number = self.number(p, rng)
        typist = Typist(p, rng)
        header = {
            "provider_name": p.name, "provider_id": p.provider_id, "invoice_no": number,
            "billing_month": typist.month(month),
            "invoice_date": typist.date(last + dt.timedelta(days=rng.randrange(1, 8))), "total_cents": None,
        }
        file = f"{p.slug}_{MONTH_WORD[month.month - 1]}_{month.year}{file_suffix}.xlsx"
        inv = InvoicePlan(batch, file, p.provider_id, p.lang, month, number, header, rows, list(range(1, last.day + 1)))
        set_invoice_total(inv, rates, typist)
        return inv


def row_total(values: dict[str, Any], rates: Rates) -> int:
    """The row's items as the provider adds them up; an error value adds nothing."""
    return (cents(values["fee_cents"]) + as_int(values["meals"]) * rates.meal_price_cents
            + as_int(values["meal_comp_days"]) * rates.meal_compensation_cents + cents(values["travel_cents"]))


def set_invoice_total(inv: InvoicePlan, rates: Rates, typist: Typist) -> None:
    inv.header["total_cents"] = typist.euros(sum(row_total(r.values, rates) for r in inv.rows))


def cents(value: Any) -> int:
    """A euro value as this module writes it (number or "12,50") back to cents; anything else is 0."""
    if isinstance(value, (int, float)):
        return round(value * 100)
    if isinstance(value, str) and re.fullmatch(r"-?\d+,\d\d", value):
        return int(value.replace(",", ""))
    return 0


def as_int(value: Any) -> int:
    return value if isinstance(value, int) else 0


# ---------------------------------------------------------------- planting mistakes


class Planter:
    """Plants one mistake of a kind in an invoice row; returns the anomaly, or None when the row cannot carry it."""

    def __init__(self, plan: Plan, rates_for, closed: set[dt.date], rng: random.Random, decisions: dict[str, Decision],
                 hetus: set[str]):
        self.plan = plan
        self.rates_for = rates_for
        self.closed = closed
        self.rng = rng
        self.decisions = decisions
        self.hetus = hetus
        self.providers = {p.provider_id: p for p in plan.providers}
        self.touched: dict[int, InvoicePlan] = {}

    def anomaly(self, kind: str, inv: InvoicePlan, row: Row, date: dt.date | None = None, note: str = "") -> Anomaly:
        row.planted = True
        return Anomaly(kind, inv.batch, inv.file, row.decision_id, date, note)

    def _add_day(self, inv: InvoicePlan, row: Row, day: int, value: Any) -> None:
        """A day cell claiming attendance added: the days and the fee follow, meals and travel do not."""
        row.days[day] = value
        d = self.decisions[row.decision_id]
        row.values["days_claimed"] = as_int(row.values["days_claimed"]) + 1
        self._refee(inv, row, d.day_value_cents)

    def _refee(self, inv: InvoicePlan, row: Row, value_cents: int) -> None:
        typist = Typist(self.providers[inv.provider_id], self.rng)
        row.values["fee_cents"] = typist.euros(value_cents * as_int(row.values["days_claimed"]))
        self._retotal(inv, row)

    def _retotal(self, inv: InvoicePlan, row: Row) -> None:
        typist = Typist(self.providers[inv.provider_id], self.rng)
        rates = self.rates_for(inv.billing_month)
        row.values["total_cents"] = typist.euros(row_total(row.values, rates))
        self.touched[id(inv)] = inv

    def settle(self) -> None:
        """The Lasku totals of the invoices whose rows changed."""
        for inv in self.touched.values():
            set_invoice_total(inv, self.rates_for(inv.billing_month), Typist(self.providers[inv.provider_id], self.rng))

    def _weeks(self, inv: InvoicePlan, row: Row) -> dict[dt.date, list[int]]:
        """Monday -> claimed day numbers of that week, for weeks wholly inside the billed month."""
        m = inv.billing_month
        weeks: dict[dt.date, list[int]] = {}
        for day in range(1, month_end(m).day + 1):
            date = m.replace(day=day)
            monday = date - dt.timedelta(days=date.weekday())
            if monday.month == m.month and (monday + dt.timedelta(days=6)).month == m.month:
                weeks.setdefault(monday, [])
                if claims(row.days.get(day)):
                    weeks[monday].append(day)
        return weeks

    def _free_weekday(self, inv: InvoicePlan, row: Row, d: Decision, monday: dt.date) -> dt.date | None:
        for i in self.rng.sample(range(5), 5):
            date = monday + dt.timedelta(days=i)
            if d.start <= date <= d.last_day and date not in self.closed and date.day not in row.days:
                return date
        return None

    def plant(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """Plant one mistake of `kind` in a row; None when the row cannot carry it."""
        return self.PLANTERS[kind](self, kind, inv, row)

    def _site(self, inv: InvoicePlan, row: Row, *names: str) -> tuple:
        """What planters look at, by name: the decision `d`, the row's values `v`, its claimed days `n`,
        the days claiming attendance `claimed`, the billed month `m`, and a `typist` of the provider."""
        v = row.values
        site = {"d": self.decisions[row.decision_id], "v": v, "n": as_int(v["days_claimed"]),
                "claimed": sorted(day for day, c in row.days.items() if claims(c)), "m": inv.billing_month,
                "typist": Typist(self.providers[inv.provider_id], self.rng)}
        return tuple(site[name] for name in names)

    def _plant_v101(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """V101: a date that does not exist."""
        v, m = self._site(inv, row, "v", "m")
        if v["kykyviisari_date"] is not None:
            return None
        v["kykyviisari_date"] = f"31.{m.month}.{m.year}" if month_end(m).day < 31 else f"32.{m.month}.{m.year}"
        return self.anomaly(kind, inv, row, note="Kykyviisari pvm")

    def _plant_v102(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """V102."""
        v = row.values
        v["days_claimed"] = None
        return self.anomaly(kind, inv, row, note="Läsnäolopäivät")

    def _plant_v103(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """V103."""
        v = row.values
        v["travel_cents"] = "-5,60"
        self._retotal(inv, row)
        return self.anomaly(kind, inv, row, note="Matkakorvaus €")

    def _plant_v104(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """V104."""
        v = row.values
        wrong = HETU_CHECK[(HETU_CHECK.index(row.hetu[-1]) + 1) % 31]
        v["hetu"] = row.hetu[:-1] + wrong
        return self.anomaly(kind, inv, row, note="Henkilötunnus")

    def _plant_v105(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """V105."""
        d = self.decisions[row.decision_id]
        weeks = [(mo, ds) for mo, ds in self._weeks(inv, row).items() if len(ds) < d.days_per_week]
        for monday, _ in weeks:
            date = self._free_weekday(inv, row, d, monday)
            if date:
                self._add_day(inv, row, date.day, "E")
                return self.anomaly(kind, inv, row, date)
        return None

    def _plant_v106(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """V106."""
        v = row.values
        twin = Row(row.decision_id, row.hetu, row.name, dict(v), {}, [], attendance_row=False, planted=True)
        inv.rows.insert(inv.rows.index(row) + 1, twin)
        self._retotal(inv, twin)
        return self.anomaly(kind, inv, row)

    def _plant_v107(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """V107."""
        v = row.values
        v["fee_cents"] = ErrorValue("#REF!")
        self._retotal(inv, row)
        return self.anomaly(kind, inv, row, note="Palvelumaksu €")

    def _plant_r201(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R201."""
        d, v = self._site(inv, row, "d", "v")
        digits = row.decision_id[-5:]
        v["decision_id"] = row.decision_id[:-5] + f"{(int(digits) + 50000) % 100000:05d}"
        if v["decision_id"] in self.decisions:
            v["decision_id"] = row.decision_id
            return None
        row.decision_id = v["decision_id"]
        return self.anomaly(kind, inv, row, note=f"typo of {d.decision_id}")

    def _plant_r202(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R202."""
        v = row.values
        other = make_hetu(self.rng, self.hetus)
        v["hetu"] = row.hetu = other
        return self.anomaly(kind, inv, row)

    def _plant_r203(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R203."""
        m = inv.billing_month
        others = [(i, r) for i in self.plan.invoices if i.genuine and i.batch == inv.batch
                  and i.billing_month == m and i.provider_id != inv.provider_id
                  and not self.providers[i.provider_id].own_unit for r in i.rows if not r.planted and r.attendance_row]
        if not others:
            return None
        src_inv, src = self.rng.choice(others)
        moved = copy.deepcopy(src)
        moved.planted = True
        inv.rows.append(moved)
        self._retotal(inv, moved)
        return Anomaly(kind, inv.batch, inv.file, moved.decision_id, None, "decision of another provider")

    def _plant_r204(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R204."""
        d, m = self._site(inv, row, "d", "m")
        outside = [m.replace(day=i) for i in range(1, month_end(m).day + 1)]
        outside = [x for x in outside if (x < d.start or x > d.last_day) and x.weekday() < 5 and x not in self.closed]
        if not outside:
            return None
        date = self.rng.choice(outside)
        self._add_day(inv, row, date.day, "X")
        return self.anomaly(kind, inv, row, date)

    def _plant_r205(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R205."""
        d, m = self._site(inv, row, "d", "m")
        for monday, ds in self._weeks(inv, row).items():
            if len(ds) == d.days_per_week and (date := self._free_weekday(inv, row, d, monday)):
                self._add_day(inv, row, date.day, "X")
                latest = max(ds + [date.day])  # the earliest days are kept, the latest rejected
                return self.anomaly(kind, inv, row, m.replace(day=latest))
        return None

    def _plant_r206_r226(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R206 and R226."""
        d, v, claimed, m, typist = self._site(inv, row, "d", "v", "claimed", "m", "typist")
        xs = [day for day in claimed if str(row.days[day]).upper() == "X"]
        if not xs:
            return None
        day = self.rng.choice(xs)
        row.days[day] = ("3,5" if kind == "R206" else 9) if self.rng.random() < 0.5 else (3 if kind == "R206" else "9,5")
        if kind == "R206":  # the day is not paid: no meal or travel is billed for it
            paid = len(claimed) - 1
            v["meals"], v["meal_comp_days"] = min(as_int(v["meals"]), paid), min(as_int(v["meal_comp_days"]), paid)
            v["travel_cents"] = typist.euros(min(cents(v["travel_cents"]), paid * d.travel_per_day_cents))
            self._retotal(inv, row)
        return self.anomaly(kind, inv, row, m.replace(day=day))

    def _plant_r207(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R207."""
        d = self.decisions[row.decision_id]
        for monday, ds in self._weeks(inv, row).items():
            sunday = monday + dt.timedelta(days=6)
            if len(ds) < d.days_per_week and d.start <= sunday <= d.last_day:
                self._add_day(inv, row, sunday.day, "X")
                return self.anomaly(kind, inv, row, sunday)
        return None

    def _plant_r208(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R208."""
        d, v, n = self._site(inv, row, "d", "v", "n")
        if not n:
            return None
        v["days_claimed"] = n + 1
        self._refee(inv, row, d.day_value_cents)
        return self.anomaly(kind, inv, row)

    def _plant_r209(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R209."""
        d, v, n, typist = self._site(inv, row, "d", "v", "n", "typist")
        if not n or d.day_value_cents == 0:
            return None
        v["day_value_cents"] = typist.euros(d.day_value_cents + 150)
        self._refee(inv, row, d.day_value_cents + 150)
        return self.anomaly(kind, inv, row)

    def _plant_r210(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R210."""
        d, v, n, typist = self._site(inv, row, "d", "v", "n", "typist")
        if not n or d.day_value_cents == 0:
            return None
        v["fee_cents"] = typist.euros(d.day_value_cents * n + 1000)
        self._retotal(inv, row)
        return self.anomaly(kind, inv, row)

    def _plant_r211(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R211."""
        d, v, n = self._site(inv, row, "d", "v", "n")
        if not n or d.meal == "tuottaja":
            return None
        v["meals"], v["meal_comp_days"] = n, 0
        self._retotal(inv, row)
        return self.anomaly(kind, inv, row)

    def _plant_r212(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R212."""
        d, v, n = self._site(inv, row, "d", "v", "n")
        if not n or d.meal != "tuottaja":
            return None
        v["meals"] = n + 2
        self._retotal(inv, row)
        return self.anomaly(kind, inv, row)

    def _plant_r213(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R213."""
        d, v, n, typist = self._site(inv, row, "d", "v", "n", "typist")
        if not n:
            return None
        v["travel_cents"] = typist.euros(d.travel_per_day_cents * n + 280)
        self._retotal(inv, row)
        return self.anomaly(kind, inv, row)

    def _plant_r214(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R214."""
        v = row.values
        individual = GUIDANCE_TYPE[inv.lang][0]
        v["guidance_individual_h100"] = 0
        row.sessions = [s for s in row.sessions if s[2] != individual]
        return self.anomaly(kind, inv, row)

    def _plant_r215(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R215."""
        if not self.providers[inv.provider_id].guidance_sheet or not row.sessions:
            return None
        row.sessions.pop(self.rng.randrange(len(row.sessions)))
        return self.anomaly(kind, inv, row)

    def _plant_r221(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R221."""
        v, m, typist = self._site(inv, row, "v", "m", "typist")
        v["total_cents"] = typist.euros(row_total(v, self.rates_for(m)) + 100)
        return self.anomaly(kind, inv, row)

    def _plant_r222(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R222."""
        m = inv.billing_month
        if month_end(m).day == 31 or 31 in inv.day_headers:
            return None
        inv.day_headers.append(31)
        self._add_day(inv, row, 31, "X")
        return self.anomaly(kind, inv, row)

    def _plant_r223(self, kind: str, inv: InvoicePlan, row: Row) -> Anomaly | None:
        """R223."""
        row.attendance_row = False
        return self.anomaly(kind, inv, row)

    # One small planter per kind of row mistake (R206 and R226 share one).
    PLANTERS = {
        "V101": _plant_v101,
        "V102": _plant_v102,
        "V103": _plant_v103,
        "V104": _plant_v104,
        "V105": _plant_v105,
        "V106": _plant_v106,
        "V107": _plant_v107,
        "R201": _plant_r201,
        "R202": _plant_r202,
        "R203": _plant_r203,
        "R204": _plant_r204,
        "R205": _plant_r205,
        "R206": _plant_r206_r226,
        "R226": _plant_r206_r226,
        "R207": _plant_r207,
        "R208": _plant_r208,
        "R209": _plant_r209,
        "R210": _plant_r210,
        "R211": _plant_r211,
        "R212": _plant_r212,
        "R213": _plant_r213,
        "R214": _plant_r214,
        "R215": _plant_r215,
        "R221": _plant_r221,
        "R222": _plant_r222,
        "R223": _plant_r223,
    }


# ---------------------------------------------------------------- the plan


def generate(*, config: Config, providers: int = 40, clients: int = 1200, batches: str = "2026-10..2026-11",
             seed: int = 2026, anomaly_rate: float = 0.03) -> Plan:
    """Plan a demo inbox: registers, invoices and the mistakes planted in them. Pure and deterministic."""
    if providers < 1 or clients < 1:
        raise UsageError("The demo needs at least one provider and one client.")
    if not 0 <= anomaly_rate <= 1:
        raise UsageError("--anomalies must be between 0 and 1.")
    months = parse_batches(batches)
    planting = anomaly_rate > 0
    rng = random.Random(f"{seed}:registers")
    first_year = add_months(months[0], -30).year
    closed = set(holidays.Finland(years=range(first_year, months[-1].year + 3), language="fi"))
    provs = _providers(rng, providers, months, lapses=planting and providers >= 3)
    maker = DecisionMaker(rng, months, provs)
    decisions: list[Decision] = []
    for i in range(clients):
        if i < len(provs):  # every provider has at least one client
            provider = provs[i]
            hetu, name = maker.person(provider)
            start = months[0] - dt.timedelta(days=rng.randrange(30, 200))
            decisions.append(maker.decision(hetu, name, provider, start, period_end(start, 12)))
        else:
            decisions.extend(maker.client())
    anomalies: list[Anomaly] = []
    arng = random.Random(f"{seed}:anomalies")
    lapsed = provs[2] if planting and len(provs) >= 3 else None
    ordinary = [p for p in provs if not p.own_unit and p is not lapsed] or provs
    special: set[str] = set()  # decisions of the register plants: no other mistake goes in their rows
    keep: set[str] = set()
    no_assessment: set[str] = set()
    if planting:
        _plant_registers(arng, maker, decisions, ordinary, months, special, keep, no_assessment)
    decisions.sort(key=lambda d: d.decision_id)
    by_id = {d.decision_id: d for d in decisions}

    im = InvoiceMaker(seed, config, decisions, closed)
    im.keep = keep
    im.no_assessment = no_assessment
    cal_first, cal_last = months[0], month_end(months[-1])
    invoices: list[InvoicePlan] = []
    irng = random.Random(f"{seed}:invoices")
    for month in months:
        for p in provs:
            inv = im.invoice(p, month, month_key(month), cal_first, cal_last, config.rates_for(month), irng)
            if inv:
                invoices.append(inv)
    plan = Plan(months, provs, decisions, invoices, anomalies)
    if planting:
        for inv in invoices:
            for row in inv.rows:
                row.planted = row.decision_id in special
        _plant_invoices(plan, im, arng, by_id, maker.hetus, closed, anomaly_rate, special, config)
        anomalies.extend(_register_anomalies(plan, by_id, special, keep, no_assessment))
    plan.invoices.sort(key=lambda i: (i.batch, i.file))
    names = [(i.batch, i.file) for i in plan.invoices]
    assert len(names) == len(set(names)), "two demo workbooks of one batch share a file name"
    plan.anomalies.sort(key=lambda a: (a.batch, a.kind, a.file, a.decision_id or "", a.date or dt.date.min))
    return plan


def _plant_registers(rng, maker: DecisionMaker, decisions, ordinary, months, special, keep, no_assessment) -> None:
    """Register-side mistakes: R224 a 2-month period, R218 an ineligible benefit, R216 two providers,
    R219 no assessments, and a decision terminated mid-month for R204."""
    last_batch = months[-1]
    periods: dict[str, int] = {}
    for d in decisions:
        periods[d.hetu] = periods.get(d.hetu, 0) + 1
    # Candidates: clients with one period, in force in the batch months, at an ordinary provider.
    current = [d for d in decisions if d.in_force(months[0], month_end(last_batch)) and d.next_step is None
               and periods[d.hetu] == 1 and d.provider_id in {p.provider_id for p in ordinary}]
    rng.shuffle(current)

    def take(test=lambda d: True) -> Decision | None:
        found = next((d for d in current if test(d)), None)
        if found:
            current.remove(found)
        return found

    # R224: a period of two months, in force in the last batch month.
    p = rng.choice(ordinary)
    hetu, name = maker.person(p)
    start = last_batch - dt.timedelta(days=20)
    d224 = maker.decision(hetu, name, p, start, add_months(start, 2) - dt.timedelta(days=1))
    decisions.append(d224)
    special.add(d224.decision_id)
    # R218: a billed decision whose benefit makes the client ineligible.
    d218 = take()
    if d218:
        d218.benefit = "kuntoutustuki"
        keep.add(d218.decision_id)
        special.add(d218.decision_id)
    # R216: the same client placed at a second provider, both billing the same dates.
    others = [p for p in ordinary if not p.own_unit]
    d1 = take(lambda d: d.in_force(last_batch, month_end(last_batch)) and d.start <= last_batch
              and any(p.provider_id != d.provider_id for p in others))
    if d1:
        other = rng.choice([p for p in others if p.provider_id != d1.provider_id])
        start = last_batch - dt.timedelta(days=40)
        d2 = maker.decision(d1.hetu, d1.name, other, start, period_end(start, 6))
        d2.days_per_week = 4
        decisions.append(d2)
        special.update({d1.decision_id, d2.decision_id})
    # R219: a period whose 30th day falls in the last batch month, with no assessment reported.
    d219 = take()
    if d219:
        d219.start = last_batch - dt.timedelta(days=20)
        d219.end, d219.terminated = period_end(d219.start, 6), None
        no_assessment.add(d219.decision_id)
        special.add(d219.decision_id)
    # R204: a decision terminated in the middle of the last batch month (a day after it is billed).
    d204 = take(lambda d: d.start <= last_batch - dt.timedelta(days=130) and d.end > month_end(last_batch))
    if d204:
        d204.terminated = last_batch + dt.timedelta(days=13)
        d204.next_step = "työ"


def _register_anomalies(plan: Plan, by_id, special, keep, no_assessment) -> list[Anomaly]:
    """The anomalies the register plants produce on the invoices as written."""
    out = []
    for inv in plan.invoices:
        if not inv.genuine:
            continue
        for row in inv.rows:
            d = by_id.get(row.decision_id)
            if d is None or d.decision_id not in special:
                continue
            if d.decision_id in keep:
                out.append(Anomaly("R218", inv.batch, inv.file, d.decision_id, note="benefit kuntoutustuki"))
            if d.decision_id in no_assessment and inv.billing_month == (d.start + dt.timedelta(days=29)).replace(day=1):
                out.append(Anomaly("R219", inv.batch, inv.file, d.decision_id, note="no Kykyviisari or VAT date"))
    for month in plan.batches:
        for d_id in sorted(special):
            d = by_id[d_id]
            if add_months(d.start, 3) - dt.timedelta(days=1) > d.end and d.in_force(month, month_end(month)):
                out.append(Anomaly("R224", month_key(month), "decisions.xlsx", d_id, note="2-month period"))
    # R216: dates both decisions of the same client claim, on invoices of the same batch.
    by_hetu: dict[str, list[tuple[InvoicePlan, Row]]] = {}
    for inv in plan.invoices:
        if inv.genuine and inv.batch == month_key(inv.billing_month) and not _rejected_whole(inv):
            for row in inv.rows:
                if row.decision_id in special and row.decision_id in by_id:
                    by_hetu.setdefault(row.hetu, []).append((inv, row))
    for pairs in by_hetu.values():
        for (ia, ra), (ib, rb) in itertools.combinations(pairs, 2):
            if ia.batch != ib.batch or ia.provider_id == ib.provider_id:
                continue
            for day in sorted(set(ra.days) & set(rb.days)):
                if claims(ra.days[day]) and claims(rb.days[day]):
                    date = ia.billing_month.replace(day=day)
                    out.append(Anomaly("R216", ia.batch, ia.file, ra.decision_id, date))
                    out.append(Anomaly("R216", ib.batch, ib.file, rb.decision_id, date))
    return out


def _rejected_whole(inv: InvoicePlan) -> bool:
    return inv.drop_sheet is not None or inv.drop_column is not None or inv.damage is not None


def _plant_invoices(plan: Plan, im: InvoiceMaker, rng: random.Random, by_id, hetus, closed, rate, special, config) -> None:
    months = plan.batches
    last_batch = months[-1]
    last_key = month_key(last_batch)
    provs = {p.provider_id: p for p in plan.providers}
    lapsed = plan.providers[2] if len(plan.providers) >= 3 else None
    # R216: make sure the two decisions of one client share at least one claimed date in the last batch month.
    _force_double_billing(plan, by_id, special, config)

    def genuine(batch: str | None = None) -> list[InvoicePlan]:
        return [i for i in plan.invoices if i.genuine and (batch is None or i.batch == batch)
                and not provs[i.provider_id].own_unit and i.provider_id != (lapsed.provider_id if lapsed else None)]

    last_invoices = genuine(last_key) or [i for i in plan.invoices if i.batch == last_key]
    # F006: the lapsed provider still invoices the last batch month.
    if lapsed:
        for inv in plan.invoices:
            if inv.provider_id == lapsed.provider_id and inv.batch == last_key:
                plan.anomalies.append(Anomaly("F006", inv.batch, inv.file, note="approval lapsed"))
    else:
        src = copy.deepcopy(rng.choice(last_invoices))
        src.header["provider_id"] = make_ytunnus(rng, set(provs))
        plan.invoices.append(replace(src, file=src.file.replace(".xlsx", "_uusi.xlsx"), genuine=False))
        plan.anomalies.append(Anomaly("F006", last_key, src.file.replace(".xlsx", "_uusi.xlsx"), note="provider not in register"))
    # R217: a supplementary invoice in the last batch re-billing a row paid in the previous one.
    if len(months) >= 2:
        prev_key = month_key(months[-2])
        candidates = [(i, r) for i in genuine(prev_key) for r in i.rows
                      if r.decision_id not in special and any(claims(c) for c in r.days.values())]
        if candidates:
            src_inv, src_row = rng.choice(candidates)
            src_row.planted = True
            p = provs[src_inv.provider_id]
            number = im.number(p, rng)
            row = copy.deepcopy(src_row)
            extra = InvoicePlan(last_key, f"{p.slug}_lisalasku_{MONTH_WORD[src_inv.billing_month.month - 1]}.xlsx",
                                p.provider_id, p.lang, src_inv.billing_month, number,
                                dict(src_inv.header, invoice_no=number), [row], list(src_inv.day_headers), genuine=False)
            set_invoice_total(extra, config.rates_for(extra.billing_month), Typist(p, rng))
            plan.invoices.append(extra)
            for day in sorted(d for d, c in row.days.items() if claims(c)):
                plan.anomalies.append(Anomaly("R217", last_key, extra.file, row.decision_id, src_inv.billing_month.replace(day=day)))
            # Nothing of the row is paid, so its meals and travel are more than the days paid.
            if as_int(row.values["meals"]) or as_int(row.values["meal_comp_days"]):
                plan.anomalies.append(Anomaly("R212", last_key, extra.file, row.decision_id, note="follows from R217"))
            if cents(row.values["travel_cents"]):
                plan.anomalies.append(Anomaly("R213", last_key, extra.file, row.decision_id, note="follows from R217"))
    # File-level mistakes in the last batch: extra files with their own invoice numbers, copied
    # before any row mistake is planted so that the whole-file rule is their only finding.
    pool = last_invoices[:]
    rng.shuffle(pool)
    for k, (kind, change) in enumerate([("F001", {"damage": "truncate"}), ("F002", {"damage": "macro"}),
                                        ("F003", {"drop_sheet": "attendance"}), ("F004", {"drop_column": "days_claimed"}),
                                        ("F005", {})]):
        src = pool[k % len(pool)]
        p = provs[src.provider_id]
        number = im.number(p, rng)
        extra = replace(copy.deepcopy(src), file=src.file.replace(".xlsx", f"_v{k + 2}.xlsx"), invoice_no=number,
                        genuine=False, **change)
        extra.header["invoice_no"] = None if kind == "F005" else number
        plan.invoices.append(extra)
        plan.anomalies.append(Anomaly(kind, last_key, extra.file))
    # F007: an invoice sent again (byte-identical), in the next batch or, with one batch, twice in it.
    src = rng.choice(genuine(month_key(months[-2])) if len(months) >= 2 and genuine(month_key(months[-2])) else last_invoices)
    again = replace(copy.deepcopy(src), batch=last_key, file=src.file.replace(".xlsx", "_uudelleen.xlsx"), genuine=False)
    plan.invoices.append(again)
    for row in src.rows:  # the original stays as it was sent
        row.planted = True
    plan.anomalies.append(Anomaly("F007", last_key, again.file, note=f"same number as {src.file}"))
    if src.batch == last_key:
        plan.anomalies.append(Anomaly("F007", last_key, src.file, note=f"same number as {again.file}"))
    # Row-level mistakes, spread over the genuine invoices of every batch.
    rows = [(i, r) for i in genuine() for r in i.rows if r.decision_id not in special and not r.planted]
    rng.shuffle(rows)
    planter = Planter(plan, config.rates_for, closed, rng, by_id, hetus)
    count = max(len(ROW_KINDS), round(rate * sum(len(i.rows) for i in plan.invoices)))
    impossible: set[str] = set()
    for n in range(count):
        kind = ROW_KINDS[n % len(ROW_KINDS)]
        if kind in impossible:
            continue
        for inv, row in rows:
            if row.planted or not row.attendance_row:
                continue
            found = planter.plant(kind, inv, row)
            if found:
                plan.anomalies.append(found)
                break
        else:
            impossible.add(kind)
    planter.settle()
    # R220: an invoice total that does not match its rows.
    for inv in rng.sample(last_invoices, max(1, min(len(last_invoices), count // 40))):
        typist = Typist(provs[inv.provider_id], rng)
        inv.header["total_cents"] = typist.euros(cents(inv.header["total_cents"]) + 1000)
        plan.anomalies.append(Anomaly("R220", inv.batch, inv.file, note="Lasku total off by 10.00"))
    # F008 billing the month after the batch, R225 billing a month more than 3 months before it.
    for kind, month in (("F008", add_months(last_batch, 1)), ("R225", add_months(last_batch, -4))):
        for p in sorted(provs.values(), key=lambda p: -len(im.by_provider.get(p.provider_id, []))):
            if p.own_unit or p is lapsed:
                continue
            extra = im.invoice(p, month, last_key, month, month_end(month), config.rates_for(month), rng,
                               file_suffix="_myohassa" if kind == "R225" else "_ennakko")
            if extra:
                extra.rows = [r for r in extra.rows if r.decision_id not in special]
            if extra and extra.rows:
                extra.genuine = False
                set_invoice_total(extra, config.rates_for(month), Typist(p, rng))
                plan.invoices.append(extra)
                plan.anomalies.append(Anomaly(kind, last_key, extra.file, note=f"bills {month_key(month)}"))
                break


def _force_double_billing(plan: Plan, by_id, special, config) -> None:
    """The R216 pair: the second decision claims a date the first one claims, within its days per week."""
    last_key = month_key(plan.batches[-1])
    rows: dict[str, list[tuple[InvoicePlan, Row]]] = {}
    for inv in plan.invoices:
        if inv.batch == last_key:
            for row in inv.rows:
                if row.decision_id in special:
                    rows.setdefault(row.hetu, []).append((inv, row))
    for pairs in rows.values():
        if len(pairs) != 2 or pairs[0][0].provider_id == pairs[1][0].provider_id:
            continue
        (ia, ra), (ib, rb) = pairs
        d2 = by_id[rb.decision_id]
        month = ib.billing_month
        shared = [day for day, c in ra.days.items() if claims(c) and claims(rb.days.get(day))]
        if shared:
            return
        for day in sorted(day for day, c in ra.days.items() if claims(c)):
            date = month.replace(day=day)
            monday = date - dt.timedelta(days=date.weekday())
            if not d2.start <= date <= d2.last_day or monday.month != month.month or (monday + dt.timedelta(days=6)).month != month.month:
                continue
            week = [d for d in rb.days if claims(rb.days[d]) and monday <= month.replace(day=d) <= monday + dt.timedelta(days=6)]
            for d in week[d2.days_per_week - 1:]:  # make room within the decided days of that week
                del rb.days[d]
            rb.days[day] = "X"
            n = sum(1 for c in rb.days.values() if claims(c))
            rates = config.rates_for(month)
            p_typist = Typist(next(p for p in plan.providers if p.provider_id == ib.provider_id), random.Random(0))
            rb.values.update(days_claimed=n, fee_cents=p_typist.euros(n * d2.day_value_cents),
                             meals=min(as_int(rb.values["meals"]), n), meal_comp_days=min(as_int(rb.values["meal_comp_days"]), n),
                             travel_cents=p_typist.euros(min(cents(rb.values["travel_cents"]), n * d2.travel_per_day_cents)))
            rb.values["total_cents"] = p_typist.euros(row_total(rb.values, rates))
            set_invoice_total(ib, rates, p_typist)
            return


# ---------------------------------------------------------------- writing


def _sheet(kind: str, lang: str) -> str:
    return SHEETS[kind][LANG_INDEX[lang]]


class _Writer:
    def __init__(self, path: Path, title: str, author: str):
        self.wb = xlsxwriter.Workbook(str(path), {
            "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
            "strings_to_urls": False,
        })
        self.wb.set_properties({"title": title, "author": author, "company": "", "created": FIXED_TIME})
        self.date = self.wb.add_format({"num_format": "d.m.yyyy"})
        self.euro = self.wb.add_format({"num_format": "#,##0.00"})
        self.bold = self.wb.add_format({"bold": True})

    def put(self, ws, r: int, c: int, value: Any, money: bool = False) -> None:
        if value is None:
            return
        if isinstance(value, ErrorValue):
            ws.write_formula(r, c, "=#REF!*1", None, value.text)
        elif isinstance(value, Formula):
            ws.write_formula(r, c, value.text, self.euro if money else None, value.cached)
        elif isinstance(value, dt.date):
            ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), self.date)
        elif isinstance(value, bool):
            ws.write_string(r, c, "kyllä" if value else "ei")
        elif isinstance(value, (int, float)):
            ws.write_number(r, c, value, self.euro if money and isinstance(value, float) else None)
        else:
            ws.write_string(r, c, str(value))

    def close(self) -> None:
        self.wb.close()


def _col(i: int) -> str:
    return xlsxwriter.utility.xl_col_to_name(i)


def write_invoice(path: Path, inv: InvoicePlan, provider: Provider) -> None:
    """One provider workbook: Lasku, Asiakkaat, Läsnäolo and (when the provider keeps one) Ohjaus."""
    lang = inv.lang
    w = _Writer(path, f"{provider.name} {inv.invoice_no}", provider.name)
    ws = w.wb.add_worksheet(_sheet("invoice", lang))
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 40)
    for r, c in enumerate(columns(InvoiceHeader)):
        ws.write_string(r, 0, c.header(lang), w.bold)
        w.put(ws, r, 1, inv.header.get(c.field), money=c.kind == "euros")

    cols = [c for c in columns(Clients) if c.field != inv.drop_column]
    ws = w.wb.add_worksheet(_sheet("clients", lang))
    ws.set_column(0, len(cols) - 1, 14)
    top = provider.title_rows
    if top:
        ws.write_string(0, 0, f"{TITLE[lang]} {month_key(inv.billing_month)}", w.bold)
    for j, c in enumerate(cols):
        ws.write_string(top, j, c.header(lang), w.bold)
    r = top
    for row in inv.rows:
        r += 1
        for j, c in enumerate(cols):
            w.put(ws, r, j, row.values.get(c.field), money=c.kind == "euros")
    if provider.totals_row and inv.rows:
        first, last = top + 2, r + 1
        ws.write_string(r + 1, 0, TOTAL_LABEL[lang], w.bold)
        for j, c in enumerate(cols):
            if c.field in ("days_claimed", "fee_cents", "travel_cents", "total_cents"):
                total = sum(cents(row.values.get(c.field)) if c.kind == "euros" else as_int(row.values.get(c.field))
                            for row in inv.rows)
                cached = total / 100 if c.kind == "euros" else total
                w.put(ws, r + 1, j, Formula(f"=SUM({_col(j)}{first}:{_col(j)}{last})", cached), money=c.kind == "euros")

    if inv.drop_sheet != "attendance":
        ws = w.wb.add_worksheet(_sheet("attendance", lang))
        keys = [c.header(lang) for c in columns(AttendanceKeys)] + [next(c for c in columns(Clients) if c.field == "name").header(lang)]
        ws.set_column(0, 2, 16)
        ws.set_column(3, 3 + len(inv.day_headers), 4)
        for j, h in enumerate(keys):
            ws.write_string(0, j, h, w.bold)
        for j, day in enumerate(inv.day_headers):
            ws.write_number(0, 3 + j, day, w.bold)
        r = 0
        for row in inv.rows:
            if not row.attendance_row:
                continue
            r += 1
            w.put(ws, r, 0, row.values["decision_id"])
            w.put(ws, r, 1, row.hetu)
            w.put(ws, r, 2, row.name)
            for j, day in enumerate(inv.day_headers):
                w.put(ws, r, 3 + j, row.days.get(day))

    if provider.guidance_sheet:
        ws = w.wb.add_worksheet(_sheet("guidance", lang))
        heads = {c.field: c.header(lang) for c in columns(GuidanceLog)}
        fields = ["decision_id", "date", "hours_h100", "type", "instructor"]
        ws.set_column(0, 4, 16)
        for j, f in enumerate(fields):
            ws.write_string(0, j, heads[f], w.bold)
        r = 0
        for row in inv.rows:
            for date, hours, kind, who in row.sessions:
                r += 1
                for j, value in enumerate((row.values["decision_id"], date, hours, kind, who)):
                    w.put(ws, r, j, value)
    w.close()
    if inv.damage == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) * 3 // 5])
    elif inv.damage == "macro":
        _add_macro_part(path)


def _add_macro_part(path: Path) -> None:
    """Add a `xl/vbaProject.bin` part, keeping the other parts byte for byte (F002: macros)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        part = zipfile.ZipInfo("xl/vbaProject.bin", (1980, 1, 1, 0, 0, 0))
        zout.writestr(part, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Attribute VB_Name = \"Module1\"\r\n" * 8)
    path.write_bytes(buf.getvalue())


def _write_register(path: Path, kind: str, model: type, title: str, width: int, rows: list[dict]) -> None:
    """A register workbook: the model's Finnish headers, then one row per dict keyed by field."""
    w = _Writer(path, title, "Turun kaupunki")
    ws = w.wb.add_worksheet(_sheet(kind, "fi"))
    cols = columns(model)
    ws.set_column(0, len(cols) - 1, width)
    for j, c in enumerate(cols):
        ws.write_string(0, j, c.fi, w.bold)
    for r, values in enumerate(rows, 1):
        for j, c in enumerate(cols):
            w.put(ws, r, j, values[c.field], money=c.kind == "euros")
    w.close()


def write_decisions(path: Path, decisions: list[Decision]) -> None:
    rows = [{
        "decision_id": d.decision_id, "hetu": d.hetu, "name": d.name, "provider_id": d.provider_id,
        "voucher_no": d.voucher_no or None, "start": d.start, "end": d.end, "terminated": d.terminated,
        "days_per_week": d.days_per_week, "hours_per_day_h100": d.hours_h100 / 100 if d.hours_h100 % 100 else d.hours_h100 // 100,
        "day_value_cents": d.day_value_cents / 100, "meal": d.meal, "travel_per_day_cents": d.travel_per_day_cents / 100,
        "benefit": d.benefit,
        "guidance_min_h100": None if d.guidance_min_h100 is None else d.guidance_min_h100 // 100,
        "caseworker": d.caseworker, "next_step": d.next_step,
    } for d in decisions]
    _write_register(path, "decisions", Decisions, "Kuntouttavan työtoiminnan päätökset", 15, rows)


def write_providers(path: Path, providers: list[Provider]) -> None:
    rows = [{"provider_id": p.provider_id, "name": p.name, "approved_from": p.approved_from,
             "approved_to": p.approved_to, "own_unit": p.own_unit, "email": p.email, "lang": p.lang}
            for p in providers]
    _write_register(path, "providers", Providers, "Hyväksytyt palveluntuottajat", 20, rows)


def write_plan(plan: Plan, inbox: Path) -> None:
    (inbox / "register").mkdir(parents=True, exist_ok=True)
    write_decisions(inbox / "register" / "decisions.xlsx", plan.decisions)
    write_providers(inbox / "register" / "providers.xlsx", plan.providers)
    provs = {p.provider_id: p for p in plan.providers}
    for inv in plan.invoices:
        folder = inbox / inv.batch
        folder.mkdir(exist_ok=True)
        write_invoice(folder / inv.file, inv, provs[inv.provider_id])


def write_inbox(inbox: Path, *, config_dir: Path, providers: int = 40, clients: int = 1200,
                batches: str = "2026-10..2026-11", seed: int = 2026, anomaly_rate: float = 0.03) -> str:
    """Write a demo inbox into `inbox` (which must be empty or absent); return a printable summary."""
    inbox = Path(inbox)
    if inbox.exists() and (not inbox.is_dir() or any(p.name != ".gitkeep" for p in inbox.iterdir())):
        raise UsageError(f"{inbox} is not empty.", "Give --inbox a new or empty folder; the demo never overwrites files.")
    wrote_rates = config_mod.ensure_default(config_dir)
    cfg = config_mod.load(config_dir)
    plan = generate(config=cfg, providers=providers, clients=clients, batches=batches, seed=seed, anomaly_rate=anomaly_rate)
    write_plan(plan, inbox)
    per_batch = ", ".join(f"{month_key(m)}: {sum(1 for i in plan.invoices if i.batch == month_key(m))} workbooks"
                          for m in plan.batches)
    planted = (f"{len(plan.anomalies)} planted mistakes of {len(plan.kinds())} kinds ({', '.join(sorted(plan.kinds()))})"
               if plan.anomalies else "no planted mistakes")
    rates = f" The default rates were written to {Path(config_dir) / 'rates.toml'}." if wrote_rates else ""
    return (f"Wrote a demo inbox to {inbox}: {len(plan.providers)} providers and {len(plan.decisions)} decisions "
            f"in register/; {per_batch}; {planted}.{rates}")
