"""Stage 3, report: figures as data, computed from a batch's result, the ledger and the registers.

    compliance  the figures of the compliance report (per provider and for the batch),
                one table per sheet, for `write.compliance` to lay out
    rows        what a batch run records for the trends report (one record per Asiakkaat row)
    trends      the figures of the trends report, per month, provider and city

Reports compute; they never write a file and never choose words (they name them by key).
"""
