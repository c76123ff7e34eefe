"""audit/compliance.xlsx: the figures of RULES.md section 5 against values computed by hand."""

import datetime as dt
import re
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
    """A figure sheet's rows by column heading: row 1 is the sheet's heading, row 2 the columns."""
    rows = list(ws.iter_rows(values_only=True))
    return [{h: v for h, v in zip(rows[1], r)} for r in rows[2:]]


def test_summary_per_provider_and_batch(book):
    rows = {r["Y-tunnus"]: r for r in _table(book["Yhteenveto"])}
    a, b, batch = rows[A], rows[B], rows["Koko erä"]
    # 3 clients: a count of people below 5 is shown as <5.
    assert (a["Asiakkaita"], a["Päiviä laskutettu"], a["Päiviä maksettu"], a["Päiviä pidätetty"], a["Päiviä hylätty"]) == ("<5", 20, 13, 2, 5)
    assert (a["Laskutettu €"], a["Hyväksytty €"], a["Pidätetty €"], a["Hylätty €"]) == (1000, 650, 100, 250)
    assert a["Ohjauksen minimi täyttyy, % asiakkaista"] == 33.3  # D2 and D3 have R214
    assert (a["Yksilöohjaus h/asiakas"], a["Ryhmäohjaus h/asiakas"]) == (1.17, 0.33)  # 3.5 h and 1 h over 3
    assert a["Kykyviisari tai VAT kirjattu, % päätöksistä"] == 33.3
    # Used: D1 8 days over 30 days (1.8667/wk), D2 5 over 16.-30.11. (2.3333), D3 0 over 1.-10.11.
    assert (a["Päiviä/vko toteutunut"], a["Päiviä/vko päätetty"]) == (1.4, 3)
    assert (b["Asiakkaita"], b["Päiviä maksettu"], b["Ohjauksen minimi täyttyy, % asiakkaista"],
            b["Päiviä/vko toteutunut"]) == ("<5", 3, 100, 0.7)
    assert (batch["Asiakkaita"], batch["Päiviä laskutettu"], batch["Laskutettu €"], batch["Hyväksytty €"]) == ("<5", 23, 1150, 800)
    assert batch["Ohjauksen minimi täyttyy, % asiakkaista"] == 50


def test_findings_by_code(book):
    rows = {r["Y-tunnus"]: r for r in _table(book["Havainnot säännöittäin"])}
    assert rows[A]["R214"] == 2 and rows[B]["R214"] == 0 and rows["Koko erä"]["R214"] == 2


def test_client_structure_counts_and_small_numbers(result, book):
    fig = Figures(result, config.load(ROOT / "config"))
    s = fig.structure(BATCH)
    assert (s["male"], s["female"], s["<25"], s["25–34"], s["35–44"], s["45–54"], s["55+"]) == (2, 2, 1, 1, 1, 0, 1)
    shown = {r["Y-tunnus"]: r for r in _table(book["Asiakasrakenne"])}
    assert set(v for k, v in shown["Koko erä"].items() if k not in ("Y-tunnus", "Palveluntuottaja")) == {"<5"}


def test_register_figures(result, book):
    fig = Figures(result, config.load(ROOT / "config"))
    a, batch = fig.register(A), fig.register(BATCH)
    assert a["in_force"] == 3
    assert a["mean_months"] == 5.75  # 181, 181 and 163 days of 30.4375
    assert a["len 3–6"] == 3 and a["len <3"] == 0
    assert a["over_24"] == 1  # H1: 731 days (D5) + 91 days of D1 to 30.11.2026
    assert a["repeated"] == 1
    # Ended in November: D3 (terminated 10.11.2026), no next step recorded. D5 ended in 2025 and D6
    # (provider B) in 2025: not periods that ended in the batch month.
    assert (a["ended"], a["next uusi jakso"], a["next "]) == (1, 0, 1)
    assert (batch["in_force"], batch["ended"], batch["next työ"]) == (4, 1, 0)
    assert fig.register(B)["ended"] == 0
    rows = {r["Y-tunnus"]: r for r in _table(book["Rekisteri"])}
    assert rows[A]["Jakson keskipituus kk"] == 5.75  # a mean, not a count of people: shown as it is
    counts = [k for k in rows[A] if k not in ("Y-tunnus", "Palveluntuottaja", "Jakson keskipituus kk")]
    assert {rows[key][k] for key in (A, B, "Koko erä") for k in counts} == {"<5"}
    assert "Jaksoja päättyi erän kuussa" in counts and "Jatkopolku: ei kirjattu" in counts


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
    # D6: 1.1.2025-30.6.2025, 181 days of 30.4375 = 5.95 months.
    assert [(r["Y-tunnus"], r["Sääntö"], r["Päätös"], r["Alkupäivä"], r["Viimeinen päivä"], r["Pituus kk"])
            for r in rows] == [(B, "R224", "D6", dt.datetime(2025, 1, 1), dt.datetime(2025, 6, 30), 5.95)]
    with zipfile.ZipFile(tmp_path / "compliance.xlsx") as z:
        assert len([n for n in z.namelist() if n.startswith("xl/charts/chart")]) == 2


# --- one figure, one value (issue 14, item 9) -----------------------------------------------------

P = [hetu(dt.date(1980 + i, 3, 1), 201 + i) for i in range(6)]  # six persons, ages 46 down to 41


@pytest.fixture
def shared():
    """Provider A bills P1-P5 (decisions A1-A5); provider B bills P1 again (B1) and P6 (B2): six persons,
    seven decisions. 2 h individual guidance a row at A, 3 h at B; R214 on B1; a Kykyviisari on A1."""
    D = dt.date
    a_rows = [_client(i + 2, f"A{i + 1}", P[i], 4, 200, kyky=D(2026, 11, 5) if i == 0 else None) for i in range(5)]
    inv_a = _invoice(A, "A-1", a_rows, [(i + 2, f"A{i + 1}", 4, 0) for i in range(5)], [], Money(90000, 90000, 0, 0))
    r214 = Finding("R214", Location("x", "Asiakkaat", "J2"), decision_id="B1")
    inv_b = _invoice(B, "B-1", [_client(2, "B1", P[0], 2, 300), _client(3, "B2", P[5], 4, 300)],
                     [(2, "B1", 2, 0), (3, "B2", 4, 0)], [r214], Money(27000, 27000, 0, 0))
    d = lambda i, h, p: dict(decision_id=i, hetu=h, name=f"Name {i}", provider_id=p, start=D(2026, 11, 1),  # noqa: E731
                             end=D(2027, 3, 31), terminated=None, days_per_week=2, benefit="työttömyysetuus",
                             next_step=None)
    decisions = pl.DataFrame([*(d(f"A{i + 1}", P[i], A) for i in range(5)), d("B1", P[0], B), d("B2", P[5], B)],
                             schema_overrides={"terminated": pl.Date, "next_step": pl.Utf8})
    providers = pl.DataFrame({"provider_id": [A, B], "name": ["Aa Oy", "Bb Ab"]})
    return BatchResult("2026-11", "run2", dt.datetime(2026, 12, 1), None, [inv_a, inv_b], [],
                       Registers(decisions, providers))


@pytest.fixture
def shared_book(shared, tmp_path):
    return openpyxl.load_workbook(write_compliance(shared, tmp_path / "c.xlsx", config.load(ROOT / "config"), "fi"))


def test_a_person_billed_by_two_providers_is_one_client_of_the_batch(shared_book):
    summary = {r["Y-tunnus"]: r for r in _table(shared_book["Yhteenveto"])}
    structure = {r["Y-tunnus"]: r for r in _table(shared_book["Asiakasrakenne"])}
    # Six persons (seven decisions); A bills five, B two (shown <5).
    assert {k: r["Asiakkaita"] for k, r in summary.items()} == {"Koko erä": 6, A: 5, B: "<5"}
    assert {k: r["Asiakkaita"] for k, r in structure.items()} == {k: r["Asiakkaita"] for k, r in summary.items()}
    # Guidance per person: P1 has R214 at B, so the batch counts 5 of 6 (83.3 %), A 5 of 5, B 1 of 2.
    share = "Ohjauksen minimi täyttyy, % asiakkaista"
    assert (summary["Koko erä"][share], summary[A][share], summary[B][share]) == (83.3, 100, 50)
    # Hours per person: (5 x 2 h + 2 x 3 h) / 6 = 2.67; A 10 h / 5; B 6 h / 2.
    ind = "Yksilöohjaus h/asiakas"
    assert (summary["Koko erä"][ind], summary[A][ind], summary[B][ind]) == (2.67, 2, 3)
    # Assessments count decisions: A1 of 7 in the batch (14.3 %), of 5 at A (20 %), none of 2 at B.
    assessed = "Kykyviisari tai VAT kirjattu, % päätöksistä"
    assert (summary["Koko erä"][assessed], summary[A][assessed], summary[B][assessed]) == (14.3, 20, 0)
    register = {r["Y-tunnus"]: r for r in _table(shared_book["Rekisteri"])}
    assert (register["Koko erä"]["Päätöksiä voimassa"], register[A]["Päätöksiä voimassa"],
            register[B]["Päätöksiä voimassa"]) == (7, 5, "<5")
    assert register["Koko erä"]["Asiakkaita toistuvalla jaksolla"] == "<5"  # P1 has two periods: 1


PEOPLE = {"Yhteenveto": ["Asiakkaita"],
          "Asiakasrakenne": ["Asiakkaita", "Miehiä", "Naisia", "<25", "25–34", "35–44", "45–54", "55+", "Ei tiedossa"],
          "Rekisteri": ["Päätöksiä voimassa", "Pituus kk <3", "Pituus kk 3–6", "Pituus kk 6–12", "Pituus kk 12–24",
                        "Pituus kk >24", "Asiakkaita yli 24 kk palvelussa", "Asiakkaita toistuvalla jaksolla",
                        "Jaksoja päättyi erän kuussa", "Jatkopolku: työ", "Jatkopolku: koulutus",
                        "Jatkopolku: työkokeilu", "Jatkopolku: TE-palvelu", "Jatkopolku: uusi jakso",
                        "Jatkopolku: muu", "Jatkopolku: ei kirjattu"]}


@pytest.mark.parametrize("which", ["book", "shared_book"])
def test_every_count_of_people_below_5_is_masked_on_every_sheet(which, request):
    book = request.getfixturevalue(which)
    for sheet, columns in PEOPLE.items():
        for row in _table(book[sheet]):
            for column in columns:
                value = row[column]
                assert value == "<5" or isinstance(value, int) and value >= 5, (sheet, row["Y-tunnus"], column, value)


def test_benefit_sheet_says_it_names_clients(shared_book, shared, tmp_path):
    heading = next(shared_book["Etuusperuste"].iter_rows(values_only=True))[0]
    assert heading.startswith("Etuusperuste · erä 2026-11") and "asiakkaiden nimet" in heading
    assert [r["Nimi"] for r in _table(shared_book["Etuusperuste"]) if r["Päätös"]][:2] == ["Name A1", "Name A2"]
    en = openpyxl.load_workbook(write_compliance(shared, tmp_path / "en.xlsx", config.load(ROOT / "config"), "en"))
    assert "Names clients (personal data)" in next(en["Benefit basis"].iter_rows(values_only=True))[0]


TWO_BLOCKS = """
[[rates]]
valid_from = 2026-01-01
meal_price_eur = 6.80
meal_compensation_eur = 5.00
expense_compensation_eur = 9.00
guidance_min_hours = 2.0

[[rates]]
valid_from = 2026-11-01
meal_price_eur = 7.10
meal_compensation_eur = 5.20
expense_compensation_eur = 9.50
guidance_min_hours = 2.5
"""


def test_definitions_sheet_defines_every_column_and_shows_the_rates_applied(shared, tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "rates.toml").write_text(TWO_BLOCKS, encoding="utf-8")
    shared.invoices[1].billing_month = dt.date(2026, 10, 1)  # B bills October, late: the first block
    book = openpyxl.load_workbook(write_compliance(shared, tmp_path / "c.xlsx", config.load(tmp_path / "config"), "fi"))
    assert book.sheetnames[-1] == "Määritelmät"
    rows = list(book["Määritelmät"].iter_rows(values_only=True))
    assert rows[0][0] == "Määritelmät · erä 2026-11" and rows[1][:3] == ("Välilehti", "Sarake", "Mitä se laskee")
    defined = {}
    for sheet, column, meaning, *_ in rows[2:]:
        if column and meaning and not isinstance(meaning, (int, float, dt.datetime)):
            for name in sheet.split(", "):  # a column defined alike on several sheets is one row
                defined[(name, column)] = meaning
    for ws in book.worksheets[:-1]:
        for column in next(ws.iter_rows(min_row=2, max_row=2, values_only=True)):
            assert (ws.title, column) in defined or ("Kaikki välilehdet", column) in defined, (ws.title, column)
    assert "henkilö" in defined[("Yhteenveto", "Asiakkaita")].lower()
    assert "Kykyviisari" in defined[("Yhteenveto", "Kykyviisari tai VAT kirjattu, % päätöksistä")]
    assert "erän kuussa" in defined[("Rekisteri", "Jaksoja päättyi erän kuussa")]
    # The rates: October under the 2026-01-01 block, November under the 2026-11-01 block.
    start = next(i for i, r in enumerate(rows) if r[:3] == ("Laskutettu kuukausi", "Hinta", "Arvo"))
    applied = {(r[0], r[1]): r[2] for r in rows[start + 1:] if r[0]}
    assert applied == {
        ("2026-10", "Voimassa alkaen"): dt.datetime(2026, 1, 1), ("2026-10", "Ateria €"): 6.8,
        ("2026-10", "Ateriakorvaus €/pv"): 5, ("2026-10", "Kulukorvaus ja toimintaraha €/pv"): 9,
        ("2026-10", "Ohjauksen minimi h/kk"): 2,
        ("2026-11", "Voimassa alkaen"): dt.datetime(2026, 11, 1), ("2026-11", "Ateria €"): 7.1,
        ("2026-11", "Ateriakorvaus €/pv"): 5.2, ("2026-11", "Kulukorvaus ja toimintaraha €/pv"): 9.5,
        ("2026-11", "Ohjauksen minimi h/kk"): 2.5}
    # ... and the benefit sheet earns at the billed month's rate: A's 4 days at 9.50, B2's 4 at 9.00.
    per = {r["Päätös"]: (r["€/pv"], r["€"]) for r in _table(book["Etuusperuste"]) if r["Päätös"]}
    assert (per["A1"], per["B2"]) == ((9.5, 38), (9, 36))


# --- the audit language, every word (issue 14, item 10) ------------------------------------------

# Words only one language uses, as compliance.xlsx writes them (the lists are checked apart below).
WORDS = {
    "fi": {"ei", "tai", "ja", "päiviä", "päivää", "asiakkaita", "asiakkaista", "erä", "erän", "koko", "kuukautta",
           "työttömyysetuus", "toimeentulotuki", "kuntoutustuki", "eläke", "kulukorvaus", "toimintaraha",
           "jatkopolku", "työ", "koulutus", "työkokeilu", "uusi", "jakso", "muu", "kirjattu", "yhteensä",
           "osallistujapäivät", "päätös", "päätöksen", "päätöksistä", "laskun", "havainnot", "sääntö", "lain",
           "mukaan", "jakson", "pituus", "hylätty", "maksettu", "pidätetty", "laskutettu", "hyväksytty",
           "palveluntuottaja", "nimi", "etuus", "korvaus", "välilehti", "sarake", "määritelmät", "hinta",
           "tuntematon"},
    "sv": {"och", "inte", "för", "klienter", "klienterna", "dagar", "beslut", "besluten", "omgång", "omgången",
           "hela", "månad", "månader", "förmån", "ersättning", "utkomststöd", "arbetslöshetsförmån",
           "kostnadsersättning", "verksamhetspenning", "ny", "annat", "ej", "antecknad", "regel", "anmärkningar",
           "fakturerat", "godkänt", "innehållet", "avvisat", "namn", "perioden", "beslutet", "lagen", "enligt",
           "är", "lång", "sammanfattning", "blad", "kolumn", "taxa", "okänd"},
    "en": {"the", "and", "of", "months", "month", "provider", "another", "clients", "client", "days", "guidance",
           "periods", "whole", "batch", "benefit", "unemployment", "assistance", "allowance", "expense", "not",
           "recorded", "findings", "rule", "decision", "decisions", "invoice", "invoices", "week", "paid", "held",
           "rejected", "claimed", "approved", "with", "from", "rate", "value", "sheet", "column", "what", "law",
           "allows", "long", "new", "other", "work", "unknown", "summary", "definitions", "name"},
}
TOKEN = re.compile(r"[^\W\d_]+")


def foreign(text: str, lang: str) -> set[str]:
    """Words of the other two languages in `text`."""
    others = set().union(*(words for k, words in WORDS.items() if k != lang))
    return set(TOKEN.findall(text.casefold())) & others


def test_the_word_lists_tell_the_languages_apart():
    for lang, words in WORDS.items():
        for other, theirs in WORDS.items():
            assert other == lang or not words & theirs, (lang, other, words & theirs)
    assert foreign("Päätöksen jakson pituus on 2 kk; lain mukaan jakso on 3–24 months.", "fi") == {"months"}
    assert foreign("Förmån: arbetslöshetsförmån, kulukorvaus", "sv") == {"kulukorvaus"}


def our_texts(path: Path, lang: str) -> list[tuple[str, str]]:
    """(where, text) for every text the program wrote into compliance.xlsx: sheet names, every text cell
    but the columns that hold data (names of providers and clients, Y-tunnus, invoice and decision
    numbers), and the charts' titles and series names."""
    from reconcile.text import messages

    data = {messages.label(k, lang) for k in ("provider", "name", "provider_id", "invoice_no", "decision")}
    book = openpyxl.load_workbook(path)
    out = [("sheet", ws.title) for ws in book.worksheets]
    for ws in book.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        skip = {i for i, h in enumerate(rows[1]) if h in data} if ws.title != book.worksheets[-1].title else set()
        for r, row in enumerate(rows):
            for i, v in enumerate(row):
                if isinstance(v, str) and (r < 2 or i not in skip):
                    out.append((f"{ws.title}!{r + 1}:{i + 1}", v))
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/charts/chart"):
                xml = z.read(name).decode("utf-8")
                out += [(name, t) for t in re.findall(r"<a:t>([^<]*)</a:t>", xml)]
                out += [(name, t) for t in re.findall(r"<c:v>([^<]*)</c:v>", xml) if TOKEN.search(t)]
    return out


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory):
    """The committed demo inbox's two batches, run end to end; the November result."""
    import shutil

    from reconcile import batch as batch_mod

    tmp = tmp_path_factory.mktemp("audit-language")
    shutil.copytree(ROOT / "inbox", tmp / "inbox")
    cfg = config.load(ROOT / "config")
    batch_mod.run_batch(tmp / "inbox", tmp / "outbox", cfg, "2026-10", str(tmp / "ledger.sqlite"))
    return batch_mod.run_batch(tmp / "inbox", tmp / "outbox", cfg, "2026-11", str(tmp / "ledger.sqlite")), tmp


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_compliance_workbook_is_in_the_audit_language_only(demo_result, lang):
    result, tmp = demo_result
    assert result.register_findings and any(inv.status == "rejected" for inv in result.invoices)  # R224, F rules
    path = write_compliance(result, tmp / f"compliance-{lang}.xlsx", config.load(ROOT / "config"), lang)
    texts = our_texts(path, lang)
    assert len(texts) > 200  # every sheet, the definitions and both charts were read
    assert [(where, sorted(foreign(text, lang)), text) for where, text in texts if foreign(text, lang)] == []
