"""Faults: SIGKILL mid-run, a full disk, a read-only outbox, a bad ledger, register or config,
two runs at once, and a bug in one check.

Each fault ends in one of two ways: exit 3 or 4 with a plain sentence and
the previous outbox and ledger as they were, or (after a crash) a rerun that
gives the same outbox and ledger as a run that was never disturbed.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import wb
from click.testing import CliRunner
from reliability import BATCH, Control, client_hetu, provider_id
from test_batch import dump

from reconcile import batch as batch_mod, config as config_mod
from reconcile.check import batch as checks
from reconcile.cli import main
from reconcile.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
RATES = (ROOT / "config" / "rates.toml").read_text(encoding="utf-8")


@pytest.fixture
def ctl(tmp_path) -> Control:
    """Three providers; invoices of providers 0 and 1 in the batch folder."""
    ctl = Control(tmp_path / "inbox", providers=3)
    (ctl.inbox / BATCH).mkdir()
    ctl.write(0, "A-1", ctl.inbox / BATCH / "a.xlsx")
    ctl.write(1, "B-1", ctl.inbox / BATCH / "b.xlsx")
    return ctl


def cli(inbox: Path, outbox: Path, *more: str, command: str = "run", config: Path = ROOT / "config"):
    return CliRunner().invoke(main, [command, "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(config), *more])


def state(outbox: Path, ledger: Path | None = None) -> dict:
    """The batch's outbox (every file by hash; the manifest without its times), work folders, and the ledger."""
    folder = outbox / BATCH
    files = {}
    for path in sorted(folder.rglob("*")) if folder.exists() else []:
        if path.is_file():
            files[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = folder / "audit" / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        del data["started"], data["finished"]
        files["audit/manifest.json"] = data
    work = sorted(p.name for p in outbox.iterdir() if p.name.startswith(f".{BATCH}")) if outbox.exists() else []
    ledger = ledger or outbox / "ledger.sqlite"
    return {"files": files, "work": work, "ledger": dump(ledger) if ledger.exists() else None}


def spawn(inbox: Path, outbox: Path, pause: str, *more: str) -> subprocess.Popen:
    """`python -m reconcile run` stopped at a test pause point (it says so on stderr first)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "run", "--inbox", str(inbox), "--outbox", str(outbox),
         "--config", str(ROOT / "config"), *more],
        env={**os.environ, "RECONCILE_TEST_PAUSE_AT": pause}, stderr=subprocess.PIPE, text=True,
    )
    assert f"paused at {pause}" in proc.stderr.readline()
    return proc


# --- SIGKILL ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("point", ["read", "write", "ledger", "swap"])
def test_sigkill_then_rerun_gives_the_undisturbed_outbox_and_ledger(ctl, tmp_path, point):
    calm, killed = tmp_path / "calm", tmp_path / "killed"
    assert cli(ctl.inbox, calm).exit_code == 0
    shutil.copytree(calm, killed, ignore=shutil.ignore_patterns("*.lock"))
    before = state(killed)
    ctl.write(2, "C-1", ctl.inbox / BATCH / "c.xlsx")  # a late arrival: the batch is run again
    assert cli(ctl.inbox, calm).exit_code == 0

    proc = spawn(ctl.inbox, killed, point)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = state(killed)
    if point == "swap":  # the ledger committed: the next run finishes the swap
        assert after["ledger"] == state(calm)["ledger"]
        assert after["work"] == [f".{BATCH}.old", f".{BATCH}.ready"] and after["files"] == {}
    else:  # nothing committed: the previous outbox and ledger stand
        assert (after["files"], after["ledger"]) == (before["files"], before["ledger"])
        assert after["work"] == {"read": [], "write": [f".{BATCH}.staging"], "ledger": [f".{BATCH}.ready"]}[point]

    r = cli(ctl.inbox, killed)
    assert r.exit_code == 0, r.output
    assert state(killed) == state(calm)
    # Compared: 3 providers x 2 workbooks, approval.xlsx/.csv, compliance.xlsx, findings.csv, the manifest.
    assert len(state(calm)["files"]) == 11


# --- full disk, read-only outbox -----------------------------------------------


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0750", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to play a full disk (needs root): {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill the file system of `disk` until only about `leave` bytes are free."""
    st = os.statvfs(disk)
    filler = disk / "filler"
    with filler.open("wb") as f:
        f.write(b"\0" * max(st.f_bavail * st.f_frsize - leave, 0))
    return filler


def test_full_disk_exits_3_and_keeps_the_previous_outbox(ctl, tmp_path):
    with tmpfs(tmp_path / "disk", "2m") as disk:
        outbox, ledger = disk / "outbox", tmp_path / "ledger.sqlite"
        assert cli(ctl.inbox, outbox, "--ledger", str(ledger)).exit_code == 0
        before = state(outbox, ledger)
        ctl.write(2, "C-1", ctl.inbox / BATCH / "c.xlsx")
        filler = fill(disk, 16 * 1024)
        r = cli(ctl.inbox, outbox, "--ledger", str(ledger))
        assert r.exit_code == 3, r.output
        assert r.stderr.startswith(f"reconcile: Could not write the outbox {outbox}: No space left on device.")
        assert "Traceback" not in r.output
        assert state(outbox, ledger) == before
        filler.unlink()  # space again: the run goes through
        assert cli(ctl.inbox, outbox, "--ledger", str(ledger)).exit_code == 0
        assert len(state(outbox, ledger)["ledger"]["invoices"]) == 3


def test_read_only_outbox_exits_3_and_keeps_the_previous_outbox(ctl, tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        outbox, ledger = disk / "outbox", tmp_path / "ledger.sqlite"
        assert cli(ctl.inbox, outbox, "--ledger", str(ledger)).exit_code == 0
        before = state(outbox, ledger)
        ctl.write(2, "C-1", ctl.inbox / BATCH / "c.xlsx")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        r = cli(ctl.inbox, outbox, "--ledger", str(ledger))
        assert r.exit_code == 3, r.output
        assert "Read-only file system" in r.stderr and str(outbox) in r.stderr
        assert "Traceback" not in r.output and r.stderr.count("\n") == 1
        assert state(outbox, ledger) == before


def test_read_only_outbox_folder_by_permissions_exits_3(ctl, tmp_path):
    outbox, ledger = tmp_path / "out", tmp_path / "ledger.sqlite"
    assert cli(ctl.inbox, outbox, "--ledger", str(ledger)).exit_code == 0
    before = state(outbox, ledger)
    done = subprocess.run(["chattr", "+i", str(outbox)], capture_output=True, text=True)
    if os.geteuid() != 0:
        outbox.chmod(0o550)
    elif done.returncode != 0:
        pytest.skip(f"root ignores permissions and chattr +i is not supported here: {done.stderr.strip()}")
    try:
        r = cli(ctl.inbox, outbox, "--ledger", str(ledger))
    finally:
        subprocess.run(["chattr", "-i", str(outbox)], capture_output=True)
        outbox.chmod(0o750)
    assert r.exit_code == 3, r.output
    assert "Traceback" not in r.output and r.stderr.startswith("reconcile: Could not write the outbox")
    assert state(outbox, ledger) == before


# --- the ledger ----------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "garbage_header", "newer_version", "not_a_ledger", "folder"])
def test_damaged_ledger_exits_3_and_is_never_reset(ctl, tmp_path, damage):
    outbox = tmp_path / "out"
    assert cli(ctl.inbox, outbox).exit_code == 0
    ledger = outbox / "ledger.sqlite"
    data = ledger.read_bytes()
    if damage == "truncated":
        ledger.write_bytes(data[: len(data) // 3])
    elif damage == "garbage_header":
        ledger.write_bytes(b"\xff" * 100 + data[100:])
    elif damage == "newer_version":
        with sqlite3.connect(ledger) as conn:
            conn.execute("UPDATE schema_version SET version = 99")
    elif damage == "not_a_ledger":
        ledger.unlink()
        with sqlite3.connect(ledger) as conn:
            conn.execute("CREATE TABLE t (x)")
    else:
        ledger.unlink()
        ledger.mkdir()
    damaged = ledger.read_bytes() if ledger.is_file() else None
    outputs = state(outbox, tmp_path / "none")["files"]
    r = cli(ctl.inbox, outbox)
    assert r.exit_code == 3, r.output
    assert str(ledger) in r.stderr and "Traceback" not in r.output
    assert (ledger.read_bytes() if ledger.is_file() else None) == damaged
    assert state(outbox, tmp_path / "none")["files"] == outputs


# --- registers and configuration ---------------------------------------------------


def test_missing_register_exits_3_naming_it(ctl, tmp_path):
    (ctl.inbox / "register" / "decisions.xlsx").unlink()
    r = cli(ctl.inbox, tmp_path / "out")
    assert r.exit_code == 3
    assert f"The decisions register is missing: expected {ctl.inbox / 'register' / 'decisions'}.xlsx or .csv." in r.stderr
    assert not (tmp_path / "out" / BATCH).exists()


def test_broken_register_exits_3_naming_file_and_cell(ctl, tmp_path):
    from openpyxl import load_workbook

    path = ctl.inbox / "register" / "decisions.xlsx"
    book = load_workbook(path)
    bad = client_hetu(1, 2)[:-1] + ("A" if client_hetu(1, 2)[-1] != "A" else "B")  # wrong check character
    book.active["B5"] = bad  # decision D-1-2
    book.active["F3"] = "pian"  # Alkupäivä of D-0-2: not a date
    book.save(path)
    r = cli(ctl.inbox, tmp_path / "out")
    assert r.exit_code == 3
    assert r.stderr.startswith("reconcile: The register decisions.xlsx has a bad value at Päätökset!B5 (Henkilötunnus")
    assert "more problems. Correct the register and run again." in r.stderr
    assert bad not in r.output  # the henkilötunnus is never printed whole
    path.write_bytes(b"PK\x03\x04" + os.urandom(200))
    r = cli(ctl.inbox, tmp_path / "out")
    assert r.exit_code == 3 and "The register decisions.xlsx cannot be opened safely" in r.stderr
    assert not (tmp_path / "out" / BATCH).exists()


def rates(valid_from: str, **changes: str) -> str:
    block = {"valid_from": valid_from, "meal_price_eur": "6.80", "meal_compensation_eur": "5.00",
             "expense_compensation_eur": "9.00", "guidance_min_hours": "2.0", **changes}
    return "[[rates]]\n" + "".join(f"{k} = {v}\n" for k, v in block.items())


@pytest.mark.parametrize(
    "files, words",
    [
        ({"rates.toml": rates("2026-01-01", bonus_eur="1")}, "rates.toml [[rates]] block 1: unknown key 'bonus_eur'"),
        ({"rates.toml": rates("2026-01-01", meal_price_eur='"paljon"')}, "rates.toml [[rates]] block 1: meal_price_eur"),
        ({"rates.toml": rates("2026-01-01") + rates("2026-01-01")}, "two [[rates]] blocks are valid from 2026-01-01"),
        ({"rates.toml": rates("2026-12-01")}, "rates.toml has no rate block for the billed month 2026-11"),
        ({"rates.toml": RATES, "settings.toml": "languag = 'fi'\n"}, "settings.toml: unknown key 'languag'"),
        ({"rates.toml": RATES, "settings.toml": "[limits]\nmax_rows = 'many'\n"}, "settings.toml: limits.max_rows"),
        ({"rates.toml": "[[rates]\n"}, "rates.toml is not valid TOML"),
        ({}, "rates.toml is missing"),
    ],
    ids=["unknown_key", "bad_type", "overlap", "no_block_for_month", "unknown_setting", "bad_limit", "bad_toml", "missing"],
)
def test_configuration_errors_exit_3_naming_file_and_key(ctl, tmp_path, files, words):
    folder = tmp_path / "config"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    r = cli(ctl.inbox, tmp_path / "out", config=folder)
    assert r.exit_code == 3, r.output
    assert words in r.stderr and "Traceback" not in r.output
    assert not (tmp_path / "out" / BATCH).exists()


def test_a_late_invoice_before_every_rate_block_stops_the_run_naming_the_file(ctl, tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "rates.toml").write_text(rates("2026-11-01"), encoding="utf-8")
    header, clients, attendance = ctl.invoice(2, "C-10")
    header["billing_month"] = "2026-10"
    wb.write_invoice(ctl.inbox / BATCH / "lokakuu.xlsx", header, clients, attendance)
    r = cli(ctl.inbox, tmp_path / "out", config=folder)
    assert r.exit_code == 3
    assert f"{folder / 'rates.toml'} has no rate block for the billed month 2026-10 (billed by lokakuu.xlsx)." in r.stderr
    # A month after the batch needs no block: F008 rejects it unpriced.
    header["billing_month"] = "2027-01"
    wb.write_invoice(ctl.inbox / BATCH / "lokakuu.xlsx", header, clients, attendance)
    assert cli(ctl.inbox, tmp_path / "out", config=folder).exit_code == 0


# --- concurrency ----------------------------------------------------------------------


@pytest.mark.slow
def test_two_runs_at_once_and_approve_during_a_run(ctl, tmp_path):
    outbox = tmp_path / "out"
    assert cli(ctl.inbox, outbox).exit_code == 0
    before = state(outbox)
    first = spawn(ctl.inbox, outbox, "ledger")
    try:
        second = cli(ctl.inbox, outbox)
        assert second.exit_code == 4 and f"pid {first.pid}" in second.stderr
        other_outbox = cli(ctl.inbox, tmp_path / "elsewhere", "--ledger", str(outbox / "ledger.sqlite"))
        assert other_outbox.exit_code == 4 and "holds the lock on the ledger" in other_outbox.stderr
        approve = cli(ctl.inbox, outbox, "--batch", BATCH, "--invoice", "A-1", command="approve")
        assert approve.exit_code == 4 and "reconcile run --batch 2026-11" in approve.stderr
        assert state(outbox)["ledger"] == before["ledger"]
    finally:
        first.kill()
        first.wait()
    assert cli(ctl.inbox, outbox, "--batch", BATCH, "--invoice", "A-1", command="approve").exit_code == 0


# --- a bug in one check --------------------------------------------------------------


def test_a_check_that_raises_holds_only_its_invoice(ctl, tmp_path, monkeypatch):
    real = checks._result

    def broken(w, *args, **kwargs):
        if w.provider_id == provider_id(1):
            raise ZeroDivisionError(f"client {client_hetu(1, 1)}")
        return real(w, *args, **kwargs)

    monkeypatch.setattr(checks, "_result", broken)
    ctl.write(2, "B-1", ctl.inbox / BATCH / "c.xlsx")  # another provider's B-1: checked normally
    outbox = tmp_path / "out"
    result = batch_mod.run_batch(ctl.inbox, outbox, config_mod.load(ROOT / "config"))
    by_file = {inv.source_file: inv for inv in result.invoices}
    held = by_file["b.xlsx"]
    assert [(f.rule, f.found, f.location.source_file) for f in held.findings] == [("X900", "ZeroDivisionError", "b.xlsx")]
    assert (held.status, held.total.claimed, held.total.held, held.total.approved) == ("held", 26360, 26360, 0)
    assert [(inv.status, inv.total.approved) for inv in (by_file["a.xlsx"], by_file["c.xlsx"])] == [("approved", 26360)] * 2
    with (outbox / BATCH / "audit" / "findings.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["source_file"], r["rule"], r["severity"], r["effect"], r["found"]) for r in rows] == [
        ("b.xlsx", "X900", "error", "hold", "ZeroDivisionError")]
    assert client_hetu(1, 1) not in (outbox / BATCH / "audit" / "findings.csv").read_text(encoding="utf-8")
    ledger = dump(outbox / "ledger.sqlite")
    assert [(i[1], i[2], i[5], i[8]) for i in ledger["invoices"]] == [
        (provider_id(0), "A-1", "approved", 0), (provider_id(1), "B-1", "held", 26360), (provider_id(2), "B-1", "approved", 0)]
    assert {d[1] for d in ledger["days"]} == {provider_id(0), provider_id(2)}
    assert (outbox / BATCH / "providers" / provider_id(1) / "B-1" / "annotated.xlsx").is_file()


def test_a_check_that_fails_only_with_several_invoices_holds_them_all(ctl, tmp_path, monkeypatch):
    real = checks._check_live

    def broken(live, *args):
        if len(live) > 1:
            raise KeyError("together")
        return real(live, *args)

    monkeypatch.setattr(checks, "_check_live", broken)
    result = batch_mod.run_batch(ctl.inbox, tmp_path / "out", config_mod.load(ROOT / "config"))
    assert [(inv.status, [f.rule for f in inv.findings], inv.total.held) for inv in result.invoices] == [
        ("held", ["X900"], 26360)] * 2


def test_a_job_error_inside_the_checks_is_not_taken_for_a_bug(ctl, tmp_path, monkeypatch):
    def refuse(*args):
        raise ConfigError("rates.toml is wrong.")

    monkeypatch.setattr(checks, "_check_live", refuse)
    r = cli(ctl.inbox, tmp_path / "out")
    assert r.exit_code == 3 and r.stderr == "reconcile: rates.toml is wrong.\n"
