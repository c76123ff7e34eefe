"""The per-submission workbooks written by worker processes: the same files, and a dead worker is exit 3.

A small demo inbox (every other invoice given a formula that reaches the web
and a link to another workbook, so that it takes the openpyxl path) is run once through the batch; its
workbooks are then written again by this process alone and by two spawned
workers, and the two folders must hold the same files byte for byte. A
worker killed in the middle of a run must end the run with exit 3, one plain
sentence and the previous outbox and ledger untouched. A large batch's
registers are read in a thread beside the reader's processes: the same
outbox, and a missing register still stops the run.
"""

import dataclasses
import hashlib
import os
import shutil
import zipfile
from pathlib import Path

import hostile
import openpyxl
import pytest
from click.testing import CliRunner

from reconcile import batch as batch_mod, config, demo
from schemas import SHEETS
from reconcile.text import messages
from reconcile.cli import main
from reconcile.errors import JobError, RegisterError
from reconcile.write import annotate, workbooks, xlsxpatch
from reconcile.write.xlsxutil import batch_time
from helpers import annotated_folders

ROOT = Path(__file__).resolve().parents[1]
BATCH = "2026-11"


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def digest(root: Path) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files(root).items()}


WEB = '=HYPERLINK("http://example.com/ohje","ohje")'
INVOICE_SHEETS = SHEETS["invoice"]


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("parallel") / "inbox"
    demo.write_inbox(inbox, config_dir=ROOT / "config", providers=4, clients=60, batches=BATCH, seed=7,
                     anomaly_rate=0.2)
    # Every other invoice workbook (by name) gets the formula; the demo's planted
    # file-level mistakes (no Lasku sheet, not a workbook) are skipped, not counted.
    invoices = []
    for path in sorted((inbox / BATCH).iterdir()):
        try:
            book = openpyxl.load_workbook(path)
        except Exception:  # noqa: BLE001 - the demo plants files that are not workbooks
            continue
        sheet = next((n for n in INVOICE_SHEETS if n in book.sheetnames), None)  # the demo writes fi, sv and en
        if sheet and book[sheet]["B3"].value:
            invoices.append((path, book, sheet))
    for path, book, sheet in invoices[::2]:
        book[sheet]["D1"] = WEB
        book.save(path)
        # A link to another workbook besides: the fast path patches web formulas itself, not links.
        linked = hostile._external_link(path.parent.parent, path)
        linked.replace(path)
    return inbox


def has_web_formula(path: Path) -> bool:
    try:
        book = openpyxl.load_workbook(path)
    except Exception:  # noqa: BLE001
        return False
    return any(n in book.sheetnames and book[n]["D1"].value == WEB for n in INVOICE_SHEETS)


@pytest.fixture(scope="module")
def run(inbox, tmp_path_factory):
    cfg = config.load(ROOT / "config")
    tmp = tmp_path_factory.mktemp("run")
    result = batch_mod.run_batch(inbox, tmp / "outbox", cfg, BATCH, str(tmp / "ledger.sqlite"))
    return cfg, result, tmp / "outbox" / BATCH


def test_two_workers_write_the_same_files_as_one_process(run, inbox, tmp_path):
    cfg, result, live = run
    workbooks.write_workbooks(result, tmp_path / "one", cfg, workers=1)
    workbooks.write_workbooks(result, tmp_path / "two", cfg, workers=2)
    one, two = files(tmp_path / "one"), files(tmp_path / "two")
    assert one.keys() == two.keys()
    assert [name for name in one if one[name] != two[name]] == []
    # One anomalies.xlsx per file of the batch folder; annotated workbooks where the CSVs say.
    anomalies = [n for n in one if n.endswith("/anomalies.xlsx")]
    assert len(anomalies) == len([p for p in (inbox / BATCH).iterdir() if p.is_file()])
    assert {n.split("/")[0] for n in anomalies} == {"providers", "rejected"}
    annotated = {n.removesuffix("/annotated.xlsx") for n in one if n.endswith("/annotated.xlsx")}
    assert annotated == annotated_folders(live) and annotated
    # The run itself (sequential, the batch being small) wrote these very files too.
    assert {n: d for n, d in files(live).items() if n in one} == one


def test_both_annotation_paths_run_in_the_workers(run, tmp_path):
    cfg, result, _ = run
    workbooks.write_workbooks(result, tmp_path, cfg, workers=2)
    annotated = [job for job in workbooks.jobs(result) if job.annotated]
    web = [job for job in annotated if has_web_formula(job.result.invoice.submission.path)]
    assert web and len(web) < len(annotated)
    for job in annotated:
        plan = annotate.build_plan(job.result, result)
        source = job.result.invoice.submission.path
        if job in web:  # the premise: these take the openpyxl path, the others the fast one
            with pytest.raises(xlsxpatch.Unsupported):
                xlsxpatch.patch(source, tmp_path / "probe.xlsx", plan, batch_time(BATCH))
        else:
            xlsxpatch.patch(source, tmp_path / "probe.xlsx", plan, batch_time(BATCH))
        out = tmp_path / job.folder / "annotated.xlsx"
        with zipfile.ZipFile(out) as z:
            assert not any(b"example.com" in z.read(name) for name in z.namelist()), out
        assert openpyxl.load_workbook(out).sheetnames[0] == messages.label("review", job.result.lang)


def test_a_small_batch_starts_no_worker(run, tmp_path, monkeypatch):
    cfg, result, _ = run
    assert len(result.invoices) < workbooks.PARALLEL_MIN

    def no_pool(*args, **kwargs):
        raise AssertionError("a worker process was started")

    monkeypatch.setattr(workbooks, "ProcessPoolExecutor", no_pool)
    workbooks.write_workbooks(result, tmp_path, cfg)
    assert (tmp_path / "finance" / "approval.xlsx").is_file()


class Killer:
    """Unpickled in a worker, it ends that process at once, as the kernel's OOM killer would."""

    def __reduce__(self):
        return os._exit, (9,)


def kill_first(monkeypatch):
    real = workbooks.slim
    first = []

    def slim(job):
        out = real(job)
        if not first:  # a new header: the batch's own result stays as it was
            first.append(out)
            header = out.result.invoice.header
            out.result.invoice.header = dataclasses.replace(header, cells={**header.cells, "killer": Killer()})
        return out

    monkeypatch.setattr(workbooks, "slim", slim)


def test_a_worker_that_dies_is_a_job_error(run, tmp_path, monkeypatch):
    cfg, result, _ = run
    kill_first(monkeypatch)
    with pytest.raises(JobError, match="stopped unexpectedly"):
        workbooks.write_workbooks(result, tmp_path, cfg, workers=2)


def test_a_disk_error_in_a_worker_reaches_the_batch_as_an_oserror(run, tmp_path):
    cfg, result, _ = run
    (tmp_path / "providers").write_text("a file where the folder should be")
    with pytest.raises(OSError):
        workbooks.write_workbooks(result, tmp_path, cfg, workers=2)


def test_run_exits_3_and_keeps_the_previous_outbox_when_a_worker_dies(inbox, tmp_path, monkeypatch):
    outbox, ledger = tmp_path / "outbox", tmp_path / "ledger.sqlite"
    args = ["run", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(ROOT / "config"),
            "--ledger", str(ledger), "--quiet"]
    assert CliRunner().invoke(main, args).exit_code == 0
    before = (digest(outbox / BATCH), ledger.read_bytes())
    monkeypatch.setattr(workbooks, "PARALLEL_MIN", 2)
    kill_first(monkeypatch)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 3, r.output
    assert r.stderr.startswith("reconcile: A process writing the providers' workbooks stopped unexpectedly")
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr + r.stdout
    assert (digest(outbox / BATCH), ledger.read_bytes()) == before
    assert sorted(p.name for p in outbox.iterdir() if p.name.startswith(".")) == [".reconcile.lock"]


def test_registers_read_beside_a_large_batch_give_the_same_outbox(inbox, run, tmp_path, monkeypatch):
    cfg, _, live = run
    monkeypatch.setattr(batch_mod, "OVERLAP_MIN", 1)
    batch_mod.run_batch(inbox, tmp_path / "outbox", cfg, BATCH, str(tmp_path / "ledger.sqlite"))
    again = files(tmp_path / "outbox" / BATCH)
    assert again.keys() == files(live).keys()
    assert [n for n, data in files(live).items() if data != again[n]] == ["audit/manifest.json"]  # its times


def test_a_missing_register_still_stops_a_large_batch(inbox, tmp_path, monkeypatch):
    copy = tmp_path / "inbox"
    shutil.copytree(inbox, copy)
    (copy / "register" / "providers.xlsx").unlink()
    monkeypatch.setattr(batch_mod, "OVERLAP_MIN", 1)
    with pytest.raises(RegisterError, match="providers"):
        batch_mod.run_batch(copy, tmp_path / "outbox", config.load(ROOT / "config"), BATCH,
                            str(tmp_path / "ledger.sqlite"))
    assert not (tmp_path / "outbox" / BATCH).exists()
