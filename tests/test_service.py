"""service.Checker: one workbook checked as `reconcile check` checks it, registers read once, history read-only."""

from __future__ import annotations

import io
import os

import openpyxl
import pytest
from portal_site import H1, P1, P2, ROOT, bill
from test_batch import make_registers

from reconcile import batch as batch_mod, config as config_mod, service
from reconcile.read import registers as registers_mod


@pytest.fixture
def cfg():
    return config_mod.load(ROOT / "config")


def test_check_matches_reconcile_check_and_renders_for_the_provider(tmp_path, cfg):
    inbox = tmp_path / "inbox"
    make_registers(inbox)
    path = bill(tmp_path / "x.xlsx", days=(9, 10, 11, 12, 13))  # five days, four decided: the 13th is column O
    checker = service.Checker(inbox, cfg)
    out = checker.check(path, source_file="lasku.xlsx", lang="en", annotated=True)
    reference = batch_mod.check_file(path, inbox, cfg)
    assert [(f.rule, f.cell) for f in out.findings] == [(f.rule, f.location.ref) for f in reference.findings]
    assert [(f.rule, f.cell) for f in out.findings] == [("R205", "Läsnäolo!O2")]
    assert (out.claimed, out.approved, out.rejected, out.held) == (25000, 20000, 5000, 0)
    assert (out.source_file, out.provider_id, out.invoice_no, out.billing_month) == ("lasku.xlsx", P1, "102", "2026-11")
    assert out.findings[0].message.startswith("The decision D-1 allows 4 days a week")
    wb = openpyxl.load_workbook(io.BytesIO(out.annotated))
    assert wb.sheetnames[0] == "Review" and wb["Läsnäolo"]["O2"].comment is not None
    assert not out.whole_file_rejected and out.refused is None


def test_registers_read_once_and_again_when_they_change(tmp_path, cfg, monkeypatch):
    inbox = tmp_path / "inbox"
    make_registers(inbox)
    reads = []
    real = registers_mod.read_registers
    monkeypatch.setattr(registers_mod, "read_registers", lambda *a: reads.append(1) or real(*a))
    checker = service.Checker(inbox, cfg)
    path = bill(tmp_path / "x.xlsx", days=(2,))
    checker.check(path)
    checker.check(path)
    assert len(reads) == 1
    providers = inbox / "register" / "providers.xlsx"
    os.utime(providers, ns=(providers.stat().st_atime_ns, providers.stat().st_mtime_ns + 10**9))
    checker.check(path)
    assert len(reads) == 2


def test_history_follows_the_ledger(tmp_path, cfg):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    make_registers(inbox)
    (inbox / "2026-11").mkdir()
    sent = bill(inbox / "2026-11" / "a.xlsx", invoice_no="7", days=(2,))
    checker = service.Checker(inbox, cfg, str(outbox / "ledger.sqlite"))
    assert checker.check(sent).findings == []  # no ledger yet: an empty history
    batch_mod.run_batch(inbox, outbox, cfg, batch="2026-11")
    again = checker.check(sent)
    assert [f.rule for f in again.findings] == ["F007"] and again.whole_file_rejected and again.annotated is None


def test_unreadable_file_is_refused_with_f001(tmp_path, cfg):
    inbox = tmp_path / "inbox"
    make_registers(inbox)
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 truncated")
    out = service.Checker(inbox, cfg).check(junk, annotated=True)
    assert out.refused is not None and out.refused.rule == "F001" and out.annotated is None


def test_another_providers_figures_never_show(tmp_path, cfg):
    inbox = tmp_path / "inbox"
    make_registers(inbox)
    # P1 bills D-2, which is P2's decision (R203): the message must not name P2.
    path = bill(tmp_path / "x.xlsx", decision="D-2", hetu=H1, days=(2,))
    out = service.Checker(inbox, cfg).check(path, lang="en")
    assert any(f.rule in ("R202", "R203") for f in out.findings)
    assert all(P2 not in f.message and P2 not in f.fix for f in out.findings)
