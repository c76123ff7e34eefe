"""One `reconcile report`: the registers and the ledger in, the trends report out.

    registers.read_registers + ledger (read-only: Ledger.trend_record)
    -> report.trends.compute -> write.trends_xlsx into outbox/reports/<from>_<to>/

The report never opens an invoice workbook, never writes to the ledger and
takes no lock: it reads while runs, resolutions and the portal work on the
same ledger (a ledger of an older version is read as it is).
"""

from __future__ import annotations

from pathlib import Path

from reconcile import ledger as ledger_mod
from reconcile.batch import BATCH_RE
from reconcile.config import Config
from reconcile.errors import LedgerError, UsageError
from reconcile.read import registers as registers_mod
from reconcile.report import trends
from reconcile.write import trends_xlsx


def report(inbox: Path, outbox: Path, config: Config, first: str, last: str, lang: str,
           ledger: str | None = None) -> tuple[Path, trends.Trends]:
    """Compute the trends of the batches `first`..`last` and write `outbox/reports/<first>_<last>/`."""
    for option, month in (("--from", first), ("--to", last)):
        if not BATCH_RE.match(month or ""):
            raise UsageError(f"{option} {month!r} is not a month like 2026-11.")
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}.")
    where = ledger_mod.location(config.ledger, outbox, ledger)
    registers = registers_mod.read_registers(inbox, config)
    if not ledger_mod.exists(where):
        raise LedgerError(f"There is no ledger at {ledger_mod.describe(where)}.",
                          "Run `reconcile run` first, or point --ledger at the ledger.")
    with ledger_mod.open_ledger(where, readonly=True, older_ok=True) as book:
        record = book.trend_record(first, last)
    figures = trends.compute(record, registers.decisions, first, last)
    folder = outbox / "reports" / f"{first}_{last}"
    trends_xlsx.write_report(figures, registers.providers, folder, lang)
    return folder, figures
