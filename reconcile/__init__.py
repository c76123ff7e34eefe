"""reconcile: checks service-voucher invoice workbooks against placement decisions.

The package reads as the path of a workbook from inbox to outbox:

    intake      which files a batch holds; safety checks before parsing (F001, F002)
    sheetdata   intake's short cut: a worksheet's rows judged by one grammar
    cells       how a Finnish person's typed value becomes a number, date or text
    sheets      finding sheets, header rows and columns by their fi/sv/en names
    registers   the decision and provider registers, validated
    invoice     one provider workbook into validated frames (F003-F005, V101-V107)
    crosscheck  the workbook against the registers and the ledger (F006-F008, R2xx)
    amounts     what is approved, held and rejected, item by item, in cents
    ledger      paid and held days across batches (SQLite)
    batch       one run of one batch: the stages above, then the writers
    write/      the files of the outbox, written last and swapped in atomically

`rules` is the one catalogue of every finding code (`messages` renders it in
fi/sv/en); `findings` the record a check returns; `model` the data between
stages; `config` the rates and settings; `cli` the thin command line. Beside
the pipeline: `template` (the blank workbook a provider fills in), `demo`
(a synthetic inbox), `lock`, `progress`.
"""

__version__ = "0.1.0"
CONTRACT_VERSION = "1"
RULES_VERSION = "1"
