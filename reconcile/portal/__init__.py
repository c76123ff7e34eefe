"""The web portal (CONTRACT.md section 10), beside the pipeline: `reconcile serve`.

    app        the Starlette application: pages, sessions, CSRF, who may see what; `serve` runs uvicorn
    accounts   accounts, one-time links, sign-in throttling, receipts and the audit log, in the ledger
    pool       checks and templates in a bounded pool of worker processes, off the event loop
    texts      the pages' words in fi/sv/en (findings come from text/messages)
    templates/ Jinja2 pages; static/ one stylesheet

Checking one workbook is `reconcile.service.Checker`; resolving held days and
signing off are `reconcile.resolve.finance` (as `reconcile resolve` and
`reconcile approve`); everything that touches the ledger goes through
`reconcile.ledger`.
"""
