"""Conformance of audit/compliance.xlsx with RULES.md section 5: every figure per
provider and for the batch, on two real batches run end to end (October, then
November with the ledger's history), against values computed by hand below.

November 2026 has 30 days. Clients (tests/test_conformance_rules.hetu): H1 male
born 1981, H2 female 1982, H3 male 1983, H4 female 1984: ages 45, 44, 43, 42 on
30 November 2026.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
import wb
from test_conformance_rules import CONFIG, H1, H2, H3, H4, Y1, Y2, calendar, client, decision, header, provider

from reconcile import batch as batch_mod
from reconcile.ledger import store as ledger_mod
from reconcile.report.compliance import BATCH, Figures
from reconcile.write.compliance import write_compliance

D = dt.date
OCT, NOV, DEC = D(2026, 10, 1), D(2026, 11, 1), D(2026, 12, 1)


@pytest.fixture(scope="module")
def november(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compliance")
    inbox, outbox, ledger = tmp / "inbox", tmp / "outbox", str(tmp / "ledger.sqlite")
    for folder in ("register", "2026-10", "2026-11"):
        (inbox / folder).mkdir(parents=True)
    wb.write_decisions(inbox / "register" / "decisions.xlsx", [
        decision("D-1", H1, Y1, days_per_week=2),                                             # 181 days
        decision("D-2", H2, Y1, start=OCT, end=D(2027, 3, 31), days_per_week=3, benefit="toimeentulotuki"),  # 182
        decision("D-3", H3, Y2, start=D(2026, 11, 16), end=D(2027, 5, 15)),                   # 181 days
        decision("D-4", H4, Y2, benefit="eläke"),
        decision("D-5", H1, Y1, start=D(2024, 6, 1), end=D(2026, 8, 31), next_step="uusi jakso"),  # ended, 822 days
    ])
    wb.write_providers(inbox / "register" / "providers.xlsx", [provider(Y1), provider(Y2)])
    # October: D-1's Kykyviisari is reported; the ledger keeps it.
    wb.write_invoice(inbox / "2026-10" / "oct.xlsx", header(Y1, "L-10", OCT),
                     [client("D-1", H1, 1, kykyviisari_date=D(2026, 10, 5))], [calendar("D-1", H1, {6: "X"})])
    # November. Y1: D-1 on Tue-Thu 3-5 Nov with 2 days a week (5 Nov: R205), 2.5 h guidance;
    # D-2 on 2 and 3 Nov, 1 h guidance (R214: minimum 2.00). Y1's L-12 bills December (F008).
    g = "guidance_individual_h100"
    wb.write_invoice(inbox / "2026-11" / "y1.xlsx", header(Y1, "L-11"),
                     [client("D-1", H1, 3, **{g: "2,5"}), client("D-2", H2, 2, **{g: 1})],
                     [calendar("D-1", H1, {3: "X", 4: "X", 5: "X"}), calendar("D-2", H2, {2: "X", 3: "X"})])
    wb.write_invoice(inbox / "2026-11" / "y1-dec.xlsx", header(Y1, "L-12", DEC), [client("D-1", H1, 1)],
                     [calendar("D-1", H1, {1: "X"})])
    # Y2: D-3 from 16 Nov claims 3 days for 2 cells (R208), 1 h guidance (minimum 2.00 x 15/30 = 1.00),
    # VAT on 20 Nov; D-4 (eläke) is held as a whole (R218).
    wb.write_invoice(inbox / "2026-11" / "y2.xlsx", header(Y2, "B-11"),
                     [client("D-3", H3, 3, vat_date=D(2026, 11, 20), **{g: 1}), client("D-4", H4, 1, **{g: 2})],
                     [calendar("D-3", H3, {17: "X", 18: "X"}), calendar("D-4", H4, {2: "X"})])
    batch_mod.run_batch(inbox, outbox, CONFIG, "2026-10", ledger)
    result = batch_mod.run_batch(inbox, outbox, CONFIG, "2026-11", ledger)
    with ledger_mod.open_ledger(ledger) as book:
        result.history = book.history(exclude_batch="2026-11")
    path = write_compliance(result, tmp / "compliance.xlsx", CONFIG, "fi")
    return result, path


def table(path: Path, sheet: str) -> list[dict]:
    """A figure sheet's rows by column heading: row 1 is the sheet's heading, row 2 the columns."""
    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[1], r)) for r in rows[2:]]


def by_provider(path: Path, sheet: str) -> dict:
    return {r["Y-tunnus"]: r for r in table(path, sheet)}


SUMMARY = ("Laskut", "Asiakkaita", "Päiviä laskutettu", "Päiviä maksettu", "Päiviä pidätetty", "Päiviä hylätty",
           "Laskutettu €", "Hyväksytty €", "Pidätetty €", "Hylätty €")


def test_clients_days_and_euros(november):
    _, path = november
    rows = by_provider(path, "Yhteenveto")
    # Y1: L-11 claims 5 days (4 paid, 5 Nov rejected) = 225.00, approved 180.00; L-12 (F008) 1 day, 45.00
    # rejected. Y2: D-3 3 days claimed, 2 paid (90.00), D-4 1 day held (45.00). Clients: 2, 2 and 4
    # persons, each below 5 and so shown as <5.
    assert [rows[Y1][k] for k in SUMMARY] == [2, "<5", 6, 4, 0, 2, 270, 180, 0, 90]
    assert [rows[Y2][k] for k in SUMMARY] == [1, "<5", 4, 2, 1, 1, 180, 90, 45, 45]
    assert [rows["Koko erä"][k] for k in SUMMARY] == [3, "<5", 10, 6, 1, 3, 450, 270, 45, 135]


def test_guidance_assessments_and_days_per_week(november):
    _, path = november
    rows = by_provider(path, "Yhteenveto")
    pick = ("Ohjauksen minimi täyttyy, % asiakkaista", "Yksilöohjaus h/asiakas", "Ryhmäohjaus h/asiakas",
            "Kykyviisari tai VAT kirjattu, % päätöksistä",
            "Päiviä/vko toteutunut", "Päiviä/vko päätetty")
    # Y1: D-2 below the minimum; (2.5 + 1) / 2 h; D-1's Kykyviisari is on record from October (the ledger);
    # used 2 x 7 / 30 for both D-1 and D-2 = 0.47, decided (2 + 3) / 2.
    assert [rows[Y1][k] for k in pick] == [50, 1.75, 0, 50, 0.47, 2.5]
    # Y2: both meet the minimum; (1 + 2) / 2 h; D-3's VAT; used (2 x 7 / 15 + 0) / 2 = 0.47, decided 4.
    assert [rows[Y2][k] for k in pick] == [100, 1.5, 0, 50, 0.47, 4]
    assert [rows["Koko erä"][k] for k in pick[:4]] == [75, 1.63, 0, 50]


def test_findings_by_code_and_charts(november):
    _, path = november
    rows = by_provider(path, "Havainnot säännöittäin")
    codes = ("F008", "R205", "R208", "R214", "R218")
    assert [rows[Y1].get(c) for c in codes] == [1, 1, 0, 1, 0]
    assert [rows[Y2].get(c) for c in codes] == [0, 0, 1, 0, 1]
    assert [rows["Koko erä"].get(c) for c in codes] == [1, 1, 1, 1, 1]
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 2 and all(b"<c:barChart>" in z.read(n) for n in charts)


def test_client_structure_by_sex_and_age_band(november):
    result, path = november
    fig = Figures(result, CONFIG)
    s = fig.structure(BATCH)
    assert [s[k] for k in ("male", "female", "<25", "25–34", "35–44", "45–54", "55+")] == [2, 2, 0, 0, 3, 1, 0]
    shown = by_provider(path, "Asiakasrakenne")["Koko erä"]
    assert {k: v for k, v in shown.items() if k not in ("Y-tunnus", "Palveluntuottaja")} == {
        "Asiakkaita": "<5", "Miehiä": "<5", "Naisia": "<5", "<25": "<5", "25–34": "<5", "35–44": "<5",
        "45–54": "<5", "55+": "<5", "Ei tiedossa": "<5"}


def test_register_periods_and_next_steps(november):
    result, path = november
    y1 = Figures(result, CONFIG).register(Y1)
    # In force in November: D-1 (181 days) and D-2 (182): mean 181.5 / 30.4375 = 5.96 months.
    # H1 has D-5 (822 days) and D-1 to 30 Nov (91 days): over 24 months, on a repeated period.
    assert (y1["in_force"], y1["mean_months"], y1["len 3–6"]) == (2, 5.96, 2)
    assert (y1["over_24"], y1["repeated"]) == (1, 1)
    # D-5 ended on 31 August: not a period that ended in the batch month, so neither it nor its
    # next step counts in November.
    assert (y1["ended"], y1["next uusi jakso"], y1["next työ"]) == (0, 0, 0)
    rows = by_provider(path, "Rekisteri")
    assert rows[Y1]["Jakson keskipituus kk"] == 5.96
    assert {rows[k][c] for k in (Y1, Y2, "Koko erä") for c in ("Päätöksiä voimassa", "Jaksoja päättyi erän kuussa",
                                                              "Jatkopolku: uusi jakso")} == {"<5"}


def test_benefit_basis(november):
    _, path = november
    rows = table(path, "Etuusperuste")
    per = {r["Päätös"]: (r["Etuus"], r["Päiviä maksettu"], r["Korvaus"], r["€"]) for r in rows if r["Päätös"]}
    # Paid days at 9.00 (rates.toml): kulukorvaus for työttömyysetuus, toimintaraha for toimeentulotuki.
    assert per == {"D-1": ("työttömyysetuus", 2, "kulukorvaus", 18), "D-2": ("toimeentulotuki", 2, "toimintaraha", 18),
                   "D-3": ("työttömyysetuus", 2, "kulukorvaus", 18), "D-4": ("eläke", 0, None, 0)}
    totals = {r["Etuus"]: (r["Päiviä maksettu"], r["€"]) for r in rows if r["Y-tunnus"] == "Yhteensä"}
    assert totals == {"eläke": (0, 0), "toimeentulotuki": (2, 18), "työttömyysetuus": (4, 36)}
    assert (rows[-1]["Y-tunnus"], rows[-1]["Päiviä maksettu"], rows[-1]["€"]) == ("Osallistujapäivät", 6, 54)
    # The participant days are the summary's days paid: one figure, one value.
    assert by_provider(path, "Yhteenveto")["Koko erä"]["Päiviä maksettu"] == 6
