"""audit/compliance.xlsx: the figures of RULES.md section 5 against values computed by hand."""

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from reconcile import config
from reconcile.findings import Finding, Location
from reconcile.model import BatchResult, Invoice, InvoiceHeader, InvoiceResult, Money, Registers, Submission
from reconcile.report.compliance import BATCH, Figures
from reconcile.write.compliance import write_compliance

ROOT = Path(__file__).resolve().parents[1]
A, B = "1234561-2", "7654321-2"
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(born: dt.date, number: int) -> str:
    sign = "-" if born.year < 2000 else "A"
    digits = f"{born:%d%m%y}{number:03d}"
    return f"{born:%d%m%y}{sign}{number:03d}{CHECK[int(digits) % 31]}"


H1 = hetu(dt.date(2000, 1, 1), 201)  # male, 26 on 30.11.2026
H2 = hetu(dt.date(1990, 6, 1), 202)  # female, 36
H3 = hetu(dt.date(2001, 12, 1), 203)  # male, 24 (birthday after the month)
H4 = hetu(dt.date(1960, 1, 1), 204)  # female, 66
H6 = hetu(dt.date(1970, 1, 1), 205)


def _invoice(provider, no, clients, rows, findings, money):
    sub = Submission(Path(f"{no}.xlsx"), f"{no}.xlsx", "0" * 64, 1)
    inv = Invoice(sub, InvoiceHeader(provider_id=provider, invoice_no=no, billing_month=dt.date(2026, 11, 1)),
                  clients=pl.DataFrame(clients, schema_overrides={"kykyviisari_date": pl.Date, "vat_date": pl.Date}))
    frame = pl.DataFrame([{"row": r, "decision_id": d, "days_paid": p, "days_held": h, "status": "approved"}
                          for r, d, p, h in rows])
    items = {"fee": money, "meals": Money(), "meal_comp": Money(), "travel": Money()}
    return InvoiceResult(inv, provider, no, dt.date(2026, 11, 1), status="partly_approved", items=items, rows=frame,
                         findings=findings)


def _client(row, decision, h, days, ind, grp=None, kyky=None):
    return {"row": row, "decision_id": decision, "hetu": h, "days_claimed": days, "guidance_individual_h100": ind,
            "guidance_group_h100": grp, "kykyviisari_date": kyky, "vat_date": None}


@pytest.fixture
def result():
    r214 = [Finding("R214", Location("x", "Asiakkaat", "J3"), decision_id="D2"),
            Finding("R214", Location("x", "Asiakkaat", "J4"), decision_id="D3")]
    inv_a = _invoice(A, "A-1", [_client(2, "D1", H1, 8, 250, 100, dt.date(2026, 9, 20)), _client(3, "D2", H2, 8, 100),
                                _client(4, "D3", H3, 4, 0)],
                     [(2, "D1", 8, 0), (3, "D2", 5, 2), (4, "D3", 0, 0)], r214, Money(100000, 65000, 10000, 25000))
    inv_b = _invoice(B, "B-1", [_client(2, "D4", H4, 3, 200)], [(2, "D4", 3, 0)], [], Money(15000, 15000, 0, 0))
    d = lambda i, h, p, s, e, t, dpw, ben, nxt: dict(decision_id=i, hetu=h, name=f"Name {i}", provider_id=p, start=s,  # noqa: E731
                                                    end=e, terminated=t, days_per_week=dpw, benefit=ben, next_step=nxt)
    D = dt.date
    decisions = pl.DataFrame([
        d("D1", H1, A, D(2026, 9, 1), D(2027, 2, 28), None, 2, "työttömyysetuus", None),
        d("D2", H2, A, D(2026, 11, 16), D(2027, 5, 15), None, 3, "toimeentulotuki", None),
        d("D3", H3, A, D(2026, 6, 1), D(2026, 11, 30), D(2026, 11, 10), 4, "kuntoutustuki", None),
        d("D4", H4, B, D(2026, 10, 1), D(2027, 3, 31), None, 2, "työttömyysetuus", None),
        d("D5", H1, A, D(2024, 1, 1), D(2025, 12, 31), None, 3, "työttömyysetuus", "uusi jakso"),
        d("D6", H6, B, D(2025, 1, 1), D(2025, 6, 30), None, 3, "työttömyysetuus", "työ"),
    ], schema_overrides={"terminated": pl.Date, "next_step": pl.Utf8})
    providers = pl.DataFrame({"provider_id": [A, B], "name": ["Aa Oy", "Bb Ab"]})
    r224 = Finding("R224", Location("decisions.xlsx", "Päätökset", "A7"), decision_id="D6", provider_id=B, found="2")
    return BatchResult("2026-11", "run1", dt.datetime(2026, 12, 1), None, [inv_a, inv_b], [r224],
                       Registers(decisions, providers))


@pytest.fixture
def book(result, tmp_path):
    path = write_compliance(result, tmp_path / "compliance.xlsx", config.load(ROOT / "config"), "fi")
    return openpyxl.load_workbook(path)


def _table(ws):
    rows = list(ws.iter_rows(values_only=True))
    return [{h: v for h, v in zip(rows[0], r)} for r in rows[1:]]


def test_summary_per_provider_and_batch(book):
    rows = {r["Y-tunnus"]: r for r in _table(book["Yhteenveto"])}
    a, b, batch = rows[A], rows[B], rows["Koko erä"]
    assert (a["Asiakkaita"], a["Päiviä laskutettu"], a["Päiviä maksettu"], a["Päiviä pidätetty"], a["Päiviä hylätty"]) == (3, 20, 13, 2, 5)
    assert (a["Laskutettu €"], a["Hyväksytty €"], a["Pidätetty €"], a["Hylätty €"]) == (1000, 650, 100, 250)
    assert a["Ohjauksen minimi täyttyy %"] == 33.3  # D2 and D3 have R214
    assert (a["Yksilöohjaus h/asiakas"], a["Ryhmäohjaus h/asiakas"]) == (1.17, 0.33)  # 3.5 h and 1 h over 3
    assert a["Arviointi tehty %"] == 33.3
    # Used: D1 8 days over 30 days (1.8667/wk), D2 5 over 16.-30.11. (2.3333), D3 0 over 1.-10.11.
    assert (a["Päiviä/vko toteutunut"], a["Päiviä/vko päätetty"]) == (1.4, 3)
    assert (b["Asiakkaita"], b["Päiviä maksettu"], b["Ohjauksen minimi täyttyy %"], b["Päiviä/vko toteutunut"]) == (1, 3, 100, 0.7)
    assert (batch["Asiakkaita"], batch["Päiviä laskutettu"], batch["Laskutettu €"], batch["Hyväksytty €"]) == (4, 23, 1150, 800)
    assert batch["Ohjauksen minimi täyttyy %"] == 50


def test_findings_by_code(book):
    rows = {r["Y-tunnus"]: r for r in _table(book["Havainnot säännöittäin"])}
    assert rows[A]["R214"] == 2 and rows[B]["R214"] == 0 and rows["Koko erä"]["R214"] == 2


def test_client_structure_counts_and_small_numbers(result, book):
    fig = Figures(result, config.load(ROOT / "config"))
    s = fig.structure(BATCH)
    assert (s["male"], s["female"], s["<25"], s["25–34"], s["35–44"], s["45–54"], s["55+"]) == (2, 2, 1, 1, 1, 0, 1)
    shown = {r["Y-tunnus"]: r for r in _table(book["Asiakasrakenne"])}
    assert set(v for k, v in shown["Koko erä"].items() if k not in ("Y-tunnus", "Palveluntuottaja")) == {"<5"}


def test_register_figures(book):
    rows = {r["Y-tunnus"]: r for r in _table(book["Rekisteri"])}
    a, batch = rows[A], rows["Koko erä"]
    assert a["Päätöksiä voimassa"] == 3
    assert a["Jakson keskipituus kk"] == 5.75  # 181, 181 and 163 days of 30.4375
    assert a["Pituus kk 3–6"] == 3 and a["Pituus kk <3"] == 0
    assert a["Yli 24 kk palvelussa"] == 1  # H1: 731 days (D5) + 91 days of D1 to 30.11.2026
    assert a["Toistuva jakso"] == 1
    assert (a["Päättyneitä jaksoja"], a["Jatkopolku: uusi jakso"], a["Jatkopolku: ei kirjattu"]) == (2, 1, 1)
    assert (batch["Päätöksiä voimassa"], batch["Päättyneitä jaksoja"], batch["Jatkopolku: työ"]) == (4, 3, 1)


def test_benefit_basis(book):
    rows = _table(book["Etuusperuste"])
    per = {r["Päätös"]: (r["Etuus"], r["Päiviä maksettu"], r["Korvaus"], r["€"]) for r in rows if r["Päätös"]}
    assert per == {"D1": ("työttömyysetuus", 8, "kulukorvaus", 72), "D2": ("toimeentulotuki", 5, "toimintaraha", 45),
                   "D3": ("kuntoutustuki", 0, None, 0), "D4": ("työttömyysetuus", 3, "kulukorvaus", 27)}
    assert rows[-1]["Y-tunnus"] == "Osallistujapäivät" and (rows[-1]["Päiviä maksettu"], rows[-1]["€"]) == (16, 144)
    totals = {r["Etuus"]: (r["Päiviä maksettu"], r["€"]) for r in rows if r["Y-tunnus"] == "Yhteensä"}
    assert totals == {"kuntoutustuki": (0, 0), "toimeentulotuki": (5, 45), "työttömyysetuus": (11, 99)}


def test_register_findings_and_charts(book, tmp_path):
    rows = _table(book["Rekisterin havainnot"])
    assert [(r["Y-tunnus"], r["Sääntö"], r["Päätös"]) for r in rows] == [(B, "R224", "D6")]
    with zipfile.ZipFile(tmp_path / "compliance.xlsx") as z:
        assert len([n for n in z.namelist() if n.startswith("xl/charts/chart")]) == 2
