"""The ledger's tables: one SQLAlchemy `MetaData`, its version, and how a ledger moves forward.

Every table of the ledger is declared here, on both backends (SQLite and
PostgreSQL) alike. Conventions: text is `TEXT_` (compared byte-wise on both
backends, so ordering never depends on the server's locale), money is
`CENTS` (integer cents), dates are ISO text (`2026-11-02`), times ISO text
in UTC (`2026-12-03T19:32:23Z`). No autoincrement keys: `ledger copy` moves
rows between backends as they are.

How a ledger gets its schema (`prepare`, called by `open_ledger`):
  - an empty database is created from METADATA at once and stamped SCHEMA_VERSION;
  - a ledger of an older version runs the STEPS after its version, in one
    transaction, then carries the new version; a ledger is never reset;
  - a newer ledger, or a database holding other tables than a ledger's, is a
    LedgerError (exit 3) and is left as it is.

To add a table (resolutions, payments, users, ...), three obvious lines:
  1. declare it below:  `resolutions = Table("resolutions", METADATA, Column(...), ...)`;
  2. bump SCHEMA_VERSION (say to 3);
  3. add the step:       `3: create("resolutions"),` to STEPS.
A new index on an old table is the same: declare `Index("name", ...)` next to
its table and `create("name")` in the step. Anything else (a new column, a
backfill) is a step function of the connection, for example
`4: lambda conn: conn.execute(text("ALTER TABLE days ADD COLUMN note TEXT"))`
with the column also declared on the table (new ledgers get it from METADATA).
Never edit an old step: ledgers out there have already run it.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import (BigInteger, CheckConstraint, Column, Connection, ForeignKeyConstraint, Index, Integer,
                        MetaData, PrimaryKeyConstraint, Table, Text, TypeDecorator, UniqueConstraint, inspect, select,
                        text)

from reconcile.errors import LedgerError

SCHEMA_VERSION = 5

class _Text(TypeDecorator):
    """TEXT, compared byte-wise on both backends: COLLATE "C" on PostgreSQL (SQLite's own order).

    Values compared with such a column are plain text (`coerce_compared_value`), so
    `column.between(a, b)` renders as PostgreSQL's grammar allows."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(Text(collation="C") if dialect.name == "postgresql" else Text())

    def coerce_compared_value(self, op, value):
        return Text()


TEXT_ = _Text()
CENTS = BigInteger()

METADATA = MetaData()

schema_version = Table(
    "schema_version", METADATA,
    Column("version", Integer, nullable=False),
)

# Version 1: the batches run, their processed invoices, paid and held days, assessment dates.

batches = Table(
    "batches", METADATA,
    Column("batch", TEXT_, primary_key=True),
    Column("run_id", TEXT_, nullable=False),
    Column("recorded_at", TEXT_, nullable=False),
    Column("outputs_sha256", TEXT_, nullable=False, server_default=""),
)

invoices = Table(
    "invoices", METADATA,
    Column("batch", TEXT_, nullable=False),
    Column("provider_id", TEXT_, nullable=False),
    Column("invoice_no", TEXT_, nullable=False),
    Column("billing_month", TEXT_, nullable=False),
    Column("source_file", TEXT_, nullable=False),
    Column("status", TEXT_, nullable=False),
    Column("claimed_cents", CENTS, nullable=False),
    Column("approved_cents", CENTS, nullable=False),
    Column("held_cents", CENTS, nullable=False),
    Column("rejected_cents", CENTS, nullable=False),
    Column("signed_off_by", TEXT_),
    Column("signed_off_at", TEXT_),
    PrimaryKeyConstraint("batch", "provider_id", "invoice_no"),
    ForeignKeyConstraint(["batch"], ["batches.batch"]),
)
Index("invoices_number", invoices.c.provider_id, invoices.c.invoice_no)

days = Table(
    "days", METADATA,
    Column("batch", TEXT_, nullable=False),
    Column("provider_id", TEXT_, nullable=False),
    Column("invoice_no", TEXT_, nullable=False),
    Column("decision_id", TEXT_, nullable=False),
    Column("hetu", TEXT_, nullable=False),
    Column("date", TEXT_, nullable=False),
    Column("state", TEXT_, nullable=False),
    Column("rule", TEXT_),  # version 4: the code that held the day (R216, R218), null for a paid day
    Column("held_cents", CENTS, nullable=False, server_default="0"),  # version 4: the euros a held day holds
    CheckConstraint("state IN ('paid', 'held')", name="days_state"),
    ForeignKeyConstraint(["batch", "provider_id", "invoice_no"],
                         ["invoices.batch", "invoices.provider_id", "invoices.invoice_no"]),
)
Index("days_batch", days.c.batch)
Index("days_client", days.c.hetu, days.c.date)

assessments = Table(
    "assessments", METADATA,
    Column("batch", TEXT_, nullable=False),
    Column("decision_id", TEXT_, nullable=False),
    Column("kind", TEXT_, nullable=False),
    Column("date", TEXT_, nullable=False),
    CheckConstraint("kind IN ('kykyviisari', 'vat')", name="assessments_kind"),
    UniqueConstraint("batch", "decision_id", "kind", "date"),
)

# Version 2: a log of runs, the holder of the ledger's lock (PostgreSQL), indexes for a batch's history.

runs = Table(  # one row per recorded run; a rerun's row names the run it replaced
    "runs", METADATA,
    Column("batch", TEXT_, nullable=False),
    Column("run_id", TEXT_, nullable=False),
    Column("started_at", TEXT_, nullable=False),
    Column("finished_at", TEXT_, nullable=False),  # microseconds: unique per batch
    Column("who", TEXT_, nullable=False),
    Column("replaced_run_id", TEXT_),
    PrimaryKeyConstraint("batch", "finished_at"),
)

lock_holders = Table(  # who holds a database lock (the lock itself is an advisory lock, see locking.py)
    "lock_holders", METADATA,
    Column("name", TEXT_, primary_key=True),
    Column("command", TEXT_, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("host", TEXT_, nullable=False),
    Column("started_at", TEXT_, nullable=False),
    Column("session", Integer, nullable=False),  # the holder's database session (backend pid)
)

Index("assessments_decision", assessments.c.decision_id)
Index("days_decision", days.c.decision_id, days.c.date)

# Version 3: what a run keeps for the trends report (reconcile.report.rows). A batch listed in
# trend_batches was recorded with one trend_rows row per Asiakkaat row of its processed invoices;
# a batch recorded before version 3 is not listed, and the report says what it cannot tell of it.

trend_batches = Table(
    "trend_batches", METADATA,
    Column("batch", TEXT_, primary_key=True),
    ForeignKeyConstraint(["batch"], ["batches.batch"]),
)

trend_rows = Table(
    "trend_rows", METADATA,
    Column("batch", TEXT_, nullable=False),
    Column("provider_id", TEXT_, nullable=False),
    Column("invoice_no", TEXT_, nullable=False),
    Column("row", Integer, nullable=False),  # the Asiakkaat row
    Column("decision_id", TEXT_),
    Column("hetu", TEXT_),  # the person billed; null when the row names no one
    Column("days_paid", Integer, nullable=False),
    Column("days_held", Integer, nullable=False),
    Column("days_rejected", Integer, nullable=False),
    Column("guidance", TEXT_),  # as R214 decided the row; null when it did not check it
    CheckConstraint("guidance IN ('met', 'below')", name="trend_rows_guidance"),
    PrimaryKeyConstraint("batch", "provider_id", "invoice_no", "row"),
    ForeignKeyConstraint(["batch", "provider_id", "invoice_no"],
                         ["invoices.batch", "invoices.provider_id", "invoices.invoice_no"]),
)

# Version 4 (resolving held days and payments): finance's answers on held days, and what to pay.
# `days` keeps what the runs decided; an answer lives here, so a rerun can keep it or mark it void.

resolutions = Table(
    "resolutions", METADATA,
    Column("batch", TEXT_, nullable=False),
    Column("provider_id", TEXT_, nullable=False),
    Column("invoice_no", TEXT_, nullable=False),
    Column("decision_id", TEXT_, nullable=False),
    Column("hetu", TEXT_, nullable=False),
    Column("date", TEXT_, nullable=False),
    Column("rule", TEXT_, nullable=False),
    Column("resolution", TEXT_, nullable=False),
    Column("amount_cents", CENTS, nullable=False),  # positive into approved, negative into rejected, 0 when void
    Column("resolved_by", TEXT_, nullable=False),
    Column("resolved_at", TEXT_, nullable=False),  # microseconds: orders answers against runs (history as_of)
    Column("reason", TEXT_, nullable=False, server_default=""),
    CheckConstraint("resolution IN ('pay', 'reject', 'void')", name="resolutions_resolution"),
    PrimaryKeyConstraint("batch", "provider_id", "invoice_no", "decision_id", "date", "resolved_at"),
)
Index("resolutions_client", resolutions.c.hetu, resolutions.c.date)

payments = Table(
    "payments", METADATA,
    Column("batch", TEXT_, nullable=False),
    Column("provider_id", TEXT_, nullable=False),
    Column("provider_name", TEXT_, nullable=False, server_default=""),
    Column("invoice_no", TEXT_, nullable=False),
    Column("kind", TEXT_, nullable=False),
    Column("amount_cents", CENTS, nullable=False),
    Column("signed_off_by", TEXT_, nullable=False),
    Column("signed_off_at", TEXT_, nullable=False),  # microseconds
    CheckConstraint("kind IN ('invoice', 'supplement')", name="payments_kind"),
    PrimaryKeyConstraint("batch", "provider_id", "invoice_no", "signed_off_at"),
)


def _days_v4(conn: Connection) -> None:
    """Version 4's two new columns of `days` (old held days hold 0.00 until their batch runs again)."""
    collate = ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""
    conn.execute(text(f"ALTER TABLE days ADD COLUMN rule TEXT{collate}"))
    conn.execute(text("ALTER TABLE days ADD COLUMN held_cents BIGINT NOT NULL DEFAULT 0"))


# Version 5: the web portal's accounts, one-time links, failed sign-ins, receipts, audit log and settings
# (reconcile/portal/accounts.py). Keys are random text ids, never autoincrement.

portal_users = Table(
    "portal_users", METADATA,
    Column("id", TEXT_, primary_key=True),
    Column("name", TEXT_, nullable=False, unique=True),  # the login name
    Column("role", TEXT_, nullable=False),
    Column("provider_id", TEXT_),
    Column("language", TEXT_, nullable=False, server_default="fi"),
    Column("password_hash", TEXT_, nullable=False, server_default=""),  # Argon2; empty until the link is used
    Column("created_at", TEXT_, nullable=False),
    CheckConstraint("role IN ('provider', 'finance')", name="portal_users_role"),
)

portal_links = Table(  # one-time sign-up links: only the token's sha256
    "portal_links", METADATA,
    Column("token_sha256", TEXT_, primary_key=True),
    Column("user_id", TEXT_, nullable=False),
    Column("expires_at", TEXT_, nullable=False),
    Column("used_at", TEXT_),
    ForeignKeyConstraint(["user_id"], ["portal_users.id"]),
)

portal_failures = Table(  # failed sign-ins, for throttling
    "portal_failures", METADATA,
    Column("id", TEXT_, primary_key=True),
    Column("account", TEXT_, nullable=False),
    Column("address", TEXT_, nullable=False),
    Column("at", TEXT_, nullable=False),
)
Index("portal_failures_at", portal_failures.c.at)

portal_receipts = Table(  # what a provider sent to a batch
    "portal_receipts", METADATA,
    Column("id", TEXT_, primary_key=True),
    Column("user_id", TEXT_, nullable=False),
    Column("provider_id", TEXT_, nullable=False),
    Column("batch", TEXT_, nullable=False),
    Column("file_name", TEXT_, nullable=False),
    Column("original_name", TEXT_, nullable=False),
    Column("sha256", TEXT_, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("invoice_no", TEXT_),
    Column("at", TEXT_, nullable=False),
    ForeignKeyConstraint(["user_id"], ["portal_users.id"]),
)
Index("portal_receipts_provider", portal_receipts.c.provider_id)

portal_audit = Table(  # who did what when: file names and sha256, never a henkilötunnus
    "portal_audit", METADATA,
    Column("at", TEXT_, nullable=False),  # microseconds
    Column("id", TEXT_, nullable=False),
    Column("who", TEXT_, nullable=False),
    Column("address", TEXT_, nullable=False, server_default=""),
    Column("action", TEXT_, nullable=False),
    Column("detail", TEXT_, nullable=False, server_default=""),
    PrimaryKeyConstraint("at", "id"),
)

portal_settings = Table(  # the session-signing secret
    "portal_settings", METADATA,
    Column("name", TEXT_, primary_key=True),
    Column("value", TEXT_, nullable=False),
)

PORTAL_TABLES = ("portal_users", "portal_links", "portal_failures", "portal_receipts", "portal_audit",
                 "portal_settings")

LEDGER_TABLES = frozenset({"schema_version", "batches", "invoices", "days", "assessments"})  # of every version


def create(*names: str) -> Callable[[Connection], None]:
    """A step that creates the named tables (with their indexes) and indexes, as METADATA declares them."""
    indexes = {ix.name: ix for table in METADATA.tables.values() for ix in table.indexes}

    def step(conn: Connection) -> None:
        for name in names:
            if name in METADATA.tables:
                METADATA.tables[name].create(conn)
            else:
                indexes[name].create(conn)

    return step


# version -> what takes a ledger from the version before to it (version 1 is the first ledger ever written).
STEPS: dict[int, Callable[[Connection], None]] = {
    2: create("runs", "lock_holders", "assessments_decision", "days_decision"),
    3: create("trend_batches", "trend_rows"),
    4: lambda conn: (_days_v4(conn), create("resolutions", "payments")(conn)),
    5: create(*PORTAL_TABLES),
}
assert sorted(STEPS) == list(range(2, SCHEMA_VERSION + 1)), "one step per version after 1"


def version_of(conn: Connection, where: str) -> int:
    """The ledger's schema version; 0 for an empty database. A database of another program is a LedgerError."""
    tables = set(inspect(conn).get_table_names())
    if not tables:
        return 0
    if not LEDGER_TABLES <= tables:
        raise LedgerError(f"{where} is not a reconcile ledger: it holds other tables.",
                          "Point --ledger at the ledger, or at a new file or an empty database.")
    versions = conn.execute(select(schema_version.c.version)).scalars().all()
    if len(versions) != 1 or versions[0] < 1:
        raise LedgerError(f"{where} is not a reconcile ledger: its schema_version is {versions}.",
                          "Restore it from a backup; it is never reset.")
    return versions[0]


def refuse_newer(version: int, where: str) -> None:
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"The ledger {where} has schema version {version}, newer than this program knows ({SCHEMA_VERSION}).",
            "Use the newer version of reconcile that wrote it.",
        )


def prepare(conn: Connection, where: str) -> int:
    """Create or migrate the ledger inside the caller's transaction; returns the version it had (0: new)."""
    version = version_of(conn, where)
    refuse_newer(version, where)
    if version == 0:
        METADATA.create_all(conn)
        conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
    elif version < SCHEMA_VERSION:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            STEPS[target](conn)
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
    return version


__all__ = ["METADATA", "SCHEMA_VERSION", "STEPS", "TEXT_", "CENTS", "create", "prepare", "version_of", "refuse_newer",
           "schema_version", "batches", "invoices", "days", "assessments", "runs", "lock_holders", "trend_batches",
           "trend_rows", "resolutions", "payments", "portal_users", "portal_links", "portal_failures",
           "portal_receipts", "portal_audit", "portal_settings"]
