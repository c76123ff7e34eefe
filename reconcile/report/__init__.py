"""Stage 3, report: figures computed from a batch's result and the registers, as data.

    compliance  the figures of the compliance report (per provider and for the batch),
                one table per sheet, for `write.compliance` to lay out

Reports compute; they never write a file and never choose words (they name them by key).
"""
