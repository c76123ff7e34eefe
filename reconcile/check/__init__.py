"""Stage 2, check: an invoice's frames against the registers and the ledger's history.

    batch            the batch assembly: every workbook through the families below, one
                     result each; X900 when a check has a bug (`check_batch`, `check_invoices`)
    files            F006, F008 (R225), F007: whether a workbook is checked at all
    rows             each `Asiakkaat` row's verdict: R201, R202, R203, R223, R218
    days             each day cell's outcome: R222, R204, R206, R217, R216, R205; R207, R226
    amounts          what is approved, held and rejected, item by item, in integer cents
    amount_findings  R208-R213, R221, R220: the figures against the days and the decision
    compliance       R214, R215, R219; R224 on the register
    work             what they share: one submission on its way, frame helpers

Checks return findings and results; they never raise for bad input and never write.
"""

from reconcile.check.batch import check_batch, check_invoices, held_for_error, register_findings
from reconcile.check.work import rates_for

__all__ = ["check_batch", "check_invoices", "held_for_error", "rates_for", "register_findings"]
