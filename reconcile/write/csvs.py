"""The outbox's data files: `audit/findings.csv` and `finance/approval.csv` (CONTRACT.md section 3).

Both flatten the `BatchResult`: one row per finding, one row per workbook.
UTF-8, comma separated, a header row, rows in a stable order so a rerun of
the same inputs writes the same bytes.

Text that came from a workbook and starts with `=`, `+`, `-`, `@`, a tab or a
carriage return gets a leading `'` (OWASP's advice against CSV injection).
The program's own euro figures (`amount_eur` such as `-45.00`) are numbers,
not text from a workbook, and are written as they are.

Privacy: no full henkilötunnus is ever written to findings.csv; `expected`,
`found` and `message` pass through `messages.redact` (`131052-****`).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from reconcile.text import messages
from reconcile.findings import Finding
from reconcile.model import BatchResult, InvoiceResult
from reconcile.text.format import euros
from reconcile.write import make_dirs

FINDINGS_COLUMNS = (
    "run_id", "batch", "provider_id", "invoice_no", "source_file", "sheet", "cell", "rule",
    "severity", "effect", "decision_id", "date", "expected", "found", "amount_eur", "message",
)
APPROVAL_COLUMNS = (
    "batch", "provider_id", "invoice_no", "billing_month", "source_file",
    "claimed_eur", "approved_eur", "held_eur", "rejected_eur", "status",
)
RESOLUTION_COLUMNS = (
    "batch", "provider_id", "invoice_no", "decision_id", "date", "rule", "resolution",
    "amount_eur", "resolved_by", "resolved_at", "reason",
)
PAYMENT_COLUMNS = (
    "batch", "provider_id", "provider_name", "invoice_no", "kind", "amount_eur", "signed_off_by", "signed_off_at",
)
NUMERIC = {"amount_eur", "claimed_eur", "approved_eur", "held_eur", "rejected_eur"}
_CELL_RE = re.compile(r"^([A-Z]+)(\d+)$")


def safe_text(value: str) -> str:
    """A text field made harmless for spreadsheet programs (OWASP CSV injection)."""
    if value and value[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def cell_key(cell: str | None) -> tuple[int, int, str]:
    """`K7` -> (7, column number, ""): sort by row, then column; anything else after."""
    match = _CELL_RE.match(cell or "")
    if not match:
        return (0, 0, cell or "")
    letters, row = match.groups()
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - 64
    return (int(row), column, "")


def _finding_rows(result: BatchResult, lang: str) -> list[dict[str, str]]:
    owners: list[tuple[Finding, InvoiceResult | None]] = [(f, None) for f in result.register_findings]
    for inv in result.invoices:
        owners.extend((f, inv) for f in inv.findings)
    keyed = []
    for f, inv in owners:
        source_file = f.location.source_file or (inv.source_file if inv else "")
        row = {
            "run_id": result.run_id,
            "batch": result.batch,
            "provider_id": f.provider_id or (inv.provider_id if inv else None) or "",
            "invoice_no": f.invoice_no or (inv.invoice_no if inv else None) or "",
            "source_file": source_file,
            "sheet": f.location.sheet or "",
            "cell": f.location.ref,
            "rule": f.rule,
            "severity": f.severity,
            "effect": f.effect,
            "decision_id": f.decision_id or "",
            "date": f.date.isoformat() if f.date else "",
            "expected": messages.redact(str(f.expected)),
            "found": messages.redact(str(f.found)),
            "amount_eur": euros(f.amount_cents),
            "message": messages.message(f, lang),
        }
        key = (source_file, row["sheet"], cell_key(f.location.cell), f.rule, row["decision_id"],
               row["date"], row["expected"], row["found"], row["provider_id"], row["invoice_no"])
        keyed.append((key, row))
    keyed.sort(key=lambda kr: kr[0])
    return [row for _, row in keyed]


def _approval_rows(result: BatchResult) -> list[dict[str, str]]:
    rows = []
    for inv in result.invoices:
        total = inv.total
        rows.append(
            {
                "batch": result.batch,
                "provider_id": inv.provider_id or "",
                "invoice_no": inv.invoice_no or "",
                "billing_month": inv.billing_month.strftime("%Y-%m") if inv.billing_month else "",
                "source_file": inv.source_file,
                "claimed_eur": euros(total.claimed),
                "approved_eur": euros(total.approved),
                "held_eur": euros(total.held),
                "rejected_eur": euros(total.rejected),
                "status": inv.status,
            }
        )
    rows.sort(key=lambda r: (r["source_file"], r["provider_id"], r["invoice_no"]))
    return rows


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    make_dirs(path.parent)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row[c] if c in NUMERIC else safe_text(row[c]) for c in columns])


def write_findings(result: BatchResult, path: Path, lang: str) -> None:
    """`audit/findings.csv`: every finding of the batch, messages in the finance language."""
    _write(path, FINDINGS_COLUMNS, _finding_rows(result, lang))


def write_approval(result: BatchResult, path: Path) -> None:
    """`finance/approval.csv`: one row per workbook of the batch."""
    _write(path, APPROVAL_COLUMNS, _approval_rows(result))


def write_resolutions(result: BatchResult, path: Path) -> None:
    """`finance/resolutions.csv`: every answer on the batch's held days (CONTRACT.md section 7), oldest first."""
    rows = [{**{c: str(r.get(c) or "") for c in RESOLUTION_COLUMNS}, "amount_eur": euros(r["amount_cents"])}
            for r in result.resolutions]
    _write(path, RESOLUTION_COLUMNS, rows)


def write_payments(result: BatchResult, path: Path) -> None:
    """`finance/payments.csv`: what to pay, one row per sign-off (CONTRACT.md section 8)."""
    rows = [{**{c: str(p.get(c) or "") for c in PAYMENT_COLUMNS}, "amount_eur": euros(p["amount_cents"])}
            for p in result.payments]
    _write(path, PAYMENT_COLUMNS, rows)
