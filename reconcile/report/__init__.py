"""Reports across batches, read from the ledger and the registers only.

    rows     what a batch run records for the trends report (one record per Asiakkaat row)
    trends   the figures of the trends report, per month, provider and city
"""
