"""The workbooks for people: every .xlsx of a batch outbox, written into its staging folder.

Last stage, called by `write.write_outbox` after the CSV files. Per
submission: providers/<Y-tunnus>/<invoice>/annotated.xlsx and anomalies.xlsx
(in the provider's language); a workbook rejected as a whole gets only its
anomalies.xlsx, under providers/ when its provider and invoice number could
be read, else under rejected/<source file>/, as do duplicates (F007). Then
finance/approval.xlsx and audit/compliance.xlsx, in the finance language.

Path parts are made file-name safe; two submissions that would land in the
same folder get `__2`, `__3`, ... in the order of the batch, so nothing is
overwritten. The time spent on annotated copies goes to
`result.timings["annotate"]`; each submission done is a `progress.step`.
"""

from __future__ import annotations

import time
from pathlib import Path

from reconcile import progress
from reconcile.config import Config
from reconcile.model import BatchResult, InvoiceResult
from reconcile.write.annotate import write_annotated
from reconcile.write.anomalies import write_anomalies
from reconcile.write.approval_xlsx import write_approval
from reconcile.write.compliance import write_compliance
from reconcile.write.xlsxutil import safe_name


def invoice_folder(inv: InvoiceResult) -> Path:
    """Where a submission's files go, relative to the batch outbox (before de-duplication)."""
    duplicate = inv.status == "duplicate" or any(f.rule == "F007" for f in inv.findings)
    if inv.provider_id and inv.invoice_no and not duplicate:
        return Path("providers") / safe_name(inv.provider_id) / safe_name(inv.invoice_no)
    return Path("rejected") / safe_name(inv.source_file)


def write_workbooks(result: BatchResult, out_dir: Path, config: Config, lang: str | None = None) -> None:
    """Write every workbook of the batch under `out_dir`; `lang` is the finance and audit language."""
    out_dir = Path(out_dir)
    used: set[Path] = set()
    for done, inv in enumerate(result.invoices, 1):
        folder = invoice_folder(inv)
        n = 1
        while folder in used:
            n += 1
            folder = folder.with_name(f"{invoice_folder(inv).name}__{n}")
        used.add(folder)
        target = out_dir / folder
        if not inv.invoice.fatal and folder.parts[0] == "providers":
            clock = time.perf_counter()
            write_annotated(inv, result, target / "annotated.xlsx")
            result.timings["annotate"] = result.timings.get("annotate", 0.0) + time.perf_counter() - clock
        write_anomalies(inv, result.batch, target / "anomalies.xlsx")
        progress.step("write", done, len(result.invoices))
    lang = lang or config.language
    write_approval(result, out_dir / "finance" / "approval.xlsx", lang)
    write_compliance(result, out_dir / "audit" / "compliance.xlsx", config, lang)
