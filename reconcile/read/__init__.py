"""Stage 1, read: from the files of a batch folder to validated frames.

    intake      which files a batch holds; the safety scan of zip and XML (F001, F002)
    sheetdata   intake's short cut: a worksheet's rows judged by one grammar
    cells       how a Finnish person's typed value becomes a number, date or text
    sheets      finding sheets, header rows and columns by their fi/sv/en names
    invoice     one provider workbook into validated frames (F003-F005, V101-V107)
    registers   the decision and provider registers, validated

Nothing here knows the ledger or writes a file.
"""
