"""Data protection: who may read what a run writes, and where a henkilötunnus may appear.

Outbox files and the ledger are created for the owner and the group only
(files 0o640, folders 0o750, further masked by the umask). No full
henkilötunnus reaches the terminal, findings.csv, approval.csv, manifest.json
or any workbook but the provider's own annotated copy (which is its own
workbook given back).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import wb
from reliability import BATCH, Control, client_hetu

ROOT = Path(__file__).resolve().parents[1]
INVALID_HETU = "311299-999X"  # right shape, wrong check character


def run(args: list[str], umask: int | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reconcile", *args, "--config", str(ROOT / "config")],
                          capture_output=True, text=True, preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


@pytest.fixture
def ctl(tmp_path) -> Control:
    """Provider 0 bills its own clients; provider 1 bills a client of provider 0 (R202 on D-1-1), an
    invalid henkilötunnus (V104) and writes henkilötunnukset into its notes."""
    ctl = Control(tmp_path / "inbox", providers=2)
    (ctl.inbox / BATCH).mkdir()
    ctl.write(0, "A-1", ctl.inbox / BATCH / "a.xlsx")
    header, clients, attendance = ctl.invoice(1, "B-1")
    clients[0]["hetu"] = attendance[0]["hetu"] = client_hetu(0, 1)
    clients[1]["hetu"] = attendance[1]["hetu"] = INVALID_HETU
    clients[0]["Lisätiedot"] = f"ks. {client_hetu(1, 1)} ja {client_hetu(0, 2)}"
    wb.write_invoice(ctl.inbox / BATCH / "b.xlsx", header, clients, attendance)
    return ctl


@pytest.mark.slow
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_outbox_and_ledger_are_private_to_owner_and_group(ctl, tmp_path, umask):
    outbox, ledger = tmp_path / "out", tmp_path / "books" / "ledger.sqlite"
    done = run(["run", "--inbox", str(ctl.inbox), "--outbox", str(outbox), "--ledger", str(ledger)], umask)
    assert done.returncode == 0, done.stderr
    paths = [outbox, *outbox.rglob("*"), ledger.parent, *ledger.parent.iterdir()]
    assert {p.name for p in ledger.parent.iterdir()} == {"ledger.sqlite", "ledger.sqlite.lock"}
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in paths}
    want = {p: (0o750 if p.is_dir() else 0o640) & ~umask for p in paths}
    assert modes == want
    assert len(paths) > 10


@pytest.mark.slow
def test_no_full_henkilotunnus_in_terminal_logs_or_outputs_but_the_annotated_copy(ctl, tmp_path):
    outbox = tmp_path / "out"
    done = run(["run", "--inbox", str(ctl.inbox), "--outbox", str(outbox)])
    assert done.returncode == 0, done.stderr
    checked = [run(["check", "--inbox", str(ctl.inbox), "--outbox", str(outbox), str(ctl.inbox / BATCH / name)])
               for name in ("a.xlsx", "b.xlsx")]
    assert [c.returncode for c in checked] == [1, 1]  # a.xlsx is F007 now: processed by the run
    texts = {"run stdout": done.stdout, "run stderr": done.stderr}
    texts.update({f"check {i} {s}": getattr(c, s) for i, c in enumerate(checked) for s in ("stdout", "stderr")})
    searched = []
    for path in sorted((outbox / BATCH).rglob("*")):
        if path.is_file() and path.name != "annotated.xlsx":
            searched.append(path.relative_to(outbox / BATCH).as_posix())
            texts[searched[-1]] = readable(path)
    assert {"audit/findings.csv", "audit/manifest.json", "finance/approval.csv", "finance/approval.xlsx",
            "audit/compliance.xlsx"} <= set(searched)
    assert sum(1 for p in searched if p.endswith("anomalies.xlsx")) == 2  # one per invoice
    rules = {line.split(",")[7] for line in texts["audit/findings.csv"].splitlines()[1:]}
    assert {"R202", "V104"} <= rules  # findings that are about a henkilötunnus
    for hetu in [*ctl.hetus(), INVALID_HETU]:
        leaks = [where for where, text in texts.items() if hetu in text or hetu.lower() in text]
        assert leaks == [], hetu
    assert f"{client_hetu(0, 1)[:7]}****" in texts["audit/findings.csv"]
    # The search does find a henkilötunnus where one is: in the provider's own workbook given back.
    annotated = next((outbox / BATCH / "providers").glob("*/B-1/annotated.xlsx"))
    assert client_hetu(0, 1) in readable(annotated)


def readable(path: Path) -> str:
    """A file's text: a workbook's XML parts joined, anything else as UTF-8."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    return path.read_text(encoding="utf-8")


def test_job_error_messages_shorten_a_henkilotunnus(ctl, tmp_path):
    from openpyxl import load_workbook

    path = ctl.inbox / "register" / "decisions.xlsx"
    book = load_workbook(path)
    book.active["B2"] = INVALID_HETU
    book.save(path)
    done = run(["run", "--inbox", str(ctl.inbox), "--outbox", str(tmp_path / "out")])
    assert done.returncode == 3
    assert "Päätökset!B2" in done.stderr and "311299-****" in done.stderr
    assert INVALID_HETU not in done.stderr + done.stdout
