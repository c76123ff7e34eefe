"""The ledger: paid and held days across batches, the one door every command goes through.

    open_ledger(url_or_path, readonly=False, holder=None) -> Ledger
        the ledger at a path, sqlite:/// or postgresql:// URL; `holder` takes its writer lock
    exists(url_or_path), location(config_ledger, outbox, override), describe(url_or_path)

    store       the Ledger interface the pipeline uses (history, record_batch, approve, ...)
    schema      every table (one SQLAlchemy MetaData), the schema version and its migrations
    connect     paths and URLs to engines; database errors in plain words, never a password
    locking     one writer per ledger: a lock file (SQLite) or an advisory lock (PostgreSQL)
"""

from reconcile.ledger.store import (Ledger, SignOff, describe, exists, ledger_path, location, lock_path, open_ledger,
                                    processed, stamp)

__all__ = ["Ledger", "SignOff", "describe", "exists", "ledger_path", "location", "lock_path", "open_ledger", "processed",
           "stamp"]
