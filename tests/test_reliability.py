"""A hostile batch: every kind of broken or malicious workbook beside one valid control invoice.

The 35 kinds of `hostile.py` (intake level: F001/F002, or safe to open but from
an unknown provider: F006) and the reader-level kinds built here from a clean
invoice (formulas without cached values, error cells, merged header cells,
hidden sheets named like the required ones, 32,767-character cells, odd file
names, formula-injection text, an external link) go into one batch folder.
`python -m reconcile run` runs on it as a subprocess, measured for peak memory (its wall time is printed,
not asserted); the test asserts what each file gets, that the control
invoice is approved to the cent, that no input changed and that nothing was
written outside the outbox.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import hostile
import openpyxl
import pytest
import wb
from reliability import BATCH, CLAIMED_CENTS, Control

ROOT = Path(__file__).resolve().parents[1]
HANG_S = 180  # a run that takes this long has hung (measured 2-3 s on 2 cores; bench/ keeps times)
RSS_LIMIT_MIB = 512  # measured about 130 MiB
INJECTION = '=HYPERLINK("http://x","y")'

# The reader-level kinds: file name -> (status, claimed, approved, findings as (rule, cell)).
READER_KINDS: dict[str, tuple[str, str, str, list[tuple[str, str]]]] = {
    "control.xlsx": ("approved", "263.60", "263.60", []),
    "formula without cache.xlsx": ("partly_approved", "163.60", "150.00", [("V102", "Asiakkaat!F2"), ("R220", "Lasku!B6")]),
    "error cells.xlsx": ("rejected", "250.00", "0.00", [("V107", "Asiakkaat!G2"), ("V107", "Asiakkaat!I3"), ("R220", "Lasku!B6")]),
    "merged headers.xlsx": ("approved", "263.60", "263.60", []),
    "hidden required sheet.xlsx": ("rejected", "263.60", "0.00", [("F003", "")]),
    "hidden decoy sheets.xlsx": ("approved", "263.60", "263.60", []),
    "long cells valid.xlsx": ("approved", "263.60", "263.60", []),
    "injection.xlsx": ("approved", "263.60", "263.60", [("R208", "Asiakkaat!D2"), ("V105", "Läsnäolo!L2")]),
    "linked valid.xlsx": ("approved", "263.60", "263.60", []),
    "lasku marras; 2026 (2).xlsx": ("approved", "263.60", "263.60", []),
    "Åbo ärende – 😀 ½.xlsx": ("approved", "263.60", "263.60", []),
    ".piilo lasku.xlsx": ("approved", "263.60", "263.60", []),
}


def write_reader_kinds(ctl: Control, folder: Path, scratch: Path) -> None:
    """One file per READER_KINDS entry, each from its own provider (k) with its own clients."""
    ctl.write(0, "C-0", folder / "control.xlsx")

    header, clients, attendance = ctl.invoice(1, "F-1")
    clients[0]["fee_cents"] = wb.Formula("=50*2")  # openpyxl stores the formula without its value
    wb.write_invoice(folder / "formula without cache.xlsx", header, clients, attendance)

    header, clients, attendance = ctl.invoice(2, "E-2")
    clients[0]["meals"], clients[1]["travel_cents"] = "#N/A", "#REF!"
    wb.write_invoice(folder / "error cells.xlsx", header, clients, attendance, engine="xlsxwriter")

    path = ctl.write(3, "M-3", folder / "merged headers.xlsx", start_row=2, title="Marraskuu 2026")
    book = openpyxl.load_workbook(path)
    book["Asiakkaat"].merge_cells("A1:F1")
    book["Asiakkaat"]["M2"] = "Lisätiedot"
    book["Asiakkaat"].merge_cells("M2:N2")
    book["Läsnäolo"].merge_cells("A1:H1")
    book.save(path)

    ctl.write(4, "H-4", folder / "hidden required sheet.xlsx", hidden=["Asiakkaat"])
    decoys = {"Invoice": [["Y-tunnus", "9999999-9"], ["Laskun numero", "X"]], "Clients": [["Päätösnumero"], ["D-X"]]}
    ctl.write(5, "H-5", folder / "hidden decoy sheets.xlsx", extra_sheets=decoys, hidden=list(decoys))

    header, clients, attendance = ctl.invoice(6, "L-6")
    clients[0]["name"], clients[1]["Lisätiedot"] = "å" * 32767, "x" * 32767
    wb.write_invoice(folder / "long cells valid.xlsx", header, clients, attendance)

    header, clients, attendance = ctl.invoice(7, INJECTION)
    clients[0].update(name=INJECTION, Lisätiedot="@SUM(A1)")
    clients[1].update(name="+1", Lisätiedot="-1")
    attendance[0][10] = INJECTION
    wb.write_invoice(folder / "injection.xlsx", header, clients, attendance, engine="xlsxwriter")

    linked = hostile._external_link(scratch, ctl.write(8, "X-8", scratch / "external base.xlsx"))
    linked.rename(folder / "linked valid.xlsx")
    for k, name in ((9, "lasku marras; 2026 (2).xlsx"), (10, "Åbo ärende – 😀 ½.xlsx"), (11, ".piilo lasku.xlsx")):
        ctl.write(k, f"N-{k}", folder / name)


def tree(root: Path) -> dict[str, str]:
    """Every file under `root` (relative path -> sha256)."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


MEASURE = """
import resource, subprocess, sys, time
started = time.monotonic()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.monotonic() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stdout.write(f"{proc.returncode} {wall:.2f} {peak}\\n" + proc.stdout)
sys.stderr.write(proc.stderr)
"""


def run_measured(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, float, float, str, str]:
    """Run `python -m reconcile ARGS` from a fresh helper process: (exit, wall s, peak RSS MiB, stdout, stderr).

    The helper has no other children, so RUSAGE_CHILDREN's peak is the run's own.
    """
    proc = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "reconcile", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=HANG_S)
    first, _, stdout = proc.stdout.partition("\n")
    code, wall, peak_kib = first.split()
    return int(code), float(wall), int(peak_kib) / 1024, stdout, proc.stderr


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    inbox, outbox, scratch, tmpdir = root / "inbox", root / "outbox", root / "scratch", root / "tmp"
    folder = inbox / BATCH
    folder.mkdir(parents=True)
    tmpdir.mkdir()
    ctl = Control(inbox, providers=12)
    files = hostile.write_all(folder, hostile.base_workbook(scratch / "base.xlsx"))
    write_reader_kinds(ctl, folder, scratch)
    before = tree(root)
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(ROOT)}
    code, wall, peak, stdout, stderr = run_measured(
        ["run", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config")], root, env)
    print(f"\nhostile batch: {len(tree(folder))} files, {wall:.1f} s, peak RSS {peak:.0f} MiB")
    return {"root": root, "outbox": outbox / BATCH, "files": files, "before": before, "code": code, "wall": wall,
            "peak": peak, "stdout": stdout, "stderr": stderr, "ctl": ctl}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def by_file(run: dict) -> tuple[dict[str, dict], dict[str, list[tuple[str, str]]]]:
    approval = {r["source_file"]: r for r in rows(run["outbox"] / "finance" / "approval.csv")}
    found: dict[str, list[tuple[str, str]]] = {}
    for r in rows(run["outbox"] / "audit" / "findings.csv"):
        found.setdefault(r["source_file"], []).append((r["rule"], r["cell"]))
    return approval, found


@pytest.mark.slow
def test_hostile_batch_exits_0_within_bounds_and_without_traceback(hostile_run):
    assert hostile_run["code"] == 0, hostile_run["stderr"]
    assert "Traceback" not in hostile_run["stderr"] + hostile_run["stdout"]
    assert hostile_run["stderr"] == ""
    assert hostile_run["peak"] < RSS_LIMIT_MIB
    assert len(hostile.CASES) + len(READER_KINDS) - 1 >= 25  # kinds of bad file, the control aside


@pytest.mark.slow
@pytest.mark.parametrize("case", hostile.CASES, ids=lambda c: c.name)
def test_each_hostile_file_is_rejected_with_a_file_level_finding(hostile_run, case):
    approval, found = by_file(hostile_run)
    name = hostile_run["files"][case.name].name
    row = approval[name]
    assert (row["status"], row["approved_eur"], row["held_eur"]) == ("rejected", "0.00", "0.00")
    file_level = [f for f in found[name] if f[0].startswith("F")]
    # Files that are safe to open come from hostile.base_workbook's provider, who is not in the register.
    assert [rule for rule, _ in file_level] == [case.rule or "F006"]


@pytest.mark.slow
@pytest.mark.parametrize("name", READER_KINDS)
def test_reader_level_kinds_get_exactly_their_findings(hostile_run, name):
    approval, found = by_file(hostile_run)
    status, claimed, approved, findings = READER_KINDS[name]
    row = approval[name]
    assert (row["status"], row["claimed_eur"], row["approved_eur"]) == (status, claimed, approved)
    assert found.get(name, []) == findings


@pytest.mark.slow
def test_control_invoice_is_processed_normally(hostile_run):
    approval, found = by_file(hostile_run)
    row = approval["control.xlsx"]
    ctl = hostile_run["ctl"]
    assert (row["provider_id"], row["invoice_no"], row["billing_month"]) == (ctl_provider(ctl, 0), "C-0", BATCH)
    assert (row["claimed_eur"], row["approved_eur"], row["held_eur"], row["rejected_eur"], row["status"]) == (
        f"{CLAIMED_CENTS // 100}.{CLAIMED_CENTS % 100:02d}", "263.60", "0.00", "0.00", "approved")
    assert "control.xlsx" not in found
    folder = hostile_run["outbox"] / "providers" / ctl_provider(ctl, 0) / "C-0"
    assert sorted(p.name for p in folder.iterdir()) == ["annotated.xlsx", "anomalies.xlsx"]


def ctl_provider(ctl: Control, k: int) -> str:
    return ctl.invoice(k, "")[0]["provider_id"]


@pytest.mark.slow
def test_inputs_unchanged_and_nothing_written_outside_the_outbox(hostile_run):
    after = tree(hostile_run["root"])
    new = {p for p in after if p not in hostile_run["before"]}
    assert all(p.startswith("outbox/") for p in new), sorted(p for p in new if not p.startswith("outbox/"))
    assert {p: after[p] for p in hostile_run["before"]} == hostile_run["before"]
    assert os.listdir(hostile_run["root"] / "tmp") == []
    names = {p.split("/")[1] for p in new}
    assert names == {BATCH, "ledger.sqlite", "ledger.sqlite.lock", ".reconcile.lock"}


@pytest.mark.slow
def test_injection_text_is_defused_and_external_links_never_reach_an_output(hostile_run):
    out = hostile_run["outbox"]
    approval, _ = by_file(hostile_run)
    assert approval["injection.xlsx"]["invoice_no"] == "'" + INJECTION
    v105 = [r for r in rows(out / "audit" / "findings.csv") if r["rule"] == "V105"]
    assert [(r["found"], r["invoice_no"]) for r in v105] == [("'" + INJECTION, "'" + INJECTION)]
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"palkat" not in data and b"salaiset" not in data, path
    manifest = json.loads((out / "audit" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["invoices"] == len(hostile.CASES) + len(READER_KINDS)


def test_a_workbook_without_an_extension_is_read(tmp_path):
    """File names mean nothing (CONTRACT.md section 2): openpyxl alone would refuse this one by its name."""
    from reconcile import config
    from reconcile.read import intake, invoice

    ctl = Control(tmp_path / "inbox", providers=1)
    path = ctl.write(0, "N-0", tmp_path / "lasku")
    inv = invoice.read_invoice(intake.submission(path), config.load(ROOT / "config"))
    assert [(f.rule, f.location.ref) for f in inv.findings] == []
