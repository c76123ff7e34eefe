"""Finance's steps on a batch already run: `reconcile resolve` and `reconcile approve`.

Both hold the same locks as a run (the outbox's and the ledger's: a run or
another resolution in progress is exit 4), then:

1. re-check the batch from its inbox folder exactly as its run saw the
   ledger (`history(as_of=<when the run recorded it>)`), and make sure the
   result is the one the ledger recorded: the same run id (same inputs,
   configuration and program) and the same paid and held days; otherwise
   exit 3 with the advice to run the batch again;
2. apply the batch's answers (`money.apply_answers`): new ones decided by
   `decide` for resolve, a sign-off and its payment row for approve;
3. write the whole outbox of the batch into a staging folder, as a run
   does, with the finance files after the answers; rename it ready;
4. record the answers, the invoices' totals, the sign-off and payment and
   the new manifest's hash in the ledger, in one transaction;
5. swap the ready folder in.

So a SIGKILL at any point leaves the previous outbox and ledger or the new
ones: until step 4 commits, the next command throws the staged folder away;
after it, the next command finishes the swap (`batch.recover`).

`settle` is also what a run does with the answers already given: those
whose day the run still holds are kept (and re-priced), the others marked
`void` with the reason that the day is no longer held.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from reconcile import batch as batch_mod, lock
from reconcile.config import Config
from reconcile.errors import JobError, UsageError
from reconcile import ledger as ledger_mod
from reconcile.model import BatchResult, InvoiceResult
from reconcile.resolve import money
from reconcile.resolve.answers import read_answers
from reconcile.resolve.decide import HeldDay, Refused, Taken, decide
from reconcile.write import make_dirs, write_outbox
from reconcile.write.manifest import MANIFEST, sha256_file


@dataclass
class Resolved:
    """What `resolve_batch` did: the lines taken and refused, and the batch after them."""

    batch: str
    taken: list[Taken]
    refused: list[Refused]
    repeats: int
    result: BatchResult | None
    folder: Path


@dataclass
class Approved:
    batch: str
    provider_id: str
    invoice_no: str
    status: str
    signed_off_by: str
    signed_off_at: str
    already: bool  # signed off before
    payment: dict | None  # the payment row written, or None when nothing new was approved


def _stamp() -> str:
    return ledger_mod.stamp()


def _key(provider_id: str | None, invoice_no: str | None, decision_id: str, day: dt.date) -> tuple:
    return (provider_id or "", invoice_no or "", decision_id, day)


def held_of(result: BatchResult) -> list[HeldDay]:
    """Every held day of the batch's invoices, with its euros."""
    out = []
    for inv in result.invoices:
        for d in money.held_days(inv).iter_rows(named=True):
            out.append(HeldDay(inv.provider_id or "", inv.invoice_no or "", d["decision_id"], d["hetu"] or "",
                               d["date"], d["rule"] or "", d["held_cents"]))
    return out


def settle(result: BatchResult, resolutions: list[dict]) -> tuple[BatchResult, list[dict]]:
    """The batch with its answers applied, and the answers as they now stand.

    Each invoice's day outcomes get `held_cents` (the euros a held day holds,
    before any answer). An answer whose day is still held is applied and its
    `amount_cents` re-computed; one whose day is no longer held becomes `void`.
    """
    invoices = [money.with_shares(inv) for inv in result.invoices]
    held = {d.key for d in held_of(dataclasses.replace(result, invoices=invoices))}
    per_invoice: dict[tuple[str, str], dict] = {}
    out: list[dict] = []
    for r in resolutions:
        r = dict(r)
        out.append(r)
        if r["resolution"] == "void":
            continue
        day = dt.date.fromisoformat(r["date"])
        if _key(r["provider_id"], r["invoice_no"], r["decision_id"], day) not in held:
            r.update(reason=f"the day is no longer held (was {r['resolution']}"
                            + (f": {r['reason']})" if r["reason"] else ")"),
                     resolution="void", amount_cents=0)
            continue
        per_invoice.setdefault((r["provider_id"], r["invoice_no"]), {})[(r["decision_id"], day)] = r
    settled = []
    for inv in invoices:
        mine = per_invoice.get((inv.provider_id or "", inv.invoice_no or ""), {})
        if mine:
            inv, moved = money.apply_answers(inv, {k: r["resolution"] for k, r in mine.items()})
            for k, r in mine.items():
                r["amount_cents"] = moved.get(k, 0)
        settled.append(inv)
    return dataclasses.replace(result, invoices=settled), out


def for_run(result: BatchResult, book: ledger_mod.Ledger) -> tuple[BatchResult, list[dict]]:
    """A run's results with the batch's earlier answers kept or voided, and what finance files show."""
    result, resolutions = settle(result, book.resolutions(result.batch))
    return _with_finance(result, book, resolutions), resolutions


def _with_finance(result: BatchResult, book: ledger_mod.Ledger, resolutions: list[dict]) -> BatchResult:
    return dataclasses.replace(result, resolutions=resolutions, payments=book.payments(result.batch),
                               earlier_held=book.earlier_held(result.batch))


def recheck(inbox: Path, config: Config, batch: str, book: ledger_mod.Ledger) -> BatchResult:
    """The batch checked again as its run saw the ledger; exit 3 unless it is what the ledger recorded."""
    record = book.recorded(batch)
    if record is None:
        raise JobError(f"Batch {batch} was never run on this ledger.", f"Run it first: reconcile run --batch {batch}.")
    started = dt.datetime.now(dt.timezone.utc)
    if not (inbox / batch).is_dir():
        raise JobError(f"There is no batch folder {inbox / batch}.", "Point --inbox at the inbox the batch was run from.")
    registers, submissions, ignored, invoices = batch_mod.read_batch(inbox, batch, config)
    history = book.history(exclude_batch=batch, before=batch, scope=batch_mod.history_scope(invoices, registers),
                           as_of=book.recorded_at(batch))
    batch_mod.require_rates(invoices, config, batch)
    results, register_findings = batch_mod.check_invoices(invoices, registers, history, config, batch)
    inputs = {batch_mod._rel(sub.path, inbox): sub.sha256 for sub in registers.sources.values()}
    inputs.update({batch_mod._rel(sub.path, inbox): sub.sha256 for sub in submissions})
    result = BatchResult(batch=batch, run_id=batch_mod.run_id(batch, config, inputs, history), started=started, finished=None,
                         invoices=results, register_findings=register_findings, registers=registers,
                         ignored=sorted(ignored), inputs=inputs, history=history)
    again = f"Run the batch again first (reconcile run --batch {batch}), then answer its held days."
    if result.run_id != record[0]:
        raise JobError(f"The inputs, configuration or program of batch {batch} changed since it was run.", again)
    recorded = {(p, i, d, day, state) for p, i, d, day, state in book.recorded_days(batch)}
    now = set()
    for inv in results:
        if inv.day_outcomes is None or not ledger_mod.processed(inv):
            continue
        for d, day, outcome in inv.day_outcomes.filter(pl.col("outcome").is_in(["paid", "held"])
                                                       & pl.col("date").is_not_null()).select(
                "decision_id", "date", "outcome").iter_rows():
            now.add((inv.provider_id, inv.invoice_no, d, day.isoformat(), outcome))
    if now != recorded:
        raise JobError(f"Checked again, batch {batch} no longer gives the paid and held days its run recorded "
                       "(the ledger changed under it).", again)
    return result


def publish(result: BatchResult, outbox: Path, config: Config, commit: Callable[[str], None]) -> None:
    """Stage the batch's whole outbox, commit the ledger with its manifest's hash, swap it in."""
    batch = result.batch
    staging, ready = outbox / f".{batch}.staging", outbox / f".{batch}.ready"
    result.finished = dt.datetime.now(dt.timezone.utc)
    try:
        try:
            write_outbox(result, staging, config, checkpoint=batch_mod._pause)
            batch_mod._fsync_tree(staging)
            os.rename(staging, ready)
            batch_mod._fsync_dir(outbox)
        except OSError as e:
            raise JobError(f"Could not write the outbox {outbox}: {e.strerror or e}.",
                           "Free some disk space or fix the folder's permissions, then try again; "
                           "the previous results and the ledger are unchanged.") from None
        batch_mod._pause("ledger")
        commit(sha256_file(ready / MANIFEST))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(ready, ignore_errors=True)
        raise
    try:
        batch_mod._swap(outbox, batch)
    except OSError as e:
        raise JobError(f"The ledger recorded the change to batch {batch}, but its outbox could not be put in place: "
                       f"{e.strerror or e}.", "Fix the outbox folder and try again; the next command finishes the swap.") from None


def _check_batch_name(batch: str) -> None:
    if not batch_mod.BATCH_RE.match(batch or ""):
        raise UsageError(f"--batch {batch!r} is not a month like 2026-11.")


@contextlib.contextmanager
def _held(outbox: Path, where: str, command: str) -> Iterator[ledger_mod.Ledger]:
    """The outbox's lock and the ledger's writer lock, as a run holds them (exit 4 when taken)."""
    if not ledger_mod.exists(where):
        raise JobError(f"There is no ledger at {ledger_mod.describe(where)}.",
                       "Run `reconcile run` first, or point --ledger at the ledger.")
    make_dirs(outbox)
    with lock.hold(outbox / ".reconcile.lock", command, f"the outbox {outbox}"), \
            ledger_mod.open_ledger(where, holder=command) as book:
        yield book


def resolve_batch(inbox: Path, outbox: Path, config: Config, batch: str, file: Path | None = None,
                  ledger: str | None = None, who: str = "") -> Resolved:
    """`reconcile resolve`: read finance's answers, decide them, apply them, rewrite and record atomically."""
    _check_batch_name(batch)
    where = ledger_mod.location(config.ledger, outbox, ledger)
    path = Path(file) if file else outbox / batch / "finance" / "approval.xlsx"
    folder = outbox / batch
    with _held(outbox, where, f"reconcile resolve --batch {batch}") as book:
        batch_mod.recover(outbox, book)
        if book.recorded(batch) is None:
            raise JobError(f"Batch {batch} was never run on this ledger.", f"Run it first: reconcile run --batch {batch}.")
        answers = read_answers(path)
        result = recheck(inbox, config, batch, book)
        existing = book.resolutions(batch)
        held = held_of(dataclasses.replace(result, invoices=[money.with_shares(i) for i in result.invoices]))
        answered = {}
        for r in existing:
            if r["resolution"] != "void":
                answered[_key(r["provider_id"], r["invoice_no"], r["decision_id"], dt.date.fromisoformat(r["date"]))] = r["resolution"]
        paid = [(h, dt.date.fromisoformat(day), (p, i, d)) for h, day, p, i, d in
                book.paid_claims(sorted({d.hetu for d in held}))]
        per_week = dict(result.registers.decisions.select("decision_id", "days_per_week").iter_rows())
        taken, refused, repeats = decide(answers, held, answered, paid, per_week)
        if not taken:
            return Resolved(batch, taken, refused, repeats, None, folder)
        at = _stamp()
        new = [{"batch": batch, "provider_id": t.day.provider_id, "invoice_no": t.day.invoice_no,
                "decision_id": t.day.decision_id, "hetu": t.day.hetu, "date": t.day.date.isoformat(),
                "rule": t.day.rule, "resolution": t.answer.resolution, "amount_cents": 0, "resolved_by": who,
                "resolved_at": at, "reason": t.answer.reason} for t in taken]
        result, resolutions = settle(result, existing + new)
        result = _with_finance(result, book, resolutions)
        publish(result, outbox, config,
                lambda sha: book.record_finance(batch, result.invoices, resolutions, sha))
        return Resolved(batch, taken, refused, repeats, result, folder)


def approved_unsigned(outbox: Path, config: Config, batch: str, ledger: str | None = None) -> list[tuple[str, str]]:
    """(provider_id, invoice_no) of the batch's recorded invoices whose status is `approved` and that nobody
    has signed off yet: what `reconcile approve --all-approved` signs off."""
    _check_batch_name(batch)
    where = ledger_mod.location(config.ledger, outbox, ledger)
    if not ledger_mod.exists(where):
        raise JobError(f"There is no ledger at {ledger_mod.describe(where)}.", f"Run the batch first: reconcile run --batch {batch}.")
    with ledger_mod.open_ledger(where, readonly=True) as book:
        return [(r["provider_id"], r["invoice_no"]) for r in book.batch_invoices(batch)
                if r["status"] == "approved" and r["signed_off_at"] is None]


def approve_invoice(inbox: Path, outbox: Path, config: Config, batch: str, invoice_no: str,
                    provider_id: str | None = None, ledger: str | None = None, who: str = "") -> Approved:
    """`reconcile approve`: sign an invoice off and write its payment row (CONTRACT.md section 8).

    The first sign-off writes a row of kind `invoice` for the approved total;
    signing off again after held days were paid writes a `supplement` for what
    was approved since. Nothing new to pay changes nothing.
    """
    _check_batch_name(batch)
    where = ledger_mod.location(config.ledger, outbox, ledger)
    with _held(outbox, where, f"reconcile approve --batch {batch} --invoice {invoice_no}") as book:
        batch_mod.recover(outbox, book)
        provider, status, by, at = book.invoice_record(batch, invoice_no, provider_id)
        payments = book.payments(batch)
        paid = sum(p["amount_cents"] for p in payments if (p["provider_id"], p["invoice_no"]) == (provider, invoice_no))
        result = recheck(inbox, config, batch, book)
        result, resolutions = settle(result, book.resolutions(batch))
        inv = next(i for i in result.invoices if (i.provider_id, i.invoice_no) == (provider, invoice_no)
                   and ledger_mod.processed(i))
        approved = inv.total.approved
        if at is not None and approved <= paid:
            return Approved(batch, provider, invoice_no, inv.status, by, at, already=True, payment=None)
        stamp = _stamp()
        names = dict(result.registers.providers.select("provider_id", "name").iter_rows())
        payment = {"batch": batch, "provider_id": provider, "provider_name": names.get(provider) or "",
                   "invoice_no": invoice_no, "kind": "invoice" if at is None else "supplement",
                   "amount_cents": approved - paid, "signed_off_by": who, "signed_off_at": stamp}
        result = _with_finance(result, book, resolutions)
        result.payments = [*result.payments, payment]
        publish(result, outbox, config, lambda sha: book.record_finance(
            batch, result.invoices, resolutions, sha, sign_off=(provider, invoice_no, who, stamp) if at is None else None,
            payment=payment))
        if at is None:
            return Approved(batch, provider, invoice_no, inv.status, who, stamp, already=False, payment=payment)
        return Approved(batch, provider, invoice_no, inv.status, by, at, already=True, payment=payment)
