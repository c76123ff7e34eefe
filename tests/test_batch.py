"""The batch's data files (findings.csv, approval.csv, manifest.json) and the batch run itself."""

import csv
import dataclasses
import datetime as dt
import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
import wb
from ledgers import dump

from reconcile import batch as batch_mod, config as config_mod, ledger as ledger_mod
from reconcile.errors import JobError, LedgerError, RegisterError, UsageError
from reconcile.findings import Finding, Location
from reconcile.model import ITEMS, BatchResult, Invoice, InvoiceResult, Money, Registers, Submission
from reconcile.write import csvs, manifest

ROOT = Path(__file__).resolve().parents[1]
D = dt.date


def inv_result(source_file, provider="1234567-1", invoice_no="L1", month=D(2026, 11, 1), status="approved",
               items=None, findings=()):
    money = {i: Money() for i in ITEMS}
    money.update(items or {})
    return InvoiceResult(
        invoice=Invoice(submission=Submission(Path(source_file), source_file, "0" * 64, 1)),
        provider_id=provider, invoice_no=invoice_no, billing_month=month, status=status, items=money,
        rows=pl.DataFrame({"row": [5, 6]}), findings=list(findings),
    )


def batch_result(invoices, register_findings=()):
    empty = pl.DataFrame()
    return BatchResult(
        batch="2026-11", run_id="abcdef012345", started=dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc),
        finished=dt.datetime(2026, 12, 1, 8, 1, tzinfo=dt.timezone.utc), invoices=invoices,
        register_findings=list(register_findings), registers=Registers(empty, empty),
        ignored=["~$b.xlsx"], inputs={"2026-11/b.xlsx": "1" * 64, "register/decisions.xlsx": "2" * 64},
    )


def read_csv(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_findings_csv_columns_order_masking_and_injection(tmp_path):
    b = "b.xlsx"
    findings = [
        Finding("V105", Location(b, "Läsnäolo", "K10"), decision_id="P1", date=D(2026, 11, 10), found="=HYPERLINK(1)",
                amount_cents=-4500),
        Finding("R204", Location(b, "Läsnäolo", "K7"), decision_id="P1", date=D(2026, 11, 7), amount_cents=-4500),
        Finding("R202", Location(b, "Asiakkaat", "B5"), decision_id="P1", expected="131052-308T", found="010190-123A"),
        Finding("R220", Location(b, "Lasku", "B7"), expected="90.00", found="100.00"),
    ]
    reg = Finding("R224", Location("decisions.xlsx", "Päätökset", "A3"), decision_id="P9", provider_id="7654321-8")
    result = batch_result([inv_result(b, findings=findings)], [reg])
    path = tmp_path / "audit" / "findings.csv"
    csvs.write_findings(result, path, "en")
    rows = read_csv(path)
    assert rows[0] == list(csvs.FINDINGS_COLUMNS)
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    # b.xlsx before decisions.xlsx; Asiakkaat, Lasku, Läsnäolo; K7 before K10.
    assert [(r["source_file"], r["cell"], r["rule"]) for r in body] == [
        (b, "Asiakkaat!B5", "R202"), (b, "Lasku!B7", "R220"), (b, "Läsnäolo!K7", "R204"), (b, "Läsnäolo!K10", "V105"),
        ("decisions.xlsx", "Päätökset!A3", "R224")]
    r202, r220, r204, v105, r224 = body
    assert (r202["expected"], r202["found"]) == ("131052-****", "010190-****")
    assert "308T" not in path.read_text(encoding="utf-8") and "123A" not in path.read_text(encoding="utf-8")
    assert v105["found"] == "'=HYPERLINK(1)"
    assert (v105["amount_eur"], r220["amount_eur"]) == ("-45.00", "0.00")
    assert (r204["date"], r220["date"], r220["decision_id"]) == ("2026-11-07", "", "")
    assert (r204["severity"], r204["effect"], r220["severity"], r220["effect"]) == ("error", "reject", "warning", "none")
    assert (r204["provider_id"], r204["invoice_no"], r204["run_id"], r204["batch"]) == ("1234567-1", "L1", "abcdef012345", "2026-11")
    assert (r224["provider_id"], r224["invoice_no"]) == ("7654321-8", "")
    assert r204["message"]


def test_approval_csv_one_row_per_workbook_sorted_by_file(tmp_path):
    fee = Money(claimed=100050, approved=90000, held=4500, rejected=5550)
    travel = Money(claimed=1000, approved=1000)
    result = batch_result([
        inv_result("z.xlsx", invoice_no="+1", status="partly_approved", items={"fee": fee, "travel": travel}),
        inv_result("a.csv", provider=None, invoice_no=None, month=None, status="rejected",
                   findings=[Finding("F001", Location("a.csv"))]),
    ])
    path = tmp_path / "approval.csv"
    csvs.write_approval(result, path)
    assert read_csv(path) == [
        list(csvs.APPROVAL_COLUMNS),
        ["2026-11", "", "", "", "a.csv", "0.00", "0.00", "0.00", "0.00", "rejected"],
        ["2026-11", "1234567-1", "'+1", "2026-11", "z.xlsx", "1010.50", "910.00", "45.00", "55.50", "partly_approved"],
    ]


def test_manifest_hashes_outputs_and_counts(tmp_path):
    cfg = config_mod.load(ROOT / "config")
    (tmp_path / "finance").mkdir()
    (tmp_path / "finance" / "approval.csv").write_text("x\n", encoding="utf-8")
    result = batch_result([
        inv_result("a.xlsx", findings=[Finding("R204", Location("a.xlsx")), Finding("R204", Location("a.xlsx"))]),
        inv_result("b.xlsx", status="duplicate", findings=[Finding("F007", Location("b.xlsx"))]),
    ])
    path = manifest.write_manifest(result, tmp_path, cfg)
    first = path.read_bytes()
    data = json.loads(first)
    assert data["outputs"] == {"finance/approval.csv": manifest.sha256_file(tmp_path / "finance" / "approval.csv")}
    assert data["counts"] == {
        "invoices": 2, "rows": 4, "findings": 3, "findings_by_rule": {"F007": 1, "R204": 2},
        "invoices_by_status": {"approved": 1, "partly_approved": 0, "held": 0, "rejected": 0, "duplicate": 1},
    }
    assert (data["run_id"], data["config_sha256"], data["ignored"]) == ("abcdef012345", cfg.sha256, ["~$b.xlsx"])
    assert data["inputs"]["register/decisions.xlsx"] == "2" * 64
    assert (data["started"], data["finished"]) == ("2026-12-01T08:00:00Z", "2026-12-01T08:01:00Z")
    assert manifest.write_manifest(result, tmp_path, cfg).read_bytes() == first  # the manifest does not hash itself


# ---------------------------------------------------------------------------
# The batch run, end to end on real workbooks written with tests/wb.py.
P1, P2 = wb.YTUNNUS[0], wb.YTUNNUS[1]
H1, H2 = wb.HETU[0], wb.HETU[2]  # born 1952 and 1985


def make_registers(inbox: Path) -> None:
    reg = inbox / "register"
    reg.mkdir(parents=True, exist_ok=True)
    wb.write_providers(reg / "providers.xlsx", [
        {"provider_id": p, "name": n, "approved_from": D(2025, 1, 1), "approved_to": None, "own_unit": "ei",
         "email": "x@example.fi", "lang": "fi"} for p, n in ((P1, "Yksi Oy"), (P2, "Kaksi Oy"))])
    wb.write_decisions(reg / "decisions.xlsx", [
        {"decision_id": d, "hetu": h, "name": "Asiakas", "provider_id": p, "voucher_no": "S1",
         "start": D(2026, 9, 1), "end": D(2027, 6, 30), "terminated": None, "days_per_week": 4,
         "hours_per_day_h100": 6, "day_value_cents": "50,00", "meal": "ei", "travel_per_day_cents": "0,00",
         "benefit": "työttömyysetuus", "guidance_min_h100": None, "caseworker": None, "next_step": None}
        for d, h, p in (("D-1", H1, P1), ("D-2", H2, P2))])


def write_bill(path: Path, provider: str, invoice_no: str, month: D, decision: str, hetu: str, days: list[int]) -> Path:
    """One client row billing `days` (each an X) at 50.00 a day, no meals or travel."""
    header = {"provider_name": "Oy", "provider_id": provider, "invoice_no": invoice_no,
              "billing_month": month.strftime("%Y-%m"), "invoice_date": month, "total_cents": 50 * len(days)}
    clients = [{"decision_id": decision, "hetu": hetu, "days_claimed": len(days), "day_value_cents": "50,00",
                "fee_cents": 50 * len(days), "guidance_individual_h100": 3}]
    attendance = [{"decision_id": decision, "hetu": hetu, **{d: ("X" if d in days else None) for d in range(1, 32)}}]
    return wb.write_invoice(path, header, clients, attendance)


@pytest.fixture
def cfg():
    return config_mod.load(ROOT / "config")


@pytest.fixture
def inbox(tmp_path):
    inbox = tmp_path / "inbox"
    make_registers(inbox)
    (inbox / "2026-11").mkdir()
    # Mon 2 - Wed 4 November 2026.
    write_bill(inbox / "2026-11" / "yksi.xlsx", P1, "101", D(2026, 11, 1), "D-1", H1, [2, 3, 4])
    write_bill(inbox / "2026-11" / "kaksi.xlsx", P2, "201", D(2026, 11, 1), "D-2", H2, [2])
    (inbox / "2026-11" / "~$yksi.xlsx").write_bytes(b"lock")
    return inbox


def approval(folder: Path) -> list[dict[str, str]]:
    with (folder / "finance" / "approval.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def findings(folder: Path) -> list[tuple[str, str, str, str]]:
    with (folder / "audit" / "findings.csv").open(encoding="utf-8", newline="") as f:
        return [(r["source_file"], r["rule"], r["cell"], r["amount_eur"]) for r in csv.DictReader(f)]


def test_run_writes_outbox_and_ledger(inbox, tmp_path, cfg):
    outbox = tmp_path / "outbox"
    result = batch_mod.run_batch(inbox, outbox, cfg)
    assert result.batch == "2026-11" and len(result.run_id) == 12
    folder = outbox / "2026-11"
    assert [(r["source_file"], r["provider_id"], r["invoice_no"], r["claimed_eur"], r["approved_eur"], r["status"])
            for r in approval(folder)] == [
        ("kaksi.xlsx", P2, "201", "50.00", "50.00", "approved"), ("yksi.xlsx", P1, "101", "150.00", "150.00", "approved")]
    data = json.loads((folder / "audit" / "manifest.json").read_text(encoding="utf-8"))
    assert data["ignored"] == ["~$yksi.xlsx"]
    assert set(data["inputs"]) == {"register/decisions.xlsx", "register/providers.xlsx", "2026-11/kaksi.xlsx", "2026-11/yksi.xlsx"}
    assert {"audit/findings.csv", "finance/approval.csv"} <= set(data["outputs"])
    assert data["counts"]["invoices_by_status"]["approved"] == 2
    # the values of config/rates.toml's 2026 block, as the manifest must carry them
    assert data["rates_applied"] == {"2026-11": {
        "valid_from": "2026-01-01", "meal_price_eur": "6.80", "meal_compensation_eur": "5.00",
        "expense_compensation_eur": "9.00", "guidance_min_hours": "2.0"}}
    assert sorted(p.name for p in outbox.iterdir()) == [".reconcile.lock", "2026-11", "ledger.sqlite", "ledger.sqlite.lock"]
    days = dump(outbox / "ledger.sqlite")["days"]
    assert [(d[1], d[2], d[5], d[6]) for d in days] == [
        (P1, "101", "2026-11-02", "paid"), (P1, "101", "2026-11-03", "paid"), (P1, "101", "2026-11-04", "paid"),
        (P2, "201", "2026-11-02", "paid")]


def test_rerun_gives_the_same_files_and_ledger(inbox, tmp_path, cfg, ledger_url):
    outbox = tmp_path / "outbox"
    first = batch_mod.run_batch(inbox, outbox, cfg, ledger=ledger_url)
    files = {n: (outbox / "2026-11" / n).read_bytes() for n in ("audit/findings.csv", "finance/approval.csv")}
    manifest_1 = json.loads((outbox / "2026-11" / "audit" / "manifest.json").read_text(encoding="utf-8"))
    ledger_1 = dump(ledger_url)
    second = batch_mod.run_batch(inbox, outbox, cfg, batch="2026-11", ledger=ledger_url)
    assert second.run_id == first.run_id
    assert {n: (outbox / "2026-11" / n).read_bytes() for n in files} == files
    assert dump(ledger_url) == ledger_1
    with ledger_mod.open_ledger(ledger_url, readonly=True) as book:  # replaced, and the replacement logged
        assert [(r["run_id"], r["replaced_run_id"]) for r in book.runs()] == [(first.run_id, None),
                                                                              (first.run_id, first.run_id)]
    manifest_2 = json.loads((outbox / "2026-11" / "audit" / "manifest.json").read_text(encoding="utf-8"))
    for m in (manifest_1, manifest_2):
        del m["started"], m["finished"]
    assert manifest_1["outputs"]["finance/approval.csv"] == manifest_2["outputs"]["finance/approval.csv"]
    assert (manifest_1["inputs"], manifest_1["counts"]) == (manifest_2["inputs"], manifest_2["counts"])
    assert [p.name for p in outbox.iterdir() if p.name.startswith(".2026")] == []


def test_later_batch_finds_days_paid_in_an_earlier_one(inbox, tmp_path, cfg, ledger_url):
    outbox = tmp_path / "outbox"
    cfg = dataclasses.replace(cfg, ledger=ledger_url)
    (inbox / "2026-10").mkdir()
    write_bill(inbox / "2026-10" / "loka.xlsx", P1, "100", D(2026, 10, 1), "D-1", H1, [30])
    batch_mod.run_batch(inbox, outbox, cfg, batch="2026-10")
    # A late invoice in the November batch bills Friday 30 October again.
    write_bill(inbox / "2026-11" / "uudestaan.xlsx", P1, "100b", D(2026, 10, 1), "D-1", H1, [30])
    batch_mod.run_batch(inbox, outbox, cfg, batch="2026-11")
    late = [f for f in findings(outbox / "2026-11") if f[0] == "uudestaan.xlsx" and f[1] == "R217"]
    assert late == [("uudestaan.xlsx", "R217", "Läsnäolo!AF2", "-50.00")]
    row = next(r for r in approval(outbox / "2026-11") if r["source_file"] == "uudestaan.xlsx")
    assert (row["claimed_eur"], row["approved_eur"], row["rejected_eur"], row["status"]) == ("50.00", "0.00", "50.00", "rejected")
    # The same invoice number again in a later batch is a duplicate (F007).
    (inbox / "2026-12").mkdir()
    shutil.copy(inbox / "2026-10" / "loka.xlsx", inbox / "2026-12" / "kopio.xlsx")
    batch_mod.run_batch(inbox, outbox, cfg)
    assert [(r["source_file"], r["status"]) for r in approval(outbox / "2026-12")] == [("kopio.xlsx", "duplicate")]


def test_rerun_of_an_older_batch_does_not_see_later_batches(inbox, tmp_path, cfg, ledger_url):
    outbox = tmp_path / "outbox"
    (inbox / "2026-10").mkdir()
    # October: two invoices of P1 bill Thursday 29 October for the same client: both held (R216).
    write_bill(inbox / "2026-10" / "a.xlsx", P1, "A", D(2026, 10, 1), "D-1", H1, [29])
    write_bill(inbox / "2026-10" / "b.xlsx", P1, "B", D(2026, 10, 1), "D-1", H1, [29])
    batch_mod.run_batch(inbox, outbox, cfg, batch="2026-10", ledger=ledger_url)
    first = {n: (outbox / "2026-10" / n).read_bytes() for n in ("audit/findings.csv", "finance/approval.csv")}
    assert [(r["invoice_no"], r["held_eur"], r["status"]) for r in approval(outbox / "2026-10")] == [
        ("A", "50.00", "held"), ("B", "50.00", "held")]
    # November: a late invoice bills 29 October once more. October still holds that day, so it is
    # held too (R216 across batches); finance pays it in November.
    write_bill(inbox / "2026-11" / "c.xlsx", P1, "C", D(2026, 10, 1), "D-1", H1, [29])
    batch_mod.run_batch(inbox, outbox, cfg, batch="2026-11", ledger=ledger_url)
    assert next(r for r in approval(outbox / "2026-11") if r["invoice_no"] == "C")["status"] == "held"
    answers = tmp_path / "answers.csv"
    answers.write_text(f"provider_id,invoice_no,decision_id,date,resolution,reason\n{P1},C,D-1,2026-10-29,pay,\n",
                       encoding="utf-8")
    from reconcile.resolve import finance

    assert len(finance.resolve_batch(inbox, outbox, cfg, "2026-11", answers, ledger_url, "maija").taken) == 1
    assert next(r for r in approval(outbox / "2026-11") if r["invoice_no"] == "C")["status"] == "approved"
    # October again: it sees only what came before it, so it gives what it gave (not R217 against November).
    batch_mod.run_batch(inbox, outbox, cfg, batch="2026-10", ledger=ledger_url)
    assert {n: (outbox / "2026-10" / n).read_bytes() for n in first} == first


def test_batch_choice_and_job_errors(inbox, tmp_path, cfg):
    assert batch_mod.choose_batch(inbox, None) == "2026-11"
    (inbox / "2027-01").mkdir()
    (inbox / "2027-13").mkdir()
    assert batch_mod.choose_batch(inbox, None) == "2027-01"
    with pytest.raises(UsageError):
        batch_mod.choose_batch(inbox, "2026-1")
    with pytest.raises(JobError, match="no batch folder"):
        batch_mod.choose_batch(inbox, "2026-05")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(JobError, match="no batch folder"):
        batch_mod.choose_batch(empty, None)
    (inbox / "register" / "decisions.xlsx").unlink()
    with pytest.raises(RegisterError):
        batch_mod.run_batch(inbox, tmp_path / "outbox", cfg, batch="2026-11")
    assert not (tmp_path / "outbox" / "2026-11").exists()


def test_signed_off_batch_is_not_run_again(inbox, tmp_path, cfg, ledger_url):
    outbox = tmp_path / "outbox"
    batch_mod.run_batch(inbox, outbox, cfg, ledger=ledger_url)
    with ledger_mod.open_ledger(ledger_url) as book:
        book.approve("2026-11", "101", None, "maija")
    before = dump(ledger_url)
    assert batch_mod.run_batch(inbox, outbox, cfg, ledger=ledger_url).rebuilt  # unchanged inputs: files rebuilt
    assert dump(ledger_url) == before
    shutil.copy(inbox / "2026-11" / "yksi.xlsx", inbox / "2026-11" / "uusi.xlsx")
    with pytest.raises(LedgerError, match="already signed off"):
        batch_mod.run_batch(inbox, outbox, cfg, ledger=ledger_url)
    assert dump(ledger_url) == before


def test_check_file_reads_the_ledger_but_never_writes_it(inbox, tmp_path, cfg):
    path = inbox / "2026-11" / "yksi.xlsx"
    clean = batch_mod.check_file(path, inbox, cfg, ledger=str(tmp_path / "none.sqlite"))
    assert (clean.status, clean.total.approved) == ("approved", 15000)
    assert not (tmp_path / "none.sqlite").exists()
    outbox = tmp_path / "outbox"
    batch_mod.run_batch(inbox, outbox, cfg)
    before = (outbox / "ledger.sqlite").read_bytes()
    again = batch_mod.check_file(path, inbox, cfg, ledger=str(outbox / "ledger.sqlite"))
    assert [f.rule for f in again.findings if f.rule.startswith("F")] == ["F007"]
    assert (outbox / "ledger.sqlite").read_bytes() == before


def test_recover_finishes_a_committed_swap_and_drops_an_uncommitted_one(inbox, tmp_path, cfg):
    outbox = tmp_path / "outbox"
    batch_mod.run_batch(inbox, outbox, cfg)
    live = outbox / "2026-11"
    # Uncommitted: a ready folder the ledger does not know, and a leftover staging folder.
    shutil.copytree(live, outbox / ".2026-11.ready")
    (outbox / ".2026-11.ready" / "audit" / "manifest.json").write_text("{}\n", encoding="utf-8")
    (outbox / ".2026-11.staging").mkdir()
    with ledger_mod.open_ledger(str(outbox / "ledger.sqlite")) as book:
        batch_mod.recover(outbox, book)
    assert sorted(p.name for p in outbox.iterdir() if p.name.startswith(".2026")) == []
    assert json.loads((live / "audit" / "manifest.json").read_text(encoding="utf-8"))["run_id"]

    # Committed: the live folder was moved aside, the ready one (which the ledger recorded) not yet in.
    os.rename(live, outbox / ".2026-11.ready")
    (outbox / ".2026-11.old").mkdir()
    with ledger_mod.open_ledger(str(outbox / "ledger.sqlite")) as book:
        batch_mod.recover(outbox, book)
    assert sorted(p.name for p in outbox.iterdir() if "2026-11" in p.name) == ["2026-11"]
    assert (live / "finance" / "approval.csv").is_file()
