"""File-level checks: whether a workbook is taken up at all (RULES.md section 1).

    F006  provider      the provider is in the register and approved for the billed month
    F008  billing_month the billed month is not after the batch's (else R225, a warning,
                        when it is more than LATE_MONTHS before it)
    F007  duplicates    the provider's invoice number is new: not in the ledger, not twice here

F006 and F008 are checked on every readable workbook and both are reported when
both apply; the first of them rejects the file. F007 is checked last, among
the files no other F rule rejects.
"""

from __future__ import annotations

import datetime as dt

from reconcile.check.work import Work
from reconcile.model import History, rejecting_rule
from reconcile.periods import month_end, months_between
from reconcile.text.format import month as fmt_month

LATE_MONTHS = 3


def file_checks(works: list[Work], providers: dict, history: History, month: dt.date) -> None:
    """F006, F008 (or R225), then F007; sets each work's `file_rule`."""
    for w in works:
        if w.invoice.fatal:
            w.file_rule = rejecting_rule(w.invoice, w.invoice.findings)
            continue
        provider(w, providers)
        billing_month(w, month)
        if any(f.rule in ("F006", "F008") for f in w.findings):
            w.file_rule = w.findings[0].rule
    duplicates(works, history)


def provider(w: Work, providers: dict) -> None:
    """F006: the provider is unknown, or its approval covers no day of the billed month."""
    billed = w.month
    first, last = billed, month_end(billed)
    p = providers.get(w.provider_id)
    if p is None:
        w.findings.append(w.header_finding("F006", "provider_id", fmt_month(billed), w.provider_id or "",
                                           reason="unknown"))
    elif p["approved_from"] > last or (p["approved_to"] is not None and p["approved_to"] < first):
        to = p["approved_to"].isoformat() if p["approved_to"] else ""
        w.findings.append(w.header_finding("F006", "provider_id", fmt_month(billed), w.provider_id or "",
                                           reason="not_approved", approved=f"{p['approved_from'].isoformat()}–{to}"))


def billing_month(w: Work, month: dt.date) -> None:
    """F008: a month after the batch's; else R225 (warning): more than LATE_MONTHS before it."""
    billed = w.month
    if billed > month:
        w.findings.append(w.header_finding("F008", "billing_month", fmt_month(month), fmt_month(billed)))
    elif months_between(billed, month) > LATE_MONTHS:
        w.findings.append(w.header_finding("R225", "billing_month", fmt_month(month),
                                           fmt_month(billed), months=months_between(billed, month)))


def duplicates(works: list[Work], history: History) -> None:
    """F007: the same provider and invoice number in the ledger or twice in this batch,
    among the files no other F rule rejects."""
    processed = {(r["provider_id"], r["invoice_no"]): r["batch"] for r in history.invoices.iter_rows(named=True)}
    candidates = [w for w in works if w.file_rule is None]
    files: dict[tuple, list[str]] = {}
    for w in candidates:
        files.setdefault((w.provider_id, w.invoice_no), []).append(w.invoice.source_file)
    for w in candidates:
        key = (w.provider_id, w.invoice_no)
        if key in processed or len(files[key]) > 1:
            # Where the number was seen: the earlier batch, or this batch's files (all the provider's own).
            where = processed.get(key) or ", ".join(files[key])
            w.findings.append(w.header_finding("F007", "invoice_no", where, w.invoice_no or "",
                                               batch=processed.get(key, ""), files=len(files[key])))
            w.file_rule = "F007"
