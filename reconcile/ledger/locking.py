"""One writer per ledger: who may record (a run, an approval, later a resolution) at a time.

SQLite: an exclusive `flock` on `<ledger>.lock` beside the file (`reconcile.lock.hold`).
PostgreSQL: a session-level advisory lock in the ledger's database, taken on
the Ledger's own connection, so the server lets it go when that connection
ends, however the holder ended (SIGKILL, lost network, pg_terminate_backend).
The holder writes who it is (command, pid, host, start, its database session)
into `lock_holders`; a second writer gets LockHeld (exit 4) naming it.
Readers take no lock: PostgreSQL's snapshots and SQLite's transactions let
`check`, `report` and the portal read while a run records.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from sqlalchemy import Connection, delete, select, text
from sqlalchemy.exc import SQLAlchemyError

from reconcile.errors import LockHeld
from reconcile.ledger.schema import lock_holders

# pg_try_advisory_lock(int4, int4): "reco" / "ledg", the ledger's writer lock; "migr" serialises migrations.
WRITER_KEY = (0x7265636F, 0x6C656467)
MIGRATION_KEY = (0x7265636F, 0x6D696772)
NAME = "ledger"


def take(conn: Connection, command: str, shown: str) -> None:
    """Take the writer lock on this connection or raise LockHeld naming the holder."""
    with conn.begin():
        got = conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": WRITER_KEY[0], "b": WRITER_KEY[1]}).scalar()
    if not got:
        raise LockHeld(f"Another reconcile run holds the lock on the ledger {shown}: {holder(conn)}.",
                       "Wait for it to finish; the database lets the lock go when that run's connection ends.")


def note(conn: Connection, command: str) -> None:
    """Write who holds the lock (after the schema is in place), for the next one who asks."""
    with conn.begin():
        conn.execute(delete(lock_holders).where(lock_holders.c.name == NAME))
        conn.execute(lock_holders.insert().values(
            name=NAME, command=command, pid=os.getpid(), host=socket.gethostname(),
            started_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            session=conn.execute(text("SELECT pg_backend_pid()")).scalar(),
        ))


def holder(conn: Connection) -> str:
    """Who holds the writer lock, in words: from lock_holders when its note is the holder's own."""
    try:
        with conn.begin():
            session = conn.execute(text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
                " AND classid::bigint = :a AND objid::bigint = :b"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ), {"a": WRITER_KEY[0], "b": WRITER_KEY[1]}).scalar()
            row = conn.execute(select(lock_holders).where(lock_holders.c.name == NAME)).mappings().first()
    except SQLAlchemyError:  # an older ledger without lock_holders, or no right to read it
        return "another process"
    if row and row["session"] == session:
        return f"`{row['command']}` (pid {row['pid']} on {row['host']}, since {row['started_at']})"
    return f"another process (database session {session})" if session else "another process"


def serialise_migrations(conn: Connection) -> None:
    """Inside a transaction: wait until no other process is creating or migrating this ledger."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": MIGRATION_KEY[0], "b": MIGRATION_KEY[1]})
