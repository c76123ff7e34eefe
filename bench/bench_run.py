"""Benchmark: a whole `reconcile run` at Turku and national scale, against the I/O floor.

    .venv/bin/python bench/bench_run.py                 # every scale, writes bench/results/latest.json
    .venv/bin/python bench/bench_run.py --scales turku  # just one

For each scale the demo inbox (`reconcile.demo.write_inbox`, batch 2026-11)
is generated once and cached under bench/cache/<scale>/. Each scale then
runs in a fresh child process, so its peak RSS is its own: one full
`batch.run_batch` (stage times from `BatchResult.timings`; peak RSS of the
process alone, and of the process with its worker processes, sampled from
/proc every 0.1 s), then in the same process the I/O floor: every input
workbook read with python-calamine (every sheet to Python values) plus as
many cells as the run's output workbooks hold written with xlsxwriter in
constant-memory mode. At Turku scale the command line is also timed as a
user runs it, interpreter start-up included. The machine's 1-minute load
average before each scale is recorded, since other work on the machine
slows a run down.

Targets (issue 7): national under 60 s wall, under 4 GiB peak, under 2.0 x
the floor; Turku under 3 s; time per client flat from 1/4 to full scale.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "cache"
RESULTS = ROOT / "bench" / "results" / "latest.json"
BATCH = "2026-11"
SCALES = {"turku": (40, 1200), "quarter": (125, 7500), "half": (250, 15000), "national": (500, 30000)}
CELL_RE = re.compile(rb"<c[ >]")


def inbox_for(scale: str) -> Path:
    """The cached demo inbox of a scale, generated on first use."""
    from reconcile import demo

    providers, clients = SCALES[scale]
    inbox = CACHE / scale / "inbox"
    if not (inbox / BATCH).is_dir():
        shutil.rmtree(inbox, ignore_errors=True)
        demo.write_inbox(inbox, config_dir=ROOT / "config", providers=providers, clients=clients, batches=BATCH,
                         seed=2026, anomaly_rate=0.03)
    return inbox


def tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants (the reader's and writers' workers), from /proc."""
    parent, rss = {}, {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text()
        except OSError:  # gone meanwhile
            continue
        parent[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
        rss[int(entry)] = int(statm.split()[1]) * page
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(pid, 0) for pid in tree)


class PeakMemory:
    """The largest `tree_rss` of this process seen while the block runs, sampled every `every` seconds."""

    def __init__(self, every: float = 0.1):
        self.every, self.peak = every, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss(os.getpid()))
            self.done.wait(self.every)

    def __enter__(self) -> "PeakMemory":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, tree_rss(os.getpid()))


def count_cells(folder: Path) -> int:
    """Cells (`<c>` elements) in the worksheets of every .xlsx under a folder."""
    total = 0
    for path in folder.rglob("*.xlsx"):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    total += len(CELL_RE.findall(z.read(name)))
    return total


def floor(inbox: Path, cells: int, scratch: Path) -> dict[str, float]:
    """Seconds to read every input workbook with calamine and to write `cells` cells with xlsxwriter."""
    from python_calamine import CalamineWorkbook
    import xlsxwriter

    start = time.perf_counter()
    for path in sorted([*(inbox / BATCH).iterdir(), *(inbox / "register").iterdir()]):
        try:
            book = CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                book.get_sheet_by_name(name).to_python()
        except Exception:  # noqa: BLE001 - the demo plants files no reader can open
            continue
    read = time.perf_counter() - start
    start = time.perf_counter()
    wb = xlsxwriter.Workbook(str(scratch / "floor.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet()
    per_row = 20
    for n in range(cells):
        row, col = divmod(n, per_row)
        if col % 2:
            ws.write_number(row, col, n / 100)
        else:
            ws.write_string(row, col, f"text {n % 997}")
    wb.close()
    write = time.perf_counter() - start
    return {"read_s": read, "write_s": write, "total_s": read + write}


def one(scale: str) -> dict:
    """Run one scale in this process; returns its figures."""
    from reconcile import batch, config

    inbox = inbox_for(scale)
    cfg = config.load(ROOT / "config")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        out = Path(tmp) / "outbox"
        with PeakMemory() as memory:
            start = time.perf_counter()
            result = batch.run_batch(inbox, out, cfg, BATCH, str(Path(tmp) / "ledger.sqlite"))
            wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        cells = count_cells(out / BATCH)
        io = floor(inbox, cells, Path(tmp))
    clients = sum(inv.rows.height for inv in result.invoices if inv.rows is not None)
    figures = {
        "providers": SCALES[scale][0], "register_clients": SCALES[scale][1], "invoices": len(result.invoices),
        "client_rows": clients, "output_cells": cells, "wall_s": round(wall, 3), "peak_rss_mib": round(peak / 2**20, 1),
        "peak_rss_with_workers_mib": round(memory.peak / 2**20, 1),
        "stages_s": {k: round(v, 3) for k, v in result.timings.items()},
        "floor_s": {k: round(v, 3) for k, v in io.items()}, "ratio_to_floor": round(wall / io["total_s"], 2),
        "ms_per_client": round(1000 * wall / max(clients, 1), 3),
        "load_average_before": round(load, 2),  # other work on the machine (1-minute load average)
    }
    if scale == "turku":
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            command = [str(ROOT / ".venv" / "bin" / "reconcile"), "run", "--inbox", str(inbox), "--outbox",
                       str(Path(tmp) / "outbox"), "--config", str(ROOT / "config"), "--batch", BATCH,
                       "--ledger", str(Path(tmp) / "ledger.sqlite"), "--quiet"]
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            figures["cli_wall_s"] = round(time.perf_counter() - start, 3)
    return figures


def machine() -> dict:
    import polars

    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gib": round(memory / 2**30, 1),
            "python": platform.python_version(), "polars": polars.__version__, "platform": platform.platform(),
            "commit": commit}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", choices=list(SCALES), default=list(SCALES))
    parser.add_argument("--one", choices=list(SCALES), help=argparse.SUPPRESS)  # child process
    args = parser.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(one(args.one)))
        return 0
    figures = {}
    for scale in args.scales:
        inbox_for(scale)  # generate outside the timed child
        done = subprocess.run([sys.executable, __file__, "--one", scale], check=True, capture_output=True, text=True)
        figures[scale] = json.loads(done.stdout.strip().splitlines()[-1])
        f = figures[scale]
        print(f"{scale:9} {f['invoices']:4} invoices {f['client_rows']:6} rows: {f['wall_s']:7.2f} s wall, "
              f"{f['peak_rss_mib']:7.1f} MiB peak ({f['peak_rss_with_workers_mib']:.0f} with workers), floor {f['floor_s']['total_s']:6.2f} s, ratio {f['ratio_to_floor']:4.2f}, "
              f"{f['ms_per_client']:.2f} ms/client" + (f", CLI {f['cli_wall_s']:.2f} s" if "cli_wall_s" in f else "")
              + f", load {f['load_average_before']:.2f}")
        print("          stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in f["stages_s"].items()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "batch": BATCH, "scales": figures}
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(RESULTS)
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
