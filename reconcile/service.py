"""Check one workbook as a service: the registers read once, the ledger's history read-only.

Beside the pipeline, for callers that check many single workbooks in one
long-lived process (the portal's worker processes): `Checker` keeps the
registers and the ledger's history in memory and reads them again only when
their files change, then runs the same stages as `reconcile check`
(`batch.check_file`): intake, `invoice.read_invoice`, `check.check_batch`
on the workbook alone with the workbook's billed month as the batch. On
request it also writes the annotated copy (`write.annotate.write_annotated`,
as a run writes it) and returns its bytes. Nothing is written to the ledger,
the inbox or the outbox.

`CheckOutcome` is plain data (picklable, no frames): the invoice's status and
money, and each finding rendered for a provider in one language (rule, cell,
message, how to fix), with any henkilötunnus shortened (`messages.redact`)
and any other provider's Y-tunnus replaced by "another provider".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from reconcile import ledger as ledger_mod, template as template_mod
from reconcile.batch import _history
from reconcile.check import check_batch
from reconcile.config import Config
from reconcile.model import BatchResult, History, InvoiceResult, Registers
from reconcile.read import intake, invoice, registers as registers_mod
from reconcile.text import messages
from reconcile.write.annotate import write_annotated
from reconcile.write.csvs import cell_key

HISTORY_SECONDS = 30  # a PostgreSQL ledger's history is read again at most this often
REFUSING = ("F001", "F002")  # a file that must not be opened: never sent to a batch


@dataclass(frozen=True)
class FindingView:
    """One finding as a provider reads it."""

    rule: str
    severity: str
    effect: str
    cell: str  # `Läsnäolo!K7`, a sheet, or empty for the file as a whole
    message: str
    fix: str


@dataclass
class CheckOutcome:
    source_file: str
    sha256: str
    size: int
    provider_id: str | None
    invoice_no: str | None
    billing_month: str | None  # YYYY-MM
    lang: str
    status: str
    claimed: int = 0  # cents
    approved: int = 0
    held: int = 0
    rejected: int = 0
    findings: list[FindingView] = field(default_factory=list)
    whole_file_rejected: bool = False  # an F rule rejects the workbook as a whole: no annotated copy
    annotated: bytes | None = None

    @property
    def refused(self) -> FindingView | None:
        """The F001/F002 finding that keeps this file out of every batch, or None."""
        return next((f for f in self.findings if f.rule in REFUSING), None)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")


def _stamp(paths: list[Path]) -> tuple:
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(p), None, None))
    return tuple(out)


class Checker:
    """Checks single workbooks against registers read once (again when their files change)."""

    def __init__(self, inbox: Path, config: Config, ledger: str | None = None):
        self.inbox = Path(inbox)
        self.config = config
        self.ledger = ledger  # path or URL of the ledger; None: no history
        self._registers: tuple[tuple, Registers] | None = None
        self._history: tuple[tuple, History] | None = None

    def registers(self) -> Registers:
        folder = self.inbox / "register"
        key = _stamp(sorted(folder.iterdir()) if folder.is_dir() else [])
        if self._registers is None or self._registers[0] != key:
            self._registers = (key, registers_mod.read_registers(self.inbox, self.config))
        return self._registers[1]

    def history(self) -> History:
        """The ledger's history, read again when the SQLite file changes (PostgreSQL: after HISTORY_SECONDS)."""
        if not self.ledger:
            return History.empty()
        path = ledger_mod.ledger_path(self.ledger)
        if path is not None:
            key: tuple = _stamp([path, path.with_name(path.name + "-wal")])
        else:
            key = (int(time.monotonic() // HISTORY_SECONDS),)
        if self._history is None or self._history[0] != key:
            self._history = (key, _history(self.ledger))
        return self._history[1]

    def check(self, path: Path, source_file: str | None = None, lang: str | None = None,
              annotated: bool = False) -> CheckOutcome:
        """One workbook, as `reconcile check` checks it; `lang` overrides the provider's language."""
        registers = self.registers()
        sub = intake.submission(Path(path))
        if source_file is not None:
            sub = dataclasses.replace(sub, source_file=source_file)
        inv = invoice.read_invoice(sub, self.config)
        month = inv.header.billing_month or dt.date.today().replace(day=1)
        batch = month.strftime("%Y-%m")
        results, _ = check_batch([inv], registers, self.history(), self.config, batch)
        result = results[0]
        if lang:
            result.lang = lang
        return outcome(result, registers, batch, annotated)

    def template(self, provider_id: str, month: dt.date, lang: str | None = None) -> bytes:
        """The provider's invoice template for the month (`reconcile template`), as bytes."""
        with tempfile.TemporaryDirectory(prefix="reconcile-template-") as tmp:
            path = template_mod.write_template(self.registers(), self.config, provider_id, month,
                                               Path(tmp) / "template.xlsx", lang)
            return path.read_bytes()


def outcome(result: InvoiceResult, registers: Registers, batch: str, annotated: bool) -> CheckOutcome:
    """An `InvoiceResult` as plain data for a provider, with the annotated copy's bytes on request."""
    lang = result.lang
    views = []
    for f in sorted(result.findings, key=lambda f: (f.location.sheet or "", cell_key(f.location.cell), f.rule)):
        views.append(FindingView(
            rule=f.rule, severity=f.severity, effect=f.effect,
            cell=messages.redact(f.location.ref or f.location.sheet or ""),
            message=messages.redact(messages.provider_view(messages.message(f, lang), result.provider_id, lang)),
            fix=messages.redact(messages.provider_view(messages.fix(f, lang), result.provider_id, lang)),
        ))
    whole = result.rejected_by is not None
    total = result.total
    out = CheckOutcome(
        source_file=result.source_file, sha256=result.invoice.submission.sha256, size=result.invoice.submission.size,
        provider_id=result.provider_id, invoice_no=result.invoice_no,
        billing_month=result.billing_month.strftime("%Y-%m") if result.billing_month else None,
        lang=lang, status=result.status, claimed=total.claimed, approved=total.approved, held=total.held,
        rejected=total.rejected, findings=views, whole_file_rejected=whole,
    )
    if annotated and not whole:
        shell = BatchResult(batch=batch, run_id="check", started=dt.datetime.now(dt.timezone.utc), finished=None,
                            invoices=[result], register_findings=[], registers=registers)
        with tempfile.TemporaryDirectory(prefix="reconcile-check-") as tmp:
            out.annotated = write_annotated(result, shell, Path(tmp) / "annotated.xlsx").read_bytes()
    return out
