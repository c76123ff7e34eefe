"""One run of one batch: every stage in order, then the outbox and the ledger.

    registers -> intake.list_batch -> invoice.read_invoices (the batch, on every core;
                 a large batch's registers are read meanwhile)
    -> ledger history (other batches) -> check.check_invoices
    -> write.write_outbox into outbox/.<batch>.staging (per-submission workbooks on every core)
    -> rename to outbox/.<batch>.ready (complete)
    -> ledger.record_batch (one transaction, tied to the staged manifest's sha256)
    -> swap: outbox/<batch> -> outbox/.<batch>.old, .ready -> outbox/<batch>, delete .old

The order makes a crash harmless. Until the ledger commits, the previous
outbox and ledger stand and the next run throws the staged folder away;
once it commits, the next run finishes the swap (`recover`). So a SIGKILL at
any point leaves the previous complete outbox and ledger or the new ones, and
a rerun converges to the undisturbed result. The whole run holds the locks
on the outbox and on the ledger.

`check_file` is a provider's self-check: one workbook against the registers
and the ledger's history, read-only.

Test hook (never for production): RECONCILE_TEST_PAUSE_AT=read|write|ledger|swap
makes a run announce "paused at <point>" on stderr and sleep there, so a test
can kill it at a known point. read: invoices read, nothing staged; write: the
data files staged, the workbooks and manifest not yet; ledger: outbox staged,
ledger not yet written; swap: ledger written, old outbox moved aside, new one
not yet in place.

Faults: an OSError while writing the outbox (full disk, read-only file
system, no permission) is a `JobError` (exit 3) and leaves the previous
outbox and ledger as they were. A bug in the cross-checks holds only the
invoice it concerns (`check.check_invoices`, finding X900); the batch goes on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from reconcile import __version__, lock, progress
from reconcile.check import check_batch, check_invoices
from reconcile.read import intake, invoice, registers as registers_mod
from reconcile import ledger as ledger_mod
from reconcile.report import rows as report_rows
from reconcile.config import Config
from reconcile.errors import ConfigError, JobError, LedgerError, UsageError
from reconcile.text.format import euros as eur
from reconcile.model import BatchResult, History, Invoice, InvoiceResult, Registers
from reconcile.periods import parse_month
from reconcile.write import make_dirs, write_outbox
from reconcile.write.manifest import MANIFEST, sha256_file

BATCH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_WORK_RE = re.compile(r"^\.(\d{4}-\d{2})\.(staging|ready|old)$")
PAUSE_ENV = "RECONCILE_TEST_PAUSE_AT"


def _pause(point: str) -> None:
    """Test hook: sleep at a named point so a test can SIGKILL the run there."""
    if os.environ.get(PAUSE_ENV) == point:
        print(f"reconcile: paused at {point}", file=sys.stderr, flush=True)
        time.sleep(3600)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def choose_batch(inbox: Path, batch: str | None) -> str:
    """The batch asked for (checked), or the newest `YYYY-MM` folder of the inbox."""
    if batch is not None:
        if not BATCH_RE.match(batch):
            raise UsageError(f"--batch {batch!r} is not a month like 2026-11.")
        if not (inbox / batch).is_dir():
            raise JobError(f"There is no batch folder {inbox / batch}.", "Check --inbox and --batch.")
        return batch
    if not inbox.is_dir():
        raise JobError(f"The inbox {inbox} does not exist.", "Point --inbox at the folder that holds register/ and the batch folders.")
    found = sorted(p.name for p in inbox.iterdir() if p.is_dir() and BATCH_RE.match(p.name))
    if not found:
        raise JobError(f"The inbox {inbox} holds no batch folder named like 2026-11.", "Put the month's invoices in inbox/YYYY-MM/.")
    return found[-1]


def run_id(batch: str, config: Config, inputs: dict[str, str], history: History | None = None) -> str:
    """12 hex digits from the program version, the config, every input's hash and the ledger history
    the run read: the same inputs and the same history give the same id, and the same outputs."""
    digest = hashlib.sha256()
    digest.update(f"{__version__}\n{batch}\n{config.sha256}\n".encode())
    for path, sha in sorted(inputs.items()):
        digest.update(f"{path}\0{sha}\n".encode())
    if history is not None:
        for name in ("paid_days", "held_days", "invoices", "assessments"):
            frame = getattr(history, name)
            digest.update(f"{name}\n".encode())
            digest.update(frame.sort(frame.columns).write_csv().encode())
    return digest.hexdigest()[:12]


def refuse_changed(batch: str, signed: list[tuple[str, str]], previous: tuple[str, str] | None,
                   result: BatchResult, outbox: Path) -> None:
    """A batch with a signed-off invoice is final: it may be rebuilt from unchanged inputs, never re-run on
    changed ones (that would re-pay its days). Names what changed when the earlier manifest is still there."""
    if previous is not None and previous[0] == result.run_id:
        return
    provider_id, invoice_no = signed[0]
    changed = ""
    try:
        earlier = json.loads((outbox / batch / MANIFEST).read_text(encoding="utf-8"))["inputs"]
    except (OSError, ValueError, KeyError, TypeError):
        earlier = None
    if earlier is not None:
        now = result.inputs
        parts = [f"{label}: {', '.join(sorted(names))}" for label, names in (
            ("added", set(now) - set(earlier)), ("removed", set(earlier) - set(now)),
            ("changed", {k for k in set(now) & set(earlier) if now[k] != earlier[k]})) if names]
        changed = f" What changed since run {previous[0] if previous else '?'}: " + ("; ".join(parts) or
                                                                                     "the configuration or the ledger's earlier batches") + "."
    raise LedgerError(
        f"Batch {batch} cannot be run again on changed inputs: invoice {invoice_no} of {provider_id} is already "
        f"signed off ({len(signed)} signed-off invoice(s) in all).{changed}",
        "Send corrections in a later batch; with the inputs as they were, the batch's outbox is rebuilt.",
    )


def _replaces(previous: tuple[str, str] | None, before: list[dict], result: BatchResult, outbox: Path) -> dict | None:
    """What a run that replaces the batch's earlier record of other inputs changes: previous run id,
    invoices added and removed (recorded ones: those not rejected as a whole), euro totals before and after.

    A run of the same inputs as the record keeps what the outbox's manifest said of that record, so
    running it again (or finishing a run killed after its ledger commit) gives the same manifest."""
    if previous is None:
        return None
    if previous[0] == result.run_id:
        try:
            earlier = json.loads((outbox / result.batch / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return earlier.get("replaces") if earlier.get("run_id") == result.run_id else None
    now = [inv for inv in result.invoices if ledger_mod.processed(inv)]
    keys_before = {f"{r['provider_id']}/{r['invoice_no']}" for r in before}
    keys_now = {f"{inv.provider_id}/{inv.invoice_no}" for inv in now}
    money = ("claimed", "approved", "held", "rejected")
    return {
        "previous_run_id": previous[0],
        "invoices_added": sorted(keys_now - keys_before),
        "invoices_removed": sorted(keys_before - keys_now),
        "totals_before_eur": {m: eur(sum(r[f"{m}_cents"] for r in before)) for m in money},
        "totals_after_eur": {m: eur(sum(getattr(inv.total, m) for inv in now)) for m in money},
    }


def _rel(path: Path, inbox: Path) -> str:
    return Path(os.path.relpath(path, inbox)).as_posix()


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(outbox: Path, batch: str) -> None:
    """Put the ready folder in place of the batch's outbox folder; the old one goes last."""
    live, ready, old = outbox / batch, outbox / f".{batch}.ready", outbox / f".{batch}.old"
    if live.exists():
        if old.exists():
            shutil.rmtree(old)
        os.rename(live, old)
    _pause("swap")
    os.rename(ready, live)
    _fsync_dir(outbox)
    if old.exists():
        shutil.rmtree(old)


def recover(outbox: Path, book: ledger_mod.Ledger) -> None:
    """Finish or undo what a crashed run left in the outbox, using the ledger as the judge.

    A staging folder is incomplete: removed. A ready folder whose manifest the
    ledger recorded was committed: swapped in; otherwise it is removed. A
    folder moved aside goes back if nothing replaced it, else it is removed.
    """
    if not outbox.is_dir():
        return
    for batch in sorted({m.group(1) for m in map(_WORK_RE.match, os.listdir(outbox)) if m}):
        live, staging = outbox / batch, outbox / f".{batch}.staging"
        ready, old = outbox / f".{batch}.ready", outbox / f".{batch}.old"
        if staging.exists():
            shutil.rmtree(staging)
        if ready.exists():
            record = book.recorded(batch)
            manifest = ready / MANIFEST
            if record and manifest.is_file() and record[1] == sha256_file(manifest):
                _swap(outbox, batch)
                continue
            shutil.rmtree(ready)
        if old.exists():
            if live.exists():
                shutil.rmtree(old)
            else:
                os.rename(old, live)
        _fsync_dir(outbox)


def run_batch(inbox: Path, outbox: Path, config: Config, batch: str | None = None, ledger: str | None = None) -> BatchResult:
    """Process one batch (default: the newest) and write its outbox folder and ledger record."""
    started = _now()
    batch = choose_batch(inbox, batch)
    where = ledger_mod.location(config.ledger, outbox, ledger)
    make_dirs(outbox)
    command = f"reconcile run --batch {batch}"
    with lock.hold(outbox / ".reconcile.lock", command, f"the outbox {outbox}"), \
            ledger_mod.open_ledger(where, holder=command) as book:  # the ledger's writer lock, held to the end
        recover(outbox, book)
        previous, signed = book.recorded(batch), book.signed_off(batch)
        before = book.batch_invoices(batch) if previous else []
        # A signed-off batch is final; run again, it is rebuilt from the ledger as that run saw it.
        as_of = book.recorded_at(batch) if signed else None

        clock = time.perf_counter()
        registers, submissions, ignored, invoices = read_batch(inbox, batch, config)
        progress.step("read", len(invoices), len(submissions))
        timings = {"read": time.perf_counter() - clock}
        _pause("read")
        history = book.history(exclude_batch=batch, before=batch, scope=history_scope(invoices, registers), as_of=as_of)
        require_rates(invoices, config, batch)
        results, register_findings = check_invoices(invoices, registers, history, config, batch)
        progress.step("reconcile", len(results), len(results))
        timings["reconcile"] = time.perf_counter() - clock - timings["read"]

        inputs = {_rel(sub.path, inbox): sub.sha256 for sub in registers.sources.values()}
        inputs.update({_rel(sub.path, inbox): sub.sha256 for sub in submissions})
        result = BatchResult(
            batch=batch,
            run_id=run_id(batch, config, inputs, history),
            started=started,
            finished=None,
            invoices=results,
            register_findings=register_findings,
            registers=registers,
            ignored=sorted(ignored),
            inputs=inputs,
            timings=timings,
            history=history,
        )
        if signed:
            refuse_changed(batch, signed, previous, result, outbox)
            result.rebuilt = True
        else:
            result.replaces = _replaces(previous, before, result, outbox)
            result.replaced_now = previous is not None and previous[0] != result.run_id
        from reconcile.resolve import finance  # finance's earlier answers: kept, re-priced or voided

        result, resolutions = finance.for_run(result, book)

        staging, ready = outbox / f".{batch}.staging", outbox / f".{batch}.ready"
        result.finished = _now()
        try:
            try:
                clock = time.perf_counter()
                write_outbox(result, staging, config, checkpoint=_pause)
                _fsync_tree(staging)
                os.rename(staging, ready)
                _fsync_dir(outbox)
                timings["reports"] = time.perf_counter() - clock - timings.get("annotate", 0.0)
            except OSError as e:
                raise JobError(f"Could not write the outbox {outbox}: {e.strerror or e}.",
                               "Free some disk space or fix the folder's permissions, then run again; "
                               "the previous results and the ledger are unchanged.") from None
            _pause("ledger")
            clock = time.perf_counter()
            if not result.rebuilt:  # a rebuilt batch leaves the ledger as it was
                book.record_batch(batch, result.run_id, result.invoices, outputs_sha256=sha256_file(ready / MANIFEST),
                                  started_at=started.isoformat(timespec="seconds").replace("+00:00", "Z"),
                                  trend_rows=report_rows.batch_rows(results, registers, ledger_mod.processed),  # before answers
                                  resolutions=resolutions)
        except BaseException:  # nothing committed: the previous outbox and ledger stand
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(ready, ignore_errors=True)
            raise
        timings["ledger"] = time.perf_counter() - clock
        try:
            _swap(outbox, batch)
        except OSError as e:
            raise JobError(f"The ledger recorded batch {batch}, but its outbox could not be put in place: "
                           f"{e.strerror or e}.", "Fix the outbox folder and run again; the next run finishes "
                           "the swap.") from None
    return result


OVERLAP_MIN = 80  # from this many files on the reader works in other processes (invoice.MIN_CHUNK per process)


def read_batch(inbox: Path, batch: str, config: Config) -> tuple[Registers, list, list[str], list[Invoice]]:
    """The registers, the batch's submissions, the lock files ignored, and the invoices read.

    A large batch is read by worker processes while this one only waits, so
    the registers are read meanwhile, in a thread; a small one is read here,
    registers first.
    """
    submissions, ignored = intake.list_batch(inbox / batch)
    if len(submissions) < OVERLAP_MIN:
        registers = registers_mod.read_registers(inbox, config)
        return registers, submissions, ignored, invoice.read_invoices(submissions, config)
    with ThreadPoolExecutor(max_workers=1) as side:
        registers = side.submit(registers_mod.read_registers, inbox, config)
        invoices = invoice.read_invoices(submissions, config)
        return registers.result(), submissions, ignored, invoices


def require_rates(invoices: list[Invoice], config: Config, batch: str) -> None:
    """Every month that will be priced has a rate block: a gap in rates.toml is the city's to fix (exit 3).

    Months after the batch are rejected (F008) and never priced, so they need none.
    """
    last = parse_month(batch)
    months = {last: ""}
    for inv in invoices:
        month = inv.header.billing_month
        if not inv.fatal and month is not None and month <= last:
            months.setdefault(month, inv.source_file)
    for month, source_file in sorted(months.items()):
        if not any(r.valid_from <= month for r in config.rates):
            what = f"billed by {source_file}" if source_file else f"the month of batch {batch}"
            raise ConfigError(
                f"{config.directory / 'rates.toml'} has no rate block for the billed month {month:%Y-%m} ({what}).",
                f"Add a [[rates]] block with valid_from on or before {month.isoformat()}.",
            )


def history_scope(invoices: list[Invoice], registers: Registers) -> ledger_mod.Scope:
    """What of the ledger these invoices can meet (ledger.Scope): per billed month (a late invoice
    apart from the month's own), the weeks of the days billed and the clients (as typed, and as the
    register has their decisions) and decisions billed; the providers and invoice numbers."""
    hetus = dict(registers.decisions.select("decision_id", pl.col("hetu").str.to_uppercase()).iter_rows())
    parts: dict[object, tuple[list[dt.date], set[str], set[str]]] = {}
    providers: set[str] = set()
    numbers: set[str] = set()
    for inv in invoices:
        if inv.header.provider_id:
            providers.add(inv.header.provider_id)
        if inv.header.invoice_no:
            numbers.add(inv.header.invoice_no)
        dates, clients, decisions = parts.setdefault(inv.header.billing_month, ([], set(), set()))
        for frame in (inv.clients, inv.attendance, inv.days):
            if frame is None or not frame.height:
                continue
            if "decision_id" in frame.columns:
                decisions.update(frame.get_column("decision_id").drop_nulls().cast(pl.Utf8).to_list())
            if "hetu" in frame.columns:
                clients.update(frame.get_column("hetu").drop_nulls().cast(pl.Utf8).str.to_uppercase().to_list())
        clients.update(hetus[d] for d in decisions if hetus.get(d))
        if inv.days is not None and inv.days.height:
            known = inv.days.get_column("date").drop_nulls()
            if known.len():
                dates += [known.min(), known.max()]
    return ledger_mod.Scope.of(list(parts.values()), providers, numbers)


def _history(where: str, scope: ledger_mod.Scope | None = None) -> History:
    """What the ledger holds within `scope` (None: all of it), every batch, read-only; empty when there is no ledger yet."""
    if not ledger_mod.exists(where):
        return History.empty()
    with ledger_mod.open_ledger(where, readonly=True) as book:
        return book.history(exclude_batch="", scope=scope)


def check_file(path: Path, inbox: Path, config: Config, ledger: str | None = None) -> InvoiceResult:
    """One workbook against the registers and the ledger's history; writes nothing.

    The batch is the workbook's billed month (this month when it cannot be read).
    `ledger` is a path or URL; None means config's `ledger`, and none at all an empty history.
    """
    registers = registers_mod.read_registers(inbox, config)
    inv = invoice.read_invoice(intake.submission(path), config)
    month = inv.header.billing_month or dt.date.today().replace(day=1)
    where = ledger or config.ledger
    history = _history(where, history_scope([inv], registers)) if where else History.empty()
    results, _ = check_batch([inv], registers, history, config, month.strftime("%Y-%m"))
    return results[0]
