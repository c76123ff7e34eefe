"""Finance's answers on held days, and what to pay (CONTRACT.md sections 7 and 8).

Beside the pipeline, after a run: a held day (R216, R218) waits in the
ledger until finance answers it in the held-days sheet of approval.xlsx (or
a CSV) and runs `reconcile resolve`.

    answers   the filled sheet or CSV, read into answer lines (cell or line number kept)
    decide    the rules of section 7: which lines are taken, which refused and why
    money     the answers applied to a batch's results: days, rows re-priced, invoices
    finance   resolve and sign-off: the batch re-checked as its run saw the ledger,
              the answers applied, the outbox rewritten and the ledger recorded in one step
"""
