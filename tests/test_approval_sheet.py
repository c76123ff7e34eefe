"""approval.xlsx says why and who: the deciding findings of each invoice, its sign-off, the held day's
cell with its sheet; `reconcile approve --all-approved` (issue 14, items 3-4)."""

from __future__ import annotations

import getpass
from pathlib import Path

import wb
from click.testing import CliRunner
from openpyxl import load_workbook
from test_batch import D, H1, P1, P2, ROOT, make_registers, write_bill

from reconcile.cli import main

UNKNOWN = "1572860-0"  # a valid Y-tunnus that is not in the provider register


def invoke(*args: str):
    return CliRunner().invoke(main, [*args, "--config", str(ROOT / "config")])


def invoices_sheet(outbox: Path) -> dict[str, dict]:
    """The Finnish `Laskut` sheet of approval.xlsx, by invoice number, each row by header."""
    ws = load_workbook(outbox / "2026-11" / "finance" / "approval.xlsx")["Laskut"]
    rows = list(ws.iter_rows(values_only=True))
    heads = rows[0]
    return {r[heads.index("Laskun numero")]: dict(zip(heads, r)) for r in rows[1:] if r[heads.index("Laskun numero")]}


def batch(tmp_path: Path) -> tuple[Path, Path]:
    inbox = tmp_path / "inbox"
    make_registers(inbox)
    (inbox / "2026-11").mkdir()
    # D-1 is decided 4 days a week: Mon 2 to Fri 6 Nov bills 5, so Fri 6 Nov is rejected (R205, -50.00).
    write_bill(inbox / "2026-11" / "yksi.xlsx", P1, "7", D(2026, 11, 1), "D-1", H1, [2, 3, 4, 5, 6])
    write_bill(inbox / "2026-11" / "kaksi.xlsx", P2, "8", D(2026, 11, 1), "D-2", wb.HETU[2], [2])
    write_bill(inbox / "2026-11" / "vieras.xlsx", UNKNOWN, "9", D(2026, 11, 1), "D-2", wb.HETU[2], [3])
    outbox = tmp_path / "out"
    r = invoke("run", "--inbox", str(inbox), "--outbox", str(outbox), "--quiet")
    assert r.exit_code == 0, r.output
    return inbox, outbox


def test_the_invoices_sheet_names_the_deciding_findings(tmp_path):
    _, outbox = batch(tmp_path)
    rows = invoices_sheet(outbox)
    assert rows["9"]["Ratkaisevat havainnot"].startswith("F006: ")  # rejected as a whole: the rule that did it
    why = rows["7"]["Ratkaisevat havainnot"]
    assert why.startswith("R205: ") and why.endswith("(-50,00\u00a0€)")  # partly approved: the rule and its euros
    assert rows["8"]["Ratkaisevat havainnot"] in (None, "")  # approved in full: nothing decided against it
    assert all(rows[n]["Hyväksyjä"] in (None, "") for n in ("7", "8", "9"))  # nobody has signed off yet


def test_approve_all_approved_signs_off_every_approved_invoice_and_the_sheet_shows_who(tmp_path):
    inbox, outbox = batch(tmp_path)
    base = ("approve", "--inbox", str(inbox), "--outbox", str(outbox), "--batch", "2026-11")
    r = invoke(*base, "--all-approved")
    assert r.exit_code == 0, r.output
    assert f"Signed off invoice 8 of {P2}" in r.stdout  # the only invoice approved in full
    assert "Signed off invoice 7" not in r.stdout and "invoice 9" not in r.stdout
    rows = invoices_sheet(outbox)
    assert rows["8"]["Hyväksyjä"] == getpass.getuser() and rows["8"]["Hyväksytty"]
    assert rows["7"]["Hyväksyjä"] in (None, "")
    again = invoke(*base, "--all-approved")
    assert again.exit_code == 0 and "has no approved invoice waiting for sign-off" in again.stdout
    assert invoke(*base).exit_code == 2  # neither --invoice nor --all-approved


def test_the_held_days_sheet_names_the_sheet_of_the_cell(tmp_path):
    inbox = tmp_path / "inbox"
    make_registers(inbox)
    (inbox / "2026-11").mkdir()
    # The same client and day on two invoices of one provider: R216 holds the day on both.
    write_bill(inbox / "2026-11" / "a.xlsx", P1, "7", D(2026, 11, 1), "D-1", H1, [2])
    write_bill(inbox / "2026-11" / "b.xlsx", P1, "17", D(2026, 11, 1), "D-1", H1, [2])
    outbox = tmp_path / "out"
    assert invoke("run", "--inbox", str(inbox), "--outbox", str(outbox), "--quiet").exit_code == 0
    ws = load_workbook(outbox / "2026-11" / "finance" / "approval.xlsx")["Pidätetyt päivät"]
    rows = list(ws.iter_rows(values_only=True))
    cells = [r[rows[0].index("Solu")] for r in rows[1:] if r[0]]
    # write_bill puts the client on row 2 of Läsnäolo: A and B are the keys, C is day 1, D day 2
    assert cells == ["Läsnäolo!D2", "Läsnäolo!D2"]
