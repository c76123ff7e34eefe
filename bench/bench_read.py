"""Benchmark: the invoice reader against bare calamine reading of the same workbooks.

    .venv/bin/python bench/bench_read.py INBOX_OR_BATCH_FOLDER [--config DIR]

Reads every safe .xlsx under the folder (registers and files refused by
`intake.inspect` excluded, as calamine cannot open them either) with
`reconcile.invoice.read_invoice` (safety checks, reading, schema validation),
then the same files with `polars.read_excel(engine="calamine")` on every
sheet, and prints both times and their ratio (target: at most 1.5).
polars' calamine engine needs the `fastexcel` package; without it the
baseline is python-calamine reading every sheet to Python values (said so
in the output).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import importlib.util

import polars as pl

from reconcile import config, intake
from reconcile.invoice import read_invoice


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--config", type=Path, default=Path("config"))
    args = parser.parse_args(argv)
    files = sorted(p for p in args.folder.rglob("*.xlsx") if "register" not in p.parts)
    if not files:
        print(f"no .xlsx files under {args.folder}", file=sys.stderr)
        return 2
    cfg = config.load(args.config)
    files = [p for p in files if intake.inspect(intake.submission(p), cfg.limits) is None]  # planted broken files out

    start = time.perf_counter()
    findings = rows = 0
    for path in files:
        inv = read_invoice(intake.submission(path), cfg)
        findings += len(inv.findings)
        rows += inv.clients.height if inv.clients is not None else 0
    ours = time.perf_counter() - start

    start = time.perf_counter()
    for path in files:
        read_bare(path)
    calamine = time.perf_counter() - start

    print(f"{len(files)} workbooks, {rows} client rows, {findings} findings")
    print(f"reconcile reader: {ours:8.2f} s")
    print(f"bare calamine:    {calamine:8.2f} s ({BASELINE})")
    print(f"ratio:            {ours / calamine:8.2f} x (target <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
