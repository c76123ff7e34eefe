"""The ledger: paid and held days, processed invoices and assessments, across batches.

`batch.run_batch` reads `history(exclude_batch)` before the cross-checks (R217,
R205's week count, F007, R219) and, after the outbox is staged, records the
whole batch with `record_batch` in one transaction that first forgets that
batch's earlier record: a rerun replaces, never counts twice. `reconcile
approve` signs an invoice off; a batch holding a signed-off invoice cannot be
run again (its days can never be paid again; a correction comes in a later
batch). `reconcile check` reads the history read-only.

Storage is a SQLite file (stdlib `sqlite3`): `--ledger PATH`, a `sqlite:///`
URL, `ledger` in config/settings.toml, else `<outbox>/ledger.sqlite`. The
`schema_version` table drives migrations; a ledger of a newer version, a
file that is not a ledger or a corrupt file is a `LedgerError` (exit 3) and
is never reset. Dates are stored as ISO text, money as integer cents.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import polars as pl

from reconcile.errors import LedgerError, UsageError
from reconcile.model import History, InvoiceResult, TrendRecord
from reconcile.write import FILE_MODE, make_dirs

SCHEMA_VERSION = 2

# version -> the statements that take a ledger from the version before to it.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE schema_version (version INTEGER NOT NULL)",
        "INSERT INTO schema_version (version) VALUES (0)",
        """CREATE TABLE batches (
            batch TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            outputs_sha256 TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE invoices (
            batch TEXT NOT NULL REFERENCES batches (batch),
            provider_id TEXT NOT NULL,
            invoice_no TEXT NOT NULL,
            billing_month TEXT NOT NULL,
            source_file TEXT NOT NULL,
            status TEXT NOT NULL,
            claimed_cents INTEGER NOT NULL,
            approved_cents INTEGER NOT NULL,
            held_cents INTEGER NOT NULL,
            rejected_cents INTEGER NOT NULL,
            signed_off_by TEXT,
            signed_off_at TEXT,
            PRIMARY KEY (batch, provider_id, invoice_no))""",
        "CREATE INDEX invoices_number ON invoices (provider_id, invoice_no)",
        """CREATE TABLE days (
            batch TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            invoice_no TEXT NOT NULL,
            decision_id TEXT NOT NULL,
            hetu TEXT NOT NULL,
            date TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('paid', 'held')),
            FOREIGN KEY (batch, provider_id, invoice_no) REFERENCES invoices (batch, provider_id, invoice_no))""",
        "CREATE INDEX days_batch ON days (batch)",
        "CREATE INDEX days_client ON days (hetu, date)",
        """CREATE TABLE assessments (
            batch TEXT NOT NULL,
            decision_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('kykyviisari', 'vat')),
            date TEXT NOT NULL,
            UNIQUE (batch, decision_id, kind, date))""",
    ),
    # The trends report's record of each batch (reconcile.report.rows): a batch listed in
    # trend_batches was recorded with one trend_rows row per Asiakkaat row of its processed invoices.
    2: (
        "CREATE TABLE trend_batches (batch TEXT PRIMARY KEY REFERENCES batches (batch))",
        """CREATE TABLE trend_rows (
            batch TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            invoice_no TEXT NOT NULL,
            row INTEGER NOT NULL,
            decision_id TEXT,
            hetu TEXT,
            days_paid INTEGER NOT NULL,
            days_held INTEGER NOT NULL,
            days_rejected INTEGER NOT NULL,
            guidance TEXT CHECK (guidance IN ('met', 'below')),
            FOREIGN KEY (batch, provider_id, invoice_no) REFERENCES invoices (batch, provider_id, invoice_no))""",
        "CREATE INDEX trend_rows_batch ON trend_rows (batch)",
    ),
}

_DAY_SCHEMA = {"hetu": pl.Utf8, "date": pl.Utf8, "decision_id": pl.Utf8, "provider_id": pl.Utf8,
               "invoice_no": pl.Utf8, "batch": pl.Utf8, "signed_off": pl.Boolean}
_INVOICE_SCHEMA = {"provider_id": pl.Utf8, "invoice_no": pl.Utf8, "batch": pl.Utf8,
                   "billing_month": pl.Utf8, "status": pl.Utf8, "signed_off": pl.Boolean}
_ASSESSMENT_SCHEMA = {"decision_id": pl.Utf8, "kind": pl.Utf8, "date": pl.Utf8}
_ASSESSMENT_COLUMNS = {"kykyviisari_date": "kykyviisari", "vat_date": "vat"}


def location(config_ledger: str, outbox: Path, override: str | None = None) -> str:
    """Where the ledger is: `--ledger`, else config's `ledger`, else `<outbox>/ledger.sqlite`."""
    return override or config_ledger or str(outbox / "ledger.sqlite")


def ledger_path(url_or_path: str) -> Path:
    """The SQLite file of a path or URL (`sqlite:///rel/x.sqlite`, `sqlite:////abs/x.sqlite`)."""
    if url_or_path.startswith("sqlite:///"):
        return Path(url_or_path[len("sqlite:///"):])
    scheme = url_or_path.split("://", 1)[0].lower() if "://" in url_or_path else ""
    if scheme.startswith("postgres"):
        raise LedgerError(
            "A PostgreSQL ledger is not supported in this version of reconcile.",
            "Use a SQLite file: --ledger PATH or --ledger sqlite:///PATH.",
        )
    if scheme:
        raise LedgerError(f"The ledger URL {url_or_path!r} is not understood.", "Give a file path or a sqlite:/// URL.")
    return Path(url_or_path)


def lock_path(url_or_path: str) -> Path:
    """The lock file beside a ledger: `<ledger>.lock`."""
    path = ledger_path(url_or_path)
    return path.with_name(path.name + ".lock")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def processed(result: InvoiceResult) -> bool:
    """Recorded in the ledger: attributed, and not rejected by any F rule (F007 duplicates included)."""
    if not result.provider_id or not result.invoice_no or result.billing_month is None:
        return False
    return not any(f.rule.startswith("F") for f in result.findings)


@dataclass(frozen=True)
class SignOff:
    batch: str
    provider_id: str
    invoice_no: str
    status: str
    signed_off_by: str
    signed_off_at: str
    already: bool  # signed off before: the first sign-off is kept


class Ledger:
    """An open ledger. Use `open_ledger`; close with `close()` or a `with` block."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self._conn = conn

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    @contextlib.contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn
        except sqlite3.DatabaseError as e:
            raise LedgerError(f"The ledger {self.path} cannot be used: {e}.", "Restore it from a backup.") from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._guard() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # Reading

    def history(self, exclude_batch: str) -> History:
        """What the ledger knows from every batch but `exclude_batch` ("" excludes none)."""
        with self._guard() as conn:
            days = {
                state: conn.execute(
                    """SELECT d.hetu, d.date, d.decision_id, d.provider_id, d.invoice_no, d.batch,
                              i.signed_off_at IS NOT NULL
                       FROM days d JOIN invoices i USING (batch, provider_id, invoice_no)
                       WHERE d.state = ? AND d.batch != ?
                       ORDER BY d.batch, d.provider_id, d.invoice_no, d.hetu, d.date""",
                    (state, exclude_batch),
                ).fetchall()
                for state in ("paid", "held")
            }
            invoices = conn.execute(
                """SELECT provider_id, invoice_no, batch, billing_month, status, signed_off_at IS NOT NULL
                   FROM invoices WHERE batch != ? ORDER BY batch, provider_id, invoice_no""",
                (exclude_batch,),
            ).fetchall()
            assessments = conn.execute(
                "SELECT DISTINCT decision_id, kind, date FROM assessments WHERE batch != ? ORDER BY 1, 2, 3",
                (exclude_batch,),
            ).fetchall()

        def frame(rows: list, schema: dict, dates: tuple[str, ...]) -> pl.DataFrame:
            df = pl.DataFrame(rows, schema=schema, orient="row")
            return df.with_columns(pl.col(c).str.to_date("%Y-%m-%d") for c in dates)

        return History(
            paid_days=frame(days["paid"], _DAY_SCHEMA, ("date",)),
            held_days=frame(days["held"], _DAY_SCHEMA, ("date",)),
            invoices=frame(invoices, _INVOICE_SCHEMA, ("billing_month",)),
            assessments=frame(assessments, _ASSESSMENT_SCHEMA, ("date",)),
        )

    def trend_record(self, first: str, last: str) -> TrendRecord:
        """What the ledger keeps for the trends report on the batches `first`..`last` (YYYY-MM).

        Works on a ledger of an older version too: what it did not keep comes back empty.
        """
        with self._guard() as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            span = (first, last)
            trends = "trend_batches" in tables
            batches = conn.execute(
                "SELECT b.batch, " + ("t.batch IS NOT NULL" if trends else "0") + " FROM batches b "
                + ("LEFT JOIN trend_batches t USING (batch) " if trends else "")
                + "WHERE b.batch BETWEEN ? AND ? ORDER BY 1", span).fetchall()
            invoices = conn.execute(
                "SELECT batch, provider_id, invoice_no, approved_cents FROM invoices WHERE batch BETWEEN ? AND ? "
                "ORDER BY 1, 2, 3", span).fetchall()
            rows = conn.execute(
                "SELECT batch, provider_id, invoice_no, row, decision_id, hetu, days_paid, days_held, days_rejected, "
                "guidance FROM trend_rows WHERE batch BETWEEN ? AND ? ORDER BY 1, 2, 3, 4", span).fetchall() if trends else []
            days = []  # counted only for batches recorded without trend rows
            for batch, has_rows in batches:
                if not has_rows:
                    days += conn.execute("SELECT batch, provider_id, state, count(*) FROM days WHERE batch = ? "
                                         "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", (batch,)).fetchall()
            assessments = conn.execute(
                "SELECT DISTINCT decision_id, batch, date FROM assessments WHERE batch <= ? ORDER BY 1, 2, 3",
                (last,)).fetchall()
        batches = [(batch, bool(trends)) for batch, trends in batches]
        return TrendRecord.from_rows(batches, invoices, rows, days, assessments)

    def recorded(self, batch: str) -> tuple[str, str] | None:
        """(run_id, outputs_sha256) of the batch's record, or None."""
        with self._guard() as conn:
            row = conn.execute("SELECT run_id, outputs_sha256 FROM batches WHERE batch = ?", (batch,)).fetchone()
        return tuple(row) if row else None

    def signed_off(self, batch: str) -> list[tuple[str, str]]:
        """(provider_id, invoice_no) of the batch's signed-off invoices."""
        with self._guard() as conn:
            return conn.execute(
                "SELECT provider_id, invoice_no FROM invoices WHERE batch = ? AND signed_off_at IS NOT NULL "
                "ORDER BY 1, 2",
                (batch,),
            ).fetchall()

    def refuse_if_signed_off(self, batch: str) -> None:
        """A batch with a signed-off invoice is final: running it again would re-pay its days."""
        signed = self.signed_off(batch)
        if signed:
            provider_id, invoice_no = signed[0]
            raise LedgerError(
                f"Batch {batch} cannot be run again: invoice {invoice_no} of {provider_id} is already signed off "
                f"({len(signed)} signed-off invoice(s) in all).",
                "Send corrections in a later batch.",
            )

    # Writing

    def record_batch(self, batch: str, run_id: str, results: list[InvoiceResult], outputs_sha256: str = "",
                     trend_rows: pl.DataFrame | None = None) -> None:
        """Replace the batch's record with these results, in one transaction.

        Only processed invoices are recorded (`processed`), with their paid and
        held days and the assessment dates of their rows not rejected as a whole.
        `outputs_sha256` ties the record to the outbox written for it (crash recovery).
        `trend_rows` (`reconcile.report.rows.ROW_SCHEMA`) is the batch's record for the
        trends report; None records none (the batch then reports as one recorded before it).
        """
        with self._transaction() as conn:
            self.refuse_if_signed_off(batch)
            for table in ("trend_rows", "trend_batches", "days", "assessments", "invoices", "batches"):
                conn.execute(f"DELETE FROM {table} WHERE batch = ?", (batch,))
            conn.execute(
                "INSERT INTO batches (batch, run_id, recorded_at, outputs_sha256) VALUES (?, ?, ?, ?)",
                (batch, run_id, _now(), outputs_sha256),
            )
            for res in results:
                if processed(res):
                    self._record_invoice(conn, batch, res)
            if trend_rows is not None:
                conn.execute("INSERT INTO trend_batches (batch) VALUES (?)", (batch,))
                conn.executemany(
                    "INSERT INTO trend_rows (batch, provider_id, invoice_no, row, decision_id, hetu, days_paid, "
                    "days_held, days_rejected, guidance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    ((batch, *r) for r in trend_rows.iter_rows()),
                )

    @staticmethod
    def _record_invoice(conn: sqlite3.Connection, batch: str, res: InvoiceResult) -> None:
        total = res.total
        key = (batch, res.provider_id, res.invoice_no)
        conn.execute(
            """INSERT INTO invoices (batch, provider_id, invoice_no, billing_month, source_file, status,
                   claimed_cents, approved_cents, held_cents, rejected_cents)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (*key, res.billing_month.isoformat(), res.source_file, res.status,
             total.claimed, total.approved, total.held, total.rejected),
        )
        if res.day_outcomes is not None and res.day_outcomes.height:
            days = (
                res.day_outcomes.filter(pl.col("outcome").is_in(["paid", "held"]) & pl.col("date").is_not_null())
                .select("decision_id", "hetu", pl.col("date").dt.strftime("%Y-%m-%d"), "outcome")
                .unique(maintain_order=True)
            )
            conn.executemany(
                "INSERT INTO days (batch, provider_id, invoice_no, decision_id, hetu, date, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                ((*key, *row) for row in days.iter_rows()),
            )
        clients = res.invoice.clients
        if clients is None or res.rows is None or not clients.height:
            return
        kept = res.rows.filter(pl.col("whole").ne_missing("reject")).select("row")
        present = [c for c in _ASSESSMENT_COLUMNS if c in clients.columns]
        rows = clients.join(kept, on="row", how="semi").filter(pl.col("decision_id").is_not_null())
        for column in present:
            dated = rows.filter(pl.col(column).is_not_null()).select(
                "decision_id", pl.col(column).dt.strftime("%Y-%m-%d")
            )
            conn.executemany(
                "INSERT OR IGNORE INTO assessments (batch, decision_id, kind, date) VALUES (?, ?, ?, ?)",
                ((batch, d, _ASSESSMENT_COLUMNS[column], when) for d, when in dated.iter_rows()),
            )

    def approve(self, batch: str, invoice_no: str, provider_id: str | None, who: str) -> SignOff:
        """Record finance's sign-off of one invoice of a batch (who, when). A repeat keeps the first."""
        query = "SELECT provider_id, status, signed_off_by, signed_off_at FROM invoices WHERE batch = ? AND invoice_no = ?"
        args: tuple = (batch, invoice_no)
        if provider_id:
            query += " AND provider_id = ?"
            args += (provider_id,)
        with self._transaction() as conn:
            rows = conn.execute(query + " ORDER BY provider_id", args).fetchall()
            if not rows:
                whose = f" of provider {provider_id}" if provider_id else ""
                raise LedgerError(
                    f"Invoice {invoice_no}{whose} is not recorded in batch {batch} of the ledger {self.path}.",
                    "Check the batch and the invoice number in finance/approval.csv; invoices rejected as a whole are not recorded.",
                )
            if len(rows) > 1:
                raise UsageError(
                    f"Invoice number {invoice_no} of batch {batch} belongs to several providers: "
                    f"{', '.join(r[0] for r in rows)}.",
                    "Name one with --provider Y-TUNNUS.",
                )
            provider, status, by, at = rows[0]
            if at is not None:
                return SignOff(batch, provider, invoice_no, status, by, at, already=True)
            at = _now()
            conn.execute(
                "UPDATE invoices SET signed_off_by = ?, signed_off_at = ? "
                "WHERE batch = ? AND provider_id = ? AND invoice_no = ?",
                (who, at, batch, provider, invoice_no),
            )
        return SignOff(batch, provider, invoice_no, status, who, at, already=False)


def _create_private(path: Path) -> None:
    make_dirs(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass


def _migrate(conn: sqlite3.Connection, path: Path, readonly: bool, older_ok: bool = False) -> None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and "schema_version" not in tables:
        raise LedgerError(f"{path} is not a reconcile ledger.", "Point --ledger at the ledger file, or at a new path.")
    version = conn.execute("SELECT version FROM schema_version").fetchone()[0] if tables else 0
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"The ledger {path} has schema version {version}, newer than this program knows ({SCHEMA_VERSION}).",
            "Use the newer version of reconcile that wrote it.",
        )
    if version == SCHEMA_VERSION:
        return
    if readonly and older_ok:
        return
    if readonly:
        raise LedgerError(f"The ledger {path} is of an older version ({version}).", "Run `reconcile run` once to upgrade it.")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[target]:
                conn.execute(statement)
            conn.execute("UPDATE schema_version SET version = ?", (target,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def open_ledger(url_or_path: str, readonly: bool = False, older_ok: bool = False) -> Ledger:
    """Open (and create or migrate, unless `readonly`) the ledger at a path or sqlite:/// URL.

    `older_ok` (read-only only): a ledger of an older version is opened as it is, for
    readers that can do with what it holds (the trends report).

    Read-only opening of a file that does not exist is a LedgerError; callers
    that can do without a ledger check `ledger_path(...).exists()` first.
    """
    path = ledger_path(url_or_path)
    if readonly and not path.is_file():
        raise LedgerError(f"The ledger {path} does not exist.")
    try:
        if not readonly:
            _create_private(path)
        if readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        else:
            conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        if readonly and not conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            conn.close()
            raise LedgerError(f"The ledger {path} is empty.")
        _migrate(conn, path, readonly, older_ok)
    except sqlite3.DatabaseError as e:
        raise LedgerError(f"The ledger {path} cannot be opened: {e}.", "Restore it from a backup; it is never reset.") from None
    except OSError as e:
        raise LedgerError(f"The ledger {path} cannot be created: {e.strerror}.") from None
    return Ledger(path, conn)
