"""Stage 2, check: an invoice's frames against the registers and the ledger's history.

    crosscheck  the batch assembly and the rule families (F006-F008, R2xx, X900)
    amounts     what is approved, held and rejected, item by item, in integer cents

Checks return findings and results; they never raise for bad input and never write.
"""
