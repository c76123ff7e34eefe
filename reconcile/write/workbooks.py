"""The workbooks for people: every .xlsx of a batch outbox, written into its staging folder.

Last stage, called by `write.write_outbox` after the CSV files. Per
submission: providers/<Y-tunnus>/<invoice>/annotated.xlsx and anomalies.xlsx
(in the provider's language); a workbook rejected as a whole gets only its
anomalies.xlsx. Then finance/approval.xlsx and audit/compliance.xlsx, in the
finance language.

Where a submission's files go (CONTRACT.md version 2, section 3: everything
a provider needs is under its own folder):
- Y-tunnus and invoice number read, not a duplicate: providers/<Y>/<invoice>/;
- Y-tunnus read, but no invoice number (F005) or a duplicate (F007, in this
  batch or against an earlier one): providers/<Y>/rejected/<source file>/.
  The source file name is unique in the batch folder, so two duplicates of
  one invoice never meet;
- Y-tunnus not read: rejected/<source file>/.
Path parts are made file-name safe; two submissions whose safe names would
still share a folder (`a b.xlsx` and `a_b.xlsx`, invoice numbers `1/2` and
`1_2`) get `__2`, `__3`, ... in the order of the batch. Report files are
only ever `annotated.xlsx` and `anomalies.xlsx`, never a folder name, so
even an invoice numbered `rejected` shares no file with the rejected ones.

The per-submission files are most of the work at scale. From
`PARALLEL_MIN` submissions on they are written by worker processes, one
per core, in chunks of submissions (spawn, not fork: a forked child of a
process whose Polars thread pool runs can deadlock), while this process
writes approval.xlsx and compliance.xlsx. A worker gets only what the
writers read (`slim`), and every file is the same, byte for byte, as the
one process would write. A worker that dies (killed, out of memory) is a
`JobError` (exit 3); the batch's staging design keeps the previous outbox.
`result.timings["annotate"]` is the wall time the per-submission files add
to the run (with workers: beyond the time this process spends on the two
batch workbooks meanwhile, so the stages still add up to the run's time);
each submission done is a `progress.step`.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import polars as pl

from reconcile import progress
from reconcile.config import Config
from reconcile.errors import JobError
from reconcile.model import BatchResult, InvoiceResult, Registers
from reconcile.write.annotate import write_annotated
from reconcile.write.anomalies import write_anomalies
from reconcile.write.xlsxutil import safe_name

REJECTED = "rejected"  # the folder of files rejected before an invoice could be named
PARALLEL_MIN = 100  # fewer submissions: starting the workers costs more than they save
CHUNKS_PER_WORKER = 4  # smaller chunks even out the work and move the progress bar


@dataclasses.dataclass
class Job:
    """One submission's files: its result, its folder (relative to the outbox), and whether it is annotated."""

    result: InvoiceResult
    folder: Path
    annotated: bool


def invoice_folder(inv: InvoiceResult) -> Path:
    """Where a submission's files go, relative to the batch outbox (before de-duplication)."""
    duplicate = inv.status == "duplicate" or inv.rejected_by == "F007"
    if inv.provider_id and inv.invoice_no and not duplicate:
        return Path("providers") / safe_name(inv.provider_id) / safe_name(inv.invoice_no)
    if inv.provider_id:
        return Path("providers") / safe_name(inv.provider_id) / REJECTED / safe_name(inv.source_file)
    return Path(REJECTED) / safe_name(inv.source_file)


def jobs(result: BatchResult) -> list[Job]:
    """Every submission's folder, de-duplicated in the order of the batch."""
    used: set[Path] = set()
    out = []
    for inv in result.invoices:
        folder = invoice_folder(inv)
        n = 1
        while folder in used:
            n += 1
            folder = folder.with_name(f"{invoice_folder(inv).name}__{n}")
        used.add(folder)
        invoice_level = folder.parts[0] == "providers" and len(folder.parts) == 3  # providers/<Y>/<invoice>
        out.append(Job(inv, folder, not inv.rejected_as_whole and invoice_level))
    return out


def write_job(job: Job, batch: BatchResult, out_dir: Path) -> None:
    """One submission's annotated.xlsx (when it gets one) and anomalies.xlsx."""
    target = out_dir / job.folder
    if job.annotated:
        write_annotated(job.result, batch, target / "annotated.xlsx")
    write_anomalies(job.result, batch.batch, target / "anomalies.xlsx")


def slim(job: Job) -> Job:
    """The job with only what `write_job` reads, for sending to a worker.

    The annotation reads the result's money, rows, findings and the
    invoice's sheet names, header rows and source path; the anomalies table
    the findings and the names on `Asiakkaat`. Day frames, attendance and
    guidance stay behind.
    """
    inv = job.result
    clients = inv.invoice.clients
    if clients is not None:
        clients = clients.select([c for c in ("decision_id", "name") if c in clients.columns])
    invoice = dataclasses.replace(inv.invoice, clients=clients, attendance=None, days=None, guidance=None)
    return Job(dataclasses.replace(inv, invoice=invoice, day_outcomes=None), job.folder, job.annotated)


def slim_batch(result: BatchResult) -> BatchResult:
    """The batch as the per-submission writers see it: its month and run id."""
    empty = Registers(pl.DataFrame(), pl.DataFrame())
    return dataclasses.replace(result, invoices=[], register_findings=[], registers=empty, inputs={}, timings={},
                               history=None)


def write_chunk(chunk: list[Job], batch: BatchResult, out_dir: Path) -> int:
    """A worker's task: write a chunk of submissions' files; returns how many."""
    for job in chunk:
        write_job(job, batch, out_dir)
    return len(chunk)


def write_workbooks(result: BatchResult, out_dir: Path, config: Config, lang: str | None = None,
                    workers: int | None = None) -> None:
    """Write every workbook of the batch under `out_dir`; `lang` is the finance and audit language.

    `workers` processes write the per-submission files (default: one per
    core when the batch has `PARALLEL_MIN` submissions or more); 1 writes
    everything in this process.
    """
    out_dir = Path(out_dir)
    todo = jobs(result)
    lang = lang or config.language
    if workers is None:
        workers = (os.cpu_count() or 1) if len(todo) >= PARALLEL_MIN else 1
    workers = max(1, min(workers, len(todo)))
    clock = time.perf_counter()
    if workers == 1:
        for done, job in enumerate(todo, 1):
            write_job(job, result, out_dir)
            progress.step("write", done, len(todo))
        result.timings["annotate"] = time.perf_counter() - clock
        write_reports(result, out_dir, config, lang)
        write_resolutions(result, todo, out_dir)
        return
    size = -(-len(todo) // (workers * CHUNKS_PER_WORKER))
    chunks = [[slim(job) for job in todo[i:i + size]] for i in range(0, len(todo), size)]
    batch = slim_batch(result)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = [pool.submit(write_chunk, chunk, batch, out_dir) for chunk in chunks]
        reports = time.perf_counter()
        write_reports(result, out_dir, config, lang)  # meanwhile, here
        write_resolutions(result, todo, out_dir)
        reports = time.perf_counter() - reports
        done = 0
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in finished:
                done += future.result()  # a worker's exception is raised here, as it was
            progress.step("write", done, len(todo))
        result.timings["annotate"] = time.perf_counter() - clock - reports
    except BrokenProcessPool:
        raise JobError("A process writing the providers' workbooks stopped unexpectedly (killed, or out of memory).",
                       "Run again, with more memory if it happens again; the previous results and the ledger are "
                       "unchanged.") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def write_resolutions(result: BatchResult, todo: list[Job], out_dir: Path) -> None:
    """resolution.xlsx beside the annotated copy of every invoice finance answered a held day of."""
    if not result.resolutions:
        return
    from reconcile.write.resolution_xlsx import write_resolution

    for job in todo:
        inv = job.result
        mine = [r for r in result.resolutions if (r["provider_id"], r["invoice_no"]) == (inv.provider_id, inv.invoice_no)]
        if mine and job.annotated:
            write_resolution(inv, result.batch, mine, out_dir / job.folder / "resolution.xlsx")


def write_reports(result: BatchResult, out_dir: Path, config: Config, lang: str) -> None:
    """finance/approval.xlsx and audit/compliance.xlsx, in the finance language."""
    # Imported here, not at the top: a worker process never needs them (nor pandera, which compliance loads).
    from reconcile.write.approval_xlsx import write_approval
    from reconcile.write.compliance import write_compliance

    write_approval(result, out_dir / "finance" / "approval.xlsx", lang)
    write_compliance(result, out_dir / "audit" / "compliance.xlsx", config, lang)
