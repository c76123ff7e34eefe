"""The ledger's interface: paid and held days, processed invoices and assessments, across batches.

`batch.run_batch` reads `history(exclude_batch)` before the cross-checks (R217,
R205's week count, F007, R219) and, after the outbox is staged, records the
whole batch with `record_batch` in one transaction that first forgets that
batch's earlier record: a rerun replaces, never counts twice. `reconcile
approve` signs an invoice off; a batch holding a signed-off invoice cannot be
run again (its days can never be paid again; a correction comes in a later
batch). `reconcile check` reads the history read-only.

The same code runs on SQLite and PostgreSQL (SQLAlchemy Core; the tables are
in `schema.py`, reaching a ledger in `connect.py`, the writer's lock in
`locking.py`). Dates are stored as ISO text, money as integer cents. Any
database error becomes a `LedgerError` (exit 3) naming the ledger without
its password; an interrupted transaction records nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import polars as pl
from sqlalchemy import (Connection, Engine, and_, any_, bindparam, delete, exists as sql_exists, false, func, inspect,
                        literal, or_, select, text, update)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, ProgrammingError, SQLAlchemyError

from reconcile import lock as file_lock
from reconcile.errors import LedgerError, UsageError
from reconcile.ledger import connect, locking, schema
from reconcile.ledger.connect import Location
from reconcile.ledger.schema import assessments, batches, days, invoices, payments, resolutions, runs, trend_batches
from reconcile.model import History, InvoiceResult, TrendRecord

_DAY_SCHEMA = {"hetu": pl.Utf8, "date": pl.Utf8, "decision_id": pl.Utf8, "provider_id": pl.Utf8,
               "invoice_no": pl.Utf8, "batch": pl.Utf8, "signed_off": pl.Boolean}
_INVOICE_SCHEMA = {"provider_id": pl.Utf8, "invoice_no": pl.Utf8, "batch": pl.Utf8,
                   "billing_month": pl.Utf8, "status": pl.Utf8, "signed_off": pl.Boolean}
_ASSESSMENT_SCHEMA = {"decision_id": pl.Utf8, "kind": pl.Utf8, "date": pl.Utf8}
_ASSESSMENT_COLUMNS = {"kykyviisari_date": "kykyviisari", "vat_date": "vat"}
RESOLUTION_COLUMNS = ("batch", "provider_id", "invoice_no", "decision_id", "hetu", "date", "rule", "resolution",
                      "amount_cents", "resolved_by", "resolved_at", "reason")
PAYMENT_COLUMNS = ("batch", "provider_id", "provider_name", "invoice_no", "kind", "amount_cents", "signed_off_by",
                   "signed_off_at")


def location(config_ledger: str, outbox: Path, override: str | None = None) -> str:
    """Where the ledger is: `--ledger`, else config's `ledger`, else `<outbox>/ledger.sqlite`."""
    return override or config_ledger or str(outbox / "ledger.sqlite")


def ledger_path(url_or_path: str) -> Path | None:
    """The SQLite file of a path or URL (`sqlite:///rel/x.sqlite`, `sqlite:////abs/x.sqlite`); None for PostgreSQL."""
    return connect.parse(url_or_path).path


def lock_path(url_or_path: str) -> Path | None:
    """The lock file beside a SQLite ledger: `<ledger>.lock` (None for PostgreSQL: the lock is in the database)."""
    path = ledger_path(url_or_path)
    return None if path is None else path.with_name(path.name + ".lock")


def describe(url_or_path: str) -> str:
    """The ledger as messages name it: the file, or the URL without its password."""
    return connect.parse(url_or_path).shown


def _now(precision: str = "seconds") -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec=precision).replace("+00:00", "Z")


def stamp() -> str:
    """A time to the microsecond: runs and answers are ordered by it (`history(as_of=...)`)."""
    return _now("microseconds")


def _answered(answers: tuple[str, ...], as_of: str | None):
    """Whether a `days` row has an answer among `answers` (given before `as_of`, when set)."""
    cond = [resolutions.c.batch == days.c.batch, resolutions.c.provider_id == days.c.provider_id,
            resolutions.c.invoice_no == days.c.invoice_no, resolutions.c.decision_id == days.c.decision_id,
            resolutions.c.date == days.c.date, resolutions.c.resolution.in_(answers)]
    if as_of is not None:
        cond.append(resolutions.c.resolved_at < as_of)
    return sql_exists().where(*cond)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def processed(result: InvoiceResult) -> bool:
    """Recorded in the ledger: attributed, and not rejected by any F rule (F007 duplicates included)."""
    if not result.provider_id or not result.invoice_no or result.billing_month is None:
        return False
    return not any(f.rule.startswith("F") for f in result.findings)


@dataclass(frozen=True)
class Window:
    """Days of these clients or decisions from `first` to `last`."""

    first: dt.date
    last: dt.date
    clients: frozenset[str]  # henkilötunnus, upper case as the ledger keeps them
    decisions: frozenset[str]


@dataclass(frozen=True)
class Scope:
    """What of the ledger a batch can meet: for each month it bills (late invoices apart from the
    rest), the days of its clients and decisions in the Monday–Sunday weeks around the days billed;
    its providers' invoice numbers (those it uses, when given); its decisions' assessments."""

    windows: tuple[Window, ...]
    decisions: frozenset[str]
    providers: frozenset[str]
    invoice_numbers: frozenset[str] | None = None  # None: every number of the providers

    @classmethod
    def of(cls, parts: list[tuple[list[dt.date], set[str], set[str]]], providers,
           invoice_numbers=None) -> "Scope":
        """From (dates billed, clients, decisions) per part: each part's window runs from the Monday
        before its first date to the Sunday after its last; a part without dates meets no days."""
        windows = tuple(
            Window(min(dates) - dt.timedelta(days=min(dates).weekday()),
                   max(dates) + dt.timedelta(days=6 - max(dates).weekday()), frozenset(clients), frozenset(decisions))
            for dates, clients, decisions in parts if dates)
        return cls(windows, frozenset().union(*(d for _, _, d in parts)), frozenset(providers),
                   None if invoice_numbers is None else frozenset(invoice_numbers))

    @classmethod
    def around(cls, dates: list[dt.date], clients, decisions, providers) -> "Scope":
        """One window for all: the days on these dates, whole weeks."""
        return cls.of([(dates, set(clients), set(decisions))], providers)


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
    """An open ledger. Use `open_ledger`; close with `close()` or a `with` block.

    `where` names it in messages (never with a password), `path` is the SQLite
    file (None on PostgreSQL), `backend` is "sqlite" or "postgresql".
    """

    def __init__(self, where: Location, engine: Engine, conn: Connection, readonly: bool,
                 stack: contextlib.ExitStack):
        self.location = where
        self.where = where.shown
        self.path = where.path
        self.backend = where.backend
        self.readonly = readonly
        self._engine = engine
        self._conn = conn
        self._stack = stack
        self.version_found = schema.SCHEMA_VERSION  # the version it had when opened (0: created now)

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (on PostgreSQL this also lets the writer's lock go), then the lock file."""
        with contextlib.ExitStack() as stack:
            stack.push(self._stack)
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
            self._engine.dispose()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A transaction on the ledger's connection: committed at the end of the block, rolled back on any error.

        Nested use joins the outer transaction. Database errors become LedgerError (exit 3).
        Other modules (resolve, payments, the portal) run their own statements on the
        tables of `schema` through this.
        """
        if self._conn.in_transaction():
            yield self._conn
            return
        try:
            with self._conn.begin():
                yield self._conn
        except SQLAlchemyError as e:
            raise self._error(e) from None

    def _error(self, e: SQLAlchemyError) -> LedgerError:
        if connect.lost(e):
            return LedgerError(f"The connection to the ledger {self.where} was lost: {connect.reason(e, self.location)}.",
                               "Nothing of this command was recorded; run it again.")
        return LedgerError(f"The ledger {self.where} cannot be used: {connect.reason(e, self.location)}.",
                           "Restore it from a backup; it is never reset.")

    # Reading

    def history(self, exclude_batch: str = "", *, before: str | None = None, scope: Scope | None = None,
                as_of: str | None = None) -> History:
        """What the ledger knows from every batch but `exclude_batch` ("" excludes none).

        `before` keeps only batches earlier than it (a run sees the past, never later batches,
        so a rerun of an old month gives what its first run gave). `scope` keeps only what a
        batch can meet (see `Scope`), so the cost follows the batch, not the years behind it.

        Finance's answers count (CONTRACT.md section 7): a held day paid by an answer is
        paid (R217, R205), and an answered day is no longer held (R216 across batches).
        `as_of` (a `stamp()`) counts only the answers given before it, as a run saw them
        (`reconcile resolve` and a rebuilt batch check a batch again so). Earlier batches count as
        they stand: a month run again on the same inputs records the same days, so a later month
        still sees what its run saw; one run on other inputs changes the later month's run id.
        """
        signed = invoices.c.signed_off_at.is_not(None).label("signed_off")
        state = {
            "paid": or_(days.c.state == "paid", and_(days.c.state == "held", _answered(("pay",), as_of))),
            "held": and_(days.c.state == "held", ~_answered(("pay", "reject"), as_of)),
        }

        def batches_of(table):
            kept = [table.c.batch != exclude_batch]
            if before is not None:
                kept.append(table.c.batch < before)
            return kept

        with self.transaction() as conn:
            day_rows = {}
            for name, condition in state.items():
                query = (
                    select(days.c.hetu, days.c.date, days.c.decision_id, days.c.provider_id, days.c.invoice_no,
                           days.c.batch, signed)
                    .join(invoices, and_(days.c.batch == invoices.c.batch, days.c.provider_id == invoices.c.provider_id,
                                         days.c.invoice_no == invoices.c.invoice_no))
                    .where(condition, *batches_of(days))
                    .order_by(days.c.batch, days.c.provider_id, days.c.invoice_no, days.c.hetu, days.c.date,
                              days.c.decision_id)
                )
                if scope is not None:  # the dates inside each OR branch: both indexes serve it, (hetu|decision, date)
                    terms = []
                    for w in scope.windows:
                        dates = days.c.date.between(w.first.isoformat(), w.last.isoformat())
                        terms += [and_(self._member(days.c.hetu, w.clients), dates),
                                  and_(self._member(days.c.decision_id, w.decisions), dates)]
                    query = query.where(or_(false(), *terms))
                day_rows[name] = conn.execute(query).all() if scope is None or scope.windows else []
            query = (
                select(invoices.c.provider_id, invoices.c.invoice_no, invoices.c.batch, invoices.c.billing_month,
                       invoices.c.status, signed)
                .where(*batches_of(invoices))
                .order_by(invoices.c.batch, invoices.c.provider_id, invoices.c.invoice_no)
            )
            if scope is not None:
                query = query.where(self._member(invoices.c.provider_id, scope.providers))
                if scope.invoice_numbers is not None:
                    query = query.where(self._member(invoices.c.invoice_no, scope.invoice_numbers))
            invoice_rows = conn.execute(query).all()
            query = (
                select(assessments.c.decision_id, assessments.c.kind, assessments.c.date).distinct()
                .where(*batches_of(assessments))
                .order_by(assessments.c.decision_id, assessments.c.kind, assessments.c.date)
            )
            if scope is not None:
                query = query.where(self._member(assessments.c.decision_id, scope.decisions))
            assessment_rows = conn.execute(query).all()

        def frame(rows: list, schema_: dict, dates: tuple[str, ...]) -> pl.DataFrame:
            df = pl.DataFrame([tuple(r) for r in rows], schema=schema_, orient="row")
            return df.with_columns(pl.col(c).str.to_date("%Y-%m-%d") for c in dates)

        return History(
            paid_days=frame(day_rows["paid"], _DAY_SCHEMA, ("date",)),
            held_days=frame(day_rows["held"], _DAY_SCHEMA, ("date",)),
            invoices=frame(invoice_rows, _INVOICE_SCHEMA, ("billing_month",)),
            assessments=frame(assessment_rows, _ASSESSMENT_SCHEMA, ("date",)),
        )

    def insert_many(self, conn: Connection, table, rows: list[dict]) -> None:
        """Insert many rows in the caller's transaction: PostgreSQL's COPY (ten times faster than
        INSERTs for a batch's tens of thousands of days), else an executemany INSERT."""
        if not rows:
            return
        if self.backend != "postgresql":
            conn.execute(table.insert(), rows)
            return
        import psycopg

        names = list(rows[0])
        statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
        dbapi = conn.connection.dbapi_connection
        try:
            with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([row[n] for n in names])
        except psycopg.Error as e:  # as SQLAlchemy's own errors, so `transaction` words it
            raise DBAPIError.instance(statement, None, e, psycopg.Error,
                                      connection_invalidated=bool(getattr(dbapi, "broken", False))) from None

    def recorded_at(self, batch: str) -> str | None:
        """When a run last recorded the batch, or None when none did."""
        with self.transaction() as conn:
            return conn.execute(select(batches.c.recorded_at).where(batches.c.batch == batch)).scalar()

    def recorded_days(self, batch: str) -> list[tuple[str, str, str, str, str]]:
        """(provider_id, invoice_no, decision_id, date, state) of every day the batch's run recorded."""
        with self.transaction() as conn:
            rows = conn.execute(
                select(days.c.provider_id, days.c.invoice_no, days.c.decision_id, days.c.date, days.c.state)
                .where(days.c.batch == batch)
                .order_by(days.c.provider_id, days.c.invoice_no, days.c.decision_id, days.c.date)
            ).all()
        return [tuple(r) for r in rows]

    def resolutions(self, batch: str) -> list[dict]:
        """Every answer recorded on the batch's held days, void ones included, oldest first."""
        with self.transaction() as conn:
            rows = conn.execute(
                select(*(resolutions.c[c] for c in RESOLUTION_COLUMNS)).where(resolutions.c.batch == batch)
                .order_by(resolutions.c.resolved_at, resolutions.c.provider_id, resolutions.c.invoice_no,
                          resolutions.c.decision_id, resolutions.c.date)
            ).mappings().all()
        return [dict(r) for r in rows]

    def paid_claims(self, hetus: list[str]) -> list[tuple[str, str, str, str, str]]:
        """(hetu, date, provider_id, invoice_no, decision_id) of every day paid for these clients,
        by a run or by finance's answer, in any batch (the ledger as it is now)."""
        if not hetus:
            return []
        wanted = [h.upper() for h in hetus]
        paid = or_(days.c.state == "paid", and_(days.c.state == "held", _answered(("pay",), None)))
        with self.transaction() as conn:
            rows = conn.execute(
                select(days.c.hetu, days.c.date, days.c.provider_id, days.c.invoice_no, days.c.decision_id)
                .where(paid, func.upper(days.c.hetu).in_(wanted))
                .order_by(days.c.hetu, days.c.date, days.c.provider_id, days.c.invoice_no, days.c.decision_id)
            ).all()
        return [tuple(r) for r in rows]

    def earlier_held(self, batch: str) -> list[dict]:
        """Days still held, unanswered, from batches before `batch`: batch, provider_id,
        invoice_no, decision_id, date, rule, held_cents."""
        with self.transaction() as conn:
            rows = conn.execute(
                select(days.c.batch, days.c.provider_id, days.c.invoice_no, days.c.decision_id, days.c.date,
                       func.coalesce(days.c.rule, literal("")).label("rule"), days.c.held_cents)
                .where(days.c.state == "held", days.c.batch < batch, ~_answered(("pay", "reject"), None))
                .order_by(days.c.batch, days.c.provider_id, days.c.invoice_no, days.c.decision_id, days.c.date)
            ).mappings().all()
        return [dict(r) for r in rows]

    def payments(self, batch: str) -> list[dict]:
        """The batch's payment rows (CONTRACT.md section 8), by invoice, in the order they were written."""
        with self.transaction() as conn:
            rows = conn.execute(
                select(*(payments.c[c] for c in PAYMENT_COLUMNS)).where(payments.c.batch == batch)
                .order_by(payments.c.provider_id, payments.c.invoice_no, payments.c.signed_off_at)
            ).mappings().all()
        return [dict(r) for r in rows]

    def invoice_record(self, batch: str, invoice_no: str, provider_id: str | None) -> tuple:
        """(provider_id, status, signed_off_by, signed_off_at) of one recorded invoice.

        An unknown invoice is a LedgerError (exit 3), a number several providers
        used, without `provider_id`, a UsageError (exit 2).
        """
        query = (select(invoices.c.provider_id, invoices.c.status, invoices.c.signed_off_by, invoices.c.signed_off_at)
                 .where(invoices.c.batch == batch, invoices.c.invoice_no == invoice_no)
                 .order_by(invoices.c.provider_id))
        if provider_id:
            query = query.where(invoices.c.provider_id == provider_id)
        with self.transaction() as conn:
            rows = conn.execute(query).all()
        if not rows:
            whose = f" of provider {provider_id}" if provider_id else ""
            raise LedgerError(
                f"Invoice {invoice_no}{whose} is not recorded in batch {batch} of the ledger {self.where}.",
                "Check the batch and the invoice number in finance/approval.csv; invoices rejected as a whole are not recorded.",
            )
        if len(rows) > 1:
            raise UsageError(
                f"Invoice number {invoice_no} of batch {batch} belongs to several providers: "
                f"{', '.join(r[0] for r in rows)}.",
                "Name one with --provider Y-TUNNUS.",
            )
        return tuple(rows[0])

    def _member(self, column, values: frozenset[str]):
        """`column IN values` as ONE parameter (an array on PostgreSQL, JSON on SQLite), however many values."""
        ordered = sorted(values)
        if self.backend == "postgresql":
            return column == any_(bindparam(None, ordered, type_=postgresql.ARRAY(schema.TEXT_)))
        return column.in_(select(func.json_each(json.dumps(ordered)).table_valued("value").c.value))

    def recorded(self, batch: str) -> tuple[str, str] | None:
        """(run_id, outputs_sha256) of the batch's record, or None."""
        with self.transaction() as conn:
            row = conn.execute(select(batches.c.run_id, batches.c.outputs_sha256).where(batches.c.batch == batch)).first()
        return tuple(row) if row else None

    def batch_invoices(self, batch: str) -> list[dict]:
        """The batch's recorded invoices: provider_id, invoice_no, their euro totals in cents, status, signed_off_at."""
        cols = ("provider_id", "invoice_no", "claimed_cents", "approved_cents", "held_cents", "rejected_cents",
                "status", "signed_off_at")
        with self.transaction() as conn:
            rows = conn.execute(select(*(invoices.c[c] for c in cols)).where(invoices.c.batch == batch)
                                .order_by(invoices.c.provider_id, invoices.c.invoice_no)).mappings().all()
        return [dict(r) for r in rows]

    def signed_off(self, batch: str) -> list[tuple[str, str]]:
        """(provider_id, invoice_no) of the batch's signed-off invoices."""
        with self.transaction() as conn:
            rows = conn.execute(
                select(invoices.c.provider_id, invoices.c.invoice_no)
                .where(invoices.c.batch == batch, invoices.c.signed_off_at.is_not(None))
                .order_by(invoices.c.provider_id, invoices.c.invoice_no)
            ).all()
        return [tuple(r) for r in rows]

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

    def trend_record(self, first: str, last: str) -> TrendRecord:
        """What the ledger keeps for the trends report on the batches `first`..`last` (YYYY-MM).

        Works on a ledger of an older version (opened with `older_ok`): a batch
        recorded without trend rows comes with its days counted from `days`.
        Where finance has resolved held days (a `resolutions` table: pay, reject),
        their counts per batch and provider come along.
        """
        span = and_(batches.c.batch >= first, batches.c.batch <= last)  # not BETWEEN: PostgreSQL's grammar refuses COLLATE there
        with self.transaction() as conn:
            tables = set(inspect(conn).get_table_names())
            trends = "trend_batches" in tables
            if trends:
                listed = select(trend_batches.c.batch).where(trend_batches.c.batch == batches.c.batch).exists()
                batch_rows = conn.execute(select(batches.c.batch, listed).where(span).order_by(batches.c.batch)).all()
            else:
                batch_rows = [(b, False) for b in conn.execute(select(batches.c.batch).where(span)
                                                               .order_by(batches.c.batch)).scalars()]
            invoice_rows = conn.execute(
                select(invoices.c.batch, invoices.c.provider_id, invoices.c.invoice_no, invoices.c.approved_cents)
                .where(invoices.c.batch >= first, invoices.c.batch <= last)
                .order_by(invoices.c.batch, invoices.c.provider_id, invoices.c.invoice_no)).all()
            t = schema.trend_rows.c
            row_rows = conn.execute(
                select(t.batch, t.provider_id, t.invoice_no, t.row, t.decision_id, t.hetu, t.days_paid, t.days_held,
                       t.days_rejected, t.guidance)
                .where(t.batch >= first, t.batch <= last).order_by(t.batch, t.provider_id, t.invoice_no, t.row)
            ).all() if trends else []
            old = [b for b, listed in batch_rows if not listed]
            day_rows = conn.execute(
                select(days.c.batch, days.c.provider_id, days.c.state, func.count())
                .where(days.c.batch.in_(old)).group_by(days.c.batch, days.c.provider_id, days.c.state)
                .order_by(days.c.batch, days.c.provider_id, days.c.state)).all() if old else []
            assessment_rows = conn.execute(
                select(assessments.c.decision_id, assessments.c.batch, assessments.c.date).distinct()
                .where(assessments.c.batch <= last)
                .order_by(assessments.c.decision_id, assessments.c.batch, assessments.c.date)).all()
            resolved = []
            if "resolutions" in tables:
                resolved = conn.execute(text(
                    "SELECT batch, provider_id, resolution, count(*) FROM resolutions "
                    "WHERE batch >= :first AND batch <= :last AND resolution IN ('pay', 'reject') "
                    "GROUP BY batch, provider_id, resolution ORDER BY 1, 2, 3"), {"first": first, "last": last}).all()
        return TrendRecord.from_rows([(b, bool(listed)) for b, listed in batch_rows], invoice_rows, row_rows, day_rows,
                                     assessment_rows, resolved)

    def runs(self, batch: str | None = None) -> list[dict]:
        """The log of recorded runs (of one batch, or all), oldest first."""
        query = select(runs).order_by(runs.c.finished_at, runs.c.batch)
        if batch is not None:
            query = query.where(runs.c.batch == batch)
        with self.transaction() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # Writing

    def record_batch(self, batch: str, run_id: str, results: list[InvoiceResult], outputs_sha256: str = "",
                     started_at: str | None = None, who: str | None = None,
                     trend_rows: pl.DataFrame | None = None, resolutions: list[dict] | None = None) -> None:
        """Replace the batch's record with these results, in one transaction.

        Only processed invoices are recorded (`processed`), with their paid and
        held days and the assessment dates of their rows not rejected as a whole.
        `outputs_sha256` ties the record to the outbox written for it (crash recovery).
        The run is logged in `runs` (who, when, the run it replaced). Days are
        recorded as the checks decided them, before finance's answers;
        `resolutions`, when given, replaces the batch's answers (a rerun keeps
        those whose day is still held and marks the others void).
        `trend_rows` (`reconcile.report.rows.ROW_SCHEMA`) is the batch's record for the
        trends report; None records none (the batch reports as one recorded before it).
        """
        finished = _now("microseconds")
        invoice_rows, day_rows, assessment_rows = [], [], set()
        for res in results:
            if processed(res):
                invoice_rows.append(_invoice_row(batch, res))
                day_rows.extend(_day_rows(batch, res))
                assessment_rows.update(_assessment_rows(batch, res))
        with self.transaction() as conn:
            self.refuse_if_signed_off(batch)
            replaced = conn.execute(select(batches.c.run_id).where(batches.c.batch == batch)).scalar()
            for table in (schema.trend_rows, trend_batches, days, assessments, invoices, batches):
                conn.execute(delete(table).where(table.c.batch == batch))
            conn.execute(batches.insert().values(batch=batch, run_id=run_id, recorded_at=finished,
                                                 outputs_sha256=outputs_sha256))
            conn.execute(invoices.insert(), invoice_rows) if invoice_rows else None
            self.insert_many(conn, days, day_rows)
            self.insert_many(conn, assessments, [dict(zip(("batch", "decision_id", "kind", "date"), r))
                                                 for r in sorted(assessment_rows)])
            if trend_rows is not None:
                conn.execute(trend_batches.insert().values(batch=batch))
                self.insert_many(conn, schema.trend_rows, trend_rows.with_columns(batch=pl.lit(batch)).to_dicts())
            conn.execute(runs.insert().values(batch=batch, run_id=run_id, started_at=started_at or finished,
                                              finished_at=finished, who=who or _user(), replaced_run_id=replaced))
            if resolutions is not None:
                _replace_resolutions(conn, batch, resolutions)

    def record_finance(self, batch: str, results: list[InvoiceResult], answers: list[dict], outputs_sha256: str,
                       sign_off: tuple[str, str, str, str] | None = None, payment: dict | None = None) -> None:
        """Finance's step on a batch already run, in one transaction: its answers (the
        batch's whole list), the invoices' totals and statuses after them, the outbox they
        belong to, and a sign-off (provider_id, invoice_no, who, when) with its payment row.
        The trend rows stay as the run recorded them: the report moves answered days itself."""
        with self.transaction() as conn:
            _replace_resolutions(conn, batch, answers)
            for res in results:
                if not processed(res):
                    continue
                total = res.total
                conn.execute(
                    update(invoices)
                    .where(invoices.c.batch == batch, invoices.c.provider_id == res.provider_id,
                           invoices.c.invoice_no == res.invoice_no)
                    .values(status=res.status, approved_cents=total.approved, held_cents=total.held,
                            rejected_cents=total.rejected)
                )
            if sign_off is not None:
                provider_id, invoice_no, who, at = sign_off
                conn.execute(
                    update(invoices)
                    .where(invoices.c.batch == batch, invoices.c.provider_id == provider_id,
                           invoices.c.invoice_no == invoice_no, invoices.c.signed_off_at.is_(None))
                    .values(signed_off_by=who, signed_off_at=at)
                )
            if payment is not None:
                conn.execute(payments.insert().values(**{c: payment[c] for c in PAYMENT_COLUMNS}))
            conn.execute(update(batches).where(batches.c.batch == batch).values(outputs_sha256=outputs_sha256))

    def approve(self, batch: str, invoice_no: str, provider_id: str | None, who: str) -> SignOff:
        """Record finance's sign-off of one invoice of a batch (who, when). A repeat keeps the first."""
        with self.transaction() as conn:  # invoice_record's read joins this transaction
            provider, status, by, at = self.invoice_record(batch, invoice_no, provider_id)
            if at is not None:
                return SignOff(batch, provider, invoice_no, status, by, at, already=True)
            at = _now()
            conn.execute(
                update(invoices)
                .where(invoices.c.batch == batch, invoices.c.provider_id == provider, invoices.c.invoice_no == invoice_no)
                .values(signed_off_by=who, signed_off_at=at)
            )
        return SignOff(batch, provider, invoice_no, status, who, at, already=False)


def _replace_resolutions(conn: Connection, batch: str, answers: list[dict]) -> None:
    conn.execute(delete(resolutions).where(resolutions.c.batch == batch))
    if answers:
        conn.execute(resolutions.insert(), [{c: r[c] for c in RESOLUTION_COLUMNS} for r in answers])


def _invoice_row(batch: str, res: InvoiceResult) -> dict:
    total = res.total
    return {"batch": batch, "provider_id": res.provider_id, "invoice_no": res.invoice_no,
            "billing_month": res.billing_month.isoformat(), "source_file": res.source_file, "status": res.status,
            "claimed_cents": total.claimed, "approved_cents": total.approved, "held_cents": total.held,
            "rejected_cents": total.rejected}


def _day_rows(batch: str, res: InvoiceResult) -> list[dict]:
    if res.day_outcomes is None or not res.day_outcomes.height:
        return []
    return (
        res.day_outcomes.filter(pl.col("outcome").is_in(["paid", "held"]) & pl.col("date").is_not_null())
        .select("decision_id", "hetu", pl.col("date").dt.strftime("%Y-%m-%d"), pl.col("outcome").alias("state"),
                pl.when(pl.col("outcome") == "held").then(pl.col("rule")).alias("rule"),
                (pl.col("held_cents").fill_null(0) if "held_cents" in res.day_outcomes.columns
                 else pl.lit(0, dtype=pl.Int64)).alias("held_cents"))
        .unique(subset=["decision_id", "hetu", "date", "state"], maintain_order=True)
        .with_columns(batch=pl.lit(batch), provider_id=pl.lit(res.provider_id), invoice_no=pl.lit(res.invoice_no))
        .to_dicts()
    )


def _assessment_rows(batch: str, res: InvoiceResult) -> set[tuple[str, str, str, str]]:
    """(batch, decision_id, kind, date) of the invoice's rows not rejected as a whole."""
    clients = res.invoice.clients
    if clients is None or res.rows is None or not clients.height:
        return set()
    kept = res.rows.filter(pl.col("whole").ne_missing("reject")).select("row")
    rows = clients.join(kept, on="row", how="semi").filter(pl.col("decision_id").is_not_null())
    found = set()
    for column, kind in _ASSESSMENT_COLUMNS.items():
        if column in clients.columns:
            dated = rows.filter(pl.col(column).is_not_null()).select("decision_id", pl.col(column).dt.strftime("%Y-%m-%d"))
            found.update((batch, d, kind, when) for d, when in dated.iter_rows())
    return found


def exists(url_or_path: str) -> bool:
    """Whether there is a ledger to read: a non-empty SQLite file, or a PostgreSQL database with tables."""
    where = connect.parse(url_or_path)
    if where.path is not None:
        return where.path.is_file() and where.path.stat().st_size > 0
    eng = connect.engine(where, readonly=True)
    try:
        with eng.connect() as conn, conn.begin():
            return bool(inspect(conn).get_table_names())
    except SQLAlchemyError as e:
        raise _open_error(e, where) from None
    finally:
        eng.dispose()


def _open_error(e: SQLAlchemyError, where: Location) -> LedgerError:
    if where.path is not None:
        return LedgerError(f"The ledger {where} cannot be opened: {connect.reason(e)}.",
                           "Restore it from a backup; it is never reset.")
    if connect.lost(e) and "connect" not in str(e).lower():
        return LedgerError(f"The connection to the ledger {where} was lost: {connect.reason(e, where)}.",
                           "Nothing was recorded; run again.")
    return LedgerError(f"Cannot use the ledger {where}: {connect.reason(e, where)}.",
                       "Check the URL, that the server runs, the user's password (PGPASSWORD or ~/.pgpass) and rights.")


def open_ledger(url_or_path: str, readonly: bool = False, holder: str | None = None, older_ok: bool = False) -> Ledger:
    """Open (and create or migrate, unless `readonly`) the ledger at a path or URL.

    `holder` (a command line, "reconcile run --batch 2026-11") takes the
    ledger's writer lock for the Ledger's life, before anything is created or
    read; a second holder gets LockHeld (exit 4) naming the first. Read-only
    opening of a ledger that does not exist is a LedgerError; callers that can
    do without a ledger ask `exists(...)` first. `older_ok` (read-only): a ledger of an
    older version is read as it is, by readers that can do with what it holds (the trends report).
    """
    where = connect.parse(url_or_path)
    path = where.path
    stack = contextlib.ExitStack()
    try:
        if path is not None:
            if readonly and not path.is_file():
                raise LedgerError(f"The ledger {path} does not exist.")
            if holder:
                stack.enter_context(file_lock.hold(path.with_name(path.name + ".lock"), holder, f"the ledger {path}"))
            if not readonly:
                try:
                    connect.create_private_file(path)
                except OSError as e:
                    raise LedgerError(f"The ledger {path} cannot be created: {e.strerror}.") from None
        eng = connect.engine(where, readonly)
        stack.callback(eng.dispose)
        try:
            conn = eng.connect()
            stack.callback(conn.close)
            if holder and path is None:
                locking.take(conn, holder, where.shown)
            found = _prepare(conn, where, readonly, older_ok)
            if holder and path is None:
                locking.note(conn, holder)
        except SQLAlchemyError as e:
            raise _open_error(e, where) from None
    except BaseException:
        stack.close()
        raise
    book = Ledger(where, eng, conn, readonly, stack)
    book.version_found = found
    return book


def migrate(url_or_path: str) -> tuple[int, int]:
    """Create or upgrade a ledger's schema (as its owner); (version before, version now). 0 before: created."""
    with open_ledger(url_or_path, holder="reconcile ledger migrate") as book:
        return book.version_found, schema.SCHEMA_VERSION


def _prepare(conn: Connection, where: Location, readonly: bool, older_ok: bool = False) -> int:
    """Check (read-only) or create and migrate the schema; the version the ledger had (0: none)."""
    with conn.begin():
        if readonly:
            version = schema.version_of(conn, where.shown)
            if version == 0:
                raise LedgerError(f"The ledger {where} is empty.")
            schema.refuse_newer(version, where.shown)
            if version < schema.SCHEMA_VERSION and not older_ok:
                raise LedgerError(f"The ledger {where} is of an older version ({version}).",
                                  "Run `reconcile ledger migrate` (or `reconcile run`) once to upgrade it.")
            return version
        if where.path is None:
            locking.serialise_migrations(conn)
        try:
            return schema.prepare(conn, where.shown)
        except ProgrammingError as e:  # PostgreSQL: a role without the right to create tables
            if "permission denied" not in str(e):
                raise
            raise LedgerError(f"The ledger {where} needs its tables created or upgraded, and this role may not: "
                              f"{connect.reason(e, where)}.",
                              "Run `reconcile ledger migrate URL` once as the database's owner.") from None


__all__ = ["Ledger", "Scope", "SignOff", "Window", "open_ledger", "migrate", "exists", "location", "ledger_path",
           "lock_path", "describe", "processed", "stamp"]
