"""The ledger and the locks: what is recorded, replaced, signed off, refused (CONTRACT.md section 5)."""

import datetime as dt
import os
import stat
from pathlib import Path

import polars as pl
import pytest

from ledgers import rows

from reconcile import ledger as ledger_mod
from reconcile import lock
from reconcile.errors import LedgerError, LockHeld, UsageError
from reconcile.findings import Finding, Location
from reconcile.model import ITEMS, Invoice, InvoiceResult, Money, Submission

D = dt.date


def result(
    source_file: str,
    provider: str | None = "1234567-1",
    invoice_no: str | None = "L1",
    month: dt.date | None = D(2026, 11, 1),
    days: list[tuple[str, str, dt.date, str]] = (),
    rules: tuple[str, ...] = (),
    status: str = "approved",
    fee: Money = Money(),
    clients: pl.DataFrame | None = None,
    rows: pl.DataFrame | None = None,
) -> InvoiceResult:
    """A fabricated InvoiceResult: days are (decision_id, hetu, date, outcome)."""
    sub = Submission(Path(source_file), source_file, "0" * 64, 1)
    items = {i: Money() for i in ITEMS}
    items["fee"] = fee
    outcomes = pl.DataFrame(
        [(d, h, day, "Läsnäolo!C7", o, None) for d, h, day, o in days],
        schema={"decision_id": pl.Utf8, "hetu": pl.Utf8, "date": pl.Date, "cell": pl.Utf8, "outcome": pl.Utf8, "rule": pl.Utf8},
        orient="row",
    )
    return InvoiceResult(
        invoice=Invoice(submission=sub, clients=clients),
        provider_id=provider,
        invoice_no=invoice_no,
        billing_month=month,
        status=status,
        items=items,
        rows=rows,
        day_outcomes=outcomes,
        findings=[Finding(r, Location(source_file)) for r in rules],
    )


@pytest.fixture
def book(ledger_url):
    with ledger_mod.open_ledger(ledger_url) as b:
        yield b


table = rows


def test_history_holds_other_batches_paid_and_held_days(book):
    oct_ = result("a.xlsx", month=D(2026, 10, 1), days=[("P1", "010190-123A", D(2026, 10, 30), "paid"),
                                                         ("P1", "010190-123A", D(2026, 10, 29), "held"),
                                                         ("P1", "010190-123A", D(2026, 10, 28), "rejected")])
    book.record_batch("2026-10", "run1", [oct_])
    book.record_batch("2026-11", "run2", [result("b.xlsx", invoice_no="L2", days=[("P1", "010190-123A", D(2026, 11, 2), "paid")])])

    h = book.history(exclude_batch="2026-11")
    assert h.paid_days.select("hetu", "date", "decision_id", "provider_id", "invoice_no", "batch", "signed_off").rows() == [
        ("010190-123A", D(2026, 10, 30), "P1", "1234567-1", "L1", "2026-10", False)
    ]
    assert h.held_days["date"].to_list() == [D(2026, 10, 29)]
    assert h.invoices.rows() == [("1234567-1", "L1", "2026-10", D(2026, 10, 1), "approved", False)]
    assert h.paid_days.schema["date"] == pl.Date

    everything = book.history(exclude_batch="")
    assert sorted(everything.paid_days["date"].to_list()) == [D(2026, 10, 30), D(2026, 11, 2)]


def test_rerun_replaces_the_batch_record(book, ledger_url):
    book.record_batch("2026-11", "run1", [result("a.xlsx", days=[("P1", "010190-123A", D(2026, 11, 2), "paid"),
                                                                 ("P1", "010190-123A", D(2026, 11, 3), "paid")])])
    book.record_batch("2026-11", "run2", [result("a.xlsx", days=[("P1", "010190-123A", D(2026, 11, 3), "paid")])])
    path = ledger_url
    assert table(path, "SELECT batch, date, state FROM days") == [("2026-11", "2026-11-03", "paid")]
    assert table(path, "SELECT batch, run_id FROM batches") == [("2026-11", "run2")]
    assert table(path, "SELECT count(*) FROM invoices") == [(1,)]


def test_only_processed_invoices_are_recorded(book, ledger_url):
    day = [("P1", "010190-123A", D(2026, 11, 2), "paid")]
    results = [
        result("ok.xlsx", invoice_no="OK", days=day, fee=Money(4500, 4500, 0, 0)),
        result("dup1.xlsx", invoice_no="D", days=day, rules=("F007",), status="duplicate"),
        result("bad.xlsx", invoice_no="B", days=day, rules=("F006",), status="rejected"),
        result("unread.xlsx", provider=None, invoice_no=None, month=None, rules=("F001",)),
        result("zero.xlsx", invoice_no="Z", rules=("R201",), status="rejected"),
    ]
    book.record_batch("2026-11", "run", results)
    path = ledger_url
    assert table(path, "SELECT invoice_no, status, claimed_cents, approved_cents FROM invoices ORDER BY 1") == [
        ("OK", "approved", 4500, 4500), ("Z", "rejected", 0, 0)]
    assert table(path, "SELECT invoice_no FROM days") == [("OK",)]


def test_assessments_of_rows_not_rejected_as_a_whole(book):
    # P2's row is rejected as a whole (say R202: another client): its dates are not the decision's.
    # P3's row is rejected only because every day failed a day check: the assessment still happened.
    clients = pl.DataFrame({"row": [5, 6, 7], "decision_id": ["P1", "P2", "P3"],
                            "kykyviisari_date": [D(2026, 11, 3), D(2026, 11, 4), None],
                            "vat_date": [None, D(2026, 11, 5), D(2026, 11, 6)]},
                           schema_overrides={"vat_date": pl.Date})
    rows = pl.DataFrame({"row": [5, 6, 7], "decision_id": ["P1", "P2", "P3"],
                         "status": ["approved", "rejected", "rejected"], "whole": [None, "reject", None]},
                        schema_overrides={"whole": pl.Utf8})
    book.record_batch("2026-11", "run", [result("a.xlsx", clients=clients, rows=rows)])
    assert book.history("2026-12").assessments.rows() == [("P1", "kykyviisari", D(2026, 11, 3)),
                                                          ("P3", "vat", D(2026, 11, 6))]


def test_approve_signs_off_once_and_then_the_batch_is_final(book):
    book.record_batch("2026-11", "run", [result("a.xlsx", days=[("P1", "010190-123A", D(2026, 11, 2), "paid")])])
    first = book.approve("2026-11", "L1", None, "maija")
    assert (first.provider_id, first.signed_off_by, first.already) == ("1234567-1", "maija", False)
    again = book.approve("2026-11", "L1", "1234567-1", "pekka")
    assert (again.signed_off_by, again.signed_off_at, again.already) == ("maija", first.signed_off_at, True)
    assert book.history("2026-12").paid_days["signed_off"].to_list() == [True]
    with pytest.raises(LedgerError, match="already signed off") as e:
        book.record_batch("2026-11", "run2", [])
    assert e.value.exit_code == 3
    assert book.history("").paid_days.height == 1  # the refused rerun changed nothing


def test_approve_unknown_and_ambiguous_invoice(book):
    book.record_batch("2026-11", "run", [result("a.xlsx", provider="1234567-1", invoice_no="7"),
                                         result("b.xlsx", provider="7654321-8", invoice_no="7")])
    with pytest.raises(UsageError, match="1234567-1, 7654321-8") as e:
        book.approve("2026-11", "7", None, "maija")
    assert e.value.exit_code == 2
    assert book.approve("2026-11", "7", "7654321-8", "maija").provider_id == "7654321-8"
    with pytest.raises(LedgerError, match="not recorded") as e:
        book.approve("2026-11", "8", None, "maija")
    assert e.value.exit_code == 3
    with pytest.raises(LedgerError):
        book.approve("2026-10", "7", "1234567-1", "maija")


def test_newer_schema_version_is_refused_not_reset(ledger_url):
    ledger_mod.open_ledger(ledger_url).close()
    table(ledger_url, "UPDATE schema_version SET version = 99")
    for readonly in (False, True):
        with pytest.raises(LedgerError, match="version 99") as e:
            ledger_mod.open_ledger(ledger_url, readonly=readonly)
        assert e.value.exit_code == 3
    assert table(ledger_url, "SELECT version FROM schema_version") == [(99,)]


def test_version_1_ledger_migrates_forward_and_keeps_its_records(ledger_url):
    # A ledger as version 1 wrote it: its four tables and indexes, no runs log, no lock_holders.
    for statement in V1_SCHEMA:
        table(ledger_url, statement)
    table(ledger_url, "INSERT INTO batches VALUES ('2026-10', 'old', '2026-11-01T00:00:00Z', '')")
    table(ledger_url, "INSERT INTO invoices VALUES ('2026-10', '1234567-1', 'L1', '2026-10-01', 'a.xlsx', 'approved',"
                      " 4500, 4500, 0, 0, NULL, NULL)")
    table(ledger_url, "INSERT INTO days VALUES ('2026-10', '1234567-1', 'L1', 'P1', '010190-123A', '2026-10-30', 'paid')")
    with pytest.raises(LedgerError, match="older version"):
        ledger_mod.open_ledger(ledger_url, readonly=True)  # a reader never migrates
    with ledger_mod.open_ledger(ledger_url) as b:
        assert b.history("2026-11").paid_days.rows() == [
            ("010190-123A", D(2026, 10, 30), "P1", "1234567-1", "L1", "2026-10", False)]
        b.record_batch("2026-10", "new", [])
        assert [(r["batch"], r["run_id"], r["replaced_run_id"]) for r in b.runs()] == [("2026-10", "new", "old")]
    assert table(ledger_url, "SELECT version FROM schema_version") == [(ledger_mod.schema.SCHEMA_VERSION,)]
    assert table(ledger_url, "SELECT count(*) FROM trend_batches") == [(0,)]  # version 3 made it; no trend rows given
    assert table(ledger_url, "SELECT rule, held_cents FROM days") == []  # the columns version 4 added (the rerun emptied it)
    assert table(ledger_url, "SELECT count(*) FROM resolutions") == [(0,)]  # version 4: resolutions, payments


V1_SCHEMA = (  # version 1's own statements, as reconcile 0.1 ran them
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version (version) VALUES (1)",
    "CREATE TABLE batches (batch TEXT PRIMARY KEY, run_id TEXT NOT NULL, recorded_at TEXT NOT NULL,"
    " outputs_sha256 TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE invoices (batch TEXT NOT NULL REFERENCES batches (batch), provider_id TEXT NOT NULL,"
    " invoice_no TEXT NOT NULL, billing_month TEXT NOT NULL, source_file TEXT NOT NULL, status TEXT NOT NULL,"
    " claimed_cents INTEGER NOT NULL, approved_cents INTEGER NOT NULL, held_cents INTEGER NOT NULL,"
    " rejected_cents INTEGER NOT NULL, signed_off_by TEXT, signed_off_at TEXT,"
    " PRIMARY KEY (batch, provider_id, invoice_no))",
    "CREATE INDEX invoices_number ON invoices (provider_id, invoice_no)",
    "CREATE TABLE days (batch TEXT NOT NULL, provider_id TEXT NOT NULL, invoice_no TEXT NOT NULL,"
    " decision_id TEXT NOT NULL, hetu TEXT NOT NULL, date TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('paid', 'held')),"
    " FOREIGN KEY (batch, provider_id, invoice_no) REFERENCES invoices (batch, provider_id, invoice_no))",
    "CREATE INDEX days_batch ON days (batch)",
    "CREATE INDEX days_client ON days (hetu, date)",
    "CREATE TABLE assessments (batch TEXT NOT NULL, decision_id TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('kykyviisari', 'vat')), date TEXT NOT NULL,"
    " UNIQUE (batch, decision_id, kind, date))",
)


def test_writer_lock_is_one_holder_at_a_time_and_names_it(ledger_url):
    with ledger_mod.open_ledger(ledger_url, holder="reconcile run --batch 2026-11") as first:
        with pytest.raises(LockHeld, match=rf"`reconcile run --batch 2026-11` \(pid {os.getpid()} on ") as e:
            ledger_mod.open_ledger(ledger_url, holder="reconcile approve")
        assert e.value.exit_code == 4 and "holds the lock on the ledger" in str(e.value)
        with ledger_mod.open_ledger(ledger_url, readonly=True) as reader:  # readers go on
            assert reader.recorded("2026-11") is None
        first.record_batch("2026-11", "run", [])
    with ledger_mod.open_ledger(ledger_url, holder="reconcile approve") as again:  # let go on close
        assert again.recorded("2026-11")[0] == "run"


def test_runs_log_who_when_and_what_was_replaced(book):
    book.record_batch("2026-11", "r1", [], started_at="2026-12-01T10:00:00Z", who="maija")
    book.record_batch("2026-11", "r2", [], who="pekka")
    book.record_batch("2026-10", "r3", [])
    log = book.runs("2026-11")
    assert [(r["run_id"], r["who"], r["replaced_run_id"]) for r in log] == [("r1", "maija", None), ("r2", "pekka", "r1")]
    assert log[0]["started_at"] == "2026-12-01T10:00:00Z" and log[0]["finished_at"] < log[1]["finished_at"]
    assert len(book.runs()) == 3


@pytest.mark.parametrize("content", [b"this is not a database" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_corrupt_ledger_is_a_job_error(tmp_path, content):
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(content)
    with pytest.raises(LedgerError, match="ledger") as e:
        ledger_mod.open_ledger(str(path))
    assert e.value.exit_code == 3
    assert path.read_bytes() == content


def test_a_database_that_is_not_a_ledger(ledger_url):
    table(ledger_url, "CREATE TABLE x (a INTEGER)")
    for readonly in (False, True):
        with pytest.raises(LedgerError, match="not a reconcile ledger") as e:
            ledger_mod.open_ledger(ledger_url, readonly=readonly)
        assert e.value.exit_code == 3
    assert table(ledger_url, "SELECT count(*) FROM x") == [(0,)]  # left as it was, nothing added


def test_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LedgerError, match="Cannot use the ledger postgresql://finance@db.invalid/reconcile: ") as e:
        ledger_mod.open_ledger("postgresql://finance:s3cret@db.invalid/reconcile")  # .invalid never resolves
    assert e.value.exit_code == 3 and "s3cret" not in str(e.value)
    assert ledger_mod.describe("postgresql+psycopg://u:pw@h:5433/db?password=pw") == "postgresql://u@h:5433/db"
    assert ledger_mod.ledger_path("postgres://u@h/db") is None and ledger_mod.lock_path("postgresql://u@h/db") is None
    with pytest.raises(LedgerError, match="not understood"):
        ledger_mod.open_ledger("mysql://x/y")
    ledger_mod.open_ledger("sqlite:///sub/l.sqlite").close()
    ledger_mod.open_ledger(f"sqlite:///{tmp_path}/abs.sqlite").close()
    assert (tmp_path / "sub" / "l.sqlite").is_file() and (tmp_path / "abs.sqlite").is_file()
    assert ledger_mod.lock_path("sqlite:///sub/l.sqlite") == Path("sub/l.sqlite.lock")
    assert ledger_mod.location("", Path("out")) == str(Path("out") / "ledger.sqlite")
    assert ledger_mod.location("cfg.sqlite", Path("out"), "cli.sqlite") == "cli.sqlite"


def test_ledger_file_and_folder_are_private(tmp_path):
    umask = os.umask(0o022)
    try:
        ledger_mod.open_ledger(str(tmp_path / "new" / "deeper" / "ledger.sqlite")).close()
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new" / "deeper" / "ledger.sqlite").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "new" / "deeper").stat().st_mode) == 0o750


def test_readonly_never_creates(tmp_path):
    with pytest.raises(LedgerError, match="does not exist"):
        ledger_mod.open_ledger(str(tmp_path / "none.sqlite"), readonly=True)
    assert not (tmp_path / "none.sqlite").exists()


def test_second_holder_of_a_lock_is_told_who_holds_it(tmp_path):
    path = tmp_path / ".reconcile.lock"
    with lock.hold(path, "reconcile run --batch 2026-11", "the outbox out"):
        with pytest.raises(LockHeld, match=rf"the outbox out: `reconcile run --batch 2026-11` \(pid {os.getpid()} on ") as e:
            with lock.hold(path, "reconcile run", "the outbox out"):
                pass
        assert e.value.exit_code == 4
    with lock.hold(path, "reconcile run", "the outbox out"):  # released: free again
        pass


def test_history_within_a_scope_and_before_a_batch(book):
    # October: client A (decision P1) on the 5th and Monday the 26th; client B (P2) on the 27th;
    # decision P3 (another client's id typed) held on the 28th. Another provider's invoice without days.
    clients = pl.DataFrame({"row": [5, 6], "decision_id": ["P1", "P2"],
                            "kykyviisari_date": [D(2026, 10, 1), D(2026, 10, 2)], "vat_date": [None, None]},
                           schema_overrides={"vat_date": pl.Date})
    rows_ = pl.DataFrame({"row": [5, 6], "decision_id": ["P1", "P2"], "whole": [None, None]},
                         schema_overrides={"whole": pl.Utf8})
    book.record_batch("2026-10", "r10", [
        result("a.xlsx", month=D(2026, 10, 1), clients=clients, rows=rows_,
               days=[("P1", "A", D(2026, 10, 5), "paid"), ("P1", "A", D(2026, 10, 26), "paid"),
                     ("P2", "B", D(2026, 10, 27), "paid"), ("P3", "C", D(2026, 10, 28), "held")]),
        result("b.xlsx", provider="7654321-8", invoice_no="M1", month=D(2026, 10, 1)),
    ])
    # December (later than the batch asking): client A on 2 November, late.
    book.record_batch("2026-12", "r12", [result("c.xlsx", invoice_no="L9", month=D(2026, 11, 1),
                                                days=[("P1", "A", D(2026, 11, 2), "paid")])])
    # A November batch billing Wednesday 28 October to Tuesday 3 November: weeks 26 Oct - 8 Nov.
    scope = ledger_mod.Scope.around([D(2026, 11, 3), D(2026, 10, 28)], {"A"}, {"P1", "P3"}, {"1234567-1"})
    assert [(w.first, w.last) for w in scope.windows] == [(D(2026, 10, 26), D(2026, 11, 8))]
    h = book.history("2026-11", before="2026-11", scope=scope)
    assert h.paid_days.select("hetu", "date", "decision_id", "batch").rows() == [("A", D(2026, 10, 26), "P1", "2026-10")]
    assert h.held_days.select("hetu", "date", "decision_id").rows() == [("C", D(2026, 10, 28), "P3")]
    assert h.invoices.select("provider_id", "invoice_no").rows() == [("1234567-1", "L1")]
    assert h.assessments.rows() == [("P1", "kykyviisari", D(2026, 10, 1))]
    # Without `before`, the later batch counts too; without a scope, everything.
    assert book.history("2026-11", scope=scope).paid_days["date"].to_list() == [D(2026, 10, 26), D(2026, 11, 2)]
    assert book.history("2026-11").paid_days.height == 4
    empty = ledger_mod.Scope.around([], set(), set(), set())  # a batch without days meets no days
    assert book.history("", scope=empty).paid_days.height == 0
    # A late invoice is a window of its own: client A's whole October, without widening client B's.
    two = ledger_mod.Scope.of([([D(2026, 11, 3)], {"B"}, {"P2"}), ([D(2026, 10, 5), D(2026, 10, 6)], {"A"}, {"P1"})],
                              {"1234567-1"})
    assert [(w.first, w.last) for w in two.windows] == [(D(2026, 11, 2), D(2026, 11, 8)), (D(2026, 10, 5), D(2026, 10, 11))]
    assert book.history("2026-11", before="2026-11", scope=two).paid_days.select("hetu", "date").rows() == [
        ("A", D(2026, 10, 5))]
    assert two.decisions == {"P1", "P2"}
    numbered = ledger_mod.Scope.of([], {"1234567-1", "7654321-8"}, {"M1"})  # F007 asks only for its numbers
    assert book.history("2026-11", scope=numbered).invoices.select("provider_id", "invoice_no").rows() == [
        ("7654321-8", "M1")]
