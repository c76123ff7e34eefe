"""Where a ledger is and how to reach it: a path or URL to an SQLAlchemy engine, and its errors in words.

A ledger is a SQLite file (a path, or `sqlite:///rel/x.sqlite`, `sqlite:////abs/x.sqlite`)
or a PostgreSQL database (`postgresql://user@host:port/db`, also
`postgresql+psycopg://` and `postgres://`), reached with psycopg 3. A
PostgreSQL password comes from the URL, `PGPASSWORD` or `~/.pgpass` (libpq
reads the last two itself) and is never shown: `Location.shown` is the URL
without it, and every message about a ledger names it that way.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from reconcile.errors import LedgerError
from reconcile.private import FILE_MODE, make_dirs

CONNECT_TIMEOUT = 10  # seconds to wait for a PostgreSQL server before giving up (exit 3)
BUSY_TIMEOUT_MS = 5000  # how long a SQLite reader waits for a writer's commit


@dataclass(frozen=True)
class Location:
    """A parsed ledger location. `path` is the SQLite file (None for PostgreSQL)."""

    url: URL
    path: Path | None
    shown: str  # for messages: the file, or the URL without its password

    @property
    def backend(self) -> str:
        return "sqlite" if self.path is not None else "postgresql"

    def __str__(self) -> str:
        return self.shown


def _hide_password(text: str) -> str:
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1@", text)


def _without_password(url: URL) -> str:
    # URL.set() keeps a field given as None: _replace clears it.
    shown = url._replace(password=None).difference_update_query(["password"]).render_as_string(hide_password=False)
    return unquote(shown)  # ?host=/var/run/postgresql, as written


def parse(url_or_path: str) -> Location:
    """A path or URL to a Location; an unknown scheme or a bad URL is a LedgerError (exit 3)."""
    scheme = url_or_path.split("://", 1)[0].lower() if "://" in url_or_path else ""
    if scheme.startswith("sqlite"):
        if not url_or_path.lower().startswith(("sqlite:///", "sqlite+pysqlite:///")):
            raise LedgerError(f"The ledger URL {_hide_password(url_or_path)!r} is not understood.",
                              "Give a file path, a sqlite:///PATH or a postgresql:// URL.")
        path = Path(url_or_path.split(":///", 1)[1])
        return Location(URL.create("sqlite+pysqlite", database=str(path)), path, str(path))
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        try:
            url = make_url("postgresql" + url_or_path[len(scheme):])
        except (ArgumentError, ValueError):
            raise LedgerError(f"The ledger URL {_hide_password(url_or_path)!r} is not understood.",
                              "Write it as postgresql://user@host:port/dbname.") from None
        if not url.database:
            raise LedgerError(f"The ledger URL {_without_password(url)!r} names no database.",
                              "Write it as postgresql://user@host:port/dbname.")
        return Location(url.set(drivername="postgresql+psycopg"), None, _without_password(url))
    if scheme:
        raise LedgerError(f"The ledger URL {_hide_password(url_or_path)!r} is not understood.",
                          "Give a file path, a sqlite:///PATH or a postgresql:// URL.")
    path = Path(url_or_path)
    return Location(URL.create("sqlite+pysqlite", database=str(path)), path, str(path))


def reason(error: BaseException, where: Location | None = None) -> str:
    """The database's own words for an error, on one line, without a password or a trailing period."""
    orig = getattr(error, "orig", None) or error
    words = " ".join(str(orig).split())
    if "FATAL:" in words:  # libpq: 'connection to server ... failed: FATAL:  password authentication failed ...'
        words = words.rsplit("FATAL:", 1)[1].strip()
    elif words.startswith("connection failed: "):
        words = words[len("connection failed: "):]
    words = words.split(" Is the server running")[0]
    if where is not None and where.url.password:
        words = words.replace(str(where.url.password), "***")
    return _hide_password(words).rstrip(". ") or type(orig).__name__


def lost(error: BaseException) -> bool:
    """The connection to the server broke (killed, server stopped): nothing uncommitted was kept."""
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def create_private_file(path: Path) -> None:
    """A new SQLite file with FILE_MODE in folders with DIR_MODE (the ledger holds henkilötunnus)."""
    make_dirs(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass


def engine(where: Location, readonly: bool) -> Engine:
    """An engine without a pool: a Ledger holds one connection for its life (the lock lives on it)."""
    if where.path is not None:
        return _sqlite_engine(where.path, readonly)
    args: dict = {"connect_timeout": CONNECT_TIMEOUT, "application_name": "reconcile"}
    if readonly:
        args["options"] = "-c default_transaction_read_only=on"
    # Repeatable read: the several SELECTs of one history see one snapshot while another process records.
    return create_engine(where.url, poolclass=NullPool, isolation_level="REPEATABLE READ", connect_args=args)


def _sqlite_engine(path: Path, readonly: bool) -> Engine:
    def connect() -> sqlite3.Connection:
        if readonly:
            return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        return sqlite3.connect(path, isolation_level=None)

    eng = create_engine("sqlite+pysqlite://", creator=connect, poolclass=NullPool)

    @event.listens_for(eng, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below starts every transaction
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    @event.listens_for(eng, "begin")
    def _begin(conn) -> None:
        # A writer takes SQLite's write lock at once, so two writers never deadlock mid-transaction.
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return eng


__all__ = ["Location", "parse", "reason", "lost", "engine", "create_private_file", "SQLAlchemyError"]
