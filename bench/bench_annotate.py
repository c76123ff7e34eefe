"""Benchmark: annotation time per workbook, the fast path (part by part) against the openpyxl fallback.

    .venv/bin/python bench/bench_annotate.py                          # writes bench/results/annotate.json
    .venv/bin/python bench/bench_annotate.py --providers 4 --clients 2000 --repeat 3

A demo inbox (`reconcile.demo.write_inbox`, batch 2026-11) is generated in a
temporary folder and run once (`batch.run_batch`) for its results. Then each
invoice that gets an annotated copy is annotated again in this process, both
ways, and timed (best of `--repeat`):

- fast: `annotate.build_plan` + `xlsxpatch.patch`;
- fallback: `annotate.build_plan` + `annotate.write_with_openpyxl`;
- check: `xlsxutil.package_problems` on the fast copy (what every copy pays);

and once more with a bold empty cell at XFD1048576 on every sheet (`far`),
the stray format that once sent the fallback over 17 billion cells: both
paths must stay about as fast as without it. Prints per-path median, 90th
percentile and maximum milliseconds per workbook with the workbook's client
rows, and writes them to bench/results/annotate.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile import batch as batch_mod, config, demo  # noqa: E402
from reconcile.write import annotate, workbooks, xlsxpatch  # noqa: E402
from reconcile.write.xlsxutil import batch_time, package_problems  # noqa: E402

BATCH = "2026-11"


def best(repeat: int, work) -> float:
    """The fastest of `repeat` runs of `work()`, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def far(source: Path, target: Path) -> Path:
    """`source` with a bold-or-whatever styled empty cell at XFD1048576 on every worksheet."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename):
                data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>')
            zout.writestr(info, data)
    return target


def summary(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"median_ms": round(statistics.median(values), 1),
            "p90_ms": round(values[min(len(values) - 1, int(0.9 * len(values)))], 1),
            "max_ms": round(values[-1], 1), "total_s": round(sum(values) / 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=12)
    parser.add_argument("--clients", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "annotate.json")
    args = parser.parse_args()

    cfg = config.load(ROOT / "config")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo.write_inbox(tmp / "inbox", config_dir=ROOT / "config", providers=args.providers, clients=args.clients,
                         batches=BATCH, seed=11, anomaly_rate=0.05)
        result = batch_mod.run_batch(tmp / "inbox", tmp / "outbox", cfg, BATCH, str(tmp / "ledger.sqlite"))
        when = batch_time(BATCH)
        rows = {"fast": [], "fallback": [], "check": [], "fast_far": [], "fallback_far": []}
        sizes = []
        for job in (j for j in workbooks.jobs(result) if j.annotated):
            inv = job.result
            source = inv.invoice.submission.path
            plan = annotate.build_plan(inv, result)
            out = tmp / "copy.xlsx"
            sizes.append(0 if inv.rows is None else inv.rows.height)
            rows["fast"].append(best(args.repeat, lambda: xlsxpatch.patch(source, out, annotate.build_plan(inv, result), when)))
            rows["check"].append(best(args.repeat, lambda: package_problems(out)))
            rows["fallback"].append(best(args.repeat, lambda: annotate.write_with_openpyxl(source, plan, out, when)))
            stray = far(source, tmp / "far.xlsx")
            rows["fast_far"].append(best(args.repeat, lambda: xlsxpatch.patch(stray, out, plan, when)))
            rows["fallback_far"].append(best(args.repeat, lambda: annotate.write_with_openpyxl(stray, plan, out, when)))
    report = {
        "workbooks": len(sizes), "client_rows": {"median": statistics.median(sizes), "max": max(sizes)},
        "repeat": args.repeat, "python": platform.python_version(), "machine": platform.processor() or platform.machine(),
        **{name: summary(values) for name, values in rows.items()},
    }
    report["fallback_over_fast"] = round(report["fallback"]["total_s"] / max(report["fast"]["total_s"], 1e-9), 1)
    print(json.dumps(report, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
