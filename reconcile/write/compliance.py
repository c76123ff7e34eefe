"""audit/compliance.xlsx: the figures of RULES.md section 5, per provider and for the batch.

Last stage, once per batch, in the language of the audit files. The figures
are computed here from the batch result (processed invoices' rows and
findings) and the decision register, then laid out one sheet per subject:

- summary: clients billed; attendance days claimed, paid, held, rejected;
  euros; guidance (share meeting the minimum, hours per client);
  assessments; days per week used against decided (chart: approved
  against claimed by provider);
- findings by code (chart);
- client structure by sex and age band from the henkilötunnus, counts
  below 5 shown as `<5`;
- register: period lengths, clients over 24 months across periods, repeated
  periods, next steps of ended periods;
- benefit basis: attended (paid) days per client and benefit, the expense
  compensation they earn, participant days;
- register findings (R224).

Definitions where RULES.md leaves room (also in the README):
- a client is a decision billed on a row of a processed invoice;
- days rejected = days claimed − paid − held;
- client figures (clients billed, guidance, assessments, days per week,
  structure, benefit basis) count the invoices that were processed, i.e. not
  rejected by an F rule; days and euros claimed count every workbook, so that
  they add up with approval.csv (a rejected file's days are rejected days);
- a client meets the guidance minimum unless an R214 finding names its decision;
- assessments on record = a Kykyviisari or VAT date on the client's invoice row
  of this batch, or one the ledger keeps from an earlier batch (`result.history`);
- days per week used = paid days ÷ (days of the decision's period in the
  billed month ÷ 7), averaged over clients;
- age is the age on the last day of the batch month;
- period lengths are in months of 365.25 / 12 days, start to termination or end;
- expense compensation is paid for the days paid.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import xlsxwriter

from reconcile.text import messages, rules
from reconcile.config import Config
from reconcile.model import BatchResult, InvoiceResult, Money
from reconcile.write.approval_xlsx import provider_names
from reconcile.write.xlsxutil import EURO_FORMAT, batch_time, fit_widths, for_print, normalise_zip, write_value
from schemas.registers import NEXT_STEPS

AGE_BANDS = ((0, 24, "<25"), (25, 34, "25–34"), (35, 44, "35–44"), (45, 54, "45–54"), (55, 200, "55+"))
LENGTH_BANDS = ((0, 3, "<3"), (3, 6, "3–6"), (6, 12, "6–12"), (12, 24, "12–24"), (24, 10**6, ">24"))
MONTH_DAYS = Fraction(36525, 1200)  # 365.25 / 12 days, exactly
CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
           "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}
COMPENSATION = {"työttömyysetuus": "kulukorvaus", "toimeentulotuki": "toimintaraha"}
BATCH = "\u0000batch"  # the key of the whole batch among provider keys (sorts first, never a Y-tunnus)


def birth_and_sex(hetu: str | None) -> tuple[dt.date, str] | None:
    """(date of birth, "male"/"female") from a henkilötunnus; None when it cannot be read."""
    if not hetu or len(hetu) != 11 or hetu[6].upper() not in CENTURY:
        return None
    try:
        born = dt.date(CENTURY[hetu[6].upper()] + int(hetu[4:6]), int(hetu[2:4]), int(hetu[0:2]))
        number = int(hetu[7:10])
    except ValueError:
        return None
    return born, "male" if number % 2 else "female"


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def small(n: int) -> int | str:
    """A count of people as shown: below 5 becomes `<5`."""
    return "<5" if n < 5 else n


def months(start: dt.date, end: dt.date) -> Fraction:
    return ((end - start).days + 1) / MONTH_DAYS


def _end(d: dict) -> dt.date:
    return min(d["end"], d["terminated"]) if d.get("terminated") else d["end"]


@dataclass
class Group:
    """The figures of one provider (or of the whole batch)."""

    invoices: int = 0
    money: Money = field(default_factory=Money)
    clients: set[str] = field(default_factory=set)  # decision ids billed
    days_claimed: int = 0
    days_paid: int = 0
    days_held: int = 0
    guidance_ind_h100: int = 0
    guidance_grp_h100: int = 0
    below_minimum: set[str] = field(default_factory=set)  # decisions with R214
    assessed: set[str] = field(default_factory=set)
    used_per_week: list[Fraction] = field(default_factory=list)
    decided_per_week: list[int] = field(default_factory=list)
    findings: Counter = field(default_factory=Counter)
    people: set[str] = field(default_factory=set)  # henkilötunnus of clients billed


def _round(value: Fraction, places: int) -> float:
    """Rounded half up, exactly (binary floats would round 1.625 down), then shown as a number."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _pct(part: int, whole: int) -> float | str:
    return _round(Fraction(100 * part, whole), 1) if whole else ""


def _mean(values: list) -> float | str:
    return _round(sum(values, Fraction(0)) / len(values), 2) if values else ""


class Figures:
    """Every figure of compliance.xlsx, computed from the batch result and the register."""

    def __init__(self, result: BatchResult, config: Config):
        self.result = result
        self.config = config
        year, month = (int(p) for p in result.batch.split("-"))
        self.month_start = dt.date(year, month, 1)
        self.month_end = dt.date(year, month, calendar.monthrange(year, month)[1])
        decisions = result.registers.decisions
        self.decisions = {d["decision_id"]: d for d in decisions.iter_rows(named=True)} if decisions is not None else {}
        # Indexed once: register() runs per provider, and scanning every decision
        # each time made the report grow with providers x decisions.
        self.periods_by_person: dict[str, list[dict]] = defaultdict(list)
        self.by_provider: dict[str, list[dict]] = defaultdict(list)
        for d in self.decisions.values():
            self.by_provider[d["provider_id"]].append(d)
            if d["start"] <= self.month_end:
                self.periods_by_person[d["hetu"]].append(d)
        self.groups: dict[str, Group] = defaultdict(Group)
        history = result.history
        self.on_record = set(history.assessments.get_column("decision_id").to_list()) if history else set()
        self.benefit_rows: list[dict] = []
        for inv in result.invoices:
            self._add_invoice(inv)

    def _add_invoice(self, inv: InvoiceResult) -> None:
        targets = [self.groups[BATCH], self.groups[inv.provider_id or ""]]
        for g in targets:
            g.invoices += 1
            g.money = g.money + inv.total
            g.findings.update(f.rule for f in inv.findings)
        if inv.invoice.fatal or inv.rows is None:
            return
        clients = {}
        if inv.invoice.clients is not None:
            clients = {c["row"]: c for c in inv.invoice.clients.iter_rows(named=True)}
        if any(f.rule.startswith("F") for f in inv.findings):  # not processed: its days claimed are rejected
            for g in targets:
                g.days_claimed += sum(clients.get(r["row"], {}).get("days_claimed") or 0
                                      for r in inv.rows.iter_rows(named=True))
            return
        below = {f.decision_id for f in inv.findings if f.rule == "R214" and f.decision_id}
        month = inv.billing_month or self.month_start
        month_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        for r in inv.rows.iter_rows(named=True):
            decision_id = r.get("decision_id")
            if not decision_id:
                continue
            c = clients.get(r["row"], {})
            d = self.decisions.get(decision_id)
            hetu = d["hetu"] if d else c.get("hetu")
            paid, held = r.get("days_paid") or 0, r.get("days_held") or 0
            for g in targets:
                g.clients.add(decision_id)
                if hetu:
                    g.people.add(hetu)
                g.days_claimed += c.get("days_claimed") or 0
                g.days_paid += paid
                g.days_held += held
                g.guidance_ind_h100 += c.get("guidance_individual_h100") or 0
                g.guidance_grp_h100 += c.get("guidance_group_h100") or 0
                if decision_id in below:
                    g.below_minimum.add(decision_id)
                if c.get("kykyviisari_date") or c.get("vat_date") or decision_id in self.on_record:
                    g.assessed.add(decision_id)
            if d:
                first, last = max(d["start"], month), min(_end(d), month_end)
                span = (last - first).days + 1
                if span > 0:
                    for g in targets:
                        g.used_per_week.append(Fraction(paid * 7, span))
                        g.decided_per_week.append(d["days_per_week"])
            benefit = d["benefit"] if d else ""
            kind = COMPENSATION.get(benefit, "")
            rate = self.config.rates_for(month).expense_compensation_cents if kind else 0
            self.benefit_rows.append({"provider_id": inv.provider_id or "", "invoice_no": inv.invoice_no or "",
                                      "decision_id": decision_id, "name": (d or {}).get("name") or c.get("name") or "",
                                      "benefit": benefit, "days": paid, "kind": kind, "rate": rate,
                                      "cents": paid * rate})

    def keys(self) -> list[str]:
        return sorted(self.groups)

    def structure(self, key: str) -> dict[str, int]:
        """Clients billed by sex and age band (raw counts; shown through `small`)."""
        out: Counter = Counter()
        for hetu in self.groups[key].people:
            parsed = birth_and_sex(hetu)
            if parsed is None or parsed[0] > self.month_end:  # unreadable, or born after the month
                out["unknown"] += 1
                continue
            born, sex = parsed
            out[sex] += 1
            age = age_on(born, self.month_end)
            out[next(label for low, high, label in AGE_BANDS if low <= age <= high)] += 1
        return out

    def register(self, key: str) -> dict[str, float | int | str]:
        """Register figures for one provider's decisions in force in the batch month (or all)."""
        periods_by_person = self.periods_by_person
        mine = list(self.decisions.values()) if key == BATCH else self.by_provider.get(key, [])
        in_force = [d for d in mine if d["start"] <= self.month_end and _end(d) >= self.month_start]
        lengths = [months(d["start"], _end(d)) for d in in_force]
        people = {d["hetu"] for d in in_force}
        over_24 = sum(1 for p in people
                      if sum(months(d["start"], min(_end(d), self.month_end)) for d in periods_by_person[p]) > 24)
        repeated = sum(1 for p in people if len(periods_by_person[p]) > 1)
        out: dict[str, float | int | str] = {"in_force": len(in_force), "mean_months": _mean(lengths),
                                             "over_24": over_24, "repeated": repeated}
        for low, high, label in LENGTH_BANDS:
            out[f"len {label}"] = sum(1 for m in lengths if low <= m < high)
        ended = [d for d in mine if _end(d) <= self.month_end]
        steps = Counter((d.get("next_step") or "") for d in ended)
        out["ended"] = len(ended)
        for step in (*NEXT_STEPS, ""):
            out[f"next {step}"] = steps.get(step, 0)
        return out

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
    def T(key: str) -> str:
        return TEXT[key].get(lang) or TEXT[key]["fi"]

    def L(key: str) -> str:
        return messages.label(key, lang)

    fig = Figures(result, config)
    pnames = provider_names(result)
    keys = fig.keys()

    def who(key: str) -> list[str]:
        if key == BATCH:
            return [T("batch_all"), ""]
        return [key or L("unknown"), pnames.get(key, "")]

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

    # Summary.
    heads = [L("provider_id"), L("provider"), L("invoices"), T("clients"), T("days_claimed"), T("days_paid"),
             T("days_held"), T("days_rejected"), L("claimed"), L("approved"), L("held"), L("rejected"),
             T("guidance_ok"), T("ind_h"), T("grp_h"), T("assessed"), T("used_week"), T("decided_week")]
    rows = []
    for key in keys:
        g = fig.groups[key]
        n = len(g.clients)
        rows.append([*who(key), g.invoices, n, g.days_claimed, g.days_paid, g.days_held,
                     max(0, g.days_claimed - g.days_paid - g.days_held),
                     g.money.claimed / 100, g.money.approved / 100, g.money.held / 100, g.money.rejected / 100,
                     _pct(n - len(g.below_minimum), n), _round(Fraction(g.guidance_ind_h100, 100 * n), 2) if n else "",
                     _round(Fraction(g.guidance_grp_h100, 100 * n), 2) if n else "", _pct(len(g.assessed), n),
                     _mean(g.used_per_week), _mean(g.decided_per_week)])
    ws = sheet(T("summary"), heads, rows, euro_cols=(8, 9, 10, 11))
    providers = [k for k in keys if k != BATCH]
    if providers:
        chart = wb.add_chart({"type": "column"})
        for col, key in ((9, "approved"), (8, "claimed")):
            chart.add_series({"name": L(key), "categories": [T("summary"), 2, 0, len(keys), 0],
                              "values": [T("summary"), 2, col, len(keys), col]})
        chart.set_title({"name": L("chart_approved")})
        chart.set_size({"width": 720, "height": 360})
        ws.insert_chart(len(rows) + 3, 1, chart)

    # Findings by code.
    codes = [c for c in rules.CATALOGUE if fig.groups[BATCH].findings[c]]
    sheet_name = L("findings_by_rule")
    ws = sheet(sheet_name, [L("provider_id"), L("provider"), *codes],
               [[*who(k), *(fig.groups[k].findings[c] for c in codes)] for k in keys])
    if codes:
        chart = wb.add_chart({"type": "column"})
        chart.add_series({"name": T("batch_all"), "categories": [sheet_name, 0, 2, 0, len(codes) + 1],
                          "values": [sheet_name, 1, 2, 1, len(codes) + 1]})
        chart.set_title({"name": L("chart_findings")})
        chart.set_legend({"none": True})
        chart.set_size({"width": 720, "height": 360})
        ws.insert_chart(len(keys) + 3, 1, chart)

    # Client structure.
    bands = [label for _, _, label in AGE_BANDS]
    rows = []
    for key in keys:
        s = fig.structure(key)
        rows.append([*who(key), small(len(fig.groups[key].people)), small(s["male"]), small(s["female"]),
                     *(small(s[b]) for b in bands), small(s["unknown"])])
    sheet(T("structure"), [L("provider_id"), L("provider"), T("clients"), T("male"), T("female"), *bands,
                           T("unknown")], rows)

    # Register.
    reg_keys = [BATCH, *sorted({d["provider_id"] for d in fig.decisions.values()})]
    step_names = [*NEXT_STEPS, ""]
    heads = [L("provider_id"), L("provider"), T("in_force"), T("mean_months"),
             *(f"{T('len')} {label}" for _, _, label in LENGTH_BANDS), T("over_24"), T("repeated"), T("ended"),
             *(f"{T('next')}: {s or T('not_recorded')}" for s in step_names)]
    rows = []
    for key in reg_keys:
        r = fig.register(key)
        rows.append([*who(key), r["in_force"], r["mean_months"], *(r[f"len {label}"] for _, _, label in LENGTH_BANDS),
                     r["over_24"], r["repeated"], r["ended"], *(r[f"next {s}"] for s in step_names)])
    sheet(T("register"), heads, rows)

    # Benefit basis.
    rows = [[b["provider_id"], b["invoice_no"], b["decision_id"], b["name"], b["benefit"], b["days"], b["kind"],
             b["rate"] / 100, b["cents"] / 100] for b in sorted(fig.benefit_rows, key=lambda b: (b["provider_id"], b["decision_id"]))]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for b in fig.benefit_rows:
        totals[b["benefit"]][0] += b["days"]
        totals[b["benefit"]][1] += b["cents"]
    for benefit in sorted(totals):
        rows.append([L("total"), "", "", "", benefit, totals[benefit][0], COMPENSATION.get(benefit, ""), "",
                     totals[benefit][1] / 100])
    rows.append([T("participant_days"), "", "", "", "", sum(b["days"] for b in fig.benefit_rows), "", "",
                 sum(b["cents"] for b in fig.benefit_rows) / 100])
    sheet(T("benefit"), [L("provider_id"), L("invoice_no"), L("decision"), L("name"), T("benefit_col"),
                         T("days_paid"), T("kind"), T("rate"), "€"], rows,
          euro_cols=(7, 8))

    # Register findings (R224).
    rows = [[f.provider_id or "", pnames.get(f.provider_id or "", ""), f.rule, f.decision_id or "",
             messages.date(f.date, lang), f.expected, f.found, messages.message(f, lang)]
            for f in result.register_findings]
    sheet(T("register_findings"), [L("provider_id"), L("provider"), L("rule"), L("decision"), L("date"),
                                   L("expected"), L("found"), L("message")], rows)
    wb.close()
    normalise_zip(out, batch_time(result.batch))
    return out
