"""The demo inbox read back with openpyxl and polars and checked against the contract and the rules."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import holidays
import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner
from stdnum.fi import hetu as hetu_mod
from stdnum.fi import ytunnus

from reconcile import config, demo
from reconcile.cli import main
from reconcile.errors import UsageError
from schemas import SHEETS, columns
from schemas.invoice import Clients, GuidanceLog, InvoiceHeader
from schemas.registers import BENEFITS, MEALS, NEXT_STEPS, Decisions, Providers

ROOT = Path(__file__).resolve().parents[1]
ARGS = dict(providers=6, clients=60, batches="2026-10..2026-11", seed=7)
HOLIDAYS = holidays.Finland(years=range(2024, 2028))
LANG = {"fi": 0, "sv": 1, "en": 2}


@pytest.fixture(scope="module")
def cfg():
    return config.load(ROOT / "config")


@pytest.fixture(scope="module")
def clean(tmp_path_factory, cfg):
    inbox = tmp_path_factory.mktemp("clean") / "inbox"
    demo.write_inbox(inbox, config_dir=ROOT / "config", anomaly_rate=0.0, **ARGS)
    return inbox


@pytest.fixture(scope="module")
def planted(tmp_path_factory, cfg):
    inbox = tmp_path_factory.mktemp("planted") / "inbox"
    demo.write_inbox(inbox, config_dir=ROOT / "config", anomaly_rate=0.05, **ARGS)
    return inbox, demo.generate(config=cfg, anomaly_rate=0.05, **ARGS)


# ------------------------------------------------------------ reading back, as a person typed it


def num(value) -> Decimal | None:
    """A number cell: a real number or text with a decimal comma."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    assert re.fullmatch(r"-?\d+(,\d+)?", value), value
    return Decimal(value.replace(",", "."))


def cents(value) -> int:
    return int(num(value) * 100) if value is not None else 0


def day(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    d, m, y = value.split(".")
    return dt.date(int(y), int(m), int(d))


def table(ws) -> tuple[list, list[tuple]]:
    """Header and data rows of a table sheet, found the way the contract says (first key header)."""
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows[:20]) if r[0] is not None and str(r[0]) in {n for names in
               [c.names for c in columns(Clients) if c.key] for n in names})
    body = [r for r in rows[top + 1:] if any(v is not None for v in r)]
    body = [r for r in body if r[0] not in ("Yhteensä", "Totalt", "Total")]
    return list(rows[top]), body


def read_registers(inbox: Path):
    wb = openpyxl.load_workbook(inbox / "register" / "decisions.xlsx")
    assert wb.sheetnames == ["Päätökset"]
    rows = list(wb["Päätökset"].iter_rows(values_only=True))
    assert list(rows[0]) == [c.fi for c in columns(Decisions)]
    decisions = {r[0]: dict(zip([c.field for c in columns(Decisions)], r)) for r in rows[1:]}
    wb = openpyxl.load_workbook(inbox / "register" / "providers.xlsx")
    assert wb.sheetnames == ["Palveluntuottajat"]
    rows = list(wb["Palveluntuottajat"].iter_rows(values_only=True))
    assert list(rows[0]) == [c.fi for c in columns(Providers)]
    providers = {r[0]: dict(zip([c.field for c in columns(Providers)], r)) for r in rows[1:]}
    return decisions, providers


def read_invoice(path: Path, lang: str) -> dict:
    wb = openpyxl.load_workbook(path)
    names = [SHEETS[k][LANG[lang]] for k in ("invoice", "clients", "attendance")]
    assert wb.sheetnames[:3] == names
    assert wb.sheetnames[3:] in ([], [SHEETS["guidance"][LANG[lang]]])
    labels = {c.header(lang): c.field for c in columns(InvoiceHeader)}
    header = {labels[a]: b for a, b in wb[names[0]].iter_rows(values_only=True)}
    heads, body = table(wb[names[1]])
    fields = {c.header(lang): c.field for c in columns(Clients)}
    assert heads[: len(fields)] == list(fields)
    clients = [dict(zip(fields.values(), r)) for r in body]
    att = list(wb[names[2]].iter_rows(values_only=True))
    day_heads = att[0][3:]
    attendance = {r[0]: dict(zip(day_heads, r[3:])) for r in att[1:]}
    guidance = []
    if len(wb.sheetnames) == 4:
        g = list(wb.worksheets[3].iter_rows(values_only=True))
        gh = {c.header(lang): c.field for c in columns(GuidanceLog)}
        guidance = [dict(zip([gh[h] for h in g[0]], r)) for r in g[1:]]
    return {"header": header, "clients": clients, "days": day_heads, "attendance": attendance, "guidance": guidance}


def billing_month(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    m = re.fullmatch(r"(\d{4})-(\d{2})|(\d{1,2})[/.](\d{4})", value)
    return dt.date(int(m[1]), int(m[2]), 1) if m[1] else dt.date(int(m[4]), int(m[3]), 1)


def claims(v) -> bool:
    return v is not None and (isinstance(v, (int, float)) or str(v).strip().upper() == "X" or bool(re.fullmatch(r"\d+(,\d+)?", str(v))))


def invoices(inbox: Path, providers: dict) -> list[tuple[str, Path, dict]]:
    out = []
    for folder in sorted(p for p in inbox.iterdir() if p.name != "register"):
        for path in sorted(folder.iterdir()):
            lang = next(p["lang"] for p in providers.values() if p["provider_id"] in _lasku_ids(path))
            out.append((folder.name, path, read_invoice(path, lang)))
    return out


def _lasku_ids(path: Path) -> str:
    wb = openpyxl.load_workbook(path, read_only=True)
    text = " ".join(str(v) for r in wb.worksheets[0].iter_rows(values_only=True) for v in r)
    wb.close()
    return text


# ------------------------------------------------------------ tests


def test_inbox_holds_registers_and_one_folder_per_batch(clean):
    found = sorted(str(p.relative_to(clean)) for p in clean.rglob("*") if p.is_file())
    assert "register/decisions.xlsx" in found and "register/providers.xlsx" in found
    assert {p.name for p in clean.iterdir()} == {"register", "2026-10", "2026-11"}
    assert all(f.endswith(".xlsx") for f in found)
    # one invoice per provider and batch month, billing its batch month
    assert len(list((clean / "2026-10").iterdir())) == len(list((clean / "2026-11").iterdir())) == 6


def test_registers_have_valid_ids_and_realistic_values(clean):
    decisions, providers = read_registers(clean)
    assert all(ytunnus.is_valid(p) for p in providers)
    assert sum(p["own_unit"] == "kyllä" for p in providers.values()) == 1
    assert [p["lang"] for p in providers.values()].count("sv") == 1
    # the lapsing provider's approval ends with the last batch month when nothing is planted
    assert [p["approved_to"] for p in providers.values()].count(dt.datetime(2026, 11, 30)) == 1
    signs = {d["hetu"][6] for d in decisions.values()}
    assert all(hetu_mod.is_valid(d["hetu"], allow_temporary=True) for d in decisions.values())
    assert signs & set("YXWVUBCDEF"), "some henkilötunnus carry the century signs of 2023"
    own = next(p["provider_id"] for p in providers.values() if p["own_unit"] == "kyllä")
    for d in decisions.values():
        assert d["provider_id"] in providers
        assert 1 <= d["days_per_week"] <= 4 and 4 <= num(d["hours_per_day_h100"]) <= 8
        assert d["meal"] in MEALS and d["benefit"] in BENEFITS
        assert d["next_step"] is None or d["next_step"].lower() in NEXT_STEPS
        assert d["start"] <= d["end"] and (d["terminated"] is None or d["start"] <= d["terminated"] <= d["end"])
        if d["provider_id"] == own:
            assert d["day_value_cents"] == 0
        if d["start"] <= dt.datetime(2026, 11, 30) and (d["terminated"] or d["end"]) >= dt.datetime(2026, 10, 1):
            months = (d["end"].year - d["start"].year) * 12 + d["end"].month - d["start"].month
            assert 3 <= months <= 24, d  # R224 never fires on clean data
    assert any(d["next_step"] for d in decisions.values()) and any(d["terminated"] for d in decisions.values())
    periods = [(d["end"] - d["start"]).days // 30 for d in decisions.values()]
    assert min(periods) <= 4 and max(periods) >= 12


def polars_sheets(path: Path) -> dict[str, pl.DataFrame]:
    """Every sheet as a polars frame, read by `pl.read_excel` with the calamine engine."""
    return pl.read_excel(path, sheet_id=0, engine="calamine")


def test_polars_reads_the_same_registers_and_attendance(clean):
    decisions, providers = read_registers(clean)
    frame = polars_sheets(clean / "register" / "decisions.xlsx")["Päätökset"]
    assert frame.columns == [c.fi for c in columns(Decisions)]
    assert sorted(frame["Päätösnumero"].to_list()) == sorted(decisions)
    assert frame["Henkilötunnus"].to_list() == [decisions[k]["hetu"] for k in frame["Päätösnumero"].to_list()]
    assert frame["Setelin arvo €/pv"].sum() == sum(num(d["day_value_cents"]) for d in decisions.values())
    assert polars_sheets(clean / "register" / "providers.xlsx")["Palveluntuottajat"]["Y-tunnus"].to_list() == list(providers)
    for path in sorted((clean / "2026-11").iterdir()):
        sheets = polars_sheets(path)
        attendance = list(sheets.values())[2]
        wb = openpyxl.load_workbook(path)
        assert attendance.height == wb.worksheets[2].max_row - 1
        assert attendance.columns[3:] == [str(i) for i in range(1, 31)]
        codes = {str(v).upper() for c in attendance.columns[3:] for v in attendance[c].to_list() if v is not None}
        assert codes <= {"X", "S", "P", "L"} | {str(v) for v in codes if re.fullmatch(r"\d+([.,]\d+)?", str(v))}
        assert attendance[attendance.columns[0]].to_list() == [r[0] for r in wb.worksheets[2].iter_rows(min_row=2, values_only=True)]


def test_clean_invoices_respect_decisions_rates_and_calendar(clean, cfg):
    decisions, providers = read_registers(clean)
    rates = cfg.rates_for(dt.date(2026, 11, 1))
    week_days: dict[tuple[str, dt.date], set[dt.date]] = defaultdict(set)
    reported: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)  # decision -> (month, assessment date)
    numbers = set()
    for batch, path, inv in invoices(clean, providers):
        h = inv["header"]
        month = billing_month(h["billing_month"])
        assert month.strftime("%Y-%m") == batch
        assert (h["provider_id"], h["invoice_no"]) not in numbers
        numbers.add((h["provider_id"], h["invoice_no"]))
        last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        assert list(inv["days"]) == list(range(1, last.day + 1))
        assert sorted(inv["attendance"]) == sorted(c["decision_id"] for c in inv["clients"])
        invoice_total = 0
        logged = defaultdict(lambda: defaultdict(Decimal))
        for g in inv["guidance"]:
            logged[g["decision_id"]][g["type"] in ("yksilö", "individuell")] += num(g["hours_h100"])
        for c in inv["clients"]:
            d = decisions[c["decision_id"]]
            assert d["provider_id"] == h["provider_id"] and c["hetu"] == d["hetu"]
            start, end = d["start"].date(), (d["terminated"] or d["end"]).date()
            attended = []
            for n, v in inv["attendance"][c["decision_id"]].items():
                if v is None:
                    continue
                date = month.replace(day=n)
                assert start <= date <= end and date.weekday() < 5 and date not in HOLIDAYS
                if claims(v):
                    assert isinstance(v, (int, float)) or str(v).upper() == "X" or "," in v
                    if str(v).upper() != "X":
                        assert 4 <= num(v) <= 8
                    attended.append(date)
                    week_days[(c["decision_id"], date - dt.timedelta(days=date.weekday()))].add(date)
                else:
                    assert v in ("S", "P", "L")
            n = len(attended)
            value = cents(d["day_value_cents"])
            assert c["days_claimed"] == n and cents(c["day_value_cents"]) == value
            assert cents(c["fee_cents"]) == n * value
            meals, comp = c["meals"], c["meal_comp_days"]
            assert meals <= n and (meals == 0 or d["meal"] == "tuottaja")
            assert comp == (n if d["meal"] == "korvaus" else 0)
            assert cents(c["travel_cents"]) <= n * cents(d["travel_per_day_cents"])
            items = n * value + meals * rates.meal_price_cents + comp * rates.meal_compensation_cents + cents(c["travel_cents"])
            assert cents(c["total_cents"]) == items
            invoice_total += items
            inside = (min(last, end) - max(month, start)).days + 1
            minimum = num(d["guidance_min_h100"]) if d["guidance_min_h100"] is not None else rates.guidance_min_hours
            assert num(c["guidance_individual_h100"]) >= round(minimum * inside / last.day, 2)  # R214 quiet
            if inv["guidance"]:
                assert logged[c["decision_id"]][True] == num(c["guidance_individual_h100"])
                assert logged[c["decision_id"]][False] == num(c["guidance_group_h100"])
            for a in (c["kykyviisari_date"], c["vat_date"]):
                if a is not None:
                    reported[c["decision_id"]].append((month, day(a)))
            # R219 quiet: the start and end assessments are on record when the rule looks
            first30 = d["start"].date() + dt.timedelta(days=29)
            if first30.replace(day=1) == month:
                assert any(a >= start and m <= month for m, a in reported[c["decision_id"]])
            if end.replace(day=1) == month:
                assert any(end - dt.timedelta(days=59) <= a <= end and m <= month for m, a in reported[c["decision_id"]])
        assert cents(h["total_cents"]) == invoice_total
    # at most the decided days in every Monday-Sunday week, also across the two batch months
    assert any(monday.month != (monday + dt.timedelta(days=6)).month for _, monday in week_days)
    for (decision_id, monday), dates in week_days.items():
        assert len(dates) <= decisions[decision_id]["days_per_week"], (decision_id, monday)


def test_swedish_provider_writes_swedish_sheets_and_headers(clean):
    _, providers = read_registers(clean)
    sv = next(p["provider_id"] for p in providers.values() if p["lang"] == "sv")
    found = [path for path in (clean / "2026-11").iterdir() if sv in _lasku_ids(path)]
    wb = openpyxl.load_workbook(found[0])
    assert wb.sheetnames[:3] == ["Faktura", "Klienter", "Närvaro"]
    assert next(wb["Klienter"].iter_rows(values_only=True, max_row=5))[0] in ("Beslutsnummer", "Klienter 2026-11")


def test_plan_without_anomalies_is_clean(cfg):
    plan = demo.generate(config=cfg, anomaly_rate=0.0, **ARGS)
    assert plan.anomalies == [] and all(i.genuine for i in plan.invoices)


def test_every_plantable_kind_is_planted_and_sits_in_its_file(planted):
    inbox, plan = planted
    assert plan.kinds() == set(demo.PLANTABLE)
    decisions, providers = read_registers(inbox)
    by_kind = defaultdict(list)
    for a in plan.anomalies:
        assert (inbox / ("register" if a.kind == "R224" else a.batch) / a.file).is_file()
        by_kind[a.kind].append(a)

    def book(a):
        return openpyxl.load_workbook(inbox / a.batch / a.file, data_only=True)

    def row_of(wb, a, sheet=1):
        return next(r for r in wb.worksheets[sheet].iter_rows(values_only=True) if r[0] == a.decision_id)

    a = by_kind["F001"][0]
    with pytest.raises(zipfile.BadZipFile):
        openpyxl.load_workbook(inbox / a.batch / a.file)
    a = by_kind["F002"][0]
    assert "xl/vbaProject.bin" in zipfile.ZipFile(inbox / a.batch / a.file).namelist()
    a = by_kind["F003"][0]
    assert not {"Läsnäolo", "Närvaro"} & set(book(a).sheetnames)
    a = by_kind["F004"][0]
    heads = {str(v) for r in book(a).worksheets[1].iter_rows(values_only=True, max_row=5) for v in r}
    assert not {"Läsnäolopäivät", "Närvarodagar"} & heads
    a = by_kind["F005"][0]
    assert book(a).worksheets[0]["B3"].value is None
    a = by_kind["F006"][0]
    pid = book(a).worksheets[0]["B2"].value
    assert providers[pid]["approved_to"] < dt.datetime(2026, 11, 1)
    a = by_kind["F007"][0]
    copies = [p for p in inbox.rglob("*.xlsx") if p.read_bytes() == (inbox / a.batch / a.file).read_bytes()]
    assert len(copies) == 2 and copies[0].parent.name == "2026-10"
    assert billing_month(book(by_kind["F008"][0]).worksheets[0]["B4"].value) == dt.date(2026, 12, 1)
    assert billing_month(book(by_kind["R225"][0]).worksheets[0]["B4"].value) <= dt.date(2026, 7, 1)
    a = by_kind["R207"][0]
    assert a.date.weekday() == 6 or a.date in HOLIDAYS
    att = book(a).worksheets[2]
    heads = next(att.iter_rows(values_only=True))
    assert claims(row_of(book(a), a, 2)[heads.index(a.date.day)])
    for kind, test in (("R206", lambda v: num(v) < 4), ("R226", lambda v: num(v) > 8), ("V105", lambda v: v == "E")):
        a = by_kind[kind][0]
        wb = book(a)
        heads = next(wb.worksheets[2].iter_rows(values_only=True))
        assert test(row_of(wb, a, 2)[heads.index(a.date.day)]), kind
    a = by_kind["V107"][0]
    assert "#REF!" in row_of(book(a), a)
    a = by_kind["R222"][0]
    assert 31 in next(book(a).worksheets[2].iter_rows(values_only=True)) and a.batch == "2026-11"
    a = by_kind["R224"][0]
    d = decisions[a.decision_id]
    assert d["end"] < d["start"] + dt.timedelta(days=89)
    assert decisions[by_kind["R218"][0].decision_id]["benefit"] == "kuntoutustuki"
    assert by_kind["R201"][0].decision_id not in decisions
    # R216: one client, two decisions at two providers, both claiming the same date in one batch
    pair = [a for a in by_kind["R216"] if a.batch == "2026-11"]
    assert len({decisions[a.decision_id]["provider_id"] for a in pair}) == 2
    assert len({decisions[a.decision_id]["hetu"] for a in pair}) == 1
    for a in pair[:1] + pair[-1:]:
        wb = book(a)
        heads = next(wb.worksheets[2].iter_rows(values_only=True))
        assert claims(row_of(wb, a, 2)[heads.index(a.date.day)])
    # R217: the supplementary invoice re-bills October days the first batch paid
    a = by_kind["R217"][0]
    assert a.batch == "2026-11" and a.date.month == 10


def test_same_seed_gives_byte_identical_files(tmp_path, planted):
    inbox, _ = planted
    again = tmp_path / "again"
    demo.write_inbox(again, config_dir=ROOT / "config", anomaly_rate=0.05, **ARGS)

    def digests(root):
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}

    assert digests(again) == digests(inbox)
    other = demo.generate(config=config.load(ROOT / "config"), anomaly_rate=0.05, **dict(ARGS, seed=8))
    assert [d.hetu for d in other.decisions] != [d.hetu for d in demo.generate(
        config=config.load(ROOT / "config"), anomaly_rate=0.05, **ARGS).decisions]


def test_refuses_a_non_empty_inbox_and_bad_batches(tmp_path):
    (tmp_path / "old.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(UsageError, match="not empty"):
        demo.write_inbox(tmp_path, config_dir=ROOT / "config", anomaly_rate=0.0, **ARGS)
    assert (tmp_path / "old.txt").read_text(encoding="utf-8") == "keep me"
    for bad in ("2026-13", "2026-11..2026-10", "november"):
        with pytest.raises(UsageError):
            demo.parse_batches(bad)
    assert demo.parse_batches("2026-12..2027-01") == [dt.date(2026, 12, 1), dt.date(2027, 1, 1)]


def test_cli_demo_writes_an_inbox(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--inbox", str(tmp_path / "in"), "--config", str(ROOT / "config"),
                                       "--providers", "3", "--clients", "12", "--batches", "2026-11", "--anomalies", "0"])
    assert result.exit_code == 0, result.output
    assert "3 providers" in result.output
    assert (tmp_path / "in" / "register" / "decisions.xlsx").is_file()
    assert len(list((tmp_path / "in" / "2026-11").iterdir())) == 3
    result = CliRunner().invoke(main, ["demo", "--inbox", str(tmp_path / "in"), "--config", str(ROOT / "config")])
    assert result.exit_code == 2 and "not empty" in result.output


def test_checker_finds_exactly_what_was_planted(tmp_path, cfg):
    """Run both batches through the program: the clean inbox yields no error or warning at all,
    the planted one exactly the planted (rule, file, decision) triples."""
    from reconcile import batch

    for rate in (0.0, 0.05):
        plan = demo.generate(config=cfg, anomaly_rate=rate, **ARGS)
        inbox = tmp_path / f"in{rate}"
        demo.write_plan(plan, inbox)
        for b in ("2026-10", "2026-11"):
            result = batch.run_batch(inbox, tmp_path / f"out{rate}", cfg, b, str(tmp_path / f"ledger{rate}.sqlite"))
            found = {(f.rule, f.location.source_file, f.decision_id) for f in result.findings if f.severity != "info"}
            assert found == {(a.kind, a.file, a.decision_id) for a in plan.anomalies if a.batch == b}, (rate, b)


def test_every_catalogued_code_has_a_planter():
    # Row mistakes have one small planter each; the others are planted with the plan (files,
    # registers, pairs of invoices). X900 is a bug in a check: no workbook can carry it.
    from reconcile.text import rules

    assert set(demo.Planter.PLANTERS) == set(demo.ROW_KINDS)
    assert set(rules.CATALOGUE) - set(demo.PLANTABLE) == {"X900"}
    assert set(demo.PLANTABLE) <= set(rules.CATALOGUE)
