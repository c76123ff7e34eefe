"""Running a batch again: a signed-off month's files are rebuilt, never re-paid; the run id covers
the ledger history the run read; a run that replaces other inputs says what it replaced (issue 14, 1-2).

On SQLite and PostgreSQL alike (`ledger_url`)."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import wb
from click.testing import CliRunner
from ledgers import dump, rows
from test_batch import D, H1, P1, P2, ROOT, make_registers, write_bill

from reconcile.cli import main


def invoke(*args: str):
    return CliRunner().invoke(main, [*args, "--config", str(ROOT / "config")])


def run(inbox: Path, outbox: Path, ledger: str, batch: str):
    return invoke("run", "--inbox", str(inbox), "--outbox", str(outbox), "--ledger", ledger, "--batch", batch, "--quiet")


def files(folder: Path) -> dict[str, str]:
    """Every output by sha256, the manifest by content without its times."""
    out = {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
           for p in sorted(folder.rglob("*")) if p.is_file()}
    data = json.loads((folder / "audit" / "manifest.json").read_text(encoding="utf-8"))
    del data["started"], data["finished"]
    out["audit/manifest.json"] = json.dumps(data, sort_keys=True)
    return out


def approval(folder: Path) -> list[dict]:
    with (folder / "finance" / "approval.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def two_months(tmp_path: Path) -> Path:
    """October: P1 bills D-1 on 5 and 6 Oct. November: P1 bills D-1 on 2 and 3 Nov, P2 D-2 on 2 Nov (50.00 a day)."""
    inbox = tmp_path / "inbox"
    make_registers(inbox)
    (inbox / "2026-10").mkdir()
    (inbox / "2026-11").mkdir()
    write_bill(inbox / "2026-10" / "loka.xlsx", P1, "6", D(2026, 10, 1), "D-1", H1, [5, 6])
    write_bill(inbox / "2026-11" / "yksi.xlsx", P1, "7", D(2026, 11, 1), "D-1", H1, [2, 3])
    write_bill(inbox / "2026-11" / "kaksi.xlsx", P2, "8", D(2026, 11, 1), "D-2", wb.HETU[2], [2])
    return inbox


def test_a_signed_off_batch_is_rebuilt_from_unchanged_inputs_and_the_ledger_untouched(tmp_path, ledger_url):
    inbox, outbox = two_months(tmp_path), tmp_path / "out"
    assert run(inbox, outbox, ledger_url, "2026-11").exit_code == 0
    r = invoke("approve", "--inbox", str(inbox), "--outbox", str(outbox), "--ledger", ledger_url, "--batch", "2026-11",
               "--invoice", "7")
    assert r.exit_code == 0, r.output
    signed = files(outbox / "2026-11")
    ledger_before = dump(ledger_url)
    shutil.rmtree(outbox / "2026-11")  # what `make clean` does: the ledger stays
    r = run(inbox, outbox, ledger_url, "2026-11")
    assert r.exit_code == 0, r.output
    assert "its outbox was rebuilt, the ledger is unchanged" in r.stdout
    assert dump(ledger_url) == ledger_before
    rebuilt = files(outbox / "2026-11")
    assert set(rebuilt) == set(signed)
    assert rebuilt["finance/approval.csv"] == signed["finance/approval.csv"]
    assert rebuilt["audit/findings.csv"] == signed["audit/findings.csv"]
    assert [(a["invoice_no"], a["approved_eur"]) for a in approval(outbox / "2026-11")] == [("8", "50.00"), ("7", "100.00")]


def test_a_signed_off_batch_with_changed_inputs_is_refused_naming_what_changed(tmp_path, ledger_url):
    inbox, outbox = two_months(tmp_path), tmp_path / "out"
    assert run(inbox, outbox, ledger_url, "2026-11").exit_code == 0
    assert invoke("approve", "--inbox", str(inbox), "--outbox", str(outbox), "--ledger", ledger_url, "--batch", "2026-11",
                  "--invoice", "7").exit_code == 0
    ledger_before = dump(ledger_url)
    write_bill(inbox / "2026-11" / "kolme.xlsx", P2, "9", D(2026, 11, 1), "D-2", wb.HETU[2], [4])
    r = run(inbox, outbox, ledger_url, "2026-11")
    assert r.exit_code == 3
    assert "cannot be run again on changed inputs: invoice 7 of" in r.stderr
    assert "added: 2026-11/kolme.xlsx" in r.stderr
    assert dump(ledger_url) == ledger_before


def test_an_old_month_run_again_gives_what_it_gave(tmp_path, ledger_url):
    """A batch reads only the batches before it: October run again after November is October as it was."""
    inbox, outbox = two_months(tmp_path), tmp_path / "out"
    assert run(inbox, outbox, ledger_url, "2026-10").exit_code == 0
    first = files(outbox / "2026-10")
    assert run(inbox, outbox, ledger_url, "2026-11").exit_code == 0
    r = run(inbox, outbox, ledger_url, "2026-10")
    assert r.exit_code == 0, r.output
    assert files(outbox / "2026-10") == first  # same run id, compliance.xlsx and every other output
    assert "replaces run" not in r.stdout


def test_the_run_id_covers_the_history_the_run_read(tmp_path, ledger_url):
    """November read against an empty ledger and against one holding a paid October differ in run id:
    October's 29 and 30 Oct share a Monday-Sunday week with Sunday 1 Nov, so November reads them."""
    inbox, outbox = two_months(tmp_path), tmp_path / "out"
    write_bill(inbox / "2026-10" / "loka.xlsx", P1, "6", D(2026, 10, 1), "D-1", H1, [29, 30])
    write_bill(inbox / "2026-11" / "yksi.xlsx", P1, "7", D(2026, 11, 1), "D-1", H1, [1, 2, 3])
    assert run(inbox, outbox, ledger_url, "2026-11").exit_code == 0
    alone = json.loads((outbox / "2026-11" / "audit" / "manifest.json").read_text(encoding="utf-8"))["run_id"]
    assert run(inbox, outbox, ledger_url, "2026-10").exit_code == 0
    r = run(inbox, outbox, ledger_url, "2026-11")
    assert r.exit_code == 0, r.output
    after = json.loads((outbox / "2026-11" / "audit" / "manifest.json").read_text(encoding="utf-8"))
    assert after["run_id"] != alone
    assert after["replaces"]["previous_run_id"] == alone  # the inputs are the same; the history is not
    assert f"This run replaces run {alone} of batch 2026-11" in r.stdout


def test_a_run_replacing_other_inputs_says_what_it_replaced(tmp_path, ledger_url):
    inbox, outbox = two_months(tmp_path), tmp_path / "out"
    assert run(inbox, outbox, ledger_url, "2026-11").exit_code == 0
    first = json.loads((outbox / "2026-11" / "audit" / "manifest.json").read_text(encoding="utf-8"))["run_id"]
    (inbox / "2026-11" / "kaksi.xlsx").unlink()
    write_bill(inbox / "2026-11" / "kolme.xlsx", P2, "9", D(2026, 11, 1), "D-2", wb.HETU[2], [4, 5, 6])
    r = run(inbox, outbox, ledger_url, "2026-11")
    assert r.exit_code == 0, r.output
    replaces = json.loads((outbox / "2026-11" / "audit" / "manifest.json").read_text(encoding="utf-8"))["replaces"]
    # before: 7 (2 days) and 8 (1 day) at 50.00; after: 7 (2 days) and 9 (3 days)
    assert replaces == {
        "previous_run_id": first,
        "invoices_added": [f"{P2}/9"], "invoices_removed": [f"{P2}/8"],
        "totals_before_eur": {"claimed": "150.00", "approved": "150.00", "held": "0.00", "rejected": "0.00"},
        "totals_after_eur": {"claimed": "250.00", "approved": "250.00", "held": "0.00", "rejected": "0.00"},
    }
    assert (f"This run replaces run {first} of batch 2026-11: 1 invoice(s) added, 1 removed; "
            "approved 150.00 EUR before, 250.00 EUR now.") in r.stdout
    now = json.loads((outbox / "2026-11" / "audit" / "manifest.json").read_text(encoding="utf-8"))["run_id"]
    log = rows(ledger_url, "SELECT run_id, replaced_run_id FROM runs WHERE batch = '2026-11' ORDER BY finished_at")
    assert log == [(first, None), (now, first)]  # the ledger's log of runs keeps the run each replaced
    again = run(inbox, outbox, ledger_url, "2026-11")  # the same inputs once more: the same manifest
    assert again.exit_code == 0 and "replaces run" not in again.stdout
    assert json.loads((outbox / "2026-11" / "audit" / "manifest.json").read_text(encoding="utf-8"))["replaces"] == replaces


def test_an_earlier_month_run_again_leaves_a_signed_off_month_rebuildable_and_approvable(tmp_path, ledger_url):
    """`make clean` then `make demo` after a sign-off: October is recorded anew (same days), then November is
    rebuilt; signing off November's other invoice still works."""
    inbox, outbox = two_months(tmp_path), tmp_path / "out"
    write_bill(inbox / "2026-10" / "loka.xlsx", P1, "6", D(2026, 10, 1), "D-1", H1, [29, 30])  # November's week
    assert run(inbox, outbox, ledger_url, "2026-10").exit_code == 0
    assert run(inbox, outbox, ledger_url, "2026-11").exit_code == 0
    base = ("approve", "--inbox", str(inbox), "--outbox", str(outbox), "--ledger", ledger_url, "--batch", "2026-11")
    assert invoke(*base, "--invoice", "7").exit_code == 0
    shutil.rmtree(outbox / "2026-10")
    shutil.rmtree(outbox / "2026-11")
    assert run(inbox, outbox, ledger_url, "2026-10").exit_code == 0
    r = run(inbox, outbox, ledger_url, "2026-11")
    assert r.exit_code == 0, r.output
    assert "its outbox was rebuilt" in r.stdout
    r = invoke(*base, "--invoice", "8")
    assert r.exit_code == 0, r.output
