"""reconcile: checks service-voucher invoice workbooks against placement decisions.

The package reads as the path of a workbook from inbox to outbox:

    read/       files of a batch, the safety scan, cells, sheets, invoices, registers
    check/      the workbook against the registers and the ledger; amounts in cents
    ledger/     paid and held days across batches: the one door to the ledger
    report/     figures computed from a batch's result, as data (the compliance report)
    batch       one run of one batch: the stages above, then the writers
    write/      the files of the outbox, written last and swapped in atomically

`text/` holds the one catalogue of every finding code (`rules`; `messages` renders it in
fi/sv/en); `findings` the record a check returns; `model` the data between
stages; `config` the rates and settings; `cli` the thin command line. Beside
the pipeline: `template` (the blank workbook a provider fills in), `demo`
(a synthetic inbox), `lock`, `progress`.
"""

__version__ = "0.1.0"
CONTRACT_VERSION = "1"
RULES_VERSION = "1"
