"""The compliance report's figures (RULES.md section 5), per provider and for the batch, as data.

After the checks, once per batch: computed from the batch result (processed
invoices' rows and findings) and the decision register, as one `Table` per
sheet of audit/compliance.xlsx. Tables hold numbers, counts and cents, with
columns named by key and words as `Label`s; `write.compliance` puts them in the
audit language, lays them out, and adds the sheet of definitions (every
column's meaning and the rates applied, `rates`):

- summary: clients billed; attendance days claimed, paid, held, rejected;
  euros; guidance (share of clients meeting the minimum, hours per client);
  assessments (share of decisions billed); days per week used against decided
  (chart: approved against claimed by provider);
- findings by code (chart);
- client structure by sex and age band from the henkilötunnus;
- register: decisions in force and their period lengths, clients over 24
  months across periods, clients on a repeated period, periods that ended in
  the batch month and their next steps;
- benefit basis: attended (paid) days per client and benefit, the expense
  compensation they earn, participant days; it names clients, and its heading
  says so;
- register findings (R224).

One figure, one value: a figure that appears on two sheets is computed once
and shown the same way on both. Definitions where RULES.md leaves room (also
in the README and on the workbook's definitions sheet):
- a client is a person (henkilötunnus): the decision's in the register, else
  the one on the row; the batch counts each person once, even when two
  providers bill the same person, so the batch's count can be less than the
  providers' counts added up; a row naming no one it can be read from counts
  in days and euros only;
- clients billed = persons with a row on a processed invoice (one not rejected
  as a whole by an F rule), the row's own outcome aside;
- every count of people (clients, sexes, age bands; the register's decisions,
  clients and periods, which are people's placements) below 5 is shown as
  `<5`, zero included, on every sheet (`small`); shares, means, days, euros
  and findings are not counts of people and are shown as they are;
- days rejected = days claimed − paid − held;
- days and euros claimed count every workbook, so that they add up with
  approval.csv (a rejected file's days are rejected days);
- a client meets the guidance minimum unless an R214 finding names one of
  their decisions billed; hours per client = hours reported ÷ clients billed;
- assessments: of the decisions billed, the share with a Kykyviisari or VAT
  date on or before the batch month's last day, on the client's invoice row of
  this batch or kept by the ledger from an earlier batch (`result.history`);
- days per week used = paid days ÷ (days of the decision's period in the
  billed month ÷ 7), per decision and billed month, averaged over them;
  decided = the decision's days per week, averaged over the same;
- age is the age on the last day of the batch month;
- period lengths are in months of 365.25 / 12 days, start to termination or end;
- periods ended = decisions whose last day (termination, else end) falls in
  the batch month; their next steps are counted by value;
- expense compensation is paid for the days paid, at the rate in force for
  the billed month.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from reconcile.config import Config
from reconcile.findings import Finding
from reconcile.model import BatchResult, InvoiceResult, Money
from reconcile.periods import last_day, month_end, parse_month
from reconcile.text import rules
from schemas.registers import NEXT_STEPS

AGE_BANDS = ((0, 24, "<25"), (25, 34, "25–34"), (35, 44, "35–44"), (45, 54, "45–54"), (55, 200, "55+"))
LENGTH_BANDS = ((0, 3, "<3"), (3, 6, "3–6"), (6, 12, "6–12"), (12, 24, "12–24"), (24, 10**6, ">24"))
MONTH_DAYS = Fraction(36525, 1200)  # 365.25 / 12 days, exactly
CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
           "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}
COMPENSATION = {"työttömyysetuus": "kulukorvaus", "toimeentulotuki": "toimintaraha"}
BATCH = "\u0000batch"  # the key of the whole batch among provider keys (never a Y-tunnus)
SMALL = 5  # counts of people below this are shown as `<5`


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
    """A count of people as shown: below 5 (zero included) becomes `<5`."""
    return "<5" if n < SMALL else n


def months(start: dt.date, end: dt.date) -> Fraction:
    return ((end - start).days + 1) / MONTH_DAYS


def _end(d: dict) -> dt.date:
    return last_day(d["end"], d.get("terminated"))


@dataclass
class Group:
    """The figures of one provider (or of the whole batch)."""

    invoices: int = 0
    money: Money = field(default_factory=Money)
    people: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # person -> decisions billed
    decisions: set[str] = field(default_factory=set)  # decisions billed
    days_claimed: int = 0
    days_paid: int = 0
    days_held: int = 0
    guidance_ind_h100: int = 0
    guidance_grp_h100: int = 0
    below_minimum: set[str] = field(default_factory=set)  # decisions with R214
    assessed: set[str] = field(default_factory=set)  # decisions with an assessment on record
    # (decision, billed month) -> [paid days, days of the period in the month, decided days per week]
    weeks: dict[tuple[str, dt.date], list[int]] = field(default_factory=dict)
    findings: Counter = field(default_factory=Counter)

    @property
    def clients(self) -> int:
        """Clients billed: persons, each once."""
        return len(self.people)

    @property
    def guidance_met(self) -> int:
        """Clients none of whose decisions billed has an R214 finding."""
        return sum(1 for decisions in self.people.values() if not decisions & self.below_minimum)


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
        self.month_start = parse_month(result.batch)
        self.month_end = month_end(self.month_start)
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
        self.on_record: set[str] = set()
        if history is not None:
            kept = history.assessments.filter(history.assessments["date"] <= self.month_end)
            self.on_record = set(kept.get_column("decision_id").to_list())
        self.benefit_rows: list[dict] = []
        for inv in result.invoices:
            self._add_invoice(inv)

    def _assessed(self, c: dict, decision_id: str) -> bool:
        dates = [c.get("kykyviisari_date"), c.get("vat_date")]
        return any(d is not None and d <= self.month_end for d in dates) or decision_id in self.on_record

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
        if inv.rejected_as_whole:  # not processed: its days claimed are rejected
            for g in targets:
                g.days_claimed += sum(clients.get(r["row"], {}).get("days_claimed") or 0
                                      for r in inv.rows.iter_rows(named=True))
            return
        below = {f.decision_id for f in inv.findings if f.rule == "R214" and f.decision_id}
        month = inv.billing_month or self.month_start
        last = month_end(month)
        for r in inv.rows.iter_rows(named=True):
            decision_id = r.get("decision_id")
            if not decision_id:
                continue
            c = clients.get(r["row"], {})
            d = self.decisions.get(decision_id)
            person = (d["hetu"] if d else c.get("hetu") or "").upper()
            paid, held = r.get("days_paid") or 0, r.get("days_held") or 0
            span = (min(_end(d), last) - max(d["start"], month)).days + 1 if d else 0
            for g in targets:
                g.decisions.add(decision_id)
                if person:
                    g.people[person].add(decision_id)
                g.days_claimed += c.get("days_claimed") or 0
                g.days_paid += paid
                g.days_held += held
                g.guidance_ind_h100 += c.get("guidance_individual_h100") or 0
                g.guidance_grp_h100 += c.get("guidance_group_h100") or 0
                if decision_id in below:
                    g.below_minimum.add(decision_id)
                if self._assessed(c, decision_id):
                    g.assessed.add(decision_id)
                if span > 0:
                    g.weeks.setdefault((decision_id, month), [0, span, d["days_per_week"]])[0] += paid
            benefit = d["benefit"] if d else ""
            kind = COMPENSATION.get(benefit, "")
            rate = self.config.rates_for(month).expense_compensation_cents if kind else 0
            self.benefit_rows.append({"provider_id": inv.provider_id or "", "invoice_no": inv.invoice_no or "",
                                      "decision_id": decision_id, "name": (d or {}).get("name") or c.get("name") or "",
                                      "benefit": benefit, "days": paid, "kind": kind, "rate": rate,
                                      "cents": paid * rate})

    def keys(self) -> list[str]:
        """The whole batch first, then the providers by Y-tunnus, an unknown provider last."""
        return sorted(self.groups, key=lambda k: (k != BATCH, k == "", k))

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
        """Register figures for one provider's decisions (or all): those in force in the batch
        month, and the periods that ended in it (raw counts; shown through `small`)."""
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
        ended = [d for d in mine if self.month_start <= _end(d) <= self.month_end]
        steps = Counter((d.get("next_step") or "") for d in ended)
        out["ended"] = len(ended)
        for step in (*NEXT_STEPS, ""):
            out[f"next {step}"] = steps.get(step, 0)
        return out


# --- the sheets, as tables ----------------------------------------------------


@dataclass(frozen=True)
class Label:
    """Words the writer puts in the audit language: a key of the report's own texts
    (`own`) or of `messages.label`."""

    key: str
    own: bool = True


def T(key: str) -> Label:  # noqa: N802 - reads as the writer's T() it stands for
    return Label(key, own=True)


def L(key: str) -> Label:  # noqa: N802
    return Label(key, own=False)


Heading = tuple  # parts: Label or str, joined


@dataclass(frozen=True)
class Column:
    """A column: `key` names it (the writer finds columns by it, and its definition),
    `heading` is what the sheet shows, `euro` marks money in cents (shown as euros),
    `people` marks a count of people (shown through `small`)."""

    key: str
    heading: Heading
    euro: bool = False
    people: bool = False


@dataclass
class Table:
    """One sheet: its name, its columns and its rows of values (int, float, str, date or Label);
    `note` is said in the sheet's heading."""

    name: Label
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    note: Label | None = None

    def index(self, key: str) -> int:
        """The position of the column named `key`."""
        return next(i for i, c in enumerate(self.columns) if c.key == key)


def _col(key: str, label: Label | None = None, euro: bool = False, people: bool = False) -> Column:
    return Column(key, (label or T(key),), euro, people)


def _shown(columns: list[Column], rows: list[list]) -> list[list]:
    """Counts of people through `small`: the one place masking happens, for every sheet."""
    return [[small(v) if c.people and isinstance(v, int) else v for c, v in zip(columns, row)] for row in rows]


WHO = [_col("provider_id", L("provider_id")), _col("provider", L("provider"))]


def _who(key: str, names: dict[str, str]) -> list:
    if key == BATCH:
        return [T("batch_all"), ""]
    return [key or L("unknown"), names.get(key, "")]


def summary(fig: Figures, names: dict[str, str]) -> Table:
    """Per provider and for the batch: invoices, clients, days, euros, guidance, assessments, days per week."""
    columns = [*WHO, _col("invoices", L("invoices")), _col("clients", people=True), _col("days_claimed"),
               _col("days_paid"), _col("days_held"), _col("days_rejected"),
               *(_col(k, L(k), euro=True) for k in ("claimed", "approved", "held", "rejected")),
               _col("guidance_ok"), _col("ind_h"), _col("grp_h"), _col("assessed"), _col("used_week"),
               _col("decided_week")]
    rows = []
    for key in fig.keys():
        g = fig.groups[key]
        n = g.clients
        weeks = list(g.weeks.values())
        rows.append([*_who(key, names), g.invoices, n, g.days_claimed, g.days_paid, g.days_held,
                     max(0, g.days_claimed - g.days_paid - g.days_held),
                     g.money.claimed, g.money.approved, g.money.held, g.money.rejected,
                     _pct(g.guidance_met, n), _round(Fraction(g.guidance_ind_h100, 100 * n), 2) if n else "",
                     _round(Fraction(g.guidance_grp_h100, 100 * n), 2) if n else "",
                     _pct(len(g.assessed), len(g.decisions)),
                     _mean([Fraction(paid * 7, span) for paid, span, _ in weeks]),
                     _mean([decided for _, _, decided in weeks])])
    return Table(T("summary"), columns, _shown(columns, rows))


def findings_by_rule(fig: Figures, names: dict[str, str]) -> Table:
    """Findings per code (the codes found in the batch, in catalogue order)."""
    codes = [c for c in rules.CATALOGUE if fig.groups[BATCH].findings[c]]
    keys = fig.keys()
    return Table(L("findings_by_rule"), [*WHO, *(Column(c, (c,)) for c in codes)],
                 [[*_who(k, names), *(fig.groups[k].findings[c] for c in codes)] for k in keys])


def structure(fig: Figures, names: dict[str, str]) -> Table:
    """Clients billed by sex and age band."""
    bands = [label for _, _, label in AGE_BANDS]
    rows = []
    for key in fig.keys():
        s = fig.structure(key)
        rows.append([*_who(key, names), fig.groups[key].clients, s["male"], s["female"], *(s[b] for b in bands),
                     s["unknown"]])
    columns = [*WHO, _col("clients", people=True), _col("male", people=True), _col("female", people=True),
               *(Column(f"age {b}", (b,), people=True) for b in bands), _col("unknown", people=True)]
    return Table(T("structure"), columns, _shown(columns, rows))


def register(fig: Figures, names: dict[str, str]) -> Table:
    """The register's decisions in force: period lengths, over 24 months, repeated; periods that
    ended in the batch month and their next steps."""
    reg_keys = [BATCH, *sorted({d["provider_id"] for d in fig.decisions.values()})]
    step_names = [*NEXT_STEPS, ""]
    columns = [*WHO, _col("in_force", people=True), _col("mean_months"),
               *(Column(f"len {label}", (T("len"), f" {label}"), people=True) for _, _, label in LENGTH_BANDS),
               _col("over_24", people=True), _col("repeated", people=True), _col("ended", people=True),
               *(Column(f"next {s}", (T("next"), ": ", T(f"step {s}")), people=True) for s in step_names)]
    rows = []
    for key in reg_keys:
        r = fig.register(key)
        rows.append([*_who(key, names), r["in_force"], r["mean_months"],
                     *(r[f"len {label}"] for _, _, label in LENGTH_BANDS),
                     r["over_24"], r["repeated"], r["ended"], *(r[f"next {s}"] for s in step_names)])
    return Table(T("register"), columns, _shown(columns, rows))


def _word(code: str) -> Label | str:
    """A register code (benefit, compensation) as words of the audit language."""
    return T(code) if code else ""


def benefit_basis(fig: Figures) -> Table:
    """Attended (paid) days per client and benefit, the expense compensation they earn; totals per
    benefit, then the participant days. It names clients: its heading says so."""
    columns = [_col("provider_id", L("provider_id")), _col("invoice_no", L("invoice_no")),
               _col("decision", L("decision")), _col("name", L("name")), _col("benefit_col"), _col("days_paid"),
               _col("kind"), _col("rate", euro=True), Column("cents", ("€",), euro=True)]
    rows = [[b["provider_id"], b["invoice_no"], b["decision_id"], b["name"], _word(b["benefit"]), b["days"],
             _word(b["kind"]), b["rate"], b["cents"]]
            for b in sorted(fig.benefit_rows, key=lambda b: (b["provider_id"], b["decision_id"]))]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for b in fig.benefit_rows:
        totals[b["benefit"]][0] += b["days"]
        totals[b["benefit"]][1] += b["cents"]
    for benefit in sorted(totals):
        rows.append([L("total"), "", "", "", _word(benefit), totals[benefit][0], _word(COMPENSATION.get(benefit, "")),
                     "", totals[benefit][1]])
    rows.append([T("participant_days"), "", "", "", "", sum(b["days"] for b in fig.benefit_rows), "", "",
                 sum(b["cents"] for b in fig.benefit_rows)])
    return Table(T("benefit"), columns, rows, note=T("names_note"))


def rates(applied: dict[str, dict[str, str]]) -> Table:
    """The rate block applied to each month the batch bills (and the batch's own month), from the
    manifest's `rates_applied` (`Rates.as_text` by month): euros in cents, hours as written."""
    columns = [_col("month"), _col("valid_from"), _col("meal_price", euro=True), _col("meal_compensation", euro=True),
               _col("expense_compensation", euro=True), _col("guidance_min")]
    rows = []
    for month, block in applied.items():
        rows.append([month, dt.date.fromisoformat(block["valid_from"]),
                     *(int(Decimal(block[k]) * 100) for k in ("meal_price_eur", "meal_compensation_eur",
                                                             "expense_compensation_eur")),
                     float(Decimal(block["guidance_min_hours"]))])
    return Table(T("rates"), columns, rows)


@dataclass(frozen=True)
class Said:
    """A finding's message, which the writer renders in the audit language."""

    finding: Finding


def register_findings(fig: Figures, names: dict[str, str]) -> Table:
    """The register's own findings (R224): each decision's period as the register has it, its length,
    and the finding's message."""
    columns = [*WHO, _col("rule", L("rule")), _col("decision", L("decision")), _col("start"), _col("last_day"),
               _col("length_months"), _col("message", L("message"))]
    rows = []
    for f in fig.result.register_findings:
        d = fig.decisions.get(f.decision_id or "")
        period = [d["start"], _end(d), _round(months(d["start"], _end(d)), 2)] if d else ["", "", ""]
        rows.append([f.provider_id or "", names.get(f.provider_id or "", ""), f.rule, f.decision_id or "", *period,
                     Said(f)])
    return Table(T("register_findings"), columns, rows)


def tables(result: BatchResult, config: Config, names: dict[str, str]) -> list[Table]:
    """Every figure sheet of compliance.xlsx, in order; `names` are the providers' names by Y-tunnus."""
    fig = Figures(result, config)
    return [summary(fig, names), findings_by_rule(fig, names), structure(fig, names), register(fig, names),
            benefit_basis(fig), register_findings(fig, names)]
