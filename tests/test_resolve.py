"""`reconcile resolve` and payments (CONTRACT.md sections 7 and 8) on real files.

The batch: the same client (H1) attends Tuesday 3 November 2026 for two
providers, so R216 holds that day on both invoices.

    yksi.xlsx  P1, invoice 101, decision D-1: 50.00 a day, meals served (6.80),
               travel 3.00 a day; Mon 2, Tue 3, Wed 4: fee 150.00, 3 meals 20.40,
               travel 9.00 = 179.40 claimed
    kaksi.xlsx P2, invoice 201, decision D-3: 40.00 a day; Tue 3: 40.00 claimed

By hand, after the run: yksi C=3, A=2, H=1: fee 100.00 approved / 50.00 held,
meals 2 x 6.80 = 13.60 / 6.80, travel 6.00 / 3.00: approved 119.60, held 59.80.
kaksi C=1, A=0, H=1: 40.00 held.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from reconcile import batch as batch_mod, cli, config as config_mod
from reconcile.ledger import store as ledger_mod
from tests import wb

D = dt.date
ROOT = Path(__file__).resolve().parent.parent
P1, P2 = wb.YTUNNUS[0], wb.YTUNNUS[1]
H1, H2, H3 = wb.HETU[0], wb.HETU[2], wb.HETU[3]
NOV = D(2026, 11, 1)


def registers(inbox: Path, d1_per_week: int = 4) -> None:
    reg = inbox / "register"
    reg.mkdir(parents=True, exist_ok=True)
    wb.write_providers(reg / "providers.xlsx", [
        {"provider_id": p, "name": n, "approved_from": D(2025, 1, 1), "approved_to": None, "own_unit": "ei",
         "email": "x@example.fi", "lang": lang} for p, n, lang in ((P1, "Yksi Oy", "fi"), (P2, "Kaksi Ab", "sv"))])
    base = {"name": "Asiakas", "voucher_no": "S1", "start": D(2026, 9, 1), "end": D(2027, 6, 30), "terminated": None,
            "hours_per_day_h100": 6, "benefit": "työttömyysetuus", "guidance_min_h100": None, "caseworker": None,
            "next_step": None}
    wb.write_decisions(reg / "decisions.xlsx", [
        {**base, "decision_id": "D-1", "hetu": H1, "provider_id": P1, "days_per_week": d1_per_week,
         "day_value_cents": "50,00", "meal": "tuottaja", "travel_per_day_cents": "3,00"},
        {**base, "decision_id": "D-3", "hetu": H1, "provider_id": P2, "days_per_week": 4,
         "day_value_cents": "40,00", "meal": "ei", "travel_per_day_cents": "0,00"},
        {**base, "decision_id": "D-2", "hetu": H2, "provider_id": P2, "days_per_week": 4,
         "day_value_cents": "40,00", "meal": "ei", "travel_per_day_cents": "0,00"},
        {**base, "decision_id": "D-5", "hetu": H3, "provider_id": P2, "days_per_week": 4,
         "day_value_cents": "40,00", "meal": "korvaus", "travel_per_day_cents": "2,00", "benefit": "kuntoutustuki"},
    ])


def bill(path: Path, provider: str, invoice_no: str, month: D, decision: str, hetu: str, days: list[int],
         value: int, meals: int = 0, travel: int = 0, meal_comp_days: int = 0) -> Path:
    """One client row billing `days` (each an X) at `value` cents a day."""
    fee = value * len(days)
    header = {"provider_name": "Oy", "provider_id": provider, "invoice_no": invoice_no,
              "billing_month": month.strftime("%Y-%m"), "invoice_date": month, "total_cents": None}
    clients = [{"decision_id": decision, "hetu": hetu, "days_claimed": len(days), "day_value_cents": value / 100,
                "fee_cents": fee / 100, "meals": meals, "meal_comp_days": meal_comp_days, "travel_cents": travel / 100,
                "guidance_individual_h100": 3}]
    attendance = [{"decision_id": decision, "hetu": hetu, **{d: ("X" if d in days else None) for d in range(1, 32)}}]
    return wb.write_invoice(path, header, clients, attendance)


@pytest.fixture
def cfg():
    return config_mod.load(ROOT / "config")


@pytest.fixture
def inbox(tmp_path):
    inbox = tmp_path / "inbox"
    registers(inbox)
    (inbox / "2026-11").mkdir()
    bill(inbox / "2026-11" / "yksi.xlsx", P1, "101", NOV, "D-1", H1, [2, 3, 4], 5000, meals=3, travel=900)
    bill(inbox / "2026-11" / "kaksi.xlsx", P2, "201", NOV, "D-3", H1, [3], 4000)
    return inbox


def invoke(*args: str):
    return CliRunner().invoke(cli.main, list(args))


def approval(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "finance" / "approval.csv").open(encoding="utf-8", newline="") as f:
        return {r["invoice_no"]: r for r in csv.DictReader(f)}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def header_of(path: Path) -> str:
    return path.read_text(encoding="utf-8").splitlines()[0]


def fill(xlsx: Path, answers: dict[str, tuple[str, str]], out: Path | None = None) -> Path:
    """Fill the held-days sheet with openpyxl: invoice number -> (answer, reason)."""
    book = openpyxl.load_workbook(xlsx)
    ws = book["Pidätetyt päivät"]
    head = [c.value for c in ws[1]]
    inv_col, ans_col, why_col = head.index("Laskun numero"), head.index("Ratkaisu"), head.index("Perustelu")
    for row in ws.iter_rows(min_row=2):
        if row[inv_col].value in answers:
            row[ans_col].value, row[why_col].value = answers[row[inv_col].value]
    target = out or xlsx
    book.save(target)
    return target


def held_rows(xlsx: Path) -> list[dict]:
    book = openpyxl.load_workbook(xlsx, data_only=True)
    ws = book["Pidätetyt päivät"]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, (c.value for c in row))) for row in ws.iter_rows(min_row=2)]


def run(inbox: Path, outbox: Path, cfg, batch: str = "2026-11"):
    return batch_mod.run_batch(inbox, outbox, cfg, batch=batch)


# --- the held-days sheet ------------------------------------------------------


def test_held_days_sheet_lists_each_day_with_its_euros_and_only_the_answers_unlocked(inbox, tmp_path, cfg):
    outbox = tmp_path / "outbox"
    run(inbox, outbox, cfg)
    xlsx = outbox / "2026-11" / "finance" / "approval.xlsx"
    rows = held_rows(xlsx)
    got = {(r["Laskun numero"], r["Päätös"], r["Päivä"].date(), r["Sääntö"]): (
        r["Palvelumaksu €"], r["Ateriat €"], r["Matkakorvaus €"], r["Pidätetty yhteensä €"]) for r in rows}
    assert got == {("101", "D-1", D(2026, 11, 3), "R216"): (50.0, 6.8, 3.0, 59.8),
                   ("201", "D-3", D(2026, 11, 3), "R216"): (40.0, 0.0, 0.0, 40.0)}
    book = openpyxl.load_workbook(xlsx)
    ws = book["Pidätetyt päivät"]
    assert ws.protection.sheet
    head = [c.value for c in ws[1]]
    unlocked = sorted(c.coordinate for row in ws.iter_rows(min_row=1, max_row=ws.max_row) for c in row
                      if c.protection.locked is False)
    ans, why = (openpyxl.utils.get_column_letter(head.index(h) + 1) for h in ("Ratkaisu", "Perustelu"))
    assert unlocked == sorted([f"{ans}2", f"{ans}3", f"{why}2", f"{why}3"])
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and lists[0].formula1 == '"maksa,hylkää"' and str(lists[0].sqref) == f"{ans}2:{ans}3"
    assert approval(outbox / "2026-11")["101"]["held_eur"] == "59.80"
    assert approval(outbox / "2026-11")["201"]["held_eur"] == "40.00"


# --- resolving: a double billing ---------------------------------------------


@pytest.mark.parametrize("through_libreoffice", [False, True])
def test_finance_pays_one_side_and_rejects_the_other(inbox, tmp_path, cfg, through_libreoffice):
    outbox = tmp_path / "outbox"
    run(inbox, outbox, cfg)
    xlsx = outbox / "2026-11" / "finance" / "approval.xlsx"
    filled = fill(xlsx, {"101": ("Maksa", None), "201": ("HYLKÄÄ", "Kaksoislaskutus, ks. lasku 101")},
                  out=tmp_path / "filled.xlsx")
    if through_libreoffice:
        if not shutil.which("soffice"):
            pytest.skip("LibreOffice (soffice) is not installed")
        conv = tmp_path / "lo"
        subprocess.run(["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(conv), str(filled)],
                       check=True, capture_output=True, timeout=180,
                       env={**os.environ, "HOME": str(tmp_path)})
        filled = conv / "filled.xlsx"
    r = invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
               "--batch", "2026-11", "--file", str(filled))
    assert r.exit_code == 0, r.output
    assert "2 answer(s) recorded (1 pay, 1 reject), 0 refused" in r.stdout
    folder = outbox / "2026-11"
    rows = approval(folder)
    # By hand: yksi 179.40 all approved; kaksi 40.00 all rejected.
    assert (rows["101"]["claimed_eur"], rows["101"]["approved_eur"], rows["101"]["held_eur"],
            rows["101"]["rejected_eur"], rows["101"]["status"]) == ("179.40", "179.40", "0.00", "0.00", "approved")
    assert (rows["201"]["claimed_eur"], rows["201"]["approved_eur"], rows["201"]["held_eur"],
            rows["201"]["rejected_eur"], rows["201"]["status"]) == ("40.00", "0.00", "0.00", "40.00", "rejected")
    res = folder / "finance" / "resolutions.csv"
    assert header_of(res) == "batch,provider_id,invoice_no,decision_id,date,rule,resolution,amount_eur,resolved_by,resolved_at,reason"
    got = sorted((x["invoice_no"], x["decision_id"], x["date"], x["rule"], x["resolution"], x["amount_eur"], x["reason"])
                 for x in read_csv(res))
    assert got == [("101", "D-1", "2026-11-03", "R216", "pay", "59.80", ""),
                   ("201", "D-3", "2026-11-03", "R216", "reject", "-40.00", "Kaksoislaskutus, ks. lasku 101")]
    assert all(x["resolved_by"] and x["resolved_at"] for x in read_csv(res))
    # Each provider gets resolution.xlsx in its language; the held-days sheet keeps the answers.
    assert openpyxl.load_workbook(folder / "providers" / P1 / "101" / "resolution.xlsx").sheetnames == ["Ratkaisut"]
    assert openpyxl.load_workbook(folder / "providers" / P2 / "201" / "resolution.xlsx").sheetnames == ["Avgöranden"]
    answered = {r["Laskun numero"]: (r["Ratkaisu"], r["Pidätetty yhteensä €"], r["Siirtyi €"])
                for r in held_rows(folder / "finance" / "approval.xlsx")}
    assert answered == {"101": ("maksa", 59.8, 59.8), "201": ("hylkää", 40.0, -40.0)}  # the euros as held, and moved
    # The ledger: both answers with who and when, the invoices' totals after them.
    with ledger_mod.open_ledger(str(outbox / "ledger.sqlite")) as book:
        assert {(r["invoice_no"], r["resolution"], r["amount_cents"]) for r in book.resolutions("2026-11")} == {
            ("101", "pay", 5980), ("201", "reject", -4000)}
        paid = book.history(exclude_batch="").paid_days
        assert sorted((p, d.isoformat()) for p, d in paid.select("invoice_no", "date").iter_rows()) == [
            ("101", "2026-11-02"), ("101", "2026-11-03"), ("101", "2026-11-04")]
    # Resolving the same file again changes nothing: the answers are already given.
    again = invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
                   "--batch", "2026-11", "--file", str(filled))
    assert again.exit_code == 0 and "0 answer(s) recorded" in again.stdout and "2 already given" in again.stdout


def test_a_row_held_as_a_whole_is_priced_again_after_answers(inbox, tmp_path, cfg):
    """R218 holds D-5's whole row: 4 days (Mon 2 - Thu 5) at 40.00, 4 meal compensation days
    at 5.00 and travel 8.00 (2.00 a day): 188.00 claimed, all held, 47.00 a day.

    Finance pays Mon 2 and rejects Tue 3. By hand: C=4, A''=1, H''=2.
    fee 40.00 / 80.00 / 40.00, meal compensation 5.00 / 10.00 / 5.00, travel 2.00 / 4.00 / 2.00:
    approved 47.00, held 94.00, rejected 47.00. The payment moved +47.00, the rejection -47.00."""
    bill(inbox / "2026-11" / "kolme.xlsx", P2, "301", NOV, "D-5", H3, [2, 3, 4, 5], 4000, travel=800,
         meal_comp_days=4)
    outbox = tmp_path / "outbox"
    run(inbox, outbox, cfg)
    rows = approval(outbox / "2026-11")
    assert (rows["301"]["claimed_eur"], rows["301"]["approved_eur"], rows["301"]["held_eur"]) == ("188.00", "0.00", "188.00")
    shares = [(r["Päivä"].day, r["Palvelumaksu €"], r["Ateriakorvaus €"], r["Matkakorvaus €"], r["Pidätetty yhteensä €"])
              for r in held_rows(outbox / "2026-11" / "finance" / "approval.xlsx") if r["Laskun numero"] == "301"]
    assert shares == [(d, 40.0, 5.0, 2.0, 47.0) for d in (2, 3, 4, 5)]
    answers = tmp_path / "a.csv"
    answers.write_text("provider_id,invoice_no,decision_id,date,resolution,reason\n"
                       f"{P2},301,D-5,2.11.2026,maksa,\n{P2},301,D-5,3.11.2026,hylkää,Sairauspäivä\n", encoding="utf-8")
    r = invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
               "--batch", "2026-11", "--file", str(answers))
    assert r.exit_code == 0 and "2 answer(s) recorded" in r.stdout, r.output
    row = approval(outbox / "2026-11")["301"]
    assert (row["claimed_eur"], row["approved_eur"], row["held_eur"], row["rejected_eur"], row["status"]) == (
        "188.00", "47.00", "94.00", "47.00", "partly_approved")
    moved = [(x["date"], x["resolution"], x["amount_eur"]) for x in read_csv(outbox / "2026-11" / "finance" / "resolutions.csv")]
    assert moved == [("2026-11-02", "pay", "47.00"), ("2026-11-03", "reject", "-47.00")]
    review = openpyxl.load_workbook(outbox / "2026-11" / "providers" / P2 / "301" / "annotated.xlsx",
                                    data_only=True)["Granskning"]
    assert any(47.0 in row and 94.0 in row for row in review.iter_rows(values_only=True))  # the provider's totals follow


def test_paying_both_sides_is_refused(inbox, tmp_path, cfg):
    outbox = tmp_path / "outbox"
    run(inbox, outbox, cfg)
    answers = tmp_path / "answers.csv"
    answers.write_text("provider_id,invoice_no,decision_id,date,resolution,reason\n"
                       f"{P2},201,D-3,2026-11-03,betala,\n"
                       f"{P1},101,D-1,3.11.2026,PAY,\n", encoding="utf-8")
    r = invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
               "--batch", "2026-11", "--file", str(answers))
    assert r.exit_code == 0
    assert "refused line 3: the same client and date 2026-11-03 is already paid on another claim" in r.stdout
    assert "1 answer(s) recorded (1 pay, 0 reject), 1 refused" in r.stdout
    rows = approval(outbox / "2026-11")
    assert (rows["201"]["approved_eur"], rows["201"]["held_eur"], rows["201"]["status"]) == ("40.00", "0.00", "approved")
    assert (rows["101"]["approved_eur"], rows["101"]["held_eur"]) == ("119.60", "59.80")  # still held
    # A later file paying the other side is refused against the ledger, too.
    second = tmp_path / "second.csv"
    second.write_text("provider_id,invoice_no,decision_id,date,resolution,reason\n"
                      f"{P1},101,D-1,2026-11-03,maksa,\n", encoding="utf-8")
    r = invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
               "--batch", "2026-11", "--file", str(second))
    assert r.exit_code == 0 and "refused line 2: the same client and date" in r.stdout


def test_every_refusal_is_printed_and_the_other_lines_are_recorded(tmp_path, cfg):
    inbox = tmp_path / "inbox"
    registers(inbox, d1_per_week=2)
    (inbox / "2026-11").mkdir()
    # D-1 (2 days a week) bills Mon 2, Tue 3, Wed 4; Tue 3 is held (R216), so Mon 2 and Wed 4 are paid.
    bill(inbox / "2026-11" / "yksi.xlsx", P1, "101", NOV, "D-1", H1, [2, 3, 4], 5000)
    bill(inbox / "2026-11" / "kaksi.xlsx", P2, "201", NOV, "D-3", H1, [3], 4000)
    outbox = tmp_path / "outbox"
    run(inbox, outbox, cfg)
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "provider_id,invoice_no,decision_id,date,resolution,reason\n"
        f"{P1},101,D-1,2026-11-03,maksa,\n"            # 2: over the week's 2 decided days
        f"{P2},201,D-3,2026-11-03,avvisa,\n"           # 3: reject without a reason
        f"{P2},201,D-3,2026-11-03,ehkä,\n"             # 4: not an answer
        f"{P2},201,D-3,32.13.2026,hylkää,x\n"          # 5: not a date
        f"{P2},201,D-3,2026-11-04,hylkää,x\n"          # 6: no held day
        f"{P2},999,D-3,2026-11-03,hylkää,x\n"          # 7: no such invoice
        f"{P2},201,D-3,2026-11-03,,\n"                 # 8: empty: the day stays held, not a refusal
        f"{P2},201,D-3,2026-11-03,hylkää,Tuplalasku\n"  # 9: taken
        f"{P2},201,D-3,2026-11-03,maksa,\n",           # 10: a different answer to a day answered: refused
        encoding="utf-8")
    r = invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
               "--batch", "2026-11", "--file", str(answers))
    assert r.exit_code == 0, r.output
    refused = [line.split(":")[0] for line in r.stdout.splitlines() if line.startswith("refused")]
    assert refused == [f"refused line {n}" for n in (2, 3, 4, 5, 6, 7, 10)]
    assert "over the decided 2" in r.stdout and "a rejection needs a reason" in r.stdout
    assert "'ehkä' is not one of" in r.stdout and "'32.13.2026' cannot be read" in r.stdout
    assert "already answered 'reject'" in r.stdout
    assert "1 answer(s) recorded (0 pay, 1 reject), 7 refused" in r.stdout
    rows = approval(outbox / "2026-11")
    assert (rows["201"]["rejected_eur"], rows["201"]["status"]) == ("40.00", "rejected")
    # By hand: D-1 paid Mon 2 and Wed 4 (100.00), Tue 3 still held (50.00).
    assert (rows["101"]["approved_eur"], rows["101"]["held_eur"]) == ("100.00", "50.00")


def test_job_errors_exit_3_and_a_held_lock_exit_4(inbox, tmp_path, cfg):
    from reconcile import lock

    outbox = tmp_path / "outbox"
    base = ["resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
            "--batch", "2026-11"]
    assert invoke(*base[:-1], "2026-13").exit_code == 2
    r = invoke(*base)
    assert r.exit_code == 3 and "no ledger" in r.stderr  # never run
    run(inbox, outbox, cfg)
    r = invoke(*base[:-1], "2026-10")
    assert r.exit_code == 3 and "never run" in r.stderr
    assert invoke(*base, "--file", str(tmp_path / "missing.xlsx")).exit_code == 3
    other = wb.write_sheets(tmp_path / "other.xlsx", {"Laskut": [["a"], [1]]})
    r = invoke(*base, "--file", str(other))
    assert r.exit_code == 3 and "no sheet Pidätetyt päivät" in r.stderr
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not a zip")
    assert invoke(*base, "--file", str(junk)).exit_code == 3
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b\n1,2\n", encoding="utf-8")
    r = invoke(*base, "--file", str(bad_csv))
    assert r.exit_code == 3 and "lacks the column" in r.stderr
    with lock.hold(ledger_mod.lock_path(str(outbox / "ledger.sqlite")), "reconcile run --batch 2026-11", "the ledger"):
        r = invoke(*base)
        assert r.exit_code == 4 and "reconcile run --batch 2026-11" in r.stderr


# --- reruns, earlier batches and payments ----------------------------------------


def test_rerun_keeps_answers_on_days_still_held_and_voids_the_others(inbox, tmp_path, cfg):
    outbox = tmp_path / "outbox"
    run(inbox, outbox, cfg)
    answers = tmp_path / "a.csv"
    answers.write_text("provider_id,invoice_no,decision_id,date,resolution,reason\n"
                       f"{P1},101,D-1,2026-11-03,maksa,\n", encoding="utf-8")
    assert invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
                  "--batch", "2026-11", "--file", str(answers)).exit_code == 0
    run(inbox, outbox, cfg)  # same inputs: the answer stays
    res = read_csv(outbox / "2026-11" / "finance" / "resolutions.csv")
    assert [(x["invoice_no"], x["resolution"], x["amount_eur"]) for x in res] == [("101", "pay", "59.80")]
    assert approval(outbox / "2026-11")["101"]["approved_eur"] == "179.40"
    # kaksi now bills Thursday 5 instead: Tue 3 is no longer held anywhere.
    bill(inbox / "2026-11" / "kaksi.xlsx", P2, "201", NOV, "D-3", H1, [5], 4000)
    run(inbox, outbox, cfg)
    res = read_csv(outbox / "2026-11" / "finance" / "resolutions.csv")
    assert [(x["invoice_no"], x["resolution"], x["amount_eur"]) for x in res] == [("101", "void", "0.00")]
    assert "no longer held" in res[0]["reason"]
    assert approval(outbox / "2026-11")["101"]["approved_eur"] == "179.40"  # paid by the run itself now


def test_a_day_held_in_an_earlier_batch_holds_the_same_client_and_date_later(tmp_path, cfg):
    inbox = tmp_path / "inbox"
    registers(inbox)
    (inbox / "2026-10").mkdir()
    (inbox / "2026-11").mkdir()
    OCT = D(2026, 10, 1)
    # October: Tue 27 October on both providers: held on both (R216).
    bill(inbox / "2026-10" / "yksi.xlsx", P1, "100", OCT, "D-1", H1, [27], 5000)
    bill(inbox / "2026-10" / "kaksi.xlsx", P2, "200", OCT, "D-3", H1, [27], 4000)
    # November: P2 bills 27 October again on a late invoice: still held in October, so held again.
    bill(inbox / "2026-11" / "late.xlsx", P2, "200b", OCT, "D-3", H1, [27], 4000)
    outbox = tmp_path / "outbox"
    run(inbox, outbox, cfg, "2026-10")
    result = run(inbox, outbox, cfg, "2026-11")
    late = result.invoices[0]
    assert [(f.rule, f.location.ref) for f in late.findings if f.rule == "R216"] == [("R216", "Läsnäolo!AC2")]
    assert approval(outbox / "2026-11")["200b"]["held_eur"] == "40.00"
    # November's approval.xlsx shows what October still holds: 50.00 + 40.00.
    earlier = openpyxl.load_workbook(outbox / "2026-11" / "finance" / "approval.xlsx", data_only=True)["Aiemmin pidätetyt"]
    listed = [tuple(c.value for c in row) for row in earlier.iter_rows(min_row=2)]
    assert [(r[0], r[3], r[6], r[8]) for r in listed[:-1]] == [
        ("2026-10", "100", "2026-10-27", 50.0), ("2026-10", "200", "2026-10-27", 40.0)]
    assert listed[-1][8] == 90.0
    # Finance pays October's P1 side: the November invoice's day can then no longer be paid.
    oct_answers = tmp_path / "oct.csv"
    oct_answers.write_text("provider_id,invoice_no,decision_id,date,resolution,reason\n"
                           f"{P1},100,D-1,2026-10-27,maksa,\n{P2},200,D-3,2026-10-27,hylkää,tupla\n", encoding="utf-8")
    r = invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
               "--batch", "2026-10", "--file", str(oct_answers))
    assert r.exit_code == 0 and "2 answer(s) recorded" in r.stdout, r.output
    nov_answers = tmp_path / "nov.csv"
    nov_answers.write_text("provider_id,invoice_no,decision_id,date,resolution,reason\n"
                           f"{P2},200b,D-3,2026-10-27,maksa,\n", encoding="utf-8")
    r = invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
               "--batch", "2026-11", "--file", str(nov_answers))
    assert r.exit_code == 0 and "refused line 2: the same client and date 2026-10-27 is already paid" in r.stdout, r.output
    # Once October is answered, November's approval.xlsx no longer lists it.
    nov_answers.write_text("provider_id,invoice_no,decision_id,date,resolution,reason\n"
                           f"{P2},200b,D-3,2026-10-27,hylkää,maksettu jo lokakuussa\n", encoding="utf-8")
    r = invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
               "--batch", "2026-11", "--file", str(nov_answers))
    assert r.exit_code == 0 and "1 answer(s) recorded" in r.stdout, r.output
    earlier = openpyxl.load_workbook(outbox / "2026-11" / "finance" / "approval.xlsx", data_only=True)["Aiemmin pidätetyt"]
    assert earlier.max_row == 1
    assert approval(outbox / "2026-11")["200b"]["status"] == "rejected"


def test_payments_after_two_sign_offs_add_up_to_the_approved_total(inbox, tmp_path, cfg):
    outbox = tmp_path / "outbox"
    run(inbox, outbox, cfg)
    base = ["approve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
            "--batch", "2026-11"]
    payments = outbox / "2026-11" / "finance" / "payments.csv"
    assert header_of(payments) == "batch,provider_id,provider_name,invoice_no,kind,amount_eur,signed_off_by,signed_off_at"
    assert read_csv(payments) == []  # nothing signed off, nothing to pay
    r = invoke(*base, "--invoice", "101")
    assert r.exit_code == 0 and "Signed off invoice 101 of " + P1 in r.stdout and "119.60 EUR to pay" in r.stdout
    assert [(p["invoice_no"], p["provider_name"], p["kind"], p["amount_eur"]) for p in read_csv(payments)] == [
        ("101", "Yksi Oy", "invoice", "119.60")]
    r = invoke(*base, "--invoice", "101")
    assert r.exit_code == 0 and "nothing new to pay" in r.stdout
    assert len(read_csv(payments)) == 1
    # Finance pays the held day after the sign-off; signing off again pays the supplement.
    answers = tmp_path / "a.csv"
    answers.write_text("provider_id,invoice_no,decision_id,date,resolution,reason\n"
                       f"{P1},101,D-1,2026-11-03,maksa,\n", encoding="utf-8")
    assert invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
                  "--batch", "2026-11", "--file", str(answers)).exit_code == 0
    assert len(read_csv(payments)) == 1  # a resolution alone pays nothing new
    r = invoke(*base, "--invoice", "101")
    assert r.exit_code == 0 and "supplement of 59.80 EUR" in r.stdout
    rows = read_csv(payments)
    assert [(p["kind"], p["amount_eur"]) for p in rows] == [("invoice", "119.60"), ("supplement", "59.80")]
    assert sum(int(p["amount_eur"].replace(".", "")) for p in rows) == 17940 == int(
        approval(outbox / "2026-11")["101"]["approved_eur"].replace(".", ""))
    sheet = openpyxl.load_workbook(outbox / "2026-11" / "finance" / "approval.xlsx", data_only=True)["Maksut"]
    assert [(r[4], r[5]) for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        ("invoice", 119.6), ("supplement", 59.8), (None, 179.4)]


# --- crashes ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("point", ["write", "ledger", "swap"])
def test_sigkill_during_resolve_then_rerun_gives_the_old_or_the_new_state(inbox, tmp_path, cfg, point):
    outbox = tmp_path / "outbox"
    run(inbox, outbox, cfg)
    folder = outbox / "2026-11"
    before = (folder / "finance" / "approval.csv").read_bytes()
    answers = tmp_path / "a.csv"
    answers.write_text("provider_id,invoice_no,decision_id,date,resolution,reason\n"
                       f"{P1},101,D-1,2026-11-03,maksa,\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "reconcile", "resolve", "--inbox", str(inbox), "--outbox", str(outbox),
           "--config", str(ROOT / "config"), "--batch", "2026-11", "--file", str(answers)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, env={**os.environ, batch_mod.PAUSE_ENV: point})
    line = proc.stderr.readline().decode()
    assert f"paused at {point}" in line
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Whatever the next command finds, it is one state or the other, never a mix.
    with ledger_mod.open_ledger(str(outbox / "ledger.sqlite")) as book:
        batch_mod.recover(outbox, book)
        recorded = book.resolutions("2026-11")
    now = (folder / "finance" / "approval.csv").read_bytes()
    if recorded:
        assert point == "swap" and now != before and approval(folder)["101"]["approved_eur"] == "179.40"
    else:
        assert now == before
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert approval(folder)["101"]["approved_eur"] == "179.40"
    assert [(x["resolution"], x["amount_eur"]) for x in read_csv(folder / "finance" / "resolutions.csv")] == [
        ("pay", "59.80")]
    assert [p.name for p in outbox.iterdir() if p.name.startswith(".2026")] == []
    time.sleep(0)


@pytest.mark.postgres
def test_resolve_and_pay_on_a_postgresql_ledger(inbox, tmp_path, cfg, pg_url):
    outbox = tmp_path / "outbox"
    batch_mod.run_batch(inbox, outbox, cfg, batch="2026-11", ledger=pg_url)
    answers = tmp_path / "a.csv"
    answers.write_text("provider_id,invoice_no,decision_id,date,resolution,reason\n"
                       f"{P1},101,D-1,2026-11-03,pay,\n{P2},201,D-3,2026-11-03,reject,double billing\n"
                       f"{P1},101,D-1,2026-11-03,reject,too late\n", encoding="utf-8")
    common = ["--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"), "--ledger", pg_url]
    r = invoke("resolve", *common, "--batch", "2026-11", "--file", str(answers))
    assert r.exit_code == 0, r.output
    assert "refused line 4: the day was already answered 'pay'" in r.stdout
    rows = approval(outbox / "2026-11")
    assert (rows["101"]["approved_eur"], rows["201"]["rejected_eur"]) == ("179.40", "40.00")
    r = invoke("approve", *common, "--batch", "2026-11", "--invoice", "101")
    assert r.exit_code == 0 and "179.40 EUR to pay" in r.stdout, r.output
    assert [(p["kind"], p["amount_eur"]) for p in read_csv(outbox / "2026-11" / "finance" / "payments.csv")] == [
        ("invoice", "179.40")]
    with ledger_mod.open_ledger(pg_url) as book:
        assert sorted((x["invoice_no"], x["resolution"], x["amount_cents"]) for x in book.resolutions("2026-11")) == [
            ("101", "pay", 5980), ("201", "reject", -4000)]
        assert [(p["kind"], p["amount_cents"]) for p in book.payments("2026-11")] == [("invoice", 17940)]
    assert not (outbox / "ledger.sqlite").exists()


def test_the_clerk_saves_approval_xlsx_in_place_and_resolves_it(inbox, tmp_path, cfg):
    outbox = tmp_path / "outbox"
    run(inbox, outbox, cfg)
    xlsx = outbox / "2026-11" / "finance" / "approval.xlsx"
    fill(xlsx, {"201": ("hylkää", "tupla")})  # saved over the outbox's own file, as Excel does
    r = invoke("resolve", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
               "--batch", "2026-11")
    assert r.exit_code == 0 and "1 answer(s) recorded (0 pay, 1 reject)" in r.stdout, r.output
    rows = held_rows(xlsx)  # rewritten by the program: the answer kept, the other day still open
    assert {(x["Laskun numero"], x["Ratkaisu"], x["Perustelu"]) for x in rows} == {("101", None, None),
                                                                                  ("201", "hylkää", "tupla")}
