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
from reconcile.model import History, InvoiceResult
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
    # Version 2 (CONTRACT.md sections 7 and 8): finance's answers on held days, and payments.
    2: (
        "ALTER TABLE days ADD COLUMN rule TEXT",
        "ALTER TABLE days ADD COLUMN held_cents INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE resolutions (
            batch TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            invoice_no TEXT NOT NULL,
            decision_id TEXT NOT NULL,
            hetu TEXT NOT NULL,
            date TEXT NOT NULL,
            rule TEXT NOT NULL,
            resolution TEXT NOT NULL CHECK (resolution IN ('pay', 'reject', 'void')),
            amount_cents INTEGER NOT NULL,
            resolved_by TEXT NOT NULL,
            resolved_at TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (batch, provider_id, invoice_no, decision_id, date, resolved_at))""",
        "CREATE INDEX resolutions_client ON resolutions (hetu, date)",
        """CREATE TABLE payments (
            batch TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            provider_name TEXT NOT NULL DEFAULT '',
            invoice_no TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('invoice', 'supplement')),
            amount_cents INTEGER NOT NULL,
            signed_off_by TEXT NOT NULL,
            signed_off_at TEXT NOT NULL)""",
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


def _stamp() -> str:
    """A time to the microsecond: records and answers are ordered by it (`history(as_of=...)`)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


RESOLUTION_COLUMNS = ("batch", "provider_id", "invoice_no", "decision_id", "hetu", "date", "rule", "resolution",
                      "amount_cents", "resolved_by", "resolved_at", "reason")
PAYMENT_COLUMNS = ("batch", "provider_id", "provider_name", "invoice_no", "kind", "amount_cents", "signed_off_by",
                   "signed_off_at")


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

    def history(self, exclude_batch: str, as_of: str | None = None) -> History:
        """What the ledger knows from every batch but `exclude_batch` ("" excludes none).

        Finance's answers count (CONTRACT.md section 7): a held day paid by a
        resolution is paid, and a resolved day is no longer held. `as_of` (a
        time stamp) shows the ledger as it was then: only batches recorded and
        answers given before it (how a run saw it, for `reconcile resolve`).
        """
        answered = """EXISTS (SELECT 1 FROM resolutions r WHERE r.batch = d.batch AND r.provider_id = d.provider_id
                          AND r.invoice_no = d.invoice_no AND r.decision_id = d.decision_id AND r.date = d.date
                          AND r.resolution IN ({answers}) AND (:asof IS NULL OR r.resolved_at < :asof))"""
        paid_by_answer = answered.format(answers="'pay'")
        any_answer = answered.format(answers="'pay', 'reject'")
        where = {
            "paid": f"(d.state = 'paid' OR (d.state = 'held' AND {paid_by_answer}))",
            "held": f"d.state = 'held' AND NOT {any_answer}",
        }
        args = {"ex": exclude_batch, "asof": as_of}
        with self._guard() as conn:
            days = {
                state: conn.execute(
                    f"""SELECT d.hetu, d.date, d.decision_id, d.provider_id, d.invoice_no, d.batch,
                              i.signed_off_at IS NOT NULL
                       FROM days d JOIN invoices i USING (batch, provider_id, invoice_no) JOIN batches b USING (batch)
                       WHERE {where[state]} AND d.batch != :ex AND (:asof IS NULL OR b.recorded_at < :asof)
                       ORDER BY d.batch, d.provider_id, d.invoice_no, d.hetu, d.date""",
                    args,
                ).fetchall()
                for state in ("paid", "held")
            }
            invoices = conn.execute(
                """SELECT provider_id, invoice_no, batch, billing_month, status, signed_off_at IS NOT NULL
                   FROM invoices JOIN batches b USING (batch)
                   WHERE batch != :ex AND (:asof IS NULL OR b.recorded_at < :asof) ORDER BY batch, provider_id, invoice_no""",
                args,
            ).fetchall()
            assessments = conn.execute(
                """SELECT DISTINCT decision_id, kind, date FROM assessments JOIN batches b USING (batch)
                   WHERE batch != :ex AND (:asof IS NULL OR b.recorded_at < :asof) ORDER BY 1, 2, 3""",
                args,
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

    def recorded_at(self, batch: str) -> str | None:
        """When the batch's record was last written by a run, or None when it never was."""
        with self._guard() as conn:
            row = conn.execute("SELECT recorded_at FROM batches WHERE batch = ?", (batch,)).fetchone()
        return row[0] if row else None

    def recorded_days(self, batch: str) -> list[tuple[str, str, str, str, str]]:
        """(provider_id, invoice_no, decision_id, date, state) of every day the batch's run recorded."""
        with self._guard() as conn:
            return conn.execute(
                "SELECT provider_id, invoice_no, decision_id, date, state FROM days WHERE batch = ? ORDER BY 1, 2, 3, 4",
                (batch,),
            ).fetchall()

    def resolutions(self, batch: str) -> list[dict]:
        """Every answer recorded for the batch's held days, void ones included, oldest first."""
        with self._guard() as conn:
            cursor = conn.execute(
                f"SELECT {', '.join(RESOLUTION_COLUMNS)} FROM resolutions WHERE batch = ? "
                "ORDER BY resolved_at, provider_id, invoice_no, decision_id, date",
                (batch,),
            )
            return [dict(zip(RESOLUTION_COLUMNS, row)) for row in cursor.fetchall()]

    def paid_claims(self, hetus: list[str]) -> list[tuple[str, str, str, str, str]]:
        """(hetu, date, provider_id, invoice_no, decision_id) of every day paid for these clients,
        by a run or by finance's answer, in any batch (the ledger as it is now)."""
        if not hetus:
            return []
        history = self.history(exclude_batch="")
        paid = history.paid_days.filter(pl.col("hetu").str.to_uppercase().is_in([h.upper() for h in hetus]))
        return [(h, d.isoformat(), p, i, dec) for h, d, p, i, dec in
                paid.select("hetu", "date", "provider_id", "invoice_no", "decision_id").iter_rows()]

    def earlier_held(self, batch: str) -> list[dict]:
        """Days still held, unanswered, from batches before `batch`: batch, provider_id,
        invoice_no, decision_id, date, rule, held_cents."""
        with self._guard() as conn:
            cursor = conn.execute(
                """SELECT d.batch, d.provider_id, d.invoice_no, d.decision_id, d.date, COALESCE(d.rule, ''),
                          d.held_cents
                   FROM days d WHERE d.state = 'held' AND d.batch < ?
                   AND NOT EXISTS (SELECT 1 FROM resolutions r WHERE r.batch = d.batch
                       AND r.provider_id = d.provider_id AND r.invoice_no = d.invoice_no
                       AND r.decision_id = d.decision_id AND r.date = d.date AND r.resolution IN ('pay', 'reject'))
                   ORDER BY 1, 2, 3, 4, 5""",
                (batch,),
            )
            keys = ("batch", "provider_id", "invoice_no", "decision_id", "date", "rule", "held_cents")
            return [dict(zip(keys, row)) for row in cursor.fetchall()]

    def payments(self, batch: str) -> list[dict]:
        """The batch's payment rows (CONTRACT.md section 8), in the order they were written."""
        with self._guard() as conn:
            cursor = conn.execute(
                f"SELECT {', '.join(PAYMENT_COLUMNS)} FROM payments WHERE batch = ? "
                "ORDER BY provider_id, invoice_no, signed_off_at",
                (batch,),
            )
            return [dict(zip(PAYMENT_COLUMNS, row)) for row in cursor.fetchall()]

    def invoice_record(self, batch: str, invoice_no: str, provider_id: str | None) -> tuple[str, str, str | None, str | None]:
        """(provider_id, status, signed_off_by, signed_off_at) of one recorded invoice.

        An unknown invoice is a LedgerError (exit 3), a number several providers
        used without `provider_id` a UsageError (exit 2).
        """
        query = "SELECT provider_id, status, signed_off_by, signed_off_at FROM invoices WHERE batch = ? AND invoice_no = ?"
        args: tuple = (batch, invoice_no)
        if provider_id:
            query += " AND provider_id = ?"
            args += (provider_id,)
        with self._guard() as conn:
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
        return tuple(rows[0])

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
                     resolutions: list[dict] | None = None) -> None:
        """Replace the batch's record with these results, in one transaction.

        Only processed invoices are recorded (`processed`), with their paid and
        held days (as the checks decided them, before finance's answers) and the
        assessment dates of their rows not rejected as a whole. `outputs_sha256`
        ties the record to the outbox written for it (crash recovery).
        `resolutions`, when given, replaces the batch's answers (a rerun keeps
        those whose day is still held and marks the others void).
        """
        with self._transaction() as conn:
            self.refuse_if_signed_off(batch)
            for table in ("days", "assessments", "invoices", "batches"):
                conn.execute(f"DELETE FROM {table} WHERE batch = ?", (batch,))
            conn.execute(
                "INSERT INTO batches (batch, run_id, recorded_at, outputs_sha256) VALUES (?, ?, ?, ?)",
                (batch, run_id, _stamp(), outputs_sha256),
            )
            for res in results:
                if processed(res):
                    self._record_invoice(conn, batch, res)
            if resolutions is not None:
                self._replace_resolutions(conn, batch, resolutions)

    @staticmethod
    def _replace_resolutions(conn: sqlite3.Connection, batch: str, resolutions: list[dict]) -> None:
        conn.execute("DELETE FROM resolutions WHERE batch = ?", (batch,))
        conn.executemany(
            f"INSERT INTO resolutions ({', '.join(RESOLUTION_COLUMNS)}) VALUES ({', '.join('?' * len(RESOLUTION_COLUMNS))})",
            ([r[c] for c in RESOLUTION_COLUMNS] for r in resolutions),
        )

    def record_finance(self, batch: str, results: list[InvoiceResult], resolutions: list[dict],
                       outputs_sha256: str, sign_off: tuple[str, str, str] | None = None,
                       payment: dict | None = None) -> None:
        """Finance's step on a batch already run, in one transaction: its answers
        (`resolutions`, the batch's whole list), the invoices' totals and statuses
        after them, the outbox they belong to, and a sign-off (provider_id,
        invoice_no, who) with its payment row."""
        with self._transaction() as conn:
            self._replace_resolutions(conn, batch, resolutions)
            for res in results:
                if not processed(res):
                    continue
                total = res.total
                conn.execute(
                    "UPDATE invoices SET status = ?, approved_cents = ?, held_cents = ?, rejected_cents = ? "
                    "WHERE batch = ? AND provider_id = ? AND invoice_no = ?",
                    (res.status, total.approved, total.held, total.rejected, batch, res.provider_id, res.invoice_no),
                )
            if sign_off is not None:
                provider_id, invoice_no, who = sign_off
                conn.execute(
                    "UPDATE invoices SET signed_off_by = ?, signed_off_at = ? WHERE batch = ? AND provider_id = ? "
                    "AND invoice_no = ? AND signed_off_at IS NULL",
                    (who, payment["signed_off_at"] if payment else _now(), batch, provider_id, invoice_no),
                )
            if payment is not None:
                conn.execute(
                    f"INSERT INTO payments ({', '.join(PAYMENT_COLUMNS)}) VALUES ({', '.join('?' * len(PAYMENT_COLUMNS))})",
                    [payment[c] for c in PAYMENT_COLUMNS],
                )
            conn.execute("UPDATE batches SET outputs_sha256 = ? WHERE batch = ?", (outputs_sha256, batch))

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
                .select("decision_id", "hetu", pl.col("date").dt.strftime("%Y-%m-%d"), "outcome", "rule",
                        pl.col("held_cents").fill_null(0) if "held_cents" in res.day_outcomes.columns
                        else pl.lit(0).alias("held_cents"))
                .unique(subset=["decision_id", "hetu", "date", "outcome"], maintain_order=True)
            )
            conn.executemany(
                "INSERT INTO days (batch, provider_id, invoice_no, decision_id, hetu, date, state, rule, held_cents) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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


def _migrate(conn: sqlite3.Connection, path: Path, readonly: bool) -> None:
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


def open_ledger(url_or_path: str, readonly: bool = False) -> Ledger:
    """Open (and create or migrate, unless `readonly`) the ledger at a path or sqlite:/// URL.

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
        _migrate(conn, path, readonly)
    except sqlite3.DatabaseError as e:
        raise LedgerError(f"The ledger {path} cannot be opened: {e}.", "Restore it from a backup; it is never reset.") from None
    except OSError as e:
        raise LedgerError(f"The ledger {path} cannot be created: {e.strerror}.") from None
    return Ledger(path, conn)
