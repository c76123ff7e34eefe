"""`reconcile run`, `approve` and `check`: every exit status, the lock, and a SIGKILL mid-run."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import wb
from click.testing import CliRunner
from test_batch import D, H1, P1, P2, ROOT, approval, dump, findings, make_registers, write_bill

from reconcile.ledger import store as ledger_mod
from reconcile import lock
from reconcile.cli import main


@pytest.fixture
def inbox(tmp_path):
    inbox = tmp_path / "inbox"
    make_registers(inbox)
    (inbox / "2026-11").mkdir()
    write_bill(inbox / "2026-11" / "yksi.xlsx", P1, "7", D(2026, 11, 1), "D-1", H1, [2, 3])
    write_bill(inbox / "2026-11" / "kaksi.xlsx", P2, "7", D(2026, 11, 1), "D-2", wb.HETU[2], [2])
    return inbox


def invoke(*args: str):
    return CliRunner().invoke(main, [*args, "--config", str(ROOT / "config")])


def run(inbox: Path, outbox: Path, *more: str):
    return invoke("run", "--inbox", str(inbox), "--outbox", str(outbox), *more)


def test_run_prints_counts_and_where(inbox, tmp_path):
    r = run(inbox, tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "2 invoice(s)" in r.stdout and "  approved: 2" in r.stdout and "  rejected: 0" in r.stdout
    assert str(tmp_path / "out" / "2026-11") in r.stdout


def test_run_lang_chooses_the_finance_and_audit_language(inbox, tmp_path):
    import csv

    import openpyxl

    assert run(inbox, tmp_path / "fi").exit_code == 0
    r = run(inbox, tmp_path / "en", "--lang", "en")
    assert r.exit_code == 0, r.output
    sheets = {lang: openpyxl.load_workbook(tmp_path / lang / "2026-11" / "finance" / "approval.xlsx").sheetnames for lang in ("fi", "en")}
    assert sheets["fi"] != sheets["en"]
    run_ids = {lang: next(csv.DictReader((tmp_path / lang / "2026-11" / "finance" / "approval.csv").open(encoding="utf-8")), None)
               for lang in ("fi", "en")}
    manifests = {lang: (tmp_path / lang / "2026-11" / "audit" / "manifest.json").read_text(encoding="utf-8") for lang in ("fi", "en")}
    assert run_ids["fi"] == run_ids["en"]  # the same money
    assert manifests["fi"].split('"run_id"')[1][:20] != manifests["en"].split('"run_id"')[1][:20]  # told apart


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--batch", "11-2026"], 2, "not a month"),
        (["--batch", "2026-05"], 3, "no batch folder"),
        (["--ledger", "postgresql://finance:pw@db.invalid/reconcile"], 3, "ledger postgresql://finance@db.invalid/reconcile"),
        (["--bogus"], 2, "No such option"),
    ],
)
def test_run_usage_and_job_errors(inbox, tmp_path, args, code, words):
    r = run(inbox, tmp_path / "out", *args)
    assert r.exit_code == code
    assert words in r.output
    assert "Traceback" not in r.output


def test_run_without_a_register_exits_3(inbox, tmp_path):
    (inbox / "register" / "providers.xlsx").unlink()
    r = run(inbox, tmp_path / "out")
    assert r.exit_code == 3 and "providers" in r.stderr
    assert not (tmp_path / "out" / "2026-11").exists()


def test_run_on_a_newer_or_corrupt_ledger_exits_3_and_leaves_it(inbox, tmp_path):
    import sqlite3

    newer = tmp_path / "newer.sqlite"
    ledger_mod.open_ledger(str(newer)).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    r = run(inbox, tmp_path / "out", "--ledger", str(newer))
    assert r.exit_code == 3 and "newer than this program knows" in r.stderr
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"\x00garbage" * 512)
    r = run(inbox, tmp_path / "out", "--ledger", f"sqlite:///{corrupt}")
    assert r.exit_code == 3 and "cannot be opened" in r.stderr
    assert corrupt.read_bytes() == b"\x00garbage" * 512
    assert not (tmp_path / "out" / "2026-11").exists()


@pytest.mark.parametrize("which", ["outbox", "ledger"])
def test_second_run_while_the_lock_is_held_exits_4(inbox, tmp_path, which):
    outbox = tmp_path / "out"
    path = outbox / ".reconcile.lock" if which == "outbox" else tmp_path / "l.sqlite.lock"
    with lock.hold(path, "reconcile run --batch 2026-11", f"the {which}"):
        r = run(inbox, outbox, "--ledger", str(tmp_path / "l.sqlite"))
    assert r.exit_code == 4
    assert f"holds the lock on the {which}" in r.stderr and f"pid {os.getpid()}" in r.stderr
    assert not (outbox / "2026-11").exists()


def test_concurrent_run_in_another_process_exits_4(inbox, tmp_path):
    outbox = tmp_path / "out"
    first = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "run", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config")],
        env={**os.environ, "RECONCILE_TEST_PAUSE_AT": "read"}, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert "paused at read" in first.stderr.readline()
        r = run(inbox, outbox)
        assert r.exit_code == 4
        assert "reconcile run --batch 2026-11" in r.stderr and f"pid {first.pid}" in r.stderr
    finally:
        first.kill()
        first.wait()


def test_approve(inbox, tmp_path):
    outbox = tmp_path / "out"
    base = ["approve", "--inbox", str(inbox), "--outbox", str(outbox), "--batch", "2026-11"]
    r = invoke(*base, "--invoice", "7")
    assert r.exit_code == 3 and "no ledger" in r.stderr  # nothing run yet
    assert not (outbox / "ledger.sqlite").exists()
    assert run(inbox, outbox).exit_code == 0
    r = invoke(*base, "--invoice", "7")
    assert r.exit_code == 2 and f"{P1}, {P2}" in r.stderr and "--provider" in r.stderr
    r = invoke(*base, "--invoice", "8")
    assert r.exit_code == 3 and "not recorded" in r.stderr
    assert invoke(*base[:-1], "2026-13", "--invoice", "7").exit_code == 2
    assert invoke(*base).exit_code == 2  # --invoice missing
    r = invoke(*base, "--invoice", "7", "--provider", P1)
    assert r.exit_code == 0 and "Signed off invoice 7 of " + P1 in r.stdout
    with lock.hold(ledger_mod.lock_path(str(outbox / "ledger.sqlite")), "reconcile run", "the ledger"):
        assert invoke(*base, "--invoice", "7", "--provider", P2).exit_code == 4
    assert invoke(*base, "--invoice", "7", "--provider", P1).stdout.count("already signed off") == 1
    # The batch is final now: run again it is only rebuilt, and on changed inputs refused; the ledger stays.
    before = dump(outbox / "ledger.sqlite")
    r = run(inbox, outbox, "--batch", "2026-11")
    assert r.exit_code == 0 and "its outbox was rebuilt" in r.stdout
    write_bill(inbox / "2026-11" / "kolme.xlsx", P2, "9", D(2026, 11, 1), "D-2", wb.HETU[2], [3])
    r = run(inbox, outbox, "--batch", "2026-11")
    assert r.exit_code == 3 and "already signed off" in r.stderr
    assert dump(outbox / "ledger.sqlite") == before


def test_check_exit_statuses(inbox, tmp_path):
    base = ["check", "--inbox", str(inbox), "--outbox", str(tmp_path / "out")]
    clean = invoke(*base, str(inbox / "2026-11" / "yksi.xlsx"))
    assert clean.exit_code == 0, clean.output
    assert "0 virhettä" in clean.stdout and "hyväksytty 100,00\u00a0€" in clean.stdout  # P1 writes Finnish
    bad = wb.write_invoice(
        tmp_path / "bad.xlsx",
        {"provider_id": P1, "invoice_no": "9", "billing_month": "2026-11", "total_cents": 100},
        [{"decision_id": "D-1", "hetu": H1, "days_claimed": 2, "day_value_cents": 50, "fee_cents": 100}],
        [{"decision_id": "D-1", "hetu": H1, **{d: None for d in range(1, 32)}, 2: "X", 3: "Q"}],
    )
    r = invoke(*base, str(bad))
    assert r.exit_code == 1
    assert "V105 virhe    Läsnäolo!E2:" in r.stdout
    assert "    Miten korjata: Käytä vain merkintöjä X" in r.stdout  # how to fix, under the finding
    assert H1 not in r.stdout
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    r = invoke(*base, str(garbage))
    assert r.exit_code == 3 and "F001" in r.stdout
    assert invoke(*base, str(tmp_path / "missing.xlsx")).exit_code == 2
    assert not (tmp_path / "out").exists()  # check writes nothing


def test_check_sees_the_ledger(inbox, tmp_path):
    outbox = tmp_path / "out"
    assert run(inbox, outbox).exit_code == 0
    copy = shutil.copy(inbox / "2026-11" / "yksi.xlsx", tmp_path / "again.xlsx")
    before = (outbox / "ledger.sqlite").read_bytes()
    r = invoke("check", "--inbox", str(inbox), "--outbox", str(outbox), str(copy))
    assert r.exit_code == 1 and "F007" in r.stdout
    assert (outbox / "ledger.sqlite").read_bytes() == before


def snapshot(outbox: Path, batch: str = "2026-11") -> dict:
    """What a crash must not disturb: the batch's data files, the work folders beside them, the ledger."""
    folder = outbox / batch
    files = {}
    if folder.exists():
        files = {n: (folder / n).read_bytes() for n in ("audit/findings.csv", "finance/approval.csv")}
    work = sorted(p.name for p in outbox.iterdir() if p.name.startswith(f".{batch}")) if outbox.exists() else []
    ledger = dump(outbox / "ledger.sqlite") if (outbox / "ledger.sqlite").exists() else None
    return {"files": files, "work": work, "ledger": ledger}


@pytest.mark.slow
@pytest.mark.parametrize("point", ["read", "ledger", "swap"])
def test_sigkill_mid_run_then_rerun_equals_an_undisturbed_run(inbox, tmp_path, point):
    # The undisturbed history: batch run, then a third invoice arrives and the batch is run again.
    calm = tmp_path / "calm"
    assert run(inbox, calm).exit_code == 0
    killed = tmp_path / "killed"
    shutil.copytree(calm, killed, ignore=shutil.ignore_patterns("*.lock"))
    before = snapshot(killed)
    write_bill(inbox / "2026-11" / "kolme.xlsx", P1, "8", D(2026, 11, 1), "D-1", H1, [3, 4])
    assert run(inbox, calm).exit_code == 0

    proc = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "run", "--inbox", str(inbox), "--outbox", str(killed), "--config", str(ROOT / "config")],
        env={**os.environ, "RECONCILE_TEST_PAUSE_AT": point}, stderr=subprocess.PIPE, text=True,
    )
    assert f"paused at {point}" in proc.stderr.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = snapshot(killed)
    if point in ("read", "ledger"):  # nothing committed: the previous outbox and ledger stand
        assert (after["files"], after["ledger"]) == (before["files"], before["ledger"])
    else:  # committed: the ledger is the new one; the outbox folder is finished by the next run
        assert after["ledger"] == snapshot(calm)["ledger"]
        assert ".2026-11.ready" in after["work"]

    r = run(inbox, killed)
    assert r.exit_code == 0, r.output
    assert snapshot(killed) == snapshot(calm)
    assert [f for f in findings(killed / "2026-11") if f[1] == "R217"] == []
    assert len(approval(killed / "2026-11")) == 3


def test_run_summary_shows_euros_beside_the_counts(inbox, tmp_path):
    r = run(inbox, tmp_path / "out")
    assert r.exit_code == 0, r.output
    # yksi.xlsx bills 2 days and kaksi.xlsx 1 day at 50.00 a day: 100.00 + 50.00, all approved
    assert "  claimed 150.00 EUR: approved 150.00, held 0.00, rejected 0.00" in r.stdout
    assert "  approved: 2 invoice(s), claimed 150.00 EUR" in r.stdout
    assert "  rejected: 0 invoice(s), claimed 0.00 EUR" in r.stdout


def test_run_on_an_empty_batch_says_nothing_arrived(inbox, tmp_path):
    (inbox / "2026-12").mkdir()
    r = run(inbox, tmp_path / "out", "--batch", "2026-12")
    assert r.exit_code == 0, r.output
    assert f"The batch folder {inbox / '2026-12'} holds no submissions" in r.stdout
    assert (tmp_path / "out" / "2026-12" / "finance" / "approval.csv").is_file()


def test_demo_needs_no_config_folder(tmp_path):
    config = tmp_path / "config"
    r = CliRunner().invoke(main, ["demo", "--inbox", str(tmp_path / "inbox"), "--config", str(config),
                                  "--providers", "2", "--clients", "8", "--batches", "2026-11"])
    assert r.exit_code == 0, r.output
    assert (config / "rates.toml").read_bytes() == (ROOT / "config" / "rates.toml").read_bytes()
    assert "The default rates were written to" in r.stdout
    r = CliRunner().invoke(main, ["run", "--inbox", str(tmp_path / "inbox"), "--outbox", str(tmp_path / "out"),
                                  "--config", str(config), "--quiet"])
    assert r.exit_code == 0, r.output


def test_shipped_rates_are_the_repository_rates():
    from importlib.resources import files

    assert files("reconcile.defaults").joinpath("rates.toml").read_bytes() == (ROOT / "config" / "rates.toml").read_bytes()


def test_command_outside_the_checkout_names_the_folder_it_looked_in(tmp_path):
    r = CliRunner().invoke(main, ["run", "--inbox", str(tmp_path / "inbox"), "--config", str(tmp_path / "nowhere")])
    assert r.exit_code == 3
    assert f"There is no rates.toml in {(tmp_path / 'nowhere').resolve()}." in r.stderr
    assert "point --config at" in r.stderr


def test_broken_pipe_ends_quietly(inbox, tmp_path):
    script = ("import sys; from reconcile.cli import main; "
              f"sys.argv = ['reconcile', 'run', '--inbox', {str(inbox)!r}, '--outbox', {str(tmp_path / 'out')!r}, "
              f"'--config', {str(ROOT / 'config')!r}, '--quiet']; main()")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away at once, as `| head -0` would
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "internal error" not in err and "Traceback" not in err, err
