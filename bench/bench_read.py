"""Benchmark: the invoice reader against bare calamine reading of the same workbooks.

    .venv/bin/python bench/bench_read.py INBOX_OR_BATCH_FOLDER [--config DIR] [--json PATH]

Reads every safe .xlsx under the folder (registers and files refused by
`intake.inspect` excluded, as calamine cannot open them either) and times,
each over all files:

- bare calamine: `polars.read_excel(engine="calamine")` on every sheet (the
  baseline; needs the `fastexcel` package, else python-calamine reading
  every sheet to Python values, said so in the output);
- the stages of the reader on one core: intake's scan (`intake.examine`),
  the grids (`sheets.open_book`), and the whole `invoice.read_invoices`
  (scan, grids, cell reading, one Pandera validation per model);
- `invoice.read_invoices` on every core, as a batch run uses it.

It prints the times and the ratio of the reader to bare calamine (target:
at most 1.5), and with `--json` writes the same figures to a file. Each
figure is the best of `--rounds` rounds (default 3), the rounds of the
different steps interleaved, so that a busy machine skews them alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import polars as pl

from reconcile import config
from reconcile.read import intake, invoice, sheets

if importlib.util.find_spec("fastexcel"):
    BASELINE = "polars.read_excel, calamine engine"

    def read_bare(path: Path) -> None:
        pl.read_excel(path, sheet_id=0, engine="calamine")
else:
    from python_calamine import CalamineWorkbook

    BASELINE = "python-calamine: fastexcel is not installed"

    def read_bare(path: Path) -> None:
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()


def timed(step) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def best(figures: dict[str, float], name: str, seconds: float) -> None:
    figures[name] = min(figures.get(name, seconds), seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--config", type=Path, default=Path("config"))
    parser.add_argument("--json", type=Path, help="write the figures to this file as JSON")
    parser.add_argument("--rounds", type=int, default=3, help="rounds to take the best of (default 3)")
    args = parser.parse_args(argv)
    files = sorted(p for p in args.folder.rglob("*.xlsx") if "register" not in p.parts)
    if not files:
        print(f"no .xlsx files under {args.folder}", file=sys.stderr)
        return 2
    cfg = config.load(args.config)
    subs = [intake.submission(p) for p in files]
    subs = [s for s in subs if intake.inspect(s, cfg.limits) is None]  # planted broken files out

    figures: dict = {}
    invoices: list = []
    for _ in range(max(1, args.rounds)):
        inspections: list[intake.Inspection] = []
        best(figures, "bare_calamine_s", timed(lambda: [read_bare(s.path) for s in subs]))
        best(figures, "intake_scan_s", timed(lambda: inspections.extend(intake.examine(s, cfg.limits) for s in subs)))
        best(figures, "grids_s", timed(lambda: [sheets.open_book(i) for i in inspections]))
        best(figures, "reader_one_core_s", timed(lambda: invoice.read_invoices(subs, cfg, workers=1)))
        invoices.clear()
        best(figures, "reader_s", timed(lambda: invoices.extend(invoice.read_invoices(subs, cfg))))
    figures["ratio_one_core"] = figures["reader_one_core_s"] / figures["bare_calamine_s"]
    figures["ratio"] = figures["reader_s"] / figures["bare_calamine_s"]
    figures.update(workbooks=len(subs), cores=os.cpu_count(), baseline=BASELINE,
                   client_rows=sum(i.clients.height for i in invoices if i.clients is not None),
                   findings=sum(len(i.findings) for i in invoices))

    print(f"{figures['workbooks']} workbooks, {figures['client_rows']} client rows, {figures['findings']} findings")
    print(f"bare calamine:          {figures['bare_calamine_s']:8.2f} s ({BASELINE})")
    print(f"  intake scan:          {figures['intake_scan_s']:8.2f} s")
    print(f"  grids (open_book):    {figures['grids_s']:8.2f} s")
    print(f"reader, one core:       {figures['reader_one_core_s']:8.2f} s  ratio {figures['ratio_one_core']:5.2f} x")
    print(f"reader, {figures['cores']} cores:        {figures['reader_s']:8.2f} s  ratio {figures['ratio']:5.2f} x"
          " (target <= 1.5)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
